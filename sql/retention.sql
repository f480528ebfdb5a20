-- Day partitions of the log, and retention by dropping whole days.
--
-- webhook_routing_logs is partitioned by the UTC day of created_at. A day partition is made
-- as a plain table, locked down, and attached (SHARE UPDATE EXCLUSIVE on the log: decisions
-- and outcomes go on meanwhile). Rows of a day that had no partition wait in the default
-- partition and move into the day's partition when it is made. Dropping a day takes an ACCESS
-- EXCLUSIVE lock on the log for the moment the drop needs.
--
-- Locks are taken in the order decisions and outcomes take them, the log before its
-- partitions, and each at its final strength at once, so that maintenance never waits for a
-- webhook while holding what that webhook waits for (issue 28: the default partition locked
-- EXCLUSIVE, then ACCESS EXCLUSIVE to attach, deadlocked with a decision that read it and then
-- wrote to it; a prune holding the default partition and then asking for the log, with one
-- that had the log and asked for the default partition). Each try waits at most lock_timeout
-- (200 ms, well under deadlock_timeout, so that in any wait cycle left the maintenance call
-- gives up first), is undone whole when it cannot have its locks, and is tried again, up to
-- 10 times; then the call fails with 55P03 and nothing done.

-- Take back every privilege on a relation but its owner's and turn row level security on:
-- a day partition is made by whoever calls the functions below, under that role's default
-- privileges (on Supabase, new tables are granted to anon). Reached through the log, a
-- partition needs no privilege of its own.
CREATE FUNCTION webhook_routing_lock_down(rel regclass) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    grantee text;
BEGIN
    EXECUTE pg_catalog.format('REVOKE ALL ON TABLE %s FROM PUBLIC', rel);
    FOR grantee IN
        SELECT DISTINCT a.grantee::regrole::text
        FROM pg_catalog.pg_class AS c, pg_catalog.aclexplode(c.relacl) AS a
        WHERE c.oid = rel AND a.grantee <> 0 AND a.grantee <> c.relowner
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON TABLE %s FROM %s', rel, grantee);
    END LOOP;
    EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', rel);
END $$;

-- Make the partition of one UTC day, moving in the rows of that day that wait in the default
-- partition. False when it exists already, or when the day is outside years 1 to 9999: the
-- partition's name (..._pYYYYMMDD) is unique for those days only (a BC day would take the
-- name of an AD one), and its upper bound must be a timestamp. Rows of other days stay in the
-- default partition, where pruning deletes them by date. False too, with a WARNING, when
-- another relation or type of the extension's schema has the partition's name or one of its
-- indexes' names (a table the owner made, or an earlier install left): the day's rows wait in
-- the default partition, and retention goes on with the other days.
CREATE FUNCTION webhook_routing_make_day(day date) RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    name text := 'webhook_routing_logs_p' || pg_catalog.to_char(day, 'YYYYMMDD');
    lo timestamptz := day::timestamp AT TIME ZONE 'UTC';
    hi timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
    nsp oid := (SELECT c.relnamespace FROM pg_catalog.pg_class AS c
                WHERE c.oid = '@extschema@.webhook_routing_logs'::regclass);
    taken text;
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
    SELECT pg_catalog.format('%s %s', CASE c.relkind WHEN 'i' THEN 'index' WHEN 'v' THEN 'view'
                                      WHEN 'S' THEN 'sequence' ELSE 'table' END, c.oid::regclass)
    INTO taken
    FROM pg_catalog.pg_class AS c
    WHERE c.relnamespace = nsp
      AND c.relname IN (name, name || '_pending_idx', name || '_sender_idx', name || '_message_idx')
    ORDER BY c.relname LIMIT 1;
    IF taken IS NULL THEN
        SELECT pg_catalog.format('type %s', t.oid::regtype) INTO taken
        FROM pg_catalog.pg_type AS t WHERE t.typnamespace = nsp AND t.typname = name;
    END IF;
    BEGIN
        IF taken IS NOT NULL THEN
            RAISE duplicate_table;
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
    EXCEPTION WHEN duplicate_table OR duplicate_object OR unique_violation THEN
        -- Made meanwhile by another call (which committed first): nothing to do.
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_inherits AS i
                   JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid
                   WHERE i.inhparent = '@extschema@.webhook_routing_logs'::regclass AND c.relname = name) THEN
            RETURN false;
        END IF;
        RAISE WARNING 'the partition of % was not made: its name is taken by %', pg_catalog.to_char(day, 'YYYY-MM-DD'), coalesce(taken, SQLERRM)
            USING ERRCODE = 'duplicate_table',
                  DETAIL = pg_catalog.format('Day partitions are named %s (and its indexes %s_*_idx) in the extension''s schema. Until the name is free, rows of that day wait in the default partition, which works and is pruned by date; the other days are made and pruned as usual.', name, name),
                  HINT = 'Rename it if it holds anything you need (ALTER ... RENAME TO ...), or drop it; the next create_routing_log_partitions or prune_routing_logs then makes the day.';
        RETURN false;
    END;
    -- No new row of that day may reach the default partition until the day is attached, and
    -- attaching needs the default partition to itself: ACCESS EXCLUSIVE at once. (EXCLUSIVE
    -- first, then ACCESS EXCLUSIVE to attach, deadlocked with a decision that read the default
    -- partition and then wrote to it: each waited for the other.)
    LOCK TABLE @extschema@.webhook_routing_logs_default IN ACCESS EXCLUSIVE MODE;
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

