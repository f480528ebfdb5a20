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
