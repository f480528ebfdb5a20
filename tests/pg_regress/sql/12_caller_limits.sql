-- What the caller role (the webhook functions) can and cannot do to the rollout's health.
-- Health must follow the log rows a caller may write, and nothing else: a caller cannot edit
-- the sketches, cannot date rows elsewhere than now, and a stored sketch that does not decode
-- never makes a read raise.
CREATE EXTENSION webhook_routing;
CREATE ROLE wr_edge IN ROLE webhook_routing_caller;
CREATE ROLE wr_edge_other IN ROLE webhook_routing_caller;
SELECT set_routing_enabled(true, 'caller limits') > 1 AS appended;
SELECT update_routing_percentage(100, 'caller limits') > 1 AS appended;
\set jobs '{"entry":[{"changes":[{"value":{"messages":[{"from":"250788123456","type":"text","text":{"body":"any job?"}}]}}]}]}'

-- Runs one call; says what it raised.
CREATE FUNCTION try(call text, OUT state text, OUT message text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE call;
    state := 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
END $$;
GRANT EXECUTE ON FUNCTION try(text) TO PUBLIC;

-- The unified handler fails one request in five.
SET ROLE wr_edge;
SELECT count(record_routing_outcome(d.decision_id, CASE WHEN g % 5 = 0 THEN 'error' ELSE 'success' END, 400 + g))
       AS outcomes
FROM generate_series(1, 200) AS g, LATERAL route_decision(:'jobs', routing_key => g::text) AS d;
RESET ROLE;
SELECT check_name, value, status, recommendation FROM check_routing_health()
WHERE domain = 'jobs' AND routed_to = 'unified' AND check_name = 'error_rate';

-- The caller cannot forge health: no write to the sketches, no call of their merge functions,
-- no row dated in the future, the far past or outside the calendar. (The refused times change
-- with each run: they are shown as <time>.)
SET ROLE wr_edge;
SELECT t.state, regexp_replace(t.message, '^created_at .* is not', 'created_at <time> is not') AS message, t.hint
FROM (VALUES
    (1, $$UPDATE webhook_routing_sketches SET errors = 0$$),
    (2, $$INSERT INTO webhook_routing_sketches (minute, domain, routed_to, shard, completed)
          VALUES (date_trunc('minute', now()), 'jobs', 'unified', 9999, 1000000)$$),
    (3, $$DELETE FROM webhook_routing_sketches$$),
    (4, $$SELECT webhook_routing_sketch_merge(NULL, NULL)$$),
    (5, $$SELECT webhook_routing_bits_or(NULL, NULL)$$),
    (6, $$INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms, created_at)
          VALUES ('whatsapp', 'jobs', 'unified', 'success', 10, now() + interval '1 hour')$$),
    (7, $$INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms, created_at)
          VALUES ('whatsapp', 'jobs', 'unified', 'success', 10, now() - interval '1 day')$$),
    (8, $$INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms, created_at)
          VALUES ('whatsapp', 'jobs', 'unified', 'success', 10, 'infinity')$$),
    (9, $$INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms, created_at)
          VALUES ('whatsapp', 'jobs', 'unified', 'success', 10, '294276-12-31 23:59:59+00')$$),
    (10, $$INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms, created_at)
           VALUES ('whatsapp', 'jobs', 'unified', 'success', 10, '4713-01-01 00:00:00+00 BC')$$),
    -- A batch of fake successes dated in the future, to outweigh the errors of the next hours.
    (11, $$INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms, created_at)
           SELECT 'whatsapp', 'jobs', 'unified', 'success', 10, now() + interval '10 minutes' FROM generate_series(1, 1000)$$)
) AS c(n, call), LATERAL try(c.call) AS t ORDER BY c.n;
-- What a caller may log by hand: a request of now, give or take the drift of its clock.
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms)
VALUES ('whatsapp', 'jobs', 'unified', 'error', 500);
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms, created_at)
VALUES ('whatsapp', 'jobs', 'unified', 'error', 500, now() - interval '4 minutes'),
       ('whatsapp', 'jobs', 'unified', 'error', 500, clock_timestamp() + interval '4 minutes');