-- Make the day partitions from today (UTC) to days_ahead days ahead, and those of the days
-- whose rows wait in the default partition. Returns how many were made.
CREATE FUNCTION create_routing_log_partitions(days_ahead integer DEFAULT 7) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $$
DECLARE
    today date := (pg_catalog.now() AT TIME ZONE 'UTC')::date;
    made integer;
    day date;
    tries integer := 0;
BEGIN
    IF days_ahead IS NULL OR days_ahead < 0 OR days_ahead > 366 THEN
        RAISE EXCEPTION 'invalid days_ahead %', coalesce(days_ahead::text, 'NULL')
            USING ERRCODE = CASE WHEN days_ahead IS NULL THEN 'null_value_not_allowed' ELSE 'invalid_parameter_value' END,
                  HINT = 'Make from 0 to 366 days ahead; 7 is plenty when prune_routing_logs runs daily.';
    END IF;
    LOOP
        tries := tries + 1;
        BEGIN
            made := 0;
            FOR day IN
                SELECT DISTINCT (l.created_at AT TIME ZONE 'UTC')::date FROM @extschema@.webhook_routing_logs_default AS l
                WHERE l.created_at >= timestamptz '0001-01-01 00:00:00+00' AND l.created_at < timestamptz '10000-01-01 00:00:00+00'
                UNION
                SELECT g::date FROM pg_catalog.generate_series(today::timestamp, (today + days_ahead)::timestamp, interval '1 day') AS g
                ORDER BY 1
            LOOP
                IF @extschema@.webhook_routing_make_day(day) THEN
                    made := made + 1;
                END IF;
            END LOOP;
            RETURN made;
        EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
            -- This try is undone (its locks with it); webhooks that waited behind it go on.
            IF tries >= 10 THEN
                RAISE EXCEPTION 'webhook_routing_logs is busy: no day partition was made'
                    USING ERRCODE = 'lock_not_available',
                          DETAIL = 'Each of 10 tries waited longer than lock_timeout (200 ms) for the log or its default partition: another create_routing_log_partitions or prune_routing_logs, or a long transaction that read or wrote the log.',
                          HINT = 'Run it again in a moment; the log keeps working meanwhile (rows of a day without a partition wait in the default partition).';
            END IF;
        END;
        PERFORM pg_catalog.pg_sleep(0.05 + 0.05 * tries * pg_catalog.random());
    END LOOP;
END $$;

-- Remove the log older than older_than: whole day partitions are dropped, old rows of the
-- default partition, old sketches and old session counts are deleted (as whole minutes), and
-- the days ahead are made. Keeps at least one day, which stats, health and the rollout checks
-- read. Returns the log rows removed.
CREATE FUNCTION prune_routing_logs(older_than interval) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '200ms'
AS $$
DECLARE
    cutoff timestamptz;
    today date := (pg_catalog.now() AT TIME ZONE 'UTC')::date;
    day date;
    made integer;
    from_default bigint;
    sketches bigint;
    part record;
    n bigint;
    in_days bigint;
    dropped text[];
    counts jsonb;
    tries integer := 0;
