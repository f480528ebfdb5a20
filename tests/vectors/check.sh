#!/usr/bin/env bash
# The SQL edition, as scripts/edition makes it, installs and gives the native extension's
# answers:
# - its plain migration runs to the end as a role without superuser that owns the extension's
#   schema (with CREATEROLE, as Supabase's postgres role has, for the extension's roles), with
#   no LANGUAGE c function and every native one either there or in sql/edition/PENDING;
# - its hashes (sql/edition/hashes.sql) equal the native extension's on every vector of
#   tests/vectors/hashes.jsonl and the published vectors of murmur3 and SipHash, and keep its
#   edges (no key or no secret: no sender key; no webhook name: an empty one); a SipHash key of
#   another length than 16 bytes is refused;
# - the other ported functions equal the native ones on tests/vectors/functions.jsonl (the
#   verdicts and their refusals, the sample ratio, the settings, the catalogues, the decision
#   counts, the union of bucket sets, the log's time check, the latency sketches), and the
#   config cache trigger fires as the native one;
# - the log's triggers write the sketches the native ones write for the same statements
#   (tests/vectors/log_sequence.sql against tests/vectors/log_sequence.expected), and its BEFORE
#   row trigger refuses, rounds and lets through what the native one does, for the owner and
#   for a caller (tests/vectors/log_refusals.sql).
# Run where the edition runs: Debian's PostgreSQL 15 with no native library of webhook_routing
# anywhere the cluster looks (a copy of Debian's server without the extension's files: the
# system's own may hold the tests' sentinel build), installed and called by that role, as
# Supabase's postgres role does. A throwaway cluster, removed at the end: seconds, and nothing
# left behind.
# Usage: tests/vectors/check.sh [WORK_DIR [MIGRATION]]
#   MIGRATION: the plain migration scripts/edition made (by default, scripts/edition is run
#   into WORK_DIR/build, which builds the native install script with cargo pgrx schema).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
if [ $# -ge 1 ]; then work=$1; keep=$1; else work=$(mktemp -d /tmp/webhook_routing_edition.XXXXXX); keep=; fi
as_root install -d -m 755 "$work"
if [ $# -ge 2 ]; then
    migration=$2
else
    scripts/edition "$work/build"
    migration=$(ls "$work"/build/webhook_routing--*.edition.sql)
fi

# Debian's PostgreSQL 15 without webhook_routing, kept under /tmp for this clone (as
# private_postgres keeps the tests' copy), made again when Debian's package changes.
root=$(private_root pg15plain)
debian_pg15_copy "$root" postgresql-15
PG_BIN=$root/usr/lib/postgresql/15/bin
if ls "$root"/usr/lib/postgresql/15/lib/ | grep -qi webhook_routing; then
    echo "the edition's server has a webhook_routing library" >&2
    exit 1
fi

# (A folder of its own is removed whole; a given one keeps all but the cluster.)
trap 'cluster_stop "$work/cluster"; as_root rm -rf "$work/cluster"; [ -n "$keep" ] || as_root rm -rf "$work"' EXIT
cluster_stop "$work/cluster"
as_root rm -rf "$work/cluster"
CLUSTER_OPTIONS= cluster_start "$work/cluster"

# The owner: no superuser, CREATE on its database, CREATEROLE for the extension's roles.
psql -X -q -d postgres -v ON_ERROR_STOP=1 <<'SQL'
CREATE ROLE wr_edition_owner LOGIN NOSUPERUSER NOCREATEDB CREATEROLE;
CREATE DATABASE wr_edition;
GRANT CREATE ON DATABASE wr_edition TO wr_edition_owner;
SQL
as_owner() { psql -X -q -U wr_edition_owner -d wr_edition -v ON_ERROR_STOP=1 "$@"; }
cp "$migration" "$work/migration.sql"
chmod 644 "$work/migration.sql"
as_owner -f "$work/migration.sql" 2>&1 | { grep -v 'already exists, skipping' || true; }

# edition_database NAME: a database of its own, where the owner may create, with the edition
# installed by its owner as the first one has it.
edition_database() {
    psql -X -q -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE DATABASE $1" -c "GRANT CREATE ON DATABASE $1 TO wr_edition_owner"
    psql -X -q -U wr_edition_owner -d "$1" -v ON_ERROR_STOP=1 -f "$work/migration.sql" 2>&1 | { grep -v 'already exists, skipping' || true; }
}
pending=$(grep -vc '^#' sql/edition/PENDING || true)
installed=$(as_owner -At <<SQL
SELECT pg_catalog.format('edition installed: %s functions (%s LANGUAGE c), %s tables, %s views; %s native functions pending',
       (SELECT pg_catalog.count(*) FROM pg_catalog.pg_proc AS p WHERE p.pronamespace OPERATOR(pg_catalog.=) 'webhook_routing'::pg_catalog.regnamespace),
       (SELECT pg_catalog.count(*) FROM pg_catalog.pg_proc AS p JOIN pg_catalog.pg_language AS l ON l.oid OPERATOR(pg_catalog.=) p.prolang
        WHERE p.pronamespace OPERATOR(pg_catalog.=) 'webhook_routing'::pg_catalog.regnamespace AND l.lanname OPERATOR(pg_catalog.=) 'c'),
       (SELECT pg_catalog.count(*) FROM pg_catalog.pg_class AS c WHERE c.relnamespace OPERATOR(pg_catalog.=) 'webhook_routing'::pg_catalog.regnamespace
        AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}')),
       (SELECT pg_catalog.count(*) FROM pg_catalog.pg_class AS c WHERE c.relnamespace OPERATOR(pg_catalog.=) 'webhook_routing'::pg_catalog.regnamespace
        AND c.relkind OPERATOR(pg_catalog.=) 'v'),
       $pending);
SQL
)
printf '  %s\n' "$installed"
printf '%s\n' "$installed" | grep -q '(0 LANGUAGE c)'

cp tests/vectors/hashes.jsonl "$work/hashes.jsonl"
chmod 644 "$work/hashes.jsonl"
result=$(as_owner -At <<SQL
SELECT 'superuser: ' || r.rolsuper || ', native library available: '
       || (SELECT pg_catalog.count(*) FROM pg_catalog.pg_available_extensions AS e WHERE e.name = 'webhook_routing')
FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user;
CREATE TEMPORARY TABLE vectors (n bigint GENERATED ALWAYS AS IDENTITY, v jsonb NOT NULL);
-- One JSON document a line: quote and delimiter characters that JSON text never holds.
\copy vectors (v) FROM '$work/hashes.jsonl' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
CREATE TEMPORARY TABLE results AS
SELECT v.n, v.v, CASE v.v ->> 'fn'
    WHEN 'routing_bucket' THEN
        webhook_routing.routing_bucket(v.v ->> 'domain', v.v ->> 'key')::text IS NOT DISTINCT FROM v.v ->> 'bucket'
    WHEN 'sender_key' THEN
        webhook_routing.webhook_routing_sender_key(pg_catalog.uuid_send((v.v ->> 'secret')::uuid), v.v ->> 'webhook_name', v.v ->> 'key')::text
            IS NOT DISTINCT FROM v.v ->> 'sender_key'
    WHEN 'message_key' THEN
        webhook_routing.webhook_routing_message_key(pg_catalog.uuid_send((v.v ->> 'secret')::uuid), v.v ->> 'id')
            IS NOT DISTINCT FROM v.v ->> 'message_key'
    END AS equal
FROM vectors AS v;
-- routing_message_key, through the install's secret: the vectors of each secret with it set.
DO \$\$
DECLARE
    s text;
BEGIN
    FOR s IN SELECT DISTINCT v.v ->> 'secret' FROM vectors AS v WHERE v.v ->> 'fn' = 'message_key' LOOP
        UPDATE webhook_routing.webhook_routing_secret SET key = s::uuid;
        INSERT INTO results
        SELECT -v.n, v.v, webhook_routing.routing_message_key(v.v ->> 'id') IS NOT DISTINCT FROM v.v ->> 'message_key'
        FROM vectors AS v WHERE v.v ->> 'fn' = 'message_key' AND v.v ->> 'secret' = s;
    END LOOP;
END \$\$;
-- The published vectors: murmur3 x86 32 ("" 0, "hello", "Hello, world!"), and SipHash-2-4's
-- paper (key 00..0f; the empty message, and 00..0e).
INSERT INTO results
SELECT 0, pg_catalog.jsonb_build_object('published', p.name), p.got IS NOT DISTINCT FROM p.want
FROM (VALUES
    ('murmur3 ""', webhook_routing.webhook_routing_murmur3('', 0), 0::bigint),
    ('murmur3 hello', webhook_routing.webhook_routing_murmur3(pg_catalog.convert_to('hello', 'UTF8'), 0), 613153351),
    ('murmur3 Hello, world!', webhook_routing.webhook_routing_murmur3(pg_catalog.convert_to('Hello, world!', 'UTF8'), 0), 3224780355),
    ('siphash24 empty', (webhook_routing.webhook_routing_siphash24(pg_catalog.decode('000102030405060708090a0b0c0d0e0f', 'hex'), '', false))[1],
        ('x' || '726fdb47dd0e0e31')::bit(64)::bigint),
    ('siphash24 00..0e', (webhook_routing.webhook_routing_siphash24(pg_catalog.decode('000102030405060708090a0b0c0d0e0f', 'hex'),
        pg_catalog.decode('000102030405060708090a0b0c0d0e', 'hex'), false))[1], ('x' || 'a129ca6149be45e5')::bit(64)::bigint)
) AS p (name, got, want);
-- The edges the native edition defines: no key or no secret, no sender key; no webhook name
-- hashes as an empty one; a key of another length than 16 bytes is refused (22023).
INSERT INTO results
SELECT 0, pg_catalog.jsonb_build_object('edge', e.name), e.holds
FROM (VALUES
    ('no key', webhook_routing.webhook_routing_sender_key(pg_catalog.decode('00112233445566778899aabbccddeeff', 'hex'), 'whatsapp', NULL) IS NULL),
    ('no secret', webhook_routing.webhook_routing_sender_key(NULL, 'whatsapp', '250788123456') IS NULL),
    ('no webhook name', webhook_routing.webhook_routing_sender_key(pg_catalog.decode('00112233445566778899aabbccddeeff', 'hex'), NULL, '250788123456')
        OPERATOR(pg_catalog.=) webhook_routing.webhook_routing_sender_key(pg_catalog.decode('00112233445566778899aabbccddeeff', 'hex'), '', '250788123456'))
) AS e (name, holds);
DO \$\$
BEGIN
    PERFORM webhook_routing.webhook_routing_sender_key(pg_catalog.decode('0011', 'hex'), 'whatsapp', '250788123456');
    INSERT INTO results VALUES (0, '{"edge": "a 2-byte key refused"}', false);
EXCEPTION WHEN invalid_parameter_value THEN
    INSERT INTO results VALUES (0, '{"edge": "a 2-byte key refused"}', true);
END \$\$;
SELECT 'differs: ' || r.v::text FROM results AS r WHERE NOT r.equal OR r.equal IS NULL ORDER BY r.n LIMIT 10;
SELECT pg_catalog.format('%s of %s vectors equal (%s)', pg_catalog.count(*) FILTER (WHERE r.equal), pg_catalog.count(*),
       (SELECT pg_catalog.string_agg(pg_catalog.format('%s %s', k.count, k.fn), ', ' ORDER BY k.fn)
        FROM (SELECT CASE WHEN r2.n < 0 THEN 'routing_message_key' ELSE r2.v ->> 'fn' END AS fn, pg_catalog.count(*)
              FROM results AS r2 WHERE r2.n <> 0 GROUP BY 1) AS k)
       || ', ' || pg_catalog.count(*) FILTER (WHERE r.n = 0) || ' published and edge cases')
FROM results AS r;
SQL
)
printf '%s\n' "$result" | sed 's/^/  /'
# Fails on a vector that differs, a superuser, or a native library in reach.
printf '%s\n' "$result" | grep -qx 'superuser: false, native library available: 0'
if printf '%s\n' "$result" | grep -q '^differs: '; then exit 1; fi
printf '%s\n' "$result" | grep -Eq '^([0-9]+) of \1 vectors equal'

# The other ported functions: the script make.sh ran against the native extension, run against
# the edition, its answers compared (functions.py compare: floats within a relative 1e-12).
python3 tests/vectors/functions.py script tests/vectors/functions.jsonl "$work/functions.numbered" >"$work/functions.sql"
as_owner -f "$work/functions.sql" >"$work/functions_answers.tsv" 2>"$work/functions.log" \
    || { cat "$work/functions.log" >&2; exit 1; }
status=0
python3 tests/vectors/functions.py compare tests/vectors/functions.jsonl "$work/functions_answers.tsv" "$work/functions.log" >"$work/functions.result" || status=$?
sed 's/^/  /' "$work/functions.result"

# The config cache trigger, which has nothing to invalidate: a change to the config fires it.
edges=$(as_owner -At 2>&1 <<'SQL'
UPDATE webhook_routing.webhook_routing_config SET id = id WHERE false;
SELECT 'edge: config change fires ' || pg_catalog.string_agg(t.tgname, ', ' ORDER BY t.tgname)
FROM pg_catalog.pg_trigger AS t
WHERE t.tgfoid OPERATOR(pg_catalog.=) 'webhook_routing.webhook_routing_invalidate_cache()'::pg_catalog.regprocedure;
SQL
)
printf '%s\n' "$edges" | sed 's/^/  /'
printf '%s\n' "$edges" | grep -q "edge: config change fires webhook_routing_config_invalidate_cache, webhook_routing_rules_invalidate_cache"

# The log's triggers: the statements of tests/vectors/log_sequence.sql, on a database of their
# own with the edition installed by its owner, leave the sketches the native triggers left.
edition_database wr_log_sequence
# make.sh ran them as a superuser, a member of every role: routing_status shows the config's
# testers and denied lists to admins alone.
psql -X -q -U wr_edition_owner -d wr_log_sequence -v ON_ERROR_STOP=1 -c 'GRANT webhook_routing_admin TO wr_edition_owner'
psql -X -q -U wr_edition_owner -d wr_log_sequence -f tests/vectors/log_sequence.sql >"$work/log_sequence.out" 2>"$work/log_sequence.log" \
    || { cat "$work/log_sequence.log" >&2; exit 1; }
if diff -u tests/vectors/log_sequence.expected "$work/log_sequence.out" >"$work/log_sequence.diff"; then
    echo "  log triggers: $(wc -l <"$work/log_sequence.out") of $(wc -l <tests/vectors/log_sequence.expected) lines equal, the sketches and what stats and health read from them (tests/vectors/log_sequence.sql)"
else
    echo "  log triggers: the output differs from the native one:"
    head -20 "$work/log_sequence.diff" | sed 's/^/    /'
    status=1
fi

# The log's BEFORE row trigger: tests/vectors/log_refusals.sql as the owner and as a caller.
edition_database wr_log_refusals
psql -X -q -U wr_edition_owner -d wr_log_refusals -v ON_ERROR_STOP=1 \
    -c 'CREATE ROLE wr_log_caller NOLOGIN IN ROLE webhook_routing_caller' -c 'GRANT wr_log_caller TO wr_edition_owner'
psql -X -q -U wr_edition_owner -d wr_log_refusals -f tests/vectors/log_refusals.sql >"$work/log_refusals.out" 2>"$work/log_refusals.log" \
    || { cat "$work/log_refusals.log" >&2; exit 1; }
if diff -u tests/vectors/log_refusals.expected "$work/log_refusals.out" >"$work/log_refusals.diff"; then
    echo "  log row trigger: $(wc -l <"$work/log_refusals.out") of $(wc -l <tests/vectors/log_refusals.expected) answers equal (tests/vectors/log_refusals.sql)"
else
    echo "  log row trigger: the answers differ from the native ones:"
    head -30 "$work/log_refusals.diff" | sed 's/^/    /'
    status=1
fi

# The admin functions (sql/admin.sql, one source for both editions, over the edition's read of
# the settings in force): tests/vectors/admin.sql's calls as a member of webhook_routing_admin,
# their rows, refusals and notices.
edition_database wr_admin
psql -X -q -U wr_edition_owner -d wr_admin -v ON_ERROR_STOP=1 \
    -c 'CREATE ROLE wr_admin_op NOLOGIN IN ROLE webhook_routing_admin' -c 'GRANT wr_admin_op TO wr_edition_owner'
psql -X -q -U wr_edition_owner -d wr_admin -f tests/vectors/admin.sql 2>&1 | grep -v '^LOCATION:  ' >"$work/admin.out" || true
if diff -u tests/vectors/admin.expected "$work/admin.out" >"$work/admin.diff"; then
    echo "  admin functions: $(wc -l <"$work/admin.out") of $(wc -l <tests/vectors/admin.expected) lines equal, rows, refusals and notices (tests/vectors/admin.sql)"
else
    echo "  admin functions: the answers differ from the native ones:"
    head -30 "$work/admin.diff" | sed 's/^/    /'
    status=1
fi
exit $status
