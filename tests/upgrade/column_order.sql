-- An update from 0.3.0 (whose update to 0.4.0 added webhook_routing_rules' effect, weight and
-- language at its end) ends with the columns in a fresh install's order, and keeps what an
-- operator hung on the table and on the columns it moves: rows, ids and the sequence, a column
-- comment and a column grant, an index, a CHECK, a disabled trigger with a WHEN clause, a policy,
-- another table's foreign key. A view that reads a moved column keeps the old order, with a
-- WARNING. Run by tests/upgrade/paths.sh in an empty database, as a superuser; every check
-- raises when it fails.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET search_path = public, pg_temp;
CREATE EXTENSION webhook_routing VERSION '0.3.0';
CREATE ROLE wr_note_reader NOLOGIN;
CREATE TABLE public.rule_notes (rule_id bigint REFERENCES public.webhook_routing_rules (id), body text);
CREATE FUNCTION public.rule_switched() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
INSERT INTO public.webhook_routing_rules (domain, match_kind, pattern, note) VALUES ('jobs', 'keyword', 'forklift', 'warehouse jobs');
INSERT INTO public.rule_notes SELECT id, 'asked for by the depot' FROM public.webhook_routing_rules WHERE pattern = 'forklift';
COMMENT ON COLUMN public.webhook_routing_rules.note IS 'why the rule exists';
GRANT SELECT (note) ON public.webhook_routing_rules TO wr_note_reader;
CREATE INDEX rules_operators ON public.webhook_routing_rules (domain) WHERE enabled AND NOT seeded;
COMMENT ON INDEX public.rules_operators IS 'the operators'' rules';
ALTER TABLE public.webhook_routing_rules ADD CONSTRAINT note_short CHECK (pg_catalog.length(note) < 500);
CREATE TRIGGER rule_switched BEFORE UPDATE OF enabled ON public.webhook_routing_rules
    FOR EACH ROW WHEN (OLD.enabled IS DISTINCT FROM NEW.enabled) EXECUTE FUNCTION public.rule_switched();
ALTER TABLE public.webhook_routing_rules DISABLE TRIGGER rule_switched;
CREATE POLICY operators_rules ON public.webhook_routing_rules FOR SELECT TO wr_note_reader USING (NOT seeded);
CREATE TEMPORARY TABLE before AS
    SELECT r.id, r.note, r.created_at, r.enabled, r.seeded,
           (SELECT s.last_value FROM public.webhook_routing_rules_id_seq AS s) AS last_id
    FROM public.webhook_routing_rules AS r WHERE r.pattern = 'forklift';

ALTER EXTENSION webhook_routing UPDATE TO '0.7.0';

DO $$
DECLARE
    got text;
