-- webhook_routing 0.6.0 -> 0.7.0: safety round 2.
-- Runs with the extension's schema on search_path: every function and operator is qualified.

-- The caller's limits hold for roles that bypass row level security too (src/log_policy.rs).
CREATE FUNCTION @extschema@."webhook_routing_logs_caller_limits"()
	RETURNS TRIGGER
	LANGUAGE c
	AS 'MODULE_PATHNAME', 'webhook_routing_logs_caller_limits_wrapper';
CREATE TRIGGER webhook_routing_logs_caller_limits
    BEFORE INSERT OR UPDATE ON @extschema@.webhook_routing_logs
    FOR EACH ROW EXECUTE FUNCTION @extschema@.webhook_routing_logs_caller_limits();

-- Events carry ids, counts and states, never a list, a reason or a role, and cannot make the
-- change they announce fail.
CREATE OR REPLACE FUNCTION @extschema@.webhook_routing_config_notify() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    event jsonb;
BEGIN
    event := jsonb_build_object(
        'event', 'config', 'config_id', NEW.id, 'action', left(NEW.action, 64),
        'created_at', NEW.created_at, 'enabled', NEW.enabled, 'percentage', NEW.percentage,
        'domain_percentages', (SELECT count(*) FROM jsonb_object_keys(NEW.domain_percentages)),
        'domain_switches', (SELECT count(*) FROM jsonb_object_keys(NEW.domain_enabled)),
        'testers', (SELECT coalesce(sum(jsonb_array_length(l.value)), 0) FROM jsonb_each(NEW.testers) AS l),
        'denied', (SELECT coalesce(sum(jsonb_array_length(l.value)), 0) FROM jsonb_each(NEW.denied) AS l),
        'rollout_id', NEW.rollout_id);
    IF NEW.rollout_id IS NOT NULL THEN
        event := event || coalesce((
            SELECT jsonb_build_object('rollout', jsonb_build_object(
                       'id', r.id, 'domain', left(r.domain, 63), 'state', left(r.state, 16), 'step', r.step))
            FROM @extschema@.webhook_routing_rollouts AS r WHERE r.id = NEW.rollout_id), '{}');
    END IF;
    PERFORM pg_notify('webhook_routing', event::text);
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'config change % was not announced on webhook_routing: %', NEW.id, SQLERRM;
    RETURN NULL;
END $$;

-- Privileges as a fresh install has them, whatever version this update ends at: nothing for
-- PUBLIC, nor for anyone default privileges gave something to while an update created
-- objects (Supabase grants every new function and table in public to anon, authenticated and
-- service_role); the extension's own roles keep what its scripts granted them. (Added in
-- 0.7.0 to every update script, released ones too, as PostgreSQL did to its contrib scripts
-- for CVE-2022-2625: an update to any version a user can name ends here.)
DO $$
DECLARE
    obj record;
    grantee text;
BEGIN
    FOR obj IN
        SELECT 'FUNCTION' AS kind, p.oid::pg_catalog.regprocedure::pg_catalog.text AS name,
               p.proacl AS acl, p.proowner AS owner
        FROM pg_catalog.pg_depend d
        JOIN pg_catalog.pg_extension e
          ON e.oid OPERATOR(pg_catalog.=) d.refobjid AND e.extname OPERATOR(pg_catalog.=) 'webhook_routing'
        JOIN pg_catalog.pg_proc p
          ON p.oid OPERATOR(pg_catalog.=) d.objid
         AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
        WHERE d.deptype OPERATOR(pg_catalog.=) 'e'
        UNION ALL
        SELECT CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
               c.oid::pg_catalog.regclass::pg_catalog.text, c.relacl, c.relowner
        FROM pg_catalog.pg_class c
        WHERE c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p', 'v', 'S']::pg_catalog."char"[])
          AND (c.oid OPERATOR(pg_catalog.=) ANY (ARRAY(
                   SELECT d.objid FROM pg_catalog.pg_depend d
                   JOIN pg_catalog.pg_extension e
                     ON e.oid OPERATOR(pg_catalog.=) d.refobjid AND e.extname OPERATOR(pg_catalog.=) 'webhook_routing'
                   WHERE d.deptype OPERATOR(pg_catalog.=) 'e'
                     AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass))
               OR c.oid OPERATOR(pg_catalog.=) ANY (ARRAY(
                   SELECT d.objid FROM pg_catalog.pg_depend d
                   JOIN pg_catalog.pg_depend t
                     ON t.objid OPERATOR(pg_catalog.=) d.refobjid AND t.deptype OPERATOR(pg_catalog.=) 'e'
                   JOIN pg_catalog.pg_extension e
                     ON e.oid OPERATOR(pg_catalog.=) t.refobjid AND e.extname OPERATOR(pg_catalog.=) 'webhook_routing'
                   WHERE d.deptype OPERATOR(pg_catalog.=) 'i'
                     AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass)))
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON %s %s FROM PUBLIC', obj.kind, obj.name);
        FOR grantee IN
            SELECT DISTINCT a.grantee::pg_catalog.regrole::pg_catalog.text
            FROM pg_catalog.aclexplode(obj.acl) AS a
            WHERE a.grantee OPERATOR(pg_catalog.<>) 0::pg_catalog.oid
              AND a.grantee OPERATOR(pg_catalog.<>) obj.owner
              AND NOT (a.grantee::pg_catalog.regrole::pg_catalog.text OPERATOR(pg_catalog.=) ANY
                       (ARRAY['webhook_routing_admin', 'webhook_routing_caller', 'webhook_routing_reader']))
        LOOP
            EXECUTE pg_catalog.format('REVOKE ALL ON %s %s FROM %s', obj.kind, obj.name, grantee);
        END LOOP;
    END LOOP;
