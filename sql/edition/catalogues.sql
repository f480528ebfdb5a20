-- The SQL edition's catalogues: the health checks (Check in src/stats/verdict.rs) and the
-- reasons of a decision (Reason in src/route/policy.rs), in the native lists' order. The native
-- lists are the one source; tests/vectors/check.sh holds these to their answers, so a check or
-- reason added there fails the edition's check until it is added here.

-- One row per check: its unit, default warning and critical levels and action, and the
-- actions it may take (the default first). A skewed sample ratio never rolls back.
CREATE FUNCTION @extschema@.webhook_routing_health_catalogue()
RETURNS TABLE (check_name text, unit text, warning double precision, critical double precision, action text, actions text[])
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
VALUES
    ('error_rate', '%', 0.1::double precision, 0.5::double precision, 'rollback', ARRAY['rollback', 'hold', 'warn']),
    ('p95_latency', 'ms', 2000, 3000, 'rollback', ARRAY['rollback', 'hold', 'warn']),
    ('error_rate_vs_legacy', 'points', 0.1, 0.5, 'rollback', ARRAY['rollback', 'hold', 'warn']),
    ('p95_vs_legacy', 'ratio', 1.25, 1.5, 'rollback', ARRAY['rollback', 'hold', 'warn']),
    ('sample_ratio', 'chi-square', 10.83, 19.51, 'hold', ARRAY['hold', 'warn']),
    ('session_breaks', '%', 0.25, 0.5, 'rollback', ARRAY['rollback', 'hold', 'warn'])
$$;

-- The reasons a decision can give (webhook_routing_logs.reason, route_decision's reason), in
-- the native enum's order.
CREATE FUNCTION @extschema@.webhook_routing_reasons()
RETURNS SETOF text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT pg_catalog.unnest(ARRAY[
    'in_rollout', 'in_rollout_random', 'not_in_rollout', 'not_in_rollout_random', 'not_a_webhook',
    'no_user_message', 'unknown_domain', 'protected_domain', 'domain_not_routed',
    'routing_disabled', 'domain_disabled', 'no_config', 'conversation', 'protected_conversation',
    'retry', 'status', 'no_conversation', 'tester', 'denied', 'invalid_message_id'])
$$;
