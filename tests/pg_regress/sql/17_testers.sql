-- Testers first: a domain's testers go to unified before the percentage applies, its denied
-- routing keys never do (deny wins); both are rows of the config history, shown by
-- routing_status, kept by conversations, and never stronger than a switch or a protected domain.
CREATE EXTENSION webhook_routing;
SELECT set_routing_enabled(true, 'testers') > 0 AS on;

CREATE FUNCTION jobs(sender text, id text, body text DEFAULT 'any job for me?') RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('entry', jsonb_build_array(jsonb_build_object('changes', jsonb_build_array(
        jsonb_build_object('value', jsonb_build_object('messages', jsonb_build_array(
            jsonb_build_object('from', sender, 'id', id, 'type', 'text', 'text', jsonb_build_object('body', body)))))))))
$$;
CREATE FUNCTION route(sender text, id text, body text DEFAULT 'any job for me?') RETURNS TABLE (routed_to text, reason text)
LANGUAGE sql AS $$ SELECT d.routed_to, d.reason FROM route_decision(jobs(sender, id, body)) AS d $$;
CREATE FUNCTION try(call text, OUT state text, OUT message text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE call;
    state := 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
END $$;

-- At 0%, two testers of jobs (written as an operator might: a plus, spaces, dashes) go to
-- unified; everyone else stays on legacy.
SELECT set_routing_testers('jobs', ARRAY['+250 788-000-001', '250788000002', '250788000002', 'qa-device-7'], 'QA team') > 0 AS appended;
SELECT testers FROM webhook_routing_config ORDER BY id DESC LIMIT 1;
SELECT * FROM route('250788000001', 'wamid.1');
SELECT * FROM route('250788000002', 'wamid.2');
SELECT * FROM route('250788000003', 'wamid.3');
-- A routing key the caller passes is matched too.
SELECT routed_to, reason FROM route_decision(jobs('250788000009', 'wamid.4'), routing_key => 'qa-device-7');

-- Denied: never unified, tester or not, even at 100%.
SELECT set_routing_denied('jobs', ARRAY['250788000002', '250788000005'], 'support accounts') > 0 AS appended;
SELECT update_routing_percentage(100, 'everyone else') > 0 AS appended;
SELECT * FROM route('250788000002', 'wamid.5');
SELECT * FROM route('250788000005', 'wamid.6');
SELECT * FROM route('250788000006', 'wamid.7');
-- A denied sender mid-conversation on unified moves at its next message, deliberately.
SELECT * FROM route('250788000007', 'wamid.8');
SELECT set_routing_denied('jobs', ARRAY['250788000002', '250788000005', '250788000007'], 'one more') > 0 AS appended;
SELECT * FROM route('250788000007', 'wamid.9', 'yes');
SELECT domain, sessions, broken, deliberate FROM routing_sessions() WHERE domain = 'jobs';

-- The switches win over testers: off, everything goes to legacy.
SELECT update_routing_percentage(0, 'back to testers only') > 0 AS appended;
SELECT set_routing_enabled(false, 'jobs paused', 'jobs') > 0 AS appended;
SELECT * FROM route('250788000001', 'wamid.10');
SELECT set_routing_enabled(true, 'jobs resumed', 'jobs') > 0 AS appended;
SELECT set_routing_enabled(false, 'kill switch') > 0 AS appended;
SELECT * FROM route('250788000001', 'wamid.11');
SELECT set_routing_enabled(true, 'on again') > 0 AS appended;

-- Testers' and denied decisions are not the split's: the sample ratio does not count them.
SELECT count(record_routing_outcome(id, 'success', 100)) AS reported FROM webhook_routing_logs WHERE reason IN ('tester', 'denied');
SELECT sum(completed) AS outcomes, sum(split_n) AS split_outcomes FROM webhook_routing_sketches;

-- What an operator reads: the lists per domain, and the history.
SELECT domain, percentage, testers, denied FROM routing_status WHERE domain IN ('jobs', 'marketplace') ORDER BY domain;
SELECT action, reason, testers, denied FROM webhook_routing_config WHERE action IN ('set_testers', 'set_denied') ORDER BY id;
-- An empty list removes it.
SELECT set_routing_denied('jobs', '{}', 'no one denied') > 0 AS appended;
SELECT denied FROM webhook_routing_config ORDER BY id DESC LIMIT 1;
-- A domain taken out of the routable ones loses its lists with it.
SELECT set_routing_domains(ARRAY['marketplace', 'property'], 'jobs out') > 0 AS appended;
SELECT testers FROM webhook_routing_config ORDER BY id DESC LIMIT 1;
SELECT set_routing_domains(ARRAY['jobs', 'marketplace', 'property'], 'jobs back') > 0 AS appended;

-- Refusals, nothing changed.
SELECT count(*) AS history_before FROM webhook_routing_config \gset
\pset format unaligned
\pset fieldsep ' | '
SELECT t.state, left(t.message, 100) AS message, t.hint FROM (VALUES
    ($$SELECT set_routing_testers(NULL, ARRAY['1'])$$),
    ($$SELECT set_routing_testers('jobs', NULL)$$),
    ($$SELECT set_routing_testers('jobs', ARRAY['1', NULL])$$),
    ($$SELECT set_routing_testers('jobs', ARRAY['  '])$$),
    ($$SELECT set_routing_testers('jobs', ARRAY[repeat('k', 201)])$$),
    ($$SELECT set_routing_testers('jobs', ARRAY(SELECT g::text FROM generate_series(1, 1001) AS g))$$),
    ($$SELECT set_routing_testers('mobility', ARRAY['1'])$$),
    ($$SELECT set_routing_denied('nosuch', ARRAY['1'])$$),
    ($$SELECT set_routing_testers('jobs', ARRAY['1'], repeat('x', 1001))$$),
    ($$INSERT INTO webhook_routing_config (testers) VALUES ('{"jobs": [1]}')$$),
    ($$INSERT INTO webhook_routing_config (denied) VALUES ('["250788000001"]')$$)
) AS c(call), LATERAL try(c.call) AS t;
\pset format aligned
SELECT count(*) - :history_before AS history_added FROM webhook_routing_config;

DROP FUNCTION route, jobs, try;
DROP EXTENSION webhook_routing;
