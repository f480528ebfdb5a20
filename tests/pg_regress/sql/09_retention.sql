-- The log is partitioned by UTC day; prune_routing_logs drops whole days. Dates are shown
-- relative to today (UTC), so that this file reads the same any day.
CREATE ROLE wr_anon NOLOGIN;
ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO wr_anon;
CREATE EXTENSION webhook_routing;
SELECT set_routing_enabled(true, 'retention test') > 1 AS appended;
SELECT update_routing_percentage(100, 'retention test') > 1 AS appended;

CREATE VIEW days AS
SELECT CASE WHEN c.relname = 'webhook_routing_logs_default' THEN 'default'
            ELSE 'today ' || to_char(to_date(right(c.relname, 8), 'YYYYMMDD') - (now() AT TIME ZONE 'UTC')::date, 'FMSG999') END AS day,
       (SELECT count(*) FROM webhook_routing_logs l WHERE l.tableoid = c.oid) AS rows,
       c.relrowsecurity AS row_security,
       (SELECT count(*) FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner) AS grants
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'webhook_routing_logs'::regclass
ORDER BY c.relname = 'webhook_routing_logs_default', c.relname;

-- Installed with the default partition only: everything lands there.
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms, created_at)
SELECT 'whatsapp', 'jobs', 'legacy', 'success', 100 + g, now() - make_interval(hours => 24 * d)
FROM unnest(ARRAY[40, 10, 1, 0]) AS d, generate_series(1, 5) AS g;
SELECT * FROM days;

-- Make the days ahead: the days waiting in the default partition move into their own.
SET client_min_messages = warning;
SELECT create_routing_log_partitions(3) AS made;
RESET client_min_messages;
SELECT * FROM days;
SELECT create_routing_log_partitions(3) AS made_again;

-- Decisions and outcomes go through the log as before: today's outcome from its day's
-- partition, an outcome three days late from wherever its decision is.
\set jobs '{"entry":[{"changes":[{"value":{"messages":[{"from":"250788123456","type":"text","text":{"body":"any job?"}}]}}]}]}'
SELECT decision_id AS today FROM route_decision(:'jobs') \gset
SELECT record_routing_outcome(:today, 'success', 80);
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, created_at)
VALUES ('whatsapp', 'jobs', 'unified', now() - interval '72 hours') RETURNING id AS late \gset
SELECT record_routing_outcome(:late, 'error', 900);
SELECT id = :today AS today, status, response_time_ms FROM webhook_routing_logs WHERE id IN (:today, :late) ORDER BY id;
SELECT * FROM days;

-- Refused: keeping less than what stats and health read.
SELECT prune_routing_logs(NULL);
SELECT prune_routing_logs('1 hour');
SELECT prune_routing_logs('-30 days');

-- The last hour reads the same before and after a prune.
CREATE TEMP TABLE stats_before AS SELECT * FROM routing_stats('1 hour');
SET client_min_messages = warning;
SELECT prune_routing_logs('30 days') AS removed;
RESET client_min_messages;
SELECT * FROM days;
SELECT (SELECT array_agg(s ORDER BY domain, routed_to) FROM stats_before s)::text
     = (SELECT array_agg(s ORDER BY domain, routed_to) FROM routing_stats('1 hour') s)::text AS last_hour_unchanged;
SELECT min(minute) >= now() - interval '30 days' AS sketches_pruned, count(*) > 0 AS sketches_kept
FROM webhook_routing_sketches;

-- A prune that cannot have the log for a moment gives up after 10 tries of lock_timeout
-- (200 ms) each, removing nothing.
CREATE EXTENSION dblink;
SELECT dblink_connect('other', format('dbname=%s host=%s port=%s user=%s', current_database(),
    split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'), current_user));
SELECT dblink_exec('other', 'BEGIN');
SELECT * FROM dblink('other', 'SELECT count(*) FROM webhook_routing_logs') AS t(n bigint);
SELECT count(*) AS rows_before FROM webhook_routing_logs;
SELECT prune_routing_logs('5 days');
SELECT count(*) AS rows_after FROM webhook_routing_logs;
SELECT dblink_exec('other', 'COMMIT');
SELECT dblink_disconnect('other');
DROP EXTENSION dblink;
SET client_min_messages = warning;
SELECT prune_routing_logs('5 days') AS removed;
RESET client_min_messages;
SELECT * FROM days;

-- Partitions made by an admin (not a superuser) are locked down the same way.
CREATE ROLE wr_operator IN ROLE webhook_routing_admin;
SET ROLE wr_operator;
SELECT create_routing_log_partitions(10) AS made;
SELECT count(*) FROM webhook_routing_logs_default;
RESET ROLE;
SELECT count(*) FILTER (WHERE NOT row_security) AS without_row_security, sum(grants) AS grants FROM days;

DROP VIEW days;
DROP TABLE stats_before;
DROP EXTENSION webhook_routing;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM wr_anon;
DROP ROLE wr_anon, wr_operator;
