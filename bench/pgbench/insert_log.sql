INSERT INTO webhook_routing.webhook_routing_logs (webhook_name, domain, routed_to, status, reason, bucket, percentage, config_id, rule_id, message_id)
VALUES ('whatsapp', 'jobs', 'legacy', 'pending', 'not_in_rollout', 1788, 10.00, 3, 5, 'wamid.A1');
