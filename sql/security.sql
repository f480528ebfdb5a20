-- Who may do what. Runs last, once every object exists. Like every install script, it runs
-- with the target schema on search_path: its DO blocks and policies name every function and
-- operator with its schema.
--
-- Three roles, created when absent (roles belong to the cluster: DROP EXTENSION leaves them):
--   webhook_routing_caller  the webhook functions: route_decision, record_routing_outcome
--   webhook_routing_reader  dashboards and on-call: stats, health, the tables read-only
--   webhook_routing_admin   operators: the admin functions, rules and thresholds, and all a
--                           reader may do
-- Grant them to login roles (on Supabase: service_role to the caller role, operators to admin).
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['webhook_routing_admin', 'webhook_routing_caller', 'webhook_routing_reader'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END $$;

-- Nothing for PUBLIC, nor for anyone default privileges gave something to while the objects
-- were created (Supabase grants every new table and function in public to anon and
-- authenticated): every privilege on the extension's objects is taken back, but the owner's.
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
               -- identity sequences belong to their table, not to the extension
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
        LOOP
            EXECUTE pg_catalog.format('REVOKE ALL ON %s %s FROM %s', obj.kind, obj.name, grantee);
        END LOOP;
    END LOOP;
END $$;

-- No JIT in the extension's own statements (src/pg/config_cache.rs, without_jit, says why): every function
-- of the extension that pins its settings (the SQL and PL/pgSQL ones, and the C ones that run
-- statements) also says jit = off, so that under jit = on, whatever jit_above_cost, none of its
-- statements is compiled. An update that replaces one of them runs this again.
DO $$
DECLARE
    f record;
BEGIN
    FOR f IN
        SELECT n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid) AS args
        FROM pg_catalog.pg_depend d
        JOIN pg_catalog.pg_extension e
          ON e.oid OPERATOR(pg_catalog.=) d.refobjid AND e.extname OPERATOR(pg_catalog.=) 'webhook_routing'
        JOIN pg_catalog.pg_proc p
          ON p.oid OPERATOR(pg_catalog.=) d.objid
         AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
        JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace
        WHERE d.deptype OPERATOR(pg_catalog.=) 'e' AND p.proconfig IS NOT NULL
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %I.%I(%s) SET jit = off', f.nspname, f.proname, f.args);
    END LOOP;
END $$;

-- The extension's schema (its own, see sql/bootstrap.sql): its roles may look up what is in it;
-- no one else may, and no one but its owner may create there.
REVOKE ALL ON SCHEMA @extschema@ FROM webhook_routing_caller, webhook_routing_reader, webhook_routing_admin;
GRANT USAGE ON SCHEMA @extschema@ TO webhook_routing_caller, webhook_routing_reader, webhook_routing_admin;

-- The caller: decide, log, report outcomes. route_decision and record_routing_outcome run with
-- the caller's rights (a SECURITY DEFINER switch would cost every webhook a GUC change), so
-- the caller reads the config and rules it caches and writes the log; it may also log a
-- request by a plain INSERT, dated within minutes of now (its INSERT policy below). It has
-- no privilege on the latency sketches: the log's triggers write them as the owner
-- (src/stats/sketch.rs), so health follows the log rows a caller may write and nothing else.
GRANT EXECUTE ON FUNCTION
    @extschema@.route_decision(jsonb, text, text, boolean),
    @extschema@.route_messages(jsonb, text, boolean),
    @extschema@.record_routing_outcome(bigint, text, numeric, text),
    @extschema@.routing_bucket(text, text),
    @extschema@.webhook_routing_plausible_time(timestamptz)
    TO webhook_routing_caller;
GRANT SELECT ON @extschema@.webhook_routing_rules TO webhook_routing_caller;
-- A sender's key, conversation and session are route_decision's alone (it writes them as the
-- owner, and counts sessions when it does): a caller's own rows cannot steer session health.
-- Not the id: a caller's row takes its id from the sequence, never one of a decision's (one
-- outcome would then complete both rows). Not the message id: the log keeps a message id's
-- keyed hash only (route_decision writes it), never a wamid, which holds its sender's number.
GRANT INSERT (webhook_name, domain, routed_to, response_time_ms, status, error_message, reason,
              bucket, percentage, config_id, rule_id, created_at, completed_at)
    ON @extschema@.webhook_routing_logs TO webhook_routing_caller;
GRANT UPDATE (status, response_time_ms, error_message, completed_at)
    ON @extschema@.webhook_routing_logs TO webhook_routing_caller;

