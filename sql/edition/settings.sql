-- The SQL edition's settings readers, config cache trigger and decision counts: what the native
-- library keeps in its own memory (src/pg/gucs.rs, src/pg/config_cache.rs,
-- src/pg/decision_counts.rs), read the way a server without that library has it.
-- Held to the native edition's answers by tests/vectors/check.sh.

-- A webhook_routing.* setting in seconds, read as the native library reads it when it loads
-- over a value set before (a placeholder, as ALTER DATABASE ... SET or a session's SET leaves
-- it): PostgreSQL's integer syntax with time units (parse_int and convert_to_base_unit of
-- guc.c): leading and trailing blanks, a sign, a decimal, 0x hexadecimal or 0 octal integer,
-- a decimal fraction or exponent, then optionally d, h, min, s, ms or us, rounded to the
-- second, half to even. A value that does not read so, or out of [low, high], is not taken:
-- the default is (the native library warns once, when it loads; the edition says nothing, as
-- it reads the setting at every call). Unset (NULL): the default.
CREATE FUNCTION @extschema@.webhook_routing_seconds_setting(name text, fallback integer, low integer, high integer)
RETURNS integer
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    value text := pg_catalog.current_setting(name, true);
    m text[];
    number double precision;
    rest text;
    unit_name text;
    factor double precision;
    rounding double precision;
