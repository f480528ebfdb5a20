-- webhook_routing 0.2.0 → 0.3.0. ALTER EXTENSION webhook_routing UPDATE runs this; the result
-- matches a fresh 0.3.0 install (scripts/test compares the two, tests/upgrade/describe.sql).
-- Like every script of the extension, it runs with the extension's schema on search_path, which
-- other roles may be able to write: every function and operator it uses is schema-qualified
-- (tests/pg_regress/sql/13_hostile_install.sql updates with look-alikes planted).
--
-- - The rollout functions refuse (40001) a REPEATABLE READ or SERIALIZABLE snapshot older than
--   a committed change to the config or the plans (webhook_routing_require_current_snapshot).
-- - The caller role no longer writes the latency sketches (the log's triggers write them as
--   the owner), and its log rows are dated within five minutes of now
--   (webhook_routing_plausible_time in its INSERT policy).
-- - Day partitions are made for years 1 to 9999 only, where their names are unique.
-- - Stats and health count rows dated at most five minutes ahead, not every row in the future.
-- - The views, the caller's UPDATE policy and routing_report's default are bound to
--   pg_catalog's functions and operators by name.

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

CREATE FUNCTION @extschema@.webhook_routing_check_window("window" interval) RETURNS interval
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF "window" IS NULL THEN
        RAISE EXCEPTION 'window must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass how far back to read, e.g. interval ''1 hour''.';
    END IF;
    IF "window" <= interval '0' OR "window" > interval '3660 days' THEN
        RAISE EXCEPTION 'invalid window %', "window"
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A window is a positive interval of at most ten years (3660 days).',
                  HINT = 'E.g. interval ''1 hour'' or ''4 hours''; the log holds what prune_routing_logs keeps.';
    END IF;
    RETURN "window";
END $$;

CREATE FUNCTION @extschema@.webhook_routing_thresholds_keep_defaults() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'webhook_routing_thresholds cannot be truncated'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'The default thresholds (domain NULL) are the gates of every rollout and health check.',
                  HINT = 'Delete the rows of one domain with DELETE ... WHERE domain = ''...''; change the defaults with UPDATE.';
    END IF;
    IF OLD.domain IS NULL AND (TG_OP = 'DELETE' OR NEW.domain IS NOT NULL OR NEW.check_name <> OLD.check_name) THEN
        RAISE EXCEPTION 'the default % threshold cannot be removed', OLD.check_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Without it the check vanishes from check_routing_health() and no rollout is gated by it.',
                  HINT = pg_catalog.format('Change its levels instead: UPDATE webhook_routing_thresholds SET warning = ..., critical = ... WHERE domain IS NULL AND check_name = %L;', OLD.check_name);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION @extschema@.webhook_routing_config_restore() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE @extschema@.webhook_routing_config AS c
    SET id = NEW.id, percentage = NEW.percentage, enabled = NEW.enabled, domains = NEW.domains,
        protected_domains = NEW.protected_domains, domain_percentages = NEW.domain_percentages,
        domain_enabled = NEW.domain_enabled, reason = NEW.reason, changed_by = NEW.changed_by,
        created_at = NEW.created_at, rollout_id = NEW.rollout_id, detail = NEW.detail
    WHERE c.action = 'install';
    IF FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION @extschema@.webhook_routing_rules_restore() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fresh bigint;
BEGIN
    -- The fresh seed with the row's id, or else with its pattern (a dump of another version).
    SELECT r.id INTO fresh FROM @extschema@.webhook_routing_rules AS r
    WHERE r.seeded AND (r.id = NEW.id
                        OR (r.match_kind = NEW.match_kind AND r.pattern = NEW.pattern AND r.domain = NEW.domain))
    ORDER BY r.id = NEW.id DESC LIMIT 1;
    IF NOT FOUND THEN
        RETURN NEW;
    END IF;
    UPDATE @extschema@.webhook_routing_rules AS r
    SET id = NEW.id, domain = NEW.domain, match_kind = NEW.match_kind, pattern = NEW.pattern,
        priority = NEW.priority, enabled = NEW.enabled, note = NEW.note, created_at = NEW.created_at
    WHERE r.id = fresh;
    RETURN NULL;
END $$;

CREATE FUNCTION @extschema@.webhook_routing_thresholds_restore() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE @extschema@.webhook_routing_thresholds AS t
    SET warning = NEW.warning, critical = NEW.critical, min_samples = NEW.min_samples
    WHERE t.seeded AND t.domain IS NOT DISTINCT FROM NEW.domain AND t.check_name = NEW.check_name;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION @extschema@.webhook_routing_rules_keep_seeds() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'webhook_routing_rules cannot be truncated'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'It holds the seeded rules, which are disabled rather than deleted.',
                  HINT = 'Disable rules with UPDATE webhook_routing_rules SET enabled = false; delete the ones you added with DELETE ... WHERE NOT seeded.';
    END IF;
    IF OLD.seeded THEN
        RAISE EXCEPTION 'rule % is a seeded rule: it can be disabled, not deleted', OLD.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'A deleted seed would come back with the next restore of a dump.',
                  HINT = pg_catalog.format('UPDATE webhook_routing_rules SET enabled = false WHERE id = %s;', OLD.id);
    END IF;
    RETURN OLD;
