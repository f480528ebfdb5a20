-- webhook_routing: tables, indexes and seeds, in the extension's own schema, webhook_routing
-- (the control file names it; CREATE EXTENSION makes it); functions refer to them through
-- @extschema@.
--
-- This script runs with the target schema on search_path, where other roles may create objects
-- (Supabase's public): every function and operator in its expressions (defaults, CHECKs, index
-- predicates, seeds) is schema-qualified, so that a look-alike that matches better than
-- pg_catalog's (an `>=(numeric, integer)`, an `unnest(text[])`) is never bound or run
-- (CVE-2022-2625; tests/pg_regress/sql/13_hostile_install.sql).

-- The schema is the extension's own: no role but its owner (the superuser that installs, or
-- the one that made it) may create anything in it, so that nothing planted beside the
-- extension's functions, views and tables can catch a call or a read that names the schema,
-- as every documented one does (`webhook_routing.update_routing_percentage(10, '...')`): an
-- overload that matches an untyped argument better, a view that looks like the stats. A
-- schema of that name that another role owns is refused; what others were given on one the
-- installer owns is taken back.
DO $$
DECLARE
    owner pg_catalog.oid;
    acl pg_catalog.aclitem[];
    grantee pg_catalog.oid;
BEGIN
    SELECT n.nspowner, n.nspacl INTO owner, acl FROM pg_catalog.pg_namespace AS n
    WHERE n.oid OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace::pg_catalog.oid;
    IF owner OPERATOR(pg_catalog.<>) (SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER)
       AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.oid OPERATOR(pg_catalog.=) owner) THEN
        RAISE EXCEPTION 'schema @extschema@ belongs to %, not to the role that installs webhook_routing',
                owner::pg_catalog.regrole
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Its owner could create functions and views beside the extension''s that catch the calls meant for them.',
                  HINT = 'Drop that schema (or rename it) and install again: CREATE EXTENSION makes the schema itself.';
    END IF;
    -- What others were given on it (by hand, or by default privileges on schemas) is taken
    -- back; sql/security.sql then lets the extension's roles use it, and only use it.
    FOR grantee IN
        SELECT DISTINCT a.grantee FROM pg_catalog.aclexplode(acl) AS a
        WHERE a.grantee OPERATOR(pg_catalog.<>) owner
          AND (a.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid
               OR NOT (a.grantee::pg_catalog.regrole::pg_catalog.text OPERATOR(pg_catalog.=) ANY
                       (ARRAY['webhook_routing_admin', 'webhook_routing_caller', 'webhook_routing_reader'])))
        ORDER BY a.grantee
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON SCHEMA @extschema@ FROM %s',
            CASE WHEN grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC' ELSE grantee::pg_catalog.regrole::pg_catalog.text END);
        RAISE WARNING 'took every privilege on schema @extschema@ back from %',
            CASE WHEN grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC' ELSE grantee::pg_catalog.regrole::pg_catalog.text END;
    END LOOP;
END $$;