BEGIN
    IF value IS NULL THEN
        RETURN fallback;
    END IF;
    -- The usual value, a number of seconds in decimal, without the work below (read at each
    -- decision: a query costs ten times these tests).
    IF value OPERATOR(pg_catalog.~) '^[1-9][0-9]{0,8}$' THEN
        IF value::integer OPERATOR(pg_catalog.<) low OR value::integer OPERATOR(pg_catalog.>) high THEN
            RETURN fallback;
        END IF;
        RETURN value::integer;
    END IF;
    -- strtol(value, base 0): an integer, unless what follows it is '.', 'e' or 'E' (or it is
    -- out of a long's range), when strtod reads the value again as a decimal fraction.
    m := pg_catalog.regexp_match(value, '^[ \t\n\r\f\v]*([-+]?)(0[xX][0-9a-fA-F]+|[1-9][0-9]*|0[0-7]*)(.*)$');
    IF m IS NOT NULL AND pg_catalog.left(m[3], 1) OPERATOR(pg_catalog.<>) ALL (ARRAY['.', 'e', 'E'])
       AND pg_catalog.length(m[2]) OPERATOR(pg_catalog.<=) 18 THEN
        IF m[2] OPERATOR(pg_catalog.~) '^0[xX]' THEN
            number := ('x' OPERATOR(pg_catalog.||) pg_catalog.lpad(pg_catalog.substr(m[2], 3), 16, '0'))::bit(64)::bigint;
        ELSIF m[2] OPERATOR(pg_catalog.~) '^0' THEN
            -- Octal, digit by digit.
            number := 0;
            FOR i IN 2 .. pg_catalog.length(m[2]) LOOP
                number := (number OPERATOR(pg_catalog.*) 8) OPERATOR(pg_catalog.+) pg_catalog.substr(m[2], i, 1)::integer;
            END LOOP;
        ELSE
            number := m[2]::bigint;
        END IF;
        IF m[1] OPERATOR(pg_catalog.=) '-' THEN
            number := OPERATOR(pg_catalog.-) number;
        END IF;
        rest := m[3];
    ELSE
        m := pg_catalog.regexp_match(value, '^[ \t\n\r\f\v]*([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)(.*)$');
        IF m IS NULL THEN
            RETURN fallback;
        END IF;
        -- strtod's range: beyond it (ERANGE, either way) the value is refused.
        IF pg_catalog.abs(m[1]::numeric) OPERATOR(pg_catalog.>) 1.7976931348623157e308
           OR (m[1]::numeric OPERATOR(pg_catalog.<>) 0 AND pg_catalog.abs(m[1]::numeric) OPERATOR(pg_catalog.<) 2.2250738585072014e-308) THEN
            RETURN fallback;
        END IF;
        number := m[1]::double precision;
        rest := m[2];
    END IF;
    rest := pg_catalog.ltrim(rest, E' \t\n\r\f\x0b');
    IF rest OPERATOR(pg_catalog.<>) '' THEN
        -- A unit of at most three characters, then only blanks.
        m := pg_catalog.regexp_match(rest, '^([^ \t\n\r\f\v]{1,3})[ \t\n\r\f\v]*$');
        IF m IS NULL THEN
            RETURN fallback;
        END IF;
        unit_name := m[1];
        -- Each unit's factor in seconds, and the next smaller unit's, which a fraction of it is
        -- rounded to first (none below us), as guc.c's table of time units has them.
        CASE
            WHEN unit_name OPERATOR(pg_catalog.=) 'd' THEN factor := 86400; rounding := 3600;
            WHEN unit_name OPERATOR(pg_catalog.=) 'h' THEN factor := 3600; rounding := 60;
            WHEN unit_name OPERATOR(pg_catalog.=) 'min' THEN factor := 60; rounding := 1;
            WHEN unit_name OPERATOR(pg_catalog.=) 's' THEN factor := 1; rounding := 1.0::double precision OPERATOR(pg_catalog./) 1000;
            WHEN unit_name OPERATOR(pg_catalog.=) 'ms' THEN factor := 1.0::double precision OPERATOR(pg_catalog./) 1000;
                rounding := 1.0::double precision OPERATOR(pg_catalog./) (1000 OPERATOR(pg_catalog.*) 1000);
            WHEN unit_name OPERATOR(pg_catalog.=) 'us' THEN factor := 1.0::double precision OPERATOR(pg_catalog./) (1000 OPERATOR(pg_catalog.*) 1000); rounding := NULL;
            ELSE RETURN fallback;
        END CASE;
        number := number OPERATOR(pg_catalog.*) factor;
        IF rounding IS NOT NULL THEN
            number := pg_catalog.round(number OPERATOR(pg_catalog./) rounding) OPERATOR(pg_catalog.*) rounding;
        END IF;
    END IF;
    -- round(double precision) is rint: half to even, as guc.c rounds.
    number := pg_catalog.round(number);
    IF number OPERATOR(pg_catalog.<) low OR number OPERATOR(pg_catalog.>) high THEN
        RETURN fallback;
    END IF;
    RETURN number::integer;
END
$$;

-- webhook_routing.pending_timeout (seconds, 1 to 86400, default 300).
CREATE FUNCTION @extschema@.routing_pending_timeout_seconds()
RETURNS integer
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN @extschema@.webhook_routing_seconds_setting('webhook_routing.pending_timeout', 300, 1, 86400);
END
$$;

-- webhook_routing.conversation_timeout (seconds, 1 to 86400, default 1800). The native library
-- lets only a superuser set it (PGC_SUSET); without the library the setting is a placeholder
-- any role may set for its own session (ALTER DATABASE ... SET still needs the database's
-- owner).
CREATE FUNCTION @extschema@.routing_conversation_timeout_seconds()
RETURNS integer
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN @extschema@.webhook_routing_seconds_setting('webhook_routing.conversation_timeout', 1800, 1, 86400);
END
$$;

-- The config and rules tables' statement trigger. The native edition keeps the config in each
-- backend's memory and drops it when this trigger's relcache invalidation arrives; the edition
-- keeps no copy (it reads the tables at each decision), so there is nothing to invalidate. The
-- trigger stays, with the native signature, so that both editions have the same objects.
CREATE FUNCTION @extschema@.webhook_routing_invalidate_cache()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN NULL;
END
$$;

-- Decisions counted in shared memory (src/pg/decision_counts.rs) need the library in
-- shared_preload_libraries; the edition has no shared memory, so it answers as the native
-- edition does without the preload: no rows, and no count of decisions left uncounted (NULL).
-- routing_metrics() then reads the log alone.
CREATE FUNCTION @extschema@.webhook_routing_decision_counts()
RETURNS TABLE (domain text, routed_to text, reason text, decisions bigint)
LANGUAGE plpgsql VOLATILE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN;
END
$$;

CREATE FUNCTION @extschema@.webhook_routing_decisions_uncounted()
RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN NULL;
END
$$;