END $$;

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
    WITH checked AS (
        SELECT @extschema@.webhook_routing_check_window("window") AS w
    ),
    bounds AS (
        SELECT now() - c.w AS since,
               date_bin('1 minute', now() - c.w, timestamptz '2000-01-01 00:00:00+00') AS since_minute,
               now() - make_interval(secs => @extschema@.routing_pending_timeout_seconds()) AS cutoff,
               -- Rows dated ahead count from five minutes before their time (a caller's rows
               -- are dated within five minutes of now), never in every window until then.
               now() + interval '5 minutes' AS until
        FROM checked AS c
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
    missing text[];
BEGIN
    -- Under REPEATABLE READ or SERIALIZABLE, refuse (40001) a snapshot older than a change
    -- committed since: acting on it could undo that change.
    PERFORM @extschema@.webhook_routing_require_current_snapshot();
    FOR plan IN
        SELECT * FROM @extschema@.webhook_routing_rollouts AS r
        WHERE r.state = 'active' ORDER BY r.id FOR UPDATE SKIP LOCKED
    LOOP
      -- One plan's failure (its domain no longer routable, a refused change) must not stop the
      -- others from rolling back: it is reported as verdict 'error' and the plan stays as it was.
      BEGIN
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
                                     ORDER BY h.check_name) FILTER (WHERE h.routed_to = 'unified'),
               -- The gates a step needs: without a threshold (rows deleted by hand) a check
               -- vanishes from health, and the plan must hold rather than advance without it.
               ARRAY(SELECT g FROM pg_catalog.unnest(ARRAY['error_rate', 'p95_latency']) AS g
                     EXCEPT SELECT x.check_name FROM pg_catalog.unnest(pg_catalog.array_agg(h.check_name)
                                                   FILTER (WHERE h.routed_to = 'unified')) AS x(check_name))
        INTO checks, error_critical, rollback, waiting, holding, summary, missing
        FROM @extschema@.check_routing_health(greatest(held, interval '1 second')) AS h
        WHERE h.domain = plan.domain;
        IF pg_catalog.cardinality(missing) > 0 THEN
            holding := true;
            waiting := false;
            summary := coalesce(summary || ', ', '') || 'no threshold for ' || pg_catalog.array_to_string(missing, ', ');
        END IF;
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
                      'checks', coalesce(checks, '{}'))
                  || CASE WHEN pg_catalog.cardinality(missing) > 0
                          THEN pg_catalog.jsonb_build_object('missing_thresholds', pg_catalog.to_jsonb(missing))
                          ELSE '{}' END;
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
      EXCEPTION WHEN OTHERS THEN
        verdict := 'error';
        next_step := plan.step;
        target := NULL;
        detail := pg_catalog.jsonb_build_object('transition', 'error', 'step', plan.step, 'of', n,
                      'error', SQLERRM, 'sqlstate', SQLSTATE);
        RAISE WARNING 'advance_rollouts: rollout % of % left as it was: %', plan.id, plan.domain, SQLERRM
            USING HINT = 'SELECT * FROM routing_status shows it; abort_rollout() ends it.';
      END;
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
    -- Its own indexes, as the default partition has them (sql/bootstrap.sql): the parent has
    -- none, so that pg_dump dumps each partition with its indexes and a restore makes them once.
    EXECUTE pg_catalog.format('ALTER TABLE @extschema@.%I ADD PRIMARY KEY (id, created_at)', name);
    EXECUTE pg_catalog.format(
        'CREATE INDEX %I ON @extschema@.%I (created_at) WHERE status OPERATOR(pg_catalog.=) ''pending''',
        name || '_pending_idx', name);
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
EXCEPTION WHEN lock_not_available THEN
    RAISE EXCEPTION 'webhook_routing_logs is busy: no day partition was made'
        USING ERRCODE = 'lock_not_available',
              DETAIL = 'Another transaction held a lock on the log for longer than lock_timeout (1 s): another create_routing_log_partitions or prune_routing_logs, or a long transaction.',
              HINT = 'Run it again in a moment; the log keeps working meanwhile (rows of a day without a partition wait in the default partition).';
END $$;

