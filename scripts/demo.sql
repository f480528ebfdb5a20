-- The demo: a rollout at 10% then 25%, with simulated WhatsApp traffic from the fixtures.
-- Run by scripts/demo against a throwaway cluster.
\set ON_ERROR_STOP 1
\pset footer off
SET client_min_messages = notice;

\set text_jobs `cat tests/fixtures/text_jobs.json`
\set list_reply_jobs `cat tests/fixtures/list_reply_jobs.json`
\set text_property `cat tests/fixtures/text_property.json`
\set button_reply_marketplace `cat tests/fixtures/button_reply_marketplace.json`
\set image_caption_marketplace `cat tests/fixtures/image_caption_marketplace.json`
\set location_mobility `cat tests/fixtures/location_mobility.json`
\set template_button_insurance `cat tests/fixtures/template_button_insurance.json`
\set status_delivered `cat tests/fixtures/status_delivered.json`

CREATE EXTENSION webhook_routing;

-- The fixtures as a table; each simulated webhook is one of them from its own sender.
CREATE TEMP TABLE fixtures (k int PRIMARY KEY, name text, payload jsonb);
INSERT INTO fixtures VALUES
    (0, 'text_jobs', :'text_jobs'), (1, 'list_reply_jobs', :'list_reply_jobs'),
    (2, 'text_property', :'text_property'), (3, 'button_reply_marketplace', :'button_reply_marketplace'),
    (4, 'image_caption_marketplace', :'image_caption_marketplace'), (5, 'location_mobility', :'location_mobility'),
    (6, 'template_button_insurance', :'template_button_insurance'), (7, 'status_delivered', :'status_delivered');
-- And a request for the AI agents domain, made from text_jobs.
INSERT INTO fixtures
SELECT 8, 'text_ai_agents', jsonb_set(payload, '{entry,0,changes,0,value,messages,0,text,body}',
                                      '"Can your AI assistant answer my customers?"')
FROM fixtures WHERE name = 'text_jobs';

-- Send n webhooks as conversations: n/4 senders from `first` on, each an opening (a fixture, or
-- `fixture`) and three replies with no cue of their own, the way users answer the bot's menus
-- and questions: a list pick with an id the app chose, "yego" (yes), a shared location. Then
-- report each outcome the way the edge function does: legacy answers in ~600-1000 ms; unified
-- in ~650-1100 ms and fails 1 in 2000. `round` keeps message ids apart between calls.
CREATE FUNCTION pg_temp.send(first int, n int, unified_errors float8 DEFAULT 0.0005, fixture int DEFAULT NULL,
                             round int DEFAULT 0)
RETURNS TABLE (routed_to text, reason text, webhooks bigint)
LANGUAGE plpgsql AS $$
DECLARE
    g int;
    t int;
    sender text;
    body jsonb;
    d record;
BEGIN
    FOR g IN first .. first + n / 4 - 1 LOOP
        sender := '2507' || lpad(g::text, 8, '0');
        FOR t IN 0 .. 3 LOOP
            IF t = 0 THEN
                SELECT f.payload INTO body FROM fixtures AS f WHERE f.k = coalesce(fixture, g % 7);
            ELSE
                body := jsonb_build_object('entry', jsonb_build_array(jsonb_build_object('changes', jsonb_build_array(
                    jsonb_build_object('value', jsonb_build_object('messages', jsonb_build_array(
                        CASE t WHEN 1 THEN '{"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "opt_2", "title": "Option 2"}}}'::jsonb
                               WHEN 2 THEN '{"type": "text", "text": {"body": "yego"}}'::jsonb
                               ELSE '{"type": "location", "location": {"latitude": -1.95, "longitude": 30.06}}'::jsonb END)))))));
            END IF;
            body := jsonb_set(jsonb_set(body, '{entry,0,changes,0,value,messages,0,from}', to_jsonb(sender)),
                              '{entry,0,changes,0,value,messages,0,id}', to_jsonb(format('wamid.%s.%s.%s', g, round, t)));
            SELECT r.decision_id, r.routed_to AS target INTO d FROM webhook_routing.route_decision(body) AS r;
            PERFORM webhook_routing.record_routing_outcome(
                d.decision_id,
                CASE WHEN d.target = 'unified' AND random() < unified_errors THEN 'error' ELSE 'success' END,
                round((CASE d.target WHEN 'unified' THEN 650 ELSE 600 END + random() * 400)::numeric, 1),
                NULL);
        END LOOP;
    END LOOP;
    RETURN QUERY
        SELECT l.routed_to, l.reason, count(*) FROM webhook_routing.webhook_routing_logs AS l
        WHERE l.created_at = now()  -- the rows of this call: all logged in its transaction
        GROUP BY l.routed_to, l.reason ORDER BY 1, 2;
