-- The SQL edition's BEFORE row trigger of the log (src/route/log_policy.rs,
-- webhook_routing_logs_caller_limits), enabled ALWAYS by sql/triggers.sql: for every writer,
-- the columns' domains and the latency's range and scale; for a writer that is neither the
-- table's owner nor a superuser, the caller's limits (no session column, a time within five
-- minutes of now, an outcome for a pending decision only). The same refusals, SQLSTATE,
-- message, detail and hint, as the native trigger; held to them by tests/vectors/log_refusals.sql.
--
-- One difference: the native trigger compares the session columns of an UPDATE only when its
-- SET list names one (tg_updatedcols, which PL/pgSQL cannot read); the edition compares them on
-- every caller's UPDATE. Only another BEFORE trigger changing them could tell the two apart.

-- BEFORE INSERT OR UPDATE row trigger on webhook_routing_logs.
CREATE FUNCTION @extschema@.webhook_routing_logs_caller_limits()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    shown text;
    beyond boolean;
    column_name text;
    given text;
    before text;
    sign text;
    digits text;
    whole text;
    fraction text;
    significant text;
    exponent integer;
    zeros integer;
BEGIN
    -- The columns' domains, for every writer.
    IF NEW.routed_to OPERATOR(pg_catalog.<>) ALL ('{unified,legacy,error}'::text[]) THEN
        RAISE EXCEPTION 'invalid routed_to "%"', NEW.routed_to USING ERRCODE = 'check_violation',
            DETAIL = 'A decision goes to unified, legacy or error.', HINT = 'routed_to is unified, legacy or error.';
    END IF;
    IF NEW.status OPERATOR(pg_catalog.<>) ALL ('{pending,success,error}'::text[]) THEN
        RAISE EXCEPTION 'invalid status "%"', NEW.status USING ERRCODE = 'check_violation',
            DETAIL = 'A decision is pending until its outcome, success or error, is reported.',
            HINT = 'status is pending, success or error.';
    END IF;
    IF NEW.bucket OPERATOR(pg_catalog.<) 0 OR NEW.bucket OPERATOR(pg_catalog.>) 9999 THEN
        RAISE EXCEPTION 'invalid bucket %', NEW.bucket USING ERRCODE = 'check_violation',
            DETAIL = 'A bucket is one of 10,000 (0 to 9999), which the percentage split hashes to.',
            HINT = 'Leave bucket out (NULL): route_decision writes it.';
    END IF;
    IF NEW.retries OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'invalid retries %', NEW.retries USING ERRCODE = 'check_violation',
            DETAIL = 'retries counts WhatsApp''s re-deliveries of a decision''s message.',
            HINT = 'Leave retries out (0): route_decision counts re-deliveries.';
    END IF;
    -- The latency: milliseconds from 0 to a day, as latency_in_bounds reads the numeric's text
    -- (a value that rounds to a day as a double, with a fraction, is beyond it), kept to the
    -- microsecond.
    IF NEW.response_time_ms IS NOT NULL THEN
        shown := NEW.response_time_ms::text;
        beyond := NEW.response_time_ms::text OPERATOR(pg_catalog.=) ANY ('{NaN,Infinity,-Infinity}'::text[])
            OR pg_catalog.left(shown, 1) OPERATOR(pg_catalog.=) '-'
            OR NEW.response_time_ms OPERATOR(pg_catalog.>) 86400000::numeric
            OR (NEW.response_time_ms OPERATOR(pg_catalog.>) 86399999::numeric
                AND NEW.response_time_ms::double precision OPERATOR(pg_catalog.=) 86400000::double precision
                AND pg_catalog.split_part(shown, '.', 2) OPERATOR(pg_catalog.~) '[1-9]');
        IF beyond THEN
            IF pg_catalog.length(shown) OPERATOR(pg_catalog.>) 20 THEN
                -- Shown as 1.234e+308, its first four digits cut, as scientific() writes it
                -- (here rather than in a function of its own: a caller, who runs this trigger,
                -- may execute none of the extension's helpers).
                sign := CASE WHEN pg_catalog.left(shown, 1) OPERATOR(pg_catalog.=) '-' THEN '-' ELSE '' END;
                digits := pg_catalog.ltrim(shown, '-');
                whole := pg_catalog.ltrim(pg_catalog.split_part(digits, '.', 1), '0');
                fraction := pg_catalog.split_part(digits, '.', 2);
                IF whole OPERATOR(pg_catalog.=) '' THEN
                    zeros := pg_catalog.length(fraction) OPERATOR(pg_catalog.-) pg_catalog.length(pg_catalog.ltrim(fraction, '0'));
                    exponent := OPERATOR(pg_catalog.-) zeros OPERATOR(pg_catalog.-) 1;
                    significant := pg_catalog.substr(fraction, zeros OPERATOR(pg_catalog.+) 1);
                ELSE
                    exponent := pg_catalog.length(whole) OPERATOR(pg_catalog.-) 1;
                    significant := whole OPERATOR(pg_catalog.||) fraction;
                END IF;
                significant := pg_catalog.rpad(significant, 4, '0');
                shown := sign OPERATOR(pg_catalog.||) pg_catalog.substr(significant, 1, 1) OPERATOR(pg_catalog.||) '.'
                         OPERATOR(pg_catalog.||) pg_catalog.substr(significant, 2, 3) OPERATOR(pg_catalog.||) 'e'
                         OPERATOR(pg_catalog.||) CASE WHEN exponent OPERATOR(pg_catalog.<) 0 THEN '-' ELSE '+' END
                         OPERATOR(pg_catalog.||) pg_catalog.lpad(pg_catalog.abs(exponent)::text,
                                                               GREATEST(2, pg_catalog.length(pg_catalog.abs(exponent)::text)), '0');
            END IF;
            RAISE EXCEPTION 'invalid response_time_ms %', shown USING ERRCODE = 'check_violation',
                DETAIL = 'A latency is a number of milliseconds from 0 to 86400000 (one day); NaN and infinities are not latencies.',
                HINT = 'Log the handler''s response time in milliseconds, or NULL if it is not known.';
        END IF;
        IF pg_catalog.length(pg_catalog.split_part(shown, '.', 2)) OPERATOR(pg_catalog.>) 3 THEN
            NEW.response_time_ms := pg_catalog.round(NEW.response_time_ms, 3);
        END IF;
    END IF;
    -- The owner and superusers are not callers.
    IF (SELECT c.relowner FROM pg_catalog.pg_class AS c WHERE c.oid OPERATOR(pg_catalog.=) TG_RELID)
           OPERATOR(pg_catalog.=) (SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER)
       OR (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER) THEN
        RETURN NEW;
    END IF;
    -- The columns sessions are counted from: route_decision's alone.
    FOREACH column_name IN ARRAY ARRAY['sender_key', 'session_domain', 'session_broken_at', 'session_deliberate_at', 'session_switched_at'] LOOP
        given := pg_catalog.to_jsonb(NEW) OPERATOR(pg_catalog.->>) column_name;
        before := CASE WHEN TG_OP OPERATOR(pg_catalog.=) 'UPDATE' THEN pg_catalog.to_jsonb(OLD) OPERATOR(pg_catalog.->>) column_name END;
        IF given IS DISTINCT FROM before THEN
            RAISE EXCEPTION 'only route_decision writes %', column_name USING ERRCODE = 'insufficient_privilege',
                DETAIL = 'Sessions and their health are counted from a sender''s key and session, which the extension writes when it logs a decision.',
                HINT = pg_catalog.format('Leave %s out of the INSERT or UPDATE; route_decision logs decisions with it.', column_name);
        END IF;
    END LOOP;
    IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
        PERFORM @extschema@.webhook_routing_plausible_time(NEW.created_at);
    ELSIF OLD.status OPERATOR(pg_catalog.=) ANY ('{success,error}'::text[]) THEN
        RAISE EXCEPTION 'decision % already has an outcome', COALESCE(OLD.id, 0) USING ERRCODE = 'check_violation',
            DETAIL = pg_catalog.format('Its recorded status is "%s"; an outcome is reported once.', OLD.status),
            HINT = 'Report outcomes of pending decisions only (webhook_routing.record_routing_outcome).';
    END IF;
    RETURN NEW;
END
$$;