END $$;

-- 0.7.0 keeps the extension in a schema of its own, webhook_routing (sql/bootstrap.sql says
-- why): an install in another schema (public, where other roles may create look-alikes of its
-- functions and views) moves there with everything it owns and every day partition of the log.
-- PostgreSQL moves only relocatable extensions, and moves them whole: the update marks this
-- one relocatable for the move, moves it with ALTER EXTENSION ... SET SCHEMA, and marks it
-- back. Its SQL and PL/pgSQL functions name every object with its schema, so each is then
-- written again with the new schema in its body, as a fresh install writes it.
DO $$
DECLARE
    ext pg_catalog.oid;
    old text;
    owner pg_catalog.oid;
    acl pg_catalog.aclitem[];
    grantee pg_catalog.oid;
    part pg_catalog.regclass;
    fn pg_catalog.oid;
BEGIN
    SELECT e.oid, n.nspname INTO ext, old
    FROM pg_catalog.pg_extension AS e JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
    WHERE e.extname OPERATOR(pg_catalog.=) 'webhook_routing';
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace AS n WHERE n.nspname OPERATOR(pg_catalog.=) 'webhook_routing') THEN
        CREATE SCHEMA webhook_routing;
        -- Made by this script, the schema would be a member of the extension; a fresh install's
        -- is not (CREATE EXTENSION makes it before the script runs).
        ALTER EXTENSION webhook_routing DROP SCHEMA webhook_routing;
    END IF;
    SELECT n.nspowner, n.nspacl INTO owner, acl FROM pg_catalog.pg_namespace AS n
    WHERE n.nspname OPERATOR(pg_catalog.=) 'webhook_routing';
    IF owner OPERATOR(pg_catalog.<>) (SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER)
       AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.oid OPERATOR(pg_catalog.=) owner) THEN
        RAISE EXCEPTION 'schema webhook_routing belongs to %, not to the role that updates webhook_routing',
                owner::pg_catalog.regrole
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Its owner could create functions and views beside the extension''s that catch the calls meant for them.',
                  HINT = 'Drop that schema (or rename it) and update again: the update makes the schema itself.';
    END IF;
    -- What others were given on it (by hand, or by default privileges on schemas) is taken
    -- back; sql/security.sql then lets the extension's roles use it, and only use it.
    FOR grantee IN
        SELECT DISTINCT a.grantee FROM pg_catalog.aclexplode(acl) AS a
        WHERE a.grantee OPERATOR(pg_catalog.<>) owner
          AND (a.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid
               OR NOT (a.grantee::pg_catalog.regrole::pg_catalog.text OPERATOR(pg_catalog.=) ANY
                       (ARRAY['webhook_routing_admin', 'webhook_routing_caller', 'webhook_routing_reader'])))
        ORDER BY a.grantee
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON SCHEMA webhook_routing FROM %s',
            CASE WHEN grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC' ELSE grantee::pg_catalog.regrole::pg_catalog.text END);
        RAISE WARNING 'took every privilege on schema webhook_routing back from %',
            CASE WHEN grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC' ELSE grantee::pg_catalog.regrole::pg_catalog.text END;
    END LOOP;
    IF old OPERATOR(pg_catalog.=) 'webhook_routing' THEN
        RETURN;
    END IF;
    UPDATE pg_catalog.pg_extension SET extrelocatable = true WHERE oid OPERATOR(pg_catalog.=) ext;
    ALTER EXTENSION webhook_routing SET SCHEMA webhook_routing;
    UPDATE pg_catalog.pg_extension SET extrelocatable = false WHERE oid OPERATOR(pg_catalog.=) ext;
    -- The day partitions that create_routing_log_partitions made are not members: moved one by one.
    FOR part IN
        SELECT i.inhrelid::pg_catalog.regclass FROM pg_catalog.pg_inherits AS i
        JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
        WHERE i.inhparent OPERATOR(pg_catalog.=) 'webhook_routing.webhook_routing_logs'::pg_catalog.regclass
          AND c.relnamespace OPERATOR(pg_catalog.<>) 'webhook_routing'::pg_catalog.regnamespace::pg_catalog.oid
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s SET SCHEMA webhook_routing', part);
    END LOOP;
    FOR fn IN
        SELECT p.oid FROM pg_catalog.pg_depend AS d
        JOIN pg_catalog.pg_proc AS p ON p.oid OPERATOR(pg_catalog.=) d.objid
        JOIN pg_catalog.pg_language AS l ON l.oid OPERATOR(pg_catalog.=) p.prolang
        WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
          AND d.refobjid OPERATOR(pg_catalog.=) ext AND d.deptype OPERATOR(pg_catalog.=) 'e'
          AND l.lanname OPERATOR(pg_catalog.=) ANY (ARRAY['sql', 'plpgsql']::pg_catalog.name[])
    LOOP
        EXECUTE pg_catalog.regexp_replace(pg_catalog.pg_get_functiondef(fn),
            '(^|[^A-Za-z0-9_$"])' OPERATOR(pg_catalog.||) pg_catalog.regexp_replace(old, '([^A-Za-z0-9_])', '\\\1', 'g')
                OPERATOR(pg_catalog.||) '\.',
            '\1webhook_routing.', 'g');
    END LOOP;
END $$;
REVOKE ALL ON SCHEMA webhook_routing FROM webhook_routing_caller, webhook_routing_reader, webhook_routing_admin;
GRANT USAGE ON SCHEMA webhook_routing TO webhook_routing_caller, webhook_routing_reader, webhook_routing_admin;
