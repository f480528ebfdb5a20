\set n random(1, 1000000000)
SELECT * FROM route_decision(pg_catalog.replace(:payload, 'wamid.A1', 'wamid.' || :n)::jsonb);
