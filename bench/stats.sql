-- Stats and health timing: load N log rows into the last hour, then time each way of reading
-- p50/p95/p99 per domain and target, and compare each with the exact percentile_cont.
-- psql variables: rows.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
TRUNCATE webhook_routing.webhook_routing_logs;
DROP TABLE IF EXISTS bench_rollup;

-- Latencies: log-normal around 800 ms (unified a little slower), 0.1% errors.
INSERT INTO webhook_routing.webhook_routing_logs (webhook_name, domain, routed_to, response_time_ms, status, created_at)
SELECT 'whatsapp', (ARRAY['jobs', 'marketplace', 'property'])[1 + g % 3],
       CASE WHEN g % 10 = 0 THEN 'unified' ELSE 'legacy' END,
       round((exp(ln(CASE WHEN g % 10 = 0 THEN 850 ELSE 800 END)
                  + 0.35 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())))::numeric, 1),
       CASE WHEN random() < 0.001 THEN 'error' ELSE 'success' END,
       now() - random() * interval '55 minutes'
FROM generate_series(1, :rows) AS g;
ANALYZE webhook_routing.webhook_routing_logs;

-- Median of `runs` timings of a query, in ms; the query's rows are all read.
CREATE OR REPLACE FUNCTION pg_temp.time_ms(q text, runs int DEFAULT 5) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
    t float8[] := '{}';
    s timestamptz;
    sink text;
BEGIN
    FOR i IN 1..runs LOOP
        s := clock_timestamp();
        EXECUTE 'SELECT string_agg(x::text, '','') FROM (' || q || ') AS x' INTO sink;
        t := t || extract(epoch FROM clock_timestamp() - s) * 1000;
    END LOOP;
    RETURN (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(t) AS v);
END $$;

CREATE TEMP TABLE exact AS
SELECT domain, routed_to,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY response_time_ms::float8) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY response_time_ms::float8) AS p95,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY response_time_ms::float8) AS p99
FROM webhook_routing.webhook_routing_logs WHERE created_at > now() - interval '1 hour' GROUP BY 1, 2;

-- Largest relative error (%) of p50, p95, p99 over domain x target, against exact.
CREATE OR REPLACE FUNCTION pg_temp.err(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE format(
        'SELECT round((max(abs(a.p50 - e.p50) / e.p50) * 100)::numeric, 3) || '' / '' ||
                round((max(abs(a.p95 - e.p95) / e.p95) * 100)::numeric, 3) || '' / '' ||
                round((max(abs(a.p99 - e.p99) / e.p99) * 100)::numeric, 3)
         FROM (%s) AS a JOIN exact AS e USING (domain, routed_to)', q) INTO r;
    RETURN r;
END $$;

-- The tdigest rollup a user could build: per-minute digests, merged at query time.
CREATE TEMP TABLE rollup_build AS SELECT clock_timestamp() AS started;
CREATE TABLE bench_rollup AS
SELECT date_trunc('minute', created_at) AS minute, domain, routed_to,
       tdigest(response_time_ms::float8, 100) AS digest
FROM webhook_routing.webhook_routing_logs GROUP BY 1, 2, 3;
CREATE TEMP TABLE rollup_built AS
SELECT extract(epoch FROM clock_timestamp() - started) * 1000 AS ms FROM rollup_build;

\set q_stats 'SELECT * FROM webhook_routing.webhook_routing_stats'
\set q_health 'SELECT * FROM webhook_routing.check_routing_health()'
\set q_exact 'SELECT domain, routed_to, count(*), avg(response_time_ms), percentile_cont(0.5) WITHIN GROUP (ORDER BY response_time_ms::float8) AS p50, percentile_cont(0.95) WITHIN GROUP (ORDER BY response_time_ms::float8) AS p95, percentile_cont(0.99) WITHIN GROUP (ORDER BY response_time_ms::float8) AS p99 FROM webhook_routing.webhook_routing_logs WHERE created_at > now() - interval ''1 hour'' GROUP BY 1, 2'
\set q_tdigest 'SELECT domain, routed_to, p[1] AS p50, p[2] AS p95, p[3] AS p99 FROM (SELECT domain, routed_to, tdigest_percentile(response_time_ms::float8, 100, ARRAY[0.5, 0.95, 0.99]) AS p FROM webhook_routing.webhook_routing_logs WHERE created_at > now() - interval ''1 hour'' GROUP BY 1, 2) s'
\set q_rollup 'SELECT domain, routed_to, p[1] AS p50, p[2] AS p95, p[3] AS p99 FROM (SELECT domain, routed_to, tdigest_percentile(digest, ARRAY[0.5, 0.95, 0.99]) AS p FROM bench_rollup WHERE minute > now() - interval ''1 hour'' GROUP BY 1, 2) s'
\set q_ours 'SELECT domain, routed_to, p50_ms AS p50, p95_ms AS p95, p99_ms AS p99 FROM webhook_routing.routing_stats(''1 hour'')'

\pset tuples_only on
\pset format unaligned
\pset fieldsep '|'
SELECT :rows, 'stats view', pg_temp.time_ms(:'q_stats'), pg_temp.err(:'q_ours');
SELECT :rows, 'health check', pg_temp.time_ms(:'q_health'), '';
SELECT :rows, 'percentile_cont (runbook query)', pg_temp.time_ms(:'q_exact'), pg_temp.err(:'q_exact');
SELECT :rows, 'tdigest over rows', pg_temp.time_ms(:'q_tdigest'), pg_temp.err(:'q_tdigest');
SELECT :rows, 'tdigest per-minute rollup', pg_temp.time_ms(:'q_rollup'), pg_temp.err(:'q_rollup');
SELECT :rows, 'tdigest rollup rebuild', ms, '' FROM rollup_built;
-- Fresh to the last committed row: one more row, committed just now, is in the next read.
INSERT INTO webhook_routing.webhook_routing_logs (webhook_name, domain, routed_to, response_time_ms, status)
VALUES ('whatsapp', 'jobs', 'unified', 900, 'success');
SELECT :rows, 'stats after one more row', pg_temp.time_ms(:'q_stats', 1),
       CASE WHEN (SELECT sum(requests) FROM webhook_routing.webhook_routing_stats) = (SELECT count(*) FROM webhook_routing.webhook_routing_logs)
            THEN 'counts every committed row' ELSE 'MISSED A ROW' END;
