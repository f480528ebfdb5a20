INSERT INTO bench_log_copy (webhook_name, domain, routed_to, status, reason, bucket, percentage, config_id, message_id)
SELECT 'whatsapp', domain, routed_to, 'pending', reason, bucket, percentage, config_id, 'wamid.A1'
FROM route_decision(:payload::jsonb, log => false)
RETURNING id;
