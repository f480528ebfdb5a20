-- Conversations (src/route/history.rs): a follow-up without a cue of its own stays with its
-- conversation's domain and handler; a request for another domain opens a new conversation; a
-- raise moves no conversation, a decrease and the kill switch move it at once (deliberate
-- breaks); a protected conversation never reaches unified; re-deliveries get their first
-- decision back; route_messages answers every message and status of a batched body;
-- routing_sessions and the session_breaks check read it all back from the session counts
-- written as the decisions were logged.
CREATE EXTENSION webhook_routing;
SELECT set_routing_enabled(true, 'conversations') > 0 AS on;
SELECT set_routing_domains(ARRAY['jobs', 'marketplace', 'property', 'ai_agents'], 'conversations') > 0 AS set;
SELECT update_routing_percentage(100, 'conversations') > 0 AS at_100;

-- A message of each kind a user sends, from `sender`, with id `id`.
CREATE FUNCTION msg(sender text, id text, kind text, content jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE sql AS $$
    SELECT jsonb_build_object('entry', jsonb_build_array(jsonb_build_object('changes', jsonb_build_array(
        jsonb_build_object('value', jsonb_build_object('messages', jsonb_build_array(
            jsonb_build_object('from', sender, 'id', id, 'type', kind) || content)))))))
$$;
CREATE FUNCTION txt(sender text, id text, body text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT msg(sender, id, 'text', jsonb_build_object('text', jsonb_build_object('body', body)))
$$;
CREATE FUNCTION pick(sender text, id text, reply_id text, title text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT msg(sender, id, 'interactive', jsonb_build_object('interactive', jsonb_build_object(
        'type', 'list_reply', 'list_reply', jsonb_build_object('id', reply_id, 'title', title))))
$$;
-- Route, and say how the decision relates to the sender's conversation.
CREATE TEMP TABLE routed (n serial, label text, decision_id bigint, domain text, routed_to text, reason text);
CREATE FUNCTION send(label text, body jsonb) RETURNS void LANGUAGE sql AS $$
    INSERT INTO routed (label, decision_id, domain, routed_to, reason)
    SELECT label, d.decision_id, d.domain, d.routed_to, d.reason FROM route_decision(body) AS d
$$;
CREATE VIEW turns AS
SELECT r.n, r.label, r.domain, r.routed_to, r.reason,
       CASE WHEN l.conversation_id IS NULL THEN '-'
            WHEN l.conversation_id = l.id THEN 'opens'
            ELSE 'continues ' || (SELECT o.label FROM routed AS o WHERE o.decision_id = l.conversation_id) END AS conversation
FROM routed AS r LEFT JOIN webhook_routing_logs AS l ON l.id = r.decision_id
ORDER BY r.n;

-- One job seeker: an opening, then every kind of follow-up, none with a cue of its own; a
-- shared location (a weak cue for mobility) and a list pick with an id the app chose too.
SELECT send('opening', txt('250788100001', 'wamid.1', 'Ndashaka akazi ko gutwara imodoka'));
SELECT send('list pick', pick('250788100001', 'wamid.2', 'opt_2', 'Kicukiro'));
SELECT send('yes', txt('250788100001', 'wamid.3', 'yego'));
SELECT send('location', msg('250788100001', 'wamid.4', 'location', '{"location": {"latitude": -1.95, "longitude": 30.06}}'));
SELECT send('CV', msg('250788100001', 'wamid.5', 'document', '{"document": {"id": "m1", "filename": "CV_Eric.pdf"}}'));
SELECT send('voice note', msg('250788100001', 'wamid.6', 'audio', '{"audio": {"id": "m2", "voice": true}}'));
SELECT send('photo', msg('250788100001', 'wamid.7', 'image', '{"image": {"id": "m3"}}'));
SELECT send('thumbs up', msg('250788100001', 'wamid.8', 'reaction', '{"reaction": {"message_id": "wamid.bot", "emoji": "👍"}}'));
-- A word of another domain in an answer is no request; a request is.
SELECT send('a bare answer', txt('250788100001', 'wamid.9', 'taxi'));
SELECT send('a request', txt('250788100001', 'wamid.10', 'also I want to buy a fridge'));
SELECT send('its answer', txt('250788100001', 'wamid.11', '50000'));
SELECT label, domain, routed_to, reason, conversation FROM turns;

-- A protected conversation: its replies stay protected, and a request for a routable domain
-- from it opens a conversation that stays on legacy.
TRUNCATE routed;
SELECT send('insurance', txt('250788100002', 'wamid.20', 'I need insurance for my motorbike'));
SELECT send('plate', txt('250788100002', 'wamid.21', 'RAD 123 B'));
SELECT send('a job', txt('250788100002', 'wamid.22', 'I am looking for a job as a driver too'));
SELECT send('its reply', pick('250788100002', 'wamid.23', 'row_1', 'Gasabo'));
SELECT label, domain, routed_to, reason, conversation FROM turns;

-- A raise moves no conversation: opened at 0% on legacy, it stays there; a new sender takes
-- the new percentage.
TRUNCATE routed;
SELECT update_routing_percentage(0, 'conversations: back to 0') > 0 AS at_0;
SELECT send('opened at 0%', txt('250788100003', 'wamid.30', 'I want to buy a used car'));
SELECT update_routing_percentage(100, 'conversations: raise') > 0 AS at_100;
SELECT send('after the raise', txt('250788100003', 'wamid.31', 'Toyota please'));
SELECT send('a new sender', txt('250788100004', 'wamid.40', 'I want to buy a used car'));
-- A decrease, a domain switched off and the kill switch move it at once, with their reason.
SELECT update_routing_percentage(0, 'conversations: decrease') > 0 AS at_0;
SELECT send('after the decrease', txt('250788100004', 'wamid.41', 'a Toyota'));
SELECT update_routing_percentage(100, 'conversations: raise again') > 0 AS at_100;
SELECT send('still legacy', txt('250788100004', 'wamid.42', 'with 4 doors'));
SELECT send('another sender', txt('250788100005', 'wamid.50', 'I want to rent a house in Kimihurura'));
SELECT set_routing_enabled(false, 'conversations: kill switch') > 0 AS off;
SELECT send('after the kill switch', txt('250788100005', 'wamid.51', '3 bedrooms'));
SELECT set_routing_enabled(true, 'conversations: back on') > 0 AS on;
SELECT label, domain, routed_to, reason, conversation FROM turns;

-- Re-deliveries: the first decision again, no second row; the row counts them. The outcome
-- of a re-delivery completes a decision still pending, and leaves one that has its outcome.
TRUNCATE routed;
SELECT send('first delivery', txt('250788100006', 'wamid.60', 'I want a job'));
SELECT send('re-delivered', txt('250788100006', 'wamid.60', 'I want a job'));
SELECT r.label, r.reason, r.decision_id = f.decision_id AS same_decision
FROM routed AS r, routed AS f WHERE f.label = 'first delivery' ORDER BY r.n;
SELECT count(*) AS rows, max(retries) AS retries FROM webhook_routing_logs WHERE message_id = routing_message_key('wamid.60');
SELECT record_routing_outcome(decision_id, 'error', 30000, 'timeout') FROM routed WHERE label = 'first delivery';
SELECT record_routing_outcome(decision_id, 'success', 120) FROM routed WHERE label = 're-delivered';
SELECT status, response_time_ms, error_message FROM webhook_routing_logs WHERE message_id = routing_message_key('wamid.60');
-- A re-delivery the settings would now move (here: the kill switch, pulled after the first
-- delivery went to unified) is decided again, in its conversation, and logged.
TRUNCATE routed;
SELECT send('first delivery', txt('250788100012', 'wamid.120', 'I want a job'));
SELECT set_routing_enabled(false, 'conversations: kill switch') > 0 AS off;
SELECT send('re-delivered', txt('250788100012', 'wamid.120', 'I want a job'));
SELECT set_routing_enabled(true, 'conversations: back on') > 0 AS on;
SELECT label, domain, routed_to, reason, conversation FROM turns;
SELECT count(*) AS rows FROM webhook_routing_logs WHERE message_id = routing_message_key('wamid.120');
-- A decision never re-delivered still takes one outcome.
SELECT send('once', txt('250788100007', 'wamid.70', 'I want a job'));
SELECT record_routing_outcome(decision_id, 'success', 100) FROM routed WHERE label = 'once';
SELECT record_routing_outcome(decision_id, 'success', 100) FROM routed WHERE label = 'once';

-- A batched body: two senders' messages and statuses. Each message is decided for its own
-- sender; a status follows its recipient's conversation.
SELECT position, kind, message_id, sender, domain, routed_to, reason,
       decision_id IS NOT NULL AS logged, conversation_id IS NOT NULL AS in_conversation, retry
FROM route_messages('{"entry": [{"changes": [{"value": {
    "contacts": [{"wa_id": "250788100008"}, {"wa_id": "250788100009"}],
    "messages": [
        {"from": "250788100008", "id": "wamid.80", "type": "text", "text": {"body": "Ndashaka inzu yo gukodesha"}},
        {"from": "250788100009", "id": "wamid.90", "type": "text", "text": {"body": "je veux vendre mon téléphone"}},
        {"from": "250788100008", "id": "wamid.81", "type": "text", "text": {"body": "Kacyiru"}},
        {"from": "250788100008", "id": "wamid.80", "type": "text", "text": {"body": "Ndashaka inzu yo gukodesha"}}],
    "statuses": [
        {"id": "wamid.bot.1", "recipient_id": "250788100009", "status": "delivered"},
        {"id": "wamid.bot.2", "recipient_id": "250788100999", "status": "failed"}]}}]}]}');
