-- A rollout at a glance: routing_overview, advance_rollouts' reason, verdicts that say pass or
-- proceed only on evidence, the switch's message naming each domain's percentage,
-- rollback_routing's 'previous', and the migration report's steps taken from the config each
-- decision was made under. Nothing shown depends on timing: holds are 0 seconds or 4 hours
-- (what is left is rounded up to the minute), and the time a step was held is masked.
CREATE EXTENSION webhook_routing;
SELECT set_routing_domains(ARRAY['jobs', 'marketplace', 'property', 'ai_agents']) > 1 AS appended;

-- The switch says what it applies to: each routable domain's percentage, not the global one.
SELECT update_routing_percentage(25, 'every domain at 25%') > 1 AS appended;
SELECT update_routing_percentage(0, 'jobs waits', 'jobs') > 1 AS appended;
SELECT update_routing_percentage(5, 'marketplace starts low', 'marketplace') > 1 AS appended;
SELECT set_routing_enabled(false, 'property is not ready', 'property') > 1 AS appended;
SELECT set_routing_enabled(true, 'rollout start') > 1 AS appended;
SELECT set_routing_enabled(false, 'Emergency rollback') > 1 AS appended;
SELECT set_routing_enabled(true, 'fixed') > 1 AS appended;

-- Nothing logged: no domain proceeds, no check proceeds or passes without samples (legacy's
-- rows too), and the protected domains are never routed.
SELECT * FROM routing_overview;
SELECT count(*) AS proceeding_without_samples FROM check_routing_health()
WHERE samples = 0 AND (recommendation = 'proceed' OR verdict = 'pass');
SELECT DISTINCT routed_to, verdict, recommendation FROM check_routing_health() ORDER BY 1, 2, 3;

-- Outcomes logged in bulk, as any client may log them: unified answering in unified_ms with
-- unified_errors errors, legacy in 600-649 ms without.
CREATE FUNCTION logged_outcomes(dom text, unified int, legacy int, unified_ms numeric DEFAULT 400, unified_errors int DEFAULT 0)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, response_time_ms, status)
    SELECT 'whatsapp', dom, 'unified', unified_ms + g % 50, CASE WHEN g <= unified_errors THEN 'error' ELSE 'success' END
    FROM generate_series(1, unified) AS g
    UNION ALL
    SELECT 'whatsapp', dom, 'legacy', 600 + g % 50, 'success'
    FROM generate_series(1, legacy) AS g;
$$;

-- ai_agents: a plan whose gates pass; jobs: a plan in its 4-hour hold; marketplace: unified
-- fails 5% of requests; property (switched on again): 40 unified outcomes, 100 needed.
SELECT start_rollout('ai_agents', '{25,50,100}', '0 seconds') AS ai_plan \gset
SELECT start_rollout('jobs', '{5,10}', '4 hours') AS jobs_plan \gset
SELECT set_routing_enabled(true, 'property ready', 'property') > 1 AS appended;
SELECT logged_outcomes('ai_agents', 3000, 9000), logged_outcomes('marketplace', 2000, 2000, 400, 100), logged_outcomes('property', 40, 2000),
       logged_outcomes('jobs', 100, 2000);
SELECT * FROM routing_overview;

-- advance_rollouts says in words what it concluded; the detail comes last.
SELECT rollout_id = :ai_plan AS ai_agents, domain, step, percentage, verdict,
       regexp_replace(reason, 'after \d+ s', 'after N s') AS reason
FROM advance_rollouts() ORDER BY rollout_id;
SELECT array_agg(a.attname ORDER BY a.attnum) AS advance_rollouts_columns
FROM pg_proc AS p, unnest(p.proargnames) WITH ORDINALITY AS a(attname, attnum)
WHERE p.oid = 'advance_rollouts'::regproc AND a.attnum > 0;
SELECT pause_rollout('jobs', 'investigating') > 1 AS appended;
SELECT domain, pct, plan, verdict, waits_for FROM routing_overview WHERE domain IN ('ai_agents', 'jobs');

-- The sample ratio passes on evidence of a sound split, never by default: 110 unified buckets
-- of 1,000 at 10% is neither shown sound nor skewed. No check passes below 95%.
SELECT t.buckets, j.verdict, round(j.confidence::numeric, 4) AS confidence
FROM (VALUES (1000, 110::float8, 100::float8, 90::float8), (10000, 1000, 1000, 900), (10000, 800, 1000, 900)) AS t(buckets, x, e, v)
CROSS JOIN LATERAL webhook_routing_judge('sample_ratio', NULL, 100, least(t.x, t.buckets - t.x)::bigint,
                                         t.x, t.buckets, t.e, t.v, NULL) AS j
