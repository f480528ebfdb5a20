-- webhook_routing 0.5.0 → 0.6.0. ALTER EXTENSION webhook_routing UPDATE runs this; the result
-- matches a fresh 0.6.0 install (scripts/test compares the two, tests/upgrade/describe.sql).
-- Every function and operator it uses is schema-qualified, as in every script of the extension.
--
-- - Verdicts (src/verdict.rs): every check of check_routing_health is a sequential test of
--   unified against its bar, pass, fail or inconclusive, with its statistic, confidence and
--   samples; advance_rollouts advances only on a pass after the hold, rolls back only on a fail,
--   and says inconclusive after a plan's max hold.
-- - Thresholds get an action (rollback, hold, warn) and a dry-run mode; plans a max hold.
-- - The sample ratio compares like with like: the sketches keep the buckets of split decisions
--   per percentage (split_at), and each bucket counts once, at the first percentage it was seen at.
-- - Testers first: per domain, routing keys that go to unified before the percentage, and a deny
--   list, both in the config history (set_routing_testers, set_routing_denied).

-- The sketches: one row per minute, target, backend and percentage of the split decisions. The
-- rows written so far keep the mean percentage of theirs (split_expected / split_n).
ALTER TABLE @extschema@.webhook_routing_sketches ADD COLUMN split_at numeric(5,2);
ALTER TABLE @extschema@.webhook_routing_sketches DROP CONSTRAINT webhook_routing_sketches_minute_domain_routed_to_shard_key;
ALTER TABLE @extschema@.webhook_routing_sketches
    ADD CONSTRAINT webhook_routing_sketches_minute_domain_routed_to_shard_spli_key
    UNIQUE NULLS NOT DISTINCT (minute, domain, routed_to, shard, split_at);

-- Thresholds: what a fail does, and dry runs. The sample ratio holds, the others roll back, as
-- 0.5.0 did.
ALTER TABLE @extschema@.webhook_routing_thresholds
    ADD COLUMN action text,
    ADD COLUMN dry_run boolean NOT NULL DEFAULT false;
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

UPDATE @extschema@.webhook_routing_thresholds AS t
SET action = CASE WHEN t.check_name OPERATOR(pg_catalog.=) 'sample_ratio' THEN 'hold' ELSE 'rollback' END;
ALTER TABLE @extschema@.webhook_routing_thresholds
    ALTER COLUMN action SET NOT NULL,
    ADD CONSTRAINT webhook_routing_thresholds_action_check
        CHECK (action OPERATOR(pg_catalog.=) ANY (ARRAY['rollback', 'hold', 'warn'])),
    ADD CONSTRAINT webhook_routing_thresholds_check1
        CHECK (check_name OPERATOR(pg_catalog.<>) 'sample_ratio' OR action OPERATOR(pg_catalog.<>) 'rollback');

CREATE OR REPLACE FUNCTION @extschema@.webhook_routing_thresholds_restore() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE @extschema@.webhook_routing_thresholds AS t
    SET warning = NEW.warning, critical = NEW.critical, min_samples = NEW.min_samples,
        action = coalesce(NEW.action, t.action), dry_run = coalesce(NEW.dry_run, t.dry_run)
    WHERE t.seeded AND t.domain IS NOT DISTINCT FROM NEW.domain AND t.check_name = NEW.check_name;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;

-- Plans: how long a step may wait for its evidence. Plans made so far: their hold or 48 hours,
-- whichever is longer, as start_rollout now defaults.
ALTER TABLE @extschema@.webhook_routing_rollouts ADD COLUMN max_hold interval;
UPDATE @extschema@.webhook_routing_rollouts AS r SET max_hold = greatest(r.hold, interval '48 hours');
ALTER TABLE @extschema@.webhook_routing_rollouts
    ALTER COLUMN max_hold SET NOT NULL,
    ADD CONSTRAINT webhook_routing_rollouts_check1 CHECK (max_hold OPERATOR(pg_catalog.>=) hold);

