-- The SQL edition's read of the settings in force for the admin functions (sql/admin.sql, the
-- same source in both editions), where the native library reads under the newest committed
-- snapshot (src/api/admin.rs), which SQL cannot take. Held to the native edition's answers by
-- tests/vectors/check.sh (tests/vectors/admin.sql).
--
-- At READ COMMITTED (the default) each statement reads the newest committed state, taken after
-- the caller's lock on the config history: the same rows. Under REPEATABLE READ or
-- SERIALIZABLE the transaction's snapshot is all SQL can read, and it may predate a change
-- committed since, which a change built on it would undo (a kill switch turned back on): the
-- edition refuses (40001) rather than build on it when it cannot tell that it is current, where
-- the native edition reads the newest row and goes on. It cannot tell when the sequence of the
-- history's ids or of the plans' has moved past the newest id the snapshot sees (a change
-- committed since, or one rolled back, which used an id too), or a plan in progress changed
-- since (its row, locked FOR SHARE, says so).
CREATE FUNCTION @extschema@.webhook_routing_settings_in_force() RETURNS text
LANGUAGE plpgsql STRICT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    settings jsonb;
    newest_config bigint;
    newest_plan bigint;
BEGIN
    IF pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) 'read committed' THEN
        BEGIN
            PERFORM 1 FROM @extschema@.webhook_routing_rollouts AS r
             WHERE r.state OPERATOR(pg_catalog.=) ANY (ARRAY['active', 'paused'])
               FOR SHARE;
        EXCEPTION WHEN serialization_failure THEN
            newest_plan := -1;
        END;
        SELECT CASE WHEN s.is_called THEN s.last_value ELSE 0 END INTO newest_config
          FROM @extschema@.webhook_routing_config_id_seq AS s;
        IF newest_plan IS NULL THEN
            SELECT CASE WHEN s.is_called THEN s.last_value ELSE 0 END INTO newest_plan
              FROM @extschema@.webhook_routing_rollouts_id_seq AS s;
        END IF;
        IF newest_plan OPERATOR(pg_catalog.<) 0
           OR newest_config OPERATOR(pg_catalog.>) (SELECT COALESCE(pg_catalog.max(c.id), 0) FROM @extschema@.webhook_routing_config AS c)
           OR newest_plan OPERATOR(pg_catalog.>) (SELECT COALESCE(pg_catalog.max(r.id), 0) FROM @extschema@.webhook_routing_rollouts AS r) THEN
            RAISE EXCEPTION 'the routing config or a rollout plan changed after this transaction''s snapshot was taken'
                USING ERRCODE = 'serialization_failure',
                      DETAIL = 'The transaction runs at REPEATABLE READ or SERIALIZABLE, and a change committed since its snapshot (or one rolled back: the SQL edition cannot tell them apart); acting on what the snapshot shows could undo that change.',
                      HINT = 'Retry in a new transaction, or call the admin functions at READ COMMITTED (the default).';
        END IF;
    END IF;
    SELECT pg_catalog.jsonb_build_object(
               'config', (SELECT pg_catalog.to_jsonb(c) FROM @extschema@.webhook_routing_config AS c
                           ORDER BY c.created_at DESC, c.id DESC LIMIT 1),
               'plans', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(r.domain, r.id, r.state) ORDER BY r.id), '[]')
                           FROM @extschema@.webhook_routing_rollouts AS r
                          WHERE r.state OPERATOR(pg_catalog.=) ANY (ARRAY['active', 'paused'])))
      INTO settings;
    RETURN settings::text;
END
$$;
