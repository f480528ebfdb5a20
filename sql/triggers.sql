-- Every backend caches the config in force and the compiled rules (src/pg/config_cache.rs). Any change
-- to these tables, by the admin functions or by hand, invalidates those caches at commit.
CREATE TRIGGER webhook_routing_config_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON webhook_routing_config
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.webhook_routing_invalidate_cache();

CREATE TRIGGER webhook_routing_rules_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON webhook_routing_rules
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.webhook_routing_invalidate_cache();

-- Every outcome is added to its minute's latency sketch in the transaction that writes it
-- (src/stats/sketch.rs): the row triggers collect, the statement trigger writes once per minute,
-- domain and target. A pending decision is filtered out by the WHEN clauses, before any call.
CREATE TRIGGER webhook_routing_logs_outcome_inserted
    AFTER INSERT ON webhook_routing_logs
    FOR EACH ROW WHEN (NEW.status OPERATOR(pg_catalog.<>) 'pending')
    EXECUTE FUNCTION @extschema@.webhook_routing_logs_to_sketch();

CREATE TRIGGER webhook_routing_logs_outcome_reported
    AFTER UPDATE OF status ON webhook_routing_logs
    FOR EACH ROW WHEN (OLD.status OPERATOR(pg_catalog.=) 'pending' AND NEW.status OPERATOR(pg_catalog.<>) 'pending')
    EXECUTE FUNCTION @extschema@.webhook_routing_logs_to_sketch();

CREATE TRIGGER webhook_routing_logs_write_sketches
    AFTER INSERT OR UPDATE ON webhook_routing_logs
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.webhook_routing_logs_flush_sketches();

