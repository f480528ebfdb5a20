-- What the log's BEFORE row trigger refuses, rounds and lets through, run against the native
-- extension (tests/vectors/make.sh keeps the answers as tests/vectors/log_refusals.expected)
-- and the SQL edition (tests/vectors/check.sh compares): as the owner (or a superuser), whom
-- only the columns' domains and the latency's range bind, then as a caller (the role
-- wr_log_caller, a member of webhook_routing_caller, which the running script may SET ROLE
-- to). Each statement's answer is what it returned, or its SQLSTATE, message, detail and hint.
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on
SET timezone = 'Asia/Kolkata';
CREATE FUNCTION pg_temp.attempt(label text, statement text) RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    answer text;
    state text;
    message text;
    detail text;
    hint text;
BEGIN
    EXECUTE statement INTO answer;
    RETURN label OPERATOR(pg_catalog.||) ': ok ' OPERATOR(pg_catalog.||) COALESCE(answer, 'NULL');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN pg_catalog.format('%s: %s | %s | %s | %s', label, state, message, detail, hint);
END
$$;
CREATE TEMPORARY TABLE attempts (n integer GENERATED ALWAYS AS IDENTITY, label text, statement text);
INSERT INTO attempts (label, statement) VALUES
    ('routed_to other', $q$INSERT INTO webhook_routing.webhook_routing_logs (routed_to) VALUES ('other') RETURNING status$q$),
    ('status done', $q$INSERT INTO webhook_routing.webhook_routing_logs (routed_to, status) VALUES ('unified', 'done') RETURNING status$q$),
    ('bucket 10000', $q$INSERT INTO webhook_routing.webhook_routing_logs (routed_to, bucket) VALUES ('unified', 10000) RETURNING bucket$q$),
    ('bucket -1', $q$INSERT INTO webhook_routing.webhook_routing_logs (routed_to, bucket) VALUES ('unified', -1) RETURNING bucket$q$),
    ('bucket 9999', $q$INSERT INTO webhook_routing.webhook_routing_logs (routed_to, bucket) VALUES ('unified', 9999) RETURNING bucket$q$),
    ('retries -1', $q$INSERT INTO webhook_routing.webhook_routing_logs (routed_to, retries) VALUES ('unified', -1) RETURNING retries$q$);
INSERT INTO attempts (label, statement)
SELECT 'latency ' || v, pg_catalog.format($q$INSERT INTO webhook_routing.webhook_routing_logs (routed_to, status, response_time_ms, created_at)
    VALUES ('unified', 'success', %L::numeric, '2026-01-01 10:00:00+00') RETURNING response_time_ms$q$, v)
FROM pg_catalog.unnest(ARRAY['0', '0.0004', '0.0005', '1.23456', '2.0005', '-2.0005', '1.2300', '86400000', '86400000.000',
    '86400000.0001', '86399999.999999999', '86399999.9999999999999999', '86399999.99', '-1', '-0.000000000000000000000123',
    'NaN', 'Infinity', '-Infinity', '1e30', '123456789012345678901234', '0.0000000000000000000000000000000001']) AS v;
SELECT pg_temp.attempt(a.label, a.statement) FROM attempts AS a ORDER BY a.n;
-- As a caller: the time, the session columns, outcomes. wr_log_caller is granted the whole
-- table besides (as a careless GRANT would), so that the trigger, not a column privilege, is
-- what refuses the session columns.
TRUNCATE attempts;
INSERT INTO attempts (label, statement) VALUES
    ('caller: a row of 2000', $q$INSERT INTO webhook_routing.webhook_routing_logs (routed_to, created_at) VALUES ('unified', '2000-01-01 00:00:00+00') RETURNING status$q$),
    ('caller: a row of now', $q$INSERT INTO webhook_routing.webhook_routing_logs (routed_to, webhook_name) VALUES ('unified', 'm1') RETURNING status$q$),
    ('caller: a sender key', $q$INSERT INTO webhook_routing.webhook_routing_logs (routed_to, sender_key) VALUES ('unified', 5) RETURNING status$q$),
    ('caller: a session time', $q$INSERT INTO webhook_routing.webhook_routing_logs (routed_to, session_switched_at) VALUES ('unified', pg_catalog.now()) RETURNING status$q$),
    ('caller: a bad latency', $q$INSERT INTO webhook_routing.webhook_routing_logs (routed_to, status, response_time_ms) VALUES ('unified', 'success', 90000000) RETURNING status$q$),
    ('caller: a long bad latency', $q$INSERT INTO webhook_routing.webhook_routing_logs (routed_to, status, response_time_ms) VALUES ('unified', 'success', -0.000000000000000000000123) RETURNING status$q$),
    ('caller: the outcome', $q$UPDATE webhook_routing.webhook_routing_logs SET status = 'success', response_time_ms = 12.34567 WHERE webhook_name = 'm1' RETURNING response_time_ms$q$),
    ('caller: the outcome again', $q$UPDATE webhook_routing.webhook_routing_logs SET status = 'error' WHERE webhook_name = 'm1' RETURNING status$q$),
    ('caller: a session column', $q$UPDATE webhook_routing.webhook_routing_logs SET session_domain = 'jobs' WHERE status = 'pending' RETURNING status$q$),
    ('caller: a pending row', $q$INSERT INTO webhook_routing.webhook_routing_logs (routed_to, webhook_name) VALUES ('legacy', 'm2') RETURNING status$q$),
    ('caller: its session column', $q$UPDATE webhook_routing.webhook_routing_logs SET session_domain = 'jobs' WHERE webhook_name = 'm2' RETURNING status$q$),
    ('caller: its sender key unchanged', $q$UPDATE webhook_routing.webhook_routing_logs SET sender_key = NULL, status = 'error' WHERE webhook_name = 'm2' RETURNING status$q$);
