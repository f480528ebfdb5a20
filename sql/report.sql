-- The migration report: the runbook's "actual results" template filled in from the config
-- history and the decisions logged under each step, as text to paste into a rollout log.

-- Outcomes of a domain per target, of the decisions logged since `since` that one step made:
-- those whose config row (the one in force when the decision was made, config_id) is at or
-- after the step's first row, (from_at, from_id), and before the next step's, (to_at, to_id).
-- A NULL bound is open (the step in force at `since`; the step in progress). A row without a
-- config row (a caller's own INSERT) counts by its time. So a decision counts for the step it
-- was made under to the microsecond, however short the step, never for the one whose minute
-- it fell in (0.6.0 counted whole minutes of the sketches: a kill switch and a raise inside
-- one minute sent the raise's traffic to "routing off").
CREATE FUNCTION webhook_routing_step_outcomes(domain text, since timestamptz,
                                              from_at timestamptz, from_id bigint,
                                              to_at timestamptz, to_id bigint)
RETURNS TABLE (routed_to text, requests bigint, errors bigint, error_pct numeric, p95_ms numeric)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH decided AS (
        SELECT l.routed_to, l.status, l.response_time_ms
        FROM @extschema@.webhook_routing_logs AS l
        LEFT JOIN @extschema@.webhook_routing_config AS c ON c.id = l.config_id
        WHERE l.domain = webhook_routing_step_outcomes.domain
          AND l.created_at >= since AND l.created_at <= now() + interval '5 minutes'
          AND l.status IN ('success', 'error')
          AND CASE WHEN c.id IS NOT NULL
                   THEN (from_at IS NULL OR (c.created_at, c.id) >= (from_at, from_id))
                        AND (to_at IS NULL OR (c.created_at, c.id) < (to_at, to_id))
                   ELSE (from_at IS NULL OR l.created_at >= from_at)
                        AND (to_at IS NULL OR l.created_at < to_at) END
    )
    SELECT t.target, count(d.status), count(d.status) FILTER (WHERE d.status = 'error'),
           round(100.0 * count(d.status) FILTER (WHERE d.status = 'error') / nullif(count(d.status), 0), 2),
           round(percentile_disc(0.95) WITHIN GROUP (ORDER BY d.response_time_ms), 0)
    FROM unnest(ARRAY['unified', 'legacy']) WITH ORDINALITY AS t(target, i)
    LEFT JOIN decided AS d ON d.routed_to = t.target
    GROUP BY t.target, t.i
    ORDER BY t.i
$$;

CREATE FUNCTION routing_report(domain text DEFAULT NULL,
                               since timestamptz DEFAULT pg_catalog.now() OPERATOR(pg_catalog.-) interval '24 hours')
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    newest record;
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
    -- The columns it needs only: a reader may not read the testers' and denied numbers.
    SELECT c.domains, c.protected_domains INTO newest
    FROM @extschema@.webhook_routing_config AS c ORDER BY c.created_at DESC, c.id DESC LIMIT 1;
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
            SELECT st.*, greatest(st.created_at, routing_report.since) AS began,
                   -- The step in force at `since` also holds the decisions made under older rows.
                   CASE WHEN st.created_at > routing_report.since THEN st.created_at END AS from_at
            FROM steps AS st ORDER BY st.created_at, st.id
        LOOP
            -- Changes made one after the other (enable, then set the percentage) leave steps of
            -- seconds with no minute of their own: nothing to report.
            CONTINUE WHEN step.ended_at IS NOT NULL AND step.ended_at - step.began < interval '1 minute'
                AND NOT EXISTS (SELECT 1 FROM @extschema@.webhook_routing_step_outcomes(
                                    d, routing_report.since, step.from_at, step.id, step.ended_at, step.ended_id) AS b
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
            FOR s IN SELECT * FROM @extschema@.webhook_routing_step_outcomes(
                         d, routing_report.since, step.from_at, step.id, step.ended_at, step.ended_id) LOOP
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
