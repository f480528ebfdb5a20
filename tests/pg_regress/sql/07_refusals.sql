-- Every bad call an operator or a webhook function can make: each is refused with a SQLSTATE,
-- a message and a hint, and leaves the config history, the rules, the thresholds and the log
-- as they were.
CREATE EXTENSION webhook_routing;
SELECT set_routing_enabled(true, 'refusal test') > 1 AS appended;
SELECT decision_id AS decision FROM route_decision('{"entry":[{"changes":[{"value":{"messages":[{"from":"250788000001","type":"text","text":{"body":"any job?"}}]}}]}]}') \gset
SELECT record_routing_outcome(:decision, 'success', 100);

-- Runs one call; says what it raised.
CREATE FUNCTION try(call text, OUT state text, OUT message text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE call;
    state := 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
END $$;

CREATE TEMP TABLE calls (n serial, call text NOT NULL);
INSERT INTO calls (call) VALUES
    -- percentages
    ($$SELECT update_routing_percentage(NULL)$$),
    ($$SELECT update_routing_percentage(-1)$$),
    ($$SELECT update_routing_percentage(-0.01)$$),
    ($$SELECT update_routing_percentage(100.01)$$),
    ($$SELECT update_routing_percentage(1000)$$),
    ($$SELECT update_routing_percentage('NaN')$$),
    ($$SELECT update_routing_percentage('Infinity')$$),
    ($$SELECT update_routing_percentage('-Infinity')$$),
    ($$SELECT update_routing_percentage(12.345)$$),
    ($$SELECT update_routing_percentage(10, repeat('x', 1001))$$),
    ($$SELECT update_routing_percentage(10, 'protected', 'mobility')$$),
    ($$SELECT update_routing_percentage(10, 'protected', 'insurance')$$),
    ($$SELECT update_routing_percentage(10, 'unknown', 'nosuch')$$),
    ($$SELECT update_routing_percentage(10, 'empty', '')$$),
    ($$SELECT update_routing_percentage(10, 'case', 'Jobs')$$),
    -- switches
    ($$SELECT set_routing_enabled(NULL)$$),
    ($$SELECT set_routing_enabled(true, 'protected', 'profile')$$),
    ($$SELECT set_routing_enabled(true, 'unknown', 'nosuch')$$),
    ($$SELECT set_routing_enabled(false, repeat('x', 1001))$$),
    -- routable domains
    ($$SELECT set_routing_domains(NULL)$$),
    ($$SELECT set_routing_domains(ARRAY['jobs', NULL])$$),
    ($$SELECT set_routing_domains(ARRAY['jobs', 'profile'])$$),
    ($$SELECT set_routing_domains(ARRAY['jobs', 'jobs'])$$),
    ($$SELECT set_routing_domains(ARRAY['Jobs'])$$),
    ($$SELECT set_routing_domains(ARRAY['real-estate'])$$),
    ($$SELECT set_routing_domains(ARRAY[repeat('a', 64)])$$),
    ($$SELECT set_routing_domains(ARRAY['jobs'], repeat('x', 1001))$$),
    -- outcomes
    ($$SELECT record_routing_outcome(NULL, 'success', 1)$$),
    ($$SELECT record_routing_outcome(1, NULL, 1)$$),
    ($$SELECT record_routing_outcome(1, 'ok', 1)$$),
    ($$SELECT record_routing_outcome(1, 'success', -1)$$),
    ($$SELECT record_routing_outcome(1, 'success', 'NaN')$$),
    ($$SELECT record_routing_outcome(1, 'success', 'Infinity')$$),
    ($$SELECT record_routing_outcome(1, 'error', 1, repeat('x', 100000))$$),
    ($$SELECT record_routing_outcome(999999, 'success', 1)$$),
    ($$SELECT record_routing_outcome(1, 'error', 1)$$),
    -- rules
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('jobs', 'keyword', '   ')$$),
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('jobs', 'keyword', NULL)$$),
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('jobs', 'keyword', '?!*')$$),
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('jobs', 'keyword', '*job')$$),
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('jobs', 'keyword', 'jo.*bs')$$),
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('jobs', 'keyword', repeat('x', 201))$$),
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('jobs', 'regex', 'jobs?')$$),
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('Jobs!', 'keyword', 'gig')$$),
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES (NULL, 'keyword', 'gig')$$),
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('jobs', 'message_type', 'voice_note')$$),
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('jobs', 'id_prefix', 'jobs post')$$),
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('jobs', 'keyword', 'job*')$$),
    ($$UPDATE webhook_routing_rules SET pattern = '' WHERE domain = 'jobs'$$),
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('jobs', 'keyword', '*ab*')$$),
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('jobs', 'keyword', '*two words*')$$),
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern, effect) VALUES ('jobs', 'keyword', 'gig', 'strong')$$),
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern, effect) VALUES ('jobs', 'keyword', 'gig', NULL)$$),
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern, weight) VALUES ('jobs', 'keyword', 'gig', 0)$$),
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern, weight) VALUES ('jobs', 'keyword', 'gig', 101)$$),
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern, weight) VALUES ('jobs', 'keyword', 'gig', 'NaN')$$),
    ($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern, language) VALUES ('jobs', 'keyword', 'gig', 'English')$$),
    ($$UPDATE webhook_routing_rules SET weight = -1 WHERE domain = 'jobs'$$),
    -- thresholds
    ($$INSERT INTO webhook_routing_thresholds (domain, check_name, warning, critical) VALUES ('jobs', 'p99_latency', 1, 2)$$),
    ($$INSERT INTO webhook_routing_thresholds (domain, check_name, warning, critical) VALUES ('jobs', 'error_rate', -1, 2)$$),
    ($$INSERT INTO webhook_routing_thresholds (domain, check_name, warning, critical) VALUES ('jobs', 'error_rate', 0.5, 0.1)$$),
    ($$INSERT INTO webhook_routing_thresholds (domain, check_name, warning, critical) VALUES ('jobs', 'error_rate', 'NaN', 1)$$),
    ($$INSERT INTO webhook_routing_thresholds (domain, check_name, warning, critical) VALUES ('jobs', 'error_rate', NULL, 1)$$),
    ($$INSERT INTO webhook_routing_thresholds (domain, check_name, warning, critical, min_samples) VALUES ('jobs', 'error_rate', 0.1, 1, 0)$$),
    ($$INSERT INTO webhook_routing_thresholds (domain, check_name, warning, critical) VALUES ('Jobs', 'error_rate', 0.1, 1)$$),
    ($$UPDATE webhook_routing_thresholds SET critical = 0 WHERE check_name = 'p95_latency'$$),
    ($$INSERT INTO webhook_routing_thresholds (domain, check_name, warning, critical, action) VALUES ('jobs', 'error_rate', 0.1, 1, 'page')$$),
    ($$UPDATE webhook_routing_thresholds SET action = 'rollback' WHERE check_name = 'sample_ratio'$$),
    ($$INSERT INTO webhook_routing_thresholds (domain, check_name, warning, critical) VALUES ('jobs', 'error_rate', 1e-400, 1)$$),
    ($$INSERT INTO webhook_routing_thresholds (domain, check_name, warning, critical) VALUES ('jobs', 'error_rate', 0.1, 'Infinity')$$),
    -- a sender's number in a national format, or longer than any: WhatsApp never sends one
    ($$SELECT set_routing_denied('jobs', ARRAY['0788 123 456'])$$),
    ($$SELECT set_routing_testers('jobs', ARRAY['+250 788 123 456 789 0'])$$),
    -- a check's verdict, from counts
    ($$SELECT * FROM webhook_routing_judge('p99_latency', 1, 100, 100, 1, 100, NULL, NULL, NULL)$$),
    ($$SELECT * FROM webhook_routing_judge(NULL, 1, 100, 100, 1, 100, NULL, NULL, NULL)$$),
    -- the default thresholds gate every rollout: they are changed, never removed
    ($$DELETE FROM webhook_routing_thresholds WHERE check_name = 'error_rate'$$),
    ($$UPDATE webhook_routing_thresholds SET domain = 'jobs' WHERE domain IS NULL AND check_name = 'error_rate'$$),
    ($$UPDATE webhook_routing_thresholds SET check_name = 'sample_ratio' WHERE domain IS NULL AND check_name = 'error_rate'$$),
    ($$TRUNCATE webhook_routing_thresholds$$),
    -- windows of stats and health
    ($$SELECT * FROM routing_stats(NULL)$$),
    ($$SELECT * FROM check_routing_health(NULL)$$),
    ($$SELECT * FROM routing_stats('-1 hour')$$),
    ($$SELECT * FROM routing_stats('0 seconds')$$),
    ($$SELECT * FROM check_routing_health('1000000 years')$$),
    -- retention
    ($$SELECT prune_routing_logs('-2 mon +61 days')$$),
    ($$SELECT prune_routing_logs('23 hours 59 minutes')$$),
    ($$SELECT prune_routing_logs('1000000 years')$$);

