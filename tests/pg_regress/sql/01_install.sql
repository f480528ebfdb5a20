-- A fresh install: what CREATE EXTENSION makes, and the config in force.
CREATE EXTENSION webhook_routing;

SELECT extname, extversion, extrelocatable FROM pg_extension WHERE extname = 'webhook_routing';

-- The tables, views and functions an operator uses.
SELECT c.relname, c.relkind
FROM pg_class c JOIN pg_depend d ON d.objid = c.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'webhook_routing'
WHERE c.relkind IN ('r', 'p', 'v')
ORDER BY c.relname;

SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS arguments
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'webhook_routing'
ORDER BY p.proname;

-- Installed at 0%, disabled.
SELECT percentage, enabled, domains FROM webhook_routing_config ORDER BY created_at DESC LIMIT 1;
SELECT id, percentage, enabled, domains, protected_domains, domain_percentages, domain_enabled, action, reason
FROM webhook_routing_config ORDER BY id;

-- The seeded detection rules, by domain and kind.
SELECT domain, match_kind, count(*) AS rules, min(priority) AS priority
FROM webhook_routing_rules GROUP BY domain, match_kind ORDER BY priority, domain, match_kind;

SELECT domain, check_name, warning, critical, min_samples
FROM webhook_routing_thresholds ORDER BY check_name;