CREATE OR REPLACE FUNCTION @extschema@.prune_routing_logs(older_than interval) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
    cutoff timestamptz;
    made integer;
    from_default bigint;
    sketches bigint;
    part record;
    n bigint;
    in_days bigint := 0;
    dropped text[] := '{}';
BEGIN
    IF older_than IS NULL THEN
        RAISE EXCEPTION 'older_than must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass how much log to keep, e.g. interval ''30 days''.';
    END IF;
    -- The guard is on the time it gives, not on the interval: '-2 mon +61 days' compares as
    -- a day, yet cuts off a day in the future from some dates.
    BEGIN
        cutoff := pg_catalog.now() - older_than;
    EXCEPTION WHEN datetime_field_overflow THEN
        RAISE EXCEPTION 'older_than % reaches past the first representable date', older_than
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Keep the log of the last days or months, e.g. interval ''30 days''.';
    END;
    IF cutoff > pg_catalog.now() - interval '1 day' THEN
        RAISE EXCEPTION 'refusing to prune the log younger than 1 day'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('Stats, health and the rollout checks read the last hours; older_than %s would remove them.', older_than),
                  HINT = 'Keep at least interval ''1 day''; 30 days is typical.';
    END IF;
    made := @extschema@.create_routing_log_partitions(7);
    DELETE FROM @extschema@.webhook_routing_logs_default WHERE created_at < cutoff;
    GET DIAGNOSTICS from_default = ROW_COUNT;
    DELETE FROM @extschema@.webhook_routing_sketches
    WHERE minute < pg_catalog.date_bin('1 minute', cutoff, timestamptz '2000-01-01 00:00:00+00');
    GET DIAGNOSTICS sketches = ROW_COUNT;
    -- Whole days, last: a drop holds the log's ACCESS EXCLUSIVE lock until commit.
    FOR part IN
        SELECT c.oid::regclass AS rel, c.relname
        FROM pg_catalog.pg_inherits AS i JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid
        WHERE i.inhparent = '@extschema@.webhook_routing_logs'::regclass
          AND c.relname ~ '^webhook_routing_logs_p[0-9]{8}$'
          AND (pg_catalog.to_date(pg_catalog.right(c.relname, 8), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC' <= cutoff
        ORDER BY c.relname
    LOOP
        EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %s', part.rel) INTO n;
        in_days := in_days + n;
        dropped := dropped || part.relname::text;
    END LOOP;
    FOR part IN SELECT pg_catalog.unnest(dropped) AS relname LOOP
        EXECUTE pg_catalog.format('DROP TABLE @extschema@.%I', part.relname);
    END LOOP;
    IF pg_catalog.cardinality(dropped) > 0 THEN
        RAISE NOTICE 'Pruned the log before %: % day partitions dropped (% rows), % rows deleted from the default partition, % sketches deleted; % day partitions made ahead.',
            cutoff, pg_catalog.cardinality(dropped), in_days, from_default, sketches, made
            USING DETAIL = 'Dropped: ' || pg_catalog.array_to_string(dropped, ', ') || '.';
    ELSE
        RAISE NOTICE 'Pruned the log before %: no day partition that old, % rows deleted from the default partition, % sketches deleted; % day partitions made ahead.',
            cutoff, from_default, sketches, made;
    END IF;
    RETURN in_days + from_default;
EXCEPTION WHEN lock_not_available THEN
    RAISE EXCEPTION 'webhook_routing_logs is busy: nothing was pruned'
        USING ERRCODE = 'lock_not_available',
              DETAIL = 'A transaction held a lock on the log for longer than lock_timeout (1 s); dropping a day needs the log to itself for a moment.',
              HINT = 'Run prune_routing_logs again later, or find the long transaction in pg_stat_activity.';
END $$;

CREATE OR REPLACE FUNCTION @extschema@.routing_report(domain text DEFAULT NULL,
                               since timestamptz DEFAULT pg_catalog.now() OPERATOR(pg_catalog.-) interval '24 hours')
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    newest @extschema@.webhook_routing_config;
    d text;
    domains text[];
    report text[] := '{}';
    step record;
    n integer;
    s record;
    err_warn numeric;
    err_crit numeric;
    p95_warn numeric;
    p95_crit numeric;
    decision text;
    utc constant text := 'YYYY-MM-DD HH24:MI:SS';
BEGIN
    IF routing_report.since IS NULL THEN
        RAISE EXCEPTION 'since must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'E.g. routing_report(''jobs'', now() - interval ''7 days'').';
    END IF;
    SELECT * INTO newest FROM @extschema@.webhook_routing_config AS c ORDER BY c.created_at DESC, c.id DESC LIMIT 1;
    IF routing_report.domain IS NULL THEN
        domains := newest.domains;
    ELSIF routing_report.domain = ANY (newest.domains || newest.protected_domains) THEN
        domains := ARRAY[routing_report.domain];
    ELSE
        RAISE EXCEPTION 'unknown domain "%"', routing_report.domain
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('Domains: %s.', pg_catalog.array_to_string(newest.domains || newest.protected_domains, ', ')),
                  HINT = 'Leave domain NULL for every routable domain.';
    END IF;

    FOREACH d IN ARRAY domains LOOP
        SELECT max(h.warning) FILTER (WHERE h.check_name = 'error_rate'), max(h.critical) FILTER (WHERE h.check_name = 'error_rate'),
               max(h.warning) FILTER (WHERE h.check_name = 'p95_latency'), max(h.critical) FILTER (WHERE h.check_name = 'p95_latency')
        INTO err_warn, err_crit, p95_warn, p95_crit
        FROM (SELECT DISTINCT ON (x.check_name) x.*
              FROM @extschema@.webhook_routing_thresholds AS x
              WHERE x.domain = d OR x.domain IS NULL
              ORDER BY x.check_name, x.domain NULLS LAST) AS h;
        report := report || pg_catalog.format('Migration report: %s, %s to %s UTC', d,
                      pg_catalog.to_char(routing_report.since AT TIME ZONE 'UTC', utc),
                      pg_catalog.to_char(pg_catalog.now() AT TIME ZONE 'UTC', utc))
                  || pg_catalog.format('Gates: error rate under %s%% (critical %s%%), p95 under %s ms (critical %s ms).',
                      err_warn, err_crit, p95_warn, p95_crit);
        n := 0;
        -- Steps: runs of history rows that leave the domain's routing and percentage as they
        -- were, from the row in force at `since`; each ends at the row that changed them.
        FOR step IN
            WITH rows AS (
                SELECT c.id, c.created_at, c.action, c.reason, c.rollout_id,
                       c.enabled AND d = ANY (c.domains) AND d <> ALL (c.protected_domains)
                           AND coalesce((c.domain_enabled ->> d)::boolean, true) AS routing,
                       coalesce((c.domain_percentages ->> d)::numeric, c.percentage) AS pct
                FROM @extschema@.webhook_routing_config AS c
                WHERE c.created_at > routing_report.since
                   OR c.id = (SELECT x.id FROM @extschema@.webhook_routing_config AS x
                              WHERE x.created_at <= routing_report.since ORDER BY x.created_at DESC, x.id DESC LIMIT 1)
            ),
            changes AS (
                SELECT r.*, (r.routing, r.pct) IS DISTINCT FROM
                           (lag(r.routing) OVER w, lag(r.pct) OVER w) AS starts
                FROM rows AS r WINDOW w AS (ORDER BY r.created_at, r.id)
            ),
            steps AS (
                SELECT c.*, lead(c.created_at) OVER w AS ended_at, lead(c.action) OVER w AS ended_by,
                       lead(c.reason) OVER w AS ended_reason, lead(c.pct) OVER w AS next_pct,
                       lead(c.routing) OVER w AS next_routing
                FROM changes AS c WHERE c.starts WINDOW w AS (ORDER BY c.created_at, c.id)
            )
            SELECT st.*, greatest(st.created_at, routing_report.since) AS began
            FROM steps AS st ORDER BY st.created_at, st.id
        LOOP
            -- Changes made one after the other (enable, then set the percentage) leave steps of
            -- seconds with no minute of their own: nothing to report.
            CONTINUE WHEN step.ended_at IS NOT NULL AND step.ended_at - step.began < interval '1 minute'
                AND NOT EXISTS (SELECT 1 FROM @extschema@.webhook_routing_between(d, step.began, step.ended_at) AS b
                                WHERE b.requests > 0);
            n := n + 1;
            report := report || ''::text || pg_catalog.format('Step %s: %s from %s UTC %s', n,
                CASE WHEN step.routing THEN pg_catalog.trim_scale(step.pct) || '%'
                     ELSE 'routing off (' || pg_catalog.trim_scale(step.pct) || '% set)' END,
                pg_catalog.to_char(step.began AT TIME ZONE 'UTC', utc),
                CASE WHEN step.ended_at IS NULL THEN '(in progress)'
                     ELSE pg_catalog.format('to %s UTC (%s h %s min)',
                              pg_catalog.to_char(step.ended_at AT TIME ZONE 'UTC', utc),
                              pg_catalog.floor(extract(epoch FROM step.ended_at - step.began) / 3600),
                              pg_catalog.floor(extract(epoch FROM step.ended_at - step.began) / 60)::bigint % 60) END);
            FOR s IN SELECT * FROM @extschema@.webhook_routing_between(d, step.began, coalesce(step.ended_at, 'infinity')) LOOP
                report := report || pg_catalog.format('  %-8s %8s requests   error rate %s   p95 %s',
                    s.routed_to, s.requests,
                    coalesce(s.error_pct || '%', '-') || CASE WHEN s.routed_to = 'unified' AND s.error_pct IS NOT NULL
                        THEN CASE WHEN s.error_pct > err_crit THEN ' (critical)' WHEN s.error_pct > err_warn THEN ' (over the gate)'
                                  ELSE ' (met)' END ELSE '' END,
                    coalesce(s.p95_ms || ' ms', '-') || CASE WHEN s.routed_to = 'unified' AND s.p95_ms IS NOT NULL
                        THEN CASE WHEN s.p95_ms > p95_crit THEN ' (critical)' WHEN s.p95_ms > p95_warn THEN ' (over the gate)'
                                  ELSE ' (met)' END ELSE '' END);
            END LOOP;
            decision := CASE
                WHEN step.ended_at IS NULL THEN 'in progress'
                WHEN step.ended_by = 'rollout_complete' THEN 'complete'
                WHEN step.next_routing AND NOT step.routing THEN 'routing on'
                WHEN NOT step.next_routing AND step.routing THEN 'roll back (routing off)'
                WHEN step.next_pct > step.pct THEN 'proceed'
                WHEN step.next_pct < step.pct THEN 'roll back'
                ELSE 'hold' END;
            report := report || ('  Decision: ' || decision
                || CASE WHEN step.ended_by IS NOT NULL
                        THEN pg_catalog.format(' (%s: %s)', step.ended_by, coalesce(step.ended_reason, 'no reason given'))
                        ELSE '' END);
        END LOOP;
        report := report || ''::text;
    END LOOP;
    RETURN pg_catalog.array_to_string(report, E'\n');
END $$;

CREATE OR REPLACE VIEW @extschema@.webhook_routing_stats AS
SELECT * FROM @extschema@.routing_stats('1 hour');

CREATE OR REPLACE VIEW @extschema@.routing_status AS
WITH c AS (
    SELECT * FROM @extschema@.webhook_routing_config ORDER BY created_at DESC, id DESC LIMIT 1
),
health AS (
    SELECT h.domain,
           CASE WHEN pg_catalog.bool_or(h.status OPERATOR(pg_catalog.=) 'critical') THEN 'critical'
                WHEN pg_catalog.bool_or(h.status OPERATOR(pg_catalog.=) 'warning') THEN 'warning'
                WHEN pg_catalog.bool_and(h.status OPERATOR(pg_catalog.=) 'insufficient_data') THEN 'insufficient_data'
                ELSE 'ok' END AS health
    FROM @extschema@.check_routing_health('1 hour') AS h
    WHERE h.routed_to OPERATOR(pg_catalog.=) 'unified'
    GROUP BY h.domain
)
SELECT d.domain,
       CASE WHEN d.domain OPERATOR(pg_catalog.=) ANY (c.protected_domains) THEN 'protected' ELSE 'routable' END AS kind,
       d.domain OPERATOR(pg_catalog.<>) ALL (c.protected_domains) AND c.enabled
           AND coalesce((c.domain_enabled OPERATOR(pg_catalog.->>) d.domain)::boolean, true) AS routing,
       CASE WHEN d.domain OPERATOR(pg_catalog.=) ANY (c.protected_domains) THEN 0
            ELSE coalesce((c.domain_percentages OPERATOR(pg_catalog.->>) d.domain)::numeric, c.percentage) END AS percentage,
       r.id AS rollout_id,
       r.state AS rollout_state,
       CASE WHEN r.id IS NOT NULL
            THEN r.step OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) pg_catalog.cardinality(r.steps) END AS step,
       r.steps,
       r.hold,
       CASE WHEN r.state OPERATOR(pg_catalog.=) ANY (ARRAY['active', 'paused'])
            THEN pg_catalog.date_trunc('second', pg_catalog.now() OPERATOR(pg_catalog.-) r.step_started_at) END AS time_in_step,
       r.last_verdict,
       r.last_checked_at,
       h.health AS health_last_hour
FROM c
CROSS JOIN LATERAL pg_catalog.unnest(c.domains OPERATOR(pg_catalog.||) c.protected_domains) AS d(domain)
LEFT JOIN LATERAL (
    SELECT * FROM @extschema@.webhook_routing_rollouts AS x WHERE x.domain OPERATOR(pg_catalog.=) d.domain
    ORDER BY x.id DESC LIMIT 1
) AS r ON true
LEFT JOIN health AS h ON h.domain OPERATOR(pg_catalog.=) d.domain;

-- Privileges as a fresh install has them (sql/security.sql): nothing for PUBLIC, nor for
-- whoever default privileges gave the new functions to.
DO $$
DECLARE
    fn text;
    grantee text;
BEGIN
    FOREACH fn IN ARRAY ARRAY['@extschema@.webhook_routing_plausible_time(timestamptz)',
                              '@extschema@.webhook_routing_require_current_snapshot()',
                              '@extschema@.webhook_routing_check_window(interval)',
                              '@extschema@.webhook_routing_thresholds_keep_defaults()',
                              '@extschema@.webhook_routing_config_restore()',
                              '@extschema@.webhook_routing_rules_restore()',
                              '@extschema@.webhook_routing_thresholds_restore()',
                              '@extschema@.webhook_routing_rules_keep_seeds()'] LOOP
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
GRANT EXECUTE ON FUNCTION @extschema@.webhook_routing_check_window(interval)
    TO webhook_routing_reader, webhook_routing_admin;

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

-- The caller's UPDATE policy, bound to pg_catalog's <> by name.
ALTER POLICY webhook_routing_report ON @extschema@.webhook_routing_logs
    USING (status OPERATOR(pg_catalog.<>) 'success' AND status OPERATOR(pg_catalog.<>) 'error');

-- The default thresholds cannot be removed (webhook_routing_thresholds_keep_defaults).
CREATE TRIGGER webhook_routing_thresholds_keep_defaults
    BEFORE UPDATE OR DELETE ON @extschema@.webhook_routing_thresholds
    FOR EACH ROW EXECUTE FUNCTION @extschema@.webhook_routing_thresholds_keep_defaults();
CREATE TRIGGER webhook_routing_thresholds_no_truncate
    BEFORE TRUNCATE ON @extschema@.webhook_routing_thresholds
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.webhook_routing_thresholds_keep_defaults();

-- Ids from sequences of the extension's own, which pg_dump dumps, instead of identity columns,
-- which it does not: each sequence continues from where the identity one stood, or past the
-- table's largest id.
DO $$
DECLARE
    t record;
    n bigint;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('webhook_routing_config', ''), ('webhook_routing_rules', ''),
                                   ('webhook_routing_logs', ' CACHE 1000'), ('webhook_routing_rollouts', ''))
                           AS x(tab, options) LOOP
        EXECUTE pg_catalog.format(
            'SELECT GREATEST((SELECT s.last_value FROM %s AS s), (SELECT pg_catalog.max(r.id) FROM @extschema@.%I AS r), 0)',
            pg_catalog.pg_get_serial_sequence(pg_catalog.format('@extschema@.%I', t.tab), 'id'), t.tab)
            INTO n;
        EXECUTE pg_catalog.format('ALTER TABLE @extschema@.%I ALTER COLUMN id DROP IDENTITY', t.tab);
        EXECUTE pg_catalog.format('CREATE SEQUENCE @extschema@.%I%s', t.tab || '_id_seq', t.options);
        PERFORM pg_catalog.setval(pg_catalog.format('@extschema@.%I', t.tab || '_id_seq')::pg_catalog.regclass,
                                  n OPERATOR(pg_catalog.+) 1, false);
        EXECUTE pg_catalog.format(
            'ALTER TABLE @extschema@.%I ALTER COLUMN id SET DEFAULT pg_catalog.nextval(%L::pg_catalog.regclass)',
            t.tab, pg_catalog.format('@extschema@.%I', t.tab || '_id_seq'));
        PERFORM pg_catalog.pg_extension_config_dump(pg_catalog.format('@extschema@.%I', t.tab || '_id_seq')::pg_catalog.regclass, '');
    END LOOP;
