-- webhook_routing 0.2.0 → 0.3.0: the kill switch and the health data hold everywhere.
-- ALTER EXTENSION webhook_routing UPDATE runs this; the result matches a fresh 0.3.0 install
-- (scripts/test compares the two, tests/upgrade/describe.sql).
--
-- - The rollout functions refuse (40001) a REPEATABLE READ or SERIALIZABLE snapshot older than
--   a committed change to the config or the plans (webhook_routing_require_current_snapshot).
-- - The caller role no longer writes the latency sketches (the log's triggers write them as
--   the owner), and its log rows are dated within five minutes of now
--   (webhook_routing_plausible_time in its INSERT policy).
-- - Day partitions are made for years 1 to 9999 only, where their names are unique.
-- - Stats and health count rows dated at most five minutes ahead, not every row in the future.

CREATE FUNCTION @extschema@.webhook_routing_plausible_time(
	"created_at" timestamp with time zone /* Option < pgrx :: datum :: TimestampWithTimeZone > */
) RETURNS bool /* bool */
STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'webhook_routing_plausible_time_wrapper';

CREATE FUNCTION @extschema@.webhook_routing_require_current_snapshot() RETURNS void
STRICT VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'webhook_routing_require_current_snapshot_wrapper';

CREATE OR REPLACE FUNCTION @extschema@.webhook_routing_window("window" interval)
RETURNS TABLE (
    domain text,
    routed_to text,
    requests bigint,
    -- decided, outcome not reported yet, within the timeout
    pending bigint,
    -- outcome reported, or timed out
    completed bigint,
    -- status error, or timed out
    errors bigint,
    timed_out bigint,
    latency_samples bigint,
    avg_ms double precision,
    p50_ms double precision,
    p95_ms double precision,
    p99_ms double precision,
    -- For the sample-ratio check: outcomes of decisions made by the percentage split, the sum
    -- of p over them, and how many distinct buckets (senders) they came from.
    split_n bigint,
    split_expected double precision,
    split_buckets bigint
)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH bounds AS (
        SELECT now() - "window" AS since,
               date_bin('1 minute', now() - "window", timestamptz '2000-01-01 00:00:00+00') AS since_minute,
               now() - make_interval(secs => @extschema@.routing_pending_timeout_seconds()) AS cutoff,
               -- Rows dated ahead count from five minutes before their time (a caller's rows
               -- are dated within five minutes of now), never in every window until then.
               now() + interval '5 minutes' AS until
    ),
    done AS (
        SELECT s.domain, s.routed_to, sum(s.completed)::bigint AS completed,
               sum(s.errors)::bigint AS errors,
               @extschema@.webhook_routing_sketch_summary(array_agg(s.latency)) AS summary,
               sum(s.split_n)::bigint AS split_n, sum(s.split_expected) AS split_expected,
               @extschema@.webhook_routing_bits_count(array_agg(s.split_buckets)) AS split_buckets
        FROM @extschema@.webhook_routing_sketches AS s, bounds AS b
        WHERE s.minute >= b.since_minute AND s.minute <= b.until
        GROUP BY s.domain, s.routed_to
    ),
    waiting AS (
        SELECT l.domain, l.routed_to,
               count(*) FILTER (WHERE l.created_at >= b.cutoff) AS pending,
               count(*) FILTER (WHERE l.created_at < b.cutoff) AS late
        FROM @extschema@.webhook_routing_logs AS l, bounds AS b
        WHERE l.status = 'pending' AND l.created_at >= b.since AND l.created_at <= b.until
        GROUP BY l.domain, l.routed_to
    ),
    parts AS (
        SELECT d.domain, d.routed_to, d.completed, d.errors, 0::bigint AS pending, 0::bigint AS late,
               d.summary, d.split_n, d.split_expected, d.split_buckets
        FROM done AS d
        UNION ALL
        SELECT w.domain, w.routed_to, 0, 0, w.pending, w.late, NULL, 0, 0, 0
        FROM waiting AS w
    )
    SELECT p.domain, p.routed_to,
           (sum(p.completed) + sum(p.pending) + sum(p.late))::bigint,
           sum(p.pending)::bigint,
           (sum(p.completed) + sum(p.late))::bigint,
           (sum(p.errors) + sum(p.late))::bigint,
           sum(p.late)::bigint,
           coalesce(max(p.summary[1]), 0)::bigint,
           max(p.summary[2]) / nullif(max(p.summary[1]), 0),
           max(p.summary[3]),
           max(p.summary[4]),
           max(p.summary[5]),
           sum(p.split_n)::bigint,
           sum(p.split_expected),
           sum(p.split_buckets)::bigint
    FROM parts AS p
    GROUP BY p.domain, p.routed_to
