-- The same statements on the log against the native extension (tests/vectors/make.sh, which
-- keeps what they leave in webhook_routing_sketches as tests/vectors/log_sequence.expected) and
-- against the SQL edition (tests/vectors/check.sh, which compares): the sketches the log's
-- triggers write, row for row (all but the shard, which names the writing backend), bytes and
-- float sums bit for bit. Run as the extension's owner (or a superuser), which the log's caller
-- limits exempt, so that rows may be dated in fixed minutes.
\set ON_ERROR_STOP on
SET timezone = 'UTC';
-- One row at a time, in several minutes, domains (one NULL) and targets.
INSERT INTO webhook_routing.webhook_routing_logs (webhook_name, domain, routed_to, response_time_ms, status, created_at)
VALUES ('whatsapp', 'jobs', 'unified', 120.5, 'success', '2026-01-01 10:00:00+00');
INSERT INTO webhook_routing.webhook_routing_logs (webhook_name, domain, routed_to, response_time_ms, status, created_at)
VALUES ('whatsapp', 'jobs', 'unified', 80.25, 'error', '2026-01-01 10:00:59.999999+00');
INSERT INTO webhook_routing.webhook_routing_logs (webhook_name, domain, routed_to, response_time_ms, status, created_at)
VALUES ('whatsapp', NULL, 'legacy', NULL, 'success', '2026-01-01 10:01:00+00');
INSERT INTO webhook_routing.webhook_routing_logs (webhook_name, domain, routed_to, response_time_ms, status, created_at)
VALUES ('whatsapp', 'jobs', 'error', 0, 'error', '1999-12-31 23:59:30+00');
-- Pending: counted when its outcome lands, not before.
INSERT INTO webhook_routing.webhook_routing_logs (webhook_name, domain, routed_to, created_at)
VALUES ('whatsapp', 'jobs', 'unified', '2026-01-01 10:00:30+00'), ('whatsapp', 'jobs', 'legacy', '2026-01-01 10:00:31+00');
-- Many rows in one statement: latencies from 0 to a day (some NULL), errors, decisions of the
-- split at two percentages with their buckets, and not.
INSERT INTO webhook_routing.webhook_routing_logs
    (webhook_name, domain, routed_to, response_time_ms, status, reason, percentage, bucket, created_at)
SELECT 'whatsapp', CASE WHEN g % 5 = 0 THEN 'sales' ELSE 'jobs' END,
       CASE WHEN g % 3 = 0 THEN 'legacy' ELSE 'unified' END,
       CASE WHEN g % 97 = 0 THEN NULL WHEN g % 89 = 0 THEN 86400000 WHEN g % 83 = 0 THEN 0
            ELSE round(((g * 7919) % 100000) * 0.037 + (g % 13) * 0.001, 3) END,
       CASE WHEN g % 17 = 0 THEN 'error' ELSE 'success' END,
       CASE WHEN g % 4 = 0 THEN 'in_rollout' WHEN g % 4 = 1 THEN 'not_in_rollout' WHEN g % 4 = 2 THEN 'rule' ELSE NULL END,
       CASE WHEN g < 1500 THEN 25.00 ELSE 33.33 END,
       (g * 7) % 10000,
       '2026-01-01 10:02:00+00'::timestamptz + (g % 120) * interval '1 second'
FROM generate_series(1, 3000) AS g;
-- Outcomes of pending decisions, one statement each and several at once.
UPDATE webhook_routing.webhook_routing_logs SET status = 'success', response_time_ms = 310.125
WHERE status = 'pending' AND routed_to = 'unified';
INSERT INTO webhook_routing.webhook_routing_logs (webhook_name, domain, routed_to, created_at)
SELECT 'whatsapp', 'jobs', 'unified', '2026-01-01 10:05:00+00'::timestamptz + g * interval '1 second' FROM generate_series(1, 50) AS g;
UPDATE webhook_routing.webhook_routing_logs SET status = CASE WHEN id % 2 = 0 THEN 'error' ELSE 'success' END,
       response_time_ms = id % 1000 + 0.5