BEGIN
    IF older_than IS NULL THEN
        RAISE EXCEPTION 'older_than must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass how much log to keep, e.g. interval ''30 days''.';
    END IF;
    -- The guard is on the time it gives, not on the interval: '-2 mon +61 days' compares as
    -- a day, yet cuts off a day in the future from some dates.
    BEGIN
        cutoff := pg_catalog.now() - older_than;
    EXCEPTION WHEN datetime_field_overflow THEN
        RAISE EXCEPTION 'older_than % reaches past the first representable date', older_than
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Keep the log of the last days or months, e.g. interval ''30 days''.';
    END;
    IF cutoff > pg_catalog.now() - interval '1 day' THEN
        RAISE EXCEPTION 'refusing to prune the log younger than 1 day'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('Stats, health and the rollout checks read the last hours; older_than %s would remove them.', older_than),
                  HINT = 'Keep at least interval ''1 day''; 30 days is typical.';
    END IF;
    LOOP
        tries := tries + 1;
        BEGIN
            -- The counters of routing_metrics() take in the minutes before a day ago first
            -- (sql/metrics.sql), so that they never go down.
            PERFORM @extschema@.webhook_routing_fold_metrics();
            DELETE FROM @extschema@.webhook_routing_sketches
            WHERE minute < pg_catalog.date_bin('1 minute', cutoff, timestamptz '2000-01-01 00:00:00+00');
            GET DIAGNOSTICS sketches = ROW_COUNT;
            DELETE FROM @extschema@.webhook_routing_session_minutes
            WHERE minute < pg_catalog.date_bin('1 minute', cutoff, timestamptz '2000-01-01 00:00:00+00');
            -- Dropping a day needs the log to itself. Decisions and outcomes lock the log before
            -- its partitions: so does this, before making days locks the default partition.
            dropped := ARRAY(
                SELECT c.relname::text
                FROM pg_catalog.pg_inherits AS i JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid
                WHERE i.inhparent = '@extschema@.webhook_routing_logs'::regclass
                  AND c.relname ~ '^webhook_routing_logs_p[0-9]{8}$'
                  AND (pg_catalog.to_date(pg_catalog.right(c.relname, 8), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC' <= cutoff
                ORDER BY c.relname);
            -- Their rows are counted before the log is locked, so that decisions never wait
            -- behind a count of a day's rows (625,000 rows read 154 million instructions,
            -- bench/scale; more from a cold disk). A day this old takes no caller's rows (they
            -- are dated now); an owner's backfill into it meanwhile is dropped uncounted.
            counts := '{}';
            FOR part IN SELECT pg_catalog.unnest(dropped) AS relname LOOP
                BEGIN
                    EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM @extschema@.%I', part.relname) INTO n;
                    counts := counts OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(part.relname, n);
                EXCEPTION WHEN undefined_table THEN
                    NULL;  -- dropped meanwhile by another prune
                END;
            END LOOP;
            IF pg_catalog.cardinality(dropped) > 0 THEN
                LOCK TABLE @extschema@.webhook_routing_logs IN ACCESS EXCLUSIVE MODE;
                -- Again, now that no partition can come or go (another prune may have been first).
                dropped := ARRAY(
                    SELECT c.relname::text
                    FROM pg_catalog.pg_inherits AS i JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid
                    WHERE i.inhparent = '@extschema@.webhook_routing_logs'::regclass
                      AND c.relname ~ '^webhook_routing_logs_p[0-9]{8}$'
                      AND (pg_catalog.to_date(pg_catalog.right(c.relname, 8), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC' <= cutoff
                    ORDER BY c.relname);
            END IF;
            -- The days ahead, and those whose rows wait in the default partition, but not a day
            -- wholly before the cutoff: its rows are deleted from the default partition below.
            made := 0;
            FOR day IN
                SELECT DISTINCT (l.created_at AT TIME ZONE 'UTC')::date FROM @extschema@.webhook_routing_logs_default AS l
                WHERE l.created_at >= greatest(cutoff, timestamptz '0001-01-01 00:00:00+00') AND l.created_at < timestamptz '10000-01-01 00:00:00+00'
                UNION
                SELECT g::date FROM pg_catalog.generate_series(today::timestamp, (today + 7)::timestamp, interval '1 day') AS g
                ORDER BY 1
            LOOP
                IF @extschema@.webhook_routing_make_day(day) THEN
                    made := made + 1;
                END IF;
            END LOOP;
            DELETE FROM @extschema@.webhook_routing_logs_default WHERE created_at < cutoff;
            GET DIAGNOSTICS from_default = ROW_COUNT;
            in_days := 0;
            FOR part IN SELECT pg_catalog.unnest(dropped) AS relname LOOP
                n := (counts OPERATOR(pg_catalog.->>) part.relname)::bigint;
                IF n IS NULL THEN
                    EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM @extschema@.%I', part.relname) INTO n;
                END IF;
                in_days := in_days + n;
                EXECUTE pg_catalog.format('DROP TABLE @extschema@.%I', part.relname);
            END LOOP;
            IF pg_catalog.cardinality(dropped) > 0 THEN
                RAISE NOTICE 'Pruned the log before %: % day partitions dropped (% rows), % rows deleted from the default partition, % sketches deleted; % day partitions made ahead.',
                    cutoff, pg_catalog.cardinality(dropped), in_days, from_default, sketches, made
                    USING DETAIL = 'Dropped: ' || pg_catalog.array_to_string(dropped, ', ') || '.';
            ELSE
                RAISE NOTICE 'Pruned the log before %: no day partition that old, % rows deleted from the default partition, % sketches deleted; % day partitions made ahead.',
                    cutoff, from_default, sketches, made;
            END IF;
            RETURN in_days + from_default;
        EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
            -- This try is undone (its locks with it); webhooks that waited behind it go on.
            IF tries >= 10 THEN
                RAISE EXCEPTION 'webhook_routing_logs is busy: nothing was pruned'
                    USING ERRCODE = 'lock_not_available',
                          DETAIL = 'Each of 10 tries waited longer than lock_timeout (200 ms) for the log or its default partition; dropping a day needs the log to itself for a moment.',
                          HINT = 'Run prune_routing_logs again later, or find the long transaction in pg_stat_activity.';
            END IF;
        END;
        PERFORM pg_catalog.pg_sleep(0.05 + 0.05 * tries * pg_catalog.random());
    END LOOP;
END $$;
