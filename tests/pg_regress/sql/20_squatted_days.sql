-- A relation that has a day partition's name never stops retention. No role but the owner may
-- create in the extension's schema (04_own_schema), but the owner, a superuser or an earlier
-- install may have left one: making the day is skipped with a WARNING (42P07) that names it
-- and says what to do, the other days are made and old ones dropped, and what has the name is
-- left as it was. Days are relative to today (UTC), so that this file reads the same any day:
-- the statements that name a day are not echoed (ECHO none), and 40 days ago is counted in
-- UTC, not across a daylight-saving change of the server's time zone.
CREATE EXTENSION webhook_routing;
CREATE VIEW days AS
SELECT 'today ' || to_char(to_date(right(c.relname, 8), 'YYYYMMDD') - (now() AT TIME ZONE 'UTC')::date, 'FMSG999') AS day,
       (SELECT count(*) FROM webhook_routing_logs l WHERE l.tableoid = c.oid) AS rows
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'webhook_routing_logs'::regclass AND c.relname <> 'webhook_routing_logs_default'
ORDER BY c.relname;

-- Tomorrow's name, a table of the owner's with a row of its own; an index with the name of the
-- day after's sender index; and the name of 9999-12-31, whose row waits in the default
-- partition (a fixed name, so that its warning can be shown whole).
\set ECHO none
SELECT format('CREATE TABLE webhook_routing.%I (note text)',
              'webhook_routing_logs_p' || to_char((now() AT TIME ZONE 'UTC')::date + 1, 'YYYYMMDD')) \gexec
\set ECHO all
\set ECHO none
SELECT format('INSERT INTO webhook_routing.%I VALUES (''keep me'')',
              'webhook_routing_logs_p' || to_char((now() AT TIME ZONE 'UTC')::date + 1, 'YYYYMMDD')) \gexec
\set ECHO all
CREATE TABLE webhook_routing.wr_other (x int);
\set ECHO none
SELECT format('CREATE INDEX %I ON webhook_routing.wr_other (x)',
              'webhook_routing_logs_p' || to_char((now() AT TIME ZONE 'UTC')::date + 2, 'YYYYMMDD') || '_sender_idx') \gexec
\set ECHO all
CREATE TABLE webhook_routing.webhook_routing_logs_p99991231 (note text);
INSERT INTO webhook_routing_logs (webhook_name, routed_to, status, created_at)
VALUES ('whatsapp', 'legacy', 'success', '9999-12-31 12:00+00'),
       ('whatsapp', 'legacy', 'success', ((now() AT TIME ZONE 'UTC') - interval '40 days') AT TIME ZONE 'UTC');

\set SHOW_CONTEXT never
-- Today, and the days waiting in the default partition: 9999-12-31 is skipped, the others made.
SET client_min_messages = warning;
SELECT create_routing_log_partitions(0) AS made;
-- A week ahead: tomorrow and the day after are skipped too (shown by SQLSTATE only: their
-- names hold the date), the rest made.
\set VERBOSITY sqlstate
SELECT create_routing_log_partitions(7) AS made;
SELECT * FROM days;

-- Decisions and outcomes go on; a row of tomorrow waits in the default partition.
\set jobs '{"entry":[{"changes":[{"value":{"messages":[{"from":"250788123456","type":"text","text":{"body":"any job?"}}]}}]}]}'
SELECT decision_id AS today FROM route_decision(:'jobs') \gset
SELECT record_routing_outcome(:today, 'success', 80);
INSERT INTO webhook_routing_logs (webhook_name, routed_to, status, created_at)
VALUES ('whatsapp', 'legacy', 'success', now() + interval '1 day');
SELECT count(*) AS waiting_in_default FROM webhook_routing_logs_default;

-- The daily prune still prunes: the day 40 days ago is dropped, with the same warnings.
SELECT prune_routing_logs('30 days') AS removed;
\set VERBOSITY default
SELECT * FROM days;
\set ECHO none
SELECT format('SELECT note AS squatter_kept FROM webhook_routing.%I',
              'webhook_routing_logs_p' || to_char((now() AT TIME ZONE 'UTC')::date + 1, 'YYYYMMDD')) \gexec
\set ECHO all

-- Renamed away, tomorrow's name is free: the next call makes the day and moves its row in.
\set ECHO none
SELECT format('ALTER TABLE webhook_routing.%I RENAME TO wr_kept',
              'webhook_routing_logs_p' || to_char((now() AT TIME ZONE 'UTC')::date + 1, 'YYYYMMDD')) \gexec
\set ECHO all
\set VERBOSITY sqlstate
SELECT create_routing_log_partitions(7) AS made;
\set VERBOSITY default
RESET client_min_messages;
SELECT * FROM days;
SELECT count(*) AS waiting_in_default FROM webhook_routing_logs_default;

DROP VIEW days;
DROP TABLE webhook_routing.wr_kept, webhook_routing.wr_other, webhook_routing.webhook_routing_logs_p99991231;
DROP EXTENSION webhook_routing;