END $$;

-- Each partition of the log has its own primary key and pending index; the parent none.
ALTER TABLE @extschema@.webhook_routing_logs DROP CONSTRAINT webhook_routing_logs_pkey;
DROP INDEX @extschema@.webhook_routing_logs_pending_idx;
DO $$
DECLARE
    part text;
BEGIN
    FOR part IN
        SELECT c.relname FROM pg_catalog.pg_inherits AS i JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
        WHERE i.inhparent OPERATOR(pg_catalog.=) '@extschema@.webhook_routing_logs'::pg_catalog.regclass
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE @extschema@.%I ADD PRIMARY KEY (id, created_at)', part);
        EXECUTE pg_catalog.format(
            'CREATE INDEX %I ON @extschema@.%I (created_at) WHERE status OPERATOR(pg_catalog.=) ''pending''',
            part OPERATOR(pg_catalog.||) '_pending_idx', part);
    END LOOP;
END $$;

-- Which rules and thresholds the install wrote: those a restore replaces with their dumped
-- selves, and that are disabled rather than deleted.
ALTER TABLE @extschema@.webhook_routing_rules ADD COLUMN seeded boolean NOT NULL DEFAULT false;
ALTER TABLE @extschema@.webhook_routing_thresholds ADD COLUMN seeded boolean NOT NULL DEFAULT false;
UPDATE @extschema@.webhook_routing_rules AS r SET seeded = true
FROM (SELECT d AS domain, 'id_prefix' AS match_kind, d OPERATOR(pg_catalog.||) '_' AS pattern
      FROM pg_catalog.unnest(ARRAY['jobs', 'marketplace', 'property', 'mobility', 'profile', 'insurance', 'ai_agents']) AS d
      UNION ALL
      SELECT * FROM (VALUES ('mobility', 'message_type', 'location'), ('marketplace', 'message_type', 'order')) AS t(d, k, p)
      UNION ALL
      SELECT k.domain, 'keyword', pattern
      FROM (VALUES
          ('insurance', ARRAY['insur*', 'policy', 'policies', 'claim*', 'premium*', 'cover note']),
          ('mobility',  ARRAY['ride*', 'taxi*', 'moto*', 'driver*', 'trip*', 'transport*', 'pick me up', 'pickup']),
          ('profile',   ARRAY['profile*', 'my account', 'my details', 'my name', 'my number', 'my language', 'delete my data']),
          ('jobs',      ARRAY['job*', 'vacanc*', 'hiring', 'hire', 'recruit*', 'employ*', 'career*', 'internship*', 'cv', 'resume', 'salary', 'looking for work', 'work from home']),
          ('property',  ARRAY['house*', 'apartment*', 'rent*', 'land', 'plot*', 'bedroom*', 'landlord*', 'tenant*', 'lease*', 'real estate', 'propert*']),
          ('ai_agents', ARRAY['ai', 'agent*', 'assistant*', 'chatbot*', 'bot']),
          ('marketplace', ARRAY['sell*', 'buy*', 'purchase*', 'for sale', 'price*', 'shop*', 'market*', 'product*'])
      ) AS k(domain, patterns), pg_catalog.unnest(k.patterns) AS pattern) AS seed
