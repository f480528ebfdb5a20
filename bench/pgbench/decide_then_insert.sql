\set n random(1, 1000000000)
\set s random(1, :senders)
INSERT INTO bench_log_copy (webhook_name, domain, routed_to, status, reason, bucket, percentage, config_id, message_id)
SELECT 'whatsapp', domain, routed_to, 'pending', reason, bucket, percentage, config_id, 'wamid.A1'
FROM webhook_routing.route_decision(pg_catalog.replace(pg_catalog.replace(:payload, 'wamid.A1', 'wamid.' || :n), '250788123456', '2507' || (100000000 + :s))::jsonb, log => false)
RETURNING id;
