-- Every shared payload, and payloads that are not user messages or not WhatsApp at all.
-- log => false: dry runs write nothing.
SELECT set_routing_enabled(true, 'regress: routing on');
SELECT update_routing_percentage(100, 'regress: everything that may go, goes');

\set text_jobs `cat tests/fixtures/text_jobs.json`
\set text_property `cat tests/fixtures/text_property.json`
\set button_reply_marketplace `cat tests/fixtures/button_reply_marketplace.json`
\set list_reply_jobs `cat tests/fixtures/list_reply_jobs.json`
\set template_button_insurance `cat tests/fixtures/template_button_insurance.json`
\set location_mobility `cat tests/fixtures/location_mobility.json`
\set image_caption_marketplace `cat tests/fixtures/image_caption_marketplace.json`
\set status_delivered `cat tests/fixtures/status_delivered.json`

SELECT f.name, r.domain, r.routed_to, r.reason, r.bucket, r.percentage, r.decision_id
FROM (VALUES
    ('text_jobs', :'text_jobs'::jsonb),
    ('text_property', :'text_property'::jsonb),
    ('button_reply_marketplace', :'button_reply_marketplace'::jsonb),
    ('list_reply_jobs', :'list_reply_jobs'::jsonb),
    ('template_button_insurance', :'template_button_insurance'::jsonb),
    ('location_mobility', :'location_mobility'::jsonb),
    ('image_caption_marketplace', :'image_caption_marketplace'::jsonb),
    ('status_delivered', :'status_delivered'::jsonb)
) AS f(name, payload), route_decision(f.payload, log => false) AS r
ORDER BY f.name;

-- Anything else is answered, never raised.
SELECT f.label, r.domain, r.routed_to, r.reason
FROM (VALUES
    ('SQL NULL', NULL::jsonb),
    ('json null', 'null'),
    ('number', '42'),
    ('string', '"hello"'),
    ('array', '[{"entry": []}]'),
    ('other JSON', '{"object": "page", "data": [1, 2, 3]}'),
    ('empty batch', '{"object": "whatsapp_business_account", "entry": []}'),
    ('entry of wrong type', '{"entry": "yes"}'),
    ('messages of wrong type', '{"entry": [{"changes": [{"value": {"messages": {"from": "1"}}}]}]}'),
    ('message with wrong types', '{"entry": [{"changes": [{"value": {"messages": [{"from": 250788, "type": 1, "text": ["job"]}]}}]}]}'),
    ('unknown message type', '{"entry": [{"changes": [{"value": {"messages": [{"from": "250788000001", "type": "sticker", "sticker": {"id": "s1"}}]}}]}]}'),
    ('number beyond float8', '{"entry": [{"changes": [{"value": {"messages": [{"from": "250788000002", "type": "text", "text": {"body": "any jobs?"}, "n": 1e400}]}}]}]}'),
    ('no sender: random bucket', '{"entry": [{"changes": [{"value": {"messages": [{"type": "text", "text": {"body": "any jobs?"}}]}}]}]}')
) AS f(label, payload), route_decision(f.payload, log => false) AS r
ORDER BY f.label;

SELECT count(*) AS rows_logged_by_dry_runs FROM webhook_routing_logs;

-- routing_key overrides the sender; the bucket is reproducible with routing_bucket().
SELECT r.bucket, routing_bucket('jobs', 'tenant-42') AS expected
FROM route_decision(:'text_jobs'::jsonb, routing_key => 'tenant-42', log => false) AS r;
SELECT r.bucket, routing_bucket('jobs', '250788123456') AS expected
FROM route_decision(:'text_jobs'::jsonb, log => false) AS r;
