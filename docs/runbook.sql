--md # Runbook: migrating WhatsApp webhooks with webhook_routing
--md
--md The operator's side of a migration, as run from psql. Every command below was run by
--md `scripts/runbook` against a throwaway cluster, and the output under it is what it printed;
--md traffic comes from a simulator (the `sim` schema, defined at the end) that sends WhatsApp
--md messages through `route_decision` and reports outcomes with `record_routing_outcome`, as
--md the edge router does. Regenerate this file with `scripts/runbook`.
--md
--md ## 0. Before the first step
--md
--md Installed, the extension routes nothing: 0%, disabled. The protected domains (mobility,
--md profile, insurance) never leave their legacy handlers, whatever else is set.
--hide
\i docs/runbook_sim.sql
--end
CREATE EXTENSION webhook_routing;
SELECT * FROM webhook_routing.routing_status;
--md Who may do what: grant the roles to login roles (on Supabase: the edge functions connect as
--md `service_role`; operators as `postgres`). Retention is one daily job.
GRANT webhook_routing_caller TO service_role;
GRANT webhook_routing_admin TO postgres;
SELECT webhook_routing.prune_routing_logs('30 days');
--md
--md ## 1. Testers first, then 10%
--md The team's own numbers reach the unified handler before any user does; support numbers never do.
SELECT webhook_routing.set_routing_testers('jobs', ARRAY['250788000901', '250788000902'], 'QA team tries unified first');
SELECT webhook_routing.set_routing_denied('jobs', ARRAY['250788000999'], 'the support line stays on legacy');
SELECT webhook_routing.set_routing_enabled(true, 'Week 6 rollout start');
SELECT webhook_routing.update_routing_percentage(10.00, '10% test rollout');
SELECT percentage, enabled, domains FROM webhook_routing.webhook_routing_config ORDER BY created_at DESC LIMIT 1;
--md
--md ## 2. Watch
--md Every 15 minutes (`\watch 900` in psql): stats of the last hour, then health. Stats and
--md health read per-minute sketches, not the log rows: a few milliseconds at any volume, fresh
--md to the last committed outcome.
--hide
SELECT sim.next_minute();
SELECT sim.send('jobs', 3000), sim.send('marketplace', 2000), sim.send('property', 2000), sim.send('mobility', 500);
--end
SELECT * FROM webhook_routing.webhook_routing_stats ORDER BY domain, routed_to;
--md Every check is a sequential test against its critical bar: `pass` (evidence, at 95%, of being
--md under it), `fail` (evidence, at 99%, of being over it) or `inconclusive` (not yet). Reading it
--md every 15 minutes, or every minute, does not make a false alarm likelier.
SELECT domain, check_name, value, status, recommendation, samples, verdict, confidence
FROM webhook_routing.check_routing_health() WHERE routed_to = 'unified' ORDER BY domain, check_name;
--md Session continuity: each sender's messages of the hour, and how many sessions reached more than
--md one handler (the gate: 0.5%, the `session_breaks` check above).
SELECT * FROM webhook_routing.routing_sessions();
--md Other windows: `webhook_routing.routing_stats('4 hours')`, `webhook_routing.check_routing_health('8 hours')`.
SELECT domain, routed_to, requests, p95_ms, error_pct FROM webhook_routing.routing_stats('4 hours') WHERE domain = 'jobs';
--md
--md ## 3. 25%
--md No unified row fails, and the comparisons with legacy pass: step up. Senders already on
--md unified stay there, and a conversation in progress stays on its handler: the raise applies to
--md new conversations.
SELECT webhook_routing.update_routing_percentage(25.00, '25% after a clean 10% step');
--hide
SELECT sim.next_minute();
SELECT sim.send('jobs', 3000), sim.send('marketplace', 2000, unified_errors => 0.02), sim.send('property', 2000);
--end
SELECT domain, routed_to, requests, p95_ms, error_pct, traffic_pct FROM webhook_routing.webhook_routing_stats
WHERE domain IN ('jobs', 'marketplace', 'property') ORDER BY domain, routed_to;
SELECT domain, check_name, value, status, recommendation, samples, verdict, confidence FROM webhook_routing.check_routing_health()
WHERE routed_to = 'unified' AND status <> 'ok' ORDER BY domain, check_name;
--md
--md ## 4. High error rate: find it, step back
--md marketplace's unified handler fails 2% of requests, over the 0.5% bar: its error-rate checks
--md fail or, with fewer requests, are over the warning line and not yet conclusive. The errors first:
SELECT domain, routed_to, error_message, count(*) FROM webhook_routing.webhook_routing_logs
WHERE status = 'error' AND created_at > now() - interval '1 hour'
GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT 5;
--md Then back to 10% for marketplace only (its own percentage; the others stay at 25%):
SELECT webhook_routing.update_routing_percentage(10.00, 'Stepping back: marketplace unified errors', 'marketplace');
SELECT domain, kind, routing, percentage FROM webhook_routing.routing_status WHERE kind = 'routable';
--hide
SELECT sim.next_minute();
SELECT sim.send('marketplace', 2000, unified_errors => 0);
--end
--md
--md ## 5. Emergency: everything back to legacy
--md The kill switch applies on every session's next call, even inside open transactions.
SELECT webhook_routing.set_routing_enabled(false, 'Emergency rollback');
SELECT domain, routed_to, reason FROM webhook_routing.route_decision(sim.message('jobs', '250788000001'), log => false);
--md
--md ## 6. Troubleshooting: no traffic routed
--md The log says why each decision went where it did; here, since the last config change:
--hide
SELECT sim.send('jobs', 500);
--end
SELECT domain, reason, count(*) FROM webhook_routing.webhook_routing_logs
WHERE created_at >= (SELECT max(created_at) FROM webhook_routing.webhook_routing_config)
GROUP BY 1, 2 ORDER BY 3 DESC;
--md `routing_disabled`: the kill switch is off. Other reasons: `domain_disabled`,
--md `domain_not_routed` (not in `domains`), `not_in_rollout` (the sender's bucket is above the
--md percentage), `unknown_domain` (no rule matched), `no_user_message` (delivery statuses).
--md Is anything writing at all? `SELECT max(created_at) FROM webhook_routing.webhook_routing_logs;`
SELECT webhook_routing.set_routing_enabled(true, 'Fixed; routing back on');
--md
--md A message went to the wrong domain, or to none (`unknown_domain`): `explain_route` lists
--md every rule that matched, its field and points, each domain's score and the decision. A
--md rule is tried before it is enabled: added disabled, it counts only with
--md `include_disabled => true`.
SELECT step, domain, points, pattern, field, matched, note
FROM webhook_routing.explain_route(jsonb_set(sim.message('jobs', '250788000002'), '{entry,0,changes,0,value,messages,0,text,body}',
                             '"Mufite isombe? Ndayikeneye ejo"'));
