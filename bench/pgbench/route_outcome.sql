\set n random(1, 1000000000)
SELECT decision_id FROM route_decision(pg_catalog.replace(:payload, 'wamid.A1', 'wamid.' || :n)::jsonb) \gset
SELECT record_routing_outcome(:decision_id, 'success', 812.5);
