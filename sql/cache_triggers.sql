-- Every backend caches the config in force and the compiled rules (src/cache.rs). Any change
-- to these tables, by the admin functions or by hand, invalidates those caches at commit.
CREATE TRIGGER webhook_routing_config_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON webhook_routing_config
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_routing_invalidate_cache();

CREATE TRIGGER webhook_routing_rules_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON webhook_routing_rules
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_routing_invalidate_cache();