-- The config history: testers and denied routing keys per domain.
-- Testers and denied senders per domain, e.g. {"jobs": ["250788123456"]}: domains to lists of
-- routing keys (a sender's `from` or the caller's routing key), 1 to 200 characters, at most
-- 1,000 per domain.
CREATE FUNCTION @extschema@.webhook_routing_valid_lists(lists jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_typeof(lists) = 'object'
       AND NOT EXISTS (
            SELECT 1 FROM jsonb_each(lists) AS e(key, value)
            WHERE e.key !~ '^[a-z][a-z0-9_]{0,62}$'
               OR jsonb_typeof(e.value) <> 'array'
               OR jsonb_array_length(e.value) > 1000
               OR EXISTS (SELECT 1 FROM jsonb_array_elements(e.value) AS k(v)
                          WHERE jsonb_typeof(k.v) <> 'string'
                             OR length(k.v #>> '{}') NOT BETWEEN 1 AND 200))
$$;
ALTER TABLE @extschema@.webhook_routing_config
    ADD COLUMN testers jsonb NOT NULL DEFAULT '{}'
        CONSTRAINT webhook_routing_config_testers_check CHECK (@extschema@.webhook_routing_valid_lists(testers)),
    ADD COLUMN denied jsonb NOT NULL DEFAULT '{}'
        CONSTRAINT webhook_routing_config_denied_check CHECK (@extschema@.webhook_routing_valid_lists(denied));
CREATE OR REPLACE FUNCTION @extschema@.webhook_routing_config_restore() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE @extschema@.webhook_routing_config AS c
    SET id = NEW.id, percentage = NEW.percentage, enabled = NEW.enabled, domains = NEW.domains,
        protected_domains = NEW.protected_domains, domain_percentages = NEW.domain_percentages,
        domain_enabled = NEW.domain_enabled, reason = NEW.reason, changed_by = NEW.changed_by,
        created_at = NEW.created_at, rollout_id = NEW.rollout_id, detail = NEW.detail,
        testers = NEW.testers, denied = NEW.denied
    WHERE c.action = 'install';
    IF FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION @extschema@.webhook_routing_config_notify() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    event jsonb;
    payload text;
BEGIN
    event := jsonb_build_object(
        'event', 'config', 'config_id', NEW.id, 'action', NEW.action, 'reason', NEW.reason,
        'changed_by', NEW.changed_by, 'created_at', NEW.created_at, 'enabled', NEW.enabled,
        'percentage', NEW.percentage, 'domains', to_jsonb(NEW.domains),
        'protected_domains', to_jsonb(NEW.protected_domains), 'domain_percentages', NEW.domain_percentages,
        'domain_enabled', NEW.domain_enabled, 'testers', NEW.testers, 'denied', NEW.denied,
        'rollout_id', NEW.rollout_id, 'detail', NEW.detail);
    IF NEW.rollout_id IS NOT NULL THEN
        event := event || coalesce((
            SELECT jsonb_build_object('rollout', jsonb_build_object(
                       'id', r.id, 'domain', r.domain, 'state', r.state, 'step', r.step,
                       'steps', to_jsonb(r.steps), 'hold', r.hold::text, 'step_started_at', r.step_started_at,
                       'last_verdict', r.last_verdict))
            FROM @extschema@.webhook_routing_rollouts AS r WHERE r.id = NEW.rollout_id), '{}');
    END IF;
    payload := event::text;
    IF octet_length(payload) > 7900 THEN
        payload := ((event - 'detail') || jsonb_build_object('detail_truncated', true))::text;
    END IF;
    PERFORM pg_notify('webhook_routing', payload);
    RETURN NULL;
END $$;

-- The Rust functions: sketches read whole, counts above a bar, the sample-ratio count, a check's
-- verdict, the lists. The bucket count they replace goes.
DROP FUNCTION @extschema@.webhook_routing_bits_count(bytea[]);
CREATE FUNCTION @extschema@."webhook_routing_sketch_union"(
	"sketches" bytea[] /* pgrx :: Array < '_, & [u8] > */
) RETURNS bytea /* :: std :: option :: Option < Vec < u8 > > */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'webhook_routing_sketch_union_wrapper';

CREATE FUNCTION @extschema@."webhook_routing_sketch_above"(
	"sketches" bytea[], /* pgrx :: Array < '_, & [u8] > */
	"bounds" double precision[] /* pgrx :: Array < '_, f64 > */
) RETURNS bigint[] /* Vec < Option < i64 > > */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'webhook_routing_sketch_above_wrapper';

CREATE FUNCTION @extschema@."webhook_routing_sample_ratio"(
	"shares" double precision[], /* pgrx :: Array < '_, f64 > */
	"unified" bool[], /* pgrx :: Array < '_, bool > */
	"buckets" bytea[] /* pgrx :: Array < '_, & [u8] > */
) RETURNS double precision[] /* Vec < f64 > */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'webhook_routing_sample_ratio_wrapper';

CREATE FUNCTION @extschema@."webhook_routing_judge"(
	"check_name" TEXT, /* Option < & str > */
	"critical" double precision, /* Option < f64 > */
	"min_samples" INT, /* Option < i32 > */
	"samples" bigint, /* Option < i64 > */
	"x" double precision, /* Option < f64 > */
	"n" double precision, /* Option < f64 > */
	"x2" double precision, /* Option < f64 > */
	"n2" double precision, /* Option < f64 > */
	"above" double precision /* Option < f64 > */
) RETURNS TABLE (
	"verdict" TEXT,  /* String */
	"estimate" double precision,  /* Option < f64 > */
	"statistic" double precision,  /* Option < f64 > */
	"confidence" double precision  /* Option < f64 > */
)
IMMUTABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'webhook_routing_judge_wrapper';

CREATE FUNCTION @extschema@."set_routing_testers"(
	"domain" TEXT, /* Option < & str > */
	"testers" TEXT[], /* :: std :: option :: Option < Vec < Option < String > > > */
	"reason" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bigint /* i64 */
VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'set_routing_testers_wrapper';

CREATE FUNCTION @extschema@."set_routing_denied"(
	"domain" TEXT, /* Option < & str > */
	"denied" TEXT[], /* :: std :: option :: Option < Vec < Option < String > > > */
	"reason" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bigint /* i64 */
VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'set_routing_denied_wrapper';

-- Health: the window returns its latencies as one sketch; the checks their verdicts. The view
-- that reads them is made again after them.
DROP VIEW @extschema@.routing_status;
DROP FUNCTION @extschema@.check_routing_health(interval);
DROP FUNCTION @extschema@.webhook_routing_window(interval);
-- Raw aggregates per domain and target; the building block of stats and health.
-- Outcomes come from the per-minute sketches (whole minutes: the window's first minute is
-- counted whole), decisions still waiting for theirs from the log's pending index.
CREATE FUNCTION @extschema@.webhook_routing_window("window" interval)
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
    -- All of them, one sketch: the latency checks count the requests above their bars in it.
    latency bytea
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
        SELECT m.*, @extschema@.webhook_routing_sketch_summary(ARRAY[m.latency]) AS summary
        FROM (SELECT s.domain, s.routed_to, sum(s.completed)::bigint AS completed,
                     sum(s.errors)::bigint AS errors,
                     @extschema@.webhook_routing_sketch_union(array_agg(s.latency)) AS latency
              FROM @extschema@.webhook_routing_sketches AS s, bounds AS b
              WHERE s.minute >= b.since_minute AND s.minute <= b.until
              GROUP BY s.domain, s.routed_to) AS m
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
               d.summary, d.latency
        FROM done AS d
        UNION ALL
        SELECT w.domain, w.routed_to, 0, 0, w.pending, w.late, NULL, NULL
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
           (array_agg(p.latency) FILTER (WHERE p.latency IS NOT NULL))[1]
    FROM parts AS p
    GROUP BY p.domain, p.routed_to
$$;

-- Sessions over [since, until): each sender's decisions (by sender_key), cut where a sender was
-- silent longer than webhook_routing.conversation_timeout. A session counts for the domain of
-- its first decision with a domain (a greeting before it went to the caller's default handler,
-- as before any rollout). Where the handler changes from one decision to the next:
--   deliberate  within one conversation, by the settings in force (a decrease, a rollback, a
--               domain switched off or made protected, the kill switch, a sender denied): its
--               reason says which
--   switched    a new conversation in another domain, opened by a strong cue
--   broken      anything else: a follow-up that left its conversation's handler
-- A session is broken if it has a break; deliberate and switched count sessions that had one
-- and no break. Decisions not logged (log => false) are not seen.
CREATE OR REPLACE FUNCTION @extschema@.webhook_routing_sessions_between(since timestamptz, until timestamptz)
RETURNS TABLE (domain text, sessions bigint, broken bigint, deliberate bigint, switched bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH idle AS (
        SELECT make_interval(secs => @extschema@.routing_conversation_timeout_seconds()) AS gap
    ),
    steps AS (
        SELECT l.sender_key, l.id, l.created_at, l.domain, l.routed_to, l.reason, l.conversation_id,
               lag(l.created_at) OVER w AS prev_at, lag(l.domain) OVER w AS prev_domain,
               lag(l.routed_to) OVER w AS prev_to, lag(l.conversation_id) OVER w AS prev_conversation
        FROM @extschema@.webhook_routing_logs AS l
        WHERE l.sender_key IS NOT NULL AND l.created_at >= since AND l.created_at < until
          AND l.routed_to <> 'error'
        WINDOW w AS (PARTITION BY l.sender_key ORDER BY l.created_at, l.id)
    ),
    marked AS (
        SELECT s.sender_key, s.id, s.created_at, s.domain,
               (s.prev_at IS NULL OR s.created_at - s.prev_at > i.gap) AS starts,
               CASE
                   WHEN s.prev_at IS NULL OR s.created_at - s.prev_at > i.gap
                        OR s.routed_to = s.prev_to OR s.prev_domain IS NULL THEN NULL
                   WHEN s.conversation_id = s.prev_conversation
                        AND s.reason IN ('routing_disabled', 'domain_disabled', 'not_in_rollout',
                                         'not_in_rollout_random', 'domain_not_routed',
                                         'protected_domain', 'no_config', 'denied') THEN 'deliberate'
                   WHEN s.conversation_id = s.id AND s.domain <> s.prev_domain THEN 'switched'
                   ELSE 'broken'
               END AS change
        FROM steps AS s, idle AS i
    ),
    numbered AS (
        SELECT m.*, sum(m.starts::integer) OVER (PARTITION BY m.sender_key ORDER BY m.created_at, m.id) AS session
        FROM marked AS m
    ),
    per_session AS (
        SELECT (array_agg(n.domain ORDER BY n.created_at, n.id) FILTER (WHERE n.domain IS NOT NULL))[1] AS domain,
               coalesce(bool_or(n.change = 'broken'), false) AS broken,
               coalesce(bool_or(n.change = 'deliberate'), false) AS deliberate,
               coalesce(bool_or(n.change = 'switched'), false) AS switched
        FROM numbered AS n
        GROUP BY n.sender_key, n.session
    )
    SELECT p.domain, count(*), count(*) FILTER (WHERE p.broken),
           count(*) FILTER (WHERE p.deliberate AND NOT p.broken),
           count(*) FILTER (WHERE p.switched AND NOT p.broken)
    FROM per_session AS p
    WHERE p.domain IS NOT NULL
    GROUP BY p.domain
$$;

-- The sample-ratio counts per domain over the window (src/verdict.rs): the buckets of split
-- decisions with an outcome, each counted once at the percentage it was first seen at, how many
-- went unified, how many were expected to, and the variance of that count.
CREATE FUNCTION @extschema@.webhook_routing_sample_ratios("window" interval)
RETURNS TABLE (domain text, buckets bigint, unified bigint, expected double precision, variance double precision)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.domain, r.x[1]::bigint, r.x[2]::bigint, r.x[3], r.x[4]
    FROM (SELECT s.domain,
                 @extschema@.webhook_routing_sample_ratio(
                     array_agg(s.split_expected / s.split_n ORDER BY s.minute, s.split_at, s.routed_to, s.shard),
                     array_agg(s.routed_to = 'unified' ORDER BY s.minute, s.split_at, s.routed_to, s.shard),
                     array_agg(s.split_buckets ORDER BY s.minute, s.split_at, s.routed_to, s.shard)) AS x
          FROM @extschema@.webhook_routing_sketches AS s
          WHERE s.minute >= date_bin('1 minute', now() - @extschema@.webhook_routing_check_window("window"),
                                     timestamptz '2000-01-01 00:00:00+00')
            AND s.minute <= now() + interval '5 minutes'
            AND s.domain IS NOT NULL AND s.routed_to IN ('unified', 'legacy')
            AND s.split_n > 0 AND s.split_buckets IS NOT NULL
          GROUP BY s.domain) AS r
$$;

-- One row per check, per domain and target: the estimate (value), the bars, the sequential
-- test's verdict (pass, fail, inconclusive: src/verdict.rs) with its statistic, confidence and
-- samples, and what to do.
--   error_rate            errors / outcomes (%), against the critical bar
--   error_rate_vs_legacy  unified's error rate minus legacy's in the same window (points)
--   p95_latency           p95 (ms); tested as the share of requests slower than the bar (5% at it)
--   p95_vs_legacy         unified's p95 over legacy's; tested as the share of unified requests
--                         slower than the bar × legacy's p95 (5% when unified is at the bar)
--   sample_ratio          chi-square of the unified buckets against the split's percentages
--                         (src/verdict.rs); fails at an always-valid p < 0.001
--   session_breaks        broken sessions (%), routing_sessions
-- status: critical on a fail; warning on evidence (the same test, at 99%) of being over the
-- warning level (investigate); insufficient_data below min_samples; ok. recommendation: on a fail, the check's action
-- (rollback, hold; warn and dry runs proceed); proceed on a pass; wait while inconclusive.
-- action: the threshold's, with "(dry run)" when it only reports. Legacy is the baseline: its
-- trouble holds, never rolls back.
CREATE FUNCTION @extschema@.check_routing_health("window" interval DEFAULT '1 hour')
RETURNS TABLE (
    domain text,
    routed_to text,
    check_name text,
    value numeric,
    warning_threshold numeric,
    critical_threshold numeric,
    status text,
    recommendation text,
    samples bigint,
    verdict text,
    statistic numeric,
    confidence numeric,
    action text
)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH config AS (
        SELECT c.domains, c.protected_domains
        FROM @extschema@.webhook_routing_config AS c
        ORDER BY c.created_at DESC, c.id DESC
        LIMIT 1
    ),
    stats AS (
        SELECT * FROM @extschema@.webhook_routing_window("window") AS w WHERE w.domain IS NOT NULL
    ),
    -- What traffic there was, and for every routable domain both targets, traffic or not.
    targets AS (
        SELECT s.domain, s.routed_to FROM stats AS s
        UNION
        SELECT d, t
        FROM config, unnest(config.domains) AS d, unnest(ARRAY['unified', 'legacy']) AS t
        WHERE d <> ALL (config.protected_domains)
    ),
    t AS (
        SELECT g.domain, g.routed_to,
               coalesce(s.completed, 0) AS completed, coalesce(s.errors, 0) AS errors,
               s.p95_ms, coalesce(s.latency_samples, 0) AS latency_samples, s.latency
        FROM targets AS g
        LEFT JOIN stats AS s ON s.domain = g.domain AND s.routed_to = g.routed_to
    ),
    pairs AS (
        SELECT u.domain, u.completed AS n_u, u.errors AS x_u, u.p95_ms AS p95_u,
               u.latency_samples AS m_u, u.latency AS sketch_u,
               l.completed AS n_l, l.errors AS x_l, l.p95_ms AS p95_l, l.latency_samples AS m_l
        FROM t AS u JOIN t AS l ON l.domain = u.domain AND l.routed_to = 'legacy'
        WHERE u.routed_to = 'unified'
    ),
    -- Per check: its estimate as operators read it (value), its samples, and the counts its
    -- test reads: x of n (and x2 of n2 for the comparison), a sketch and a reference latency.
    checks AS (
        SELECT t.domain, t.routed_to, 'error_rate' AS check_name,
               100.0 * t.errors / nullif(t.completed, 0) AS value, t.completed AS samples,
               t.errors::float8 AS x, t.completed::float8 AS n, NULL::float8 AS x2, NULL::float8 AS n2,
               NULL::bytea AS sketch, NULL::float8 AS ref
        FROM t
        UNION ALL
        SELECT t.domain, t.routed_to, 'p95_latency', t.p95_ms::numeric, t.latency_samples,
               NULL, t.latency_samples, NULL, NULL, t.latency, 1
        FROM t
        UNION ALL
        SELECT p.domain, 'unified', 'error_rate_vs_legacy',
               100.0 * p.x_u / nullif(p.n_u, 0) - 100.0 * p.x_l / nullif(p.n_l, 0), least(p.n_u, p.n_l),
               p.x_u, p.n_u, p.x_l, p.n_l, NULL, NULL
        FROM pairs AS p
        UNION ALL
        SELECT p.domain, 'unified', 'p95_vs_legacy',
               (p.p95_u / nullif(p.p95_l, 0))::numeric, least(p.m_u, p.m_l),
               NULL, p.m_u, NULL, p.m_l, p.sketch_u, p.p95_l
        FROM pairs AS p
        UNION ALL
        SELECT g.domain, 'unified', 'sample_ratio',
               ((r.unified - r.expected) ^ 2 / nullif(r.variance, 0))::numeric,
               coalesce(least(r.unified, r.buckets - r.unified), 0),
               r.unified, r.buckets, r.expected, r.variance, NULL, NULL
        FROM targets AS g
        LEFT JOIN @extschema@.webhook_routing_sample_ratios("window") AS r ON r.domain = g.domain
        WHERE g.routed_to = 'unified'
        UNION ALL
        SELECT g.domain, 'unified', 'session_breaks',
               100.0 * s.broken / nullif(s.sessions, 0), coalesce(s.sessions, 0),
               s.broken, s.sessions, NULL, NULL, NULL, NULL
        FROM targets AS g
        LEFT JOIN @extschema@.routing_sessions("window") AS s ON s.domain = g.domain
        WHERE g.routed_to = 'unified'
    ),
    gated AS (
        SELECT c.*, th.warning, th.critical, th.min_samples, th.dry_run,
               CASE WHEN c.routed_to = 'legacy' THEN 'hold' ELSE th.action END AS act,
               CASE WHEN c.check_name IN ('p95_latency', 'p95_vs_legacy') AND c.n > 0 AND c.ref > 0
                    THEN @extschema@.webhook_routing_sketch_above(ARRAY[c.sketch],
                             ARRAY[th.critical::float8 * c.ref, th.warning::float8 * c.ref])
               END AS above
        FROM checks AS c
        CROSS JOIN LATERAL (
            SELECT h.warning, h.critical, h.min_samples, h.action, h.dry_run
            FROM @extschema@.webhook_routing_thresholds AS h
            WHERE h.check_name = c.check_name AND (h.domain = c.domain OR h.domain IS NULL)
            ORDER BY h.domain NULLS LAST
            LIMIT 1
        ) AS th
    ),
    -- The verdict against the critical bar, and the same test against the warning level: a
    -- warning is evidence of being over that line too, not one error in a few hundred.
    verdicts AS (
        SELECT g.*, j.verdict AS v, j.estimate, j.statistic, j.confidence, w.verdict AS over_warning
        FROM gated AS g
        CROSS JOIN LATERAL @extschema@.webhook_routing_judge(
            g.check_name, g.critical::float8, g.min_samples, g.samples, g.x, g.n, g.x2, g.n2, g.above[1]) AS j
        CROSS JOIN LATERAL @extschema@.webhook_routing_judge(
            g.check_name, g.warning::float8, g.min_samples, g.samples, g.x, g.n, g.x2, g.n2, g.above[2]) AS w
    )
    SELECT v.domain, v.routed_to, v.check_name, round(v.value, 2), v.warning, v.critical,
           CASE WHEN v.v = 'fail' THEN 'critical'
                WHEN v.check_name <> 'sample_ratio' AND v.over_warning = 'fail' THEN 'warning'
                WHEN v.estimate IS NULL OR v.samples < v.min_samples THEN 'insufficient_data'
                ELSE 'ok' END,
           CASE WHEN v.v = 'fail' AND NOT v.dry_run AND v.act IN ('rollback', 'hold') THEN v.act
                WHEN v.v = 'fail' OR v.v = 'pass' OR v.routed_to = 'legacy' THEN 'proceed'
                ELSE 'wait' END,
           v.samples,
           v.v,
           round(v.statistic::numeric, 2),
           round(v.confidence::numeric, 4),
           v.act || CASE WHEN v.dry_run THEN ' (dry run)' ELSE '' END
    FROM verdicts AS v
    ORDER BY v.domain, v.routed_to, v.check_name
$$;

DROP FUNCTION @extschema@.start_rollout(text, numeric[], interval, text);

-- Start a staged rollout of a domain: validate the plan and set its first step.
CREATE FUNCTION @extschema@.start_rollout(
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

-- Walk every active plan one step, on the verdicts of its domain's checks since the step began
-- (check_routing_health over that window, sequential tests: src/verdict.rs):
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
CREATE OR REPLACE FUNCTION @extschema@.advance_rollouts()
RETURNS TABLE (rollout_id bigint, domain text, step integer, percentage numeric, verdict text, detail jsonb)
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
        SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(h)), '[]')
        INTO health
        FROM @extschema@.check_routing_health(greatest(held, interval '1 second')) AS h
        WHERE h.domain = plan.domain;
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
                   FILTER (WHERE h.routed_to = 'unified')
        INTO checks, to_zero, rollback, holding, control, would, summary
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
CREATE VIEW @extschema@.routing_status AS
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
       -- Who goes to unified first, and who never does (set_routing_testers, set_routing_denied).
       ARRAY(SELECT pg_catalog.jsonb_array_elements_text(c.testers OPERATOR(pg_catalog.->) d.domain)) AS testers,
       ARRAY(SELECT pg_catalog.jsonb_array_elements_text(c.denied OPERATOR(pg_catalog.->) d.domain)) AS denied
FROM c
CROSS JOIN LATERAL pg_catalog.unnest(c.domains OPERATOR(pg_catalog.||) c.protected_domains) AS d(domain)
LEFT JOIN LATERAL (
    SELECT * FROM @extschema@.webhook_routing_rollouts AS x WHERE x.domain OPERATOR(pg_catalog.=) d.domain
    ORDER BY x.id DESC LIMIT 1
) AS r ON true
LEFT JOIN health AS h ON h.domain OPERATOR(pg_catalog.=) d.domain
LEFT JOIN @extschema@.routing_sessions('1 hour') AS se ON se.domain OPERATOR(pg_catalog.=) d.domain;

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
    evidence jsonb;
    chk record;
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
                       lead(c.id) OVER w AS ended_id,
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
            FOR s IN SELECT * FROM @extschema@.webhook_routing_sessions_between(step.began, coalesce(step.ended_at, 'infinity')) AS x
                     WHERE x.domain = d LOOP
                report := report || pg_catalog.format('  sessions %8s   broken %s (%s%%)   moved deliberately %s   switched domain %s',
                    s.sessions, s.broken, pg_catalog.round(100.0 * s.broken / s.sessions, 2), s.deliberate, s.switched);
            END LOOP;
            -- The verdicts of the checks: what the domain's plan saw last in the step (the
            -- transition that ended it, or one inside it: a plan completing), else for the step
            -- in progress, the plan's last look.
            evidence := coalesce(
                (SELECT c.detail FROM @extschema@.webhook_routing_config AS c
                 JOIN @extschema@.webhook_routing_rollouts AS r ON r.id = c.rollout_id
                 WHERE r.domain = d AND c.detail ? 'checks'
                   AND (c.id = step.ended_id
                        OR (c.created_at > step.created_at AND (step.ended_at IS NULL OR c.created_at < step.ended_at)))
                 ORDER BY c.created_at DESC, c.id DESC LIMIT 1),
                CASE WHEN step.ended_at IS NULL THEN
                    (SELECT r.last_detail FROM @extschema@.webhook_routing_rollouts AS r
                     WHERE r.domain = d AND r.state IN ('active', 'paused') ORDER BY r.id DESC LIMIT 1) END);
            FOR chk IN SELECT pg_catalog.split_part(e.key, '.', 2) AS name, e.value AS v
                       FROM pg_catalog.jsonb_each(coalesce(evidence -> 'checks', '{}')) AS e
                       WHERE e.key LIKE 'unified.%' ORDER BY e.key LOOP
                report := report || pg_catalog.format('  check %-20s %-12s value %s   statistic %s   confidence %s   samples %s   action %s',
                    chk.name, chk.v ->> 'verdict', coalesce(chk.v ->> 'value', '-'), coalesce(chk.v ->> 'statistic', '-'),
                    coalesce(pg_catalog.round(100 * (chk.v ->> 'confidence')::numeric, 1) || '%', '-'),
                    chk.v ->> 'samples', chk.v ->> 'action');
            END LOOP;
            IF evidence ? 'reason' THEN
                report := report || ('  ' || (evidence ->> 'reason'));
            END IF;
            decision := CASE
                WHEN step.ended_at IS NULL AND evidence ->> 'transition' = 'complete' THEN 'complete'
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

-- Privileges of the functions made here and of the view, as sql/security.sql gives them at
-- install (a new function is executable by PUBLIC until revoked).
DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['@extschema@.webhook_routing_sketch_union(bytea[])',
                             '@extschema@.webhook_routing_sketch_above(bytea[], double precision[])',
                             '@extschema@.webhook_routing_sample_ratio(double precision[], boolean[], bytea[])',
                             '@extschema@.webhook_routing_judge(text, double precision, integer, bigint, double precision, double precision, double precision, double precision, double precision)',
                             '@extschema@.webhook_routing_window(interval)',
                             '@extschema@.webhook_routing_sample_ratios(interval)',
                             '@extschema@.check_routing_health(interval)',
                             '@extschema@.start_rollout(text, numeric[], interval, text, interval)',
                             '@extschema@.webhook_routing_valid_lists(jsonb)',
                             '@extschema@.set_routing_testers(text, text[], text)',
                             '@extschema@.set_routing_denied(text, text[], text)'] LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END $$;
REVOKE ALL ON @extschema@.routing_status FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    @extschema@.check_routing_health(interval),
    @extschema@.webhook_routing_window(interval),
    @extschema@.webhook_routing_sketch_union(bytea[]),
    @extschema@.webhook_routing_sketch_above(bytea[], double precision[]),
    @extschema@.webhook_routing_sample_ratio(double precision[], boolean[], bytea[]),
    @extschema@.webhook_routing_sample_ratios(interval),
    @extschema@.webhook_routing_judge(text, double precision, integer, bigint, double precision, double precision, double precision, double precision, double precision)
    TO webhook_routing_reader, webhook_routing_admin;
GRANT SELECT ON @extschema@.routing_status TO webhook_routing_reader, webhook_routing_admin;
GRANT EXECUTE ON FUNCTION
    @extschema@.start_rollout(text, numeric[], interval, text, interval),
    @extschema@.set_routing_testers(text, text[], text),
    @extschema@.set_routing_denied(text, text[], text)
    TO webhook_routing_admin;

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
