-- The admin functions' answers, run against the native extension (tests/vectors/make.sh keeps
-- them as tests/vectors/admin.expected) and the SQL edition (tests/vectors/check.sh compares):
-- for each call (a statement of its own), the history row it appended (every column but the id and the time) or its
-- SQLSTATE, message, detail and hint, and the history's length after it (a refusal leaves it
-- as it was); the NOTICEs the calls raise, with their SQLSTATE and detail, are on stderr,
-- which the runner merges (psql -f ... 2>&1) and from which it drops the LOCATION lines.
-- The calls run as wr_admin_op, a member of webhook_routing_admin (the running script may SET
-- ROLE to it), so that the role the history records is the same in both; set_step, which only
-- the owner runs, records the running role, compared with current_user.
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on
\set VERBOSITY verbose
CREATE FUNCTION pg_temp.attempt(label text, statement text) RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    new_id bigint;
    written text;
    state text;
    message text;
    detail text;
    hint text;
BEGIN
    BEGIN
        EXECUTE statement INTO new_id;
        SELECT pg_catalog.concat_ws(' | ', c.percentage, c.enabled, c.domains, c.protected_domains,
                   c.domain_percentages, c.domain_enabled, c.action, c.reason,
                   CASE WHEN c.changed_by OPERATOR(pg_catalog.=) 'wr_admin_op' THEN 'wr_admin_op'
                        WHEN c.changed_by OPERATOR(pg_catalog.=) current_user::text THEN 'current_user'
                        ELSE 'someone else: ' OPERATOR(pg_catalog.||) c.changed_by END,
                   c.rollout_id, c.detail, c.testers, c.denied)
          INTO written
          FROM webhook_routing.webhook_routing_config AS c WHERE c.id OPERATOR(pg_catalog.=) new_id;
        written := 'ok ' OPERATOR(pg_catalog.||) COALESCE(written, 'no row ' OPERATOR(pg_catalog.||) COALESCE(new_id::text, 'NULL'));
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
        written := pg_catalog.format('%s | %s | %s | %s', state, message, detail, hint);
    END;
    RETURN pg_catalog.format('%s: %s (%s rows)', label, written,
        (SELECT pg_catalog.count(*) FROM webhook_routing.webhook_routing_config));
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.attempt(text, text) TO wr_admin_op;

-- The owner's step, before any other change (it is granted to no one).
SELECT pg_catalog.format('SELECT pg_temp.attempt(%L, %L)', 'set_step ' || a.args, 'SELECT webhook_routing.webhook_routing_set_step(' || a.args || ')')
FROM (VALUES (1, $$'jobs', 5, 'rollout_start', 'plan', 7, '{"step": 1}'$$),
             (2, $$'jobs', 5.5, NULL, NULL, NULL, NULL$$),
             (3, $$NULL, 5, 'x', NULL, NULL, NULL$$),
             (4, $$NULL, NULL, 'x', NULL, NULL, NULL$$),
             (5, $$'jobs', 101, 'x', NULL, NULL, NULL$$),
             (6, $$'jobs', 5.001, 'x', NULL, NULL, NULL$$),
             (7, $$'mobility', 0, 'rollback', NULL, 1, NULL$$),
             (8, $$'mobility', 5, 'rollback', NULL, 1, NULL$$),
             (9, $$'gone', 0, 'abort', 'ended', 2, '[1, "two"]'$$),
             (10, $$'gone', 1, 'abort', NULL, 2, NULL$$),
             (11, $$'jobs', 0, 'rollback', repeat('r', 1001), 2, NULL$$),
             (12, $$'jobs', 0, 'rollback', repeat('é', 1000), 2, NULL$$)) AS a(n, args)
ORDER BY a.n \gexec

SET ROLE wr_admin_op;

-- Percentages: what parses, in basis points, and what is refused, globally and for a domain.
SELECT pg_catalog.format('SELECT pg_temp.attempt(%L, %L)', 'percentage ' || COALESCE(v, 'NULL') || COALESCE(' for ' || d, ''),
           pg_catalog.format('SELECT webhook_routing.update_routing_percentage(%s::numeric, %L, %L)',
                             COALESCE(pg_catalog.quote_literal(v), 'NULL'), 'try ' || COALESCE(v, 'NULL'), d))
