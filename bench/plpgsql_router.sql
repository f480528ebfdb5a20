-- The same routing rules as route_decision, written in PL/pgSQL: the baseline a team would
-- hand-roll. Same config history, same rules table, same log; the bucket uses Postgres's
-- hashtext() since murmur3 is not in SQL, which costs about the same.
CREATE FUNCTION bench_plpgsql_route(message jsonb, webhook_name text DEFAULT 'whatsapp',
                                    routing_key text DEFAULT NULL, log boolean DEFAULT true)
RETURNS TABLE (decision_id bigint, domain text, routed_to text, reason text, bucket integer,
               percentage numeric, config_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    cfg webhook_routing.webhook_routing_config%ROWTYPE;
    msg jsonb;
    sender text;
    ids text[] := '{}';
    words text;
    v_domain text;
    v_rule bigint;
    v_pct numeric;
    v_bucket int;
    v_reason text;
    v_unified boolean := false;
    v_id bigint;
    j jsonb;
BEGIN
    SELECT * INTO cfg FROM webhook_routing.webhook_routing_config c ORDER BY c.created_at DESC, c.id DESC LIMIT 1;
    IF jsonb_typeof(message) IS DISTINCT FROM 'object' OR NOT message ? 'entry' THEN
        v_reason := 'not_a_webhook';
    ELSE
        -- The first message with a sender or a type, and the sender from contacts as fallback.
        SELECT m, coalesce(CASE jsonb_typeof(m->'from') WHEN 'string' THEN m->>'from' END,
                           (SELECT c->>'wa_id' FROM jsonb_array_elements(
                                CASE jsonb_typeof(ch->'value'->'contacts') WHEN 'array' THEN ch->'value'->'contacts' ELSE '[]' END) AS c
                            WHERE jsonb_typeof(c->'wa_id') = 'string' LIMIT 1))
        INTO msg, sender
        FROM jsonb_array_elements(CASE jsonb_typeof(message->'entry') WHEN 'array' THEN message->'entry' ELSE '[]' END) WITH ORDINALITY AS e(en, i),
             jsonb_array_elements(CASE jsonb_typeof(en->'changes') WHEN 'array' THEN en->'changes' ELSE '[]' END) WITH ORDINALITY AS c(ch, k),
             jsonb_array_elements(CASE jsonb_typeof(ch->'value'->'messages') WHEN 'array' THEN ch->'value'->'messages' ELSE '[]' END) WITH ORDINALITY AS ms(m, n)
        WHERE jsonb_typeof(m) = 'object'
          AND (jsonb_typeof(m->'from') = 'string' OR jsonb_typeof(m->'type') = 'string')
        ORDER BY i, k, n
        LIMIT 1;
        IF msg IS NULL THEN
            v_reason := 'no_user_message';
        END IF;
    END IF;

    IF msg IS NOT NULL THEN
        FOREACH j IN ARRAY ARRAY[msg #> '{interactive,button_reply,id}', msg #> '{interactive,list_reply,id}', msg #> '{button,payload}'] LOOP
            IF jsonb_typeof(j) = 'string' THEN ids := ids || (j #>> '{}'); END IF;
        END LOOP;
        words := ' ';
        FOREACH j IN ARRAY ARRAY[msg #> '{text,body}', msg #> '{image,caption}', msg #> '{video,caption}',
                                msg #> '{document,caption}', msg #> '{interactive,button_reply,title}',
                                msg #> '{interactive,list_reply,title}', msg #> '{interactive,list_reply,description}',
                                msg #> '{button,text}'] LOOP
            IF jsonb_typeof(j) = 'string' THEN
                words := words || array_to_string(regexp_split_to_array(lower(j #>> '{}'), '[^[:alnum:]]+'), ' ') || ' | ';
            END IF;
        END LOOP;
        SELECT r.domain, r.id INTO v_domain, v_rule
        FROM webhook_routing.webhook_routing_rules r
        WHERE r.enabled AND CASE r.match_kind
            WHEN 'id_prefix' THEN EXISTS (SELECT 1 FROM unnest(ids) AS x WHERE lower(x) LIKE lower(r.pattern) || '%')
            WHEN 'message_type' THEN lower(msg->>'type') = lower(r.pattern)
            ELSE words LIKE '% ' || CASE WHEN r.pattern LIKE '%*' THEN rtrim(lower(r.pattern), '*') || '%'
                                         ELSE lower(r.pattern) || ' %' END
            END
        ORDER BY r.priority, CASE r.match_kind WHEN 'keyword' THEN 1 ELSE 0 END,
                 position(' ' || rtrim(lower(r.pattern), '*') IN words), r.id
        LIMIT 1;
        IF v_domain IS NULL THEN
            v_reason := 'unknown_domain';
        ELSIF v_domain = ANY (cfg.protected_domains) THEN
            v_reason := 'protected_domain';
        ELSIF NOT v_domain = ANY (cfg.domains) THEN
            v_reason := 'domain_not_routed';
        ELSE
            v_pct := coalesce((cfg.domain_percentages->>v_domain)::numeric, cfg.percentage);
            v_bucket := CASE WHEN coalesce(routing_key, sender, '') <> ''
                             THEN abs(hashtext(v_domain || ':' || coalesce(nullif(routing_key, ''), sender))) % 10000
                             ELSE floor(random() * 10000)::int END;
            IF NOT cfg.enabled THEN
                v_reason := 'routing_disabled';
            ELSIF NOT coalesce((cfg.domain_enabled->>v_domain)::boolean, true) THEN
                v_reason := 'domain_disabled';
            ELSE
                v_unified := v_bucket < v_pct * 100;
                v_reason := CASE WHEN v_unified THEN 'in_rollout' ELSE 'not_in_rollout' END;
            END IF;
        END IF;
    END IF;

    IF coalesce(log, true) THEN
        INSERT INTO webhook_routing.webhook_routing_logs (webhook_name, domain, routed_to, status, reason, bucket,
                                          percentage, config_id, rule_id, message_id)
        VALUES (webhook_name, v_domain, CASE WHEN v_unified THEN 'unified' ELSE 'legacy' END, 'pending',
                v_reason, v_bucket, v_pct, cfg.id, v_rule, msg->>'id')
        RETURNING id INTO v_id;
    END IF;
    RETURN QUERY SELECT v_id, v_domain, CASE WHEN v_unified THEN 'unified' ELSE 'legacy' END,
                        v_reason, v_bucket, v_pct, cfg.id;
END $$;
