-- Roles, grants and row level security, and a hostile search_path.
--
-- Installed the way Supabase would: default privileges hand every new table, sequence and
-- function to anon-like roles. The extension takes all of that back.
CREATE ROLE wr_anon NOLOGIN;
ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO wr_anon;
ALTER DEFAULT PRIVILEGES GRANT ALL ON SEQUENCES TO wr_anon;
ALTER DEFAULT PRIVILEGES GRANT ALL ON FUNCTIONS TO wr_anon;
CREATE EXTENSION webhook_routing;

SELECT rolname, rolcanlogin, rolsuper FROM pg_roles WHERE rolname LIKE 'webhook\_routing\_%' ORDER BY 1;

-- Every object of the extension and who may use it, besides its owner. Nothing for PUBLIC,
-- nothing for wr_anon.
CREATE VIEW granted AS
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'webhook_routing'),
members AS (
    SELECT p.oid::regprocedure::text AS object, p.proacl AS acl, p.proowner AS owner
    FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid AND d.classid = 'pg_proc'::regclass
    WHERE d.refobjid = (SELECT oid FROM ext) AND d.deptype = 'e'
    UNION ALL
    SELECT c.oid::regclass::text, c.relacl, c.relowner
    FROM pg_class c
    WHERE c.oid IN (SELECT objid FROM pg_depend WHERE refobjid = (SELECT oid FROM ext) AND deptype = 'e')
       OR c.oid IN (SELECT d.objid FROM pg_depend d JOIN pg_depend t ON t.objid = d.refobjid
                    WHERE t.refobjid = (SELECT oid FROM ext) AND t.deptype = 'e' AND d.deptype = 'i'
                      AND d.classid = 'pg_class'::regclass)
)
SELECT m.object, a.grantee, string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type) AS privileges
FROM members m,
     LATERAL (SELECT CASE x.grantee WHEN 0 THEN 'PUBLIC' ELSE x.grantee::regrole::text END AS grantee,
                     x.privilege_type
              FROM aclexplode(coalesce(m.acl, acldefault(CASE WHEN m.object LIKE '%(%' THEN 'f' ELSE 'r' END::"char", m.owner))) x
              WHERE x.grantee <> m.owner) a
GROUP BY m.object, a.grantee;

SELECT object, grantee, privileges FROM granted ORDER BY object, grantee;
SELECT count(*) AS grants_to_public_or_anon FROM granted WHERE grantee IN ('PUBLIC', 'wr_anon');
-- While a table made outside the extension gets what the default privileges say.
CREATE TABLE not_ours ();
SELECT grantee::regrole, count(*) AS privileges FROM aclexplode((SELECT relacl FROM pg_class WHERE relname = 'not_ours'))
WHERE grantee = 'wr_anon'::regrole GROUP BY 1;
DROP TABLE not_ours;

-- Column grants: a caller reports outcomes and changes nothing else of a decision; no role but
-- the owner reads a sender's bucket or key, the split's buckets, or the testers' and denied
-- numbers (an admin reads those: admins type them).
SELECT c.relname AS "table", a.grantee::regrole AS grantee, a.privilege_type,
       string_agg(att.attname, ', ' ORDER BY att.attnum) AS columns
FROM pg_class c
JOIN pg_attribute att ON att.attrelid = c.oid AND att.attacl IS NOT NULL,
     LATERAL aclexplode(att.attacl) a
WHERE c.relnamespace = 'webhook_routing'::regnamespace
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT r.rolname AS "role", c.relname AS "table", string_agg(att.attname, ', ' ORDER BY att.attnum) AS unread
FROM pg_roles r, pg_class c JOIN pg_attribute att ON att.attrelid = c.oid AND att.attnum > 0 AND NOT att.attisdropped
WHERE r.rolname LIKE 'webhook\_routing\_%' AND c.relnamespace = 'webhook_routing'::regnamespace
  AND c.relname IN ('webhook_routing_config', 'webhook_routing_logs', 'webhook_routing_sketches')
  AND has_table_privilege(r.oid, c.oid, 'SELECT') IS FALSE
  AND has_any_column_privilege(r.oid, c.oid, 'SELECT')
  AND NOT has_column_privilege(r.oid, c.oid, att.attnum, 'SELECT')