-- Validators for the per-domain overrides kept as jsonb in the config history.
CREATE FUNCTION webhook_routing_valid_percentages(overrides jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_typeof(overrides) = 'object'
       AND NOT EXISTS (
            SELECT 1 FROM jsonb_each(overrides) AS e(key, value)
            WHERE e.key !~ '^[a-z][a-z0-9_]{0,62}$'
               OR jsonb_typeof(e.value) <> 'number'
               OR e.value::numeric NOT BETWEEN 0 AND 100
               OR e.value::numeric <> round(e.value::numeric, 2))
$$;

CREATE FUNCTION webhook_routing_valid_switches(overrides jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_typeof(overrides) = 'object'
       AND NOT EXISTS (
            SELECT 1 FROM jsonb_each(overrides) AS e(key, value)
            WHERE e.key !~ '^[a-z][a-z0-9_]{0,62}$'
               OR jsonb_typeof(e.value) <> 'boolean')
$$;

-- Testers and denied senders per domain, e.g. {"jobs": ["250788123456"]}: domains to lists of
-- routing keys (a sender's `from` or the caller's routing key), 1 to 200 characters, at most
-- 1,000 per domain.
CREATE FUNCTION webhook_routing_valid_lists(lists jsonb) RETURNS boolean
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

-- Ids come from sequences of the extension's own, not identity columns: pg_dump dumps the state
-- of a member sequence marked with pg_extension_config_dump (an identity sequence belongs to its
-- table and is not dumped), so that after a restore the next id follows the restored ones.
CREATE SEQUENCE webhook_routing_config_id_seq;
CREATE SEQUENCE webhook_routing_rules_id_seq;
-- Decision ids never repeat, across crashes too: route_decision flushes the WAL record of each
-- block of ids this sequence hands a backend before it hands out the first (src/route/log.rs).
-- A block of 1,000 makes that one flush per 1,000 decisions of a backend.
CREATE SEQUENCE webhook_routing_logs_id_seq CACHE 1000;

-- The rollout settings as an append-only history: every change adds a row holding the full
-- settings in force, and the newest row is in force.
CREATE TABLE webhook_routing_config (
    id bigint NOT NULL DEFAULT pg_catalog.nextval('@extschema@.webhook_routing_config_id_seq'::pg_catalog.regclass) PRIMARY KEY,
    -- Global percentage of senders routed to the unified handler.
    percentage numeric(5,2) NOT NULL DEFAULT 0
        CHECK (percentage OPERATOR(pg_catalog.>=) 0 AND percentage OPERATOR(pg_catalog.<=) 100),
    -- Global kill switch: false sends everything to legacy.
    enabled boolean NOT NULL DEFAULT false,
    -- Domains that may be routed.
    domains text[] NOT NULL DEFAULT '{jobs,marketplace,property}'
        CHECK (pg_catalog.array_position(domains, NULL) IS NULL),
    -- Domains that are never routed, whatever else says.
    protected_domains text[] NOT NULL DEFAULT '{mobility,profile,insurance}'
        CHECK (pg_catalog.array_position(protected_domains, NULL) IS NULL),
    -- Per-domain overrides, e.g. {"jobs": 25.00}; a domain without one follows the global value.
    domain_percentages jsonb NOT NULL DEFAULT '{}'
        CHECK (@extschema@.webhook_routing_valid_percentages(domain_percentages)),
    -- Per-domain switches, e.g. {"property": false}; the global switch must be on as well.
    domain_enabled jsonb NOT NULL DEFAULT '{}'
        CHECK (@extschema@.webhook_routing_valid_switches(domain_enabled)),
    -- What the change was: install, set_percentage, set_enabled, set_domains.
    action text NOT NULL DEFAULT 'manual',
    reason text,
    changed_by text NOT NULL DEFAULT current_user,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    -- The staged rollout that made the change, and what it saw, machine-readable (advance_rollouts).
    rollout_id bigint,
    detail jsonb,
    -- Testers first: per domain, routing keys that go to unified before the percentage applies
    -- (set_routing_testers); and those that never do (set_routing_denied), which wins.
    testers jsonb NOT NULL DEFAULT '{}'
        CHECK (@extschema@.webhook_routing_valid_lists(testers)),
    denied jsonb NOT NULL DEFAULT '{}'
        CHECK (@extschema@.webhook_routing_valid_lists(denied)),
    CHECK (NOT (domains OPERATOR(pg_catalog.&&) protected_domains))
);

CREATE INDEX webhook_routing_config_created_at_idx ON webhook_routing_config (created_at DESC, id DESC);

INSERT INTO webhook_routing_config (percentage, enabled, action, reason)
VALUES (0, false, 'install', 'extension installed: 0%, disabled');

-- What route_decision returns: one row.
CREATE TYPE routing_decision AS (
    decision_id bigint,
    domain text,
    routed_to text,
    reason text,
    bucket integer,
    percentage numeric,
    config_id bigint
);

-- One row per routing decision (route_decision), or per request logged by other means.
-- Partitioned by UTC day of created_at, so that retention drops whole days instead of deleting
-- rows (prune_routing_logs); create_routing_log_partitions() makes the days ahead, and rows
-- of a day without a partition wait in the default partition until it is made.
CREATE TABLE webhook_routing_logs (
    id bigint NOT NULL DEFAULT pg_catalog.nextval('@extschema@.webhook_routing_logs_id_seq'::pg_catalog.regclass),
    webhook_name text,
    domain text,
    -- unified, legacy or error. This column's values, status's, bucket's, retries' and the
    -- latency's are held by the log's BEFORE row trigger (src/route/log_policy.rs), enabled ALWAYS,
    -- for every writer: rather than by CHECK constraints, which Postgres reads back from their
    -- text and prepares again for every statement that writes the table (151,000 of a logged
    -- decision's 323,000 instructions for its INSERT).
    routed_to text NOT NULL,
    -- Milliseconds, from 0 to one day, kept to the microsecond (0.001 ms): NaN, infinities and
    -- longer times are not latencies, and more decimals would only take room (refused with a
    -- reason, more decimals rounded).
    response_time_ms numeric,
    -- pending: decided, outcome not reported yet (see webhook_routing.pending_timeout); then
    -- success or error.
    status text NOT NULL DEFAULT 'pending',
    error_message text,
    -- What explains the decision.
    reason text,
    -- 0 to 9999 (src/core/bucket.rs).
    bucket integer,
    percentage numeric(5,2),
    config_id bigint,
    rule_id bigint,
    message_id text,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    completed_at timestamptz,
    -- The sender's keyed hash (src/route/history.rs) and the decision that opened the
    -- conversation this one belongs to; written by route_decision alone.
    sender_key bigint,
    conversation_id bigint,
    -- How many times WhatsApp re-delivered the message and got this decision back.
    retries integer NOT NULL DEFAULT 0,
    -- The decision's session so far, for the sender's next decision (src/route/session.rs): the
    -- session's domain where it is not this row's own, and the minutes of its first break,
    -- deliberate move and switch (NULL for nearly every row). Written by route_decision alone.
    session_domain text,
    session_broken_at timestamptz,
    session_deliberate_at timestamptz,
    session_switched_at timestamptz
) PARTITION BY RANGE (created_at);

CREATE TABLE webhook_routing_logs_default PARTITION OF webhook_routing_logs DEFAULT;

-- Each partition has its own indexes, none is the parent's: the primary key (id, created_at),
-- and the decisions still waiting for their outcome, which stats and health count from the log
-- (everything else comes from sketches). A partitioned index would make pg_dump attach the
-- partitions before their indexes exist, so that a restore made each index twice and failed
-- (pg_restore -1 stopped at the first). make_day makes a day's (sql/retention.sql).
--
-- There is no plain index on created_at: a time window is found by partition (a day), and an
-- outcome's UPDATE, which names its day's bounds to prune partitions, must always find its row
-- by the primary key; with a fresh day's stale statistics the planner took a created_at index
-- and read the whole day (0.13 ms became 8 ms).
ALTER TABLE webhook_routing_logs_default ADD PRIMARY KEY (id, created_at);
CREATE INDEX webhook_routing_logs_default_pending_idx ON webhook_routing_logs_default (created_at)
    WHERE status OPERATOR(pg_catalog.=) 'pending';
-- A sender's decisions, newest last (the conversation in progress), and by message id
-- (re-deliveries): each an exact probe, whatever a sender sends (src/route/history.rs). Each
-- predicate holds for one probe only, so that no plan can take the other index and filter
-- every row of the sender (a generic plan made on an empty log did: 3.5 million instructions
-- a decision for a sender with 2,000 rows).
CREATE INDEX webhook_routing_logs_default_sender_idx ON webhook_routing_logs_default (sender_key, created_at, id)
    WHERE sender_key IS NOT NULL AND routed_to OPERATOR(pg_catalog.<>) 'error';
CREATE INDEX webhook_routing_logs_default_message_idx ON webhook_routing_logs_default (sender_key, message_id, created_at, id)
    WHERE sender_key IS NOT NULL AND message_id IS NOT NULL;

-- The key of the senders' hashes in the log: made at install, read by the extension as the
-- owner of its tables, by no other role. Not dumped: a restore makes a new one, and the
-- conversations in progress start again.
CREATE TABLE webhook_routing_secret (
    key uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid()
);
INSERT INTO webhook_routing_secret DEFAULT VALUES;

-- Outcomes per minute, domain, target and writing backend: counts and a latency sketch
-- (DDSketch, DataDog binary encoding; see src/stats/sketch.rs). Maintained by triggers on the log.
CREATE TABLE webhook_routing_sketches (
    minute timestamptz NOT NULL,
    domain text,
    routed_to text NOT NULL,
    -- The PGPROC number of the backend that wrote: concurrent writers never share a row.
    shard integer NOT NULL,
    -- Decisions whose outcome landed, and how many of them were errors.
    completed bigint NOT NULL DEFAULT 0,
    errors bigint NOT NULL DEFAULT 0,
    -- Their response times (ms), those that had one.
    latency bytea,
    -- For the sample-ratio check (src/stats/sketch.rs, Split): the outcomes of decisions made by the
    -- percentage split, the sum of p over them (p the unified share then), and the set of
    -- their buckets (a bitmap of 10,000 bits).
    split_n bigint NOT NULL DEFAULT 0,
    split_expected double precision NOT NULL DEFAULT 0,
    split_buckets bytea,
    -- The percentage those split decisions were made at (NULL on the row of the minute's other
    -- outcomes): a percentage change inside the minute starts a row of its own.
    split_at numeric(5,2),
    UNIQUE NULLS NOT DISTINCT (minute, domain, routed_to, shard, split_at)
) WITH (fillfactor = 50);

-- Sessions per minute, domain and writing backend (src/route/session.rs), counted when the decisions
-- that make them are logged: sessions in the minute their domain became known, and the first
-- break, deliberate move and switch of each in their minutes (a break takes a session back
-- from deliberate and switched, in the minute it was counted there). Written by the log's
-- statement trigger as the owner; routing_sessions and the session_breaks check sum them.
CREATE TABLE webhook_routing_session_minutes (
    minute timestamptz NOT NULL,
    domain text NOT NULL,
    -- The PGPROC number of the backend that wrote: concurrent writers never share a row.
    shard integer NOT NULL,
    sessions bigint NOT NULL DEFAULT 0,
    broken bigint NOT NULL DEFAULT 0,
    deliberate bigint NOT NULL DEFAULT 0,
    switched bigint NOT NULL DEFAULT 0,
    UNIQUE (minute, domain, shard)
) WITH (fillfactor = 50);

-- How a domain is found in a message. See src/core/detect.rs for the matching rules.
CREATE TABLE webhook_routing_rules (
    id bigint NOT NULL DEFAULT pg_catalog.nextval('@extschema@.webhook_routing_rules_id_seq'::pg_catalog.regclass) PRIMARY KEY,
    domain text NOT NULL CHECK (domain OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_]{0,62}$'),
    match_kind text NOT NULL
        CHECK (match_kind OPERATOR(pg_catalog.=) ANY (ARRAY['keyword', 'id_prefix', 'message_type'])),
    pattern text NOT NULL
        CHECK (pg_catalog.length(pg_catalog.btrim(pattern)) OPERATOR(pg_catalog.>=) 1
               AND pg_catalog.length(pg_catalog.btrim(pattern)) OPERATOR(pg_catalog.<=) 200),
    -- Breaks a tie between two domains' scores: the domain whose best rule has the lower
    -- priority wins.
    priority integer NOT NULL DEFAULT 100,
    -- match: adds its points to its domain; weak: counts only when no match rule matched;
    -- exclude: takes back the points of its domain's matches that overlap it.
    effect text NOT NULL DEFAULT 'match'
        CHECK (effect OPERATOR(pg_catalog.=) ANY (ARRAY['match', 'weak', 'exclude'])),
    -- The points of a match; NULL: by the pattern's shape (id prefix 8, message type 4, a
    -- phrase 3, a word 2, a stem or a root 1.5). See src/core/detect.rs.
    weight real CHECK (weight OPERATOR(pg_catalog.>) 0 AND weight OPERATOR(pg_catalog.<=) 100),
    -- The language of the pattern (ISO 639-1: en, fr, rw, sw), NULL for ids and types; for
    -- operators to filter on, detection reads every language.
    language text CHECK (language OPERATOR(pg_catalog.~) '^[a-z]{2,3}$'),
    enabled boolean NOT NULL DEFAULT true,
    note text,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- Written by the install script (edited or not), rather than added by an operator. A seeded
    -- row can be disabled but not deleted, and a restore replaces it with its dumped self.
    seeded boolean NOT NULL DEFAULT false,
    UNIQUE (match_kind, pattern, domain),
    CHECK (match_kind OPERATOR(pg_catalog.<>) 'keyword' OR pattern OPERATOR(pg_catalog.~) '[[:alnum:]]')
);

-- The seeded rules: sql/seed_rules.sql.

-- The catalogue of health checks: what each check measures in (unit), its default levels and
-- action, and the actions it may take. Its one list is src/stats/verdict.rs (Check): the rows come
-- from webhook_routing_health_catalogue() (sql/stats_health.sql fills them, and the update
-- scripts bring them to what the library knows), so no script spells the checks out; the
-- thresholds refer to it. Not dumped: CREATE EXTENSION writes it before a restore's rows.
CREATE TABLE webhook_routing_health_checks (
    check_name text PRIMARY KEY,
    unit text NOT NULL,
    warning numeric NOT NULL,
    critical numeric NOT NULL,
    action text NOT NULL
);
CREATE TABLE webhook_routing_health_check_actions (
    check_name text NOT NULL REFERENCES webhook_routing_health_checks,
    action text NOT NULL,
    PRIMARY KEY (check_name, action)
);

-- Health thresholds; a row with a domain overrides the default (domain NULL) for that domain.
-- The default rows are the catalogue's levels, seeded by sql/stats_health.sql.
CREATE TABLE webhook_routing_thresholds (
    domain text CHECK (domain OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_]{0,62}$'),
    check_name text NOT NULL,
    warning numeric NOT NULL CHECK (warning OPERATOR(pg_catalog.>=) 0),
    critical numeric NOT NULL,
    -- No verdict below this many samples: insufficient_data.
    min_samples integer NOT NULL DEFAULT 100 CHECK (min_samples OPERATOR(pg_catalog.>) 0),
    -- Written by the install script (the defaults, edited or not); see webhook_routing_rules.
    seeded boolean NOT NULL DEFAULT false,
    -- What a fail does to a plan (advance_rollouts): rollback, hold (no advance), or warn
    -- (reported, nothing done); the catalogue says which a check may take (the sample ratio
    -- holds or warns, never rolls back). Left out: the check's default, written by the
    -- validate trigger.
    action text NOT NULL,
    -- Dry run: the check is tested and reported, with what its action would have done, and acts
    -- on nothing (a new bar tried before it counts).
    dry_run boolean NOT NULL DEFAULT false,
    CHECK (critical OPERATOR(pg_catalog.>=) warning),
    UNIQUE NULLS NOT DISTINCT (domain, check_name),
    CONSTRAINT webhook_routing_thresholds_check_action_fkey
        FOREIGN KEY (check_name, action) REFERENCES webhook_routing_health_check_actions
);

-- What pg_dump keeps, so that a restore gives back the rollout as it was: every row of the
-- config history, the rules and the thresholds, the plans (sql/rollouts.sql), the log, the
-- sketches and the session counts, and where the id sequences stand. CREATE EXTENSION writes
-- the install row, the seeded rules and the default thresholds again before the dumped rows
-- come back; each dumped row of those replaces its fresh copy (triggers in
-- sql/triggers.sql), so the history's install row keeps its time and the rules and
-- thresholds their edits. (Restored log rows count no session again: route_decision alone
-- counts them, when it logs a decision.)
SELECT pg_catalog.pg_extension_config_dump('webhook_routing_config', '');
SELECT pg_catalog.pg_extension_config_dump('webhook_routing_rules', '');
SELECT pg_catalog.pg_extension_config_dump('webhook_routing_thresholds', '');
SELECT pg_catalog.pg_extension_config_dump('webhook_routing_config_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('webhook_routing_rules_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('webhook_routing_logs_id_seq', '');
-- Day partitions are made after installation, so pg_dump dumps them (and their rows) as it
-- dumps any table; the default partition is the extension's own.
SELECT pg_catalog.pg_extension_config_dump('webhook_routing_logs_default', '');
SELECT pg_catalog.pg_extension_config_dump('webhook_routing_sketches', '');
SELECT pg_catalog.pg_extension_config_dump('webhook_routing_session_minutes', '');
