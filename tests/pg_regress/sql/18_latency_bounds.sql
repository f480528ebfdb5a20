-- A latency is milliseconds from 0 to one day (86,400,000), kept to the microsecond. Whoever
-- writes the log (the caller role or the owner, by INSERT or UPDATE), NaN, infinities, negative
-- and longer times are refused with the reason, and nothing is written; more decimals are
-- rounded. Issue 28 §2: up to 0.6.0 one row of 1e308 ms turned legacy's p50 into 4.6e302 ms,
-- and one outcome of a day moved legacy's p50/p95 from 89.5/98.2 to 399.8/399.8 ms.
CREATE EXTENSION webhook_routing;
CREATE ROLE wr_latency_edge IN ROLE webhook_routing_caller;

-- Runs one call; says what it raised.
CREATE FUNCTION try(call text, OUT state text, OUT message text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE call;
    state := 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
END $$;
GRANT EXECUTE ON FUNCTION try(text) TO PUBLIC;
CREATE TABLE latencies (n int, ms text);
INSERT INTO latencies VALUES (1, 'NaN'), (2, 'Infinity'), (3, '-Infinity'), (4, '1e308'), (5, '-1'),
    (6, '86400000.001'), (7, '1e400'), (8, '-0.0001');
GRANT SELECT ON latencies TO PUBLIC;

-- A pending decision, which an outcome completes.
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to) VALUES ('whatsapp', 'jobs', 'legacy');

-- Refused, as the caller and as the owner, by INSERT and by UPDATE.
SET ROLE wr_latency_edge;
SELECT 'caller' AS who, l.n, l.ms, 'insert' AS how, t.*
FROM latencies AS l, try(format($$INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms)
                                  VALUES ('whatsapp', 'jobs', 'legacy', 'success', %L)$$, l.ms)) AS t
UNION ALL
SELECT 'caller', l.n, l.ms, 'update', t.*
FROM latencies AS l, try(format($$UPDATE webhook_routing_logs SET status = 'success', response_time_ms = %L
                                  WHERE status = 'pending'$$, l.ms)) AS t
ORDER BY how, n;
RESET ROLE;
SELECT 'owner' AS who, l.n, l.ms, 'insert' AS how, t.*
FROM latencies AS l, try(format($$INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms)
                                  VALUES ('whatsapp', 'jobs', 'legacy', 'success', %L)$$, l.ms)) AS t
UNION ALL
SELECT 'owner', l.n, l.ms, 'update', t.*
FROM latencies AS l, try(format($$UPDATE webhook_routing_logs SET status = 'success', response_time_ms = %L
                                  WHERE status = 'pending'$$, l.ms)) AS t
ORDER BY how, n;
-- The same under session_replication_role = replica, where ordinary triggers do not run: the
-- log's is enabled ALWAYS.
SET session_replication_role = replica;
SELECT l.n, l.ms, t.state, t.message, t.hint
FROM latencies AS l, try(format($$INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms)
                                  VALUES ('whatsapp', 'jobs', 'legacy', 'success', %L)$$, l.ms)) AS t
ORDER BY l.n;
RESET session_replication_role;
-- Nothing was written: one row, still pending, no sketch.
SELECT status, response_time_ms FROM webhook_routing_logs ORDER BY id;
SELECT count(*) AS sketches FROM webhook_routing_sketches;

-- Accepted: 0 to a day, more decimals rounded to 0.001 ms (1e-400 is 0).
SET ROLE wr_latency_edge;
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms)
VALUES ('whatsapp', 'jobs', 'unified', 'success', 0), ('whatsapp', 'jobs', 'unified', 'success', 1e-400),
       ('whatsapp', 'jobs', 'unified', 'success', 12.3456789), ('whatsapp', 'jobs', 'unified', 'success', 86400000);
UPDATE webhook_routing_logs SET status = 'success', response_time_ms = 0.0005 WHERE status = 'pending';
RESET ROLE;
SELECT routed_to, response_time_ms, length(response_time_ms::text) AS characters
FROM webhook_routing_logs ORDER BY id;

-- One outcome of a day among 300 near 90 ms moves legacy's p50 and p95 by no more than the
-- exact percentiles move, plus the sketch's 0.3%.
TRUNCATE webhook_routing_logs;
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms)
SELECT 'whatsapp', 'jobs', 'legacy', 'success', 80 + (g * 37 % 300) * 0.07 FROM generate_series(0, 299) AS g;
CREATE VIEW legacy_latency AS
SELECT round(s.p50_ms::numeric, 1) AS p50_ms, round(e.p50::numeric, 1) AS exact_p50,
       round(s.p95_ms::numeric, 1) AS p95_ms, round(e.p95::numeric, 1) AS exact_p95,
       abs(s.p50_ms - e.p50) <= 0.003 * e.p50 AND abs(s.p95_ms - e.p95) <= 0.003 * e.p95 AS within_error
FROM routing_stats('1 hour') AS s,
     (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY response_time_ms::float8) AS p50,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY response_time_ms::float8) AS p95
      FROM webhook_routing_logs WHERE routed_to = 'legacy') AS e
WHERE s.domain = 'jobs' AND s.routed_to = 'legacy';
SELECT * FROM legacy_latency;
SELECT count(record_routing_outcome(d.decision_id, 'success', 86400000)) AS outcomes
FROM route_decision('{"entry":[{"changes":[{"value":{"messages":[{"from":"250788123456","type":"text","text":{"body":"any job?"}}]}}]}]}'::jsonb) AS d
WHERE d.routed_to = 'legacy';
SELECT * FROM legacy_latency;

DROP VIEW legacy_latency;
DROP TABLE latencies;
DROP FUNCTION try;
DROP EXTENSION webhook_routing;
DROP ROLE wr_latency_edge;

-- The update from 0.6.0 (installed in public, as it was) rounds the latencies it kept with more
-- decimals and sets those that are not latencies to NULL, with a WARNING saying how many.
SET client_min_messages = warning;
CREATE EXTENSION webhook_routing VERSION '0.6.0';
INSERT INTO public.webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms)
VALUES ('whatsapp', 'jobs', 'legacy', 'success', 'NaN'), ('whatsapp', 'jobs', 'legacy', 'success', 1e308),
       ('whatsapp', 'jobs', 'legacy', 'success', 1e-400), ('whatsapp', 'jobs', 'legacy', 'success', 12.3456789),
       ('whatsapp', 'jobs', 'legacy', 'success', 86400000.5), ('whatsapp', 'jobs', 'legacy', 'success', 90),
       ('whatsapp', 'jobs', 'legacy', 'success', NULL);
ALTER EXTENSION webhook_routing UPDATE TO '0.7.0';
SELECT id, response_time_ms FROM webhook_routing.webhook_routing_logs ORDER BY id;
-- And from now on, such a latency is refused.
INSERT INTO webhook_routing.webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms)
VALUES ('whatsapp', 'jobs', 'legacy', 'success', 'NaN');
DROP EXTENSION webhook_routing;
RESET client_min_messages;
