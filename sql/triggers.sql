-- Every backend caches the config in force and the compiled rules (src/cache.rs). Any change
-- to these tables, by the admin functions or by hand, invalidates those caches at commit.
CREATE TRIGGER webhook_routing_config_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON webhook_routing_config
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_routing_invalidate_cache();

CREATE TRIGGER webhook_routing_rules_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON webhook_routing_rules
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_routing_invalidate_cache();

-- Every outcome is added to its minute's latency sketch in the transaction that writes it
-- (src/sketch.rs): the row triggers collect, the statement trigger writes once per minute,
-- domain and target. A pending decision is filtered out by the WHEN clauses, before any call.
CREATE TRIGGER webhook_routing_logs_outcome_inserted
    AFTER INSERT ON webhook_routing_logs
    FOR EACH ROW WHEN (NEW.status <> 'pending')
    EXECUTE FUNCTION webhook_routing_logs_to_sketch();

CREATE TRIGGER webhook_routing_logs_outcome_reported
    AFTER UPDATE OF status ON webhook_routing_logs
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status <> 'pending')
    EXECUTE FUNCTION webhook_routing_logs_to_sketch();

CREATE TRIGGER webhook_routing_logs_write_sketches
    AFTER INSERT OR UPDATE ON webhook_routing_logs
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_routing_logs_flush_sketches();

-- TRUNCATE of the log empties the sketches too, so that stats never count what is gone.
CREATE FUNCTION webhook_routing_logs_truncated() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    TRUNCATE @extschema@.webhook_routing_sketches;
    RETURN NULL;
END $$;

CREATE TRIGGER webhook_routing_logs_truncate_sketches
    AFTER TRUNCATE ON webhook_routing_logs
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_routing_logs_truncated();