END $$;

\echo
\echo '== Installed: 0%, disabled. Operators start the rollout from psql.'
SELECT webhook_routing.set_routing_enabled(true, 'Week 6 rollout start');
SELECT webhook_routing.update_routing_percentage(10.00, '10% test rollout');
SELECT percentage, enabled, domains FROM webhook_routing.webhook_routing_config ORDER BY created_at DESC LIMIT 1;

\echo
\echo '== 8,000 webhooks at 10%: 2,000 conversations (jobs, property, marketplace; protected mobility and insurance),'
\echo '   each an opening and three replies without a cue, which follow their conversation (reason conversation)'
SELECT * FROM pg_temp.send(1, 8000);

\echo
\echo '== SELECT * FROM webhook_routing.webhook_routing_stats ORDER BY domain, routed_to;   -- last hour'
SELECT * FROM webhook_routing.webhook_routing_stats ORDER BY domain, routed_to;

\echo
\echo '== SELECT * FROM webhook_routing.check_routing_health() WHERE routed_to = ''unified'';   -- a sequential test per check:'
\echo '   pass (evidence of being under the critical bar), fail (over it, 99%), or inconclusive (not yet)'
SELECT domain, check_name, value, warning_threshold, critical_threshold, status, recommendation, samples,
       verdict, statistic, confidence, action
FROM webhook_routing.check_routing_health() WHERE routed_to = 'unified';

\echo
\echo '== Why a message goes where it goes: explain_route on a Kinyarwanda request, "I want a job driving a moto"'
SELECT step, domain, points, pattern, effect, field, matched, note
FROM webhook_routing.explain_route(jsonb_set(:'text_jobs'::jsonb, '{entry,0,changes,0,value,messages,0,text,body}',
                             '"Ndashaka akazi ko gutwara moto"'));

\echo
\echo '== Healthy: step up to 25%, then 8,000 more webhooks from new senders and the same ones. The same'
\echo '   ones are mid-conversation: a raise moves none of them, their new messages stay where they were'
SELECT webhook_routing.update_routing_percentage(25.00, '25% after a clean 10% step');
SELECT * FROM pg_temp.send(1001, 8000, round => 1);
SELECT * FROM webhook_routing.webhook_routing_stats ORDER BY domain, routed_to;
\echo '   The sample ratio counts each sender once, at the percentage it was first seen at: the raise inside'
\echo '   the hour is no alarm'
SELECT domain, check_name, value, status, recommendation, samples, verdict, statistic, confidence
FROM webhook_routing.check_routing_health() WHERE routed_to = 'unified';

\echo
\echo '== Session continuity, from the log: sessions per domain, broken (must be 0), moved deliberately, switched domain'
SELECT * FROM webhook_routing.routing_sessions();
SELECT domain, value, status, recommendation, samples
FROM webhook_routing.check_routing_health() WHERE check_name = 'session_breaks';

\echo
\echo '== A batched body: two senders (one mid-conversation on unified, one new) and a delivery status;'
\echo '   route_messages answers each, and the status by the conversation of its recipient'
SELECT position, kind, sender, domain, routed_to, reason, conversation_id IS NOT NULL AS in_conversation
FROM webhook_routing.route_messages(jsonb_build_object('entry', jsonb_build_array(jsonb_build_object('changes', jsonb_build_array(
    jsonb_build_object('value', jsonb_build_object(
        'messages', jsonb_build_array(
            jsonb_build_object('from', (SELECT '2507' || lpad(min(g)::text, 8, '0') FROM generate_series(1001, 3000) AS g
                                        WHERE webhook_routing.routing_bucket('jobs', '2507' || lpad(g::text, 8, '0')) < 1000 AND g % 7 = 0),
                               'id', 'wamid.batch.1', 'type', 'text', 'text', jsonb_build_object('body', 'Kicukiro')),
            jsonb_build_object('from', '250799000001', 'id', 'wamid.batch.2', 'type', 'text',
                               'text', jsonb_build_object('body', 'Ndashaka inzu yo gukodesha i Kimihurura'))),
        'statuses', jsonb_build_array(
            jsonb_build_object('id', 'wamid.bot.1', 'status', 'delivered', 'recipient_id', '250799000001')))))))));

