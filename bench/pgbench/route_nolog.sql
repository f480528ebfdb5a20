SELECT * FROM route_decision(:payload::jsonb, log => false);
