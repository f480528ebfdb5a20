-- Operators' edits that would leave a rollout unable to end, or without the gates it is judged
-- by, fail safe: refused, or the plan holds, and no plan's trouble stops the others.
CREATE EXTENSION webhook_routing;
SELECT set_routing_enabled(true, 'fail safe') > 1 AS appended;
SELECT set_routing_domains(ARRAY['jobs', 'marketplace', 'property', 'ai_agents']) > 1 AS appended;
UPDATE webhook_routing_thresholds SET min_samples = 20;

CREATE FUNCTION try(call text, OUT state text, OUT message text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE call;
    state := 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
END $$;

-- n outcomes of a domain, as logged by hand, within the current minute; every error_every-th
-- unified one fails.
CREATE FUNCTION traffic(dom text, n int, error_every int DEFAULT 0) RETURNS bigint LANGUAGE sql AS $$
    WITH rows AS (
        INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms)
        SELECT 'whatsapp', dom, CASE WHEN i % 2 = 0 THEN 'unified' ELSE 'legacy' END,
               CASE WHEN i % 2 = 0 AND error_every > 0 AND (i / 2) % error_every = 0 THEN 'error' ELSE 'success' END,
               300 + i % 40
        FROM generate_series(1, n) AS i
        RETURNING 1)
    SELECT count(*) FROM rows
$$;

-- A domain with a plan in progress cannot be taken out of the routable domains: the plan could
-- then neither advance nor roll back. Ended, it can.
SELECT start_rollout('ai_agents', '{5,50,100}', '0 seconds') AS ai_plan \gset
SELECT t.state, t.message, t.hint FROM try($$SELECT set_routing_domains(ARRAY['jobs', 'marketplace', 'property'])$$) AS t;
SELECT domains FROM webhook_routing_config ORDER BY id DESC LIMIT 1;
SELECT abort_rollout('ai_agents', 'done with it') > 1 AS appended;
SELECT set_routing_domains(ARRAY['jobs', 'marketplace', 'property'], 'ai_agents leaves') > 1 AS appended;
-- Its own percentage went with it: added back, it follows the global percentage (0%).
SELECT domain_percentages FROM webhook_routing_config ORDER BY id DESC LIMIT 1;
SELECT set_routing_domains(ARRAY['jobs', 'marketplace', 'property', 'ai_agents'], 'ai_agents back') > 1 AS appended;
SELECT domain, percentage FROM routing_status WHERE domain = 'ai_agents';

-- A plan whose domain was made unroutable behind the functions' back (a config row written by
-- its owner) is reported as an error and left as it was; the other plans go on: one rolls back.
SELECT start_rollout('marketplace', '{10,50}', '0 seconds') AS market_plan \gset
SELECT start_rollout('property', '{10,50}', '0 seconds') AS property_plan \gset
INSERT INTO webhook_routing_config (percentage, enabled, domains, domain_percentages, action, reason)
SELECT percentage, enabled, ARRAY['jobs', 'property', 'ai_agents'], domain_percentages, 'manual', 'marketplace removed by hand'
FROM webhook_routing_config ORDER BY id DESC LIMIT 1;
SELECT traffic('marketplace', 6000) AS logged, traffic('property', 100, 4) AS logged;
SELECT domain, step, verdict, detail ->> 'transition' AS transition,
       detail ->> 'sqlstate' AS sqlstate, detail ->> 'error' AS error
FROM advance_rollouts() ORDER BY domain;
SELECT domain, state, last_verdict FROM webhook_routing_rollouts
WHERE id IN (:market_plan, :property_plan) ORDER BY id;
-- It can still be ended: 0% is recorded whatever became of the domain.
SELECT abort_rollout('marketplace', 'its domain is gone') > 1 AS appended;
SELECT domain, state FROM webhook_routing_rollouts WHERE id = :market_plan;
SELECT set_routing_domains(ARRAY['jobs', 'marketplace', 'property', 'ai_agents'], 'marketplace back') > 1 AS appended;

-- Without its error_rate threshold (deleted by the owner with the guard off), a plan whose
-- unified handler fails one request in two holds; it does not advance on the other gates.
TRUNCATE webhook_routing_logs;
ALTER TABLE webhook_routing_thresholds DISABLE TRIGGER webhook_routing_thresholds_keep_defaults;
DELETE FROM webhook_routing_thresholds WHERE check_name IN ('error_rate', 'error_rate_vs_legacy');
ALTER TABLE webhook_routing_thresholds ENABLE TRIGGER webhook_routing_thresholds_keep_defaults;
SELECT start_rollout('jobs', '{10,50}', '0 seconds') AS jobs_plan \gset
SELECT traffic('jobs', 200, 2) AS logged;
SELECT domain, step, verdict, detail -> 'missing_thresholds' AS missing FROM advance_rollouts();
SELECT step, state, last_verdict FROM webhook_routing_rollouts WHERE id = :jobs_plan;
INSERT INTO webhook_routing_thresholds (domain, check_name, warning, critical, min_samples) VALUES
    (NULL, 'error_rate', 0.1, 0.5, 20), (NULL, 'error_rate_vs_legacy', 0.1, 0.5, 20);
SELECT domain, step, verdict FROM advance_rollouts();

DROP FUNCTION traffic, try;
DROP EXTENSION webhook_routing;