WHERE r.domain OPERATOR(pg_catalog.=) seed.domain AND r.match_kind OPERATOR(pg_catalog.=) seed.match_kind
  AND r.pattern OPERATOR(pg_catalog.=) seed.pattern;
UPDATE @extschema@.webhook_routing_thresholds SET seeded = true WHERE domain IS NULL;

-- Restores give back every row of the history, the rules and the thresholds.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.webhook_routing_config', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.webhook_routing_rules', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.webhook_routing_thresholds', '');
CREATE TRIGGER webhook_routing_config_restore
    BEFORE INSERT ON @extschema@.webhook_routing_config
    FOR EACH ROW WHEN (NEW.action OPERATOR(pg_catalog.=) 'install')
    EXECUTE FUNCTION @extschema@.webhook_routing_config_restore();
CREATE TRIGGER webhook_routing_rules_restore
    BEFORE INSERT ON @extschema@.webhook_routing_rules
    FOR EACH ROW WHEN (NEW.seeded)
    EXECUTE FUNCTION @extschema@.webhook_routing_rules_restore();
CREATE TRIGGER webhook_routing_thresholds_restore
    BEFORE INSERT ON @extschema@.webhook_routing_thresholds
    FOR EACH ROW WHEN (NEW.seeded)
    EXECUTE FUNCTION @extschema@.webhook_routing_thresholds_restore();
