-- webhook_routing 0.4.0 → 0.5.0. ALTER EXTENSION webhook_routing UPDATE runs this; the result
-- matches a fresh 0.5.0 install (scripts/test compares the two, tests/upgrade/describe.sql).
-- Every function and operator it uses is schema-qualified, as in every script of the extension.
--
-- - Conversations (src/conversation.rs): log rows carry the sender's keyed hash and their
--   conversation, each day partition an index on them; a follow-up without a cue of its own
--   continues its conversation on its handler. The key is made here, as an install makes it.
-- - Re-deliveries get their first decision back and write no row; the row counts them.
-- - route_messages(body) answers every message and status of a body.
-- - routing_sessions() and the session_breaks check measure session continuity; routing_status
--   and routing_report show it.
-- - A caller's plain INSERT into the log may no longer write the new columns.

ALTER TABLE @extschema@.webhook_routing_logs
    ADD COLUMN sender_key bigint,
    ADD COLUMN conversation_id bigint,
    ADD COLUMN retries integer NOT NULL DEFAULT 0 CHECK (retries OPERATOR(pg_catalog.>=) 0);

-- The sender indexes, on the default partition and on every day made so far (new days get theirs
-- from webhook_routing_make_day).
CREATE INDEX webhook_routing_logs_default_sender_idx ON @extschema@.webhook_routing_logs_default (sender_key, created_at, id)
    WHERE sender_key IS NOT NULL AND routed_to OPERATOR(pg_catalog.<>) 'error';
CREATE INDEX webhook_routing_logs_default_message_idx ON @extschema@.webhook_routing_logs_default (sender_key, message_id, created_at, id)
    WHERE sender_key IS NOT NULL AND message_id IS NOT NULL;
DO $$
DECLARE
    part record;
BEGIN
    FOR part IN
        SELECT c.relname
        FROM pg_catalog.pg_inherits AS i
        JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
        WHERE i.inhparent OPERATOR(pg_catalog.=) '@extschema@.webhook_routing_logs'::pg_catalog.regclass
          AND c.relname OPERATOR(pg_catalog.<>) 'webhook_routing_logs_default'
        ORDER BY c.relname
    LOOP
        EXECUTE pg_catalog.format(
            'CREATE INDEX %I ON @extschema@.%I (sender_key, created_at, id) WHERE sender_key IS NOT NULL AND routed_to OPERATOR(pg_catalog.<>) %L',
            part.relname OPERATOR(pg_catalog.||) '_sender_idx', part.relname, 'error');
        EXECUTE pg_catalog.format(
            'CREATE INDEX %I ON @extschema@.%I (sender_key, message_id, created_at, id) WHERE sender_key IS NOT NULL AND message_id IS NOT NULL',
            part.relname OPERATOR(pg_catalog.||) '_message_idx', part.relname);
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
    EXECUTE pg_catalog.format(
        'CREATE INDEX %I ON @extschema@.%I (sender_key, created_at, id) WHERE sender_key IS NOT NULL AND routed_to OPERATOR(pg_catalog.<>) ''error''',
        name || '_sender_idx', name);
    EXECUTE pg_catalog.format(
        'CREATE INDEX %I ON @extschema@.%I (sender_key, message_id, created_at, id) WHERE sender_key IS NOT NULL AND message_id IS NOT NULL',
        name || '_message_idx', name);
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

-- The key of the senders' hashes in the log: made at install, read by the extension as the
-- owner of its tables, by no other role. Not dumped: a restore makes a new one, and the
-- conversations in progress start again.
CREATE TABLE @extschema@.webhook_routing_secret (
    key uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid()
);
INSERT INTO @extschema@.webhook_routing_secret DEFAULT VALUES;
SELECT @extschema@.webhook_routing_lock_down('@extschema@.webhook_routing_secret'::pg_catalog.regclass);

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
    RETURN NEW;
END $$;

ALTER TABLE @extschema@.webhook_routing_thresholds DROP CONSTRAINT webhook_routing_thresholds_check_name_check;
ALTER TABLE @extschema@.webhook_routing_thresholds ADD CONSTRAINT webhook_routing_thresholds_check_name_check
    CHECK (check_name OPERATOR(pg_catalog.=) ANY (ARRAY['error_rate', 'p95_latency', 'error_rate_vs_legacy',
                                                      'p95_vs_legacy', 'sample_ratio', 'session_breaks']));