ORDER BY t.buckets, t.x;
SELECT count(*) AS passes, count(*) FILTER (WHERE j.confidence < 0.95) AS passes_below_95
FROM unnest(ARRAY['error_rate', 'session_breaks', 'sample_ratio']) AS c(check_name),
     generate_series(0, 20) AS x, generate_series(100, 3000, 100) AS n
CROSS JOIN LATERAL webhook_routing_judge(c.check_name, 0.5, 100, n::bigint, x::float8, n::float8,
                                         n * 0.1, n * 0.09, NULL) AS j
WHERE j.verdict = 'pass';

-- rollback_routing('previous') without a plan: the percentage before the domain was last
-- raised to where it is. At 10% after a step back from 25%, that is what came before 10% (0%
-- here), never 25%: a rollback does not widen.
SELECT abort_rollout('ai_agents', 'done here') > 1 AS appended;
SELECT update_routing_percentage(10, 'by hand', 'ai_agents') > 1 AS appended;
SELECT update_routing_percentage(25, 'by hand', 'ai_agents') > 1 AS appended;
SELECT update_routing_percentage(10, 'stepping back', 'ai_agents') > 1 AS appended;
SELECT rollback_routing('ai_agents') > 1 AS appended;
SELECT update_routing_percentage(10, 'by hand', 'ai_agents') > 1 AS appended;
SELECT update_routing_percentage(50, 'by hand', 'ai_agents') > 1 AS appended;
SELECT update_routing_percentage(25, 'stepping back', 'ai_agents') > 1 AS appended;
SELECT rollback_routing('ai_agents') > 1 AS appended;
SELECT domain, percentage FROM routing_status WHERE domain = 'ai_agents';
DROP FUNCTION logged_outcomes;
DROP EXTENSION webhook_routing;

-- The migration report counts each decision for the step it was made under (its config row),
-- to the second: a raise, the kill switch, routing on again and a rollback inside one minute
-- each get their own traffic. A decision made under the 25% row but logged after the kill
-- switch (a session that had not seen it yet) counts for 25%; a caller's row without a config
-- row counts by its time.
CREATE EXTENSION webhook_routing;
UPDATE webhook_routing_config SET created_at = '2026-01-12 08:00:00+00';
INSERT INTO webhook_routing_config (percentage, enabled, domain_percentages, action, reason, created_at) VALUES
    (0, true,  '{"jobs": 10}', 'set_percentage', '10% test rollout',   '2026-01-12 09:00:00+00'),
    (0, true,  '{"jobs": 25}', 'set_percentage', '25% after 10%',      '2026-01-12 09:30:10+00'),
    (0, false, '{"jobs": 25}', 'set_enabled',    'Emergency rollback', '2026-01-12 09:30:20+00'),
    (0, true,  '{"jobs": 25}', 'set_enabled',    'false alarm',        '2026-01-12 09:30:40+00'),
    (0, true,  '{"jobs": 10}', 'rollback',       'rolled back by the operator from 25.00% to 10.00%', '2026-01-12 09:30:50+00');
CREATE FUNCTION decided(target text, at timestamptz, n int, under timestamptz) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms, created_at, config_id)
    SELECT 'whatsapp', 'jobs', target, 'success', 500 + g % 100, at,
           (SELECT c.id FROM webhook_routing_config AS c WHERE c.created_at = under)
    FROM generate_series(1, n) AS g
$$;
SELECT decided('unified', '2026-01-12 09:10:00+00', 10, '2026-01-12 09:00:00+00'),
       decided('legacy',  '2026-01-12 09:10:00+00', 90, '2026-01-12 09:00:00+00'),
       decided('unified', '2026-01-12 09:30:15+00', 25, '2026-01-12 09:30:10+00'),
       decided('legacy',  '2026-01-12 09:30:15+00', 75, '2026-01-12 09:30:10+00'),
       decided('unified', '2026-01-12 09:30:21+00', 1,  '2026-01-12 09:30:10+00'),
       decided('legacy',  '2026-01-12 09:30:30+00', 50, '2026-01-12 09:30:20+00'),
       decided('unified', '2026-01-12 09:30:45+00', 10, '2026-01-12 09:30:40+00'),
       decided('legacy',  '2026-01-12 09:30:45+00', 30, '2026-01-12 09:30:40+00'),
       decided('unified', '2026-01-12 09:40:00+00', 5,  '2026-01-12 09:30:50+00'),
       decided('legacy',  '2026-01-12 09:40:00+00', 45, '2026-01-12 09:30:50+00'),
       decided('legacy',  '2026-01-12 09:45:00+00', 1,  NULL);
-- The report without its first line (which says until when: now).
SELECT line FROM regexp_split_to_table(routing_report('jobs', '2026-01-12 08:30+00'), E'\n') WITH ORDINALITY AS r(line, n)
WHERE n > 1;
DROP FUNCTION decided;
DROP EXTENSION webhook_routing;