CREATE TRIGGER webhook_routing_rules_keep_seeds
    BEFORE DELETE ON @extschema@.webhook_routing_rules
    FOR EACH ROW EXECUTE FUNCTION @extschema@.webhook_routing_rules_keep_seeds();
CREATE TRIGGER webhook_routing_rules_no_truncate
    BEFORE TRUNCATE ON @extschema@.webhook_routing_rules
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.webhook_routing_rules_keep_seeds();

-- The new sequences' privileges as a fresh install has them (sql/security.sql).
DO $$
DECLARE
    seq text;
    grantee text;
BEGIN
    FOREACH seq IN ARRAY ARRAY['@extschema@.webhook_routing_config_id_seq', '@extschema@.webhook_routing_rules_id_seq',
                               '@extschema@.webhook_routing_logs_id_seq', '@extschema@.webhook_routing_rollouts_id_seq'] LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON SEQUENCE %s FROM PUBLIC', seq);
        FOR grantee IN
            SELECT DISTINCT a.grantee::pg_catalog.regrole::pg_catalog.text
            FROM pg_catalog.pg_class AS c, pg_catalog.aclexplode(c.relacl) AS a
            WHERE c.oid OPERATOR(pg_catalog.=) seq::pg_catalog.regclass
              AND a.grantee OPERATOR(pg_catalog.<>) 0::pg_catalog.oid
              AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
        LOOP
            EXECUTE pg_catalog.format('REVOKE ALL ON SEQUENCE %s FROM %s', seq, grantee);
        END LOOP;
    END LOOP;