$$;

CREATE OR REPLACE FUNCTION @extschema@.webhook_routing_plan_in_progress(domain text, states text[])
RETURNS @extschema@.webhook_routing_rollouts
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    plan @extschema@.webhook_routing_rollouts;
BEGIN
    IF webhook_routing_plan_in_progress.domain IS NULL THEN
        RAISE EXCEPTION 'domain must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Name the domain of the rollout, e.g. ''jobs''.';
    END IF;
    SELECT * INTO plan FROM @extschema@.webhook_routing_rollouts AS r
    WHERE r.domain = webhook_routing_plan_in_progress.domain AND r.state IN ('active', 'paused')
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no rollout in progress for domain "%"', webhook_routing_plan_in_progress.domain
            USING ERRCODE = 'no_data_found',
                  HINT = 'SELECT * FROM routing_status shows the plans; start one with start_rollout().';
    END IF;
    -- Under REPEATABLE READ or SERIALIZABLE, refuse (40001) a snapshot older than a change
    -- committed since: acting on it could undo that change.
    PERFORM @extschema@.webhook_routing_require_current_snapshot();
    IF plan.state <> ALL (states) THEN
        RAISE EXCEPTION 'the rollout of "%" is %', plan.domain, plan.state
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = CASE plan.state WHEN 'paused' THEN 'resume_rollout() continues it.'
                                         ELSE 'pause_rollout() pauses it.' END;
    END IF;
    RETURN plan;
END $$;