-- Sessions (%) whose messages reached more than one handler, deliberate moves apart
-- (routing_sessions): the runbook's bar is 0.5%.
INSERT INTO @extschema@.webhook_routing_thresholds (domain, check_name, warning, critical, seeded)
VALUES (NULL, 'session_breaks', 0.25, 0.5, true)
ON CONFLICT DO NOTHING;

CREATE FUNCTION @extschema@."routing_conversation_timeout_seconds"() RETURNS INT /* i32 */
STRICT STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'routing_conversation_timeout_seconds_wrapper';

CREATE FUNCTION @extschema@."route_messages"(
	"body" jsonb, /* Option < JsonbArg < '_ > > */
	"webhook_name" TEXT DEFAULT 'whatsapp', /* Option < & str > */
	"log" bool DEFAULT true /* Option < bool > */
) RETURNS TABLE (
	"position" INT,  /* i32 */
	"kind" TEXT,  /* String */
	"message_id" TEXT,  /* Option < String > */
	"sender" TEXT,  /* Option < String > */
	"domain" TEXT,  /* Option < String > */
	"routed_to" TEXT,  /* String */
	"reason" TEXT,  /* String */
	"decision_id" bigint,  /* Option < i64 > */
	"conversation_id" bigint,  /* Option < i64 > */
	"retry" bool  /* bool */
)
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'route_messages_wrapper';

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
CREATE FUNCTION @extschema@.webhook_routing_sessions_between(since timestamptz, until timestamptz)
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
CREATE FUNCTION @extschema@.routing_sessions("window" interval DEFAULT '1 hour')
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

CREATE OR REPLACE FUNCTION @extschema@.check_routing_health("window" interval DEFAULT '1 hour')
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
       h.health AS health_last_hour,
       -- Sessions of the last hour whose messages reached more than one handler, in % (routing_sessions).
       se.broken_pct AS session_breaks_last_hour
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
            FOR s IN SELECT * FROM @extschema@.webhook_routing_sessions_between(step.began, coalesce(step.ended_at, 'infinity')) AS x
                     WHERE x.domain = d LOOP
                report := report || pg_catalog.format('  sessions %8s   broken %s (%s%%)   moved deliberately %s   switched domain %s',
                    s.sessions, s.broken, pg_catalog.round(100.0 * s.broken / s.sessions, 2), s.deliberate, s.switched);
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

-- Privileges of the new functions, as sql/security.sql gives them at install.
DO $$
DECLARE
    f text;
    grantee text;
BEGIN
    FOREACH f IN ARRAY ARRAY['@extschema@.route_messages(jsonb, text, boolean)',
                             '@extschema@.routing_conversation_timeout_seconds()',
                             '@extschema@.webhook_routing_sessions_between(timestamptz, timestamptz)',
                             '@extschema@.routing_sessions(interval)'] LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        FOR grantee IN
            SELECT DISTINCT a.grantee::pg_catalog.regrole::pg_catalog.text
            FROM pg_catalog.pg_proc AS p, pg_catalog.aclexplode(p.proacl) AS a
            WHERE p.oid OPERATOR(pg_catalog.=) f::pg_catalog.regprocedure
              AND a.grantee OPERATOR(pg_catalog.<>) 0::pg_catalog.oid
              AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
        LOOP
            EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM %s', f, grantee);
        END LOOP;
    END LOOP;
END $$;
GRANT EXECUTE ON FUNCTION @extschema@.route_messages(jsonb, text, boolean) TO webhook_routing_caller;
GRANT EXECUTE ON FUNCTION
    @extschema@.routing_sessions(interval),
    @extschema@.webhook_routing_sessions_between(timestamptz, timestamptz),
    @extschema@.routing_conversation_timeout_seconds()
    TO webhook_routing_reader, webhook_routing_admin;
-- A sender's key and conversation are route_decision's alone (it writes them as the owner):
-- session health is read from them, so a caller's own rows cannot steer it.
REVOKE INSERT ON @extschema@.webhook_routing_logs FROM webhook_routing_caller;
GRANT INSERT (id, webhook_name, domain, routed_to, response_time_ms, status, error_message, reason,
              bucket, percentage, config_id, rule_id, message_id, created_at, completed_at)
    ON @extschema@.webhook_routing_logs TO webhook_routing_caller;

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
