-- The SQL edition's check of a caller's log row (src/route/log_policy.rs): its created_at must
-- be within five minutes of now. Held to the native edition's answers by
-- tests/vectors/check.sh.

-- True when created_at is within five minutes of the transaction's start (now()) or of the
-- clock (or NULL, which the column's NOT NULL refuses); otherwise an error with SQLSTATE
-- 23514, the time shown as the native edition shows it (ISO, in the session's time zone:
-- hence the DateStyle pinned here).
CREATE FUNCTION @extschema@.webhook_routing_plausible_time(created_at timestamptz)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO'
AS $$
BEGIN
    IF created_at IS NULL
       OR (created_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '5 minutes'::interval)
           AND created_at OPERATOR(pg_catalog.<=) (pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+) '5 minutes'::interval)) THEN
        RETURN true;
    END IF;
    RAISE EXCEPTION 'created_at % is not within 5 minutes of now', created_at
        USING ERRCODE = 'check_violation',
              DETAIL = 'A caller logs what happens now: a row dated elsewhere would count in health windows it does not belong to, or outlive retention.',
              HINT = 'Leave created_at out (it defaults to now()), or pass the time the request arrived.';
END
$$;
