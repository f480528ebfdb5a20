-- Making and dropping day partitions never deadlocks with a webhook (issue 28 §4), step by
-- step through two more sessions (dblink): a webhook's transaction that holds a weak lock
-- when maintenance asks for a strong one, and then needs another weak one, is granted it at
-- once; maintenance waits for its commit and then succeeds. Before 0.7.0, both waited for
-- each other until one of them died with 40P01. tests/node/partitions.mjs does it under load.
CREATE EXTENSION webhook_routing;
CREATE EXTENSION dblink;
SELECT set_routing_enabled(true, 'partition locks') > 1 AS on;
SELECT dblink_connect(s, format('dbname=%s host=%s port=%s user=%s application_name=wr_%s', current_database(),
    split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'), current_user, s))
FROM unnest(ARRAY['webhook', 'maintenance']) AS s;
-- Until maintenance waits for a lock (at most 10 s; it waits 200 ms a try, up to 10 tries).
CREATE FUNCTION maintenance_waits() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. 1000 LOOP
        IF EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                   WHERE a.application_name = 'wr_maintenance' AND NOT l.granted) THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(0.01);
    END LOOP;
    RETURN false;
END $$;
\set jobs '{"entry":[{"changes":[{"value":{"messages":[{"from":"250788123456","id":"wamid.locks.1","type":"text","text":{"body":"any job?"}}]}}]}]}'
\set jobs2 '{"entry":[{"changes":[{"value":{"messages":[{"from":"250788654321","id":"wamid.locks.2","type":"text","text":{"body":"any job?"}}]}}]}]}'

-- Today and tomorrow have partitions, yesterday none: a decision's retry probe (its message id
-- seen since yesterday?) reads the default partition, and its outcome writes there (yesterday
-- is in its bounds).
SELECT create_routing_log_partitions(1) AS made;

-- 1. Making a day. The webhook decides in a transaction (the default partition read);
-- maintenance asks for the default partition to itself; the webhook reports its outcome (the
-- default partition written) and commits; maintenance then makes its two days.
SELECT dblink_exec('webhook', 'BEGIN');
SELECT * FROM dblink('webhook', format('SELECT decision_id FROM route_decision(%L::jsonb)', :'jobs'))
    AS t(decision_id bigint) \gset first_
SELECT dblink_send_query('maintenance', 'SELECT create_routing_log_partitions(3)');
SELECT maintenance_waits();
SELECT * FROM dblink('webhook', format('SELECT record_routing_outcome(%s, %L, 80)', :first_decision_id, 'success'))
    AS t(done text);
SELECT dblink_exec('webhook', 'COMMIT');
SELECT * FROM dblink_get_result('maintenance') AS t(made integer);
SELECT * FROM dblink_get_result('maintenance') AS t(made integer);

-- 2. Dropping a day. A day 40 days old to drop; the webhook's transaction has read today's
-- partition through the log (the log held, not the default partition); maintenance prunes,
-- which needs the log to itself; the webhook reports an outcome (the default partition
-- written) and commits; maintenance then drops the old day and makes the days ahead.
SET client_min_messages = warning;
INSERT INTO webhook_routing_logs (webhook_name, routed_to, status, created_at)
VALUES ('whatsapp', 'legacy', 'success', now() - interval '40 days');
SELECT create_routing_log_partitions(3) AS made;
RESET client_min_messages;
SELECT decision_id AS second_decision_id FROM route_decision(:'jobs2') \gset
SELECT dblink_exec('webhook', 'BEGIN');
SELECT * FROM dblink('webhook', $$SELECT count(*) FROM webhook_routing_logs
    WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
      AND created_at < (date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day') AT TIME ZONE 'UTC'$$)
    AS t(today bigint);
SELECT dblink_send_query('maintenance', 'SELECT prune_routing_logs(''30 days'')');
SELECT maintenance_waits();
SELECT * FROM dblink('webhook', format('SELECT record_routing_outcome(%s, %L, 90)', :second_decision_id, 'error'))
    AS t(done text);
SELECT dblink_exec('webhook', 'COMMIT');
SELECT * FROM dblink_get_result('maintenance') AS t(removed bigint);
SELECT * FROM dblink_get_result('maintenance') AS t(removed bigint);

-- Both outcomes recorded; the days made and the old one gone.
SELECT id = :first_decision_id AS first, status, response_time_ms FROM webhook_routing_logs
WHERE id IN (:first_decision_id, :second_decision_id) ORDER BY id;
SELECT to_char(to_date(right(c.relname, 8), 'YYYYMMDD') - (now() AT TIME ZONE 'UTC')::date, 'FMSG999') AS day
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'webhook_routing_logs'::regclass AND c.relname <> 'webhook_routing_logs_default'
ORDER BY c.relname;

SELECT dblink_disconnect('webhook'), dblink_disconnect('maintenance');
DROP FUNCTION maintenance_waits();
DROP EXTENSION dblink;
DROP EXTENSION webhook_routing;