-- The reader: everything read-only; stats and health.
GRANT EXECUTE ON FUNCTION
    @extschema@.routing_stats(interval),
    @extschema@.check_routing_health(interval),
    @extschema@.webhook_routing_window(interval, text),
    @extschema@.webhook_routing_health(interval, text),
    @extschema@.webhook_routing_check_window(interval),
    @extschema@.webhook_routing_sketch_summary(bytea[]),
    @extschema@.webhook_routing_sketch_union(bytea[]),
    @extschema@.webhook_routing_sketch_above(bytea[], double precision[]),
    @extschema@.webhook_routing_sample_ratio(double precision[], boolean[], bytea[]),
    @extschema@.webhook_routing_sample_ratios(interval, text),
    @extschema@.webhook_routing_judge(text, double precision, integer, bigint, double precision, double precision, double precision, double precision, double precision),
    @extschema@.routing_pending_timeout_seconds(),
    @extschema@.routing_bucket(text, text),
    @extschema@.routing_report(text, timestamptz, text),
    @extschema@.webhook_routing_step_outcomes(text, timestamptz, timestamptz, bigint, timestamptz, bigint),
    @extschema@.webhook_routing_report_domains(text),
    @extschema@.webhook_routing_report_gates(text),
    @extschema@.webhook_routing_report_steps(text, timestamptz),
    @extschema@.webhook_routing_report_series(text, timestamptz, timestamptz, interval),
    @extschema@.webhook_routing_report_width(interval),
    @extschema@.webhook_routing_report_cells(text, timestamptz, timestamptz, bigint, timestamptz, bigint, numeric[]),
    @extschema@.webhook_routing_report_mark(text),
    @extschema@.webhook_routing_report_scale(numeric),
    @extschema@.webhook_routing_report_markdown(text[], timestamptz),
    @extschema@.webhook_routing_report_svg_lines(jsonb, text, timestamptz, timestamptz, interval, numeric, text, text),
    @extschema@.webhook_routing_report_html(text[], timestamptz),
    @extschema@.webhook_routing_html(text),
    @extschema@.webhook_routing_markdown(text),
    @extschema@.webhook_routing_duration(interval),
    @extschema@.explain_route(jsonb, boolean),
    @extschema@.routing_sessions(interval),
    @extschema@.webhook_routing_sessions_between(timestamptz, timestamptz),
    @extschema@.routing_conversation_timeout_seconds()
    TO webhook_routing_reader, webhook_routing_admin;
-- Metrics for Prometheus (sql/metrics.sql): for dashboards and on-call, not for the webhooks.
GRANT EXECUTE ON FUNCTION
    @extschema@.routing_metrics(),
    @extschema@.webhook_routing_metric_labels(text[], text[]),
    @extschema@.webhook_routing_metric_label(text),
    @extschema@.webhook_routing_sketch_totals(bytea[]),
    @extschema@.webhook_routing_decision_counts(),
    @extschema@.webhook_routing_decisions_uncounted()
    TO webhook_routing_reader, webhook_routing_admin;
GRANT SELECT ON
    @extschema@.webhook_routing_rules,
    @extschema@.webhook_routing_thresholds,
    @extschema@.webhook_routing_health_checks,
    @extschema@.webhook_routing_health_check_actions,
    @extschema@.webhook_routing_stats,
    @extschema@.webhook_routing_rollouts,
    @extschema@.routing_status,
    @extschema@.routing_overview,
    @extschema@.webhook_routing_metric_totals
    TO webhook_routing_reader, webhook_routing_admin;

-- No phone number can be recovered from what a caller, reader or admin reads. Only the owner
-- reads (route_decision and the health functions read them as the owner):
--   the log's bucket and sender_key: the bucket is an unkeyed hash of domain and number
--     (README, Sticky buckets), so a number range hashed in two domains pins a sender whose
--     rows the key links; a sender's rows are nobody's to link;
--   the sketches' split_buckets: a quiet minute's set holds one sender's bucket;
--   the config's testers and denied: numbers, typed by admins, who alone read them back.
-- The log's message_id is a keyed hash (src/route/history.rs, message_key), never a wamid.
-- Column privileges: a column added later is no one's until it is granted here.
GRANT SELECT (id, percentage, enabled, domains, protected_domains, domain_percentages,
              domain_enabled, action, reason, changed_by, created_at, rollout_id, detail)
    ON @extschema@.webhook_routing_config
    TO webhook_routing_caller, webhook_routing_reader, webhook_routing_admin;
GRANT SELECT (testers, denied) ON @extschema@.webhook_routing_config TO webhook_routing_admin;
GRANT SELECT (id, webhook_name, domain, routed_to, response_time_ms, status, error_message,
              reason, percentage, config_id, rule_id, message_id, created_at, completed_at,
              conversation_id, retries)
    ON @extschema@.webhook_routing_logs
    TO webhook_routing_caller, webhook_routing_reader, webhook_routing_admin;
GRANT SELECT (minute, domain, routed_to, shard, completed, errors, latency, split_n,
              split_expected, split_at)
    ON @extschema@.webhook_routing_sketches TO webhook_routing_reader, webhook_routing_admin;
GRANT SELECT ON @extschema@.webhook_routing_session_minutes TO webhook_routing_reader, webhook_routing_admin;
GRANT EXECUTE ON FUNCTION @extschema@.routing_message_key(text)
    TO webhook_routing_caller, webhook_routing_reader, webhook_routing_admin;

