-- Stats and health over a window of webhook_routing_logs.
--
-- A decision still 'pending' is left out of error rates until webhook_routing.pending_timeout
-- has passed; after that it counts as an error (the handler never answered).

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
CREATE FUNCTION webhook_routing_window("window" interval)
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
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT w.domain, w.routed_to, w.requests,
           round(w.avg_ms::numeric, 1),
           round(w.p50_ms::numeric, 1),
           round(w.p95_ms::numeric, 1),
           round(w.p99_ms::numeric, 1),
           w.errors,
           round(100.0 * w.errors / nullif(w.completed, 0), 2),
           round(100.0 * w.requests / sum(w.requests) OVER (PARTITION BY w.domain), 2),
           w.pending
    FROM @extschema@.webhook_routing_window("window") AS w
$$;

-- The last hour. traffic_pct is the target's share of the domain's requests.
CREATE VIEW webhook_routing_stats AS
SELECT * FROM @extschema@.routing_stats('1 hour');

-- Sessions over [since, until): each sender's decisions (by sender_key), cut where a sender was
-- silent longer than webhook_routing.conversation_timeout. A session counts for the domain of
-- its first decision with a domain (a greeting before it went to the caller's default handler,
-- as before any rollout). Where the handler changes from one decision to the next:
--   deliberate  within one conversation, by the settings in force (a decrease, a rollback, a
--               domain switched off or made protected, the kill switch): its reason says which
--   switched    a new conversation in another domain, opened by a strong cue
--   broken      anything else: a follow-up that left its conversation's handler
-- A session is broken if it has a break; deliberate and switched count sessions that had one
-- and no break. Decisions not logged (log => false) are not seen.
CREATE FUNCTION webhook_routing_sessions_between(since timestamptz, until timestamptz)
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
                                         'protected_domain', 'no_config') THEN 'deliberate'
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

-- Session continuity per domain over the window: sessions, and how many broke (the runbook's
-- bar: 0.5%), were moved deliberately, or switched domain. See webhook_routing_sessions_between.
CREATE FUNCTION routing_sessions("window" interval DEFAULT '1 hour')
RETURNS TABLE (domain text, sessions bigint, broken bigint, deliberate bigint, switched bigint,
               broken_pct numeric)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.domain, s.sessions, s.broken, s.deliberate, s.switched,
           round(100.0 * s.broken / nullif(s.sessions, 0), 2)
    FROM @extschema@.webhook_routing_sessions_between(
             now() - @extschema@.webhook_routing_check_window("window"),
             now() + interval '5 minutes') AS s
    ORDER BY s.domain
$$;

-- One row per check, per domain and target, with a verdict and what to do.
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
    samples bigint
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
               coalesce(s.completed, 0) AS completed,
               100.0 * s.errors / nullif(s.completed, 0) AS error_pct,
               s.p95_ms::numeric AS p95_ms,
               coalesce(s.latency_samples, 0) AS latency_samples,
               coalesce(s.split_n, 0) AS split_n,
               coalesce(s.split_expected, 0) AS split_expected,
               coalesce(s.split_buckets, 0) AS split_buckets
        FROM targets AS g
        LEFT JOIN stats AS s ON s.domain = g.domain AND s.routed_to = g.routed_to
    ),
    -- Sample ratio: unified's share of the senders (distinct buckets) of split decisions with
    -- an outcome, against the unified share the percentages in force gave those decisions
    -- (their mean), as a chi-square statistic with one degree of freedom.
    split AS (
        SELECT x.domain,
               (x.unified - x.p * x.senders)^2 / nullif(x.senders * x.p * (1 - x.p), 0) AS chi_square,
               x.senders AS samples
        FROM (SELECT u.domain, u.split_buckets AS unified, u.split_buckets + l.split_buckets AS senders,
                     (u.split_expected + l.split_expected) / nullif(u.split_n + l.split_n, 0) AS p
              FROM t AS u JOIN t AS l ON l.domain = u.domain AND l.routed_to = 'legacy'
              WHERE u.routed_to = 'unified') AS x
    ),
    checks AS (
        SELECT t.domain, t.routed_to, 'error_rate' AS check_name,
               t.error_pct AS value, t.completed AS samples
        FROM t
        UNION ALL
        SELECT t.domain, t.routed_to, 'p95_latency', t.p95_ms, t.latency_samples
        FROM t
        UNION ALL
        SELECT u.domain, u.routed_to, 'error_rate_vs_legacy',
               u.error_pct - l.error_pct, least(u.completed, l.completed)
        FROM t AS u JOIN t AS l ON l.domain = u.domain AND l.routed_to = 'legacy'
        WHERE u.routed_to = 'unified'
        UNION ALL
        SELECT u.domain, u.routed_to, 'p95_vs_legacy',
               u.p95_ms / nullif(l.p95_ms, 0), least(u.latency_samples, l.latency_samples)
        FROM t AS u JOIN t AS l ON l.domain = u.domain AND l.routed_to = 'legacy'
        WHERE u.routed_to = 'unified'
        UNION ALL
        SELECT x.domain, 'unified', 'sample_ratio', x.chi_square::numeric, x.samples
        FROM split AS x
        UNION ALL
        SELECT g.domain, 'unified', 'session_breaks',
               100.0 * s.broken / nullif(s.sessions, 0), coalesce(s.sessions, 0)
        FROM targets AS g
        LEFT JOIN @extschema@.routing_sessions("window") AS s ON s.domain = g.domain
        WHERE g.routed_to = 'unified'
    ),
    verdicts AS (
        SELECT c.*, th.warning, th.critical,
               CASE
                   WHEN c.value IS NULL OR c.samples < th.min_samples THEN 'insufficient_data'
                   WHEN c.value > th.critical THEN 'critical'
                   WHEN c.value > th.warning THEN 'warning'
                   ELSE 'ok'
               END AS status
        FROM checks AS c
        CROSS JOIN LATERAL (
            SELECT h.warning, h.critical, h.min_samples
            FROM @extschema@.webhook_routing_thresholds AS h
            WHERE h.check_name = c.check_name AND (h.domain = c.domain OR h.domain IS NULL)
            ORDER BY h.domain NULLS LAST
            LIMIT 1
        ) AS th
    )
    SELECT v.domain, v.routed_to, v.check_name, round(v.value, 2), v.warning, v.critical, v.status,
           -- Legacy is the baseline: trouble there is a reason to wait, not to roll back. A
           -- skewed sample ratio says the callers or the log are wrong, not the handler: hold.
           CASE
               WHEN v.status = 'ok' THEN 'proceed'
               WHEN v.status = 'critical' AND v.routed_to <> 'legacy'
                    AND v.check_name <> 'sample_ratio' THEN 'rollback'
               WHEN v.status = 'insufficient_data' AND v.routed_to = 'legacy' THEN 'proceed'
               ELSE 'hold'
           END,
           v.samples
    FROM verdicts AS v
    ORDER BY v.domain, v.routed_to, v.check_name
$$;