-- What a caller may write to the log (src/route/log_policy.rs): rows of now, outcomes of pending
-- decisions only. The row level security policies say the same; this holds for the roles
-- that bypass them too (Supabase's postgres and service_role). And for every writer, what
-- the log's columns may hold (a target, a status, a bucket, retries, a latency). Enabled
-- ALWAYS: it holds under session_replication_role = replica as well (its partitions' copies
-- are made so too).
CREATE TRIGGER webhook_routing_logs_caller_limits
    BEFORE INSERT OR UPDATE ON webhook_routing_logs
    FOR EACH ROW EXECUTE FUNCTION @extschema@.webhook_routing_logs_caller_limits();
ALTER TABLE webhook_routing_logs ENABLE ALWAYS TRIGGER webhook_routing_logs_caller_limits;

-- TRUNCATE of the log empties the sketches and the session counts too, so that stats and
-- sessions never count what is gone.
CREATE FUNCTION webhook_routing_logs_truncated() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    TRUNCATE @extschema@.webhook_routing_sketches, @extschema@.webhook_routing_session_minutes;
    RETURN NULL;
END $$;

CREATE TRIGGER webhook_routing_logs_truncate_sketches
    AFTER TRUNCATE ON webhook_routing_logs
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.webhook_routing_logs_truncated();

-- Rules and thresholds are edited by hand (by webhook_routing_admin): a bad row is refused
-- before it is written, with what is wrong and how to fix it. The table constraints stay as
-- the last line of defence.
CREATE FUNCTION webhook_routing_rules_validate() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pattern text := btrim(NEW.pattern);
    types text[] := ARRAY['text', 'image', 'audio', 'video', 'document', 'sticker', 'location',
                          'contacts', 'interactive', 'button', 'order', 'reaction', 'system',
                          'request_welcome', 'unsupported', 'unknown'];
    existing bigint;
BEGIN
    IF NEW.domain IS NULL OR NEW.match_kind IS NULL OR NEW.pattern IS NULL THEN
        RAISE EXCEPTION 'a rule needs a domain, a match_kind and a pattern'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'E.g. (domain, match_kind, pattern) = (''jobs'', ''keyword'', ''job*'').';
    END IF;
    IF NEW.domain !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid rule domain "%"', NEW.domain
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A domain name has lowercase letters, digits and underscores, starts with a letter, and has at most 63 characters.',
                  HINT = 'Use the domain names of the routing config, e.g. jobs or ai_agents.';
    END IF;
    IF NEW.match_kind NOT IN ('keyword', 'id_prefix', 'message_type') THEN
        RAISE EXCEPTION 'invalid match_kind "%"', NEW.match_kind
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'match_kind is keyword, id_prefix or message_type.';
    END IF;
    IF pattern = '' THEN
        RAISE EXCEPTION 'empty rule pattern'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give the word, phrase, id prefix or message type to match.';
    END IF;
    IF length(pattern) > 200 THEN
        RAISE EXCEPTION 'rule pattern is too long'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('It has %s characters; at most 200 are allowed.', length(pattern)),
                  HINT = 'Match on a shorter word or phrase.';
    END IF;
    IF NEW.match_kind = 'keyword' THEN
        IF pattern !~ '[[:alnum:]]' THEN
            RAISE EXCEPTION 'keyword pattern "%" has no letters or digits', pattern
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'Keywords match whole words of the message text; punctuation is ignored.',
                      HINT = 'Use words, e.g. ''looking for work'', or a stem, e.g. ''job*''.';
        END IF;
        IF pattern ~ '\*.' AND pattern !~ '^\*[^*[:space:]]+\*$' THEN
            RAISE EXCEPTION 'keyword pattern "%" has a * before its end', pattern
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'A * may end a pattern, where it makes the last word a stem, or enclose one word, which then matches inside words.',
                      HINT = 'Write ''job*'' to match job, jobs and jobseeker, or ''*kodesh*'' to match gukodesha and ndakodesha; patterns are not regular expressions.';
        END IF;
        IF pattern ~ '^\*' AND length(pattern) < 5 THEN
            RAISE EXCEPTION 'root pattern "%" is too short', pattern
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'A root (*...*) matches inside any word; under three letters it matches almost every message.',
                      HINT = 'Use a root of three letters or more, e.g. ''*kodesh*''.';
        END IF;
    ELSIF NEW.match_kind = 'message_type' AND NOT (lower(pattern) = ANY (types)) THEN
        RAISE EXCEPTION 'unknown message type "%"', pattern
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('WhatsApp message types: %s.', array_to_string(types, ', ')),
                  HINT = 'Use one of the message types WhatsApp sends.';
    ELSIF NEW.match_kind = 'id_prefix' AND pattern ~ '\s' THEN
        RAISE EXCEPTION 'id prefix "%" has a space', pattern
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Interactive reply ids and button payloads have no spaces.',
                  HINT = 'Use the start of the ids your templates send, e.g. jobs_.';
    END IF;
    IF NEW.effect IS NULL OR NEW.effect NOT IN ('match', 'weak', 'exclude') THEN
        RAISE EXCEPTION 'invalid rule effect "%"', NEW.effect
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'match adds points to the domain; weak counts only when no match rule matched; exclude takes back the domain''s points where it matches.',
                  HINT = 'effect is match, weak or exclude.';
    END IF;
    IF NEW.weight IS NOT NULL AND NOT (NEW.weight > 0 AND NEW.weight <= 100) THEN
        RAISE EXCEPTION 'invalid rule weight %', NEW.weight
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A weight is the points of a match: more than 0, at most 100.',
                  HINT = 'Leave it NULL for the default of the pattern''s shape (a word 2, a phrase 3, an id prefix 8).';
    END IF;
    IF NEW.language IS NOT NULL AND NEW.language !~ '^[a-z]{2,3}$' THEN
        RAISE EXCEPTION 'invalid rule language "%"', NEW.language
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use an ISO 639 code in lowercase: en, fr, rw, sw.';
    END IF;
    SELECT r.id INTO existing FROM @extschema@.webhook_routing_rules AS r
    WHERE r.match_kind = NEW.match_kind AND r.pattern = NEW.pattern AND r.domain = NEW.domain
      AND r.id <> NEW.id;
    IF FOUND THEN
        RAISE EXCEPTION 'rule % already matches % "%" to %', existing, NEW.match_kind, NEW.pattern, NEW.domain
            USING ERRCODE = 'unique_violation',
                  HINT = pg_catalog.format('Update rule %s instead, e.g. its priority or enabled.', existing);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER webhook_routing_rules_validate
    BEFORE INSERT OR UPDATE ON webhook_routing_rules
    FOR EACH ROW EXECUTE FUNCTION @extschema@.webhook_routing_rules_validate();

CREATE FUNCTION webhook_routing_thresholds_validate() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    default_action text;
    known text;
BEGIN
    IF NEW.domain IS NOT NULL AND NEW.domain !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid threshold domain "%"', NEW.domain
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use a domain name, e.g. jobs, or NULL for the default of every domain.';
    END IF;
    -- The checks and what each may do are the catalogue's (sql/bootstrap.sql, src/stats/verdict.rs).
    SELECT c.action INTO default_action
    FROM @extschema@.webhook_routing_health_checks AS c
    WHERE c.check_name = NEW.check_name;
    IF NOT FOUND THEN
        SELECT pg_catalog.regexp_replace(pg_catalog.string_agg(pg_catalog.format('%s (%s)', c.check_name, c.unit),
                                                               ', ' ORDER BY c.check_name), ', ([^,]*)$', ' or \1')
        INTO known
        FROM @extschema@.webhook_routing_health_checks AS c;
        RAISE EXCEPTION 'unknown health check "%"', coalesce(NEW.check_name, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = pg_catalog.format('check_name is %s.', known);
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
    IF NEW.warning IN ('Infinity', '-Infinity') OR NEW.critical IN ('Infinity', '-Infinity')
       OR NEW.warning <> pg_catalog.round(NEW.warning, 6) OR NEW.critical <> pg_catalog.round(NEW.critical, 6) THEN
        RAISE EXCEPTION 'invalid levels for %: warning %, critical %', NEW.check_name,
                left(NEW.warning::text, 24), left(NEW.critical::text, 24)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A level is a finite number with at most six decimals.',
                  HINT = 'E.g. warning 0.1, critical 0.5 for error_rate (%); 2000, 3000 for p95_latency (ms).';
    END IF;
    IF NEW.min_samples IS NULL OR NEW.min_samples < 1 THEN
        RAISE EXCEPTION 'invalid min_samples %', coalesce(NEW.min_samples::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'min_samples is at least 1: the number of outcomes below which health says insufficient_data.';
    END IF;
    -- Left out, the action is the check's default (the sample ratio holds, the others roll back).
    NEW.action := coalesce(NEW.action, default_action);
    NEW.dry_run := coalesce(NEW.dry_run, false);
    IF NOT EXISTS (SELECT FROM @extschema@.webhook_routing_health_check_actions AS a
                   WHERE a.action = NEW.action) THEN
        SELECT pg_catalog.regexp_replace(pg_catalog.string_agg(DISTINCT a.action, ', ' ORDER BY a.action), ', ([^,]*)$', ' or \1')
        INTO known
        FROM @extschema@.webhook_routing_health_check_actions AS a;
        RAISE EXCEPTION 'invalid action "%" for %', coalesce(NEW.action, 'NULL'), NEW.check_name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = pg_catalog.format('A check''s action on a fail is %s (hold: no advance; warn: reported only).', known);
    END IF;
    IF NOT EXISTS (SELECT FROM @extschema@.webhook_routing_health_check_actions AS a
                   WHERE a.check_name = NEW.check_name AND a.action = NEW.action) THEN
        -- The sample ratio's: a skewed one says the callers or the log are wrong, not the
        -- unified handler.
        SELECT pg_catalog.regexp_replace(pg_catalog.string_agg(a.action, ', ' ORDER BY a.action), ', ([^,]*)$', ' or \1')
        INTO known
        FROM @extschema@.webhook_routing_health_check_actions AS a
        WHERE a.check_name = NEW.check_name;
        RAISE EXCEPTION 'the % check cannot take the action "%"', NEW.check_name, NEW.action
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = pg_catalog.format('Set its action to %s.', known);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER webhook_routing_thresholds_validate
    BEFORE INSERT OR UPDATE ON webhook_routing_thresholds
    FOR EACH ROW EXECUTE FUNCTION @extschema@.webhook_routing_thresholds_validate();

-- The default thresholds (domain NULL) are the gates every rollout reads: without one, its
-- check vanishes from health. Deleting one, moving it to a domain, or TRUNCATE is refused with
-- how to change its levels instead; a domain's own row may go (the default applies again).
CREATE FUNCTION webhook_routing_thresholds_keep_defaults() RETURNS trigger
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

CREATE TRIGGER webhook_routing_thresholds_keep_defaults
    BEFORE UPDATE OR DELETE ON webhook_routing_thresholds
    FOR EACH ROW EXECUTE FUNCTION @extschema@.webhook_routing_thresholds_keep_defaults();

CREATE TRIGGER webhook_routing_thresholds_no_truncate
    BEFORE TRUNCATE ON webhook_routing_thresholds
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.webhook_routing_thresholds_keep_defaults();

-- Restores. CREATE EXTENSION writes the install row of the history, the seeded rules and the
-- default thresholds; then pg_dump's rows come back, those among them too. Each takes the place
-- of its fresh copy instead of clashing with it: the history keeps its original install time,
-- and edits of the seeds (a rule disabled, a level changed) survive a dump and restore.
CREATE FUNCTION webhook_routing_config_restore() RETURNS trigger
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

CREATE TRIGGER webhook_routing_config_restore
    BEFORE INSERT ON webhook_routing_config
    FOR EACH ROW WHEN (NEW.action OPERATOR(pg_catalog.=) 'install')
    EXECUTE FUNCTION @extschema@.webhook_routing_config_restore();

CREATE FUNCTION webhook_routing_rules_restore() RETURNS trigger
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
        priority = NEW.priority, effect = NEW.effect, weight = NEW.weight, language = NEW.language,
        enabled = NEW.enabled, note = NEW.note, created_at = NEW.created_at
    WHERE r.id = fresh;
    RETURN NULL;
END $$;

CREATE TRIGGER webhook_routing_rules_restore
    BEFORE INSERT ON webhook_routing_rules
    FOR EACH ROW WHEN (NEW.seeded)
    EXECUTE FUNCTION @extschema@.webhook_routing_rules_restore();

CREATE FUNCTION webhook_routing_thresholds_restore() RETURNS trigger
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

CREATE TRIGGER webhook_routing_thresholds_restore
    BEFORE INSERT ON webhook_routing_thresholds
    FOR EACH ROW WHEN (NEW.seeded)
    EXECUTE FUNCTION @extschema@.webhook_routing_thresholds_restore();

-- A seeded rule is disabled, never deleted: deleted, it would come back with the next restore
-- (CREATE EXTENSION seeds it again, and the dump no longer has it to take its place).
CREATE FUNCTION webhook_routing_rules_keep_seeds() RETURNS trigger
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

CREATE TRIGGER webhook_routing_rules_keep_seeds
    BEFORE DELETE ON webhook_routing_rules
    FOR EACH ROW EXECUTE FUNCTION @extschema@.webhook_routing_rules_keep_seeds();

CREATE TRIGGER webhook_routing_rules_no_truncate
    BEFORE TRUNCATE ON webhook_routing_rules
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.webhook_routing_rules_keep_seeds();