FROM pg_catalog.unnest(ARRAY[NULL, '0', '-0', '0.0', '0.00000', '1', '10', '10.0', '10.00', '10.000',
         '12.5', '12.50', '0.01', '0.010', '0.001', '0.005', '0.0100000000000000000001', '33.33',
         '33.333', '66.67', '99.99', '99.994', '99.995', '99.999', '100', '100.0', '100.00',
         '100.000', '100.001', '100.01', '100.1', '101', '1000', '18446744073709551616',
         '1e2', '1e3', '1e-2', '1e-3', '1.5e1', '000012.50', '-1', '-0.01', '-0.001', '-100',
         '-0.0', 'NaN', 'Infinity', '-Infinity', '7.77', '50']) WITH ORDINALITY AS p(v, n)
CROSS JOIN (VALUES (1, NULL), (2, 'jobs')) AS t(m, d)
ORDER BY p.n, t.m \gexec

-- The percentage for a domain the config cannot route, and other refusals before the row.
SELECT pg_catalog.format('SELECT pg_temp.attempt(%L, %L)', a.label, a.sql)
FROM (VALUES
    (1, 'protected', $$SELECT webhook_routing.update_routing_percentage(10, NULL, 'mobility')$$),
    (2, 'unknown', $$SELECT webhook_routing.update_routing_percentage(10, NULL, 'nosuch')$$),
    (3, 'upper case', $$SELECT webhook_routing.update_routing_percentage(10, NULL, 'JOBS')$$),
    (4, 'empty domain', $$SELECT webhook_routing.update_routing_percentage(10, NULL, '')$$),
    (5, 'reason 1000', $$SELECT webhook_routing.update_routing_percentage(10, repeat('é', 1000))$$),
    (6, 'reason 1001', $$SELECT webhook_routing.update_routing_percentage(10, repeat('é', 1001))$$),
    (7, 'bad percentage and reason', $$SELECT webhook_routing.update_routing_percentage(101, repeat('r', 1001), 'nosuch')$$),
    (8, 'reason and domain', $$SELECT webhook_routing.update_routing_percentage(10, repeat('r', 1001), 'nosuch')$$),
    (9, 'named', $$SELECT webhook_routing.update_routing_percentage(domain => 'property', percentage => 2.5)$$),
    (10, 'empty reason', $$SELECT webhook_routing.update_routing_percentage(3, '')$$)) AS a(n, label, sql)
ORDER BY a.n \gexec

-- Switches, globally and per domain, and what the notices say of the overrides.
SELECT pg_catalog.format('SELECT pg_temp.attempt(%L, %L)', a.label, a.sql)
FROM (VALUES
    (1, 'enabled NULL', $$SELECT webhook_routing.set_routing_enabled(NULL)$$),
    (2, 'enabled NULL for jobs', $$SELECT webhook_routing.set_routing_enabled(NULL, 'x', 'jobs')$$),
    (3, 'on', $$SELECT webhook_routing.set_routing_enabled(true, 'start')$$),
    (4, 'property off', $$SELECT webhook_routing.set_routing_enabled(false, 'pause', 'property')$$),
    (5, 'marketplace off', $$SELECT webhook_routing.set_routing_enabled(false, NULL, 'marketplace')$$),
    (6, 'off', $$SELECT webhook_routing.set_routing_enabled(false, 'EMERGENCY')$$),
    (7, 'jobs on while off', $$SELECT webhook_routing.set_routing_enabled(true, NULL, 'jobs')$$),
    (8, 'jobs off while off', $$SELECT webhook_routing.set_routing_enabled(false, NULL, 'jobs')$$),
    (9, 'percentage while off', $$SELECT webhook_routing.update_routing_percentage(20, 'while off')$$),
    (10, 'jobs percentage while off', $$SELECT webhook_routing.update_routing_percentage(30, 'while off', 'jobs')$$),
    (11, 'on again', $$SELECT webhook_routing.set_routing_enabled(true, 'on again')$$),
    (12, 'jobs on', $$SELECT webhook_routing.set_routing_enabled(true, NULL, 'jobs')$$),
    (13, 'percentage with overrides', $$SELECT webhook_routing.update_routing_percentage(15)$$),
    (14, 'protected on', $$SELECT webhook_routing.set_routing_enabled(true, NULL, 'insurance')$$),
    (15, 'unknown on', $$SELECT webhook_routing.set_routing_enabled(true, NULL, 'nosuch')$$),
    (16, 'reason too long', $$SELECT webhook_routing.set_routing_enabled(true, repeat('r', 1001))$$),
    (17, 'marketplace on', $$SELECT webhook_routing.set_routing_enabled(true, NULL, 'marketplace')$$)) AS a(n, label, sql)
ORDER BY a.n \gexec

