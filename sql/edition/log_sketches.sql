-- The SQL edition's log triggers that write the latency sketches (src/stats/sketch.rs): the row
-- trigger collects each outcome of a statement, the statement trigger adds them to
-- webhook_routing_sketches once per minute, domain, target and split percentage, as the native
-- ones do (sql/triggers.sql defines both editions' triggers). The native edition collects in
-- the backend's memory; the edition has none between two calls, so it collects in a temporary
-- table of the session, pg_temp.webhook_routing_added (made at the first outcome of a session,
-- emptied by every statement's flush, and by the rollback of a statement that fails).
--
-- Why not an upsert per outcome, which needs no table: merging into the stored sketch decodes
-- it whole (about 12 µs a bin in PL/pgSQL), once per row, and a bulk write would update one row
-- once per outcome (the native comment says why that grows quadratic). Batched per statement,
-- the edition writes the same rows as the native edition for the same statements, bit for bit
-- (its sums are added in the same order); tests/vectors/log_sequence.sql holds it to that.
--
-- The shard: the native edition's is the backend's PGPROC number, which SQL cannot read; the
-- edition's is the backend's process id, unique among live backends as well, so that concurrent
-- writers never update the same row either. Both run as the owner (SECURITY DEFINER): no caller
-- writes sketches, as in the native edition, and the session's table is the owner's.
-- A transaction that wrote outcomes has used a temporary table, which PREPARE TRANSACTION
-- refuses: the edition's one difference here.

-- A sketch of latencies (ms), in the given order, as add() builds one and to_java_bytes writes
-- it: NaN, infinite and negative values are left out, above a day counts as a day, below 0.001
-- ms as zero; NULL when no latency is left.
CREATE FUNCTION @extschema@.webhook_routing_sketch_of(latencies double precision[])
RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    count bigint := 0;
    zero bigint := 0;
    sum double precision := 0;
    min double precision := 'Infinity';
    max double precision := '-Infinity';
    bins bigint[];
    low integer;
    high integer;
    v double precision;
    key integer;
BEGIN
    FOREACH v IN ARRAY latencies LOOP
        CONTINUE WHEN v IS NULL OR NOT (v OPERATOR(pg_catalog.>=) 0 AND v OPERATOR(pg_catalog.<) 'Infinity'::double precision);
        v := LEAST(v, 86400000::double precision);
        IF v OPERATOR(pg_catalog.<) 0.001::double precision THEN
            zero := zero OPERATOR(pg_catalog.+) 1;
        ELSE
            key := LEAST(GREATEST(pg_catalog.floor(pg_catalog.ln(v) OPERATOR(pg_catalog./) 0.006000018000097201::double precision), -1152), 3045);
            IF bins IS NULL THEN
                bins := pg_catalog.array_fill(0::bigint, ARRAY[4198], ARRAY[-1152]);
            END IF;
            bins[key] := bins[key] OPERATOR(pg_catalog.+) 1;
            low := LEAST(low, key);
            high := GREATEST(high, key);
        END IF;
        count := count OPERATOR(pg_catalog.+) 1;
        sum := sum OPERATOR(pg_catalog.+) v;
        min := @extschema@.webhook_routing_f64_min(min, v);
        max := @extschema@.webhook_routing_f64_max(max, v);
    END LOOP;
    IF count OPERATOR(pg_catalog.=) 0 THEN
        RETURN NULL;
    END IF;
    RETURN @extschema@.webhook_routing_sketch_encode(count, zero, sum, min, max, bins, low, high);
END
$$;

-- Row trigger on webhook_routing_logs (AFTER INSERT WHEN status <> 'pending', AFTER UPDATE OF
-- status WHEN pending -> done): the row's outcome, kept for the statement's flush. A row with
-- no time or an infinite one counts nowhere, as in the native edition.
CREATE FUNCTION @extschema@.webhook_routing_logs_to_sketch()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    share double precision;
BEGIN
    IF NEW.created_at IS NULL OR NEW.created_at OPERATOR(pg_catalog.=) ANY ('{infinity,-infinity}'::timestamptz[]) THEN
        RETURN NULL;
    END IF;
    IF NEW.reason OPERATOR(pg_catalog.=) ANY ('{in_rollout,not_in_rollout,in_rollout_random,not_in_rollout_random}'::text[])
       AND NEW.percentage OPERATOR(pg_catalog.>=) 0 AND NEW.percentage OPERATOR(pg_catalog.<=) 100 THEN
        share := NEW.percentage::double precision OPERATOR(pg_catalog./) 100;
    END IF;
    IF pg_catalog.to_regclass('pg_temp.webhook_routing_added') IS NULL THEN
        CREATE TEMPORARY TABLE webhook_routing_added (
            n bigint GENERATED ALWAYS AS IDENTITY,
            minute timestamptz NOT NULL,
            domain text,
            routed_to text NOT NULL,
            -- The split's share in ten-thousandths, as the native key rounds it (half away
            -- from zero); NULL for an outcome not of the split.
            split_at bigint,
            error boolean NOT NULL,
            latency double precision,
            share double precision,
            bucket integer
        );
    END IF;
    INSERT INTO pg_temp.webhook_routing_added (minute, domain, routed_to, split_at, error, latency, share, bucket)
    VALUES (
        pg_catalog.to_timestamp((pg_catalog.floor(pg_catalog.extract('epoch', NEW.created_at) OPERATOR(pg_catalog./) 60)
                                 OPERATOR(pg_catalog.*) 60)::double precision),
        NEW.domain,
        COALESCE(NEW.routed_to, ''),
        CASE WHEN share IS NOT NULL THEN pg_catalog.floor((share OPERATOR(pg_catalog.*) 10000) OPERATOR(pg_catalog.+) 0.5)::bigint END,
        NEW.status IS NOT DISTINCT FROM 'error',
        NEW.response_time_ms::double precision,
        share,
        CASE WHEN NEW.bucket OPERATOR(pg_catalog.>=) 0 AND NEW.bucket OPERATOR(pg_catalog.<) 10000 THEN NEW.bucket END);
    RETURN NULL;
END
$$;

-- Statement trigger on webhook_routing_logs: what the statement's outcomes add to each minute,
-- domain, target and split percentage, one upsert each, in its transaction. Nothing to do for a
-- statement that added no outcome (a session that never wrote one has no table to read).
CREATE FUNCTION @extschema@.webhook_routing_logs_flush_sketches()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    expected double precision;
    p double precision;
    b integer;
    buckets bytea;
BEGIN
    IF pg_catalog.to_regclass('pg_temp.webhook_routing_added') IS NULL THEN
        RETURN NULL;
    END IF;
    FOR r IN
        WITH added AS (DELETE FROM pg_temp.webhook_routing_added RETURNING *)
        SELECT a.minute, a.domain, a.routed_to, a.split_at,
               pg_catalog.count(*) AS completed,
               pg_catalog.count(*) FILTER (WHERE a.error) AS errors,
               pg_catalog.array_agg(a.latency ORDER BY a.n) FILTER (WHERE a.latency IS NOT NULL) AS latencies,
               pg_catalog.count(*) FILTER (WHERE a.share IS NOT NULL) AS split_n,
               pg_catalog.array_agg(a.share ORDER BY a.n) FILTER (WHERE a.share IS NOT NULL) AS shares,
               pg_catalog.array_agg(a.bucket) FILTER (WHERE a.share IS NOT NULL AND a.bucket IS NOT NULL) AS split_buckets
        FROM added AS a
        GROUP BY a.minute, a.domain, a.routed_to, a.split_at
    LOOP
        expected := 0;
        FOREACH p IN ARRAY COALESCE(r.shares, '{}') LOOP
            expected := expected OPERATOR(pg_catalog.+) p;
        END LOOP;
        buckets := NULL;
        IF r.split_buckets IS NOT NULL THEN
            buckets := pg_catalog.decode(pg_catalog.repeat('00', 1250), 'hex');
            FOREACH b IN ARRAY r.split_buckets LOOP
                buckets := pg_catalog.set_bit(buckets, b, 1);
            END LOOP;
        END IF;
        INSERT INTO @extschema@.webhook_routing_sketches AS s
            (minute, domain, routed_to, shard, completed, errors, latency, split_n, split_expected, split_buckets, split_at)
        VALUES (r.minute, r.domain, r.routed_to, pg_catalog.pg_backend_pid(), r.completed, r.errors,
                @extschema@.webhook_routing_sketch_of(r.latencies), r.split_n, expected, buckets,
                (r.split_at::double precision OPERATOR(pg_catalog./) 100)::pg_catalog.numeric(5,2))
        ON CONFLICT (minute, domain, routed_to, shard, split_at) DO UPDATE
        SET completed = s.completed OPERATOR(pg_catalog.+) excluded.completed,
            errors = s.errors OPERATOR(pg_catalog.+) excluded.errors,
            latency = @extschema@.webhook_routing_sketch_merge(s.latency, excluded.latency),
            split_n = s.split_n OPERATOR(pg_catalog.+) excluded.split_n,
            split_expected = s.split_expected OPERATOR(pg_catalog.+) excluded.split_expected,
            split_buckets = @extschema@.webhook_routing_bits_or(s.split_buckets, excluded.split_buckets);
    END LOOP;
    RETURN NULL;
END
$$;
