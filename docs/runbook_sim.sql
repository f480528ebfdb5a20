-- The traffic simulator the runbook uses: conversations of a domain from distinct senders (an
-- opening, then three replies to the bot with no cue of their own), decided and logged by
-- route_decision, with outcomes reported the way the edge router reports them. Legacy answers
-- in 600-1000 ms; unified in unified_ms-(unified_ms+400) ms and fails unified_errors of its
-- requests.
CREATE ROLE service_role NOLOGIN;  -- as on Supabase
CREATE SCHEMA sim;
CREATE SEQUENCE sim.senders START 1;

CREATE FUNCTION sim.message(domain text, sender text, turn int DEFAULT 0) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('object', 'whatsapp_business_account', 'entry', jsonb_build_array(
        jsonb_build_object('id', '1', 'changes', jsonb_build_array(jsonb_build_object('field', 'messages',
            'value', jsonb_build_object('messaging_product', 'whatsapp', 'messages', jsonb_build_array(
                jsonb_build_object('from', sender, 'id', 'wamid.' || sender || '.' || floor(random() * 1e9),
                                   'type', 'text', 'text', jsonb_build_object('body',
                    CASE WHEN turn > 0 THEN (ARRAY['2', 'yes please', 'Kicukiro'])[1 + (turn - 1) % 3]
                                WHEN domain = 'jobs' THEN 'Any job vacancy for a cashier? I am looking for work'
                                WHEN domain = 'marketplace' THEN 'I want to sell my phone, what price?'
                                WHEN domain = 'property' THEN 'House for rent in Kimironko, 2 bedrooms'
                                WHEN domain = 'ai_agents' THEN 'Can your AI assistant answer my customers?'
                                ELSE 'I need a ride to town' END)))))))))
$$;

CREATE FUNCTION sim.send(domain text, n int, unified_errors float8 DEFAULT 0, unified_ms numeric DEFAULT 650)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d record;
    failed boolean;
    unified int := 0;
    sender text;
BEGIN
    FOR i IN 0 .. n - 1 LOOP
        IF i % 4 = 0 THEN
            sender := '2507' || lpad(nextval('sim.senders')::text, 8, '0');
        END IF;
        SELECT * INTO d FROM webhook_routing.route_decision(sim.message(domain, sender, i % 4));
        unified := unified + (d.routed_to = 'unified')::int;
        failed := d.routed_to = 'unified' AND random() < unified_errors;
        PERFORM webhook_routing.record_routing_outcome(d.decision_id, CASE WHEN failed THEN 'error' ELSE 'success' END,
            round((CASE d.routed_to WHEN 'unified' THEN unified_ms ELSE 600 END + random() * 400)::numeric, 1),
            CASE WHEN failed THEN 'HTTP 500: upstream handler error' END);
    END LOOP;
    RETURN format('%s: %s sent, %s to unified', domain, n, unified);
END $$;

-- Waits for the next minute to begin: stats count whole minutes, and a minute counts for the
-- step in force when it began.
CREATE FUNCTION sim.next_minute() RETURNS void LANGUAGE sql AS $$
    SELECT pg_sleep(60 - extract(epoch FROM clock_timestamp())::numeric % 60 + 0.2)
$$;
