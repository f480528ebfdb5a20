-- The migration report: the runbook's "actual results" template filled in from the config
-- history and the decisions logged under each step, as text to paste into a rollout log, as
-- Markdown, or as an HTML page with charts of the steps, error rates and p95 over time.

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

-- The domains a report covers: the one named, or every routable domain. Refused for a domain
-- the config does not know, with the domains it does.
CREATE FUNCTION webhook_routing_report_domains(domain text) RETURNS text[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    newest record;
BEGIN
    -- The columns it needs only: a reader may not read the testers' and denied numbers.
    SELECT c.domains, c.protected_domains INTO newest
    FROM @extschema@.webhook_routing_config AS c ORDER BY c.created_at DESC, c.id DESC LIMIT 1;
    IF webhook_routing_report_domains.domain IS NULL THEN
        RETURN newest.domains;
    ELSIF webhook_routing_report_domains.domain = ANY (newest.domains || newest.protected_domains) THEN
        RETURN ARRAY[webhook_routing_report_domains.domain];
    END IF;
    RAISE EXCEPTION 'unknown domain "%"', webhook_routing_report_domains.domain
        USING ERRCODE = 'invalid_parameter_value',
              DETAIL = pg_catalog.format('Domains: %s.', pg_catalog.array_to_string(newest.domains || newest.protected_domains, ', ')),
              HINT = 'Leave domain NULL for every routable domain.';
END $$;

-- The gates a domain's report measures against: its thresholds, else the defaults.
CREATE FUNCTION webhook_routing_report_gates(domain text,
                                             OUT err_warn numeric, OUT err_crit numeric,
                                             OUT p95_warn numeric, OUT p95_crit numeric)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT max(h.warning) FILTER (WHERE h.check_name = 'error_rate'), max(h.critical) FILTER (WHERE h.check_name = 'error_rate'),
           max(h.warning) FILTER (WHERE h.check_name = 'p95_latency'), max(h.critical) FILTER (WHERE h.check_name = 'p95_latency')
    FROM (SELECT DISTINCT ON (x.check_name) x.*
          FROM @extschema@.webhook_routing_thresholds AS x
          WHERE x.domain = webhook_routing_report_gates.domain OR x.domain IS NULL
          ORDER BY x.check_name, x.domain NULLS LAST) AS h
$$;

-- A domain's steps since `since`, numbered as the report shows them: runs of history rows that
-- leave the domain's routing and percentage as they were, from the row in force at `since`;
-- each ends at the row that changed them, with the decision that row was (proceed, roll back,
-- routing on, ...) and the evidence the domain's plan saw last in the step.
CREATE FUNCTION webhook_routing_report_steps(domain text, since timestamptz)
RETURNS TABLE (step integer, routing boolean, pct numeric, began timestamptz, ended_at timestamptz,
               from_at timestamptz, from_id bigint, ended_id bigint, ended_by text, ended_reason text,
               decision text, evidence jsonb)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d constant text := webhook_routing_report_steps.domain;
    s record;
    n integer := 0;
BEGIN
    FOR s IN
        WITH rows AS (
            SELECT c.id, c.created_at, c.action, c.reason, c.rollout_id,
                   c.enabled AND d = ANY (c.domains) AND d <> ALL (c.protected_domains)
                       AND coalesce((c.domain_enabled ->> d)::boolean, true) AS routing,
                   coalesce((c.domain_percentages ->> d)::numeric, c.percentage) AS pct
            FROM @extschema@.webhook_routing_config AS c
            WHERE c.created_at > webhook_routing_report_steps.since
               OR c.id = (SELECT x.id FROM @extschema@.webhook_routing_config AS x
                          WHERE x.created_at <= webhook_routing_report_steps.since ORDER BY x.created_at DESC, x.id DESC LIMIT 1)
        ),
        changes AS (
            SELECT r.*, (r.routing, r.pct) IS DISTINCT FROM
                       (lag(r.routing) OVER w, lag(r.pct) OVER w) AS starts
            FROM rows AS r WINDOW w AS (ORDER BY r.created_at, r.id)
        ),
        steps AS (
            SELECT c.*, lead(c.created_at) OVER w AS next_at, lead(c.action) OVER w AS next_by,
                   lead(c.id) OVER w AS next_id,
                   lead(c.reason) OVER w AS next_reason, lead(c.pct) OVER w AS next_pct,
                   lead(c.routing) OVER w AS next_routing
            FROM changes AS c WHERE c.starts WINDOW w AS (ORDER BY c.created_at, c.id)
        )
        SELECT st.*, greatest(st.created_at, webhook_routing_report_steps.since) AS first_at,
               -- The step in force at `since` also holds the decisions made under older rows.
               CASE WHEN st.created_at > webhook_routing_report_steps.since THEN st.created_at END AS counted_from
        FROM steps AS st ORDER BY st.created_at, st.id
    LOOP
        -- Changes made one after the other (enable, then set the percentage) leave steps of
        -- seconds with no minute of their own: nothing to report.
        CONTINUE WHEN s.next_at IS NOT NULL AND s.next_at - s.first_at < interval '1 minute'
            AND NOT EXISTS (SELECT 1 FROM @extschema@.webhook_routing_step_outcomes(
                                d, webhook_routing_report_steps.since, s.counted_from, s.id, s.next_at, s.next_id) AS b
                            WHERE b.requests > 0);
        n := n + 1;
        step := n;
        routing := s.routing;
        pct := s.pct;
        began := s.first_at;
        ended_at := s.next_at;
        from_at := s.counted_from;
        from_id := s.id;
        ended_id := s.next_id;
        ended_by := s.next_by;
        ended_reason := s.next_reason;
        -- The verdicts of the checks: what the domain's plan saw last in the step (the
        -- transition that ended it, or one inside it: a plan completing), else for the step
        -- in progress, the plan's last look.
        evidence := coalesce(
            (SELECT c.detail FROM @extschema@.webhook_routing_config AS c
             JOIN @extschema@.webhook_routing_rollouts AS r ON r.id = c.rollout_id
             WHERE r.domain = d AND c.detail ? 'checks'
               AND (c.id = s.next_id
                    OR (c.created_at > s.created_at AND (s.next_at IS NULL OR c.created_at < s.next_at)))
             ORDER BY c.created_at DESC, c.id DESC LIMIT 1),
            CASE WHEN s.next_at IS NULL THEN
                (SELECT r.last_detail FROM @extschema@.webhook_routing_rollouts AS r
                 WHERE r.domain = d AND r.state IN ('active', 'paused') ORDER BY r.id DESC LIMIT 1) END);
        decision := CASE
            WHEN s.next_at IS NULL AND evidence ->> 'transition' = 'complete' THEN 'complete'
            WHEN s.next_at IS NULL THEN 'in progress'
            WHEN s.next_by = 'rollout_complete' THEN 'complete'
            WHEN s.next_routing AND NOT s.routing THEN 'routing on'
            WHEN NOT s.next_routing AND s.routing THEN 'roll back (routing off)'
            WHEN s.next_pct > s.pct THEN 'proceed'
            WHEN s.next_pct < s.pct THEN 'roll back'
            ELSE 'hold' END;
        RETURN NEXT;
    END LOOP;
