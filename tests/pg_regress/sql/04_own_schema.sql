-- The extension lives in a schema of its own, webhook_routing, where no role but its owner may
-- create anything, and every documented call names that schema. A role that may CREATE in
-- public (Supabase's postgres, or anyone granted it) plants, for every function of the
-- extension, overloads that would catch untyped arguments (integer, text, several texts,
-- variadic, defaulted), and for every table and view a look-alike view, each of which records
-- that it ran and tries to make the role a superuser. Then the documented calls, with the
-- untyped literals an operator types, run as the roles the README gives them (the pg_cron job
-- as the superuser): every one reaches the extension, none of the planted objects runs.
DROP EXTENSION webhook_routing;
DROP SCHEMA webhook_routing;  -- made by CREATE EXTENSION, it is not one of the extension's objects

-- Only in its own schema; a schema of that name that another role owns is refused, and
-- nothing is installed. In one the installer owns, what others were given is taken back.
CREATE EXTENSION webhook_routing SCHEMA public;
CREATE ROLE wr_squatter;
CREATE SCHEMA webhook_routing AUTHORIZATION wr_squatter;
-- (From 18 on, an error raised in an extension's script shows the script's text as its context: none is shown.)
\set SHOW_CONTEXT never
CREATE EXTENSION webhook_routing;
\set SHOW_CONTEXT errors
SELECT count(*) AS installed FROM pg_extension WHERE extname = 'webhook_routing';
DROP SCHEMA webhook_routing;
CREATE SCHEMA webhook_routing;
GRANT CREATE ON SCHEMA webhook_routing TO PUBLIC;
GRANT ALL ON SCHEMA webhook_routing TO wr_squatter;
CREATE EXTENSION webhook_routing;
SELECT n.nspowner::regrole AS owner, n.nspacl FROM pg_namespace AS n WHERE n.nspname = 'webhook_routing';
DROP EXTENSION webhook_routing;
DROP SCHEMA webhook_routing;

-- Installed: the schema is made by CREATE EXTENSION, owned by the installer; the extension's
-- roles may look into it, no one may create in it.
CREATE EXTENSION webhook_routing;
SELECT n.nspowner::regrole AS owner, n.nspacl FROM pg_namespace AS n WHERE n.nspname = 'webhook_routing';

-- The planting role and its trap.
CREATE ROLE wr_planter;
GRANT CREATE ON SCHEMA public TO wr_planter;
CREATE TABLE public.wr_planted_ran (what text, ran_as text);
GRANT INSERT ON public.wr_planted_ran TO PUBLIC;
SET ROLE wr_planter;
CREATE FUNCTION public.wr_caught(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.wr_planted_ran VALUES (what, current_user);
    BEGIN
        EXECUTE 'ALTER ROLE wr_planter SUPERUSER';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
END $$;
GRANT EXECUTE ON FUNCTION public.wr_caught(text) TO PUBLIC;
RESET ROLE;
-- Its look-alikes: six overloads of every function the extension has, a view for every table
-- and view it has.
CREATE TEMP TABLE wr_names AS
SELECT DISTINCT p.proname::text AS name, 'f' AS kind FROM pg_proc AS p
WHERE p.pronamespace = 'webhook_routing'::regnamespace
UNION
SELECT c.relname::text, 'r' FROM pg_class AS c
WHERE c.relnamespace = 'webhook_routing'::regnamespace AND c.relkind IN ('r', 'p', 'v');
GRANT SELECT ON wr_names TO wr_planter;
SET ROLE wr_planter;
DO $plant$
DECLARE
    n record;
    sig text;
BEGIN
    FOR n IN SELECT name, kind FROM wr_names LOOP
        IF n.kind = 'f' THEN
            FOREACH sig IN ARRAY ARRAY['', 'a text', 'a integer, b text', 'a text, b text, c text, d text',
                                       'a integer, b text, c text, d text, e integer DEFAULT 0',
                                       'VARIADIC a text[]'] LOOP
                EXECUTE format('CREATE FUNCTION public.%I(%s) RETURNS SETOF record LANGUAGE plpgsql AS %L',
                               n.name, sig, format('BEGIN PERFORM public.wr_caught(%L); END', n.name || '(' || sig || ')'));
                EXECUTE format('GRANT EXECUTE ON FUNCTION public.%I(%s) TO PUBLIC', n.name,
                               replace(sig, ' DEFAULT 0', ''));
            END LOOP;
        ELSE
            EXECUTE format('CREATE VIEW public.%I AS SELECT * FROM pg_catalog.pg_class, LATERAL (SELECT public.wr_caught(%L)::text AS caught) AS x',
                           n.name, n.name);
            EXECUTE format('GRANT SELECT ON public.%I TO PUBLIC', n.name);
        END IF;
    END LOOP;
END $plant$;
RESET ROLE;
SELECT count(*) FILTER (WHERE kind = 'f') AS functions_shadowed, count(*) FILTER (WHERE kind = 'r') AS relations_shadowed,
       (SELECT count(*) FROM pg_proc WHERE proowner = 'wr_planter'::regrole AND proname <> 'wr_caught')
     + (SELECT count(*) FROM pg_class WHERE relowner = 'wr_planter'::regrole AND relkind = 'v') AS planted
FROM wr_names;

-- The documented calls, with public on the path (as every session has it), by the documented
-- roles.
SET search_path = "$user", public;
CREATE ROLE wr_edge IN ROLE webhook_routing_caller;
CREATE ROLE wr_ops IN ROLE webhook_routing_admin;
CREATE ROLE wr_dash IN ROLE webhook_routing_reader;
\set jobs '{"entry":[{"changes":[{"value":{"messages":[{"from":"250788123456","id":"wamid.planted.1","type":"text","text":{"body":"any job for a driver?"}}]}}]}]}'
SET ROLE wr_ops;
SELECT webhook_routing.set_routing_enabled(true, 'Week 6 rollout start') > 0 AS enabled;
SELECT webhook_routing.update_routing_percentage(10, '10% test rollout') > 0 AS percentage;
SELECT webhook_routing.update_routing_percentage(25, 'jobs ahead', 'jobs') > 0 AS domain_percentage;
SELECT webhook_routing.set_routing_domains(ARRAY['jobs', 'marketplace', 'property', 'ai_agents']) > 0 AS domains;
SELECT webhook_routing.set_routing_testers('jobs', ARRAY['250788123456'], 'QA team') > 0 AS testers;
SELECT webhook_routing.set_routing_denied('jobs', ARRAY['250788999999'], 'support line') > 0 AS denied;
SELECT webhook_routing.start_rollout('ai_agents') > 0 AS started;
SELECT webhook_routing.pause_rollout('ai_agents', 'lunch') > 0 AS paused;
SELECT webhook_routing.resume_rollout('ai_agents', 'after lunch') > 0 AS resumed;
SELECT count(*) AS plans_looked_at FROM webhook_routing.advance_rollouts();
SELECT webhook_routing.abort_rollout('ai_agents', 'not today') > 0 AS aborted;
SELECT webhook_routing.rollback_routing('jobs', 'zero') > 0 AS rolled_back;
SELECT webhook_routing.update_routing_percentage(5.00, 'Stepping back') > 0 AS stepped_back;
SET client_min_messages = warning;  -- their NOTICEs name the day
SELECT webhook_routing.create_routing_log_partitions(2) >= 0 AS partitions;
RESET client_min_messages;
UPDATE webhook_routing.webhook_routing_thresholds SET min_samples = 30 WHERE domain IS NULL AND check_name = 'error_rate';
RESET ROLE;
SET ROLE wr_edge;
SELECT decision_id AS decision, routed_to, reason FROM webhook_routing.route_decision(:'jobs', 'whatsapp') \gset
SELECT :'routed_to' AS routed_to, :'reason' AS reason;
-- A driver's untyped parameters, as the postgres client sends them without casts.
PREPARE outcome AS SELECT webhook_routing.record_routing_outcome($1, $2, $3, $4);
EXECUTE outcome(:decision, 'success', '120', NULL);
SELECT count(*) AS routed FROM webhook_routing.route_messages(:'jobs', 'whatsapp');
SELECT webhook_routing.routing_bucket('jobs', '250788123456') BETWEEN 0 AND 9999 AS bucket;
RESET ROLE;
SET ROLE wr_dash;
SELECT count(*) > 0 AS stats FROM webhook_routing.webhook_routing_stats;
SELECT count(*) > 0 AS stats FROM webhook_routing.routing_stats('4 hours');
SELECT count(*) > 0 AS health FROM webhook_routing.check_routing_health();
SELECT count(*) > 0 AS status FROM webhook_routing.routing_status;
SELECT count(*) >= 0 AS sessions FROM webhook_routing.routing_sessions('1 hour');
SELECT domain AS explained FROM webhook_routing.explain_route(:'jobs') WHERE step = 'decision';
SELECT webhook_routing.routing_report('jobs') IS NOT NULL AS reported;
SELECT percentage, enabled FROM webhook_routing.webhook_routing_config ORDER BY created_at DESC, id DESC LIMIT 1;
SELECT count(*) AS outcome_logged FROM webhook_routing.webhook_routing_logs WHERE status = 'success';
RESET ROLE;
-- The pg_cron jobs of the README, run as the superuser that pg_cron runs them as.
SET client_min_messages = warning;
SELECT webhook_routing.prune_routing_logs('30 days') >= 0 AS pruned;
SELECT count(*) >= 0 AS advanced FROM webhook_routing.advance_rollouts();
RESET client_min_messages;

-- Nor can the planting role squat a day partition's name beside the log (which would stop
-- create_routing_log_partitions and prune_routing_logs every day).
SET ROLE wr_planter;
CREATE TABLE webhook_routing.webhook_routing_logs_p20991231 (id bigint);
RESET ROLE;

-- Nothing planted ran, and the planting role gained nothing.
SELECT what, ran_as FROM public.wr_planted_ran ORDER BY 1, 2;
SELECT rolsuper AS planter_is_superuser FROM pg_roles WHERE rolname = 'wr_planter';
-- (What the same look-alikes catch when a call does not name the schema: the extension is
-- not on that path, so the planted overload answers.)
SELECT count(*) AS unqualified_rows FROM update_routing_percentage(10, 'not named') AS x(r int);
SELECT what FROM public.wr_planted_ran ORDER BY 1;

RESET search_path;
DROP EXTENSION webhook_routing;
SET ROLE wr_planter;
DO $unplant$
DECLARE
    f regprocedure;
    v regclass;
BEGIN
    FOR f IN SELECT p.oid FROM pg_proc AS p WHERE p.pronamespace = 'public'::regnamespace AND p.proowner = 'wr_planter'::regrole
             AND p.proname <> 'wr_caught' LOOP
        EXECUTE format('DROP FUNCTION %s', f);
    END LOOP;
    FOR v IN SELECT c.oid FROM pg_class AS c WHERE c.relnamespace = 'public'::regnamespace AND c.relowner = 'wr_planter'::regrole LOOP
        EXECUTE format('DROP VIEW %s', v);
    END LOOP;
END $unplant$;
DROP FUNCTION public.wr_caught(text);
RESET ROLE;
DROP TABLE public.wr_planted_ran, wr_names;
REVOKE CREATE ON SCHEMA public FROM wr_planter;
DROP ROLE wr_squatter, wr_planter, wr_edge, wr_ops, wr_dash;
DROP SCHEMA webhook_routing;