GRANT SELECT ON attempts TO wr_log_caller;
GRANT INSERT, UPDATE ON webhook_routing.webhook_routing_logs TO wr_log_caller;
SET ROLE wr_log_caller;
SELECT pg_temp.attempt(a.label, a.statement) FROM attempts AS a ORDER BY a.n;
RESET ROLE;
-- As the owner: an outcome reported twice is the owner's to write.
SELECT pg_temp.attempt('owner: the outcome again',
    $q$UPDATE webhook_routing.webhook_routing_logs SET status = 'error' WHERE webhook_name = 'm1' RETURNING status$q$);
-- record_routing_outcome: its refusals, a decision completed once, one of yesterday's, one
-- already re-delivered, as the owner and as a caller.
INSERT INTO webhook_routing.webhook_routing_logs (routed_to, webhook_name, created_at, retries, status)
VALUES ('unified', 'o1', pg_catalog.now(), 0, 'pending'), ('legacy', 'o2', pg_catalog.now(), 1, 'success'),
       ('unified', 'o3', '2026-01-01 10:00:00+00', 0, 'pending'), ('unified', 'o4', pg_catalog.now(), 0, 'pending'),
       ('unified', 'o5', pg_catalog.now(), 0, 'pending'), ('unified', 'o6', pg_catalog.now(), 0, 'pending');
TRUNCATE attempts;
INSERT INTO attempts (label, statement)
SELECT o.label, 'SELECT webhook_routing.record_routing_outcome(' || o.args || ')::text'
FROM (VALUES
    ('outcome: no decision', $q$NULL, 'success', 1$q$),
    ('outcome: no status', $q$1, NULL, 1$q$),
    ('outcome: status ok', $q$1, 'ok', 1$q$),
    ('outcome: latency -1', $q$1, 'success', -1$q$),
    ('outcome: latency NaN', $q$1, 'success', 'NaN'$q$),
    ('outcome: latency beyond a day', $q$1, 'success', 86400000.1$q$),
    ('outcome: a long latency', $q$1, 'success', 123456789012345678901234$q$),
    ('outcome: a message too long', $q$1, 'error', NULL, pg_catalog.repeat('é', 2001)$q$),
    ('outcome: unknown', $q$-1, 'success', 1$q$),
    ('outcome: o1', $q$(SELECT l.id FROM webhook_routing.webhook_routing_logs AS l WHERE l.webhook_name = 'o1'), 'success', 12.34567$q$),
    ('outcome: o1 again', $q$(SELECT l.id FROM webhook_routing.webhook_routing_logs AS l WHERE l.webhook_name = 'o1'), 'error', 1$q$),
    ('outcome: o2, re-delivered', $q$(SELECT l.id FROM webhook_routing.webhook_routing_logs AS l WHERE l.webhook_name = 'o2'), 'error', 1$q$),
    ('outcome: o3, of another day', $q$(SELECT l.id FROM webhook_routing.webhook_routing_logs AS l WHERE l.webhook_name = 'o3'), 'error', NULL, 'timeout'$q$),
    ('outcome: o4, a message of 2000', $q$(SELECT l.id FROM webhook_routing.webhook_routing_logs AS l WHERE l.webhook_name = 'o4'), 'error', 0, pg_catalog.repeat('é', 2000)$q$)
) AS o (label, args);
SELECT pg_temp.attempt(a.label, a.statement) FROM attempts AS a ORDER BY a.n;
TRUNCATE attempts;
INSERT INTO attempts (label, statement) VALUES
    ('caller outcome: o5', $q$SELECT webhook_routing.record_routing_outcome((SELECT l.id FROM webhook_routing.webhook_routing_logs AS l WHERE l.webhook_name = 'o5'), 'success', 86400000)::text$q$),
    ('caller outcome: o5 again', $q$SELECT webhook_routing.record_routing_outcome((SELECT l.id FROM webhook_routing.webhook_routing_logs AS l WHERE l.webhook_name = 'o5'), 'success', 5)::text$q$),
    ('caller outcome: o6', $q$SELECT webhook_routing.record_routing_outcome((SELECT l.id FROM webhook_routing.webhook_routing_logs AS l WHERE l.webhook_name = 'o6'), 'error', 0.0005, 'boom')$q$),
    ('caller outcome: unknown', $q$SELECT webhook_routing.record_routing_outcome(-5, 'error')::text$q$);
SET ROLE wr_log_caller;
SELECT pg_temp.attempt(a.label, a.statement) FROM attempts AS a ORDER BY a.n;
RESET ROLE;
SELECT pg_catalog.format('row %s: %s %s %s %s', l.webhook_name, l.status, l.response_time_ms, pg_catalog.char_length(l.error_message),
                         l.completed_at IS NOT NULL)
FROM webhook_routing.webhook_routing_logs AS l WHERE l.webhook_name ~ '^o[0-9]$' ORDER BY l.webhook_name;
