-- Stats and health over a window of webhook_routing_logs.
--
-- A decision still 'pending' is left out of error rates until webhook_routing.pending_timeout
-- has passed; after that it counts as an error (the handler never answered).
--
-- The functions that read the window are PL/pgSQL, each one statement (RETURN QUERY) planned
-- once per backend with plan_cache_mode = force_generic_plan: as LANGUAGE sql functions (up to
-- 0.7.0's first rounds) their statements, and those of every function under them, were parsed
-- and planned at every call, a quarter of check_routing_health's instructions (13 of 57
-- million, bench/scale) and 10 plannings for advance_rollouts over 10 plans. The generic plan
-- is the plan a LANGUAGE sql function made (its arguments were parameters there too, now()
-- is read when it runs), so what they read and how is unchanged. #variable_conflict
-- use_column resolves a name as a SQL function does: a column before an argument.

-- The catalogue of health checks (sql/bootstrap.sql) as src/stats/verdict.rs lists them, and each
-- check's default threshold (domain NULL), the gates every rollout reads.
INSERT INTO @extschema@.webhook_routing_health_checks (check_name, unit, warning, critical, action)
SELECT c.check_name, c.unit, c.warning::pg_catalog.numeric, c.critical::pg_catalog.numeric, c.action
FROM @extschema@.webhook_routing_health_catalogue() WITH ORDINALITY AS c
ORDER BY c.ordinality;
INSERT INTO @extschema@.webhook_routing_health_check_actions (check_name, action)
SELECT c.check_name, a.action
FROM @extschema@.webhook_routing_health_catalogue() WITH ORDINALITY AS c,
     pg_catalog.unnest(c.actions) WITH ORDINALITY AS a(action, n)
ORDER BY c.ordinality, a.n;
INSERT INTO @extschema@.webhook_routing_thresholds (domain, check_name, warning, critical, action, seeded)
SELECT NULL, c.check_name, c.warning::pg_catalog.numeric, c.critical::pg_catalog.numeric, c.action, true
FROM @extschema@.webhook_routing_health_catalogue() WITH ORDINALITY AS c
ORDER BY c.ordinality;

-- The window of stats and health: a positive interval of at most ten years. Refused otherwise,
-- with what to pass (a NULL window used to read nothing, a century to raise without a hint).
CREATE FUNCTION webhook_routing_check_window("window" interval) RETURNS interval
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

