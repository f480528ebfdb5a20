-- A decision reads its sender's history through the partitions' indexes (src/pg/index_probe.rs): the
-- conversation and the re-delivery are found whichever partition holds them (today's, or the
-- default one while today has none), after today's partition is dropped and made again, after
-- its rows are moved out of the default partition, in a partition attached by hand without the
-- indexes (read by the statement instead), and after the extension is dropped and made again,
-- all in this one session, whose cached partitions change under it.
CREATE EXTENSION webhook_routing;
SELECT set_routing_enabled(true, 'history probes') > 1 AS on;
SELECT create_routing_log_partitions(1) AS made;
CREATE FUNCTION say(body text, id text) RETURNS TABLE (domain text, reason text)
LANGUAGE sql AS $$
    SELECT d.domain, d.reason FROM webhook_routing.route_decision(pg_catalog.format(
        '{"entry":[{"changes":[{"value":{"messages":[{"from":"250788000042","id":"%s","type":"text","text":{"body":"%s"}}]}}]}]}',
        id, body)::jsonb) AS d
$$;
CREATE VIEW today AS
SELECT 'webhook_routing_logs_p' || to_char((now() AT TIME ZONE 'UTC')::date, 'YYYYMMDD') AS name;

-- In today's partition: an opening, a reply, a re-delivery.
SELECT * FROM say('I am looking for a job', 'wamid.h1');
SELECT * FROM say('yego', 'wamid.h2');
SELECT * FROM say('I am looking for a job', 'wamid.h1');

-- Today's partition dropped: its rows with it; what comes next waits in the default partition,
-- and is read there.
DO $$ BEGIN EXECUTE format('DROP TABLE webhook_routing.%I', (SELECT name FROM today)); END $$;
SELECT * FROM say('yego', 'wamid.h3');
SELECT * FROM say('I am looking for a job', 'wamid.h4');
SELECT * FROM say('yego', 'wamid.h5');
SELECT * FROM say('yego', 'wamid.h5');
SELECT count(*) AS in_default FROM webhook_routing_logs_default;

-- Today made again: the rows move into it, and are read there.
SET client_min_messages = warning;
SELECT create_routing_log_partitions(1) AS made;
RESET client_min_messages;
SELECT count(*) AS in_default FROM webhook_routing_logs_default;
SELECT * FROM say('yego', 'wamid.h6');
SELECT * FROM say('I am looking for a job', 'wamid.h4');

-- Today as a table attached by hand, without the two indexes: read by the statement.
DO $$ BEGIN EXECUTE format('ALTER TABLE webhook_routing_logs DETACH PARTITION webhook_routing.%I', (SELECT name FROM today)); END $$;
DO $$ BEGIN EXECUTE format('CREATE TABLE webhook_routing.wr_by_hand (LIKE webhook_routing.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', (SELECT name FROM today)); END $$;
DO $$ BEGIN EXECUTE format('INSERT INTO webhook_routing.wr_by_hand SELECT * FROM webhook_routing.%I', (SELECT name FROM today)); END $$;
DO $$ BEGIN
    EXECUTE format('ALTER TABLE webhook_routing_logs ATTACH PARTITION webhook_routing.wr_by_hand FOR VALUES FROM (%L) TO (%L)',
                   (now() AT TIME ZONE 'UTC')::date::timestamp AT TIME ZONE 'UTC',
                   ((now() AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC');
END $$;
SELECT * FROM say('yego', 'wamid.h7');
SELECT * FROM say('yego', 'wamid.h6');
SELECT count(*) AS by_hand FROM webhook_routing.wr_by_hand;

-- The extension dropped and made again in this session: a new, empty log.
DO $$ BEGIN EXECUTE format('DROP TABLE webhook_routing.%I', (SELECT name FROM today)); END $$;
DROP TABLE webhook_routing.wr_by_hand;
DROP VIEW today;
DROP FUNCTION say(text, text);
DROP EXTENSION webhook_routing;
CREATE EXTENSION webhook_routing;
SELECT set_routing_enabled(true, 'history probes') > 1 AS on;
SELECT create_routing_log_partitions(1) AS made;
SELECT d.domain, d.reason FROM route_decision(
    '{"entry":[{"changes":[{"value":{"messages":[{"from":"250788000042","id":"wamid.h6","type":"text","text":{"body":"yego"}}]}}]}]}') AS d;
SELECT d.domain, d.reason FROM route_decision(
    '{"entry":[{"changes":[{"value":{"messages":[{"from":"250788000042","id":"wamid.h1","type":"text","text":{"body":"I am looking for a job"}}]}}]}]}') AS d;
SELECT d.domain, d.reason FROM route_decision(
    '{"entry":[{"changes":[{"value":{"messages":[{"from":"250788000042","id":"wamid.h6","type":"text","text":{"body":"yego"}}]}}]}]}') AS d;
DROP EXTENSION webhook_routing;
