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
-- Healthy traffic, but the hold is not over: wait.
SELECT * FROM traffic('jobs', 3000);
SELECT domain, step, percentage, verdict, detail -> 'checks' -> 'unified.error_rate' ->> 'status' AS error_rate,
       detail -> 'checks' -> 'unified.p95_latency' ->> 'status' AS p95
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
SELECT domain, step, percentage, verdict, detail -> 'checks' -> 'unified.p95_latency' ->> 'status' AS p95
FROM advance_rollouts();
SELECT domain, step, percentage, verdict FROM advance_rollouts();
SELECT * FROM plans;

-- Fixed: resume; 25% and 100% healthy; the plan completes.
SELECT resume_rollout('jobs', 'p95 fixed') > 1 AS appended;
TRUNCATE webhook_routing_logs;
SELECT * FROM traffic('jobs', 3000);
SELECT domain, step, percentage, verdict FROM advance_rollouts();
TRUNCATE webhook_routing_logs;
SELECT * FROM traffic('jobs', 800);
SELECT domain, step, percentage, verdict FROM advance_rollouts();
TRUNCATE webhook_routing_logs;
SELECT * FROM traffic('jobs', 300);
SELECT domain, step, percentage, verdict FROM advance_rollouts();
SELECT * FROM plans;

-- marketplace: unified's error rate over the critical bar (2% > 0.5%): straight to 0%, ended.
SELECT start_rollout('marketplace', '{10,50,100}', '0 seconds') AS market_plan \gset
TRUNCATE webhook_routing_logs;
SELECT * FROM traffic('marketplace', 2000, error_every => 50);
SELECT domain, step, percentage, verdict, detail -> 'checks' -> 'unified.error_rate' ->> 'value' AS error_pct
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
SELECT * FROM traffic('property', 1500);
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

-- What an operator reads first.
SELECT domain, kind, routing, percentage, rollout_state, step, steps, last_verdict FROM routing_status ORDER BY domain;

DROP VIEW plans, transitions;
DROP FUNCTION traffic, try;
DROP EXTENSION webhook_routing;