END $$;

-- Outcomes of a domain per target over time, from the per-minute sketches (never the log's
-- rows): buckets of `width` from the minute of `since`, up to `until`, those with outcomes.
CREATE FUNCTION webhook_routing_report_series(domain text, since timestamptz, until timestamptz, width interval)
RETURNS TABLE (bucket timestamptz, routed_to text, requests bigint, errors bigint, error_pct numeric, p95_ms numeric)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH origin AS (
        SELECT date_bin('1 minute', webhook_routing_report_series.since, timestamptz '2000-01-01 00:00:00+00') AS at
    )
    SELECT date_bin(width, s.minute, o.at), s.routed_to, sum(s.completed)::bigint, sum(s.errors)::bigint,
           round(100.0 * sum(s.errors) / nullif(sum(s.completed), 0), 2),
           round((@extschema@.webhook_routing_sketch_summary(array_agg(s.latency)))[4]::numeric, 0)
    FROM @extschema@.webhook_routing_sketches AS s, origin AS o
    WHERE s.domain = webhook_routing_report_series.domain AND s.routed_to IN ('unified', 'legacy')
      AND s.minute >= o.at AND s.minute < webhook_routing_report_series.until
    GROUP BY 1, 2
    HAVING sum(s.completed) > 0
    ORDER BY 1, 2
$$;

-- The width of a chart's buckets: the shortest of 1, 5, 15, 30 minutes, 1, 3, 6, 12 hours and
-- 1 day that cuts the span into at most 240 buckets, else whole days (a year: 2 days).
CREATE FUNCTION webhook_routing_report_width(span interval) RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(
        (SELECT w.width
         FROM unnest('{1 minute,5 minutes,15 minutes,30 minutes,1 hour,3 hours,6 hours,12 hours,1 day}'::interval[]) AS w(width)
         WHERE extract(epoch FROM span) <= 240 * extract(epoch FROM w.width)
         ORDER BY w.width LIMIT 1),
        make_interval(days => ceil(extract(epoch FROM span) / (240 * 86400))::integer))
$$;

