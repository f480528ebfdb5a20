-- The functions.jsonl cases' arguments, as SQL values: make.sh (against the native extension)
-- and check.sh (against the SQL edition) read the cases through these, so both editions are
-- given the same bytes. Session-local (pg_temp): nothing is left in the database.

-- A bucket set from {"bytes": length, "runs": [[first bit, last bit, step], ...]}: bit b is
-- bit b % 8 of byte b / 8, as the sketches keep them; bits past the length are dropped. NULL
-- for a JSON null.
CREATE FUNCTION pg_temp.bucket_set(spec jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE
AS $$
SELECT CASE WHEN spec IS NULL OR pg_catalog.jsonb_typeof(spec) OPERATOR(pg_catalog.=) 'null' THEN NULL ELSE
    pg_catalog.decode(COALESCE((
        SELECT pg_catalog.string_agg(pg_catalog.lpad(pg_catalog.to_hex(COALESCE(b.v, 0)), 2, '0'), '' ORDER BY i.i)
        FROM pg_catalog.generate_series(0, (spec OPERATOR(pg_catalog.->>) 'bytes')::integer OPERATOR(pg_catalog.-) 1) AS i (i)
        LEFT JOIN (
            SELECT p.p OPERATOR(pg_catalog./) 8 AS byte, pg_catalog.sum(DISTINCT 1 OPERATOR(pg_catalog.<<) (p.p OPERATOR(pg_catalog.%) 8))::integer AS v
            FROM pg_catalog.jsonb_array_elements(spec OPERATOR(pg_catalog.->) 'runs') AS r (run),
                 pg_catalog.generate_series((r.run OPERATOR(pg_catalog.->>) 0)::integer, (r.run OPERATOR(pg_catalog.->>) 1)::integer,
                                            (r.run OPERATOR(pg_catalog.->>) 2)::integer) AS p (p)
            GROUP BY 1) AS b ON b.byte OPERATOR(pg_catalog.=) i.i), ''), 'hex')
END
$$;

CREATE FUNCTION pg_temp.floats(a jsonb) RETURNS double precision[]
LANGUAGE sql IMMUTABLE
AS $$
SELECT pg_catalog.array_agg(e.x::double precision ORDER BY e.i)
FROM pg_catalog.jsonb_array_elements_text(a) WITH ORDINALITY AS e (x, i)
$$;

CREATE FUNCTION pg_temp.booleans(a jsonb) RETURNS boolean[]
LANGUAGE sql IMMUTABLE
AS $$
SELECT pg_catalog.array_agg(e.x::boolean ORDER BY e.i)
FROM pg_catalog.jsonb_array_elements_text(a) WITH ORDINALITY AS e (x, i)
$$;

CREATE FUNCTION pg_temp.bucket_sets(a jsonb) RETURNS bytea[]
LANGUAGE sql IMMUTABLE
AS $$
SELECT pg_catalog.array_agg(pg_temp.bucket_set(e.x) ORDER BY e.i)
FROM pg_catalog.jsonb_array_elements(a) WITH ORDINALITY AS e (x, i)
$$;

-- A case's answer as text: judge's row, or sample_ratio's array (an empty case: '{}').
CREATE FUNCTION pg_temp.judge_answer(c jsonb) RETURNS text[]
LANGUAGE sql
AS $$
SELECT ARRAY[j.verdict, j.estimate::text, j.statistic::text, j.confidence::text]
FROM webhook_routing.webhook_routing_judge(
    c OPERATOR(pg_catalog.->) 'args' OPERATOR(pg_catalog.->>) 0,
    (c OPERATOR(pg_catalog.->) 'args' OPERATOR(pg_catalog.->>) 1)::double precision,
    (c OPERATOR(pg_catalog.->) 'args' OPERATOR(pg_catalog.->>) 2)::integer,
    (c OPERATOR(pg_catalog.->) 'args' OPERATOR(pg_catalog.->>) 3)::bigint,
    (c OPERATOR(pg_catalog.->) 'args' OPERATOR(pg_catalog.->>) 4)::double precision,
    (c OPERATOR(pg_catalog.->) 'args' OPERATOR(pg_catalog.->>) 5)::double precision,
    (c OPERATOR(pg_catalog.->) 'args' OPERATOR(pg_catalog.->>) 6)::double precision,
    (c OPERATOR(pg_catalog.->) 'args' OPERATOR(pg_catalog.->>) 7)::double precision,
    (c OPERATOR(pg_catalog.->) 'args' OPERATOR(pg_catalog.->>) 8)::double precision) AS j
$$;

CREATE FUNCTION pg_temp.sample_ratio_answer(c jsonb) RETURNS text[]
LANGUAGE sql
AS $$
SELECT webhook_routing.webhook_routing_sample_ratio(
    COALESCE(pg_temp.floats(c OPERATOR(pg_catalog.->) 'shares'), '{}'),
    COALESCE(pg_temp.booleans(c OPERATOR(pg_catalog.->) 'unified'), '{}'),
    COALESCE(pg_temp.bucket_sets(c OPERATOR(pg_catalog.->) 'buckets'), '{}'))::text[]
$$;

-- The answer to a query (an expression), or the error it raises: {"value": ...}, or its
-- SQLSTATE, message, detail and hint.
CREATE FUNCTION pg_temp.attempt(query text) RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    answer jsonb;
    state text;
    message text;
    detail text;
    hint text;
BEGIN
    EXECUTE 'SELECT pg_catalog.to_jsonb((' OPERATOR(pg_catalog.||) query OPERATOR(pg_catalog.||) '))' INTO answer;
    RETURN pg_catalog.jsonb_build_object('value', answer);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT;
    RETURN pg_catalog.jsonb_build_object('sqlstate', state, 'message', message, 'detail', detail, 'hint', hint);
END
$$;

-- The latency sketches' inputs (tests/vectors/sketches.py), by name.
CREATE TEMPORARY TABLE sketch_inputs AS
SELECT c.c OPERATOR(pg_catalog.->>) 'name' AS name, pg_catalog.decode(c.c OPERATOR(pg_catalog.->>) 'hex', 'hex') AS bytes
FROM cases AS c WHERE c.c OPERATOR(pg_catalog.->>) 'fn' OPERATOR(pg_catalog.=) 'sketch_input';
CREATE UNIQUE INDEX ON sketch_inputs (name);

CREATE FUNCTION pg_temp.sketch(name text) RETURNS bytea
LANGUAGE sql STABLE STRICT
AS $$
SELECT i.bytes FROM pg_temp.sketch_inputs AS i WHERE i.name OPERATOR(pg_catalog.=) sketch.name
$$;

-- Bytes as an answer: hex up to 48 bytes, else their md5 and length (the file stays small).
CREATE FUNCTION pg_temp.bytes_answer(b bytea) RETURNS text
LANGUAGE sql IMMUTABLE STRICT
AS $$
SELECT CASE WHEN pg_catalog.length(b) OPERATOR(pg_catalog.<=) 48 THEN pg_catalog.encode(b, 'hex')
            ELSE pg_catalog.format('md5 %s, %s bytes', pg_catalog.md5(b), pg_catalog.length(b)) END
$$;