RESET ROLE;
-- The sketches are intact: 200 outcomes, 40 errors, and the three rows just logged.
SELECT domain, routed_to, sum(completed) AS completed, sum(errors) AS errors
FROM webhook_routing_sketches GROUP BY 1, 2 ORDER BY 1, 2;
SELECT check_name, status, recommendation FROM check_routing_health()
WHERE domain = 'jobs' AND routed_to = 'unified' AND check_name = 'error_rate';

-- Another caller's pending decision: any member of webhook_routing_caller may report its
-- outcome (decision ids are not secrets; give each webhook function its own role when that
-- matters). It cannot change a reported one, nor what was decided, nor when, nor delete it.
SET ROLE wr_edge;
SELECT decision_id AS pending FROM route_decision(:'jobs') \gset
SELECT decision_id AS reported FROM route_decision(:'jobs') \gset
SELECT record_routing_outcome(:reported, 'error', 800);
RESET ROLE;
SET ROLE wr_edge_other;
SELECT record_routing_outcome(:pending, 'success', 90);
SELECT t.state, t.message, t.hint FROM (VALUES
    (1, format($$SELECT record_routing_outcome(%s, 'success', 90)$$, :reported)),
    (2, format($$UPDATE webhook_routing_logs SET status = 'success' WHERE id = %s$$, :reported)),
    (3, format($$UPDATE webhook_routing_logs SET routed_to = 'legacy', domain = 'mobility' WHERE id = %s$$, :pending)),
    (4, format($$UPDATE webhook_routing_logs SET created_at = now() + interval '1 year' WHERE id = %s$$, :pending)),
    (5, format($$DELETE FROM webhook_routing_logs WHERE id = %s$$, :pending)),
    (6, $$TRUNCATE webhook_routing_logs$$)
) AS c(n, call), LATERAL try(c.call) AS t ORDER BY c.n;
-- An UPDATE of a reported decision finds no row to change (row level security).
UPDATE webhook_routing_logs SET status = 'success', error_message = 'forged' WHERE id = :reported;
RESET ROLE;
SELECT id = :pending AS is_pending_one, status, error_message FROM webhook_routing_logs
WHERE id IN (:pending, :reported) ORDER BY id;

-- A caller that bypasses row level security (Supabase's postgres and service_role are
-- BYPASSRLS) is held to the same limits: they are checked by a trigger too, which no role
-- attribute skips. It cannot date rows ahead or back, nor turn a reported outcome back to
-- pending or change it; it can still do what a caller does.
CREATE ROLE wr_service BYPASSRLS IN ROLE webhook_routing_caller;
SET ROLE wr_service;
SELECT t.state, regexp_replace(regexp_replace(t.message, '^created_at .* is not', 'created_at <time> is not'),
                               '^decision [0-9]+', 'decision <id>') AS message, t.hint
FROM (VALUES
    (1, $$INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms, created_at)
          SELECT 'whatsapp', 'jobs', 'unified', 'error', 10, now() + interval '1 year' FROM generate_series(1, 300)$$),
    (2, $$INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms, created_at)
          VALUES ('whatsapp', 'jobs', 'unified', 'success', 10, now() - interval '1 day')$$),
    (3, format($$UPDATE webhook_routing_logs SET status = 'pending' WHERE id = %s$$, :reported)),
    (4, format($$UPDATE webhook_routing_logs SET status = 'success', error_message = 'forged' WHERE id = %s$$, :reported)),
    (5, $$UPDATE webhook_routing_logs SET status = 'pending' WHERE status <> 'pending'$$),
    (6, format($$DELETE FROM webhook_routing_logs WHERE id = %s$$, :pending)),
    -- A row of its own under a decision's id: one outcome would complete both.
    (7, format($$INSERT INTO webhook_routing_logs (id, webhook_name, domain, routed_to, status) VALUES (%s, 'whatsapp', 'jobs', 'unified', 'pending')$$, :pending)),
    -- The setting that decides what a broken session is.
    (8, $$SET webhook_routing.conversation_timeout = 1$$),
    (9, $$SET webhook_routing.retry_window = 1$$)
) AS c(n, call), LATERAL try(c.call) AS t ORDER BY c.n;
SELECT decision_id AS service_pending FROM route_decision(:'jobs') \gset
SELECT record_routing_outcome(:service_pending, 'success', 70);
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms)
VALUES ('whatsapp', 'jobs', 'unified', 'success', 70);
RESET ROLE;
SELECT count(*) FILTER (WHERE created_at > now() + interval '5 minutes') AS dated_ahead,
       count(*) FILTER (WHERE status = 'pending' AND id <> :pending) AS pending_again,
       count(*) FILTER (WHERE error_message = 'forged') AS forged