CREATE TEMP TABLE state_before AS
SELECT (SELECT count(*) FROM webhook_routing_config) AS config_rows,
       (SELECT max(id) FROM webhook_routing_config) AS config_newest,
       (SELECT md5(string_agg(r::text, ',' ORDER BY id)) FROM webhook_routing_rules r) AS rules,
       (SELECT md5(string_agg(t::text, ',' ORDER BY check_name, domain)) FROM webhook_routing_thresholds t) AS thresholds,
       (SELECT md5(string_agg(l::text, ',' ORDER BY id)) FROM webhook_routing_logs l) AS logs;

CREATE TEMP TABLE refusals AS SELECT c.n, c.call, t.* FROM calls c, LATERAL try(c.call) t;

\pset format unaligned
\pset fieldsep ' | '
SELECT n, state, message, hint FROM refusals ORDER BY n;
\pset format aligned

-- Nothing accepted, every refusal with a hint, nothing changed.
SELECT count(*) AS calls,
       count(*) FILTER (WHERE state = 'accepted') AS accepted,
       count(*) FILTER (WHERE hint IS NULL OR hint = '') AS without_hint,
       count(*) FILTER (WHERE state LIKE 'XX%' OR state LIKE '42%') AS internal_or_syntax
FROM refusals;
SELECT s.config_rows = b.config_rows AND s.config_newest = b.config_newest AS history_unchanged,
       s.rules = b.rules AS rules_unchanged, s.thresholds = b.thresholds AS thresholds_unchanged,
       s.logs = b.logs AS log_unchanged
FROM state_before b,
     LATERAL (SELECT (SELECT count(*) FROM webhook_routing_config) AS config_rows,
                     (SELECT max(id) FROM webhook_routing_config) AS config_newest,
                     (SELECT md5(string_agg(r::text, ',' ORDER BY id)) FROM webhook_routing_rules r) AS rules,
                     (SELECT md5(string_agg(t::text, ',' ORDER BY check_name, domain)) FROM webhook_routing_thresholds t) AS thresholds,
                     (SELECT md5(string_agg(l::text, ',' ORDER BY id)) FROM webhook_routing_logs l) AS logs) s;

-- The same calls, made well, are accepted.
SELECT state FROM try($$INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('jobs', 'keyword', 'gig*')$$);
SELECT state FROM try($$INSERT INTO webhook_routing_thresholds (domain, check_name, warning, critical) VALUES ('jobs', 'error_rate', 0.2, 1)$$);
SELECT state FROM try($$SELECT update_routing_percentage(12.5, 'fine', 'jobs')$$);

DROP FUNCTION try;
DROP EXTENSION webhook_routing;