-- Raw aggregates per domain and target; the building block of stats and health.
-- Outcomes come from the per-minute sketches (whole minutes: the window's first minute is
-- counted whole), decisions still waiting for theirs from the log's pending index.
-- only_domain: that domain's rows alone (a rollout's health); NULL: every domain's.
CREATE FUNCTION webhook_routing_window("window" interval, only_domain text)
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
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
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
                AND (only_domain IS NULL OR s.domain = only_domain)
              GROUP BY s.domain, s.routed_to) AS m
    ),
    -- Filtered by domain after it is counted: a filter in the scan would be planned again
    -- for every day partition of the log at every call.
    waiting AS MATERIALIZED (
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
        WHERE only_domain IS NULL OR w.domain = only_domain
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
    GROUP BY p.domain, p.routed_to;
END $$;

-- Requests, latency and errors per domain and target over any window, as operators read them.
CREATE FUNCTION routing_stats("window" interval DEFAULT '1 hour')
RETURNS TABLE (
    domain text,
    routed_to text,
    requests bigint,
    avg_ms numeric,
    p50_ms numeric,
    p95_ms numeric,
    p99_ms numeric,
    errors bigint,
    error_pct numeric,
    traffic_pct numeric,
    pending bigint
)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT w.domain, w.routed_to, w.requests,
           round(w.avg_ms::numeric, 1),
           round(w.p50_ms::numeric, 1),
           round(w.p95_ms::numeric, 1),
           round(w.p99_ms::numeric, 1),
           w.errors,
           round(100.0 * w.errors / nullif(w.completed, 0), 2),
           round(100.0 * w.requests / sum(w.requests) OVER (PARTITION BY w.domain), 2),
           w.pending
    FROM @extschema@.webhook_routing_window("window", NULL) AS w;
END $$;

-- The last hour. traffic_pct is the target's share of the domain's requests.
CREATE VIEW webhook_routing_stats AS
SELECT * FROM @extschema@.routing_stats('1 hour');

-- Sessions over [since, until), per domain: sessions, and how many broke, were moved
-- deliberately, or switched domain. A session is a sender's run of logged decisions with no
-- silence longer than webhook_routing.conversation_timeout; it counts for the domain of its
-- first decision with a domain (a greeting before it went to the caller's default handler, as
-- before any rollout). Where the handler changes from one decision to the next:
--   deliberate  within one conversation, by the settings in force (a decrease, a rollback, a
--               domain switched off or made protected, the kill switch, a sender denied): its
--               reason says which
--   switched    a new conversation in another domain, opened by a strong cue
--   broken      anything else: a follow-up that left its conversation's handler
-- A session is broken if it has a break; deliberate and switched count sessions that had one
-- and no break. Decisions not logged (log => false) are not seen.
-- Each decision is classified when it is logged, against its sender's newest logged decision
-- (src/route/session.rs), and the counts are kept per minute: this sums whole minutes, from the
-- minute of `since` (counted whole) to the last minute that starts before `until`, never the
-- log's rows. A session counts in the minute its domain became known (its first decision,
-- unless it opened with greetings); its first break, deliberate move and switch in their own
-- minutes; a break takes the session back from deliberate and switched in the minutes it was
-- counted there. So a window holds the sessions that started in it, and the breaks and moves
-- that happened in it, whenever their session started.
CREATE FUNCTION webhook_routing_sessions_between(since timestamptz, until timestamptz)
RETURNS TABLE (domain text, sessions bigint, broken bigint, deliberate bigint, switched bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT c.domain, sum(c.sessions)::bigint, sum(c.broken)::bigint, sum(c.deliberate)::bigint,
           sum(c.switched)::bigint
    FROM @extschema@.webhook_routing_session_minutes AS c
    WHERE c.minute >= date_bin('1 minute', since, timestamptz '2000-01-01 00:00:00+00')
      AND c.minute < until
    GROUP BY c.domain
    HAVING sum(c.sessions) <> 0 OR sum(c.broken) <> 0 OR sum(c.deliberate) <> 0 OR sum(c.switched) <> 0;
END $$;

-- Session continuity per domain over the window: sessions, and how many broke (the runbook's
-- bar: 0.5%), were moved deliberately, or switched domain. See webhook_routing_sessions_between.
CREATE FUNCTION routing_sessions("window" interval DEFAULT '1 hour')
RETURNS TABLE (domain text, sessions bigint, broken bigint, deliberate bigint, switched bigint,
               broken_pct numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT s.domain, s.sessions, s.broken, s.deliberate, s.switched,
           round(100.0 * s.broken / nullif(s.sessions, 0), 2)
    FROM @extschema@.webhook_routing_sessions_between(
             now() - @extschema@.webhook_routing_check_window("window"),
             now() + interval '5 minutes') AS s
    ORDER BY s.domain;
END $$;

-- The sample-ratio counts per domain over the window (src/stats/verdict.rs): the buckets of split
-- decisions with an outcome, each counted once at the percentage it was first seen at, how many
-- went unified, how many were expected to, and the variance of that count. It runs as the
-- owner: it reads the sets of buckets, which no other role reads (sql/security.sql).
-- only_domain as in webhook_routing_window.
CREATE FUNCTION webhook_routing_sample_ratios("window" interval, only_domain text)
RETURNS TABLE (domain text, buckets bigint, unified bigint, expected double precision, variance double precision)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
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
            AND (only_domain IS NULL OR s.domain = only_domain)
          GROUP BY s.domain) AS r;
END $$;

-- One row per check, per domain and target: the estimate (value), the bars, the sequential
-- test's verdict (pass, fail, inconclusive: src/stats/verdict.rs) with its statistic, confidence and
-- samples, and what to do. The checks are the catalogue's (webhook_routing_health_checks, from
-- src/stats/verdict.rs, whose table says what each one counts); `checks` below computes each one's
-- value and counts.
-- status: critical on a fail; warning on evidence (the same test, at 99%) of being over the
-- warning level (investigate); insufficient_data below min_samples; ok. recommendation: on a fail, the check's action
-- (rollback, hold; warn and dry runs proceed); proceed on a pass; wait while inconclusive,
-- legacy's rows too (0.6.0 said proceed for a legacy row without a sample).
-- action: the threshold's, with "(dry run)" when it only reports. Legacy is the baseline: its
-- trouble holds, never rolls back.
--
-- check_routing_health's rows, of every domain (only_domain NULL) or of one: a rollout's gates
-- (advance_rollouts, routing_overview) read their own domain's alone, each over its own step's
-- window, so that a call over N plans reads N domains' sketches once, not every domain's N times.
CREATE FUNCTION webhook_routing_health("window" interval, only_domain text)
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
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH config AS (
        SELECT c.domains, c.protected_domains
        FROM @extschema@.webhook_routing_config AS c
        ORDER BY c.created_at DESC, c.id DESC
        LIMIT 1
    ),
    stats AS (
        SELECT * FROM @extschema@.webhook_routing_window("window", only_domain) AS w WHERE w.domain IS NOT NULL
    ),
    -- What traffic there was, and for every routable domain both targets, traffic or not.
    targets AS (
        SELECT s.domain, s.routed_to FROM stats AS s
        UNION
        SELECT d, t
        FROM config, unnest(config.domains) AS d, unnest(ARRAY['unified', 'legacy']) AS t
        WHERE d <> ALL (config.protected_domains) AND (only_domain IS NULL OR d = only_domain)
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
        LEFT JOIN @extschema@.webhook_routing_sample_ratios("window", only_domain) AS r ON r.domain = g.domain
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
                WHEN v.v = 'fail' OR v.v = 'pass' THEN 'proceed'
                ELSE 'wait' END,
           v.samples,
           v.v,
           round(v.statistic::numeric, 2),
           round(v.confidence::numeric, 4),
           v.act || CASE WHEN v.dry_run THEN ' (dry run)' ELSE '' END
    FROM verdicts AS v
    ORDER BY v.domain, v.routed_to, v.check_name;
END $$;

CREATE FUNCTION check_routing_health("window" interval DEFAULT '1 hour')
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
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT * FROM @extschema@.webhook_routing_health("window", NULL);
END $$;