CREATE OR REPLACE FUNCTION @extschema@.start_rollout(
    domain text,
    steps numeric[] DEFAULT '{5,10,25,50,100}',
    hold interval DEFAULT '4 hours',
    reason text DEFAULT NULL
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
    INSERT INTO @extschema@.webhook_routing_rollouts (domain, steps, hold, reason, started_by)
    VALUES (start_rollout.domain, start_rollout.steps, start_rollout.hold, start_rollout.reason, '?')
    RETURNING id INTO plan_id;
    -- Refuses a protected or unknown domain (the plan row goes with the error).
    config_id := @extschema@.webhook_routing_set_step(
        start_rollout.domain, start_rollout.steps[1], 'rollout_start',
        coalesce(start_rollout.reason, pg_catalog.format('rollout %s started: step 1 of %s', plan_id, n)),
        plan_id,
        pg_catalog.jsonb_build_object('transition', 'start', 'step', 1, 'steps', start_rollout.steps,
                                      'to', start_rollout.steps[1], 'hold', start_rollout.hold::text));
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

CREATE OR REPLACE FUNCTION @extschema@.rollback_routing(domain text, "to" text DEFAULT 'previous') RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    plan @extschema@.webhook_routing_rollouts;
    target numeric;
    current numeric;
    config_id bigint;
    c @extschema@.webhook_routing_config;
    has_plan boolean;
BEGIN
    IF rollback_routing.domain IS NULL OR rollback_routing."to" IS NULL THEN
        RAISE EXCEPTION 'domain and to must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'E.g. rollback_routing(''jobs'') or rollback_routing(''jobs'', ''zero'').';
    END IF;
    IF rollback_routing."to" NOT IN ('previous', 'zero') THEN
        RAISE EXCEPTION 'invalid rollback target "%"', rollback_routing."to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'to is ''previous'' (one step back) or ''zero'' (0%).';
    END IF;
    SELECT * INTO plan FROM @extschema@.webhook_routing_rollouts AS r
    WHERE r.domain = rollback_routing.domain AND r.state IN ('active', 'paused') FOR UPDATE;
    has_plan := FOUND;
    -- Under REPEATABLE READ or SERIALIZABLE, refuse (40001) a snapshot older than a change
    -- committed since: acting on it could undo that change.
    PERFORM @extschema@.webhook_routing_require_current_snapshot();
    IF has_plan THEN
        IF rollback_routing."to" = 'previous' AND plan.step > 1 THEN
            UPDATE @extschema@.webhook_routing_rollouts AS r
            SET step = plan.step - 1, state = 'paused', step_started_at = pg_catalog.clock_timestamp(),
                last_verdict = 'rolled_back_by_operator', last_checked_at = pg_catalog.clock_timestamp()
            WHERE r.id = plan.id;
            target := plan.steps[plan.step - 1];
        ELSE
            UPDATE @extschema@.webhook_routing_rollouts AS r
            SET state = 'rolled_back', ended_at = pg_catalog.clock_timestamp(),
                last_verdict = 'rolled_back_by_operator', last_checked_at = pg_catalog.clock_timestamp()
            WHERE r.id = plan.id;
            target := 0;
        END IF;
        config_id := @extschema@.webhook_routing_set_step(
            plan.domain, target, 'rollout_rollback',
            pg_catalog.format('rollout %s rolled back by the operator to %s%%', plan.id, target), plan.id,
            pg_catalog.jsonb_build_object('transition', 'rollback', 'by', 'operator', 'step', plan.step,
                                          'from', plan.steps[plan.step], 'to', target));
        RAISE NOTICE '%', pg_catalog.format('Rolled %s back to %s%%.', plan.domain, target)
            USING DETAIL = CASE WHEN target > 0
                THEN pg_catalog.format('Rollout %s is paused at step %s; resume_rollout() continues it.', plan.id, plan.step - 1)
                ELSE pg_catalog.format('Rollout %s ended, rolled back.', plan.id) END;
        RETURN config_id;
    END IF;
    -- No plan: the history says what came before.
    SELECT * INTO c FROM @extschema@.webhook_routing_config AS x ORDER BY x.created_at DESC, x.id DESC LIMIT 1;
    current := @extschema@.webhook_routing_domain_percentage(c, rollback_routing.domain);
    IF rollback_routing."to" = 'zero' THEN
        target := 0;
    ELSE
        -- The latest earlier percentage below the current one: a rollback never widens.
        SELECT p INTO target
        FROM (SELECT @extschema@.webhook_routing_domain_percentage(x, rollback_routing.domain) AS p, x.id
              FROM @extschema@.webhook_routing_config AS x) AS h
        WHERE h.p < current
        ORDER BY h.id DESC LIMIT 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION '%', pg_catalog.format('no earlier percentage of "%s" below %s%% to go back to',
                                                   rollback_routing.domain, current)
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'rollback_routing(domain, ''zero'') sends it to 0%.';
        END IF;
    END IF;
    config_id := @extschema@.webhook_routing_set_step(
        rollback_routing.domain, target, 'rollback',
        pg_catalog.format('rolled back by the operator from %s%% to %s%%', current, target), NULL,
        pg_catalog.jsonb_build_object('transition', 'rollback', 'by', 'operator', 'from', current, 'to', target));
    RAISE NOTICE '%', pg_catalog.format('Rolled %s back from %s%% to %s%%.', rollback_routing.domain, current, target);
    RETURN config_id;
END $$;

CREATE OR REPLACE FUNCTION @extschema@.advance_rollouts()
RETURNS TABLE (rollout_id bigint, domain text, step integer, percentage numeric, verdict text, detail jsonb)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    plan @extschema@.webhook_routing_rollouts;
    n integer;
    held interval;
    checks jsonb;
    error_critical boolean;
    rollback boolean;
    waiting boolean;
    holding boolean;
    next_step integer;
    next_state text;
    target numeric;
    action text;
    summary text;
BEGIN
    -- Under REPEATABLE READ or SERIALIZABLE, refuse (40001) a snapshot older than a change
    -- committed since: acting on it could undo that change.
    PERFORM @extschema@.webhook_routing_require_current_snapshot();
    FOR plan IN
        SELECT * FROM @extschema@.webhook_routing_rollouts AS r
        WHERE r.state = 'active' ORDER BY r.id FOR UPDATE SKIP LOCKED
    LOOP
        n := pg_catalog.cardinality(plan.steps);
        held := pg_catalog.now() - plan.step_started_at;
        SELECT pg_catalog.jsonb_object_agg(h.routed_to || '.' || h.check_name,
                   pg_catalog.jsonb_build_object('value', h.value, 'status', h.status, 'samples', h.samples)),
               coalesce(bool_or(h.routed_to = 'unified' AND h.check_name = 'error_rate' AND h.status = 'critical'), false),
               coalesce(bool_or(h.recommendation = 'rollback'), false),
               -- The gates need their samples; the comparisons with legacy and the sample ratio
               -- count when they have theirs (at 100% legacy has none).
               coalesce(bool_or(h.routed_to = 'unified' AND h.check_name IN ('error_rate', 'p95_latency')
                                AND h.status = 'insufficient_data'), true),
               coalesce(bool_or(h.status IN ('warning', 'critical')), false),
               pg_catalog.string_agg(pg_catalog.format('%s %s %s', h.check_name, coalesce(h.value::text, '-'), h.status), ', '
                                     ORDER BY h.check_name) FILTER (WHERE h.routed_to = 'unified')
        INTO checks, error_critical, rollback, waiting, holding, summary
        FROM @extschema@.check_routing_health(greatest(held, interval '1 second')) AS h
        WHERE h.domain = plan.domain;
        next_step := plan.step;
        next_state := plan.state;
        IF error_critical THEN
            verdict := 'rollback';
            target := 0;
            next_state := 'rolled_back';
        ELSIF rollback THEN
            verdict := 'rollback';
            IF plan.step > 1 THEN
                next_step := plan.step - 1;
                target := plan.steps[next_step];
                next_state := 'paused';
            ELSE
                target := 0;
                next_state := 'rolled_back';
            END IF;
        ELSIF waiting OR held < plan.hold THEN
            verdict := 'wait';
        ELSIF holding THEN
            verdict := 'hold';
        ELSIF plan.step < n THEN
            verdict := 'advance';
            next_step := plan.step + 1;
            target := plan.steps[next_step];
        ELSE
            verdict := 'complete';
            target := plan.steps[n];
            next_state := 'completed';
        END IF;
        detail := pg_catalog.jsonb_build_object('transition', verdict, 'step', plan.step, 'of', n,
                      'from', plan.steps[plan.step], 'to', target, 'held', held::text, 'hold', plan.hold::text,
                      'checks', coalesce(checks, '{}'));
        IF verdict IN ('rollback', 'advance', 'complete') THEN
            action := 'rollout_' || verdict;
            PERFORM @extschema@.webhook_routing_set_step(
                plan.domain, target, action,
                pg_catalog.format('rollout %s: %s %s%% → %s%% after %s (%s)', plan.id, verdict,
                                  plan.steps[plan.step], target, pg_catalog.date_trunc('second', held), summary),
                plan.id, detail);
            UPDATE @extschema@.webhook_routing_rollouts AS r
            SET step = next_step, state = next_state,
                step_started_at = CASE WHEN next_step <> plan.step THEN pg_catalog.clock_timestamp() ELSE r.step_started_at END,
                ended_at = CASE WHEN next_state IN ('completed', 'rolled_back') THEN pg_catalog.clock_timestamp() END
            WHERE r.id = plan.id;
        END IF;
        UPDATE @extschema@.webhook_routing_rollouts AS r
        SET last_verdict = verdict, last_checked_at = pg_catalog.clock_timestamp(), last_detail = detail
        WHERE r.id = plan.id;
        rollout_id := plan.id;
        domain := plan.domain;
        step := next_step;
        percentage := coalesce(target, plan.steps[plan.step]);
        RETURN NEXT;
        target := NULL;
    END LOOP;
END $$;

CREATE OR REPLACE FUNCTION @extschema@.webhook_routing_make_day(day date) RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    name text := 'webhook_routing_logs_p' || pg_catalog.to_char(day, 'YYYYMMDD');
    lo timestamptz := day::timestamp AT TIME ZONE 'UTC';
    hi timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
    moved bigint;
BEGIN
    IF day IS NULL OR day < date '0001-01-01' OR day > date '9999-12-31' THEN
        RETURN false;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_inherits AS i
               JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid
               WHERE i.inhparent = '@extschema@.webhook_routing_logs'::regclass AND c.relname = name) THEN
        RETURN false;
    END IF;
    EXECUTE pg_catalog.format(
        'CREATE TABLE @extschema@.%I (LIKE @extschema@.webhook_routing_logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
        name);
    PERFORM @extschema@.webhook_routing_lock_down(pg_catalog.format('@extschema@.%I', name)::regclass);
    -- No new row of that day may reach the default partition until the day is attached.
    LOCK TABLE @extschema@.webhook_routing_logs_default IN EXCLUSIVE MODE;
    EXECUTE pg_catalog.format(
        'WITH moved AS (DELETE FROM @extschema@.webhook_routing_logs_default
                         WHERE created_at >= $1 AND created_at < $2 RETURNING *)
         INSERT INTO @extschema@.%I SELECT * FROM moved', name)
        USING lo, hi;
    GET DIAGNOSTICS moved = ROW_COUNT;
    EXECUTE pg_catalog.format(
        'ALTER TABLE @extschema@.webhook_routing_logs ATTACH PARTITION @extschema@.%I FOR VALUES FROM (%L) TO (%L)',
        name, lo, hi);
    IF moved > 0 THEN
        RAISE NOTICE 'Moved % rows of % from the default partition into %.', moved, day, name;
    END IF;
    RETURN true;
