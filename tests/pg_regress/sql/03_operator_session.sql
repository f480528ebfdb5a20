-- The operators' psql session from the runbook, against simulated traffic.
\set text_jobs `cat tests/fixtures/text_jobs.json`
\set text_property `cat tests/fixtures/text_property.json`
\set button_reply_marketplace `cat tests/fixtures/button_reply_marketplace.json`
\set location_mobility `cat tests/fixtures/location_mobility.json`

-- Re-running the setup on a database that has the objects neither fails nor loses data.
CREATE EXTENSION IF NOT EXISTS webhook_routing;

SELECT set_routing_enabled(true, 'Week 6 rollout start');
SELECT update_routing_percentage(10.00, '10% test rollout');
SELECT percentage, enabled, domains FROM webhook_routing_config ORDER BY created_at DESC LIMIT 1;

-- 4,000 webhooks from 4,000 senders: jobs, property, marketplace, and protected mobility.
CREATE TEMP TABLE traffic AS
SELECT g, r.*
FROM generate_series(1, 4000) AS g,
     LATERAL route_decision(
         jsonb_set(CASE g % 4 WHEN 0 THEN :'text_jobs'::jsonb
                              WHEN 1 THEN :'text_property'::jsonb
                              WHEN 2 THEN :'button_reply_marketplace'::jsonb
                              ELSE :'location_mobility'::jsonb END,
                   '{entry,0,changes,0,value,messages,0,from}',
                   to_jsonb('2507' || lpad(g::text, 8, '0')))) AS r;

SELECT domain, routed_to, reason, count(*) FROM traffic GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;

-- The handlers answer: legacy in 700-790 ms, unified in 800-980 ms; 1 unified request in 50 fails.
SELECT count(*) AS outcomes_recorded
FROM (SELECT record_routing_outcome(
          decision_id,
          CASE WHEN routed_to = 'unified' AND g % 50 = 0 THEN 'error' ELSE 'success' END,
          CASE routed_to WHEN 'unified' THEN 800 + (g % 10) * 20 ELSE 700 + (g % 10) * 10 END,
          CASE WHEN routed_to = 'unified' AND g % 50 = 0 THEN 'upstream timeout' END)
      FROM traffic) AS s;

SELECT * FROM webhook_routing_stats ORDER BY domain, routed_to;

SELECT * FROM check_routing_health();

-- What operators watch every 15 minutes: the traffic share per domain, the top errors.
SELECT domain,
       count(*) FILTER (WHERE routed_to = 'unified') AS unified,
       count(*) AS total,
       round(100.0 * count(*) FILTER (WHERE routed_to = 'unified') / count(*), 2) AS unified_pct
FROM webhook_routing_logs WHERE created_at > now() - interval '1 hour'
GROUP BY domain ORDER BY domain;

SELECT domain, routed_to, error_message, count(*)
FROM webhook_routing_logs
WHERE status = 'error' AND created_at > now() - interval '1 hour'
GROUP BY 1, 2, 3 ORDER BY count(*) DESC, 1, 2;

-- Step up: the senders already on unified stay there. Their next message, mid-conversation,
-- stays where the conversation is: a raise moves no conversation in progress.
SELECT update_routing_percentage(25.00, '25% after a clean hour');
CREATE TEMP VIEW next_message AS
SELECT t.g, t.routed_to,
       jsonb_set(jsonb_set(CASE t.g % 4 WHEN 0 THEN :'text_jobs'::jsonb
                                        WHEN 1 THEN :'text_property'::jsonb
                                        WHEN 2 THEN :'button_reply_marketplace'::jsonb
                                        ELSE :'location_mobility'::jsonb END,
                           '{entry,0,changes,0,value,messages,0,from}',
                           to_jsonb('2507' || lpad(t.g::text, 8, '0'))),
                 '{entry,0,changes,0,value,messages,0,id}', to_jsonb('wamid.next.' || t.g)) AS body
FROM traffic AS t;
SELECT count(*) FILTER (WHERE n.routed_to = 'unified') AS unified_at_10,
       count(*) FILTER (WHERE n.routed_to = 'unified' AND r.routed_to = 'unified') AS still_unified_at_25,
       count(*) FILTER (WHERE r.routed_to = 'unified') AS unified_at_25
FROM next_message AS n, LATERAL route_decision(n.body, log => false) AS r;
-- Conversations over (here after 1 second without a message), new ones take the 25%.
SET webhook_routing.conversation_timeout = 1;
SELECT pg_sleep(1.2);
SELECT count(*) FILTER (WHERE n.routed_to = 'unified') AS unified_at_10,
       count(*) FILTER (WHERE n.routed_to = 'unified' AND r.routed_to = 'unified') AS still_unified_at_25,
       count(*) FILTER (WHERE r.routed_to = 'unified') AS unified_at_25
FROM next_message AS n, LATERAL route_decision(n.body, log => false) AS r;
RESET webhook_routing.conversation_timeout;

-- Emergency: the kill switch applies to the next call.
SELECT set_routing_enabled(false, 'Emergency rollback');
SELECT routed_to, reason FROM route_decision(:'text_jobs', log => false);

-- Gradual rollback instead.
SELECT set_routing_enabled(true, 'Resume after fix');
SELECT update_routing_percentage(5.00, 'Stepping back');

-- Per-domain rollouts: jobs ahead, property held.
SELECT update_routing_percentage(50, 'jobs ahead of the others', 'jobs');
SELECT set_routing_enabled(false, 'hold property while its handler is fixed', 'property');
SELECT routed_to, reason, percentage FROM route_decision(:'text_property', log => false);
SELECT set_routing_domains(ARRAY['jobs', 'marketplace', 'property', 'ai_agents'], 'AI agents join the rollout');
SELECT update_routing_percentage(5, 'AI agents first step', 'ai_agents');

-- Refusals: each says why and what to do, and leaves the history as it was.
SELECT count(*) AS history_rows FROM webhook_routing_config;
SELECT update_routing_percentage(150, 'too far');
SELECT update_routing_percentage('NaN', 'not a number');
SELECT update_routing_percentage(12.345, 'too precise');
SELECT update_routing_percentage(NULL);
SELECT update_routing_percentage(10, 'never', 'mobility');
SELECT update_routing_percentage(10, 'typo', 'jobz');
SELECT set_routing_enabled(true, 'never', 'insurance');
SELECT set_routing_domains(ARRAY['jobs', 'profile']);
SELECT record_routing_outcome(1, 'maybe', 10);
SELECT record_routing_outcome(1, 'success', -3);
SELECT record_routing_outcome(999999, 'success', 10);
SELECT record_routing_outcome(1, 'success', 10);
SELECT count(*) AS history_rows FROM webhook_routing_config;

-- The history: who changed what, and why.
SELECT id, percentage, enabled, domains, domain_percentages, domain_enabled, action, reason,
       changed_by = current_user AS by_me
FROM webhook_routing_config ORDER BY id;

-- The runbook's check of the row in force.
SELECT percentage, enabled, domains FROM webhook_routing_config ORDER BY created_at DESC LIMIT 1;
