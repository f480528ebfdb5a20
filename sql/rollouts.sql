-- Staged rollouts: a plan of percentages per domain that advance_rollouts() (run every minute
-- by pg_cron) walks by itself, holding each step, reading the domain's health since the step
-- began, and stepping back or going to 0% on a breach. Every transition is a row of the config
-- history: `action` says which (rollout_start, rollout_advance, rollout_complete, rollout_pause,
-- rollout_resume, rollout_rollback, rollout_abort), `rollout_id` which plan, `detail` (jsonb)
-- the steps and the checks it saw.

CREATE SEQUENCE webhook_routing_rollouts_id_seq;
CREATE TABLE webhook_routing_rollouts (
    id bigint NOT NULL DEFAULT pg_catalog.nextval('@extschema@.webhook_routing_rollouts_id_seq'::pg_catalog.regclass) PRIMARY KEY,
    domain text NOT NULL,
    steps numeric(5,2)[] NOT NULL,
    hold interval NOT NULL,
    -- The step in force, 1-based like SQL arrays.
    step integer NOT NULL DEFAULT 1,
    -- active: advance_rollouts walks it. paused: held until resume_rollout. completed: the last
    -- step held healthy. rolled_back: ended at 0% by a breach or rollback_routing(..., 'zero').
    -- aborted: ended at 0% by abort_rollout.
    state text NOT NULL DEFAULT 'active'
        CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['active', 'paused', 'completed', 'rolled_back', 'aborted'])),
    step_started_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    reason text,
    started_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    ended_at timestamptz,
    -- What advance_rollouts last concluded: wait, hold, inconclusive, advance, complete, rollback.
    last_verdict text,
    last_checked_at timestamptz,
    last_detail jsonb,
    -- How long a step may wait for its evidence: past it without a pass, advance_rollouts says
    -- inconclusive and holds (and still advances when the evidence comes).
    max_hold interval NOT NULL,
    CHECK (step OPERATOR(pg_catalog.>=) 1 AND step OPERATOR(pg_catalog.<=) pg_catalog.cardinality(steps)),
    CHECK (max_hold OPERATOR(pg_catalog.>=) hold)
);

-- At most one plan in progress per domain.
CREATE UNIQUE INDEX webhook_routing_rollouts_in_progress ON webhook_routing_rollouts (domain)
    WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['active', 'paused']);

SELECT pg_catalog.pg_extension_config_dump('webhook_routing_rollouts', '');
SELECT pg_catalog.pg_extension_config_dump('webhook_routing_rollouts_id_seq', '');

-- The percentage of a domain in a config row.
CREATE FUNCTION webhook_routing_domain_percentage(c @extschema@.webhook_routing_config, domain text)
RETURNS numeric
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce((c.domain_percentages ->> domain)::numeric, c.percentage)
$$;

-- The plan in progress for a domain, locked; refuses when there is none.
CREATE FUNCTION webhook_routing_plan_in_progress(domain text, states text[])
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