END $$;

CREATE OR REPLACE FUNCTION @extschema@.create_routing_log_partitions(days_ahead integer DEFAULT 7) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    today date := (pg_catalog.now() AT TIME ZONE 'UTC')::date;
    made integer := 0;
    day date;
BEGIN
    IF days_ahead IS NULL OR days_ahead < 0 OR days_ahead > 366 THEN
        RAISE EXCEPTION 'invalid days_ahead %', coalesce(days_ahead::text, 'NULL')
            USING ERRCODE = CASE WHEN days_ahead IS NULL THEN 'null_value_not_allowed' ELSE 'invalid_parameter_value' END,
                  HINT = 'Make from 0 to 366 days ahead; 7 is plenty when prune_routing_logs runs daily.';
    END IF;
    FOR day IN
        SELECT DISTINCT (l.created_at AT TIME ZONE 'UTC')::date FROM @extschema@.webhook_routing_logs_default AS l
        WHERE l.created_at >= timestamptz '0001-01-01 00:00:00+00' AND l.created_at < timestamptz '10000-01-01 00:00:00+00'
        UNION
        SELECT g::date FROM pg_catalog.generate_series(today::timestamp, (today + days_ahead)::timestamp, interval '1 day') AS g
        ORDER BY 1
    LOOP
        IF @extschema@.webhook_routing_make_day(day) THEN
            made := made + 1;
        END IF;
    END LOOP;
    RETURN made;