-- Dry runs (log => false) keep a body's conversations too.
SELECT position, domain, routed_to, reason, decision_id
FROM route_messages('{"entry": [{"changes": [{"value": {"messages": [
        {"from": "250788100010", "id": "wamid.100", "type": "text", "text": {"body": "nataka kazi"}},
        {"from": "250788100010", "id": "wamid.101", "type": "text", "text": {"body": "ndio"}}]}}]}]}', log => false);
-- A body that is not a webhook, or has nothing in it, is answered by one row.
SELECT position, kind, routed_to, reason FROM route_messages('[1, 2]', log => false);
SELECT position, kind, routed_to, reason FROM route_messages('{"entry": []}', log => false);

-- What the log says: sessions per domain, the deliberate moves apart, and the check.
SELECT domain, sessions, broken, deliberate, switched, broken_pct FROM routing_sessions();
UPDATE webhook_routing_thresholds SET min_samples = 1 WHERE check_name = 'session_breaks';
SELECT domain, value, status, recommendation, samples
FROM check_routing_health() WHERE check_name = 'session_breaks';
-- A message that left its conversation's handler without a reason that would explain it is a
-- break: here one whose id is too long to keep (legacy, no domain), in a conversation on
-- unified. It is counted when it is logged.
TRUNCATE routed;
SELECT send('opening', txt('250788100013', 'wamid.130', 'I want a job'));
SELECT send('an odd id', txt('250788100013', 'wamid.' || repeat('z', 300), 'yes'));
SELECT label, domain, routed_to, reason, conversation FROM turns;
SELECT domain, sessions, broken, broken_pct FROM routing_sessions() WHERE domain = 'jobs';
-- One session of four: not yet evidence that more than 0.25% (the warning line) break, or 0.5%.
SELECT domain, value, status, recommendation, verdict FROM check_routing_health() WHERE check_name = 'session_breaks' AND domain = 'jobs';
SELECT domain, session_breaks_last_hour FROM routing_status WHERE domain IN ('jobs', 'property');

