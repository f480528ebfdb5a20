-- The operator's functions: change the percentage, the switches, the testers and denied keys,
-- and the routable domains; and the rollouts' step. One source for both editions: the native
-- library adds only webhook_routing_settings_in_force (the row in force read under the newest
-- snapshot, src/api/admin.rs), which the SQL edition has in PL/pgSQL (sql/edition/admin.sql).
--
-- Each change validates everything first (SQLSTATE 22023 or 22004 with a hint on refusal, the
-- history untouched), then appends one row with the full settings in force to
-- webhook_routing_config and raises a NOTICE saying what is now in force. Changes are
-- serialized by a SHARE ROW EXCLUSIVE lock on the config table, which readers do not wait for,
-- so two concurrent changes never lose one another. The row in force is read after the lock is
-- taken, as the newest committed one whatever the caller's isolation level: under REPEATABLE
-- READ the transaction's snapshot could rebuild the row without a change committed since (a
-- kill switch turned back on).

-- A percentage in basis points: a number from 0 to 100 with at most two decimals, read from
-- its text as PostgreSQL prints it ("12.50", "NaN", "-1"); or the refusal.
CREATE FUNCTION webhook_routing_percentage_bp(percentage numeric) RETURNS integer
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    hint CONSTANT text := 'Pass a number from 0 to 100 with at most two decimals, e.g. 10 or 12.5.';
    text_of text := percentage::text;
BEGIN
    IF percentage IS NULL THEN
        RAISE EXCEPTION 'percentage must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = hint;
    END IF;
    -- NaN, infinities and negative numbers (a sign) are not digits.
    IF text_of OPERATOR(pg_catalog.!~) '^[0-9]+(\.[0-9]+)?$' THEN
        RAISE EXCEPTION 'invalid percentage %', text_of
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The percentage must be between 0 and 100.', HINT = hint;
    END IF;
    IF pg_catalog.length(pg_catalog.rtrim(pg_catalog.split_part(text_of, '.', 2), '0')) OPERATOR(pg_catalog.>) 2 THEN
        RAISE EXCEPTION 'invalid percentage %', text_of
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The percentage has more than two decimals.', HINT = hint;
    END IF;
    IF percentage OPERATOR(pg_catalog.>) 100 THEN
        RAISE EXCEPTION 'invalid percentage %', text_of
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The percentage must be between 0 and 100.', HINT = hint;
    END IF;
    RETURN (percentage OPERATOR(pg_catalog.*) 100)::integer;
END
$$;

-- "10%", "12.5%", "0.25%": basis points as people write a percentage.
CREATE FUNCTION webhook_routing_format_percentage(bp integer) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
    SELECT pg_catalog.rtrim(pg_catalog.rtrim(
               (bp OPERATOR(pg_catalog./) 100)::text OPERATOR(pg_catalog.||) '.'
               OPERATOR(pg_catalog.||) pg_catalog.lpad((bp OPERATOR(pg_catalog.%) 100)::text, 2, '0'),
               '0'), '.') OPERATOR(pg_catalog.||) '%'
$$;