END $$;
GRANT USAGE ON SEQUENCE @extschema@.webhook_routing_rules_id_seq TO webhook_routing_admin;
GRANT USAGE ON SEQUENCE @extschema@.webhook_routing_logs_id_seq TO webhook_routing_caller;

-- Every stored expression of the extension's objects (defaults, CHECKs, index predicates,
-- views, policies, trigger conditions, index predicates) must be bound to pg_catalog's functions and operators or
-- the extension's own. One bound elsewhere means a look-alike was planted in the schema before
-- an earlier install: refuse to go on, with nothing changed.
DO $$
DECLARE
    bound text;
BEGIN
    SELECT pg_catalog.string_agg(DISTINCT CASE
               WHEN d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
               THEN d.refobjid::pg_catalog.regprocedure::pg_catalog.text
               ELSE d.refobjid::pg_catalog.regoperator::pg_catalog.text END, ', ')
    INTO bound
    FROM pg_catalog.pg_depend AS d
    LEFT JOIN pg_catalog.pg_proc AS p
      ON d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
     AND p.oid OPERATOR(pg_catalog.=) d.refobjid
    LEFT JOIN pg_catalog.pg_operator AS o
      ON d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_operator'::pg_catalog.regclass
     AND o.oid OPERATOR(pg_catalog.=) d.refobjid
    WHERE d.classid OPERATOR(pg_catalog.=) ANY (ARRAY['pg_catalog.pg_constraint'::pg_catalog.regclass,
              'pg_catalog.pg_attrdef'::pg_catalog.regclass, 'pg_catalog.pg_rewrite'::pg_catalog.regclass,
              'pg_catalog.pg_policy'::pg_catalog.regclass, 'pg_catalog.pg_trigger'::pg_catalog.regclass,
              'pg_catalog.pg_class'::pg_catalog.regclass])
      AND coalesce(p.pronamespace, o.oprnamespace) IS NOT NULL
      AND coalesce(p.pronamespace, o.oprnamespace) OPERATOR(pg_catalog.<>) 'pg_catalog'::pg_catalog.regnamespace
      AND NOT EXISTS (
          SELECT 1 FROM pg_catalog.pg_depend AS own
          JOIN pg_catalog.pg_extension AS x ON x.oid OPERATOR(pg_catalog.=) own.refobjid
          WHERE x.extname OPERATOR(pg_catalog.=) 'webhook_routing' AND own.deptype OPERATOR(pg_catalog.=) 'e'
            AND own.objid OPERATOR(pg_catalog.=) d.refobjid)
      AND EXISTS (
          SELECT 1 FROM pg_catalog.pg_depend AS m
          JOIN pg_catalog.pg_extension AS e ON e.oid OPERATOR(pg_catalog.=) m.refobjid
          WHERE e.extname OPERATOR(pg_catalog.=) 'webhook_routing' AND m.deptype OPERATOR(pg_catalog.=) 'e'
            AND m.objid OPERATOR(pg_catalog.=) CASE d.classid
                WHEN 'pg_catalog.pg_constraint'::pg_catalog.regclass
                    THEN (SELECT c.conrelid FROM pg_catalog.pg_constraint AS c WHERE c.oid OPERATOR(pg_catalog.=) d.objid)
                WHEN 'pg_catalog.pg_attrdef'::pg_catalog.regclass
                    THEN (SELECT a.adrelid FROM pg_catalog.pg_attrdef AS a WHERE a.oid OPERATOR(pg_catalog.=) d.objid)
                WHEN 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                    THEN (SELECT r.ev_class FROM pg_catalog.pg_rewrite AS r WHERE r.oid OPERATOR(pg_catalog.=) d.objid)
                WHEN 'pg_catalog.pg_policy'::pg_catalog.regclass
                    THEN (SELECT y.polrelid FROM pg_catalog.pg_policy AS y WHERE y.oid OPERATOR(pg_catalog.=) d.objid)
                WHEN 'pg_catalog.pg_trigger'::pg_catalog.regclass
                    THEN (SELECT t.tgrelid FROM pg_catalog.pg_trigger AS t WHERE t.oid OPERATOR(pg_catalog.=) d.objid)
                ELSE (SELECT i.indrelid FROM pg_catalog.pg_index AS i WHERE i.indexrelid OPERATOR(pg_catalog.=) d.objid) END);
    IF bound IS NOT NULL THEN
        RAISE EXCEPTION 'webhook_routing''s objects are bound to functions or operators outside pg_catalog: %', bound
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'They were planted in the extension''s schema before it was installed, and run whenever the extension writes.',
                  HINT = 'Do not update: dump the data, drop the extension and the planted objects, and install this version afresh.';
    END IF;
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