-- Idle: past webhook_routing.conversation_timeout (here 1 second) the conversation is over. (Last:
-- routing_sessions, reading with the default 30 minutes, would see one session broken by it.)
TRUNCATE routed;
SET webhook_routing.conversation_timeout = 1;
SELECT pg_sleep(1.2);
SELECT send('after a silence', txt('250788100001', 'wamid.12', 'yego'));
RESET webhook_routing.conversation_timeout;
SELECT label, domain, routed_to, reason, conversation FROM turns;

-- No phone number in the log: the sender is a keyed hash, and the key is the owner's alone.
SELECT count(*) FILTER (WHERE sender_key::text LIKE '%250788%') AS clear_numbers,
       count(DISTINCT sender_key) AS senders
FROM webhook_routing_logs WHERE sender_key IS NOT NULL;
CREATE ROLE wr_conv_reader IN ROLE webhook_routing_reader;
CREATE ROLE wr_conv_edge IN ROLE webhook_routing_caller;
SET ROLE wr_conv_reader;
SELECT key FROM webhook_routing_secret;
RESET ROLE;
-- A caller logs a request by hand, but never a sender's key, conversation or session: its
-- rows are in no session, and the session counts stay as they were.
SELECT sum(sessions) AS sessions, sum(broken) AS broken, sum(deliberate) AS deliberate, sum(switched) AS switched
FROM webhook_routing_session_minutes;
SET ROLE wr_conv_edge;
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, sender_key)
VALUES ('whatsapp', 'jobs', 'legacy', 'success', 42);
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, conversation_id)
VALUES ('whatsapp', 'jobs', 'legacy', 'success', 42);
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, session_broken_at)
VALUES ('whatsapp', 'jobs', 'legacy', 'success', now());
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, reason)
VALUES ('whatsapp', 'jobs', 'unified', 'pending', 'conversation'), ('whatsapp', 'jobs', 'legacy', 'success', 'protected_domain');
RESET ROLE;
SELECT sum(sessions) AS sessions, sum(broken) AS broken, sum(deliberate) AS deliberate, sum(switched) AS switched
FROM webhook_routing_session_minutes;
-- A role given the whole table, and row level security's bypass, is refused them too.
CREATE ROLE wr_conv_all BYPASSRLS;
GRANT USAGE ON SCHEMA webhook_routing TO wr_conv_all;
GRANT ALL ON webhook_routing_logs TO wr_conv_all;
GRANT USAGE ON SEQUENCE webhook_routing_logs_id_seq TO wr_conv_all;
SET ROLE wr_conv_all;
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, sender_key)
VALUES ('whatsapp', 'jobs', 'legacy', 'success', 42);
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, session_domain)
VALUES ('whatsapp', 'jobs', 'legacy', 'success', 'jobs');
UPDATE webhook_routing_logs SET session_deliberate_at = now() WHERE status = 'pending' AND sender_key IS NOT NULL;
RESET ROLE;
REVOKE ALL ON webhook_routing_logs FROM wr_conv_all;
REVOKE ALL ON SEQUENCE webhook_routing_logs_id_seq FROM wr_conv_all;
REVOKE ALL ON SCHEMA webhook_routing FROM wr_conv_all;
DROP ROLE wr_conv_all;
SET ROLE wr_conv_edge;
-- It routes and follows conversations with its own rights.
SELECT domain, routed_to, reason FROM route_decision(txt('250788100011', 'wamid.110', 'I want a job'));
SELECT domain, routed_to, reason FROM route_decision(txt('250788100011', 'wamid.111', '2'));
SELECT domain, routed_to, reason, retry FROM route_messages(txt('250788100011', 'wamid.111', '2'));
RESET ROLE;
DROP ROLE wr_conv_reader, wr_conv_edge;