FROM webhook_routing_logs;
SELECT id = :reported AS is_reported_one, status FROM webhook_routing_logs WHERE id IN (:reported, :service_pending) ORDER BY id;

-- A stored sketch that the decoder cannot read (written by a role that had the privilege, or
-- by hand): reads skip it with a warning and go on; the rest of the data still decides.
UPDATE webhook_routing_sketches SET latency = '\x02da031d63a618f03f0000000000000000090200ffffffff0f'::bytea
WHERE ctid = (SELECT ctid FROM webhook_routing_sketches WHERE domain = 'jobs' AND routed_to = 'unified' LIMIT 1);
SELECT domain, routed_to, requests, errors FROM routing_stats() WHERE domain = 'jobs' ORDER BY 1, 2;
SELECT check_name, status, recommendation FROM check_routing_health()
WHERE domain = 'jobs' AND routed_to = 'unified' AND check_name = 'error_rate';
SELECT start_rollout('jobs', '{100}', '0 seconds') > 0 AS started;
SELECT domain, verdict FROM advance_rollouts();

-- Rows the owner dates outside years 1 to 9999 (a restore, a backfill gone wrong) stay in the
-- default partition: making and pruning day partitions goes on, and no partition takes the
-- name of another day.
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, response_time_ms, created_at) VALUES
    ('whatsapp', 'jobs', 'legacy', 'success', 10, '294276-12-31 23:59:59+00'),
    ('whatsapp', 'jobs', 'legacy', 'success', 10, '4713-01-01 00:00:00+00 BC'),
    ('whatsapp', 'jobs', 'legacy', 'success', 10, '0001-01-01 00:00:00+00 BC'),
    ('whatsapp', 'jobs', 'legacy', 'success', 10, 'infinity'),
    ('whatsapp', 'jobs', 'legacy', 'success', 10, '-infinity'),
    ('whatsapp', 'jobs', 'legacy', 'success', 10, now() + interval '1 hour'),
    ('whatsapp', 'jobs', 'legacy', 'success', 10, now());
-- (Their NOTICEs name today's date.)
SET client_min_messages = warning;
SELECT create_routing_log_partitions(1) >= 2 AS made;
SELECT create_routing_log_partitions(1) AS made_again;
SELECT count(*) AS odd_partitions
FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
WHERE i.inhparent = 'webhook_routing_logs'::regclass
  AND c.relname <> 'webhook_routing_logs_default'
  AND to_date(right(c.relname, 8), 'YYYYMMDD') NOT BETWEEN current_date - 1 AND current_date + 2;
SELECT count(*) AS waiting_in_default FROM webhook_routing_logs_default;
SELECT prune_routing_logs('30 days') >= 3 AS pruned_the_old_ones;
RESET client_min_messages;
-- Rows dated ahead (here by the owner) count only from five minutes before their time: of the
-- legacy rows, only the one of now.
SELECT requests FROM routing_stats('1 hour') WHERE domain = 'jobs' AND routed_to = 'legacy';

-- What the log's columns may hold, for every writer: the caller, a role that bypasses row level
-- security, the owner, and the owner under session_replication_role = replica (a logical
-- replica's apply, a restore that sets it), where no ordinary trigger runs. Each refusal is the
-- log's trigger's (23514, with what may be written); nothing is written.
CREATE TABLE bad_values (n int, call text);
INSERT INTO bad_values VALUES
    (1, $$INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to) VALUES ('whatsapp', 'jobs', 'elsewhere')$$),
    (2, $$INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status) VALUES ('whatsapp', 'jobs', 'legacy', 'done')$$),
    (3, $$INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, bucket) VALUES ('whatsapp', 'jobs', 'legacy', 10000)$$),
    (4, $$INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, bucket) VALUES ('whatsapp', 'jobs', 'legacy', -1)$$),
    (5, $$INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, retries) VALUES ('whatsapp', 'jobs', 'legacy', -1)$$),
    (6, $$UPDATE webhook_routing_logs SET status = 'done' WHERE status = 'pending'$$),
    (7, $$UPDATE webhook_routing_logs SET routed_to = 'Unified' WHERE status = 'pending'$$),
    (8, $$UPDATE webhook_routing_logs SET retries = -1 WHERE status = 'pending'$$),
    (9, $$UPDATE webhook_routing_logs SET bucket = 12345 WHERE status = 'pending'$$);
