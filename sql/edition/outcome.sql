-- The SQL edition's record_routing_outcome (src/api/outcome.rs): the caller reports how the
-- handler did with a decision, the first report completing the pending log row. The same
-- checks, refusals (SQLSTATE, message, detail, hint) and statements as the native function, run
-- as the caller (its column grants and row level security apply, as they do to the native
-- one's); held to them by tests/vectors/log_refusals.sql.
--
-- The log row's transaction commits without waiting for the WAL flush unless
-- webhook_routing.log_synchronous_commit is on (src/pg/durability.rs). One difference until the
-- admin functions are ported: the native edition leaves synchronous_commit on in a transaction
-- that changed the config history before; the edition does not know of such a change.

CREATE FUNCTION @extschema@.record_routing_outcome(decision_id bigint, status text, response_time_ms numeric, error_message text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    shown text;
    day_start double precision;
    completed bigint;
    previous text;
    retries integer;
    synchronous text := pg_catalog.lower(pg_catalog.btrim(pg_catalog.current_setting('webhook_routing.log_synchronous_commit', true)));
BEGIN
    IF decision_id IS NULL THEN
        RAISE EXCEPTION 'decision_id must not be NULL' USING ERRCODE = '22004',
            HINT = 'Pass the decision_id that webhook_routing.route_decision returned.';
    END IF;
    IF status IS NULL THEN
        RAISE EXCEPTION 'status must not be NULL' USING ERRCODE = '22004', HINT = 'status is ''success'' or ''error''.';
    END IF;
    IF status OPERATOR(pg_catalog.<>) ALL ('{success,error}'::text[]) THEN
        RAISE EXCEPTION 'invalid status "%"', status USING ERRCODE = '22023', HINT = 'status is ''success'' or ''error''.';
    END IF;
    IF response_time_ms IS NOT NULL THEN
        -- latency_in_bounds, as the log's row trigger reads it (log_limits.sql).
        shown := response_time_ms::text;
        IF shown OPERATOR(pg_catalog.=) ANY ('{NaN,Infinity,-Infinity}'::text[])
           OR pg_catalog.left(shown, 1) OPERATOR(pg_catalog.=) '-'
           OR response_time_ms OPERATOR(pg_catalog.>) 86400000::numeric
           OR (response_time_ms OPERATOR(pg_catalog.>) 86399999::numeric
               AND response_time_ms::double precision OPERATOR(pg_catalog.=) 86400000::double precision
               AND pg_catalog.split_part(shown, '.', 2) OPERATOR(pg_catalog.~) '[1-9]') THEN
            RAISE EXCEPTION 'invalid response_time_ms %', shown USING ERRCODE = '22023',
                DETAIL = 'response_time_ms must be between 0 and 86400000 (one day).',
                HINT = 'Pass the handler''s response time in milliseconds, or NULL if unknown.';
        END IF;
    END IF;
    IF pg_catalog.char_length(error_message) OPERATOR(pg_catalog.>) 2000 THEN
        RAISE EXCEPTION 'error_message is too long' USING ERRCODE = '22023',
            DETAIL = 'At most 2000 characters are kept.', HINT = 'Pass the first line or a summary of the error.';
    END IF;
    IF pg_catalog.pg_is_in_recovery() THEN
        RAISE EXCEPTION 'record_routing_outcome cannot write on a hot standby' USING ERRCODE = '25006',
            DETAIL = 'This server is a hot standby: it is in recovery and writes nothing.',
            HINT = 'Report outcomes to the primary, where route_decision logged the decision.';
    END IF;
    -- webhook_routing.log_synchronous_commit read as parse_bool reads it (on, 1, true, yes
    -- and their prefixes are on; unset or anything else off, the native default). Here rather
    -- than in a function of its own: a caller may execute none of the extension's helpers.
    IF NOT (synchronous OPERATOR(pg_catalog.=) ANY ('{on,1}'::text[])
            OR (synchronous OPERATOR(pg_catalog.<>) '' AND (pg_catalog.strpos('true', synchronous) OPERATOR(pg_catalog.=) 1
                                                        OR pg_catalog.strpos('yes', synchronous) OPERATOR(pg_catalog.=) 1))) IS TRUE
       AND pg_catalog.current_setting('synchronous_commit') OPERATOR(pg_catalog.<>) 'off' THEN
        PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
    END IF;
    -- The decision's UTC day and the one before first (the log is partitioned by day), then
    -- everywhere. "Neither outcome" is "pending", said so that the row is found by its key.
    day_start := pg_catalog.floor(pg_catalog.extract('epoch', pg_catalog.now()) OPERATOR(pg_catalog./) 86400)::double precision
                 OPERATOR(pg_catalog.*) 86400;
    UPDATE @extschema@.webhook_routing_logs AS l
    SET status = record_routing_outcome.status, response_time_ms = record_routing_outcome.response_time_ms,
        error_message = record_routing_outcome.error_message, completed_at = pg_catalog.clock_timestamp()
    WHERE l.id OPERATOR(pg_catalog.=) decision_id
      AND l.created_at OPERATOR(pg_catalog.>=) pg_catalog.to_timestamp(day_start OPERATOR(pg_catalog.-) 86400)
      AND l.created_at OPERATOR(pg_catalog.<) pg_catalog.to_timestamp(day_start OPERATOR(pg_catalog.+) 86400)
      AND l.status OPERATOR(pg_catalog.<>) 'success' AND l.status OPERATOR(pg_catalog.<>) 'error'
    RETURNING l.id INTO completed;
    IF completed IS NULL THEN
        UPDATE @extschema@.webhook_routing_logs AS l
        SET status = record_routing_outcome.status, response_time_ms = record_routing_outcome.response_time_ms,
            error_message = record_routing_outcome.error_message, completed_at = pg_catalog.clock_timestamp()
        WHERE l.id OPERATOR(pg_catalog.=) decision_id
          AND l.status OPERATOR(pg_catalog.<>) 'success' AND l.status OPERATOR(pg_catalog.<>) 'error'
        RETURNING l.id INTO completed;
    END IF;
    IF completed IS NOT NULL THEN
        RETURN;
    END IF;
    -- Nothing completed: a re-delivery's outcome is no error (the first decision's stays as it
    -- was); otherwise the decision is unknown or already has its outcome.
    SELECT l.status, l.retries INTO previous, retries FROM @extschema@.webhook_routing_logs AS l
    WHERE l.id OPERATOR(pg_catalog.=) decision_id;
    IF previous IS NOT NULL AND retries OPERATOR(pg_catalog.>) 0 THEN
        RETURN;
    END IF;
    IF previous IS NOT NULL THEN
        RAISE EXCEPTION 'decision % already has an outcome', decision_id USING ERRCODE = '55000',
            DETAIL = pg_catalog.format('Its recorded status is "%s".', previous), HINT = 'Report each decision''s outcome once.';
    END IF;
    RAISE EXCEPTION 'decision % not found', decision_id USING ERRCODE = 'P0002',
        HINT = 'Pass a decision_id returned by webhook_routing.route_decision(..., log => true).';
END
$$;