CREATE FUNCTION webhook_routing_check_reason(reason text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_catalog.length(reason) > 1000 THEN
        RAISE EXCEPTION 'reason is too long'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A reason has at most 1000 characters.',
                  HINT = 'Summarize the reason; link to a ticket for the details.';
    END IF;
END $$;

-- Start a staged rollout of a domain: validate the plan and set its first step.
CREATE FUNCTION start_rollout(
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

-- Hold a plan where it is (advance_rollouts leaves it alone) until resume_rollout.
CREATE FUNCTION pause_rollout(domain text, reason text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    plan @extschema@.webhook_routing_rollouts;
    config_id bigint;
BEGIN
    PERFORM @extschema@.webhook_routing_check_reason(pause_rollout.reason);
    plan := @extschema@.webhook_routing_plan_in_progress(pause_rollout.domain, '{active}');
    UPDATE @extschema@.webhook_routing_rollouts AS r
    SET state = 'paused', last_verdict = 'paused', last_checked_at = pg_catalog.clock_timestamp()
    WHERE r.id = plan.id;
    config_id := @extschema@.webhook_routing_set_step(
        plan.domain, plan.steps[plan.step], 'rollout_pause',
        coalesce(pause_rollout.reason, pg_catalog.format('rollout %s paused at step %s', plan.id, plan.step)),
        plan.id, pg_catalog.jsonb_build_object('transition', 'pause', 'step', plan.step, 'to', plan.steps[plan.step]));
    RAISE NOTICE '%', pg_catalog.format('Rollout %s of %s paused at step %s of %s (%s%%).', plan.id, plan.domain,
        plan.step, pg_catalog.cardinality(plan.steps), plan.steps[plan.step]);
    RETURN config_id;
END $$;

-- Continue a paused plan from its step; the hold starts again.
CREATE FUNCTION resume_rollout(domain text, reason text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    plan @extschema@.webhook_routing_rollouts;
    config_id bigint;
BEGIN
    PERFORM @extschema@.webhook_routing_check_reason(resume_rollout.reason);
    plan := @extschema@.webhook_routing_plan_in_progress(resume_rollout.domain, '{paused}');
    UPDATE @extschema@.webhook_routing_rollouts AS r
    SET state = 'active', step_started_at = pg_catalog.clock_timestamp(), last_verdict = 'resumed',
        last_checked_at = pg_catalog.clock_timestamp()
    WHERE r.id = plan.id;
    config_id := @extschema@.webhook_routing_set_step(
        plan.domain, plan.steps[plan.step], 'rollout_resume',
        coalesce(resume_rollout.reason, pg_catalog.format('rollout %s resumed at step %s', plan.id, plan.step)),
        plan.id, pg_catalog.jsonb_build_object('transition', 'resume', 'step', plan.step, 'to', plan.steps[plan.step]));
    RAISE NOTICE '%', pg_catalog.format('Rollout %s of %s resumed at step %s of %s (%s%%); the hold of %s starts again.',
        plan.id, plan.domain, plan.step, pg_catalog.cardinality(plan.steps), plan.steps[plan.step], plan.hold);
    RETURN config_id;
END $$;

-- End a plan and send the domain back to 0%.
CREATE FUNCTION abort_rollout(domain text, reason text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    plan @extschema@.webhook_routing_rollouts;
    config_id bigint;
BEGIN
    IF abort_rollout.reason IS NULL OR pg_catalog.btrim(abort_rollout.reason) = '' THEN
        RAISE EXCEPTION 'aborting a rollout needs a reason'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Say why, e.g. abort_rollout(''jobs'', ''handler bug #123'').';
    END IF;
    PERFORM @extschema@.webhook_routing_check_reason(abort_rollout.reason);
    plan := @extschema@.webhook_routing_plan_in_progress(abort_rollout.domain, '{active,paused}');
    UPDATE @extschema@.webhook_routing_rollouts AS r
    SET state = 'aborted', ended_at = pg_catalog.clock_timestamp(), last_verdict = 'aborted',
        last_checked_at = pg_catalog.clock_timestamp()
    WHERE r.id = plan.id;
    config_id := @extschema@.webhook_routing_set_step(
        plan.domain, 0, 'rollout_abort', abort_rollout.reason, plan.id,
        pg_catalog.jsonb_build_object('transition', 'abort', 'step', plan.step, 'from', plan.steps[plan.step], 'to', 0));
    RAISE NOTICE '%', pg_catalog.format('Rollout %s of %s aborted at step %s of %s: %s is at 0%%.', plan.id,
        plan.domain, plan.step, pg_catalog.cardinality(plan.steps), plan.domain);
    RETURN config_id;
END $$;

-- An operator's rollback: 'previous' or 'zero'. 'previous' is the plan's previous step; without
-- a plan, the percentage the domain had before it was last raised to where it is: the latest
-- earlier percentage in its history below the current one. A rollback never widens: at 10%
-- after a step back from 25%, it goes to what came before 10% (0% if 10% was the first step),
-- not back up to 25%. A plan in progress is paused ('previous') or ends rolled back ('zero',
-- or 'previous' from its first step).
CREATE FUNCTION rollback_routing(domain text, "to" text DEFAULT 'previous') RETURNS bigint
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

-- A duration as operators say it: "4 h", "1 h 10 min", "10 min", "45 s"; rounded up to the
-- minute from one minute on (what is left of a hold is never shown shorter than it is).
CREATE FUNCTION webhook_routing_duration(d interval) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN d IS NULL THEN NULL
        WHEN ceil(extract(epoch FROM d)) < 60 THEN greatest(ceil(extract(epoch FROM d)), 0)::bigint || ' s'
        ELSE concat_ws(' ',
                 CASE WHEN m.total >= 60 THEN (m.total / 60) || ' h' END,
                 CASE WHEN m.total % 60 <> 0 THEN (m.total % 60) || ' min' END) END
    FROM (SELECT ceil(extract(epoch FROM d) / 60)::bigint AS total) AS m
$$;

-- Walk every active plan one step, on the verdicts of its domain's checks since the step began
-- (check_routing_health over that window, sequential tests: src/stats/verdict.rs):
--   rollback      a check failed whose action is rollback: an error-rate check sends the domain
--                 to 0% and ends the plan rolled back, as the runbook says; any other goes back
--                 to the previous step and pauses (0% and ends from the first step)
--   hold          a check failed whose action is hold (the sample ratio; legacy's own trouble),
--                 or a gate has no threshold
--   wait          the hold is not over, or it is and a gate has no verdict yet
--   advance       the hold is over and every gate passed: the next step, or after the last
--   complete      the plan completes
--   inconclusive  the max hold is over and a gate still has no verdict: holds, saying which gate
--                 and its samples; it advances as soon as the gates pass
-- The gates: unified against legacy in the same window (error_rate_vs_legacy, p95_vs_legacy);
-- with fewer legacy outcomes in the window than min_samples (at 100%, once the conversations
-- that stayed on legacy are over), the absolute bars (error_rate, p95_latency).
-- A gate whose action is warn gates nothing; a check in dry run acts on nothing and gates
-- nothing, and the detail records what it would have done (dry_run). Every other check acts
-- only on a fail. Plans another call is working on are skipped, so concurrent calls never act
-- twice; calling again right after does nothing new.
-- Each plan's row says what it concluded in words (`reason`: what it waits for, what failed, what
-- passed) before the detail, so that `SELECT rollout_id, domain, step, percentage, verdict,
-- reason FROM advance_rollouts()` reads in psql; `detail` is the jsonb the history keeps.
CREATE FUNCTION advance_rollouts()
RETURNS TABLE (rollout_id bigint, domain text, step integer, percentage numeric, verdict text, reason text,
               detail jsonb)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    plan @extschema@.webhook_routing_rollouts;
    n integer;
    held interval;
    health jsonb;
    checks jsonb;
    to_zero boolean;
    rollback boolean;
    holding boolean;
    control boolean;
    gates text[];
    passed boolean;
    pending text[];
    would jsonb;
    next_step integer;
    next_state text;
    target numeric;
    action text;
    summary text;
    missing text[];
    why text;
    failing text;
    healths jsonb;
BEGIN
    -- Under REPEATABLE READ or SERIALIZABLE, refuse (40001) a snapshot older than a change
    -- committed since: acting on it could undo that change.
    PERFORM @extschema@.webhook_routing_require_current_snapshot();
    -- Every active plan's health, of its domain over its step, in one statement: its functions
    -- are planned once a call, not once a plan (a plan's own statements cost what its domain's
    -- minutes cost). A plan's actions below change percentages only, never what health reads.
    -- A plan another call moved on since (another step start), or one whose health fails here,
    -- reads its own below, where its failure is its own.
    BEGIN
        SELECT pg_catalog.jsonb_object_agg(r.id::text,
                   pg_catalog.jsonb_build_object('at', r.step_started_at, 'domain', r.domain, 'health', x.health))
        INTO healths
        FROM @extschema@.webhook_routing_rollouts AS r
        CROSS JOIN LATERAL (
            SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(h)), '[]') AS health
            FROM @extschema@.webhook_routing_health(greatest(pg_catalog.now() - r.step_started_at, interval '1 second'),
                                                    r.domain) AS h
        ) AS x
        WHERE r.state = 'active';
    EXCEPTION WHEN OTHERS THEN
        healths := NULL;
    END;
    FOR plan IN
        SELECT * FROM @extschema@.webhook_routing_rollouts AS r
        WHERE r.state = 'active' ORDER BY r.id FOR UPDATE SKIP LOCKED
    LOOP
      -- One plan's failure (its domain no longer routable, a refused change) must not stop the
      -- others from rolling back: it is reported as verdict 'error' and the plan stays as it was.
      BEGIN
        n := pg_catalog.cardinality(plan.steps);
        held := pg_catalog.now() - plan.step_started_at;
        health := CASE WHEN (healths -> plan.id::text ->> 'at')::timestamptz = plan.step_started_at
                             AND healths -> plan.id::text ->> 'domain' = plan.domain
                        THEN healths -> plan.id::text -> 'health' END;
        IF health IS NULL THEN
            SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(h)), '[]')
            INTO health
            FROM @extschema@.webhook_routing_health(greatest(held, interval '1 second'), plan.domain) AS h;
        END IF;
        SELECT pg_catalog.jsonb_object_agg(h.routed_to || '.' || h.check_name,
                   pg_catalog.jsonb_build_object('value', h.value, 'verdict', h.verdict, 'statistic', h.statistic,
                                                 'confidence', h.confidence, 'samples', h.samples,
                                                 'status', h.status, 'action', h.action)),
               coalesce(bool_or(h.recommendation = 'rollback' AND h.check_name IN ('error_rate', 'error_rate_vs_legacy')), false),
               coalesce(bool_or(h.recommendation = 'rollback'), false),
               coalesce(bool_or(h.recommendation = 'hold'), false),
               -- Legacy to compare with: its outcomes, at least min_samples of them.
               coalesce(bool_or(h.routed_to = 'legacy' AND h.check_name = 'error_rate' AND h.status <> 'insufficient_data'), false),
               pg_catalog.jsonb_object_agg(h.routed_to || '.' || h.check_name, pg_catalog.split_part(h.action, ' ', 1))
                   FILTER (WHERE h.verdict = 'fail' AND h.action LIKE '% (dry run)'),
               pg_catalog.string_agg(pg_catalog.format('%s %s', h.check_name, h.verdict), ', ' ORDER BY h.check_name)
                   FILTER (WHERE h.routed_to = 'unified'),
               pg_catalog.string_agg(pg_catalog.format('%s %s (%s)', h.routed_to, h.check_name, h.recommendation), ', '
                                     ORDER BY h.routed_to DESC, h.check_name)
                   FILTER (WHERE h.recommendation IN ('rollback', 'hold'))
        INTO checks, to_zero, rollback, holding, control, would, summary, failing
        FROM pg_catalog.jsonb_to_recordset(health) AS h(routed_to text, check_name text, value numeric, status text,
                                                        recommendation text, samples bigint, verdict text,
                                                        statistic numeric, confidence numeric, action text);
        gates := CASE WHEN control THEN ARRAY['error_rate_vs_legacy', 'p95_vs_legacy']
                      ELSE ARRAY['error_rate', 'p95_latency'] END;
        SELECT coalesce(bool_and(h.verdict = 'pass'), true),
               coalesce(pg_catalog.array_agg(pg_catalog.format('%s %s at %s samples', h.check_name, h.verdict, h.samples)
                                             ORDER BY h.check_name) FILTER (WHERE h.verdict <> 'pass'), '{}'),
               ARRAY(SELECT g FROM pg_catalog.unnest(gates) AS g
                     EXCEPT SELECT x.check_name FROM pg_catalog.jsonb_to_recordset(health) AS x(routed_to text, check_name text)
                            WHERE x.routed_to = 'unified')
        INTO passed, pending, missing
        FROM pg_catalog.jsonb_to_recordset(health) AS h(routed_to text, check_name text, samples bigint,
                                                        verdict text, action text)
        WHERE h.routed_to = 'unified' AND h.check_name = ANY (gates) AND h.action IN ('rollback', 'hold');
        IF pg_catalog.cardinality(missing) > 0 THEN
            holding := true;
            summary := coalesce(summary || ', ', '') || 'no threshold for ' || pg_catalog.array_to_string(missing, ', ');
            failing := coalesce(failing || ', ', '') || 'no threshold for ' || pg_catalog.array_to_string(missing, ', ');
        END IF;
        next_step := plan.step;
        next_state := plan.state;
        why := NULL;
        IF to_zero THEN
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
        ELSIF holding THEN
            verdict := 'hold';
        ELSIF held < plan.hold THEN
            verdict := 'wait';
        ELSIF passed THEN
            IF plan.step < n THEN
                verdict := 'advance';
                next_step := plan.step + 1;
                target := plan.steps[next_step];
            ELSE
                verdict := 'complete';
                target := plan.steps[n];
                next_state := 'completed';
            END IF;
        ELSIF held >= plan.max_hold THEN
            verdict := 'inconclusive';
            why := pg_catalog.format('no verdict after %s (max hold %s): %s. The plan holds and advances when they pass; '
                                     'more traffic (a step up by hand) or a wider bar decides sooner, pause_rollout() stops it.',
                                     pg_catalog.date_trunc('second', held), plan.max_hold,
                                     pg_catalog.array_to_string(pending, ', '));
        ELSE
            verdict := 'wait';
        END IF;
        detail := pg_catalog.jsonb_build_object('transition', verdict, 'step', plan.step, 'of', n,
                      'from', plan.steps[plan.step], 'to', target, 'held', held::text, 'hold', plan.hold::text,
                      'max_hold', plan.max_hold::text, 'gates', pg_catalog.to_jsonb(gates),
                      'checks', coalesce(checks, '{}'))
                  || CASE WHEN pg_catalog.cardinality(pending) > 0
                          THEN pg_catalog.jsonb_build_object('pending', pg_catalog.to_jsonb(pending)) ELSE '{}' END
                  || CASE WHEN why IS NOT NULL THEN pg_catalog.jsonb_build_object('reason', why) ELSE '{}' END
                  || CASE WHEN would IS NOT NULL THEN pg_catalog.jsonb_build_object('dry_run', would) ELSE '{}' END
                  || CASE WHEN pg_catalog.cardinality(missing) > 0
                          THEN pg_catalog.jsonb_build_object('missing_thresholds', pg_catalog.to_jsonb(missing))
                          ELSE '{}' END;
        reason := CASE
            WHEN verdict IN ('rollback', 'advance', 'complete') THEN
                pg_catalog.format('%s%% → %s%% after %s: %s', pg_catalog.trim_scale(plan.steps[plan.step]),
                                  pg_catalog.trim_scale(target), @extschema@.webhook_routing_duration(held),
                                  CASE WHEN verdict = 'rollback' THEN 'failed ' || failing
                                       ELSE pg_catalog.array_to_string(gates, ', ') || ' passed' END)
            WHEN verdict = 'hold' THEN 'failed ' || failing
            WHEN verdict = 'inconclusive' THEN why
            WHEN held < plan.hold THEN
                pg_catalog.format('%s hold, %s left', @extschema@.webhook_routing_duration(plan.hold),
                                  @extschema@.webhook_routing_duration(plan.hold - held))
            ELSE 'waiting for ' || pg_catalog.array_to_string(pending, ', ') END;
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
        ELSIF verdict = 'inconclusive' AND plan.last_verdict IS DISTINCT FROM 'inconclusive' THEN
            RAISE NOTICE 'advance_rollouts: rollout % of % is inconclusive', plan.id, plan.domain
                USING DETAIL = why;
        END IF;
      EXCEPTION WHEN OTHERS THEN
        verdict := 'error';
        next_step := plan.step;
        target := NULL;
        detail := pg_catalog.jsonb_build_object('transition', 'error', 'step', plan.step, 'of', n,
                      'error', SQLERRM, 'sqlstate', SQLSTATE);
        reason := 'error: ' || SQLERRM;
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

-- What an operator reads first: one row per domain, routable or protected.
CREATE VIEW routing_status AS
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
       h.health AS health_last_hour,
       -- Sessions of the last hour whose messages reached more than one handler, in % (routing_sessions).
       se.broken_pct AS session_breaks_last_hour,
       -- What the plan's last look saw, unified's checks since its step began: verdict,
       -- confidence, samples and action of each, and what a gate still waits for.
       (SELECT pg_catalog.string_agg(pg_catalog.format('%s %s (%s%%, %s samples, %s)',
                   pg_catalog.split_part(e.key, '.', 2), e.value OPERATOR(pg_catalog.->>) 'verdict',
                   pg_catalog.round(100 OPERATOR(pg_catalog.*) (e.value OPERATOR(pg_catalog.->>) 'confidence')::numeric, 1),
                   e.value OPERATOR(pg_catalog.->>) 'samples', e.value OPERATOR(pg_catalog.->>) 'action'),
                   '; ' ORDER BY e.key)
        FROM pg_catalog.jsonb_each(r.last_detail OPERATOR(pg_catalog.->) 'checks') AS e
        WHERE e.key OPERATOR(pg_catalog.~~) 'unified.%') AS checks,
       r.last_detail OPERATOR(pg_catalog.->>) 'reason' AS verdict_reason,
       -- Who goes to unified first, and who never does (set_routing_testers, set_routing_denied):
       -- numbers, shown to admins only (NULL to other roles, sql/security.sql).
       CASE WHEN pg_catalog.pg_has_role('webhook_routing_admin', 'USAGE')
            THEN ARRAY(SELECT pg_catalog.jsonb_array_elements_text(c.testers OPERATOR(pg_catalog.->) d.domain)) END AS testers,
       CASE WHEN pg_catalog.pg_has_role('webhook_routing_admin', 'USAGE')
            THEN ARRAY(SELECT pg_catalog.jsonb_array_elements_text(c.denied OPERATOR(pg_catalog.->) d.domain)) END AS denied
FROM c
CROSS JOIN LATERAL pg_catalog.unnest(c.domains OPERATOR(pg_catalog.||) c.protected_domains) AS d(domain)
LEFT JOIN LATERAL (
    SELECT * FROM @extschema@.webhook_routing_rollouts AS x WHERE x.domain OPERATOR(pg_catalog.=) d.domain
    ORDER BY x.id DESC LIMIT 1
) AS r ON true
LEFT JOIN health AS h ON h.domain OPERATOR(pg_catalog.=) d.domain
LEFT JOIN @extschema@.routing_sessions('1 hour') AS se ON se.domain OPERATOR(pg_catalog.=) d.domain;

-- Events. Every row of the config history (each percentage or switch change, by hand or by a
-- plan, each testers or deny-list change, and each transition of a plan: start, advance,
-- complete, pause, resume, rollback, abort) sends a notification on the channel
-- `webhook_routing` when its transaction commits. Any role that may connect may LISTEN, so the
-- event carries what names the change and nothing personal: the row's id to read it back by,
-- its action and time, the global switch and percentage, how many domains have their own
-- percentage or switch, how many testers and denied keys there are (counts, never the keys),
-- and for a plan's transition the plan's id, domain, state and step (never a reason, a role
-- or a list). Every part is bounded (a domain has at most 63 characters; an action is cut at
-- 64), so the payload stays far below NOTIFY's 8,000 bytes however large the lists grow, and
-- nothing in it can make the change it announces fail: the trigger runs at commit, and were
-- NOTIFY itself to fail there (its queue full), the change commits and a WARNING says what
-- was not announced.
CREATE FUNCTION webhook_routing_config_notify() RETURNS trigger
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

-- Deferred to the commit, so that the plan it describes is the plan as committed (a transition
-- writes its history row before or after its plan, as it goes).
CREATE CONSTRAINT TRIGGER webhook_routing_config_notify
    AFTER INSERT ON webhook_routing_config
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION @extschema@.webhook_routing_config_notify();

-- A rollout at a glance: one line per domain, readable in a 100-column psql.
--   pct        the percentage in force: "off (25%)" while the domain's or the global switch is
--              off, "protected" for a domain that is never routed
--   plan       its latest plan's step and state: "2/5" (active), "2/5 paused", "3/3 done",
--              "1/3 rolled back", "2/5 aborted"; NULL without a plan
--   verdict    what the evidence says now (NULL where nothing is routed: protected, switched
--              off, or at 0%, whatever the last hour saw before): rollback (a check whose action is rollback fails),
--              hold (a check whose action is hold fails, or the plan is paused), wait (the hold
--              is not over, or a gate has no verdict yet), proceed (every gate passed: the plan
--              advances at the next advance_rollouts(); without a plan, the next step by hand
--              is backed). Never proceed without samples: a gate passes on evidence only.
--   error_pct, p95_ms, samples
--              unified / legacy, side by side: error rate (%), p95 (ms) and outcomes
--   waits_for  what the verdict waits for, in words
-- The window is the plan's step (since it began) for a domain with a plan in progress, else
-- the last hour. The gates are advance_rollouts' (unified against legacy; the absolute bars
-- while legacy has fewer outcomes than min_samples).
CREATE VIEW routing_overview AS
WITH c AS (
    SELECT * FROM @extschema@.webhook_routing_config ORDER BY created_at DESC, id DESC LIMIT 1
),
d AS (
    SELECT x.domain, x.ord, x.domain OPERATOR(pg_catalog.=) ANY (c.protected_domains) AS protected,
           c.enabled AND coalesce((c.domain_enabled OPERATOR(pg_catalog.->>) x.domain)::boolean, true) AS routing,
           coalesce((c.domain_percentages OPERATOR(pg_catalog.->>) x.domain)::numeric, c.percentage) AS pct,
           r.id AS rollout_id, r.steps, r.step, r.state, r.hold, r.step_started_at,
           CASE WHEN r.state OPERATOR(pg_catalog.=) ANY (ARRAY['active', 'paused'])
                THEN pg_catalog.now() OPERATOR(pg_catalog.-) r.step_started_at END AS held
    FROM c
    CROSS JOIN LATERAL pg_catalog.unnest(c.domains OPERATOR(pg_catalog.||) c.protected_domains) WITH ORDINALITY AS x(domain, ord)
    LEFT JOIN LATERAL (
        SELECT * FROM @extschema@.webhook_routing_rollouts AS y WHERE y.domain OPERATOR(pg_catalog.=) x.domain
        ORDER BY y.id DESC LIMIT 1
    ) AS r ON true
),
judged AS (
    SELECT d.*, h.*
    FROM d
    LEFT JOIN LATERAL (
        SELECT pg_catalog.max(k.value) FILTER (WHERE k.routed_to OPERATOR(pg_catalog.=) 'unified' AND k.check_name OPERATOR(pg_catalog.=) 'error_rate') AS u_err,
               pg_catalog.max(k.value) FILTER (WHERE k.routed_to OPERATOR(pg_catalog.=) 'legacy' AND k.check_name OPERATOR(pg_catalog.=) 'error_rate') AS l_err,
               pg_catalog.max(k.value) FILTER (WHERE k.routed_to OPERATOR(pg_catalog.=) 'unified' AND k.check_name OPERATOR(pg_catalog.=) 'p95_latency') AS u_p95,
               pg_catalog.max(k.value) FILTER (WHERE k.routed_to OPERATOR(pg_catalog.=) 'legacy' AND k.check_name OPERATOR(pg_catalog.=) 'p95_latency') AS l_p95,
               coalesce(pg_catalog.max(k.samples) FILTER (WHERE k.routed_to OPERATOR(pg_catalog.=) 'unified' AND k.check_name OPERATOR(pg_catalog.=) 'error_rate'), 0) AS u_n,
               coalesce(pg_catalog.max(k.samples) FILTER (WHERE k.routed_to OPERATOR(pg_catalog.=) 'legacy' AND k.check_name OPERATOR(pg_catalog.=) 'error_rate'), 0) AS l_n,
               pg_catalog.string_agg(k.check_name, ', ' ORDER BY k.check_name)
                   FILTER (WHERE k.recommendation OPERATOR(pg_catalog.=) 'rollback') AS rolls_back,
               pg_catalog.string_agg(k.routed_to OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) k.check_name, ', '
                                     ORDER BY k.routed_to DESC, k.check_name)
                   FILTER (WHERE k.recommendation OPERATOR(pg_catalog.=) 'hold') AS holds,
               coalesce(pg_catalog.bool_or(k.routed_to OPERATOR(pg_catalog.=) 'legacy' AND k.check_name OPERATOR(pg_catalog.=) 'error_rate'
                                           AND k.status OPERATOR(pg_catalog.<>) 'insufficient_data'), false) AS control,
               pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('check', k.check_name, 'verdict', k.verdict,
                                                                  'samples', k.samples, 'action', k.action)
                                    ORDER BY k.check_name) FILTER (WHERE k.routed_to OPERATOR(pg_catalog.=) 'unified') AS unified
        FROM @extschema@.webhook_routing_health(
                 CASE WHEN d.held IS NOT NULL THEN greatest(d.held, interval '1 second') ELSE interval '1 hour' END,
                 d.domain) AS k
    ) AS h ON NOT d.protected
),
gated AS (
    SELECT j.*,
           -- The first gate that has not passed, with its samples and minimum (gates that only
           -- warn or report gate nothing, as in advance_rollouts).
           (SELECT pg_catalog.jsonb_build_object('check', g.value OPERATOR(pg_catalog.->>) 'check',
                       'verdict', g.value OPERATOR(pg_catalog.->>) 'verdict',
                       'samples', (g.value OPERATOR(pg_catalog.->>) 'samples')::bigint,
                       'min', (SELECT t.min_samples FROM @extschema@.webhook_routing_thresholds AS t
                               WHERE t.check_name OPERATOR(pg_catalog.=) (g.value OPERATOR(pg_catalog.->>) 'check')
                                 AND (t.domain OPERATOR(pg_catalog.=) j.domain OR t.domain IS NULL)
                               ORDER BY t.domain NULLS LAST LIMIT 1))
            FROM pg_catalog.jsonb_array_elements(j.unified) AS g
            WHERE (g.value OPERATOR(pg_catalog.->>) 'check') OPERATOR(pg_catalog.=) ANY (
                      CASE WHEN j.control THEN ARRAY['error_rate_vs_legacy', 'p95_vs_legacy']
                           ELSE ARRAY['error_rate', 'p95_latency'] END)
              AND (g.value OPERATOR(pg_catalog.->>) 'action') OPERATOR(pg_catalog.=) ANY (ARRAY['rollback', 'hold'])
              AND (g.value OPERATOR(pg_catalog.->>) 'verdict') OPERATOR(pg_catalog.<>) 'pass'
            ORDER BY g.value OPERATOR(pg_catalog.->>) 'check' LIMIT 1) AS gate
    FROM judged AS j
),
concluded AS (
    SELECT g.*,
           CASE WHEN g.protected OR NOT g.routing THEN NULL
                WHEN g.pct OPERATOR(pg_catalog.=) 0 THEN NULL
                WHEN g.rolls_back IS NOT NULL THEN 'rollback'
                WHEN g.state OPERATOR(pg_catalog.=) 'paused' OR g.holds IS NOT NULL THEN 'hold'
                WHEN g.state OPERATOR(pg_catalog.=) 'active' AND g.held OPERATOR(pg_catalog.<) g.hold THEN 'wait'
                WHEN g.gate IS NULL AND g.u_n OPERATOR(pg_catalog.>) 0 THEN 'proceed'
                ELSE 'wait' END AS verdict
    FROM gated AS g
)
SELECT x.domain,
       CASE WHEN x.protected THEN 'protected'
            WHEN NOT x.routing THEN 'off (' OPERATOR(pg_catalog.||) pg_catalog.trim_scale(x.pct) OPERATOR(pg_catalog.||) '%)'
            ELSE pg_catalog.trim_scale(x.pct) OPERATOR(pg_catalog.||) '%' END AS pct,
       CASE WHEN x.rollout_id IS NOT NULL
            THEN x.step OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) pg_catalog.cardinality(x.steps)
                 OPERATOR(pg_catalog.||) CASE WHEN x.state OPERATOR(pg_catalog.=) 'active' THEN ''
                                              WHEN x.state OPERATOR(pg_catalog.=) 'completed' THEN ' done'
                                              WHEN x.state OPERATOR(pg_catalog.=) 'rolled_back' THEN ' rolled back'
                                              ELSE ' ' OPERATOR(pg_catalog.||) x.state END END AS plan,
       x.verdict,
       CASE WHEN x.protected THEN NULL
            ELSE coalesce(pg_catalog.to_char(x.u_err, 'FM990.00'), '-') OPERATOR(pg_catalog.||) ' / '
                 OPERATOR(pg_catalog.||) coalesce(pg_catalog.to_char(x.l_err, 'FM990.00'), '-') END AS error_pct,
       CASE WHEN x.protected THEN NULL
            ELSE coalesce(pg_catalog.round(x.u_p95)::text, '-') OPERATOR(pg_catalog.||) ' / '
                 OPERATOR(pg_catalog.||) coalesce(pg_catalog.round(x.l_p95)::text, '-') END AS p95_ms,
       CASE WHEN x.protected THEN NULL
            ELSE x.u_n OPERATOR(pg_catalog.||) ' / ' OPERATOR(pg_catalog.||) x.l_n END AS samples,
       CASE WHEN x.protected THEN 'never routed'
            WHEN NOT x.routing THEN 'routing switched off'
            WHEN x.verdict IS NULL AND x.state OPERATOR(pg_catalog.=) ANY (ARRAY['rolled_back', 'aborted'])
            THEN 'at 0% since the plan ended: a new plan starts again'
            WHEN x.verdict IS NULL THEN 'at 0%: a step up starts it'
            WHEN x.verdict OPERATOR(pg_catalog.=) 'rollback' THEN 'failing: ' OPERATOR(pg_catalog.||) x.rolls_back
            WHEN x.state OPERATOR(pg_catalog.=) 'paused' THEN 'paused: resume_rollout()'
            WHEN x.verdict OPERATOR(pg_catalog.=) 'hold' THEN 'failing: ' OPERATOR(pg_catalog.||) x.holds
            WHEN x.verdict OPERATOR(pg_catalog.=) 'wait' AND x.state OPERATOR(pg_catalog.=) 'active'
                 AND x.held OPERATOR(pg_catalog.<) x.hold
            THEN pg_catalog.format('%s hold, %s left', @extschema@.webhook_routing_duration(x.hold),
                                   @extschema@.webhook_routing_duration(x.hold OPERATOR(pg_catalog.-) x.held))
            WHEN x.verdict OPERATOR(pg_catalog.=) 'wait' AND x.u_n OPERATOR(pg_catalog.=) 0 THEN 'unified samples: none yet'
            WHEN x.verdict OPERATOR(pg_catalog.=) 'wait'
                 AND (x.gate OPERATOR(pg_catalog.->>) 'samples')::bigint OPERATOR(pg_catalog.<) (x.gate OPERATOR(pg_catalog.->>) 'min')::bigint
            THEN pg_catalog.format('%s samples: %s of %s needed',
                                   CASE WHEN x.gate OPERATOR(pg_catalog.->>) 'check' OPERATOR(pg_catalog.~~) '%_vs_legacy'
                                             AND x.l_n OPERATOR(pg_catalog.<) x.u_n THEN 'legacy' ELSE 'unified' END,
                                   x.gate OPERATOR(pg_catalog.->>) 'samples', x.gate OPERATOR(pg_catalog.->>) 'min')
            WHEN x.verdict OPERATOR(pg_catalog.=) 'wait'
            THEN pg_catalog.format('%s: no verdict yet at %s samples', x.gate OPERATOR(pg_catalog.->>) 'check',
                                   x.gate OPERATOR(pg_catalog.->>) 'samples')
            WHEN x.state OPERATOR(pg_catalog.=) 'active' THEN 'gates passed: advances next run'
            WHEN x.state OPERATOR(pg_catalog.=) 'completed' THEN 'nothing: plan complete'
            ELSE 'gates passed: a step up is backed' END AS waits_for
FROM concluded AS x
ORDER BY x.protected, x.ord;