-- Testers and denied keys: how a key is read (trimmed, a phone number's digits), what is
-- refused, sorted and deduplicated, and the notices' counts and both-lists detail.
SELECT pg_catalog.format('SELECT pg_temp.attempt(%L, %L)', f || ' ' || a.label, pg_catalog.format('SELECT webhook_routing.set_routing_%s(%s)', f, a.args))
FROM (VALUES
    (1, 'NULL domain', $$NULL, ARRAY['250788123456']$$),
    (2, 'NULL domain and list', $$NULL, NULL$$),
    (3, 'NULL list', $$'jobs', NULL$$),
    (4, 'NULL element', $$'jobs', ARRAY['250788123456', NULL]$$),
    (5, 'NULL first', $$'jobs', ARRAY[NULL, NULL]::text[]$$),
    (6, 'one', $$'jobs', ARRAY['250788123456']$$),
    (7, 'phone forms', $$'jobs', ARRAY['+250 788-123-456', ' 250788123457 ', '250-788-123-458', '+1a2b3', '+abc', '-', '- -', 'abc 123', 'Ab_c', '250788123456']$$),
    (8, 'unicode spaces', $$'jobs', ARRAY[E'\t250788000001\n', chr(160) || '250788000002' || chr(12288), chr(8232) || 'key' || chr(133), chr(8203) || 'zero width']$$),
    (9, 'blank', $$'jobs', ARRAY['   ']$$),
    (10, 'empty', $$'jobs', ARRAY['']$$),
    (11, 'only spaces around phone', $$'jobs', ARRAY[E'\u00a0\u00a0']$$),
    (12, 'leading zero', $$'jobs', ARRAY['0788123456']$$),
    (13, 'leading zero with plus', $$'jobs', ARRAY['+0788 123 456']$$),
    (14, '15 digits', $$'jobs', ARRAY['123456789012345']$$),
    (15, '16 digits', $$'jobs', ARRAY['1234567890123456']$$),
    (16, 'plus and 15 letters', $$'jobs', ARRAY['+abcdefghijklmno']$$),
    (17, 'plus and 14 letters', $$'jobs', ARRAY['+abcdefghijklmn']$$),
    (18, '200 characters', $$'jobs', ARRAY[repeat('é', 200)]$$),
    (19, '201 characters', $$'jobs', ARRAY[repeat('k', 201)]$$),
    (20, 'sorted by bytes', $$'jobs', ARRAY['b', 'B', 'a', 'é', 'e', 'Z', '10', '9', 'b', ' a ']$$),
    (21, '1000 keys', $$'marketplace', (SELECT pg_catalog.array_agg('k' || i) FROM pg_catalog.generate_series(1, 1000) AS i)$$),
    (22, '1001 keys', $$'marketplace', (SELECT pg_catalog.array_agg('k' || i) FROM pg_catalog.generate_series(1, 1001) AS i)$$),
    (23, '1001 NULLs', $$'marketplace', (SELECT pg_catalog.array_agg(NULL::text) FROM pg_catalog.generate_series(1, 1001) AS i)$$),
    (24, 'two dimensions', $$'jobs', ARRAY[['250788123456', 'x'], ['y', 'z']]$$),
    (25, 'lower bound 0', $$'jobs', '[0:1]={a,NULL}'::text[]$$),
    (26, 'protected', $$'profile', ARRAY['x']$$),
    (27, 'unknown', $$'nosuch', ARRAY['x']$$),
    (28, 'unknown and NULL', $$'nosuch', ARRAY[NULL]::text[]$$),
    (29, 'reason too long', $$'jobs', ARRAY['x'], repeat('r', 1001)$$),
    (30, 'property', $$'property', ARRAY['250788123456', '250788999999'], 'two'$$),
    (31, 'none for jobs', $$'jobs', '{}'$$),
    (32, 'none for jobs again', $$'jobs', '{}', 'again'$$),
    (33, 'jobs', $$'jobs', ARRAY['250788123456', 'x', 'y'], 'three'$$)) AS a(n, label, args)
CROSS JOIN (VALUES (1, 'testers'), (2, 'denied')) AS l(m, f)
ORDER BY l.m, a.n \gexec

-- The routable domains: names, duplicates, protected ones, and what a removal drops.
SELECT pg_catalog.format('SELECT pg_temp.attempt(%L, %L)', a.label, a.sql)
FROM (VALUES
    (1, 'NULL', $$SELECT webhook_routing.set_routing_domains(NULL)$$),
    (2, 'NULL element', $$SELECT webhook_routing.set_routing_domains(ARRAY['jobs', NULL])$$),
    (3, 'protected', $$SELECT webhook_routing.set_routing_domains(ARRAY['jobs', 'profile'])$$),
    (4, 'twice', $$SELECT webhook_routing.set_routing_domains(ARRAY['jobs', 'jobs'])$$),
    (5, 'twice and invalid', $$SELECT webhook_routing.set_routing_domains(ARRAY['jobs', 'jobs', 'Bad'])$$),
    (6, 'Bad Name', $$SELECT webhook_routing.set_routing_domains(ARRAY['Bad Name'])$$),
    (7, 'empty name', $$SELECT webhook_routing.set_routing_domains(ARRAY[''])$$),
    (8, 'digit first', $$SELECT webhook_routing.set_routing_domains(ARRAY['2d'])$$),
    (9, 'underscore first', $$SELECT webhook_routing.set_routing_domains(ARRAY['_x'])$$),
    (10, 'dash', $$SELECT webhook_routing.set_routing_domains(ARRAY['a-b'])$$),
    (11, 'trailing space', $$SELECT webhook_routing.set_routing_domains(ARRAY['jobs '])$$),
    (12, '63 letters', $$SELECT webhook_routing.set_routing_domains(ARRAY['jobs', 'marketplace', 'property', repeat('a', 63)], 'long')$$),
    (13, '64 letters', $$SELECT webhook_routing.set_routing_domains(ARRAY[repeat('a', 64)])$$),
    (14, 'accented', $$SELECT webhook_routing.set_routing_domains(ARRAY['jobé'])$$),
    (15, 'reason too long', $$SELECT webhook_routing.set_routing_domains(ARRAY['jobs'], repeat('r', 1001))$$),
    (16, 'protected and twice', $$SELECT webhook_routing.set_routing_domains(ARRAY['insurance', 'insurance'])$$),
    (17, 'add', $$SELECT webhook_routing.set_routing_domains(ARRAY['ai_agents', 'jobs', 'marketplace', 'property', 'd2'], 'add')$$),
    (18, 'd2 at 40', $$SELECT webhook_routing.update_routing_percentage(40, NULL, 'd2')$$),
    (19, 'remove some', $$SELECT webhook_routing.set_routing_domains(ARRAY['d2', 'jobs'], 'remove')$$),
    (20, 'none', $$SELECT webhook_routing.set_routing_domains('{}')$$),
    (21, 'percentage with none', $$SELECT webhook_routing.update_routing_percentage(5)$$),
    (22, 'switch with none', $$SELECT webhook_routing.set_routing_enabled(false)$$),
    (23, 'back', $$SELECT webhook_routing.set_routing_domains(ARRAY['jobs', 'marketplace', 'property'])$$),
    (24, 'switch back', $$SELECT webhook_routing.set_routing_enabled(true)$$)) AS a(n, label, sql)
ORDER BY a.n \gexec

-- A domain with a rollout in progress stays routable until its plan ends.
RESET ROLE;
INSERT INTO webhook_routing.webhook_routing_rollouts (domain, steps, hold, max_hold, state, started_by)
VALUES ('marketplace', '{1,5}', '1 hour', '2 hours', 'paused', 'someone'),
       ('jobs', '{1,5}', '1 hour', '2 hours', 'completed', 'someone');
SET ROLE wr_admin_op;
SELECT pg_catalog.format('SELECT pg_temp.attempt(%L, %L)', a.label, a.sql)
FROM (VALUES
    (1, 'remove a domain in rollout', $$SELECT webhook_routing.set_routing_domains(ARRAY['jobs'])$$),
    (2, 'remove a domain whose plan ended', $$SELECT webhook_routing.set_routing_domains(ARRAY['marketplace', 'property'])$$),
    (3, 'protected before the plan', $$SELECT webhook_routing.set_routing_domains(ARRAY['mobility'])$$)) AS a(n, label, sql)
ORDER BY a.n \gexec
RESET ROLE;
SELECT pg_temp.attempt('set_step on a domain gone', $$SELECT webhook_routing.webhook_routing_set_step('jobs', 0, 'rollback', 'gone', 3, NULL)$$);
SELECT pg_temp.attempt('set_step up on a domain gone', $$SELECT webhook_routing.webhook_routing_set_step('jobs', 1, 'advance', 'gone', 3, NULL)$$);

-- What the last row holds, as the decision reads it.
SELECT percentage, enabled, domains, domain_percentages, domain_enabled, testers, denied
FROM webhook_routing.webhook_routing_config ORDER BY created_at DESC, id DESC LIMIT 1;