-- The admin: the config history only through the admin functions (SECURITY DEFINER, so that
-- no one rewrites or deletes history by hand); rules and thresholds directly.
GRANT EXECUTE ON FUNCTION
    @extschema@.update_routing_percentage(numeric, text, text),
    @extschema@.set_routing_enabled(boolean, text, text),
    @extschema@.set_routing_domains(text[], text),
    @extschema@.set_routing_testers(text, text[], text),
    @extschema@.set_routing_denied(text, text[], text)
    TO webhook_routing_admin;
GRANT EXECUTE ON FUNCTION
    @extschema@.create_routing_log_partitions(integer),
    @extschema@.prune_routing_logs(interval),
    @extschema@.start_rollout(text, numeric[], interval, text, interval),
    @extschema@.pause_rollout(text, text),
    @extschema@.resume_rollout(text, text),
    @extschema@.abort_rollout(text, text),
    @extschema@.rollback_routing(text, text),
    @extschema@.advance_rollouts()
    TO webhook_routing_admin;
GRANT INSERT, UPDATE, DELETE ON @extschema@.webhook_routing_rules, @extschema@.webhook_routing_thresholds
    TO webhook_routing_admin;
GRANT USAGE ON SEQUENCE @extschema@.webhook_routing_rules_id_seq TO webhook_routing_admin;
-- A caller's plain INSERT into the log takes its id from the sequence (route_decision's own
-- inserts name theirs).
GRANT USAGE ON SEQUENCE @extschema@.webhook_routing_logs_id_seq TO webhook_routing_caller;

-- Row level security on every table: a role granted a table by someone else (default
-- privileges, a careless GRANT) still sees and changes nothing without a policy. The owner,
-- which the SECURITY DEFINER functions run as, is not subject to it.
ALTER TABLE @extschema@.webhook_routing_config ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.webhook_routing_logs ENABLE ROW LEVEL SECURITY;
-- Partitions are reached through the log; read directly, they show nothing but to the owner.
ALTER TABLE @extschema@.webhook_routing_logs_default ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.webhook_routing_sketches ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.webhook_routing_session_minutes ENABLE ROW LEVEL SECURITY;
-- No policy, no grant: only the owner reads the key of the senders' hashes.
ALTER TABLE @extschema@.webhook_routing_secret ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.webhook_routing_rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.webhook_routing_thresholds ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.webhook_routing_rollouts ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.webhook_routing_metric_totals ENABLE ROW LEVEL SECURITY;

CREATE POLICY webhook_routing_read ON @extschema@.webhook_routing_config FOR SELECT
    TO webhook_routing_reader, webhook_routing_admin, webhook_routing_caller USING (true);
CREATE POLICY webhook_routing_read ON @extschema@.webhook_routing_rules FOR SELECT
    TO webhook_routing_reader, webhook_routing_admin, webhook_routing_caller USING (true);
CREATE POLICY webhook_routing_edit ON @extschema@.webhook_routing_rules FOR ALL
    TO webhook_routing_admin USING (true) WITH CHECK (true);
CREATE POLICY webhook_routing_read ON @extschema@.webhook_routing_thresholds FOR SELECT
    TO webhook_routing_reader, webhook_routing_admin USING (true);
CREATE POLICY webhook_routing_edit ON @extschema@.webhook_routing_thresholds FOR ALL
    TO webhook_routing_admin USING (true) WITH CHECK (true);
CREATE POLICY webhook_routing_read ON @extschema@.webhook_routing_rollouts FOR SELECT
    TO webhook_routing_reader, webhook_routing_admin USING (true);
CREATE POLICY webhook_routing_read ON @extschema@.webhook_routing_logs FOR SELECT
    TO webhook_routing_reader, webhook_routing_admin, webhook_routing_caller USING (true);
-- A caller's rows are dated now, give or take five minutes: a row in the future would count
-- in every window until then; one in the past, in windows already read.
CREATE POLICY webhook_routing_log ON @extschema@.webhook_routing_logs FOR INSERT
    TO webhook_routing_caller WITH CHECK (@extschema@.webhook_routing_plausible_time(created_at));
-- An outcome is reported once: only a pending decision can be updated (said as "neither
-- outcome", like record_routing_outcome says it, so that the row is found by its key).
CREATE POLICY webhook_routing_report ON @extschema@.webhook_routing_logs FOR UPDATE
    TO webhook_routing_caller
    USING (status OPERATOR(pg_catalog.<>) 'success' AND status OPERATOR(pg_catalog.<>) 'error')
    WITH CHECK (true);
CREATE POLICY webhook_routing_read ON @extschema@.webhook_routing_sketches FOR SELECT
    TO webhook_routing_reader, webhook_routing_admin USING (true);
CREATE POLICY webhook_routing_read ON @extschema@.webhook_routing_session_minutes FOR SELECT
    TO webhook_routing_reader, webhook_routing_admin USING (true);
CREATE POLICY webhook_routing_read ON @extschema@.webhook_routing_metric_totals FOR SELECT
    TO webhook_routing_reader, webhook_routing_admin USING (true);
