-- An install of 0.6.0 that has logged decisions, updated: the log's message ids become keyed
-- hashes (a wamid's base64 holds its sender's number), re-deliveries of messages logged before
-- the update are still known, the statistics readers may see hold no id as it was, and no role
-- but the owner reads a sender's bucket or key.
CREATE EXTENSION webhook_routing VERSION '0.6.0';
SELECT set_routing_enabled(true, 'test'), update_routing_percentage(100, 'test');
-- "HBgMMjUwNzg4MTIzNDU2..." is the base64 of a record that holds 250788123456.
\set wamid 'wamid.HBgMMjUwNzg4MTIzNDU2FQIAEhgUM0VCMDVGNzY2RTNDRDQ5QjcwNDMA'
\set body '{"entry":[{"changes":[{"value":{"messages":[{"from":"250788123456","id":"' :wamid '","type":"text","text":{"body":"any job in kigali?"}}]}}]}]}'
SELECT position('250788123456'::bytea IN decode(substr(:'wamid', 7), 'base64')) > 0 AS the_id_holds_the_number;
SELECT decision_id AS first_id, reason FROM route_decision(:'body') \gset
-- The library is already 0.7.0's, which logs a key: the row gets the id as 0.6.0's logged it.
UPDATE webhook_routing_logs SET message_id = :'wamid' WHERE id = :first_id;
INSERT INTO webhook_routing_logs (routed_to, status, message_id)
SELECT 'legacy', 'success', 'wamid.HBgMMjUwNzg4MTIzNDU' || i FROM generate_series(10, 29) AS i;
SELECT :'reason' AS reason, count(*) AS ids_as_sent FROM webhook_routing_logs WHERE message_id = :'wamid';
ANALYZE webhook_routing_logs;
SELECT count(*) AS stats_with_ids_as_sent FROM pg_stats
WHERE tablename = 'webhook_routing_logs' AND attname = 'message_id' AND histogram_bounds::text LIKE '%wamid%';

ALTER EXTENSION webhook_routing UPDATE TO '0.7.0';
SELECT extversion, extnamespace::regnamespace FROM pg_extension WHERE extname = 'webhook_routing';
SELECT count(*) FILTER (WHERE message_id LIKE 'wamid.%') AS ids_as_sent,
       count(*) FILTER (WHERE message_id = routing_message_key(:'wamid')) AS found_by_key
FROM webhook_routing_logs;
SELECT count(*) AS stats_with_ids_as_sent FROM pg_stats
WHERE schemaname = 'webhook_routing' AND tablename = 'webhook_routing_logs'
  AND (most_common_vals::text LIKE '%wamid%' OR histogram_bounds::text LIKE '%wamid%');
-- WhatsApp re-delivers the message logged before the update: its first decision comes back.
SELECT decision_id = :first_id AS same_decision, reason FROM route_decision(:'body');

CREATE ROLE wr_private_viewer IN ROLE webhook_routing_reader;
CREATE ROLE wr_private_edge IN ROLE webhook_routing_caller;
SET ROLE wr_private_viewer;
SELECT bucket FROM webhook_routing_logs;
SELECT sender_key FROM webhook_routing_logs;
SELECT split_buckets FROM webhook_routing_sketches;
SELECT testers FROM webhook_routing_config;
SELECT count(*) AS rows, count(message_id) AS message_keys FROM webhook_routing_logs;
SELECT domain, sessions FROM routing_sessions();
RESET ROLE;
SET ROLE wr_private_edge;
SELECT bucket FROM webhook_routing_logs;
SELECT denied FROM webhook_routing_config;
-- The caller writes no message id of its own: only route_decision does, as a key.
INSERT INTO webhook_routing_logs (routed_to, status, message_id) VALUES ('legacy', 'success', :'wamid');
INSERT INTO webhook_routing_logs (routed_to, status) VALUES ('legacy', 'success');
RESET ROLE;
DROP ROLE wr_private_viewer, wr_private_edge;
DROP EXTENSION webhook_routing;