GROUP BY 1, 2 ORDER BY 1, 2;

\set jobs '{"entry":[{"changes":[{"value":{"messages":[{"from":"250788123456","type":"text","text":{"body":"any job?"}}]}}]}]}'
CREATE ROLE wr_service IN ROLE webhook_routing_caller;
CREATE ROLE wr_operator IN ROLE webhook_routing_admin;
CREATE ROLE wr_viewer IN ROLE webhook_routing_reader;

-- A role with none of them: nothing; it cannot even look into the extension's schema.
SET ROLE wr_anon;
SELECT routed_to FROM route_decision(:'jobs');
SELECT count(*) FROM webhook_routing_logs;
SELECT update_routing_percentage(100);
SELECT * FROM webhook_routing_stats;
RESET ROLE;
-- Given the schema by a careless grant, it still may run and read nothing.
GRANT USAGE ON SCHEMA webhook_routing TO wr_anon;
SET ROLE wr_anon;
SELECT routed_to FROM route_decision(:'jobs');
SELECT count(*) FROM webhook_routing_logs;
SELECT update_routing_percentage(100);
SELECT * FROM webhook_routing_stats;
RESET ROLE;

-- The operator changes the config through the admin functions only: the history cannot be
-- rewritten by hand. Rules and thresholds are edited directly.
SET ROLE wr_operator;
SELECT set_routing_enabled(true, 'security test') > 1 AS appended;
SELECT update_routing_percentage(100, 'security test') > 1 AS appended;
SELECT action, percentage, enabled, changed_by, current_user FROM webhook_routing_config ORDER BY id DESC LIMIT 2;
UPDATE webhook_routing_config SET percentage = 0;
DELETE FROM webhook_routing_config;
INSERT INTO webhook_routing_config (percentage, enabled) VALUES (0, false);
UPDATE webhook_routing_thresholds SET warning = 0.2 WHERE domain IS NULL AND check_name = 'error_rate';
INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('jobs', 'keyword', 'gig*');
DELETE FROM webhook_routing_rules WHERE pattern = 'gig*';
SELECT routed_to FROM route_decision(:'jobs');
DELETE FROM webhook_routing_logs;
RESET ROLE;

-- The webhook function decides, logs and reports; it changes neither the config nor history.
SET ROLE wr_service;
SELECT domain, routed_to, reason FROM route_decision(:'jobs');
SELECT max(id) AS decision FROM webhook_routing_logs \gset
SELECT record_routing_outcome(:decision, 'success', 120);
SELECT record_routing_outcome(:decision, 'error', 120);
-- A reported outcome is out of reach even by hand (row level security: pending rows only).
UPDATE webhook_routing_logs SET status = 'error' WHERE id = :decision;
UPDATE webhook_routing_logs SET routed_to = 'legacy' WHERE id = :decision;
DELETE FROM webhook_routing_logs;
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms)
VALUES ('whatsapp', 'jobs', 'legacy', 'success', 80);
SELECT update_routing_percentage(0, 'not mine to change');
UPDATE webhook_routing_rules SET enabled = false;
RESET ROLE;

-- The reader reads.
SET ROLE wr_viewer;
SELECT domain, routed_to, requests, p95_ms FROM webhook_routing_stats WHERE domain = 'jobs' ORDER BY 1, 2;
SELECT check_name, status FROM check_routing_health() WHERE domain = 'jobs' ORDER BY 1;
SELECT count(*) AS decisions FROM webhook_routing_logs;
SELECT set_routing_enabled(false, 'not mine either');
INSERT INTO webhook_routing_logs (routed_to) VALUES ('unified');
RESET ROLE;

