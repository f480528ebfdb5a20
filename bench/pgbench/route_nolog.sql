\set n random(1, 1000000000)
\set s random(1, :senders)
SELECT * FROM webhook_routing.route_decision(pg_catalog.replace(pg_catalog.replace(:payload, 'wamid.A1', 'wamid.' || :n), '250788123456', '2507' || (100000000 + :s))::jsonb, log => false);