INSERT INTO webhook_routing.webhook_routing_rules (domain, match_kind, pattern, language, enabled, note)
VALUES ('marketplace', 'keyword', 'isombe', 'rw', false, 'cassava leaves, sold at the market');
SELECT step, domain, points, pattern, enabled, note
FROM webhook_routing.explain_route(jsonb_set(sim.message('jobs', '250788000002'), '{entry,0,changes,0,value,messages,0,text,body}',
                             '"Mufite isombe? Ndayikeneye ejo"'), include_disabled => true);
UPDATE webhook_routing.webhook_routing_rules SET enabled = true WHERE pattern = 'isombe' AND NOT seeded;
--md
--md ## 7. Per-domain staged rollouts, by themselves
--md One plan per domain; pg_cron runs `webhook_routing.advance_rollouts()` every minute, which advances a step
--md once its hold is over and its gates (unified against legacy) pass, steps back (and pauses)
--md when a p95 check fails, and goes to 0% when an error-rate check fails; a step that has no
--md verdict after its max hold says `inconclusive` and holds:
--md `SELECT cron.schedule('webhook-routing', '* * * * *', 'SELECT webhook_routing.advance_rollouts()');`
--md Here the holds are 0 seconds and `webhook_routing.advance_rollouts()` is called by hand.
SELECT webhook_routing.set_routing_domains(ARRAY['jobs', 'marketplace', 'property', 'ai_agents'], 'AI agents join');
SELECT webhook_routing.start_rollout('ai_agents', '{25,50,100}', '0 seconds', 'AI agents first');
--hide
SELECT sim.send('ai_agents', 1000);
--end
--md A few hundred requests are not evidence yet: wait, and what for (`reason`; the full
--md evidence is in `detail`, which the history keeps).
SELECT rollout_id, domain, step, percentage, verdict, reason FROM webhook_routing.advance_rollouts();
--hide
SELECT sim.send('ai_agents', 8000);
--end
SELECT rollout_id, domain, step, percentage, verdict, reason FROM webhook_routing.advance_rollouts();
--hide
SELECT sim.send('ai_agents', 2000, unified_ms => 3500);
--end
SELECT rollout_id, domain, step, percentage, verdict,
       detail -> 'checks' -> 'unified.p95_latency' AS p95 FROM webhook_routing.advance_rollouts();
SELECT domain, percentage, rollout_state, step, last_verdict, checks FROM webhook_routing.routing_status WHERE domain = 'ai_agents';
--md Every domain at a glance: the percentage in force, the plan's step and state, the verdict and
--md what it waits for, and unified / legacy error rate, p95 and samples side by side.
SELECT * FROM webhook_routing.routing_overview;
--md A new bar is tried in a dry run first: it is tested and reported, with what it would have
--md done, and acts on nothing.
INSERT INTO webhook_routing.webhook_routing_thresholds (domain, check_name, warning, critical, dry_run)
VALUES ('ai_agents', 'p95_latency', 1000, 1500, true);
--md Paused one step down. After the fix, resume (the hold starts again); or end it at 0%:
SELECT webhook_routing.resume_rollout('ai_agents', 'p95 fixed in the unified handler');
SELECT webhook_routing.abort_rollout('ai_agents', 'replanning with longer holds');
--md An operator's own step back, with or without a plan: `webhook_routing.rollback_routing('jobs')` (a
--md plan's previous step; without a plan, the percentage before the domain was last raised to
--md where it is) or `webhook_routing.rollback_routing('jobs', 'zero')`. A rollback never widens:
--md marketplace, at 10% since its step back from 25%, goes to 0%, where it was before its raise
--md to 10%, not back up to 25%.
SELECT webhook_routing.rollback_routing('marketplace');
--hide
SELECT sim.next_minute();
--end
--md
--md ## 8. The migration report
--md The runbook's "actual results" for each step, from the history and the decisions logged under it:
--hide
\pset format unaligned
\pset tuples_only on
--end
SELECT webhook_routing.routing_report('marketplace', now() - interval '1 hour');
--hide
\pset format aligned
\pset tuples_only off
--end
--md
--md ## 9. The history
SELECT id, action, percentage, domain_percentages, enabled, reason, changed_by
FROM webhook_routing.webhook_routing_config ORDER BY id;
