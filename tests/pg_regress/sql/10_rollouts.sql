-- Staged rollouts: every transition advance_rollouts() makes by itself, the operators'
-- functions, and every refusal. Traffic is made by route_decision and record_routing_outcome;
-- each phase starts from an empty log (TRUNCATE empties the sketches too), so that its health
-- is its own. Holds are 0 seconds but for the one that shows waiting.
CREATE EXTENSION webhook_routing;
SELECT set_routing_enabled(true, 'rollout test') > 1 AS appended;
SELECT set_routing_domains(ARRAY['jobs', 'marketplace', 'property']) > 1 AS appended;

-- n messages of a domain from distinct senders; unified answers with unified_ms, and every
-- error_every-th of its requests fails; only report_unified of unified outcomes are reported.
CREATE FUNCTION traffic(dom text, n int, unified_ms numeric DEFAULT 400, error_every int DEFAULT 0,
                        report_unified numeric DEFAULT 1)
RETURNS TABLE (routed_to text, decisions bigint) LANGUAGE plpgsql AS $$
DECLARE
    d record;
    body text := CASE dom WHEN 'jobs' THEN 'any job for me?' WHEN 'marketplace' THEN 'I want to sell my phone'
                          ELSE 'house for rent in kigali' END;
    u int := 0;
    counts jsonb := '{}';
BEGIN
    FOR i IN 1 .. n LOOP
        SELECT * INTO d FROM route_decision(jsonb_build_object('entry', jsonb_build_array(jsonb_build_object(
            'changes', jsonb_build_array(jsonb_build_object('value', jsonb_build_object('messages', jsonb_build_array(
                jsonb_build_object('from', (250780000000 + i)::text, 'type', 'text', 'text', jsonb_build_object('body', body)))))))))) ;
        counts := jsonb_set(counts, ARRAY[d.routed_to], to_jsonb(coalesce((counts ->> d.routed_to)::int, 0) + 1));
        IF d.routed_to = 'unified' THEN
            u := u + 1;
            CONTINUE WHEN u > n * report_unified * d.percentage / 100;
            PERFORM record_routing_outcome(d.decision_id,
                CASE WHEN error_every > 0 AND u % error_every = 0 THEN 'error' ELSE 'success' END, unified_ms + i % 50);
        ELSE
            PERFORM record_routing_outcome(d.decision_id, 'success', 600 + i % 50);
        END IF;
    END LOOP;
    RETURN QUERY SELECT key, value::bigint FROM jsonb_each_text(counts) ORDER BY key;
END $$;

-- Outcomes logged in bulk by plain INSERTs (as any client may log them): unified and legacy
-- requests of a domain, unified answering in unified_ms with unified_errors errors. Enough
-- requests for the sequential tests to conclude, which route_decision one by one would take
-- minutes to make.
CREATE FUNCTION logged(dom text, unified int, legacy int, unified_ms numeric DEFAULT 400, unified_errors int DEFAULT 0)
RETURNS TABLE (routed_to text, requests bigint) LANGUAGE sql AS $$
    INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, response_time_ms, status)
    SELECT 'whatsapp', dom, 'unified', unified_ms + g % 50, CASE WHEN g <= unified_errors THEN 'error' ELSE 'success' END
    FROM generate_series(1, unified) AS g
    UNION ALL
    SELECT 'whatsapp', dom, 'legacy', 600 + g % 50, 'success'
    FROM generate_series(1, legacy) AS g;
    SELECT l.routed_to, count(*) FROM webhook_routing_logs AS l WHERE l.domain = dom GROUP BY 1 ORDER BY 1;
$$;

CREATE VIEW plans AS
SELECT id, domain, steps, hold, step, state, last_verdict FROM webhook_routing_rollouts ORDER BY id;
CREATE VIEW transitions AS
SELECT c.id, c.rollout_id, c.action, coalesce((c.domain_percentages ->> r.domain)::numeric, c.percentage) AS percentage,
       c.detail ->> 'transition' AS transition, c.detail ->> 'from' AS "from", c.detail ->> 'to' AS "to"
FROM webhook_routing_config c JOIN webhook_routing_rollouts r ON r.id = c.rollout_id
ORDER BY c.id;

