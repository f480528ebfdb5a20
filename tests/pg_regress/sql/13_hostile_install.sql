-- Installing into a schema another role can write (Supabase's public). That role plants
-- look-alikes of what the install and upgrade scripts use: functions and operators that match
-- better than pg_catalog's (an exact argument type where pg_catalog's is polymorphic or needs
-- a cast), each of which records that it ran and tries to make the role a superuser. A
-- superuser then installs the extension, uses it, and updates it from every released version:
-- nothing planted runs or is bound into the extension's objects, and the role gains nothing.
-- (CVE-2022-2625; scripts/test installs the released versions' scripts before this runs.)
CREATE ROLE wr_mallory;
GRANT CREATE ON SCHEMA public TO wr_mallory;
-- The look-alikes, their trap, and wr_plant()/wr_unplant() (shared with tests/upgrade/paths.sh; pg_regress runs from the repository).
\i tests/upgrade/plant.sql

-- The bait works on whatever does not qualify its names (then the trap is emptied).
SELECT wr_plant();
SELECT array_position(ARRAY['a'], 'a'::text) AS found, ARRAY['a'] && ARRAY['b'] AS overlap,
       1.5 >= 1 AS ge, 'S'::"char" = 'S'::text AS eq;
SELECT what, ran_as FROM wr_trap ORDER BY what;
SELECT rolsuper AS mallory_is_superuser FROM pg_roles WHERE rolname = 'wr_mallory';
ALTER ROLE wr_mallory NOSUPERUSER;
TRUNCATE wr_trap;
SELECT wr_unplant();

-- Objects of the extension whose stored expressions (defaults, CHECKs, index predicates,
-- views, policies, trigger conditions, functions' defaults) are bound to a function or an
-- operator that is neither pg_catalog's nor the extension's own: none may be.
CREATE VIEW foreign_bindings AS
WITH members AS (
    SELECT m.classid, m.objid FROM pg_depend AS m JOIN pg_extension AS e ON e.oid = m.refobjid
    WHERE e.extname = 'webhook_routing' AND m.deptype = 'e'
),
bindings AS (
    SELECT d.classid, d.refclassid, d.refobjid,
           CASE d.classid
               WHEN 'pg_constraint'::regclass THEN (SELECT c.conrelid FROM pg_constraint AS c WHERE c.oid = d.objid)
               WHEN 'pg_attrdef'::regclass THEN (SELECT a.adrelid FROM pg_attrdef AS a WHERE a.oid = d.objid)
               WHEN 'pg_rewrite'::regclass THEN (SELECT r.ev_class FROM pg_rewrite AS r WHERE r.oid = d.objid)
               WHEN 'pg_policy'::regclass THEN (SELECT y.polrelid FROM pg_policy AS y WHERE y.oid = d.objid)
               WHEN 'pg_trigger'::regclass THEN (SELECT t.tgrelid FROM pg_trigger AS t WHERE t.oid = d.objid)
               WHEN 'pg_class'::regclass THEN coalesce((SELECT i.indrelid FROM pg_index AS i WHERE i.indexrelid = d.objid), d.objid)
               ELSE d.objid END AS owner_object
    FROM pg_depend AS d
    WHERE d.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass)
)
SELECT b.classid::regclass AS kind, b.refclassid::regclass AS bound_to,
       CASE b.refclassid WHEN 'pg_proc'::regclass THEN b.refobjid::regprocedure::text
                         ELSE b.refobjid::regoperator::text END AS what
FROM bindings AS b
WHERE b.owner_object IN (SELECT objid FROM members)
  AND b.refobjid NOT IN (SELECT objid FROM members)
  AND coalesce((SELECT p.pronamespace FROM pg_proc AS p WHERE b.refclassid = 'pg_proc'::regclass AND p.oid = b.refobjid),
               (SELECT o.oprnamespace FROM pg_operator AS o WHERE b.refclassid = 'pg_operator'::regclass AND o.oid = b.refobjid))
      <> 'pg_catalog'::regnamespace;

-- Updates from every released version: each installed before anything is planted (its own
-- script is what it was), then updated by a superuser with the look-alikes in place.
CREATE EXTENSION webhook_routing VERSION '0.1.0';
SELECT wr_plant();
ALTER EXTENSION webhook_routing UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'webhook_routing';
SELECT count(*) AS ran FROM wr_trap;
SELECT kind, bound_to, what FROM foreign_bindings ORDER BY 1, 2, 3;
SELECT wr_unplant();
DROP EXTENSION webhook_routing;
CREATE EXTENSION webhook_routing VERSION '0.2.0';
SELECT wr_plant();
ALTER EXTENSION webhook_routing UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'webhook_routing';
SELECT count(*) AS ran FROM wr_trap;
SELECT kind, bound_to, what FROM foreign_bindings ORDER BY 1, 2, 3;
SELECT wr_unplant();
DROP EXTENSION webhook_routing;
CREATE EXTENSION webhook_routing VERSION '0.3.0';
SELECT wr_plant();
ALTER EXTENSION webhook_routing UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'webhook_routing';
SELECT count(*) AS ran FROM wr_trap;
SELECT kind, bound_to, what FROM foreign_bindings ORDER BY 1, 2, 3;
SELECT wr_unplant();
DROP EXTENSION webhook_routing;
CREATE EXTENSION webhook_routing VERSION '0.4.0';
SELECT wr_plant();
ALTER EXTENSION webhook_routing UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'webhook_routing';
SELECT count(*) AS ran FROM wr_trap;
SELECT kind, bound_to, what FROM foreign_bindings ORDER BY 1, 2, 3;
SELECT wr_unplant();
DROP EXTENSION webhook_routing;
CREATE EXTENSION webhook_routing VERSION '0.5.0';
SELECT wr_plant();
ALTER EXTENSION webhook_routing UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'webhook_routing';
SELECT count(*) AS ran FROM wr_trap;
SELECT kind, bound_to, what FROM foreign_bindings ORDER BY 1, 2, 3;
SELECT wr_unplant();
DROP EXTENSION webhook_routing;
CREATE EXTENSION webhook_routing VERSION '0.6.0';
SELECT wr_plant();
ALTER EXTENSION webhook_routing UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'webhook_routing';
SELECT count(*) AS ran FROM wr_trap;
SELECT kind, bound_to, what FROM foreign_bindings ORDER BY 1, 2, 3;
DROP EXTENSION webhook_routing;

-- A fresh install, by a superuser, into public, with the look-alikes in place.
CREATE EXTENSION webhook_routing;
SELECT count(*) AS ran FROM wr_trap;
SELECT kind, bound_to, what FROM foreign_bindings ORDER BY 1, 2, 3;

-- Used by every role, through the documented calls.
CREATE ROLE wr_edge IN ROLE webhook_routing_caller;
CREATE ROLE wr_ops IN ROLE webhook_routing_admin;
\set jobs '{"entry":[{"changes":[{"value":{"messages":[{"from":"250788123456","type":"text","text":{"body":"any job?"}}]}}]}]}'
SET ROLE wr_ops;
SELECT set_routing_enabled(true, 'hostile schema') > 0 AS appended;
SELECT update_routing_percentage(100, 'hostile schema') > 0 AS appended;
SELECT set_routing_domains(ARRAY['jobs', 'marketplace', 'property', 'ai_agents'], 'hostile schema') > 0 AS appended;
UPDATE webhook_routing_thresholds SET min_samples = 1;
INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('jobs', 'keyword', 'gig*');
RESET ROLE;
-- Look-alikes of the extension's own functions, planted after install: the documented calls
-- carry their parameters' types, so they resolve to the extension's functions.
SET ROLE wr_mallory;
CREATE FUNCTION record_routing_outcome(a text, b text, c text, d text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN PERFORM public.wr_bait('record_routing_outcome(text, text, text, text)'); END $$;
CREATE FUNCTION route_decision(m jsonb) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN PERFORM public.wr_bait('route_decision(jsonb)'); END $$;
GRANT EXECUTE ON FUNCTION record_routing_outcome(text, text, text, text), route_decision(jsonb) TO PUBLIC;
RESET ROLE;
SET ROLE wr_edge;
SELECT decision_id AS decision, routed_to, reason
FROM route_decision(:'jobs'::jsonb, 'whatsapp'::text) \gset
SELECT :'routed_to' AS routed_to, :'reason' AS reason;
SELECT record_routing_outcome(:decision::bigint, 'error'::text, 120::numeric, 'boom'::text);
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms)
VALUES ('whatsapp', 'jobs', 'legacy', 'success', 80);
RESET ROLE;
SELECT status, error_message FROM webhook_routing_logs WHERE id = :decision;
SET ROLE wr_ops;
SELECT count(*) > 0 AS read FROM routing_stats('1 hour');
SELECT count(*) > 0 AS checked FROM check_routing_health('1 hour');
SELECT count(*) AS domains FROM routing_status;
SELECT start_rollout('ai_agents', '{5,50}', '0 seconds') > 0 AS started;
SELECT count(*) AS plans FROM advance_rollouts();
SELECT rollback_routing('ai_agents', 'zero') > 0 AS rolled_back;
SET client_min_messages = warning;  -- its NOTICE names the day
SELECT create_routing_log_partitions(1) >= 0 AS made;
RESET client_min_messages;
SELECT routing_report('jobs') IS NOT NULL AS reported;
RESET ROLE;
SET client_min_messages = warning;  -- its NOTICE names the time
SELECT prune_routing_logs('30 days') >= 0 AS pruned;
RESET client_min_messages;
SELECT what, count(*) AS ran FROM wr_trap GROUP BY 1 ORDER BY 1;
SELECT rolsuper AS mallory_is_superuser FROM pg_roles WHERE rolname = 'wr_mallory';
DROP FUNCTION record_routing_outcome(text, text, text, text), route_decision(jsonb);

DROP EXTENSION webhook_routing;

-- An install made by a released version while the look-alikes were there is compromised (its
-- CHECKs run them whenever a row is written): updating it refuses, changing nothing.
CREATE EXTENSION webhook_routing VERSION '0.2.0';
SELECT count(*) > 0 AS ran_at_install, (SELECT count(*) > 0 FROM foreign_bindings) AS bound FROM wr_trap;
ALTER ROLE wr_mallory NOSUPERUSER;
-- (From 18 on, an error raised in an extension's script shows the script's text as its context: none is shown.)
\set SHOW_CONTEXT never
ALTER EXTENSION webhook_routing UPDATE;
\set SHOW_CONTEXT errors
SELECT extversion FROM pg_extension WHERE extname = 'webhook_routing';
DROP EXTENSION webhook_routing;
DROP VIEW foreign_bindings;
SELECT wr_unplant();
DROP FUNCTION wr_plant(), wr_unplant();
DROP TABLE wr_trap;
REVOKE CREATE ON SCHEMA public FROM wr_mallory;
DROP ROLE wr_mallory, wr_edge, wr_ops;
