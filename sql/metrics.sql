-- Metrics for Prometheus: routing_metrics() renders what a scrape every 15 s needs in the text
-- exposition format (0.0.4), from what is kept small already: the per-minute sketches, the
-- config's newest row, the plans, the log's pending index, and check_routing_health's verdicts.
-- It never reads the log's rows but the pending ones (and the hour's decisions that the
-- session check of check_routing_health reads).

-- Counters must never go down, yet the sketches they are summed from are pruned. So the
-- totals of the sketches before a horizon are kept here, per domain and target, and a scrape
-- adds the sketches from the horizon on: prune_routing_logs moves the horizon to a day ago,
-- adding the minutes it passes (webhook_routing_fold_metrics), before it deletes any, and a
-- scrape reads at most the day before the last prune and the time since. An outcome reported
-- more than a day after its decision, into a minute already folded, is left out of the
-- counters (stats counted it as timed out long before). TRUNCATE of the log empties the
-- sketches and these totals: the counters start again from 0, which Prometheus reads as a
-- reset.
CREATE TABLE webhook_routing_metric_totals (
    domain text,
    routed_to text NOT NULL,
    -- The sketches of the minutes before this one are counted here, and deleted or not, never
    -- read again by a scrape. The same on every row.
    before timestamptz NOT NULL,
    completed bigint NOT NULL DEFAULT 0,
    errors bigint NOT NULL DEFAULT 0,
    latency_count bigint NOT NULL DEFAULT 0,
    latency_sum_ms double precision NOT NULL DEFAULT 0,
    UNIQUE NULLS NOT DISTINCT (domain, routed_to)
);

-- Restored with the sketches, so that the counters go on where they were.
SELECT pg_catalog.pg_extension_config_dump('webhook_routing_metric_totals', '');

-- Fold the sketches of the minutes before a day ago into the totals, once; called by
-- prune_routing_logs before it deletes sketches (its cutoff is a day ago or earlier).
-- Returns the new horizon.
CREATE FUNCTION webhook_routing_fold_metrics() RETURNS timestamptz
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    horizon timestamptz := pg_catalog.date_bin('1 minute', pg_catalog.now() - interval '1 day',
                                               timestamptz '2000-01-01 00:00:00+00');
    folded timestamptz;
BEGIN
    -- Two prunes at once would fold the same minutes twice; scrapes read on.
    LOCK TABLE @extschema@.webhook_routing_metric_totals IN SHARE ROW EXCLUSIVE MODE;
    SELECT coalesce(pg_catalog.max(t.before), '-infinity') INTO folded
    FROM @extschema@.webhook_routing_metric_totals AS t;
    IF horizon <= folded THEN
        RETURN folded;
    END IF;
    INSERT INTO @extschema@.webhook_routing_metric_totals AS t
        (domain, routed_to, before, completed, errors, latency_count, latency_sum_ms)
    SELECT m.domain, m.routed_to, horizon, m.completed, m.errors,
           coalesce(m.summary[1], 0)::bigint, coalesce(m.summary[2], 0)
    FROM (SELECT s.domain, s.routed_to, pg_catalog.sum(s.completed)::bigint AS completed,
                 pg_catalog.sum(s.errors)::bigint AS errors,
                 @extschema@.webhook_routing_sketch_totals(pg_catalog.array_agg(s.latency)) AS summary
          FROM @extschema@.webhook_routing_sketches AS s
          WHERE s.minute >= folded AND s.minute < horizon
          GROUP BY s.domain, s.routed_to) AS m
    ON CONFLICT (domain, routed_to) DO UPDATE
    SET completed = t.completed OPERATOR(pg_catalog.+) excluded.completed,
        errors = t.errors OPERATOR(pg_catalog.+) excluded.errors,
        latency_count = t.latency_count OPERATOR(pg_catalog.+) excluded.latency_count,
        latency_sum_ms = t.latency_sum_ms OPERATOR(pg_catalog.+) excluded.latency_sum_ms;
    UPDATE @extschema@.webhook_routing_metric_totals SET before = horizon;
    RETURN horizon;