-- Runs one call; says what it raised.
CREATE FUNCTION try(call text, OUT state text, OUT message text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE call;
    state := 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
END $$;

-- Refusals, nothing changed.
SELECT count(*) AS history_before FROM webhook_routing_config \gset
\pset format unaligned
\pset fieldsep ' | '
SELECT t.* FROM (VALUES
    ($$SELECT start_rollout(NULL)$$),
    ($$SELECT start_rollout('jobs', NULL)$$),
    ($$SELECT start_rollout('jobs', '{}')$$),
    ($$SELECT start_rollout('jobs', '{10,5}')$$),
    ($$SELECT start_rollout('jobs', '{5,5}')$$),
    ($$SELECT start_rollout('jobs', '{5,150}')$$),
    ($$SELECT start_rollout('jobs', '{-5,10}')$$),
    ($$SELECT start_rollout('jobs', '{5,10.555}')$$),
    ($$SELECT start_rollout('jobs', '{5,NaN}')$$),
    ($$SELECT start_rollout('jobs', '{5,NULL,50}')$$),
    ($$SELECT start_rollout('jobs', '{{5,10},{25,50}}')$$),
    ($$SELECT start_rollout('jobs', hold => '-1 hour')$$),
    ($$SELECT start_rollout('jobs', hold => '4 hours', max_hold => '1 hour')$$),
    ($$SELECT start_rollout('jobs', reason => repeat('x', 1001))$$),
    ($$SELECT start_rollout('mobility')$$),
    ($$SELECT start_rollout('nosuch')$$),
    ($$SELECT pause_rollout('jobs')$$),
    ($$SELECT resume_rollout('jobs')$$),
    ($$SELECT abort_rollout('jobs', 'no plan')$$),
    ($$SELECT abort_rollout('jobs', NULL)$$),
    ($$SELECT rollback_routing('jobs', 'halfway')$$),
    ($$SELECT rollback_routing(NULL)$$),
    ($$SELECT rollback_routing('jobs')$$)
) AS c(call), LATERAL try(c.call) AS t;
\pset format aligned
SELECT count(*) - :history_before AS history_added, (SELECT count(*) FROM webhook_routing_rollouts) AS plans
FROM webhook_routing_config;

-- jobs: 5% → 25% → 100%, the first step held 4 hours.
SELECT start_rollout('jobs', '{5,25,100}', '4 hours', 'jobs to unified') AS jobs_plan \gset
SELECT t.state, t.message, t.hint FROM try($$SELECT start_rollout('jobs')$$) AS t;
-- No traffic yet: wait.
SELECT domain, step, percentage, verdict FROM advance_rollouts();
-- Routed traffic, too little for a verdict yet (and the hold is not over): wait.
SELECT * FROM traffic('jobs', 1000);
SELECT domain, step, percentage, verdict, detail -> 'checks' -> 'unified.error_rate_vs_legacy' ->> 'verdict' AS vs_legacy,
       detail -> 'checks' -> 'unified.p95_vs_legacy' ->> 'verdict' AS p95
FROM advance_rollouts();
-- Enough healthy traffic for the gates to pass, but the hold is not over: wait.
SELECT * FROM logged('jobs', 2500, 47500);
SELECT domain, step, percentage, verdict, detail -> 'checks' -> 'unified.error_rate_vs_legacy' ->> 'verdict' AS vs_legacy,
       detail -> 'checks' -> 'unified.p95_vs_legacy' ->> 'verdict' AS p95
FROM advance_rollouts();
-- Four hours later (moved back by hand): advance.
UPDATE webhook_routing_rollouts SET step_started_at = step_started_at - interval '4 hours 1 minute' WHERE id = :jobs_plan;
SELECT domain, step, percentage, verdict FROM advance_rollouts();
-- Again at once: nothing new (the hold of the new step has just begun).
SELECT domain, step, percentage, verdict FROM advance_rollouts();
UPDATE webhook_routing_rollouts SET hold = '0 seconds' WHERE id = :jobs_plan;

-- At 25% unified's p95 is 3.5 s, critical: back to 5%, and the plan pauses.
TRUNCATE webhook_routing_logs;
SELECT * FROM traffic('jobs', 800, unified_ms => 3500);
SELECT domain, step, percentage, verdict, detail -> 'checks' -> 'unified.p95_latency' ->> 'verdict' AS p95
FROM advance_rollouts();
SELECT domain, step, percentage, verdict FROM advance_rollouts();
SELECT * FROM plans;

-- Fixed: resume; 25% and 100% healthy; the plan completes.
SELECT resume_rollout('jobs', 'p95 fixed') > 1 AS appended;
TRUNCATE webhook_routing_logs;
SELECT * FROM logged('jobs', 2500, 47500);
SELECT domain, step, percentage, verdict FROM advance_rollouts();
TRUNCATE webhook_routing_logs;
SELECT * FROM logged('jobs', 2500, 7500);
SELECT domain, step, percentage, verdict FROM advance_rollouts();
-- At 100% there is no legacy to compare with: the absolute bars are the gates.
TRUNCATE webhook_routing_logs;
SELECT * FROM traffic('jobs', 300);
SELECT domain, step, percentage, verdict, detail -> 'gates' AS gates, detail -> 'pending' AS pending FROM advance_rollouts();
SELECT * FROM logged('jobs', 3000, 0);
SELECT domain, step, percentage, verdict, detail -> 'gates' AS gates FROM advance_rollouts();
SELECT * FROM plans;

-- marketplace: unified's error rate over the critical bar (2% > 0.5%): straight to 0%, ended.
SELECT start_rollout('marketplace', '{10,50,100}', '0 seconds') AS market_plan \gset
TRUNCATE webhook_routing_logs;
SELECT * FROM logged('marketplace', 1000, 9000, unified_errors => 20);
SELECT domain, step, percentage, verdict, detail -> 'checks' -> 'unified.error_rate' ->> 'value' AS error_pct,
       detail -> 'checks' -> 'unified.error_rate' ->> 'verdict' AS verdict,
       detail -> 'checks' -> 'unified.error_rate' ->> 'confidence' AS confidence
FROM advance_rollouts();

-- property: the caller reports only a quarter of unified's outcomes. Health sees the sample
-- ratio off (critical) and holds; it neither advances nor rolls back.
SELECT start_rollout('property', '{50,100}', '0 seconds') AS property_plan \gset
TRUNCATE webhook_routing_logs;
SELECT * FROM traffic('property', 2000, report_unified => 0.25);
SELECT check_name, status, recommendation FROM check_routing_health()
WHERE domain = 'property' AND routed_to = 'unified' ORDER BY 1;
SELECT domain, step, percentage, verdict FROM advance_rollouts();

-- Two callers at once: the plan the first is working on is skipped by the second.
CREATE EXTENSION dblink;
SELECT dblink_connect('other', format('dbname=%s host=%s port=%s user=%s', current_database(),
    split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'), current_user));
BEGIN;
SELECT domain, verdict FROM advance_rollouts();
SELECT * FROM dblink('other', 'SELECT domain, verdict FROM advance_rollouts()') AS t(domain text, verdict text);
COMMIT;
SELECT dblink_disconnect('other');
DROP EXTENSION dblink;

-- The operators' functions.
SELECT pause_rollout('property', 'investigating the sample ratio') > 1 AS appended;
SELECT t.state, t.message FROM try($$SELECT pause_rollout('property')$$) AS t;
SELECT domain, verdict FROM advance_rollouts();
SELECT resume_rollout('property') > 1 AS appended;
SELECT rollback_routing('property', 'zero') > 1 AS appended;
SELECT start_rollout('property', '{10,20}', '1 hour') AS property_plan \gset
SELECT abort_rollout('property', 'wrong plan') > 1 AS appended;
-- Without a plan, 'previous' is the latest earlier percentage below the current one: a
-- rollback never widens.
SELECT update_routing_percentage(20, 'by hand', 'property') > 1 AS appended;
SELECT update_routing_percentage(30, 'by hand', 'property') > 1 AS appended;
SELECT rollback_routing('property') > 1 AS appended;
SELECT rollback_routing('property') > 1 AS appended;
SELECT t.state, t.message, t.hint FROM try($$SELECT rollback_routing('property')$$) AS t;
SELECT update_routing_percentage(30, 'by hand', 'property') > 1 AS appended;

SELECT rollback_routing('property', 'zero') > 1 AS appended;

-- An operator's step back inside a plan pauses it one step lower; a critical p95 at the first
-- step has no step below: 0%, ended.
SELECT start_rollout('property', '{10,40,80}', '0 seconds') AS property_plan \gset
SELECT t.state, t.message FROM try($$SELECT resume_rollout('property')$$) AS t;
TRUNCATE webhook_routing_logs;
SELECT * FROM logged('property', 2500, 22500);
SELECT domain, step, percentage, verdict FROM advance_rollouts();
SELECT rollback_routing('property') > 1 AS appended;
SELECT step, state FROM webhook_routing_rollouts WHERE id = :property_plan;
SELECT resume_rollout('property') > 1 AS appended;
TRUNCATE webhook_routing_logs;
SELECT * FROM traffic('property', 1500, unified_ms => 4000);
SELECT domain, step, percentage, verdict FROM advance_rollouts();

SELECT * FROM plans;
SELECT rollout_id, action, percentage, transition, "from", "to" FROM transitions;
-- The reason says how long the step was held, which depends on the machine's speed: it is
-- masked here, and checked against the detail, which holds the same time.
SELECT action, regexp_replace(reason, ' after [^(]+ \(', ' after <held> (') AS reason,
       CASE WHEN detail ? 'held'
            THEN (detail->>'held')::interval >= interval '0'
             AND strpos(reason, ' after ' || date_trunc('second', (detail->>'held')::interval)::text || ' (') > 0
       END AS held_as_in_detail
FROM webhook_routing_config WHERE rollout_id = :market_plan ORDER BY id;

-- What a fail does, per check. In dry run, marketplace's latency checks fail and only say what
-- they would have done; the gates that count pass, and the plan advances.
SELECT start_rollout('marketplace', '{10,50}', '0 seconds') AS market_plan2 \gset
INSERT INTO webhook_routing_thresholds (domain, check_name, warning, critical, dry_run) VALUES
    ('marketplace', 'p95_latency', 2000, 3000, true), ('marketplace', 'p95_vs_legacy', 1.25, 1.5, true);
TRUNCATE webhook_routing_logs;
SELECT * FROM logged('marketplace', 2500, 22500, unified_ms => 4000);
SELECT check_name, verdict, status, recommendation, action FROM check_routing_health()
WHERE domain = 'marketplace' AND routed_to = 'unified' AND check_name LIKE 'p95%' ORDER BY 1;
-- A plan's health (webhook_routing_health, which advance_rollouts reads for the plan's domain
-- alone) is that domain's rows of check_routing_health, row for row, whichever the domain.
SELECT d AS domain,
       (SELECT count(*) FROM check_routing_health('1 hour') AS h WHERE h.domain = d) AS checks,
       NOT EXISTS (SELECT * FROM check_routing_health('1 hour') AS h WHERE h.domain = d
                   EXCEPT ALL SELECT * FROM webhook_routing_health('1 hour', d))
       AND NOT EXISTS (SELECT * FROM webhook_routing_health('1 hour', d)
                       EXCEPT ALL SELECT * FROM check_routing_health('1 hour') AS h WHERE h.domain = d) AS same_rows
FROM unnest(ARRAY['jobs', 'marketplace', 'property']) AS d ORDER BY 1;
SELECT domain, step, percentage, verdict, detail -> 'dry_run' AS dry_run FROM advance_rollouts();
-- Acting for real with action hold: the plan holds at 50%; with warn, it is reported and the
-- plan completes.
UPDATE webhook_routing_thresholds SET dry_run = false, action = 'hold' WHERE domain = 'marketplace';
TRUNCATE webhook_routing_logs;
SELECT * FROM logged('marketplace', 12500, 12500, unified_ms => 4000);
SELECT domain, step, percentage, verdict FROM advance_rollouts();
UPDATE webhook_routing_thresholds SET action = 'warn' WHERE domain = 'marketplace';
SELECT domain, step, percentage, verdict, detail -> 'checks' -> 'unified.p95_latency' ->> 'action' AS p95_action FROM advance_rollouts();
DELETE FROM webhook_routing_thresholds WHERE domain = 'marketplace';
-- The migration report shows, per step, the checks the plan's transition saw: from the 50%
-- step on (whether the seconds-long 10% step before it is shown depends on where a minute
-- begins, which a test cannot choose).
SELECT regexp_replace(line, '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d', '<time>', 'g') AS line
FROM regexp_split_to_table(routing_report('marketplace', (SELECT created_at FROM webhook_routing_config
                                                          WHERE rollout_id = :market_plan2 AND action = 'rollout_advance')), E'\n') AS line
WHERE line ~ '^(Step|  check|  Decision)';

-- Too little traffic for a verdict past the max hold: inconclusive, holding, with why.
SELECT start_rollout('property', '{10,20}', '0 seconds', max_hold => '1 hour') AS property_plan \gset
TRUNCATE webhook_routing_logs;
SELECT * FROM traffic('property', 200);
SELECT domain, step, percentage, verdict FROM advance_rollouts();
UPDATE webhook_routing_rollouts SET step_started_at = step_started_at - interval '2 hours' WHERE id = :property_plan;
SET client_min_messages = warning;
SELECT domain, step, percentage, verdict, regexp_replace(detail ->> 'reason', 'after .*? \(max hold', 'after <held> (max hold') AS reason
FROM advance_rollouts();
RESET client_min_messages;
SELECT domain, rollout_state, step, last_verdict, regexp_replace(verdict_reason, 'after .*? \(max hold', 'after <held> (max hold') AS verdict_reason,
       checks
FROM routing_status WHERE domain = 'property';
-- The evidence comes: it advances.
SELECT * FROM logged('property', 2500, 22500);
SELECT domain, step, percentage, verdict FROM advance_rollouts();
SELECT abort_rollout('property', 'test over') > 1 AS appended;

-- Steps are read by position, whatever bounds the array was written with.
SELECT start_rollout('property', '[0:1]={5,10}', '1 hour') > 1 AS started;
SELECT steps, step FROM webhook_routing_rollouts WHERE domain = 'property' AND state = 'active';
SELECT abort_rollout('property', 'bounds test') > 1 AS appended;

-- What an operator reads first.
SELECT domain, kind, routing, percentage, rollout_state, step, steps, last_verdict FROM routing_status ORDER BY domain;

DROP VIEW plans, transitions;
DROP FUNCTION traffic, try;
DROP EXTENSION webhook_routing;