WHERE status = 'pending';
-- An outcome edited later: counted once, when it first landed.
UPDATE webhook_routing.webhook_routing_logs SET response_time_ms = 1, status = 'error' WHERE domain = 'sales';
-- In one transaction: the stored sketches merged again, a statement rolled back to a savepoint
-- (its outcomes never count), a percentage changed within a minute.
BEGIN;
INSERT INTO webhook_routing.webhook_routing_logs (webhook_name, domain, routed_to, response_time_ms, status, created_at)
SELECT 'whatsapp', 'jobs', 'unified', g * 1.5, 'success', '2026-01-01 10:00:10+00' FROM generate_series(1, 200) AS g;
SAVEPOINT before_failure;
\set ON_ERROR_STOP off
INSERT INTO webhook_routing.webhook_routing_logs (webhook_name, domain, routed_to, response_time_ms, status, created_at)
SELECT 'whatsapp', 'jobs', 'unified', 1000 / (100 - g), 'success', '2026-01-01 10:00:10+00' FROM generate_series(1, 150) AS g;
\set ON_ERROR_STOP on
ROLLBACK TO SAVEPOINT before_failure;
INSERT INTO webhook_routing.webhook_routing_logs
    (webhook_name, domain, routed_to, response_time_ms, status, reason, percentage, bucket, created_at)
SELECT 'whatsapp', 'jobs', 'unified', g, 'success', 'in_rollout_random', 50.00, g, '2026-01-01 10:02:30+00'
FROM generate_series(0, 99) AS g;
COMMIT;
-- A transaction that fails as a whole: nothing of it counts.
\set ON_ERROR_STOP off
BEGIN;
INSERT INTO webhook_routing.webhook_routing_logs (webhook_name, domain, routed_to, response_time_ms, status, created_at)
VALUES ('whatsapp', 'jobs', 'unified', 5, 'success', '2026-01-01 10:00:00+00');
SELECT 1 / 0;
COMMIT;
\set ON_ERROR_STOP on
-- What the triggers wrote, but the shard (one writer here: one shard per row key).
\pset format unaligned
\pset tuples_only on
SELECT pg_catalog.format('%L | %L | %L | %L | %L | %L | %L | %L | %L | %L | %L', s.minute, s.domain, s.routed_to, s.split_at,
       s.completed, s.errors,
       CASE WHEN pg_catalog.length(s.latency) OPERATOR(pg_catalog.<=) 48 THEN pg_catalog.encode(s.latency, 'hex')
            ELSE pg_catalog.md5(s.latency) OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) pg_catalog.length(s.latency) END,
       s.split_n, s.split_expected, pg_catalog.md5(s.split_buckets),
       (webhook_routing.webhook_routing_sketch_summary(ARRAY[s.latency]))::text)
FROM webhook_routing.webhook_routing_sketches AS s
ORDER BY s.minute, s.domain NULLS FIRST, s.routed_to, s.split_at NULLS FIRST;
SELECT 'shards per row: ' OPERATOR(pg_catalog.||) pg_catalog.max(c.n) FROM (
    SELECT pg_catalog.count(*) AS n FROM webhook_routing.webhook_routing_sketches
    GROUP BY minute, domain, routed_to, split_at) AS c;
-- What stats and health read from the sketches: outcomes of now, split at 50%, then the
-- readers (their rows as JSON, in a fixed order; none holds a time).
INSERT INTO webhook_routing.webhook_routing_logs (webhook_name, domain, routed_to, response_time_ms, status, reason, percentage, bucket)
SELECT 'whatsapp', 'jobs', CASE WHEN g % 2 = 0 THEN 'unified' ELSE 'legacy' END, (g * 37 % 1000) * 0.37,
       CASE WHEN g % 50 = 0 THEN 'error' ELSE 'success' END, CASE WHEN g % 2 = 0 THEN 'in_rollout' ELSE 'not_in_rollout' END,
       50, g % 10000
FROM generate_series(1, 2000) AS g;
SELECT 'routing_stats: ' OPERATOR(pg_catalog.||) pg_catalog.to_jsonb(s)::text
FROM webhook_routing.routing_stats('1 hour') AS s ORDER BY pg_catalog.to_jsonb(s)::text;
SELECT 'check_routing_health: ' OPERATOR(pg_catalog.||) pg_catalog.to_jsonb(h)::text
FROM webhook_routing.check_routing_health() AS h ORDER BY pg_catalog.to_jsonb(h)::text;
SELECT 'routing_status: ' OPERATOR(pg_catalog.||) pg_catalog.to_jsonb(s)::text
FROM webhook_routing.routing_status AS s ORDER BY pg_catalog.to_jsonb(s)::text;
SELECT 'routing_metrics: ' OPERATOR(pg_catalog.||) (pg_catalog.length(webhook_routing.routing_metrics()) OPERATOR(pg_catalog.>) 0)::text;
-- TRUNCATE of the log empties the sketches.
TRUNCATE webhook_routing.webhook_routing_logs;
SELECT 'after TRUNCATE: ' OPERATOR(pg_catalog.||) pg_catalog.count(*) OPERATOR(pg_catalog.||) ' sketches' FROM webhook_routing.webhook_routing_sketches;
