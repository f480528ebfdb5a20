-- Installed in its own schema, the extension works whatever the caller's search_path.
DROP EXTENSION webhook_routing;
CREATE SCHEMA routing;
CREATE EXTENSION webhook_routing SCHEMA routing;
SET search_path = public;

SELECT routing.set_routing_enabled(true, 'schema test');
SELECT routing.update_routing_percentage(100, 'schema test');
SELECT domain, routed_to, reason, decision_id
FROM routing.route_decision('{"entry": [{"changes": [{"value": {"messages": [{"from": "250788000009", "type": "text", "text": {"body": "any job for a driver?"}}]}}]}]}');
SELECT routing.record_routing_outcome(1, 'success', 250);
SELECT domain, routed_to, requests, p95_ms, error_pct FROM routing.webhook_routing_stats ORDER BY 1, 2;
SELECT domain, routed_to, check_name, status FROM routing.check_routing_health() WHERE domain = 'mobility';
DROP EXTENSION webhook_routing;
DROP SCHEMA routing;