-- Before a change: the reason's length, a hot standby, durability, the lock; then the row in
-- force (the install's defaults when the history is empty), its lists as every change writes
-- them, and the plans in progress (active or paused) as [domain, id, state] by id.
CREATE FUNCTION webhook_routing_config_for_change(reason text, OUT config @extschema@.webhook_routing_config, OUT plans jsonb)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    settings jsonb;
BEGIN
    IF pg_catalog.length(reason) OPERATOR(pg_catalog.>) 1000 THEN
        RAISE EXCEPTION 'reason is too long'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A reason has at most 1000 characters.',
                  HINT = 'Summarize the reason; link to a ticket for the details.';
    END IF;
    IF pg_catalog.pg_is_in_recovery() THEN
        RAISE EXCEPTION 'the routing config cannot change on a hot standby'
            USING ERRCODE = 'read_only_sql_transaction',
                  DETAIL = 'This server is a hot standby: it is in recovery and writes nothing.',
                  HINT = 'Run the admin functions on the primary; standbys follow its config history.';
    END IF;
    -- A change to the config history commits synchronously, whatever the session says (the
    -- native edition's cache trigger also keeps a later logged decision from relaxing it).
    IF pg_catalog.current_setting('synchronous_commit') OPERATOR(pg_catalog.=) 'off' THEN
        PERFORM pg_catalog.set_config('synchronous_commit', 'on', true);
    END IF;
    LOCK TABLE @extschema@.webhook_routing_config IN SHARE ROW EXCLUSIVE MODE;
    settings := @extschema@.webhook_routing_settings_in_force()::jsonb;
    IF settings OPERATOR(pg_catalog.->) 'config' OPERATOR(pg_catalog.=) 'null'::jsonb THEN
        config := pg_catalog.jsonb_populate_record(NULL::@extschema@.webhook_routing_config,
            '{"percentage": 0, "enabled": false, "domains": ["jobs", "marketplace", "property"],
              "protected_domains": ["mobility", "profile", "insurance"], "domain_percentages": {},
              "domain_enabled": {}, "testers": {}, "denied": {}}');
    ELSE
        config := pg_catalog.jsonb_populate_record(NULL::@extschema@.webhook_routing_config,
                                                  settings OPERATOR(pg_catalog.->) 'config');
        config.domains := ARRAY(SELECT d FROM pg_catalog.unnest(config.domains) AS d WHERE d IS NOT NULL);
        config.protected_domains := ARRAY(SELECT d FROM pg_catalog.unnest(config.protected_domains) AS d WHERE d IS NOT NULL);
        config.domain_percentages := (SELECT COALESCE(pg_catalog.jsonb_object_agg(e.key, pg_catalog.round(e.value::numeric, 2)), '{}')
                                      FROM pg_catalog.jsonb_each(config.domain_percentages) AS e);
    END IF;
    plans := settings OPERATOR(pg_catalog.->) 'plans';
END
$$;

-- Append `next` to the history as the change `action`, by the role that called the admin
-- function: current_user outside it, which is the role SET ROLE chose, else the session's
-- (inside a SECURITY DEFINER function current_user is the extension's owner). Returns its id.
CREATE FUNCTION webhook_routing_config_append(next @extschema@.webhook_routing_config, action text, reason text,
                                              rollout_id bigint DEFAULT NULL, detail jsonb DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    id bigint;
BEGIN
    INSERT INTO @extschema@.webhook_routing_config (percentage, enabled, domains, protected_domains,
        domain_percentages, domain_enabled, action, reason, changed_by, rollout_id, detail, testers, denied)
    VALUES (next.percentage, next.enabled, next.domains, next.protected_domains,
            next.domain_percentages, next.domain_enabled, action, reason,
            CASE WHEN pg_catalog.current_setting('role') OPERATOR(pg_catalog.=) 'none' THEN session_user::text
                 ELSE pg_catalog.current_setting('role') END,
            rollout_id, detail, next.testers, next.denied)
    RETURNING webhook_routing_config.id INTO id;
    RETURN id;
END
$$;

-- The domain an admin call targets must be routable: known, and not protected.
CREATE FUNCTION webhook_routing_check_domain(config @extschema@.webhook_routing_config, domain text) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
    IF domain OPERATOR(pg_catalog.=) ANY (config.protected_domains) THEN
        RAISE EXCEPTION 'domain "%" is protected', domain
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('Protected domains are never routed: %s.', pg_catalog.array_to_string(config.protected_domains, ', ')),
                  HINT = 'Protected domains always go to their legacy handler; pick a routable domain.';
    END IF;
    IF NOT domain OPERATOR(pg_catalog.=) ANY (config.domains) THEN
        RAISE EXCEPTION 'unknown domain "%"', domain
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('Routable domains: %s.', pg_catalog.array_to_string(config.domains, ', ')),
                  HINT = 'Check the spelling, or add the domain with webhook_routing.set_routing_domains() first.';
    END IF;
END
$$;

-- A domain's percentage in force, in basis points: its own, else the global one.
CREATE FUNCTION webhook_routing_percentage_for(config @extschema@.webhook_routing_config, domain text) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
    SELECT (COALESCE((config.domain_percentages OPERATOR(pg_catalog.->>) domain)::numeric, config.percentage)
            OPERATOR(pg_catalog.*) 100)::integer
$$;

-- Each routable domain's percentage in force, in the order of the domains, and which are off:
-- "jobs 0%, marketplace 5%, property 25% (off)".
CREATE FUNCTION webhook_routing_in_force(config @extschema@.webhook_routing_config) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
    SELECT COALESCE(pg_catalog.string_agg(
               d OPERATOR(pg_catalog.||) ' '
               OPERATOR(pg_catalog.||) @extschema@.webhook_routing_format_percentage(@extschema@.webhook_routing_percentage_for(config, d))
               OPERATOR(pg_catalog.||) CASE WHEN (config.domain_enabled OPERATOR(pg_catalog.->) d) OPERATOR(pg_catalog.=) 'false'::jsonb
                                            THEN ' (off)' ELSE '' END,
               ', ' ORDER BY n), 'no routable domain')
    FROM pg_catalog.unnest(config.domains) WITH ORDINALITY AS t(d, n)
    WHERE NOT d OPERATOR(pg_catalog.=) ANY (config.protected_domains)
$$;

-- Set the rollout percentage, globally or for one domain (which then overrides the global one).
CREATE FUNCTION update_routing_percentage(percentage numeric, reason text DEFAULT NULL, domain text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    bp integer := @extschema@.webhook_routing_percentage_bp(percentage);
    next @extschema@.webhook_routing_config;
    id bigint;
    overrides text;
BEGIN
    next := (@extschema@.webhook_routing_config_for_change(reason)).config;
    IF domain IS NULL THEN
        next.percentage := pg_catalog.round(bp OPERATOR(pg_catalog./) 100.0, 2);
    ELSE
        PERFORM @extschema@.webhook_routing_check_domain(next, domain);
        next.domain_percentages := next.domain_percentages
            OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(domain, pg_catalog.round(bp OPERATOR(pg_catalog./) 100.0, 2));
    END IF;
    id := @extschema@.webhook_routing_config_append(next, 'set_percentage', reason);
    IF domain IS NULL THEN
        SELECT pg_catalog.string_agg(pg_catalog.format('%s (%s)', e.key,
                   @extschema@.webhook_routing_format_percentage((e.value::numeric OPERATOR(pg_catalog.*) 100)::integer)),
                   ', ' ORDER BY e.key COLLATE "C")
          INTO overrides
          FROM pg_catalog.jsonb_each(next.domain_percentages) AS e
         WHERE e.key OPERATOR(pg_catalog.=) ANY (next.domains) AND NOT e.key OPERATOR(pg_catalog.=) ANY (next.protected_domains);
        IF overrides IS NULL THEN
            RAISE NOTICE 'Routing percentage updated to %. Enabled: %', @extschema@.webhook_routing_format_percentage(bp), next.enabled::text;
        ELSE
            RAISE NOTICE 'Routing percentage updated to %. Enabled: %', @extschema@.webhook_routing_format_percentage(bp), next.enabled::text
                USING DETAIL = pg_catalog.format('These domains keep their own percentage: %s.', overrides);
        END IF;
    ELSIF next.enabled THEN
        RAISE NOTICE 'Routing percentage for % updated to %. Enabled: %', domain, @extschema@.webhook_routing_format_percentage(bp),
            COALESCE((next.domain_enabled OPERATOR(pg_catalog.->>) domain)::boolean, true)::text;
    ELSE
        RAISE NOTICE 'Routing percentage for % updated to %. Enabled: false', domain, @extschema@.webhook_routing_format_percentage(bp)
            USING DETAIL = 'Routing is disabled globally: nothing is routed until set_routing_enabled(true).';
    END IF;
    RETURN id;
END
$$;

-- Turn routing on or off, globally (the kill switch) or for one domain.
CREATE FUNCTION set_routing_enabled(enabled boolean, reason text DEFAULT NULL, domain text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    next @extschema@.webhook_routing_config;
    id bigint;
    overrides text;
    message text;
BEGIN
    IF enabled IS NULL THEN
        RAISE EXCEPTION 'enabled must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass true to route, false to send everything to legacy.';
    END IF;
    next := (@extschema@.webhook_routing_config_for_change(reason)).config;
    IF domain IS NULL THEN
        next.enabled := enabled;
    ELSE
        PERFORM @extschema@.webhook_routing_check_domain(next, domain);
        next.domain_enabled := next.domain_enabled OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(domain, enabled);
    END IF;
    id := @extschema@.webhook_routing_config_append(next, 'set_enabled', reason);
    IF domain IS NULL THEN
        SELECT pg_catalog.string_agg(pg_catalog.format('%s (disabled)', e.key), ', ' ORDER BY e.key COLLATE "C")
          INTO overrides
          FROM pg_catalog.jsonb_each(next.domain_enabled) AS e
         WHERE e.key OPERATOR(pg_catalog.=) ANY (next.domains) AND NOT e.key OPERATOR(pg_catalog.=) ANY (next.protected_domains)
           AND e.value OPERATOR(pg_catalog.=) 'false'::jsonb;
        message := CASE WHEN enabled THEN pg_catalog.format('Routing enabled: %s.', @extschema@.webhook_routing_in_force(next))
                        ELSE pg_catalog.format('Routing disabled: nothing is routed (%s once enabled again).', @extschema@.webhook_routing_in_force(next)) END;
        IF overrides IS NULL THEN
            RAISE NOTICE '%', message;
        ELSE
            RAISE NOTICE '%', message USING DETAIL = pg_catalog.format('These domains keep their own switch: %s.', overrides);
        END IF;
    ELSE
        message := pg_catalog.format('Routing for %s %s. Percentage: %s', domain,
                       CASE WHEN enabled THEN 'enabled' ELSE 'disabled' END,
                       @extschema@.webhook_routing_format_percentage(@extschema@.webhook_routing_percentage_for(next, domain)));
        IF enabled AND NOT next.enabled THEN
            RAISE NOTICE '%', message
                USING DETAIL = 'Routing is disabled globally: nothing is routed until set_routing_enabled(true).';
        ELSE
            RAISE NOTICE '%', message;
        END IF;
    END IF;
    RETURN id;
END
$$;

-- A list of routing keys as stored: each trimmed (of Unicode white space), a phone number as
-- WhatsApp's `from` writes it (digits only: "+250 788-123-456" is "250788123456"), each 1 to
-- 200 characters, sorted (by bytes), once each; or the refusal. `what`: testers or denied.
CREATE FUNCTION webhook_routing_routing_keys(keys text[], what text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    -- Unicode's White_Space characters.
    blanks CONSTANT text := E' \t\n\u000b\f\r' OPERATOR(pg_catalog.||) pg_catalog.chr(133) OPERATOR(pg_catalog.||) pg_catalog.chr(160)
        OPERATOR(pg_catalog.||) pg_catalog.chr(5760) OPERATOR(pg_catalog.||) pg_catalog.chr(8192) OPERATOR(pg_catalog.||) pg_catalog.chr(8193)
        OPERATOR(pg_catalog.||) pg_catalog.chr(8194) OPERATOR(pg_catalog.||) pg_catalog.chr(8195) OPERATOR(pg_catalog.||) pg_catalog.chr(8196)
        OPERATOR(pg_catalog.||) pg_catalog.chr(8197) OPERATOR(pg_catalog.||) pg_catalog.chr(8198) OPERATOR(pg_catalog.||) pg_catalog.chr(8199)
        OPERATOR(pg_catalog.||) pg_catalog.chr(8200) OPERATOR(pg_catalog.||) pg_catalog.chr(8201) OPERATOR(pg_catalog.||) pg_catalog.chr(8202)
        OPERATOR(pg_catalog.||) pg_catalog.chr(8232) OPERATOR(pg_catalog.||) pg_catalog.chr(8233) OPERATOR(pg_catalog.||) pg_catalog.chr(8239)
        OPERATOR(pg_catalog.||) pg_catalog.chr(8287) OPERATOR(pg_catalog.||) pg_catalog.chr(12288);
    given text;
    i bigint;
    key text;
    phone boolean;
    out text[] := '{}';
BEGIN
    IF keys IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', what
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the routing keys, e.g. ARRAY[''250788123456''], or ''{}'' for none.';
    END IF;
    IF pg_catalog.cardinality(keys) OPERATOR(pg_catalog.>) 1000 THEN
        RAISE EXCEPTION 'too many %: %', what, pg_catalog.cardinality(keys)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A domain''s list holds at most 1000 routing keys.',
                  HINT = 'List the people who test the unified handler; a share of everyone is the percentage.';
    END IF;
    FOR given, i IN SELECT k, n FROM pg_catalog.unnest(keys) WITH ORDINALITY AS t(k, n) ORDER BY n LOOP
        IF given IS NULL THEN
            RAISE EXCEPTION '% element % must not be NULL', what, i
                USING ERRCODE = 'null_value_not_allowed', HINT = 'Leave NULLs out of the list.';
        END IF;
        key := pg_catalog.btrim(given, blanks);
        phone := pg_catalog.starts_with(key, '+') OR key OPERATOR(pg_catalog.~) '^[0-9 -]*$';
        IF phone AND key OPERATOR(pg_catalog.~) '[0-9]' THEN
            key := pg_catalog.regexp_replace(key, '[^0-9]', '', 'g');
        END IF;
        IF key OPERATOR(pg_catalog.=) '' OR pg_catalog.length(key) OPERATOR(pg_catalog.>) 200 THEN
            RAISE EXCEPTION 'invalid routing key in %: "%"', what, key
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'A routing key has 1 to 200 characters.',
                      HINT = 'Use the sender''s number as WhatsApp sends it in `from` (e.g. 250788123456), or the routing key the caller passes.';
        END IF;
        -- WhatsApp's `from` is the full international number, which never starts with 0 (a
        -- national trunk prefix, as in 0788 123 456) and has at most 15 digits: a number
        -- written otherwise would be stored, said to be listed, and match no sender.
        IF phone AND (pg_catalog.starts_with(key, '0') OR pg_catalog.octet_length(key) OPERATOR(pg_catalog.>) 15) THEN
            RAISE EXCEPTION 'routing key in % is not a full international number: "%"', what, key
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'A sender''s number is listed as WhatsApp sends it in `from`: the country code, then the number, at most 15 digits, never a leading 0.',
                      HINT = 'Write the number with its country code, e.g. 250788123456 for 0788 123 456 in Rwanda.';
        END IF;
        out := out OPERATOR(pg_catalog.||) key;
    END LOOP;
    RETURN ARRAY(SELECT DISTINCT k COLLATE "C" FROM pg_catalog.unnest(out) AS k ORDER BY 1);
END
$$;

-- Set a domain's testers or denied keys (`list`); an empty list removes it.
CREATE FUNCTION webhook_routing_set_list(list text, domain text, keys text[], reason text) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    listed text[];
    next @extschema@.webhook_routing_config;
    id bigint;
    lists jsonb;
    how_many integer;
    in_both text;
    message text;
BEGIN
    IF domain IS NULL THEN
        RAISE EXCEPTION 'domain must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Name the domain, e.g. ''jobs''.';
    END IF;
    listed := @extschema@.webhook_routing_routing_keys(keys, list);
    next := (@extschema@.webhook_routing_config_for_change(reason)).config;
    PERFORM @extschema@.webhook_routing_check_domain(next, domain);
    lists := CASE WHEN list OPERATOR(pg_catalog.=) 'testers' THEN next.testers ELSE next.denied END;
    IF pg_catalog.cardinality(listed) OPERATOR(pg_catalog.=) 0 THEN
        lists := lists OPERATOR(pg_catalog.-) domain;
    ELSE
        lists := lists OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(domain, pg_catalog.to_jsonb(listed));
    END IF;
    IF list OPERATOR(pg_catalog.=) 'testers' THEN
        next.testers := lists;
    ELSE
        next.denied := lists;
    END IF;
    id := @extschema@.webhook_routing_config_append(next, 'set_' OPERATOR(pg_catalog.||) list, reason);
    SELECT pg_catalog.string_agg(k, ', ' ORDER BY n)
      INTO in_both
      FROM pg_catalog.unnest(listed) WITH ORDINALITY AS t(k, n)
     WHERE COALESCE(next.testers OPERATOR(pg_catalog.->) domain, '[]') OPERATOR(pg_catalog.?) k
       AND COALESCE(next.denied OPERATOR(pg_catalog.->) domain, '[]') OPERATOR(pg_catalog.?) k;
    how_many := pg_catalog.cardinality(listed);
    message := CASE
        WHEN list OPERATOR(pg_catalog.=) 'testers' AND how_many OPERATOR(pg_catalog.=) 0
            THEN pg_catalog.format('%s has no testers: every sender follows the percentage.', domain)
        WHEN list OPERATOR(pg_catalog.=) 'testers' AND how_many OPERATOR(pg_catalog.=) 1
            THEN pg_catalog.format('1 tester of %s goes to unified before the percentage applies (while routing is enabled).', domain)
        WHEN list OPERATOR(pg_catalog.=) 'testers'
            THEN pg_catalog.format('%s testers of %s go to unified before the percentage applies (while routing is enabled).', how_many, domain)
        WHEN how_many OPERATOR(pg_catalog.=) 0
            THEN pg_catalog.format('%s denies no one: every sender follows the percentage.', domain)
        WHEN how_many OPERATOR(pg_catalog.=) 1
            THEN pg_catalog.format('1 routing key of %s never goes to unified.', domain)
        ELSE pg_catalog.format('%s routing keys of %s never go to unified.', how_many, domain) END;
    IF in_both IS NULL THEN
        RAISE NOTICE '%', message;
    ELSE
        RAISE NOTICE '%', message
            USING DETAIL = pg_catalog.format('Both a tester and denied, so never on unified: %s.', in_both);
    END IF;
    RETURN id;
END
$$;

-- A domain's testers: routing keys (a sender's `from`, or the routing key a caller passes)
-- that go to unified before the percentage applies, while routing is enabled. An empty list
-- removes them. One row of the config history.
CREATE FUNCTION set_routing_testers(domain text, testers text[], reason text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
    RETURN @extschema@.webhook_routing_set_list('testers', domain, testers, reason);
END
$$;

-- A domain's deny list: routing keys that never go to unified, testers or not. An empty list
-- removes it. One row of the config history.
CREATE FUNCTION set_routing_denied(domain text, denied text[], reason text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
    RETURN @extschema@.webhook_routing_set_list('denied', domain, denied, reason);
END
$$;

-- Set which domains may be routed. Protected domains can never be among them. A removed
-- domain's own percentage, switch, testers and denied keys go with it, so that adding it back
-- later starts from the global settings rather than from what it had then.
CREATE FUNCTION set_routing_domains(domains text[], reason text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    names text[] := '{}';
    one text;
    was @extschema@.webhook_routing_config;
    settings record;
    plans jsonb;
    plan jsonb;
    next @extschema@.webhook_routing_config;
    dropped text[] := '{}';
    id bigint;
BEGIN
    IF domains IS NULL THEN
        RAISE EXCEPTION 'domains must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass an array of domain names, e.g. ARRAY[''jobs'',''marketplace''].';
    END IF;
    FOR one IN SELECT d FROM pg_catalog.unnest(domains) WITH ORDINALITY AS t(d, n) ORDER BY n LOOP
        IF one IS NULL THEN
            RAISE EXCEPTION 'a domain name must not be NULL'
                USING ERRCODE = 'null_value_not_allowed', HINT = 'Remove the NULL from the array.';
        END IF;
        IF one OPERATOR(pg_catalog.!~) '^[a-z][a-z0-9_]{0,62}$' THEN
            RAISE EXCEPTION 'invalid domain name "%"', one
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'A domain name has lowercase letters, digits and underscores, starts with a letter, and has at most 63 characters.',
                      HINT = 'Use the names the rules map to, e.g. jobs or ai_agents.';
        END IF;
        IF one OPERATOR(pg_catalog.=) ANY (names) THEN
            RAISE EXCEPTION 'domain "%" is listed twice', one
                USING ERRCODE = 'invalid_parameter_value', HINT = 'List each domain once.';
        END IF;
        names := names OPERATOR(pg_catalog.||) one;
    END LOOP;
    SELECT c.config, c.plans INTO settings FROM @extschema@.webhook_routing_config_for_change(reason) AS c;
    was := settings.config;
    plans := settings.plans;
    SELECT d INTO one FROM pg_catalog.unnest(names) WITH ORDINALITY AS t(d, n)
     WHERE d OPERATOR(pg_catalog.=) ANY (was.protected_domains) ORDER BY n LIMIT 1;
    IF one IS NOT NULL THEN
        RAISE EXCEPTION 'domain "%" is protected', one
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('Protected domains are never routed: %s.', pg_catalog.array_to_string(was.protected_domains, ', ')),
                  HINT = 'Leave protected domains out of the routable domains.';
    END IF;
    -- A plan walking a domain that is no longer routable could neither advance nor roll
    -- back: the domain stays until its plan ends.
    SELECT p INTO plan FROM pg_catalog.jsonb_array_elements(plans) WITH ORDINALITY AS t(p, n)
     WHERE (p OPERATOR(pg_catalog.->>) 0) OPERATOR(pg_catalog.=) ANY (was.domains)
       AND NOT (p OPERATOR(pg_catalog.->>) 0) OPERATOR(pg_catalog.=) ANY (names)
     ORDER BY n LIMIT 1;
    IF plan IS NOT NULL THEN
        RAISE EXCEPTION 'domain "%" has a rollout in progress', plan OPERATOR(pg_catalog.->>) 0
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('Rollout %s is %s.', plan OPERATOR(pg_catalog.->>) 1, plan OPERATOR(pg_catalog.->>) 2),
                  HINT = pg_catalog.format('End it first with webhook_routing.abort_rollout(''%s'', reason), or keep %s among the routable domains.',
                                           plan OPERATOR(pg_catalog.->>) 0, plan OPERATOR(pg_catalog.->>) 0);
    END IF;
    next := was;
    next.domains := names;
    FOR one IN SELECT d FROM pg_catalog.unnest(was.domains) WITH ORDINALITY AS t(d, n)
                 WHERE NOT d OPERATOR(pg_catalog.=) ANY (names) ORDER BY n LOOP
        IF next.domain_percentages OPERATOR(pg_catalog.?) one OR next.domain_enabled OPERATOR(pg_catalog.?) one
           OR next.testers OPERATOR(pg_catalog.?) one OR next.denied OPERATOR(pg_catalog.?) one THEN
            dropped := dropped OPERATOR(pg_catalog.||) one;
        END IF;
        next.domain_percentages := next.domain_percentages OPERATOR(pg_catalog.-) one;
        next.domain_enabled := next.domain_enabled OPERATOR(pg_catalog.-) one;
        next.testers := next.testers OPERATOR(pg_catalog.-) one;
        next.denied := next.denied OPERATOR(pg_catalog.-) one;
    END LOOP;
    id := @extschema@.webhook_routing_config_append(next, 'set_domains', reason);
    IF pg_catalog.cardinality(dropped) OPERATOR(pg_catalog.=) 0 THEN
        RAISE NOTICE 'Routable domains set to %.',
            CASE WHEN pg_catalog.cardinality(names) OPERATOR(pg_catalog.=) 0 THEN 'none' ELSE pg_catalog.array_to_string(names, ', ') END;
    ELSE
        RAISE NOTICE 'Routable domains set to %.',
            CASE WHEN pg_catalog.cardinality(names) OPERATOR(pg_catalog.=) 0 THEN 'none' ELSE pg_catalog.array_to_string(names, ', ') END
            USING DETAIL = pg_catalog.format('The own percentage, switch, testers and denied keys of %s were dropped with them: added back, they follow the global settings.',
                                             pg_catalog.array_to_string(dropped, ', '));
    END IF;
    RETURN id;
END
$$;

-- What the rollouts' detail is stored as (webhook_routing_set_step): each number as a 64-bit
-- integer or the nearest double, as the native function before 0.7.0 kept it (through
-- serde_json) and as the health texts and reports print it since: a number with a fraction, or
-- beyond 64 bits, is the double nearest it written shortest, a whole one below 1e16 with one
-- decimal (5.00 is 5.0, 0.10 is 0.1, 12 stays 12).
CREATE FUNCTION webhook_routing_json_doubles(value jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET extra_float_digits = 1
SET jit = off
AS $$
DECLARE
    number text;
    x double precision;
BEGIN
    CASE pg_catalog.jsonb_typeof(value)
    WHEN 'object' THEN
        RETURN (SELECT COALESCE(pg_catalog.jsonb_object_agg(e.key, @extschema@.webhook_routing_json_doubles(e.value)), '{}')
                FROM pg_catalog.jsonb_each(value) AS e);
    WHEN 'array' THEN
        RETURN (SELECT COALESCE(pg_catalog.jsonb_agg(@extschema@.webhook_routing_json_doubles(a.v) ORDER BY a.n), '[]')
                FROM pg_catalog.jsonb_array_elements(value) WITH ORDINALITY AS a(v, n));
    WHEN 'number' THEN
        number := value::text;
        IF number OPERATOR(pg_catalog.~) '^-?[0-9]+$'
           AND number::numeric OPERATOR(pg_catalog.>=) -9223372036854775808
           AND number::numeric OPERATOR(pg_catalog.<=) 18446744073709551615 THEN
            RETURN value;
        END IF;
        x := number::double precision;
        IF x OPERATOR(pg_catalog.=) pg_catalog.trunc(x) AND pg_catalog.abs(x) OPERATOR(pg_catalog.<) 1e16 THEN
            RETURN pg_catalog.to_jsonb(pg_catalog.round(x::text::numeric, 1));
        END IF;
        RETURN pg_catalog.to_jsonb(x::text::numeric);
    ELSE
        RETURN value;
    END CASE;
END
$$;

-- For the staged rollouts (sql/rollouts.sql): set a domain's percentage, recording the
-- transition (`action`), its rollout and what it saw. Validated like update_routing_percentage;
-- silent (the rollout functions say what happened). Not granted to anyone: the rollout
-- functions call it as the extension's owner.
CREATE FUNCTION webhook_routing_set_step(domain text, percentage numeric, action text, reason text, rollout_id bigint, detail jsonb) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    bp integer := @extschema@.webhook_routing_percentage_bp(percentage);
    next @extschema@.webhook_routing_config;
BEGIN
    IF domain IS NULL THEN
        RAISE EXCEPTION 'domain must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Name the domain the rollout is for, e.g. ''jobs''.';
    END IF;
    next := (@extschema@.webhook_routing_config_for_change(reason)).config;
    -- 0% is always safe to record, for a domain no longer routable too: a plan must be able to
    -- end (abort, roll back) whatever became of its domain.
    IF bp OPERATOR(pg_catalog.<>) 0 OR domain OPERATOR(pg_catalog.=) ANY (next.protected_domains) THEN
        PERFORM @extschema@.webhook_routing_check_domain(next, domain);
    END IF;
    next.domain_percentages := next.domain_percentages
        OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(domain, pg_catalog.round(bp OPERATOR(pg_catalog./) 100.0, 2));
    RETURN @extschema@.webhook_routing_config_append(next, COALESCE(action, 'rollout'), reason, rollout_id,
                                                     @extschema@.webhook_routing_json_doubles(detail));
END
$$;
