#!/usr/bin/env bash
# Every install and update path ends where a fresh install does. For each version a user can
# name (every released one and this one) and each older version it can be updated from, in a
# database set up as Supabase sets up its own (anon, authenticated and service_role, and
# default privileges that give them every new table, sequence and function, in public and
# everywhere else):
# install the older version, plant look-alikes (tests/upgrade/plant.sql) and update to the
# newer one. Then everything the extension owns, with every role's privileges on it
# (tests/upgrade/describe.sql), must be what a fresh install of the newer version in such a
# database has, no look-alike may have run, and anon, authenticated, service_role and PUBLIC
# may hold no privilege on any of it. A fresh install of this version with the look-alikes
# already in place must be the same too.
# Usage: tests/upgrade/paths.sh WORKDIR, against the cluster at PGHOST/PGPORT, as a superuser,
# with the released versions' install scripts installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$1
current=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
versions=()
for released in sql/released/webhook_routing--*.sql; do
    v=$(basename "$released" .sql)
    versions+=("${v#webhook_routing--}")
done
versions+=("$current")

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# A database as Supabase makes one, with the planting role and its look-alikes ready (not yet
# planted).
supabase_like() {
    local db=$1
    q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    q -d "$db" -f - <<'SQL' >/dev/null
SET client_min_messages = warning;
DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role', 'wr_mallory'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END $$;
ALTER ROLE service_role BYPASSRLS;
GRANT USAGE, CREATE ON SCHEMA public TO wr_mallory;
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
-- And everywhere, not in public only: the extension's own schema too.
ALTER DEFAULT PRIVILEGES GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES GRANT ALL ON SCHEMAS TO anon, authenticated, service_role;
SQL
    q -d "$db" -f tests/upgrade/plant.sql >/dev/null
}

# What must hold after an install or update into DB: nothing planted ran, the planting role
# gained nothing, and no Supabase role (nor PUBLIC) holds a privilege on the extension.
clean() {
    local db=$1 label=$2 ran super leaked
    ran=$(q -d "$db" -c "SELECT count(*) FROM wr_trap")
    super=$(q -d "$db" -c "SELECT rolsuper FROM pg_roles WHERE rolname = 'wr_mallory'")
    leaked=$(q -d "$db" -f - <<'SQL'
WITH members AS (
    SELECT d.classid, d.objid FROM pg_depend AS d JOIN pg_extension AS e ON e.oid = d.refobjid
    WHERE e.extname = 'webhook_routing' AND d.deptype = 'e'),
acls AS (
    SELECT p.oid::regprocedure::text AS what, p.proacl AS acl FROM pg_proc AS p
    WHERE p.oid IN (SELECT objid FROM members WHERE classid = 'pg_proc'::regclass)
    UNION ALL
    SELECT c.oid::regclass::text, c.relacl FROM pg_class AS c
    WHERE c.oid IN (SELECT objid FROM members WHERE classid = 'pg_class'::regclass)
       OR c.oid IN (SELECT d.objid FROM pg_depend AS d WHERE d.deptype = 'i' AND d.classid = 'pg_class'::regclass
                    AND d.refobjid IN (SELECT objid FROM members WHERE classid = 'pg_class'::regclass)))
SELECT coalesce(string_agg(DISTINCT a.what || ' to ' || CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE x.grantee::regrole::text END, ', '), '')
FROM acls AS a, aclexplode(a.acl) AS x
WHERE x.grantee = 0 OR x.grantee::regrole::text IN ('anon', 'authenticated', 'service_role', 'wr_mallory')
SQL
)
    if [ "$ran" != 0 ] || [ "$super" != f ] || [ -n "$leaked" ]; then
        echo "$label: look-alikes that ran: $ran; wr_mallory superuser: $super; privileges given away: ${leaked:-none}"
        q -d "$db" -c "SELECT what, ran_as FROM wr_trap"
        return 1
    fi
}

# The databases and roles of this test, gone before it starts and after it ends.
cleanup() {
    for db in wr_fresh wr_planted wr_updated wr_order; do
        q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db"
    done
    q -d postgres -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS wr_mallory, wr_note_reader, anon, authenticated, service_role"
}
cleanup
trap cleanup EXIT

