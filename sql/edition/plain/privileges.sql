-- The plain migration only (scripts/edition puts it just before sql/security.sql): what
-- security.sql's first DO blocks do for the extension's members, done for the objects of the
-- schema, which a plain migration makes without an extension to belong to (security.sql finds
-- no member there; pg_tle's install is an extension, and has them). The schema is the
-- migration's own (sql/bootstrap.sql refuses one another role owns), so its objects are the
-- edition's. Nothing for PUBLIC, nor for anyone default privileges gave something to (then
-- security.sql grants the extension's roles what they may do), and jit = off on every function
-- that pins its settings.
DO $$
DECLARE
    obj record;
    grantee text;
BEGIN
    FOR obj IN
        SELECT 'FUNCTION' AS kind, p.oid::pg_catalog.regprocedure::pg_catalog.text AS name,
               p.proacl AS acl, p.proowner AS owner
        FROM pg_catalog.pg_proc AS p
        WHERE p.pronamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
        UNION ALL
        SELECT CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
               c.oid::pg_catalog.regclass::pg_catalog.text, c.relacl, c.relowner
        FROM pg_catalog.pg_class AS c
        WHERE c.relnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
          AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p', 'v', 'S']::pg_catalog."char"[])
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON %s %s FROM PUBLIC', obj.kind, obj.name);
        FOR grantee IN
            SELECT DISTINCT a.grantee::pg_catalog.regrole::pg_catalog.text
            FROM pg_catalog.aclexplode(obj.acl) AS a
            WHERE a.grantee OPERATOR(pg_catalog.<>) 0::pg_catalog.oid
              AND a.grantee OPERATOR(pg_catalog.<>) obj.owner
        LOOP
            EXECUTE pg_catalog.format('REVOKE ALL ON %s %s FROM %s', obj.kind, obj.name, grantee);
        END LOOP;
    END LOOP;
    FOR obj IN
        SELECT p.oid::pg_catalog.regprocedure::pg_catalog.text AS name
        FROM pg_catalog.pg_proc AS p
        WHERE p.pronamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
          AND p.proconfig IS NOT NULL
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET jit = off', obj.name);
    END LOOP;
END $$;
