-- routing_report: the runbook's "actual results" per step, from the history and the sketches.
-- A day of January 2026, written by hand (the history's timestamps are the report's steps).
CREATE EXTENSION webhook_routing;
UPDATE webhook_routing_config SET created_at = '2026-01-09 12:00:00+00';
INSERT INTO webhook_routing_config (percentage, enabled, domain_percentages, action, reason, created_at) VALUES
    (0, true, '{"jobs": 5}',  'rollout_start',    'rollout 1 started: step 1 of 3',            '2026-01-10 09:00:00+00'),
    (0, true, '{"jobs": 10}', 'rollout_advance',  'rollout 1: advance 5% → 10% after 04:00:00', '2026-01-10 13:00:00+00'),
    (0, true, '{"jobs": 5}',  'rollout_rollback', 'rollout 1: rollback 10% → 5% (p95 critical)', '2026-01-10 17:00:00+00'),
    (0, false, '{"jobs": 5}', 'set_enabled',      'Emergency rollback',                         '2026-01-10 18:00:00+00');

-- n outcomes of one target at one time: latencies base..base+99 ms, every error_every-th an error.
CREATE FUNCTION outcomes(target text, at timestamptz, n int, base int, error_every int DEFAULT 0) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms, created_at)
    SELECT 'whatsapp', 'jobs', target,
           CASE WHEN error_every > 0 AND g % error_every = 0 THEN 'error' ELSE 'success' END,
           base + g % 100, at
    FROM generate_series(1, n) AS g
$$;
SELECT outcomes('legacy', '2026-01-10 08:30+00', 300, 550);                 -- before: all legacy
SELECT outcomes('legacy', '2026-01-10 10:00+00', 950, 600), outcomes('unified', '2026-01-10 10:00+00', 50, 700);
SELECT outcomes('legacy', '2026-01-10 14:00+00', 900, 600), outcomes('unified', '2026-01-10 14:00+00', 100, 3400, 20);
SELECT outcomes('legacy', '2026-01-10 17:30+00', 475, 600), outcomes('unified', '2026-01-10 17:30+00', 25, 700);
SELECT outcomes('legacy', '2026-01-10 18:30+00', 400, 600);                 -- routing off

-- The report without its first line (which says until when: now).
SELECT line FROM regexp_split_to_table(routing_report('jobs', '2026-01-10 06:00+00'), E'\n') WITH ORDINALITY AS r(line, n)
WHERE n > 1;

-- Every routable domain when none is named; refusals.
SELECT count(*) FILTER (WHERE line LIKE 'Migration report: %') AS domains
FROM regexp_split_to_table(routing_report(since => '2026-01-10 06:00+00'), E'\n') AS line;
SELECT routing_report('nosuch');
SELECT routing_report('jobs', NULL);

DROP FUNCTION outcomes;
DROP EXTENSION webhook_routing;