paths=0
# A listing with its columns' positions left out, sorted again.
by_name() {
    sed -E 's/^(column [^ ]+) [0-9]+ /\1 /' "$1" | LC_ALL=C sort
}
# as_fresh DB LABEL: DB is clean, and the same as the fresh install listed in fresh.txt. An
# update to this version has every table's columns in a fresh install's order; one to a
# released version is compared by column name: released scripts stay as they were released,
# and 0.3.0 -> 0.4.0 added webhook_routing_rules' effect, weight and language at its end (0.6.0
# -> 0.7.0 puts them back in place).
as_fresh() {
    clean "$1" "$2"
    q -d "$1" -f tests/upgrade/describe.sql >"$out/other.txt"
    local want=$out/fresh.txt got=$out/other.txt
    if [ "$to" != "$current" ]; then
        by_name "$want" >"$out/fresh_by_name.txt"
        by_name "$got" >"$out/other_by_name.txt"
        want=$out/fresh_by_name.txt got=$out/other_by_name.txt
    fi
    if ! diff -u "$want" "$got"; then
        echo "$2: not what a fresh $to install is (diff above: - fresh, + $2)"
        exit 1
    fi
    paths=$((paths + 1))
}
for i in "${!versions[@]}"; do
    to=${versions[$i]}
    supabase_like wr_fresh
    q -d wr_fresh -c "SET client_min_messages = error" -c "CREATE EXTENSION webhook_routing VERSION '$to'"
    clean wr_fresh "a fresh $to"
    q -d wr_fresh -f tests/upgrade/describe.sql >"$out/fresh.txt"
    if [ "$to" = "$current" ]; then
        # This version, installed with the look-alikes already planted.
        supabase_like wr_planted
        q -d wr_planted -c "SELECT wr_plant()" -c "SET client_min_messages = error" -c "CREATE EXTENSION webhook_routing" >/dev/null
        # (Taken back before the comparison: while they are there, the deparser names
        # pg_catalog's functions with their schema. Taking them back fails if anything of the
        # extension is bound to them.)
        q -d wr_planted -c "SELECT wr_unplant()" >/dev/null
        as_fresh wr_planted "a fresh $to with look-alikes planted first"
    fi
    for from in "${versions[@]:0:$i}"; do
        supabase_like wr_updated
        q -d wr_updated -c "SET client_min_messages = error" -c "CREATE EXTENSION webhook_routing VERSION '$from'"
        q -d wr_updated -c "SELECT wr_plant()" -c "SET client_min_messages = error" \
            -c "ALTER EXTENSION webhook_routing UPDATE TO '$to'" >/dev/null
        q -d wr_updated -c "SELECT wr_unplant()" >/dev/null
        as_fresh wr_updated "$from updated to $to"
    done
    printf '  %s: a fresh install and every update to it (from %s) alike: %s objects, seeds and grants\n' \
        "$to" "$([ "$i" -gt 0 ] && echo "${versions[*]:0:$i}" | sed 's/ /, /g' || echo none)" "$(wc -l <"$out/fresh.txt")"
done
echo "  ${#versions[@]} fresh installs, $((paths - 1)) updates and a fresh install among look-alikes, each with Supabase's roles and default privileges: the same objects and grants as a fresh install, no look-alike ran, no privilege given away"

# An update from 0.3.0 with an operator's objects on webhook_routing_rules' moved columns
# (tests/upgrade/column_order.sql, which raises on what it finds wrong).
q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS wr_order" -c "CREATE DATABASE wr_order"
if ! order=$(psql -X -q -At -v ON_ERROR_STOP=1 -d wr_order -f tests/upgrade/column_order.sql 2>&1); then
    echo "$order"
    exit 1
fi
if ! grep -q "webhook_routing_rules keeps its columns in the order 0.4.0 left them: rule _RETURN on view rule_notes" <<<"$order"; then
    echo "an update with a view on a moved column did not say why it left the order:"
    echo "$order"
    exit 1
fi
echo "  0.3.0 updated to $current: webhook_routing_rules' columns in order, with an operator's column comment and grant, index, CHECK, disabled trigger, policy and foreign key kept; with a view on a moved column, the order kept and a WARNING"
