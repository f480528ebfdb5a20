SELECT decision_id FROM route_decision(:payload::jsonb) \gset
SELECT record_routing_outcome(:decision_id, 'success', 812.5);