END $$;

-- Privileges as a fresh install has them (sql/security.sql): nothing for PUBLIC, nor for
-- whoever default privileges gave the new functions to.
DO $$
DECLARE
    fn text;
    grantee text;
BEGIN
    FOREACH fn IN ARRAY ARRAY['@extschema@.webhook_routing_plausible_time(timestamptz)',
                              '@extschema@.webhook_routing_require_current_snapshot()'] LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', fn);
        FOR grantee IN
            SELECT DISTINCT a.grantee::pg_catalog.regrole::pg_catalog.text
            FROM pg_catalog.pg_proc AS p, pg_catalog.aclexplode(p.proacl) AS a
            WHERE p.oid OPERATOR(pg_catalog.=) fn::pg_catalog.regprocedure
              AND a.grantee OPERATOR(pg_catalog.<>) 0::pg_catalog.oid
              AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
        LOOP
            EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM %s', fn, grantee);
        END LOOP;
    END LOOP;
END $$;
GRANT EXECUTE ON FUNCTION @extschema@.webhook_routing_plausible_time(timestamptz) TO webhook_routing_caller;

-- The caller writes no sketch: the log's triggers write them as the owner.
REVOKE EXECUTE ON FUNCTION
    @extschema@.webhook_routing_sketch_merge(bytea, bytea),
    @extschema@.webhook_routing_bits_or(bytea, bytea)
    FROM webhook_routing_caller;
REVOKE ALL ON @extschema@.webhook_routing_sketches FROM webhook_routing_caller;
DROP POLICY webhook_routing_write ON @extschema@.webhook_routing_sketches;
DROP POLICY webhook_routing_merge ON @extschema@.webhook_routing_sketches;
ALTER POLICY webhook_routing_read ON @extschema@.webhook_routing_sketches
    TO webhook_routing_reader, webhook_routing_admin;

-- A caller's rows are dated now, give or take five minutes.
ALTER POLICY webhook_routing_log ON @extschema@.webhook_routing_logs
    WITH CHECK (@extschema@.webhook_routing_plausible_time(created_at));