\echo
\echo '== Sticky buckets over 20,000 distinct senders (dry run, log => false): unified share at 10% and 25%,'
\echo '   and senders on unified at 10% that left it at 25% (must be 0)'
CREATE TEMP TABLE senders AS
SELECT g, '2508' || lpad(g::text, 8, '0') AS sender FROM generate_series(1, 20000) AS g;
SELECT webhook_routing.update_routing_percentage(10.00, 'dry-run measurement at 10%');
CREATE TEMP TABLE at10 AS
SELECT s.g, r.routed_to FROM senders AS s,
LATERAL webhook_routing.route_decision(jsonb_set(:'text_jobs'::jsonb, '{entry,0,changes,0,value,messages,0,from}', to_jsonb(s.sender)), log => false) AS r;
SELECT webhook_routing.update_routing_percentage(25.00, 'dry-run measurement at 25%');
CREATE TEMP TABLE at25 AS
SELECT s.g, r.routed_to FROM senders AS s,
LATERAL webhook_routing.route_decision(jsonb_set(:'text_jobs'::jsonb, '{entry,0,changes,0,value,messages,0,from}', to_jsonb(s.sender)), log => false) AS r;
SELECT round(100.0 * count(*) FILTER (WHERE at10.routed_to = 'unified') / count(*), 2) AS unified_pct_at_10,
       round(100.0 * count(*) FILTER (WHERE at25.routed_to = 'unified') / count(*), 2) AS unified_pct_at_25,
       count(*) FILTER (WHERE at10.routed_to = 'unified' AND at25.routed_to <> 'unified') AS changed_target
FROM at10 JOIN at25 USING (g);

\echo
\echo '== Emergency: the kill switch takes effect on the next call'
SELECT webhook_routing.set_routing_enabled(false, 'Emergency rollback');
SELECT domain, routed_to, reason FROM webhook_routing.route_decision(:'text_jobs', log => false);

\echo
\echo '== A staged rollout that moves by itself. pg_cron would run webhook_routing.advance_rollouts() every minute:'
\echo '   SELECT cron.schedule(''webhook-routing'', ''* * * * *'', ''SELECT webhook_routing.advance_rollouts()'');'
\echo '   here it is called by hand, and the holds are 0 seconds instead of hours.'
\echo '   AI agents go first, as in the migration plan; their unified handler is healthy at first.'
SELECT webhook_routing.set_routing_enabled(true, 'rollouts resume');
SELECT webhook_routing.set_routing_domains(ARRAY['jobs', 'marketplace', 'property', 'ai_agents'], 'AI agents join');
SELECT webhook_routing.start_rollout('ai_agents', '{25,50,100}', '0 seconds', 'AI agents: compressed demo plan');
\echo '   A step advances on evidence, not on a clock: after 1,000 webhooks the gates are not sure yet (wait)'
SELECT * FROM pg_temp.send(30001, 1000, unified_errors => 0, fixture => 8);
SELECT rollout_id, domain, step, percentage, verdict, reason
FROM webhook_routing.advance_rollouts();
\echo '   after 8,000 more, unified is shown as good as legacy: both gates pass, and the plan advances'
SELECT * FROM pg_temp.send(31001, 8000, unified_errors => 0, fixture => 8);
SELECT rollout_id, domain, step, percentage, verdict,
       detail -> 'checks' -> 'unified.error_rate_vs_legacy' AS unified_error_rate_vs_legacy
FROM webhook_routing.advance_rollouts();
\echo
\echo '== At 50% the unified handler starts failing 1 request in 10; the next run rolls ai_agents back to 0%'
\echo '   (the checks count whole minutes: the step began inside the minute of the 25% traffic, whose'
\echo '   clean requests count too, so the error rate shows about 1.5%, not 10%; the verdict is the same)'
SELECT * FROM pg_temp.send(40001, 1000, unified_errors => 0.1, fixture => 8);
SELECT rollout_id, domain, step, percentage, verdict,
       detail -> 'checks' -> 'unified.error_rate' AS unified_error_rate
FROM webhook_routing.advance_rollouts();
\echo
\echo '== The rollback moves the conversations in progress at once: their next messages go to legacy, counted'
\echo '   as deliberate moves, not breaks'
SELECT * FROM pg_temp.send(40001, 1000, fixture => 8, round => 1);
SELECT * FROM webhook_routing.routing_sessions() WHERE domain = 'ai_agents';
SELECT domain, kind, routing, percentage, rollout_state, step, steps, last_verdict, health_last_hour
FROM webhook_routing.routing_status ORDER BY domain;
\echo '   The rollout at a glance: per domain, its percentage, plan, verdict, what it waits for, and'
\echo '   unified / legacy error rate, p95 and samples side by side:'
SELECT * FROM webhook_routing.routing_overview;

\echo
\echo '== The config history'
SELECT id, percentage, domain_percentages, enabled, action, reason, changed_by FROM webhook_routing.webhook_routing_config ORDER BY id;
