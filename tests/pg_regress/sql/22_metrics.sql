-- routing_metrics(): the Prometheus text exposition format, from deterministic traffic with
-- fixed latencies. Lines that name a time (the config's, a plan's time in step) are left out.
CREATE EXTENSION webhook_routing;
SELECT set_routing_enabled(true, 'metrics test') > 1 AS appended;
SELECT update_routing_percentage(100, 'metrics test') > 1 AS appended;
SELECT start_rollout('property', ARRAY[5, 25, 100], '1 hour', 'metrics test') > 0 AS started;

CREATE VIEW metrics AS
SELECT line FROM regexp_split_to_table(routing_metrics(), E'\n') WITH ORDINALITY AS m(line, n)
WHERE line !~ '^webhook_routing_(config_last_change_timestamp_seconds|rollout_step_seconds)[ {]'
ORDER BY n;

-- Nothing routed yet: the config, the switches and the plan.
SELECT line FROM metrics WHERE line !~ '^# ' AND line !~ '^webhook_routing_health_';

-- Decisions at 100% go to unified; their outcomes come with fixed latencies (ms).
\set jobs '{"entry":[{"changes":[{"value":{"messages":[{"from":"250788000001","type":"text","text":{"body":"any job vacancy?"}}]}}]}]}'
SELECT record_routing_outcome(decision_id, 'success', 200) FROM route_decision(:'jobs');
\set jobs '{"entry":[{"changes":[{"value":{"messages":[{"from":"250788000002","type":"text","text":{"body":"any job vacancy?"}}]}}]}]}'
SELECT record_routing_outcome(decision_id, 'success', 400) FROM route_decision(:'jobs');
\set jobs '{"entry":[{"changes":[{"value":{"messages":[{"from":"250788000003","type":"text","text":{"body":"any job vacancy?"}}]}}]}]}'
SELECT record_routing_outcome(decision_id, 'error', 1000, 'handler failed') FROM route_decision(:'jobs');
-- One still waiting for its outcome.
\set jobs '{"entry":[{"changes":[{"value":{"messages":[{"from":"250788000004","type":"text","text":{"body":"any job vacancy?"}}]}}]}]}'
SELECT routed_to FROM route_decision(:'jobs');
-- Legacy's requests, logged with their outcome; one in no domain; one whose domain (a caller's
-- text) needs escaping in a label.
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms)
SELECT 'whatsapp', 'jobs', 'legacy', 'success', 100 * g FROM generate_series(1, 10) AS g;
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms)
VALUES ('whatsapp', NULL, 'legacy', 'success', 50),
       ('whatsapp', E'we"ird\\dom\nain', 'legacy', 'error', NULL);

SELECT line FROM metrics
WHERE line ~ '^webhook_routing_(outcomes_total|latency_seconds|pending_decisions|timed_out_decisions)';

-- Every family has a HELP and a TYPE, in this order, and the text ends with a newline.
SELECT line FROM metrics WHERE line ~ '^# TYPE ';
SELECT right(routing_metrics(), 1) = E'\n' AS trailing_newline,
       (SELECT count(*) FROM metrics WHERE line ~ '^# HELP ') AS helps;
-- The verdicts: one series per check, the value 1, no sender anywhere.
SELECT line FROM metrics WHERE line ~ '^webhook_routing_health_info\{domain="jobs",routed_to="unified",check="error_rate"';
SELECT count(*) AS verdicts, count(*) FILTER (WHERE line ~ ' 1$') AS valued_1
FROM metrics WHERE line ~ '^webhook_routing_health_info\{';
SELECT count(*) AS lines_with_a_number FROM metrics WHERE line ~ '2507880000';
-- Decisions are counted in shared memory, which only a server that preloads the library has
-- (src/pg/decision_counts.rs): this suite's server does not, so the family has no samples and
-- the table of counts no rows (the client tests count on a server that preloads it).
SELECT current_setting('shared_preload_libraries') !~ 'webhook_routing' AS not_preloaded,
       (SELECT count(*) FROM metrics WHERE line ~ '^webhook_routing_decisions') AS decision_samples,
       (SELECT count(*) FROM webhook_routing_decision_counts()) AS counted_series,
       webhook_routing_decisions_uncounted() IS NULL AS no_table;

-- Pruning never takes a counter down: rows of 40 days ago (the owner's backfill), pruned at
-- 30 days, stay counted; a second prune counts nothing twice.
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms, created_at)
SELECT 'whatsapp', 'jobs', 'legacy', CASE WHEN g = 1 THEN 'error' ELSE 'success' END, 1000, now() - interval '40 days'
FROM generate_series(1, 4) AS g;
CREATE TABLE before_prune AS SELECT line FROM metrics WHERE line ~ '^webhook_routing_(outcomes_total|latency_seconds_(sum|count))';
SELECT line FROM before_prune WHERE line ~ 'domain="jobs",routed_to="legacy"';
SET client_min_messages = warning;
SELECT prune_routing_logs('30 days') AS pruned;
SELECT count(*) AS sketches_before_30_days FROM webhook_routing_sketches WHERE minute < now() - interval '30 days';
SELECT (SELECT array_agg(line ORDER BY line) FROM before_prune)
     = (SELECT array_agg(line ORDER BY line) FROM metrics WHERE line ~ '^webhook_routing_(outcomes_total|latency_seconds_(sum|count))')
       AS same_after_prune;
SELECT prune_routing_logs('30 days') AS pruned_again;
SELECT (SELECT array_agg(line ORDER BY line) FROM before_prune)
     = (SELECT array_agg(line ORDER BY line) FROM metrics WHERE line ~ '^webhook_routing_(outcomes_total|latency_seconds_(sum|count))')
       AS same_after_second_prune;
RESET client_min_messages;
SELECT domain, routed_to, completed, errors, latency_count, latency_sum_ms,
       before = date_bin('1 minute', now() - interval '1 day', timestamptz '2000-01-01 00:00:00+00') AS folded_to_a_day_ago
FROM webhook_routing_metric_totals ORDER BY domain, routed_to;

-- Who may scrape: readers and admins; not the webhooks' caller role.
SELECT r AS role, has_function_privilege(r, 'routing_metrics()', 'EXECUTE') AS may_scrape
FROM unnest(ARRAY['webhook_routing_reader', 'webhook_routing_admin', 'webhook_routing_caller']) AS r ORDER BY r;
SET ROLE webhook_routing_reader;
SELECT routing_metrics() ~ '\nwebhook_routing_outcomes_total\{domain="jobs",routed_to="legacy",status="ok"\} 13\n' AS reader_reads;
RESET ROLE;
SET ROLE webhook_routing_caller;
SELECT routing_metrics();
RESET ROLE;

-- TRUNCATE of the log: the counters start again from 0 (a reset, as Prometheus reads one).
TRUNCATE webhook_routing_logs;
SELECT count(*) AS totals FROM webhook_routing_metric_totals;
SELECT count(*) AS outcome_series FROM metrics WHERE line ~ '^webhook_routing_outcomes_total';

DROP TABLE before_prune;
DROP VIEW metrics;
DROP EXTENSION webhook_routing;