END $$;

-- TRUNCATE of the sketches (by TRUNCATE of the log, or by hand) empties the totals too: the
-- counters start again, honestly, from 0.
CREATE FUNCTION webhook_routing_sketches_truncated() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    TRUNCATE @extschema@.webhook_routing_metric_totals;
    RETURN NULL;
END $$;

CREATE TRIGGER webhook_routing_sketches_truncate_totals
    AFTER TRUNCATE ON webhook_routing_sketches
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.webhook_routing_sketches_truncated();

-- A label value as the exposition format writes it: backslash, double quote and newline
-- escaped. Domains are text an operator or a caller chose.
CREATE FUNCTION webhook_routing_metric_label(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(coalesce(value, ''),
               E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n')
$$;

-- {name="value",...} from names and values in order.
CREATE FUNCTION webhook_routing_metric_labels(names text[], "values" text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT '{' || string_agg(n.name || '="' || @extschema@.webhook_routing_metric_label(v.value) || '"', ','
                             ORDER BY n.i) || '}'
    FROM unnest(names) WITH ORDINALITY AS n(name, i)
    JOIN unnest("values") WITH ORDINALITY AS v(value, i) ON v.i = n.i
$$;

-- The rollout's metrics in Prometheus's text exposition format (version 0.0.4), for a
-- scrape every 15 s; see the README (Metrics for Prometheus) for each family. Labels carry
-- domains, targets, statuses, checks and states, never a sender, key, bucket or message id.
-- A domain label is empty for requests in no domain.
CREATE FUNCTION routing_metrics() RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH config AS (
        SELECT c.id, c.percentage, c.enabled, c.domains, c.protected_domains, c.domain_percentages,
               c.domain_enabled, c.created_at
        FROM @extschema@.webhook_routing_config AS c
        ORDER BY c.created_at DESC, c.id DESC
        LIMIT 1
    ),
    horizon AS (
        SELECT coalesce(max(t.before), '-infinity') AS before FROM @extschema@.webhook_routing_metric_totals AS t
    ),
    -- The sketches since the horizon (their latencies' count and sum, read from their
    -- headers), and the folded totals: everything ever counted.
    recent AS (
        SELECT s.domain, s.routed_to, sum(s.completed)::bigint AS completed, sum(s.errors)::bigint AS errors,
               @extschema@.webhook_routing_sketch_totals(array_agg(s.latency)) AS summary
        FROM @extschema@.webhook_routing_sketches AS s, horizon AS h
        WHERE s.minute >= h.before
        GROUP BY s.domain, s.routed_to
    ),
    totals AS (
        SELECT coalesce(r.domain, t.domain) AS domain, coalesce(r.routed_to, t.routed_to) AS routed_to,
               coalesce(t.completed, 0) + coalesce(r.completed, 0) AS completed,
               coalesce(t.errors, 0) + coalesce(r.errors, 0) AS errors,
               coalesce(t.latency_count, 0) + coalesce(r.summary[1], 0)::bigint AS latency_count,
               coalesce(t.latency_sum_ms, 0) + coalesce(r.summary[2], 0) AS latency_sum_ms
        FROM recent AS r
        FULL JOIN @extschema@.webhook_routing_metric_totals AS t
          ON t.domain IS NOT DISTINCT FROM r.domain AND t.routed_to = r.routed_to
    ),
    -- Quantiles of the last 5 minutes (whole minutes: the first is counted whole).
    lately AS (
        SELECT s.domain, s.routed_to,
               @extschema@.webhook_routing_sketch_summary(array_agg(s.latency)) AS summary
        FROM @extschema@.webhook_routing_sketches AS s
        WHERE s.minute >= date_bin('1 minute', now() - interval '5 minutes', timestamptz '2000-01-01 00:00:00+00')
          AND s.minute <= now() + interval '5 minutes'
        GROUP BY s.domain, s.routed_to
    ),
    -- Decisions waiting for their outcome, from the log's pending index: within the pending
    -- timeout, and past it in the last hour (what stats and health count as errors).
    waiting AS (
        SELECT l.domain, l.routed_to,
               count(*) FILTER (WHERE l.created_at >= now() - make_interval(secs => @extschema@.routing_pending_timeout_seconds())) AS pending,
               count(*) FILTER (WHERE l.created_at < now() - make_interval(secs => @extschema@.routing_pending_timeout_seconds())) AS timed_out
        FROM @extschema@.webhook_routing_logs AS l
        WHERE l.status = 'pending' AND l.created_at >= now() - interval '1 hour'
          AND l.created_at <= now() + interval '5 minutes'
        GROUP BY l.domain, l.routed_to
    ),
    domains AS (
        SELECT d.domain, d.domain = ANY (c.protected_domains) AS protected,
               coalesce((c.domain_enabled ->> d.domain)::boolean, true) AS enabled,
               CASE WHEN d.domain = ANY (c.protected_domains) THEN 0
                    ELSE coalesce((c.domain_percentages ->> d.domain)::numeric, c.percentage) END AS percentage,
               c.enabled AS global
        FROM config AS c, unnest(c.domains || c.protected_domains) AS d(domain)
    ),
    plans AS (
        SELECT DISTINCT ON (r.domain) r.domain, r.state, r.step, cardinality(r.steps) AS steps,
               r.steps[r.step] AS step_percentage, r.last_verdict,
               CASE WHEN r.state IN ('active', 'paused')
                    THEN extract(epoch FROM now() - r.step_started_at) END AS in_step
        FROM @extschema@.webhook_routing_rollouts AS r
        ORDER BY r.domain, r.id DESC
    ),
    health AS (
        SELECT h.* FROM @extschema@.check_routing_health('1 hour') AS h
    ),
    -- One row per sample: its family, the suffix of its name, labels, value, and its place
    -- (the series it belongs to, then its rank there).
    samples (family, suffix, labels, value, place, rank) AS (
        SELECT 'webhook_routing_enabled', '', '', c.enabled::integer::text, '', 0
        FROM config AS c
        UNION ALL
        SELECT 'webhook_routing_config_last_change_timestamp_seconds', '', '',
               extract(epoch FROM c.created_at)::text, '', 0
        FROM config AS c
        UNION ALL
        SELECT 'webhook_routing_domain_percentage', '',
               @extschema@.webhook_routing_metric_labels('{domain}', ARRAY[d.domain]), d.percentage::text, d.domain, 0
        FROM domains AS d
        UNION ALL
        SELECT 'webhook_routing_domain_enabled', '',
               @extschema@.webhook_routing_metric_labels('{domain}', ARRAY[d.domain]), d.enabled::integer::text, d.domain, 0
        FROM domains AS d
        UNION ALL
        SELECT 'webhook_routing_domain_protected', '',
               @extschema@.webhook_routing_metric_labels('{domain}', ARRAY[d.domain]), d.protected::integer::text, d.domain, 0
        FROM domains AS d
        UNION ALL
        SELECT 'webhook_routing_domain_routed', '',
               @extschema@.webhook_routing_metric_labels('{domain}', ARRAY[d.domain]),
               (d.global AND d.enabled AND NOT d.protected)::integer::text, d.domain, 0
        FROM domains AS d
        UNION ALL
        SELECT 'webhook_routing_rollout_info', '',
               @extschema@.webhook_routing_metric_labels('{domain,state,last_verdict}',
                                                          ARRAY[p.domain, p.state, coalesce(p.last_verdict, '')]),
               '1', p.domain, 0
        FROM plans AS p
        UNION ALL
        SELECT 'webhook_routing_rollout_step', '',
               @extschema@.webhook_routing_metric_labels('{domain}', ARRAY[p.domain]), p.step::text, p.domain, 0
        FROM plans AS p
        UNION ALL
        SELECT 'webhook_routing_rollout_steps', '',
               @extschema@.webhook_routing_metric_labels('{domain}', ARRAY[p.domain]), p.steps::text, p.domain, 0
        FROM plans AS p
        UNION ALL
        SELECT 'webhook_routing_rollout_step_percentage', '',
               @extschema@.webhook_routing_metric_labels('{domain}', ARRAY[p.domain]), p.step_percentage::text, p.domain, 0
        FROM plans AS p
        UNION ALL
        SELECT 'webhook_routing_rollout_step_seconds', '',
               @extschema@.webhook_routing_metric_labels('{domain}', ARRAY[p.domain]),
               round(p.in_step, 3)::text, p.domain, 0
        FROM plans AS p
        WHERE p.in_step IS NOT NULL
        UNION ALL
        SELECT 'webhook_routing_outcomes_total', '',
               @extschema@.webhook_routing_metric_labels('{domain,routed_to,status}', ARRAY[t.domain, t.routed_to, o.status]),
               o.n::text, concat_ws(' ', t.domain, t.routed_to), o.rank
        FROM totals AS t,
             LATERAL (VALUES ('ok', t.completed - t.errors, 1), ('error', t.errors, 2)) AS o(status, n, rank)
        UNION ALL
        SELECT 'webhook_routing_latency_seconds', '',
               @extschema@.webhook_routing_metric_labels('{domain,routed_to,quantile}', ARRAY[t.domain, t.routed_to, q.q]),
               coalesce((q.ms / 1000.0)::text, 'NaN'), concat_ws(' ', t.domain, t.routed_to), q.rank
        FROM totals AS t
        LEFT JOIN lately AS l ON l.domain IS NOT DISTINCT FROM t.domain AND l.routed_to = t.routed_to,
             LATERAL (VALUES ('0.5', l.summary[3], 1), ('0.95', l.summary[4], 2), ('0.99', l.summary[5], 3)) AS q(q, ms, rank)
        WHERE t.latency_count > 0
        UNION ALL
        SELECT 'webhook_routing_latency_seconds', s.suffix,
               @extschema@.webhook_routing_metric_labels('{domain,routed_to}', ARRAY[t.domain, t.routed_to]),
               s.value, concat_ws(' ', t.domain, t.routed_to), s.rank
        FROM totals AS t,
             LATERAL (VALUES ('_sum', (t.latency_sum_ms / 1000.0)::text, 4), ('_count', t.latency_count::text, 5)) AS s(suffix, value, rank)
        WHERE t.latency_count > 0
        UNION ALL
        SELECT 'webhook_routing_pending_decisions', '',
               @extschema@.webhook_routing_metric_labels('{domain,routed_to}', ARRAY[w.domain, w.routed_to]),
               w.pending::text, concat_ws(' ', w.domain, w.routed_to), 0
        FROM waiting AS w
        UNION ALL
        SELECT 'webhook_routing_timed_out_decisions', '',
               @extschema@.webhook_routing_metric_labels('{domain,routed_to}', ARRAY[w.domain, w.routed_to]),
               w.timed_out::text, concat_ws(' ', w.domain, w.routed_to), 0
        FROM waiting AS w
        UNION ALL
        -- Decisions answered, counted in shared memory where the library is preloaded
        -- (src/pg/decision_counts.rs); no samples where it is not.
        SELECT 'webhook_routing_decisions_total', '',
               @extschema@.webhook_routing_metric_labels('{domain,routed_to,reason}', ARRAY[c.domain, c.routed_to, c.reason]),
               c.decisions::text, concat_ws(' ', c.domain, c.routed_to), 0
        FROM @extschema@.webhook_routing_decision_counts() AS c
        UNION ALL
        SELECT 'webhook_routing_decisions_uncounted_total', '', '', u.n::text, '', 0
        FROM @extschema@.webhook_routing_decisions_uncounted() AS u(n)
        WHERE u.n IS NOT NULL
        UNION ALL
        SELECT 'webhook_routing_health_info', '',
               @extschema@.webhook_routing_metric_labels('{domain,routed_to,check,status,verdict,recommendation}',
                   ARRAY[h.domain, h.routed_to, h.check_name, h.status, coalesce(h.verdict, ''), h.recommendation]),
               '1', concat_ws(' ', h.domain, h.routed_to, h.check_name), 0
        FROM health AS h
        UNION ALL
        SELECT 'webhook_routing_health_value', '',
               @extschema@.webhook_routing_metric_labels('{domain,routed_to,check}', ARRAY[h.domain, h.routed_to, h.check_name]),
               h.value::text, concat_ws(' ', h.domain, h.routed_to, h.check_name), 0
        FROM health AS h
        WHERE h.value IS NOT NULL
    ),
    families (family, type, help, ord) AS (
        VALUES
        ('webhook_routing_enabled', 'gauge', 'Whether routing is on (the global kill switch): 1 on, 0 off.', 1),
        ('webhook_routing_config_last_change_timestamp_seconds', 'gauge', 'When the config in force was written (Unix time).', 2),
        ('webhook_routing_domain_percentage', 'gauge', 'Percentage of a domain''s senders routed to unified, as configured (0 for a protected domain).', 3),
        ('webhook_routing_domain_enabled', 'gauge', 'Whether the domain''s own switch is on: 1 on, 0 off.', 4),
        ('webhook_routing_domain_protected', 'gauge', 'Whether the domain is protected (never routed): 1 yes, 0 no.', 5),
        ('webhook_routing_domain_routed', 'gauge', 'Whether the domain routes to unified now (routable, its switch and the global switch on): 1 yes, 0 no.', 6),
        ('webhook_routing_rollout_info', 'gauge', 'The newest staged rollout plan of each domain: its state and what advance_rollouts last concluded.', 7),
        ('webhook_routing_rollout_step', 'gauge', 'The step the newest plan of each domain is at (1-based).', 8),
        ('webhook_routing_rollout_steps', 'gauge', 'How many steps the newest plan of each domain has.', 9),
        ('webhook_routing_rollout_step_percentage', 'gauge', 'The percentage of the step the newest plan of each domain is at.', 10),
        ('webhook_routing_rollout_step_seconds', 'gauge', 'How long an active or paused plan has been at its step (seconds).', 11),
        ('webhook_routing_outcomes_total', 'counter', 'Outcomes reported, by domain, target and status (ok, error); 0 again after TRUNCATE of the log.', 12),
        ('webhook_routing_latency_seconds', 'summary', 'Response time reported with the outcomes (seconds): quantiles over the last 5 minutes, sum and count since the counters began.', 13),
        ('webhook_routing_pending_decisions', 'gauge', 'Decisions of the last hour waiting for their outcome, within webhook_routing.pending_timeout.', 14),
        ('webhook_routing_timed_out_decisions', 'gauge', 'Decisions of the last hour still without an outcome past webhook_routing.pending_timeout (stats and health count them as errors).', 15),
        ('webhook_routing_decisions_total', 'counter', 'Decisions answered by this server since it started, by domain, target and reason: logged or not, committed or not, delivery statuses of route_messages included. Counted where webhook_routing is in shared_preload_libraries; elsewhere no samples.', 16),
        ('webhook_routing_decisions_uncounted_total', 'counter', 'Decisions of every database of this server left out of webhook_routing_decisions_total: its table of series was full.', 17),
        ('webhook_routing_health_info', 'gauge', 'The verdict of each check of check_routing_health over the last hour, in labels; the value is 1.', 18),
        ('webhook_routing_health_value', 'gauge', 'The estimate of each check of check_routing_health over the last hour (error rates in %, p95 in ms, ratios).', 19)
    )
    SELECT string_agg(
               '# HELP ' || f.family || ' ' || f.help || E'\n' ||
               '# TYPE ' || f.family || ' ' || f.type || E'\n' ||
               coalesce((SELECT string_agg(s.family || s.suffix || s.labels || ' ' || s.value || E'\n', ''
                                           ORDER BY s.place COLLATE "C", s.rank, s.labels COLLATE "C")
                         FROM samples AS s WHERE s.family = f.family), ''),
               '' ORDER BY f.ord)
    FROM families AS f
$$;