-- Row level security: a careless direct grant still shows no row to a role without a policy.
GRANT SELECT, UPDATE, DELETE ON webhook_routing_logs, webhook_routing_config TO wr_anon;
SET ROLE wr_anon;
SELECT count(*) AS visible_logs FROM webhook_routing_logs;
SELECT count(*) AS visible_config FROM webhook_routing_config;
DELETE FROM webhook_routing_config;
RESET ROLE;
REVOKE ALL ON webhook_routing_logs, webhook_routing_config FROM wr_anon;
REVOKE USAGE ON SCHEMA webhook_routing FROM wr_anon;
SELECT count(*) AS logs, (SELECT count(*) FROM webhook_routing_config) AS config FROM webhook_routing_logs;

-- A hostile schema ahead of pg_catalog on the caller's search_path: look-alike tables, and a
-- round() and a bigint = that record every time they run.
CREATE SCHEMA hostile;
GRANT USAGE ON SCHEMA hostile TO PUBLIC;
CREATE TABLE hostile.trap (who text, what text);
CREATE TABLE hostile.webhook_routing_config (LIKE webhook_routing.webhook_routing_config);
CREATE TABLE hostile.webhook_routing_logs (LIKE webhook_routing.webhook_routing_logs);
GRANT ALL ON ALL TABLES IN SCHEMA hostile TO PUBLIC;
CREATE FUNCTION hostile.round(numeric, integer) RETURNS numeric LANGUAGE plpgsql AS $$
BEGIN INSERT INTO hostile.trap VALUES (current_user, 'round'); RETURN 100; END $$;
CREATE FUNCTION hostile.int8eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN INSERT INTO hostile.trap VALUES (current_user, '='); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR hostile.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = hostile.int8eq);
CREATE FUNCTION hostile.int8pl(bigint, bigint) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN INSERT INTO hostile.trap VALUES (current_user, '+'); RETURN $1 OPERATOR(pg_catalog.+) $2; END $$;
CREATE OPERATOR hostile.+ (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = hostile.int8pl);

-- A fresh session, so that nothing is cached or planned yet, with the hostile path.
\c -
\set jobs '{"entry":[{"changes":[{"value":{"messages":[{"from":"250788123456","type":"text","text":{"body":"any job?"}}]}}]}]}'
SET search_path = hostile, pg_catalog, webhook_routing, public;
-- The trap works on anything that does not pin its path:
SELECT round(12.345, 2) AS round, 1::bigint = 1::bigint AS equal, 1::bigint + 1::bigint AS sum;
SELECT who, what FROM hostile.trap ORDER BY what;
TRUNCATE hostile.trap;

-- The extension's functions, by each role, with that path.
SET ROLE wr_operator;
SELECT update_routing_percentage(12.5, 'hostile path') > 1 AS appended;
SELECT set_routing_enabled(true, 'hostile path', 'jobs') > 1 AS appended;
RESET ROLE;
SET ROLE wr_service;
SELECT domain, routed_to, reason, percentage FROM route_decision(:'jobs');
SELECT decision_id AS decision FROM route_decision(:'jobs') \gset
SELECT record_routing_outcome(:decision, 'success', 95);
SELECT record_routing_outcome(:decision, 'success', 95);
RESET ROLE;
SET ROLE wr_viewer;
SELECT domain, routed_to, requests FROM routing_stats() WHERE domain = 'jobs' ORDER BY 1, 2;
SELECT count(*) > 0 AS checked FROM check_routing_health();
RESET ROLE;

-- Nothing hostile ran, nothing went to the look-alike tables.
SELECT who, what, count(*) AS trapped FROM hostile.trap GROUP BY 1, 2 ORDER BY 1, 2;
SELECT (SELECT count(*) FROM hostile.webhook_routing_config) AS hostile_config,
       (SELECT count(*) FROM hostile.webhook_routing_logs) AS hostile_logs;
RESET search_path;
SELECT action, percentage, domain_enabled, changed_by FROM webhook_routing_config ORDER BY id DESC LIMIT 2;

DROP SCHEMA hostile CASCADE;
DROP VIEW granted;
DROP EXTENSION webhook_routing;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM wr_anon;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON SEQUENCES FROM wr_anon;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON FUNCTIONS FROM wr_anon;
DROP ROLE wr_anon, wr_service, wr_operator, wr_viewer;
