-- Everything the extension owns, with its definition, one line each, sorted: two databases
-- whose outputs are equal have the same extension schema (functions, tables and their columns
-- in order, constraints, indexes, triggers, views, policies, privileges, seeds).
-- Names are read in the extension's schema, wherever it is.
DO $$ BEGIN
    PERFORM set_config('search_path', (SELECT extnamespace::regnamespace::text FROM pg_extension
                                       WHERE extname = 'webhook_routing') || ', public', false);
END $$;
WITH ext AS (SELECT oid, extnamespace FROM pg_extension WHERE extname = 'webhook_routing'),
members AS (SELECT d.classid, d.objid FROM pg_depend d, ext WHERE d.refobjid = ext.oid AND d.deptype = 'e'),
rels AS (SELECT c.oid, c.relname, c.relkind, c.relacl, c.relrowsecurity FROM pg_class c
         WHERE c.oid IN (SELECT objid FROM members WHERE classid = 'pg_class'::regclass))
SELECT line FROM (
    SELECT 'schema ' || n.nspname || ' ' || n.nspowner::regrole::text || ' ' || coalesce(n.nspacl::text, '') AS line
    FROM ext JOIN pg_namespace n ON n.oid = ext.extnamespace
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure::text || ' ' || pg_get_function_result(p.oid)
           || ' ' || p.provolatile::text || p.proparallel::text || p.prosecdef::text || ' '
           || coalesce(array_to_string(p.proconfig, ','), '') || ' ' || coalesce(p.proacl::text, '')
           || ' ' || md5(coalesce(p.prosrc, '') || coalesce(p.probin, '')) AS line
    FROM pg_proc p WHERE p.oid IN (SELECT objid FROM members WHERE classid = 'pg_proc'::regclass)
    UNION ALL
    SELECT 'relation ' || r.relname || ' ' || r.relkind::text || ' rls=' || r.relrowsecurity || ' ' || coalesce(r.relacl::text, '')
    FROM rels r
    UNION ALL
    -- A column's position among the table's columns (what SELECT * and a row type show), not its
    -- attnum: an update that moves a column leaves dropped ones behind.
    SELECT 'column ' || r.relname || ' ' || lpad((row_number() OVER (PARTITION BY r.oid ORDER BY a.attnum))::text, 2, '0')
           || ' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
           || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
           || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END
           || coalesce(' ' || a.attacl::text, '')
    FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    UNION ALL
    SELECT 'constraint ' || r.relname || ' ' || co.conname || ' ' || pg_get_constraintdef(co.oid)
    FROM rels r JOIN pg_constraint co ON co.conrelid = r.oid
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM rels r JOIN pg_index i ON i.indrelid = r.oid
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' (enabled ' || t.tgenabled::text || ')' FROM rels r JOIN pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
    UNION ALL
    SELECT 'view ' || r.relname || ' ' || md5(pg_get_viewdef(r.oid)) FROM rels r WHERE r.relkind = 'v'
    UNION ALL
    SELECT 'policy ' || po.polname || ' on ' || r.relname || ' ' || po.polcmd::text || ' ' || po.polroles::regrole[]::text
           || ' ' || coalesce(pg_get_expr(po.polqual, po.polrelid), '') || ' ' || coalesce(pg_get_expr(po.polwithcheck, po.polrelid), '')
    FROM rels r JOIN pg_policy po ON po.polrelid = r.oid
    UNION ALL
    SELECT 'type ' || t.typname || ' ' || (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                                          FROM pg_attribute a WHERE a.attrelid = t.typrelid)
    FROM pg_type t WHERE t.oid IN (SELECT objid FROM members WHERE classid = 'pg_type'::regclass)
    -- Composite types of their own only. From 17 on a table's or view's row type (and array
    -- types) are members too (15 and 16 do not record them); a row type is the relation's
    -- columns in order, which the column lines give on every major.
      AND t.typtype = 'c' AND NOT EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
    UNION ALL
    -- Seeds, whatever columns the version has: every column but ids and times.
    SELECT 'rule ' || (pg_catalog.to_jsonb(r) - 'id' - 'created_at')::text FROM webhook_routing_rules AS r
    UNION ALL
    SELECT 'threshold ' || (pg_catalog.to_jsonb(t) - 'id' - 'created_at')::text FROM webhook_routing_thresholds AS t
    UNION ALL
    SELECT 'config dump ' || c.relname || ' ' || coalesce(e.extcondition[array_position(e.extconfig, c.oid)], '')
    FROM pg_extension e, unnest(e.extconfig) AS x(oid) JOIN pg_class c ON c.oid = x.oid WHERE e.extname = 'webhook_routing'
) AS all_lines ORDER BY line;
