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

-- Steps are read by position, whatever the array's bounds; threshold levels have at most six
-- decimals and are finite; a caller's row never names its id.
CREATE OR REPLACE FUNCTION @extschema@.start_rollout(
    domain text,
    steps numeric[] DEFAULT '{5,10,25,50,100}',
    hold interval DEFAULT '4 hours',
    reason text DEFAULT NULL,
    max_hold interval DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    plan_id bigint;
    config_id bigint;
    n integer := pg_catalog.cardinality(start_rollout.steps);
    existing @extschema@.webhook_routing_rollouts;
    c @extschema@.webhook_routing_config;
    hint text := 'Pass ascending percentages from 0 to 100 with at most two decimals, e.g. ''{5,10,25,50,100}''.';
BEGIN
    IF start_rollout.domain IS NULL OR start_rollout.steps IS NULL OR start_rollout.hold IS NULL THEN
        RAISE EXCEPTION 'domain, steps and hold must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'E.g. start_rollout(''jobs'', ''{5,10,25,50,100}'', ''4 hours'').';
    END IF;
    IF n = 0 OR pg_catalog.array_ndims(start_rollout.steps) <> 1 THEN
        RAISE EXCEPTION 'a rollout needs at least one step' USING ERRCODE = 'invalid_parameter_value', HINT = hint;
    END IF;
    -- Step i is the i-th element, whatever bounds the array was written with ('[0:1]={5,10}').
    start_rollout.steps := ARRAY(SELECT u.step FROM pg_catalog.unnest(start_rollout.steps) WITH ORDINALITY AS u(step, i)
                                 ORDER BY u.i);
    FOR i IN 1 .. n LOOP
        IF start_rollout.steps[i] IS NULL THEN
            RAISE EXCEPTION 'step % is NULL', i USING ERRCODE = 'null_value_not_allowed', HINT = hint;
        END IF;
        IF start_rollout.steps[i] = 'NaN' OR start_rollout.steps[i] < 0 OR start_rollout.steps[i] > 100
           OR start_rollout.steps[i] <> pg_catalog.round(start_rollout.steps[i], 2) THEN
            RAISE EXCEPTION 'invalid step %: %', i, start_rollout.steps[i]
                USING ERRCODE = 'invalid_parameter_value', HINT = hint;
        END IF;
        IF i > 1 AND start_rollout.steps[i] <= start_rollout.steps[i - 1] THEN
            RAISE EXCEPTION 'steps must ascend: step % (%) is not above step % (%)',
                i, start_rollout.steps[i], i - 1, start_rollout.steps[i - 1]
                USING ERRCODE = 'invalid_parameter_value', HINT = hint;
        END IF;
    END LOOP;
    IF start_rollout.hold < interval '0' THEN
        RAISE EXCEPTION 'invalid hold %', start_rollout.hold
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'How long each step must stay healthy before the next, e.g. ''4 hours''.';
    END IF;
    IF start_rollout.max_hold < start_rollout.hold THEN
        RAISE EXCEPTION 'invalid max_hold %: shorter than the hold %', start_rollout.max_hold, start_rollout.hold
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'How long a step may wait for evidence, at least the hold; NULL: the hold or 48 hours, whichever is longer.';
    END IF;
    PERFORM @extschema@.webhook_routing_check_reason(start_rollout.reason);
    -- One plan per domain: concurrent starts wait for each other here.
    LOCK TABLE @extschema@.webhook_routing_rollouts IN SHARE ROW EXCLUSIVE MODE;
    -- Under REPEATABLE READ or SERIALIZABLE, refuse (40001) a snapshot older than a change
    -- committed since: acting on it could undo that change.
    PERFORM @extschema@.webhook_routing_require_current_snapshot();
    SELECT * INTO existing FROM @extschema@.webhook_routing_rollouts AS r
    WHERE r.domain = start_rollout.domain AND r.state IN ('active', 'paused');
    IF FOUND THEN
        RAISE EXCEPTION 'domain "%" already has a rollout in progress', start_rollout.domain
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('Rollout %s is %s at step %s of %s (%s%%).', existing.id,
                                             existing.state, existing.step, pg_catalog.cardinality(existing.steps),
                                             existing.steps[existing.step]),
                  HINT = 'abort_rollout() ends it; or let it complete.';
    END IF;
    INSERT INTO @extschema@.webhook_routing_rollouts (domain, steps, hold, max_hold, reason, started_by)
    VALUES (start_rollout.domain, start_rollout.steps, start_rollout.hold,
            coalesce(start_rollout.max_hold, greatest(start_rollout.hold, interval '48 hours')), start_rollout.reason, '?')
    RETURNING id INTO plan_id;
    -- Refuses a protected or unknown domain (the plan row goes with the error).
    config_id := @extschema@.webhook_routing_set_step(
        start_rollout.domain, start_rollout.steps[1], 'rollout_start',
        coalesce(start_rollout.reason, pg_catalog.format('rollout %s started: step 1 of %s', plan_id, n)),
        plan_id,
        pg_catalog.jsonb_build_object('transition', 'start', 'step', 1, 'steps', start_rollout.steps,
                                      'to', start_rollout.steps[1], 'hold', start_rollout.hold::text,
                                      'max_hold', coalesce(start_rollout.max_hold, greatest(start_rollout.hold, interval '48 hours'))::text));
    SELECT * INTO c FROM @extschema@.webhook_routing_config AS x WHERE x.id = config_id;
    UPDATE @extschema@.webhook_routing_rollouts AS r SET started_by = c.changed_by WHERE r.id = plan_id;
    RAISE NOTICE '%', pg_catalog.format('Rollout %s of %s started at %s%%: %s steps (%s%%), each held %s.',
        plan_id, start_rollout.domain, start_rollout.steps[1], n,
        pg_catalog.array_to_string(start_rollout.steps, '% → '), start_rollout.hold)
        USING DETAIL = CASE
            WHEN NOT c.enabled THEN 'Routing is disabled globally: nothing is routed (and the plan waits) until set_routing_enabled(true).'
            WHEN (c.domain_enabled ->> start_rollout.domain)::boolean IS FALSE THEN
                pg_catalog.format('Routing is disabled for %s: the plan waits until set_routing_enabled(true, ..., %L).',
                                  start_rollout.domain, start_rollout.domain)
            ELSE 'advance_rollouts() moves it on; schedule it with pg_cron every minute.' END;
    RETURN plan_id;
END $$;

CREATE OR REPLACE FUNCTION @extschema@.webhook_routing_thresholds_validate() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.domain IS NOT NULL AND NEW.domain !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid threshold domain "%"', NEW.domain
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use a domain name, e.g. jobs, or NULL for the default of every domain.';
    END IF;
    IF NEW.check_name IS NULL
       OR NEW.check_name NOT IN ('error_rate', 'p95_latency', 'error_rate_vs_legacy', 'p95_vs_legacy', 'sample_ratio',
                                 'session_breaks') THEN
        RAISE EXCEPTION 'unknown health check "%"', coalesce(NEW.check_name, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'check_name is error_rate (%), p95_latency (ms), error_rate_vs_legacy (points), p95_vs_legacy (ratio), sample_ratio (chi-square) or session_breaks (%).';
    END IF;
    IF NEW.warning IS NULL OR NEW.critical IS NULL THEN
        RAISE EXCEPTION 'a threshold needs both a warning and a critical level'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Set warning and critical, e.g. 0.1 and 0.5 for the error rate.';
    END IF;
    IF NEW.warning = 'NaN' OR NEW.critical = 'NaN' OR NEW.warning < 0 OR NEW.critical < NEW.warning THEN
        RAISE EXCEPTION 'invalid levels for %: warning %, critical %', NEW.check_name, NEW.warning, NEW.critical
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The warning level is a number of at least 0, and the critical level is at least the warning level.',
                  HINT = 'E.g. warning 0.1, critical 0.5 for error_rate (%); 2000, 3000 for p95_latency (ms).';
    END IF;
    IF NEW.warning IN ('Infinity', '-Infinity') OR NEW.critical IN ('Infinity', '-Infinity')
       OR NEW.warning <> pg_catalog.round(NEW.warning, 6) OR NEW.critical <> pg_catalog.round(NEW.critical, 6) THEN
        RAISE EXCEPTION 'invalid levels for %: warning %, critical %', NEW.check_name,
                left(NEW.warning::text, 24), left(NEW.critical::text, 24)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A level is a finite number with at most six decimals.',
                  HINT = 'E.g. warning 0.1, critical 0.5 for error_rate (%); 2000, 3000 for p95_latency (ms).';
    END IF;
    IF NEW.min_samples IS NULL OR NEW.min_samples < 1 THEN
        RAISE EXCEPTION 'invalid min_samples %', coalesce(NEW.min_samples::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'min_samples is at least 1: the number of outcomes below which health says insufficient_data.';
    END IF;
    -- Left out, the action is the check's default: the sample ratio holds, the others roll back.
    NEW.action := coalesce(NEW.action, CASE WHEN NEW.check_name = 'sample_ratio' THEN 'hold' ELSE 'rollback' END);
    NEW.dry_run := coalesce(NEW.dry_run, false);
    IF NEW.action NOT IN ('rollback', 'hold', 'warn') THEN
        RAISE EXCEPTION 'invalid action "%" for %', coalesce(NEW.action, 'NULL'), NEW.check_name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A check''s action on a fail is rollback, hold (no advance) or warn (reported only).';
    END IF;
    IF NEW.check_name = 'sample_ratio' AND NEW.action = 'rollback' THEN
        RAISE EXCEPTION 'the sample_ratio check cannot roll back'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A skewed sample ratio says the callers or the log are wrong, not the unified handler.',
                  HINT = 'Set its action to hold or warn.';
    END IF;
    RETURN NEW;
END $$;


REVOKE INSERT (id) ON @extschema@.webhook_routing_logs FROM webhook_routing_caller;

-- Latencies (issue 28 §2): milliseconds from 0 to one day, kept to the microsecond, whoever
-- writes them. 0.6.0 took any non-negative number, NaN, 1e308 and 1e-400 included. Rows it
-- kept with more decimals are rounded; NaN and longer than a day are not latencies: theirs
-- becomes NULL (unknown), and a WARNING says how many. (The sketches they went into stay as
-- they are: read now, a sample beyond a day counts as a day; src/ddsketch.rs.)
DO $$
DECLARE
    rounded bigint;
    dropped bigint;
BEGIN
    UPDATE @extschema@.webhook_routing_logs
       SET response_time_ms = pg_catalog.round(response_time_ms, 3)
     WHERE response_time_ms OPERATOR(pg_catalog.>=) 0
       AND response_time_ms OPERATOR(pg_catalog.<=) 86400000
       AND pg_catalog.scale(response_time_ms) OPERATOR(pg_catalog.>) 3;
    GET DIAGNOSTICS rounded = ROW_COUNT;
    UPDATE @extschema@.webhook_routing_logs
       SET response_time_ms = NULL
     WHERE NOT (response_time_ms OPERATOR(pg_catalog.>=) 0
                AND response_time_ms OPERATOR(pg_catalog.<=) 86400000);
    GET DIAGNOSTICS dropped = ROW_COUNT;
    IF rounded OPERATOR(pg_catalog.>) 0 OR dropped OPERATOR(pg_catalog.>) 0 THEN
        RAISE WARNING 'webhook_routing_logs: % latencies rounded to 0.001 ms, % that were not latencies (NaN or more than a day) set to NULL',
            rounded, dropped;
    END IF;
END $$;
ALTER TABLE @extschema@.webhook_routing_logs
    DROP CONSTRAINT webhook_routing_logs_response_time_ms_check,
    ADD CONSTRAINT webhook_routing_logs_response_time_ms_check
        CHECK (response_time_ms OPERATOR(pg_catalog.>=) 0
               AND response_time_ms OPERATOR(pg_catalog.<=) 86400000
               AND pg_catalog.scale(response_time_ms) OPERATOR(pg_catalog.<=) 3);

-- A latency is milliseconds from 0 to one day (86,400,000), kept to the microsecond, whoever
-- writes it: anything else is refused with the reason, more decimals are rounded. The sketches'
-- bins cover exactly that range (src/ddsketch.rs), so no single row can move a percentile by
-- more than their error. The WHEN clause calls this only for a value that needs either: a
-- write with a plain latency (or none) pays nothing. The table's CHECK says the same.
CREATE FUNCTION @extschema@.webhook_routing_logs_latency() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ms numeric := NEW.response_time_ms;
    shown text := ms::text;
BEGIN
    IF ms >= 0 AND ms <= 86400000 THEN
        NEW.response_time_ms := round(ms, 3);
        RETURN NEW;
    END IF;
    IF length(shown) > 20 THEN
        shown := btrim(to_char(ms, '9.999EEEE'));
    END IF;
    RAISE EXCEPTION 'invalid response_time_ms %', shown
        USING ERRCODE = 'check_violation',
              DETAIL = 'A latency is a number of milliseconds from 0 to 86400000 (one day); NaN and infinities are not latencies.',
              HINT = 'Log the handler''s response time in milliseconds, or NULL if it is not known.';
END $$;

CREATE TRIGGER webhook_routing_logs_latency
    BEFORE INSERT OR UPDATE OF response_time_ms ON @extschema@.webhook_routing_logs
    FOR EACH ROW WHEN (NOT (NEW.response_time_ms OPERATOR(pg_catalog.>=) 0
                            AND NEW.response_time_ms OPERATOR(pg_catalog.<=) 86400000
                            AND pg_catalog.scale(NEW.response_time_ms) OPERATOR(pg_catalog.<=) 3))
    EXECUTE FUNCTION @extschema@.webhook_routing_logs_latency();

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