-- Text from data (operators' reasons, domains) for HTML: the five characters that mean markup.
CREATE FUNCTION webhook_routing_html(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT replace(replace(replace(replace(replace(coalesce(value, ''),
               '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')
$$;

-- Text from data for a Markdown table cell: markup characters as HTML entities (Markdown
-- passes raw HTML through), Markdown's punctuation and the cell separator backslashed, line
-- breaks as spaces (a table row is one line).
CREATE FUNCTION webhook_routing_markdown(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT regexp_replace(
               regexp_replace(replace(replace(replace(coalesce(value, ''), '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
                              '([\\`*_\[\]|~])', '\\\1', 'g'),
               '[\r\n]+', ' ', 'g')
$$;

-- The summary numbers of one step as the text report prints them, per target (unified first).
-- gates: error rate's warning and critical, p95's warning and critical (webhook_routing_report_gates).
CREATE FUNCTION webhook_routing_report_cells(domain text, since timestamptz, from_at timestamptz, from_id bigint,
                                             to_at timestamptz, to_id bigint, gates numeric[])
RETURNS TABLE (routed_to text, requests bigint, error_rate text, p95 text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.routed_to, s.requests,
           coalesce(s.error_pct || '%', '-') || CASE WHEN s.routed_to = 'unified' AND s.error_pct IS NOT NULL
               THEN CASE WHEN s.error_pct > gates[2] THEN ' (critical)' WHEN s.error_pct > gates[1] THEN ' (over the gate)'
                         ELSE ' (met)' END ELSE '' END,
           coalesce(s.p95_ms || ' ms', '-') || CASE WHEN s.routed_to = 'unified' AND s.p95_ms IS NOT NULL
               THEN CASE WHEN s.p95_ms > gates[4] THEN ' (critical)' WHEN s.p95_ms > gates[3] THEN ' (over the gate)'
                         ELSE ' (met)' END ELSE '' END
    FROM @extschema@.webhook_routing_step_outcomes(domain, since, from_at, from_id, to_at, to_id) AS s
$$;

-- The migration report of a domain (or every routable one) since `since`, as text for psql
-- and a rollout log, Markdown, or a self-contained HTML page with charts.
CREATE FUNCTION routing_report(domain text DEFAULT NULL,
                               since timestamptz DEFAULT pg_catalog.now() OPERATOR(pg_catalog.-) interval '24 hours',
                               format text DEFAULT 'text')
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d text;
    domains text[];
    report text[] := '{}';
    step record;
    s record;
    g record;
    chk record;
    utc constant text := 'YYYY-MM-DD HH24:MI:SS';
BEGIN
    IF routing_report.since IS NULL THEN
        RAISE EXCEPTION 'since must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'E.g. routing_report(''jobs'', now() - interval ''7 days'').';
    END IF;
    IF routing_report.format IS NULL OR routing_report.format NOT IN ('text', 'markdown', 'html') THEN
        RAISE EXCEPTION 'unknown report format %', coalesce(pg_catalog.quote_literal(routing_report.format), 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'format is ''text'' (psql), ''markdown'' or ''html'' (a page with charts).';
    END IF;
    domains := @extschema@.webhook_routing_report_domains(routing_report.domain);
    IF routing_report.format = 'markdown' THEN
        RETURN @extschema@.webhook_routing_report_markdown(domains, routing_report.since);
    ELSIF routing_report.format = 'html' THEN
        RETURN @extschema@.webhook_routing_report_html(domains, routing_report.since);
    END IF;

    FOREACH d IN ARRAY domains LOOP
        g := @extschema@.webhook_routing_report_gates(d);
        report := report || pg_catalog.format('Migration report: %s, %s to %s UTC', d,
                      pg_catalog.to_char(routing_report.since AT TIME ZONE 'UTC', utc),
                      pg_catalog.to_char(pg_catalog.now() AT TIME ZONE 'UTC', utc))
                  || pg_catalog.format('Gates: error rate under %s%% (critical %s%%), p95 under %s ms (critical %s ms).',
                      g.err_warn, g.err_crit, g.p95_warn, g.p95_crit);
        FOR step IN SELECT * FROM @extschema@.webhook_routing_report_steps(d, routing_report.since) LOOP
            report := report || ''::text || pg_catalog.format('Step %s: %s from %s UTC %s', step.step,
                CASE WHEN step.routing THEN pg_catalog.trim_scale(step.pct) || '%'
                     ELSE 'routing off (' || pg_catalog.trim_scale(step.pct) || '% set)' END,
                pg_catalog.to_char(step.began AT TIME ZONE 'UTC', utc),
                CASE WHEN step.ended_at IS NULL THEN '(in progress)'
                     ELSE pg_catalog.format('to %s UTC (%s h %s min)',
                              pg_catalog.to_char(step.ended_at AT TIME ZONE 'UTC', utc),
                              pg_catalog.floor(extract(epoch FROM step.ended_at - step.began) / 3600),
                              pg_catalog.floor(extract(epoch FROM step.ended_at - step.began) / 60)::bigint % 60) END);
            FOR s IN SELECT * FROM @extschema@.webhook_routing_report_cells(
                         d, routing_report.since, step.from_at, step.from_id, step.ended_at, step.ended_id,
                         ARRAY[g.err_warn, g.err_crit, g.p95_warn, g.p95_crit]) LOOP
                report := report || pg_catalog.format('  %-8s %8s requests   error rate %s   p95 %s',
                    s.routed_to, s.requests, s.error_rate, s.p95);
            END LOOP;
            FOR s IN SELECT * FROM @extschema@.webhook_routing_sessions_between(step.began, coalesce(step.ended_at, 'infinity')) AS x
                     WHERE x.domain = d LOOP
                report := report || pg_catalog.format('  sessions %8s   broken %s (%s%%)   moved deliberately %s   switched domain %s',
                    s.sessions, s.broken, pg_catalog.round(100.0 * s.broken / s.sessions, 2), s.deliberate, s.switched);
            END LOOP;
            FOR chk IN SELECT pg_catalog.split_part(e.key, '.', 2) AS name, e.value AS v
                       FROM pg_catalog.jsonb_each(coalesce(step.evidence -> 'checks', '{}')) AS e
                       WHERE e.key LIKE 'unified.%' ORDER BY e.key LOOP
                report := report || pg_catalog.format('  check %-20s %-12s value %s   statistic %s   confidence %s   samples %s   action %s',
                    chk.name, chk.v ->> 'verdict', coalesce(chk.v ->> 'value', '-'), coalesce(chk.v ->> 'statistic', '-'),
                    coalesce(pg_catalog.round(100 * (chk.v ->> 'confidence')::numeric, 1) || '%', '-'),
                    chk.v ->> 'samples', chk.v ->> 'action');
            END LOOP;
            IF step.evidence ? 'reason' THEN
                report := report || ('  ' || (step.evidence ->> 'reason'));
            END IF;
            report := report || ('  Decision: ' || step.decision
                || CASE WHEN step.ended_by IS NOT NULL
                        THEN pg_catalog.format(' (%s: %s)', step.ended_by, coalesce(step.ended_reason, 'no reason given'))
                        ELSE '' END);
        END LOOP;
        report := report || ''::text;
    END LOOP;
    RETURN pg_catalog.array_to_string(report, E'\n');
END $$;

-- The kind of a step's end as the charts mark it, from the decision the report gives it.
CREATE FUNCTION webhook_routing_report_mark(decision text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE decision WHEN 'proceed' THEN 'advance' WHEN 'roll back' THEN 'rollback'
                         WHEN 'roll back (routing off)' THEN 'routing-off' WHEN 'routing on' THEN 'routing-on'
                         WHEN 'complete' THEN 'complete' ELSE 'hold' END
$$;

-- The top of a chart's scale: 1, 2 or 5 times a power of ten, at or above v (and above 0).
CREATE FUNCTION webhook_routing_report_scale(v numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT min(m * 10 ^ e)
    FROM (SELECT floor(log(greatest(coalesce(v, 0), 0.01)))::integer AS e0) AS p,
         generate_series(p.e0, p.e0 + 1) AS e, unnest('{1,2,5,10}'::numeric[]) AS m
    WHERE m * 10 ^ e >= greatest(coalesce(v, 0), 0.01)
$$;

-- The report as Markdown: per domain, the gates, a table of the steps with the text report's
-- numbers and decisions, then the sessions and the checks when there are any. Everything from
-- data is escaped for a table cell (webhook_routing_markdown).
CREATE FUNCTION webhook_routing_report_markdown(domains text[], since timestamptz) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d text;
    g record;
    step record;
    s record;
    chk record;
    cells text[];
    md text[] := '{}';
    sessions text[];
    checks text[];
    utc constant text := 'YYYY-MM-DD HH24:MI:SS';
BEGIN
    FOREACH d IN ARRAY domains LOOP
        g := @extschema@.webhook_routing_report_gates(d);
        sessions := '{}';
        checks := '{}';
        md := md || ('# Migration report: ' || @extschema@.webhook_routing_markdown(d)) || ''::text
            || pg_catalog.format('%s UTC to %s UTC.',
                   pg_catalog.to_char(since AT TIME ZONE 'UTC', utc), pg_catalog.to_char(pg_catalog.now() AT TIME ZONE 'UTC', utc))
            || ''::text
            || pg_catalog.format('Gates: error rate under %s%% (critical %s%%), p95 under %s ms (critical %s ms).',
                   g.err_warn, g.err_crit, g.p95_warn, g.p95_crit)
            || ''::text
            || '| Step | Percentage | From (UTC) | To (UTC) | Unified requests | Unified error rate | Unified p95 | Legacy requests | Legacy error rate | Legacy p95 | Decision | Changed by |'::text
            || '|---:|---|---|---|---:|---|---|---:|---|---|---|---|'::text;
        FOR step IN SELECT * FROM @extschema@.webhook_routing_report_steps(d, since) LOOP
            SELECT array_agg(c.requests || ' | ' || c.error_rate || ' | ' || c.p95 ORDER BY c.routed_to DESC) INTO cells
            FROM @extschema@.webhook_routing_report_cells(d, since, step.from_at, step.from_id, step.ended_at, step.ended_id,
                                                         ARRAY[g.err_warn, g.err_crit, g.p95_warn, g.p95_crit]) AS c;
            md := md || pg_catalog.format('| %s | %s | %s | %s | %s | %s | %s | %s |', step.step,
                CASE WHEN step.routing THEN pg_catalog.trim_scale(step.pct) || '%'
                     ELSE 'routing off (' || pg_catalog.trim_scale(step.pct) || '% set)' END,
                pg_catalog.to_char(step.began AT TIME ZONE 'UTC', utc),
                coalesce(pg_catalog.to_char(step.ended_at AT TIME ZONE 'UTC', utc), 'in progress'),
                cells[1], cells[2], step.decision,
                CASE WHEN step.ended_by IS NULL THEN ''
                     ELSE @extschema@.webhook_routing_markdown(step.ended_by || ': ' || coalesce(step.ended_reason, 'no reason given')) END);
            FOR s IN SELECT * FROM @extschema@.webhook_routing_sessions_between(step.began, coalesce(step.ended_at, 'infinity')) AS x
                     WHERE x.domain = d LOOP
                sessions := sessions || pg_catalog.format('| %s | %s | %s | %s%% | %s | %s |', step.step, s.sessions, s.broken,
                    pg_catalog.round(100.0 * s.broken / s.sessions, 2), s.deliberate, s.switched);
            END LOOP;
            FOR chk IN SELECT pg_catalog.split_part(x.key, '.', 2) AS name, x.value AS v
                       FROM pg_catalog.jsonb_each(coalesce(step.evidence -> 'checks', '{}')) AS x
                       WHERE x.key LIKE 'unified.%' ORDER BY x.key LOOP
                checks := checks || pg_catalog.format('| %s | %s | %s | %s | %s | %s | %s | %s |', step.step,
                    @extschema@.webhook_routing_markdown(chk.name), @extschema@.webhook_routing_markdown(chk.v ->> 'verdict'),
                    @extschema@.webhook_routing_markdown(coalesce(chk.v ->> 'value', '-')),
                    @extschema@.webhook_routing_markdown(coalesce(chk.v ->> 'statistic', '-')),
                    coalesce(pg_catalog.round(100 * (chk.v ->> 'confidence')::numeric, 1) || '%', '-'),
                    @extschema@.webhook_routing_markdown(chk.v ->> 'samples'), @extschema@.webhook_routing_markdown(chk.v ->> 'action'));
            END LOOP;
            IF step.evidence ? 'reason' THEN
                checks := checks || pg_catalog.format('| %s | plan | | %s | | | | |', step.step,
                    @extschema@.webhook_routing_markdown(step.evidence ->> 'reason'));
            END IF;
        END LOOP;
        IF pg_catalog.cardinality(sessions) > 0 THEN
            md := md || ''::text || '## Sessions'::text || ''::text
                || '| Step | Sessions | Broken | Broken rate | Moved deliberately | Switched domain |'::text
                || '|---:|---:|---:|---:|---:|---:|'::text || sessions;
        END IF;
        IF pg_catalog.cardinality(checks) > 0 THEN
            md := md || ''::text || '## Checks'::text || ''::text
                || '| Step | Check | Verdict | Value | Statistic | Confidence | Samples | Action |'::text
                || '|---:|---|---|---|---|---|---|---|'::text || checks;
        END IF;
        md := md || ''::text;
    END LOOP;
    RETURN pg_catalog.array_to_string(md, E'\n');
END $$;

-- One chart of a series per target (unified, legacy) over [since, until) on the page's scale:
-- a line through the buckets with outcomes, broken where a bucket has none (a dot where one
-- stands alone), a dashed line at the gate. series: jsonb rows of webhook_routing_report_series.
CREATE FUNCTION webhook_routing_report_svg_lines(series jsonb, field text, since timestamptz, until timestamptz,
                                                width interval, gate numeric, unit text, marks text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH points AS (
        SELECT p.routed_to, p.bucket, (p.row ->> field)::numeric AS v,
               lag(p.bucket) OVER w AS prev, lead(p.bucket) OVER w AS next
        FROM (SELECT x ->> 'routed_to' AS routed_to, (x ->> 'bucket')::timestamptz AS bucket, x AS row
              FROM jsonb_array_elements(series) AS x WHERE x ->> field IS NOT NULL) AS p
        WINDOW w AS (PARTITION BY p.routed_to ORDER BY p.bucket)
    ),
    scale AS (
        SELECT @extschema@.webhook_routing_report_scale(greatest(max(pt.v), gate)) AS top,
               extract(epoch FROM since) AS e0, greatest(extract(epoch FROM until - since), 1) AS span
        FROM points AS pt
    ),
    placed AS (
        SELECT pt.*, round(56 + 828 * (extract(epoch FROM pt.bucket + width / 2) - sc.e0) / sc.span, 1) AS x,
               round(14 + 120 * (1 - pt.v / sc.top), 1) AS y
        FROM points AS pt, scale AS sc
    )
    SELECT pg_catalog.format('<line class="axis" x1="56" y1="134" x2="884" y2="134"/><line class="axis" x1="56" y1="14" x2="56" y2="134"/>'
               '<text class="tick" x="50" y="18" text-anchor="end">%s%s</text><text class="tick" x="50" y="137" text-anchor="end">0</text>',
               trim_scale(sc.top), unit)
        || coalesce(pg_catalog.format('<line class="gate" x1="56" y1="%s" x2="884" y2="%s"/><text class="tick gate-label" x="880" y="%s" text-anchor="end">gate %s%s</text>',
               round(14 + 120 * (1 - gate / sc.top), 1), round(14 + 120 * (1 - gate / sc.top), 1),
               round(14 + 120 * (1 - gate / sc.top), 1) - 3, trim_scale(gate), unit), '')
        || marks
        || coalesce((SELECT string_agg(pg_catalog.format('<path class="series %s" d="%s"/>%s', t.target, l.d, l.dots), '' ORDER BY t.i)
                     FROM unnest(ARRAY['unified', 'legacy']) WITH ORDINALITY AS t(target, i),
                          LATERAL (SELECT string_agg(CASE WHEN pl.prev IS DISTINCT FROM pl.bucket - width THEN 'M' ELSE 'L' END
                                                     || pl.x || ' ' || pl.y, ' ' ORDER BY pl.bucket) AS d,
                                          coalesce(string_agg(pg_catalog.format('<circle class="dot %s" cx="%s" cy="%s" r="2.5"/>', t.target, pl.x, pl.y), '')
                                                       FILTER (WHERE pl.prev IS DISTINCT FROM pl.bucket - width
                                                                 AND pl.next IS DISTINCT FROM pl.bucket + width), '') AS dots
                                   FROM placed AS pl WHERE pl.routed_to = t.target) AS l
                     WHERE l.d IS NOT NULL), '')
    FROM scale AS sc
$$;

-- The report as a self-contained HTML page: no script, no font or anything else fetched (the
-- page's Content-Security-Policy forbids it), the charts inline SVG. Per domain: the
-- percentage in force over time as a step chart, with a mark at each step's end (advance,
-- rollback, routing off, routing on, complete); unified and legacy error rate and p95 per
-- bucket, read from the per-minute sketches; and the text report's numbers per step in a
-- table. Buckets are as wide as it takes to keep at most 240 per chart (webhook_routing_report_width):
-- 30 days make 3-hour buckets. The charts end at the domain's last outcome or change (at
-- least an hour after `since`, at most now). Everything from data is HTML-escaped.
CREATE FUNCTION webhook_routing_report_html(domains text[], since timestamptz) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d text;
    g record;
    step record;
    s record;
    chk record;
    cells record;
    page text[];
    rows text[];
    sessions text[];
    checks text[];
    marks text;
    mark_lines text;
    steps_svg text;
    risers text;
    until timestamptz;
    width interval;
    series jsonb;
    top numeric;
    e0 numeric;
    span numeric;
    x1 numeric;
    x2 numeric;
    y numeric;
    prev_y numeric;
    label text;
    tick integer;
    ticks text;
    utc constant text := 'YYYY-MM-DD HH24:MI:SS';
    short constant text := 'MM-DD HH24:MI';
BEGIN
    page := ARRAY['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src ''none''; style-src ''unsafe-inline''">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<title>Migration report: ' || @extschema@.webhook_routing_html(pg_catalog.array_to_string(domains, ', ')) || '</title>',
        '<style>',
        'body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2937;margin:24px auto;max-width:1120px;padding:0 16px}',
        'h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 4px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}',
        'h3{font-size:14px;margin:16px 0 4px}p{margin:4px 0}.muted{color:#6b7280}',
        'figure{margin:8px 0}figcaption{font-weight:600;font-size:13px}svg{display:block;width:100%;height:auto;background:#fff}',
        '.axis{stroke:#9ca3af;stroke-width:1}.tick{font-size:10px;fill:#6b7280}.gate{stroke:#dc2626;stroke-width:1;stroke-dasharray:4 3;opacity:.7}',
        '.gate-label{fill:#dc2626}.series{fill:none;stroke-width:2;stroke-linejoin:round;stroke-linecap:round}',
        '.series.unified{stroke:#2563eb}.series.legacy{stroke:#d97706}.key.unified{border-color:#2563eb}.key.legacy{border-color:#d97706}.dot.unified{fill:#2563eb}.dot.legacy{fill:#d97706}',
        '.step{stroke:#111827;stroke-width:2.5}.step.off{stroke:#9ca3af;stroke-dasharray:5 3}.riser{stroke:#111827;stroke-width:1;fill:none;opacity:.5}',
        '.step-label{font-size:10px;fill:#111827}.mark line,.mark-line{stroke-width:1;stroke-dasharray:2 2}',
        '.mark text{font-size:10px}.advance line,.mark-line.advance{stroke:#16a34a}.advance text{fill:#16a34a}',
        '.rollback line,.mark-line.rollback{stroke:#ea580c}.rollback text{fill:#ea580c}',
        '.routing-off line,.mark-line.routing-off{stroke:#dc2626}.routing-off text{fill:#dc2626}',
        '.routing-on line,.complete line,.hold line,.mark-line.routing-on,.mark-line.complete,.mark-line.hold{stroke:#6b7280}',
        '.routing-on text,.complete text,.hold text{fill:#6b7280}',
        '.legend{font-size:12px;margin:2px 0 0}.key{display:inline-block;width:18px;border-top:3px solid;vertical-align:middle;margin:0 4px 0 10px}',
        'table{border-collapse:collapse;margin:6px 0;font-size:12px;width:100%}th,td{border:1px solid #e5e7eb;padding:3px 6px;text-align:left;vertical-align:top}',
        'th{background:#f9fafb}td.num,td.time{text-align:right;white-space:nowrap}td.reason{overflow-wrap:anywhere}',
        '</style>', '</head>', '<body>',
        '<h1>Migration report</h1>',
        pg_catalog.format('<p class="window">%s UTC to %s UTC</p>',
            pg_catalog.to_char(since AT TIME ZONE 'UTC', utc), pg_catalog.to_char(pg_catalog.now() AT TIME ZONE 'UTC', utc))];
    FOREACH d IN ARRAY domains LOOP
        g := @extschema@.webhook_routing_report_gates(d);
        -- The charts' end: the domain's last outcome or change, never before an hour after
        -- `since`, never after now.
        until := greatest(least(pg_catalog.now(),
                                greatest(since + interval '1 hour',
                                         (SELECT max(k.minute) + interval '1 minute' FROM @extschema@.webhook_routing_sketches AS k
                                          WHERE k.domain = d AND k.minute >= since - interval '1 minute'),
                                         (SELECT max(c.created_at) + interval '1 minute' FROM @extschema@.webhook_routing_config AS c
                                          WHERE c.created_at > since))),
                          since + interval '1 minute');
        width := @extschema@.webhook_routing_report_width(until - since);
        e0 := extract(epoch FROM since);
        span := greatest(extract(epoch FROM until - since), 1);
        SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') INTO series
        FROM @extschema@.webhook_routing_report_series(d, since, until, width) AS x;

        rows := '{}';
        sessions := '{}';
        checks := '{}';
        marks := '';
        mark_lines := '';
        steps_svg := '';
        risers := '';
        prev_y := NULL;
        SELECT @extschema@.webhook_routing_report_scale(greatest(5, max(CASE WHEN st.routing THEN st.pct ELSE 0 END))) INTO top
        FROM @extschema@.webhook_routing_report_steps(d, since) AS st;
        FOR step IN SELECT * FROM @extschema@.webhook_routing_report_steps(d, since) LOOP
            x1 := round(56 + 828 * (extract(epoch FROM step.began) - e0) / span, 1);
            x2 := round(56 + 828 * (extract(epoch FROM least(coalesce(step.ended_at, until), until)) - e0) / span, 1);
            y := round(14 + 120 * (1 - CASE WHEN step.routing THEN step.pct ELSE 0 END / top), 1);
            label := CASE WHEN step.routing THEN pg_catalog.trim_scale(step.pct) || '%' ELSE 'off' END;
            steps_svg := steps_svg || pg_catalog.format(
                '<line class="step%s" data-step="%s" x1="%s" y1="%s" x2="%s" y2="%s"><title>Step %s: %s</title></line><text class="step-label" x="%s" y="%s">%s</text>',
                CASE WHEN step.routing THEN '' ELSE ' off' END, step.step, x1, y, x2, y, step.step,
                CASE WHEN step.routing THEN label ELSE 'routing off (' || pg_catalog.trim_scale(step.pct) || '% set)' END,
                x1 + 3, CASE WHEN y < 30 THEN y + 12 ELSE y - 4 END, label);
            IF prev_y IS NOT NULL THEN
                risers := risers || pg_catalog.format('M%s %sV%s', x1, prev_y, y);
            END IF;
            prev_y := y;
            IF step.ended_at IS NOT NULL AND step.ended_at <= until THEN
                marks := marks || pg_catalog.format(
                    '<g class="mark %s" data-step="%s"><line x1="%s" y1="14" x2="%s" y2="134"/><text x="%s" y="10" text-anchor="middle">%s</text><title>%s</title></g>',
                    @extschema@.webhook_routing_report_mark(step.decision), step.step, x2, x2, x2,
                    replace(@extschema@.webhook_routing_report_mark(step.decision), '-', ' '),
                    @extschema@.webhook_routing_html(step.decision || ' (' || step.ended_by || ': ' || coalesce(step.ended_reason, 'no reason given') || ')'));
                mark_lines := mark_lines || pg_catalog.format('<line class="mark-line %s" x1="%s" y1="14" x2="%s" y2="134"/>',
                    @extschema@.webhook_routing_report_mark(step.decision), x2, x2);
            END IF;

            rows := rows || pg_catalog.format('<tr data-step="%s"><td class="num">%s</td><td>%s</td><td class="time">%s</td><td class="time">%s</td>',
                step.step, step.step,
                CASE WHEN step.routing THEN label ELSE 'routing off (' || pg_catalog.trim_scale(step.pct) || '% set)' END,
                pg_catalog.to_char(step.began AT TIME ZONE 'UTC', utc),
                coalesce(pg_catalog.to_char(step.ended_at AT TIME ZONE 'UTC', utc), 'in progress'));
            FOR cells IN SELECT * FROM @extschema@.webhook_routing_report_cells(
                             d, since, step.from_at, step.from_id, step.ended_at, step.ended_id,
                             ARRAY[g.err_warn, g.err_crit, g.p95_warn, g.p95_crit]) LOOP
                rows[pg_catalog.cardinality(rows)] := rows[pg_catalog.cardinality(rows)] || pg_catalog.format(
                    '<td class="num %1$s requests">%2$s</td><td class="num %1$s error-rate">%3$s</td><td class="num %1$s p95">%4$s</td>',
                    cells.routed_to, cells.requests, cells.error_rate, cells.p95);
            END LOOP;
            rows[pg_catalog.cardinality(rows)] := rows[pg_catalog.cardinality(rows)] || pg_catalog.format(
                '<td class="decision">%s</td><td class="reason">%s</td></tr>',
                @extschema@.webhook_routing_html(step.decision),
                CASE WHEN step.ended_by IS NULL THEN ''
                     ELSE @extschema@.webhook_routing_html(step.ended_by || ': ' || coalesce(step.ended_reason, 'no reason given')) END);
            FOR s IN SELECT * FROM @extschema@.webhook_routing_sessions_between(step.began, coalesce(step.ended_at, 'infinity')) AS x
                     WHERE x.domain = d LOOP
                sessions := sessions || pg_catalog.format('<tr><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s%%</td><td class="num">%s</td><td class="num">%s</td></tr>',
                    step.step, s.sessions, s.broken, pg_catalog.round(100.0 * s.broken / s.sessions, 2), s.deliberate, s.switched);
            END LOOP;
            FOR chk IN SELECT pg_catalog.split_part(x.key, '.', 2) AS name, x.value AS v
                       FROM pg_catalog.jsonb_each(coalesce(step.evidence -> 'checks', '{}')) AS x
                       WHERE x.key LIKE 'unified.%' ORDER BY x.key LOOP
                checks := checks || pg_catalog.format('<tr><td class="num">%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>',
                    step.step, @extschema@.webhook_routing_html(chk.name), @extschema@.webhook_routing_html(chk.v ->> 'verdict'),
                    @extschema@.webhook_routing_html(coalesce(chk.v ->> 'value', '-')),
                    @extschema@.webhook_routing_html(coalesce(chk.v ->> 'statistic', '-')),
                    coalesce(pg_catalog.round(100 * (chk.v ->> 'confidence')::numeric, 1) || '%', '-'),
                    @extschema@.webhook_routing_html(chk.v ->> 'samples'), @extschema@.webhook_routing_html(chk.v ->> 'action'));
            END LOOP;
            IF step.evidence ? 'reason' THEN
                checks := checks || pg_catalog.format('<tr><td class="num">%s</td><td>plan</td><td colspan="6">%s</td></tr>',
                    step.step, @extschema@.webhook_routing_html(step.evidence ->> 'reason'));
            END IF;
        END LOOP;

        ticks := '';
        FOR tick IN 0..4 LOOP
            ticks := ticks || pg_catalog.format('<text class="tick" x="%s" y="150" text-anchor="%s">%s</text>',
                56 + 207 * tick, CASE tick WHEN 0 THEN 'start' WHEN 4 THEN 'end' ELSE 'middle' END,
                pg_catalog.to_char((since + (until - since) * tick / 4) AT TIME ZONE 'UTC', short));
        END LOOP;

        page := page || ('<section class="domain" data-domain="' || @extschema@.webhook_routing_html(d) || '">')
            || ('<h2>' || @extschema@.webhook_routing_html(d) || '</h2>')
            || pg_catalog.format('<p class="gates">Gates: error rate under %s%% (critical %s%%), p95 under %s ms (critical %s ms).</p>',
                   g.err_warn, g.err_crit, g.p95_warn, g.p95_crit)
            || '<figure><figcaption>Percentage routed to unified, by step (UTC)</figcaption>'::text
            || pg_catalog.format('<svg class="chart percentage" viewBox="0 0 900 160" role="img" aria-label="percentage by step">%s%s'
                   '<text class="tick" x="50" y="18" text-anchor="end">%s%%</text><text class="tick" x="50" y="137" text-anchor="end">0</text>'
                   '%s<path class="riser" d="%s"/>%s%s</svg></figure>',
                   '<line class="axis" x1="56" y1="134" x2="884" y2="134"/>', '<line class="axis" x1="56" y1="14" x2="56" y2="134"/>',
                   pg_catalog.trim_scale(top), ticks, risers, steps_svg, marks)
            || '<figure><figcaption>Error rate per bucket: unified and legacy</figcaption>'::text
            || pg_catalog.format('<svg class="chart error-rate" viewBox="0 0 900 160" role="img" aria-label="error rate">%s%s</svg>',
                   @extschema@.webhook_routing_report_svg_lines(series, 'error_pct', since, until, width, g.err_warn, '%', mark_lines), ticks)
            || '<p class="legend"><span class="key unified"></span>unified<span class="key legacy"></span>legacy</p></figure>'::text
            || '<figure><figcaption>p95 latency per bucket (ms): unified and legacy</figcaption>'::text
            || pg_catalog.format('<svg class="chart p95" viewBox="0 0 900 160" role="img" aria-label="p95 latency">%s%s</svg>',
                   @extschema@.webhook_routing_report_svg_lines(series, 'p95_ms', since, until, width, g.p95_warn, ' ms', mark_lines), ticks)
            || '<p class="legend"><span class="key unified"></span>unified<span class="key legacy"></span>legacy</p></figure>'::text
            || pg_catalog.format('<p class="muted bound">%s buckets of %s with outcomes, from %s to %s UTC (at most 240 per chart), from the per-minute sketches of outcomes.</p>',
                   (SELECT count(DISTINCT x ->> 'bucket') FROM jsonb_array_elements(series) AS x),
                   CASE WHEN width < interval '1 hour' THEN extract(epoch FROM width)::bigint / 60 || ' min'
                        WHEN width < interval '1 day' THEN extract(epoch FROM width)::bigint / 3600 || ' h'
                        ELSE extract(epoch FROM width)::bigint / 86400 || ' d' END,
                   pg_catalog.to_char(since AT TIME ZONE 'UTC', utc), pg_catalog.to_char(until AT TIME ZONE 'UTC', utc))
            || '<h3>Steps</h3><table class="steps"><thead><tr><th>Step</th><th>Percentage</th><th>From (UTC)</th><th>To (UTC)</th><th>Unified requests</th><th>Unified error rate</th><th>Unified p95</th><th>Legacy requests</th><th>Legacy error rate</th><th>Legacy p95</th><th>Decision</th><th>Changed by</th></tr></thead><tbody>'::text
            || rows || '</tbody></table>'::text;
        IF pg_catalog.cardinality(sessions) > 0 THEN
            page := page || '<h3>Sessions</h3><table class="sessions"><thead><tr><th>Step</th><th>Sessions</th><th>Broken</th><th>Broken rate</th><th>Moved deliberately</th><th>Switched domain</th></tr></thead><tbody>'::text
                || sessions || '</tbody></table>'::text;
        END IF;
        IF pg_catalog.cardinality(checks) > 0 THEN
            page := page || '<h3>Checks</h3><table class="checks"><thead><tr><th>Step</th><th>Check</th><th>Verdict</th><th>Value</th><th>Statistic</th><th>Confidence</th><th>Samples</th><th>Action</th></tr></thead><tbody>'::text
                || checks || '</tbody></table>'::text;
        END IF;
        page := page || '</section>'::text;
    END LOOP;
    page := page || '<p class="muted">Step numbers count the decisions logged under each step, as routing_report''s text does; charts count outcomes by the minute they were decided in.</p>'::text
        || '</body>'::text || '</html>'::text;
    RETURN pg_catalog.array_to_string(page, E'\n');
END $$;