-- A message id longer than any WhatsApp sends (3,200 characters: too long for the log's index)
-- is answered, legacy with its reason, and logged without its id; the other messages of its
-- body are decided and logged as usual, and the body's call does not fail.
SELECT routed_to, reason, decision_id IS NOT NULL AS logged
FROM route_decision(jsonb_build_object('entry', jsonb_build_array(jsonb_build_object('changes', jsonb_build_array(
    jsonb_build_object('value', jsonb_build_object('messages', jsonb_build_array(
        jsonb_build_object('from', '250788000301', 'id', 'wamid.' || repeat('x', 3200), 'type', 'text',
                           'text', jsonb_build_object('body', 'any jobs?')))))))))) AS r;
SELECT position, routed_to, reason, decision_id IS NOT NULL AS logged
FROM route_messages(jsonb_build_object('entry', jsonb_build_array(jsonb_build_object('changes', jsonb_build_array(
    jsonb_build_object('value', jsonb_build_object('messages', jsonb_build_array(
        jsonb_build_object('from', '250788000302', 'id', 'wamid.' || repeat('y', 3200), 'type', 'text',
                           'text', jsonb_build_object('body', 'any jobs?')),
        jsonb_build_object('from', '250788000303', 'id', 'wamid.short.303', 'type', 'text',
                           'text', jsonb_build_object('body', 'any jobs?')))))))))) AS r
ORDER BY position;
SELECT reason, message_id IS NOT NULL AS has_message_key FROM webhook_routing_logs
WHERE reason = 'invalid_message_id' OR message_id = routing_message_key('wamid.short.303') ORDER BY id;

-- A body holds at most 1,000 messages and statuses: 1,000 from one sender are answered, each
-- after the body's earlier ones (half of them re-deliveries); one more is refused, naming the
-- limit, whatever the elements are.
CREATE FUNCTION many(n integer, kind text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('entry', jsonb_build_array(jsonb_build_object('changes', jsonb_build_array(
        jsonb_build_object('value', jsonb_build_object(kind, (
            SELECT jsonb_agg(CASE kind
                WHEN 'messages' THEN jsonb_build_object('from', '250788000400', 'id', 'wamid.many.' || (i % 500),
                                                        'type', 'text', 'text', jsonb_build_object('body', 'any jobs?'))
                ELSE jsonb_build_object('id', 'wamid.out.' || i, 'recipient_id', '250788000400', 'status', 'read') END)
            FROM generate_series(1, n) AS i)))))))
$$;
SELECT count(*) AS rows, count(*) FILTER (WHERE reason = 'retry') AS retries, count(DISTINCT routed_to) AS handlers
FROM route_messages(many(1000, 'messages'), log => false);
SELECT count(*) FROM route_messages(many(1001, 'messages'), log => false);
SELECT count(*) FROM route_messages(many(1001, 'statuses'));
DROP FUNCTION many(integer, text);

-- An assistant's conversation keeps its questions, whatever domain their words name; a
-- request that asks for something elsewhere leaves it, so does an ask without a word of intent.
TRUNCATE routed;
SELECT send('assistant', txt('250788100019', 'wamid.190', 'Hi assistant, explain to me how buying land works in Rwanda'));
SELECT send('a question', txt('250788100019', 'wamid.191', 'which papers does the seller of a plot of land need to show for a land title transfer and the house on it?'));
SELECT send('an ask', txt('250788100019', 'wamid.192', 'ok. and do you have plots for sale in Bugesera?'));
SELECT send('its pick', pick('250788100019', 'wamid.193', 'opt_4', 'Plot 20x30 - Nyamata'));
SELECT label, domain, routed_to, reason, conversation FROM turns;

DROP VIEW turns;
DROP FUNCTION send(text, jsonb), pick(text, text, text, text), txt(text, text, text), msg(text, text, text, jsonb);
DROP EXTENSION webhook_routing;