BEGIN
    SELECT string_agg(attname, ',' ORDER BY attnum) INTO got FROM pg_attribute
    WHERE attrelid = 'webhook_routing.webhook_routing_rules'::regclass AND attnum > 0 AND NOT attisdropped;
    IF got <> 'id,domain,match_kind,pattern,priority,effect,weight,language,enabled,note,created_at,seeded' THEN
        RAISE EXCEPTION 'columns after the update: %', got;
    END IF;
    IF (SELECT count(*) FROM webhook_routing.webhook_routing_rules AS r JOIN before AS b USING (id, note, created_at, enabled, seeded)
        WHERE r.pattern = 'forklift') <> 1 THEN
        RAISE EXCEPTION 'the operator''s rule changed: %', (SELECT to_jsonb(r) FROM webhook_routing.webhook_routing_rules AS r WHERE r.pattern = 'forklift');
    END IF;
    IF (SELECT s.last_value FROM webhook_routing.webhook_routing_rules_id_seq AS s) < (SELECT last_id FROM before) THEN
        RAISE EXCEPTION 'the id sequence went back';
    END IF;
    IF col_description('webhook_routing.webhook_routing_rules'::regclass,
                       (SELECT attnum FROM pg_attribute WHERE attrelid = 'webhook_routing.webhook_routing_rules'::regclass AND attname = 'note'))
       IS DISTINCT FROM 'why the rule exists' THEN
        RAISE EXCEPTION 'the comment on note is lost';
    END IF;
    IF NOT has_column_privilege('wr_note_reader', 'webhook_routing.webhook_routing_rules', 'note', 'SELECT')
       OR has_column_privilege('wr_note_reader', 'webhook_routing.webhook_routing_rules', 'pattern', 'SELECT') THEN
        RAISE EXCEPTION 'the column grant on note is not as it was';
    END IF;
    SELECT pg_get_indexdef(i.indexrelid) || ' / ' || obj_description(i.indexrelid, 'pg_class') INTO got
    FROM pg_index AS i WHERE i.indexrelid = 'webhook_routing.rules_operators'::regclass;
    IF got IS DISTINCT FROM 'CREATE INDEX rules_operators ON webhook_routing.webhook_routing_rules USING btree (domain) WHERE (enabled AND (NOT seeded)) / the operators'' rules' THEN
        RAISE EXCEPTION 'index rules_operators: %', got;
    END IF;
    SELECT pg_get_constraintdef(c.oid) INTO got FROM pg_constraint AS c
    WHERE c.conrelid = 'webhook_routing.webhook_routing_rules'::regclass AND c.conname = 'note_short';
    IF got IS DISTINCT FROM 'CHECK ((length(note) < 500))' THEN
        RAISE EXCEPTION 'constraint note_short: %', got;
    END IF;
    SELECT t.tgenabled::text || ' ' || pg_get_triggerdef(t.oid) INTO got FROM pg_trigger AS t
    WHERE t.tgrelid = 'webhook_routing.webhook_routing_rules'::regclass AND t.tgname = 'rule_switched';
    IF got IS DISTINCT FROM 'D CREATE TRIGGER rule_switched BEFORE UPDATE OF enabled ON webhook_routing.webhook_routing_rules FOR EACH ROW WHEN ((old.enabled IS DISTINCT FROM new.enabled)) EXECUTE FUNCTION rule_switched()' THEN
        RAISE EXCEPTION 'trigger rule_switched: %', got;
    END IF;
    SELECT p.roles::text || ' ' || p.cmd || ' ' || p.qual INTO got FROM pg_policies AS p
    WHERE p.tablename = 'webhook_routing_rules' AND p.policyname = 'operators_rules';
    IF got IS DISTINCT FROM '{wr_note_reader} SELECT (NOT seeded)' THEN
        RAISE EXCEPTION 'policy operators_rules: %', got;
    END IF;
    IF (SELECT count(*) FROM public.rule_notes AS n JOIN webhook_routing.webhook_routing_rules AS r ON r.id = n.rule_id
        WHERE r.pattern = 'forklift') <> 1
       OR NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'public.rule_notes'::regclass AND contype = 'f'
                      AND confrelid = 'webhook_routing.webhook_routing_rules'::regclass) THEN
        RAISE EXCEPTION 'rule_notes lost its rule or its foreign key';
    END IF;
END $$;
DROP TABLE public.rule_notes;
DROP EXTENSION webhook_routing;
DROP SCHEMA webhook_routing CASCADE;
DROP FUNCTION public.rule_switched();

-- A view that reads a moved column: the update leaves the order, and the view, as they were.
CREATE EXTENSION webhook_routing VERSION '0.3.0';
CREATE VIEW public.rule_notes AS SELECT id, note FROM public.webhook_routing_rules;
SET client_min_messages = warning;
ALTER EXTENSION webhook_routing UPDATE TO '0.7.0';
DO $$
DECLARE
    got text;
BEGIN
    SELECT string_agg(attname, ',' ORDER BY attnum) INTO got FROM pg_attribute
    WHERE attrelid = 'webhook_routing.webhook_routing_rules'::regclass AND attnum > 0 AND NOT attisdropped;
    IF got <> 'id,domain,match_kind,pattern,priority,enabled,note,created_at,seeded,effect,weight,language' THEN
        RAISE EXCEPTION 'columns after an update with a view on note: %', got;
    END IF;
    IF (SELECT count(*) FROM public.rule_notes) <> (SELECT count(*) FROM webhook_routing.webhook_routing_rules) THEN
        RAISE EXCEPTION 'the view on note does not read the rules';
    END IF;
END $$;
DROP VIEW public.rule_notes;
DROP EXTENSION webhook_routing;
DROP SCHEMA webhook_routing CASCADE;