GRANT SELECT ON bad_values TO PUBLIC;
TRUNCATE webhook_routing_logs;
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to) VALUES ('whatsapp', 'jobs', 'legacy');
CREATE VIEW refused AS
SELECT b.n, t.state, t.message, t.hint FROM bad_values AS b, try(b.call) AS t;
GRANT SELECT ON refused TO PUBLIC;
SET ROLE wr_edge;
SELECT * FROM refused ORDER BY n;
SET ROLE wr_service;
SELECT n, state, message FROM refused ORDER BY n;
RESET ROLE;
SELECT n, state, message FROM refused ORDER BY n;
SET session_replication_role = replica;
SELECT n, state, message FROM refused ORDER BY n;
RESET session_replication_role;
-- Accepted: every target and status, by the caller; buckets at their bounds, by the owner
-- (callers do not write buckets or retries).
SET ROLE wr_edge;
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status)
VALUES ('whatsapp', 'jobs', 'unified', 'success'), ('whatsapp', 'jobs', 'error', 'error');
RESET ROLE;
INSERT INTO webhook_routing_logs (webhook_name, domain, routed_to, status, bucket, retries)
VALUES ('whatsapp', 'jobs', 'unified', 'pending', 0, 0), ('whatsapp', 'jobs', 'legacy', 'success', 9999, 3);
SELECT routed_to, status, bucket, retries FROM webhook_routing_logs ORDER BY id;
-- The trigger is enabled ALWAYS on the log and on every partition, those made later and one
-- attached by hand too.
CREATE TABLE webhook_routing_logs_by_hand (LIKE webhook_routing_logs);
ALTER TABLE webhook_routing_logs ATTACH PARTITION webhook_routing_logs_by_hand
    FOR VALUES FROM ('2000-01-01') TO ('2000-01-02');
SET client_min_messages = warning;
SELECT create_routing_log_partitions(3) >= 0 AS made;
RESET client_min_messages;
SELECT t.tgenabled, count(*) > 3 AS on_the_log_and_its_partitions
FROM pg_trigger AS t
WHERE t.tgname = 'webhook_routing_logs_caller_limits'
  AND (t.tgrelid = 'webhook_routing_logs'::regclass
       OR t.tgrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'webhook_routing_logs'::regclass))
GROUP BY 1;
SELECT count(*) AS partitions_without_it
FROM pg_inherits AS i
WHERE i.inhparent = 'webhook_routing_logs'::regclass
  AND NOT EXISTS (SELECT FROM pg_trigger AS t WHERE t.tgrelid = i.inhrelid
                  AND t.tgname = 'webhook_routing_logs_caller_limits' AND t.tgenabled = 'A');
DROP TABLE webhook_routing_logs_by_hand;
DROP VIEW refused;
DROP TABLE bad_values;

DROP FUNCTION try;
DROP EXTENSION webhook_routing;
DROP ROLE wr_edge, wr_edge_other, wr_service;
