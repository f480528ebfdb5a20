#!/usr/bin/env bash
# Makes tests/vectors/hashes.jsonl and tests/vectors/functions.jsonl: the inputs of
# tests/vectors/cases.py and tests/vectors/functions.py with the NATIVE extension's answers,
# so that the SQL edition (sql/edition/) is held to them (tests/vectors/check.sh). Run it when
# a ported function or the cases change, and commit the files.
# - routing_bucket(domain, key): the SQL function itself.
# - message_key: routing_message_key(id) under each secret (the secret's row set, then a new
#   session, which reads it anew).
# - sender_key: the native extension computes it only for a decision, so each case is a logged
#   route_decision with the key as its routing key, and the answer is its log row's sender_key
#   (as a string: a JSON number loses an int64's low bits in JavaScript).
# Uses the server of PG_CONFIG/PG_BIN when set (a copy with the extension installed); else the
# tests' private copy of PostgreSQL 15, built and installed into first (scripts/lib.sh).
# - functions.jsonl: each case answered by the script tests/vectors/functions.py writes, the
#   one check.sh runs against the edition (settings in sessions of their own, set before the
#   library loads and reads them).
# - admin.expected: what tests/vectors/admin.sql prints (the admin functions' rows, refusals
#   and notices), which check.sh compares with the edition's.
# - log_sequence.expected and log_refusals.expected: what tests/vectors/log_sequence.sql (the
#   sketches the log's triggers write) and tests/vectors/log_refusals.sql (the log's row trigger
#   and record_routing_outcome, as the owner and as a caller) print, each on a database of its
#   own; check.sh runs them against the edition and compares line for line.
# A throwaway cluster under /tmp, removed at the end.
# Usage: tests/vectors/make.sh [DIR]   (default tests/vectors)
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-tests/vectors}
out=$dir/hashes.jsonl
given=${PG_CONFIG:-}
. scripts/lib.sh
if [ -z "$given" ]; then
    private_postgres
    install_extension
fi
work=$(mktemp -d /tmp/webhook_routing_vectors.XXXXXX)
chmod 755 "$work"
trap 'cluster_stop "$work/cluster"; as_root rm -rf "$work"' EXIT
CLUSTER_OPTIONS= cluster_start "$work/cluster"

python3 tests/vectors/cases.py >"$work/cases.jsonl"
chmod 644 "$work/cases.jsonl"
{
    cat <<'SQL'
\set ON_ERROR_STOP on
CREATE EXTENSION webhook_routing;
CREATE SCHEMA vectors;
CREATE TABLE vectors.cases (n bigint GENERATED ALWAYS AS IDENTITY, c jsonb NOT NULL);
-- One JSON document a line: quote and delimiter characters that JSON text never holds.
\copy vectors.cases (c) FROM 'CASES' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
SELECT c.n, webhook_routing.routing_bucket(c.c ->> 'domain', c.c ->> 'key')
FROM vectors.cases AS c WHERE c.c ->> 'fn' = 'routing_bucket' ORDER BY c.n;
SQL
    for secret in $(python3 -c 'import sys, json; print(" ".join(sorted({json.loads(l)["secret"] for l in sys.stdin if "secret" in l})))' <"$work/cases.jsonl"); do
        cat <<SQL
UPDATE webhook_routing.webhook_routing_secret SET key = '$secret';
\\connect
SELECT c.n, webhook_routing.routing_message_key(c.c ->> 'id')
FROM vectors.cases AS c WHERE c.c ->> 'fn' = 'message_key' AND c.c ->> 'secret' = '$secret' ORDER BY c.n;
-- The decisions first: a statement does not see the log rows it writes.
CREATE TABLE vectors.decided AS
SELECT c.n, d.decision_id
FROM vectors.cases AS c
CROSS JOIN LATERAL webhook_routing.route_decision(
    '{"entry":[{"changes":[{"value":{"messages":[{"type":"text","text":{"body":"hello"}}]}}]}]}',
    c.c ->> 'webhook_name', c.c ->> 'key') AS d
WHERE c.c ->> 'fn' = 'sender_key' AND c.c ->> 'secret' = '$secret';
SELECT d.n, l.sender_key
FROM vectors.decided AS d JOIN webhook_routing.webhook_routing_logs AS l ON l.id = d.decision_id
ORDER BY d.n;
DROP TABLE vectors.decided;
SQL
    done
} | sed "s#'CASES'#'$work/cases.jsonl'#" >"$work/make.sql"
psql -X -q -At -F $'\t' -d postgres -f "$work/make.sql" >"$work/answers.tsv"

python3 - "$work/cases.jsonl" "$work/answers.tsv" "$out" <<'PY'
import json
import sys

cases = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
answers = {}
for line in open(sys.argv[2], encoding="utf-8"):
    n, answer = line.rstrip("\n").split("\t")
    answers[int(n)] = answer
field = {"routing_bucket": "bucket", "sender_key": "sender_key", "message_key": "message_key"}
missing = [n for n in range(1, len(cases) + 1) if not answers.get(n)]
if missing:
    sys.exit(f"no answer from the native extension for {len(missing)} cases, e.g. {cases[missing[0] - 1]}")
with open(sys.argv[3], "w", encoding="utf-8") as out:
    for n, case in enumerate(cases, start=1):
        answer = answers[n]
        case[field[case["fn"]]] = int(answer) if case["fn"] == "routing_bucket" else answer
        out.write(json.dumps(case, ensure_ascii=False) + "\n")
print(f"  {len(cases)} vectors from the native extension into {sys.argv[3]}")
PY

python3 tests/vectors/functions.py cases >"$work/functions_cases.jsonl"
python3 tests/vectors/functions.py script "$work/functions_cases.jsonl" "$work/functions_cases.numbered" >"$work/functions.sql"
psql -X -q -d postgres -f "$work/functions.sql" >"$work/functions_answers.tsv" 2>"$work/functions.log" \
    || { cat "$work/functions.log" >&2; exit 1; }
python3 tests/vectors/functions.py merge "$work/functions_cases.jsonl" "$work/functions_answers.tsv" "$work/functions.log" "$dir/functions.jsonl"

# The log's triggers: tests/vectors/log_sequence.sql on a database of its own, what it leaves
# in the sketches kept as the expected answer (its two refused statements' errors, on stderr,
# are the script's own).
psql -X -q -d postgres -c 'CREATE DATABASE log_sequence'
psql -X -q -d log_sequence -c 'CREATE EXTENSION webhook_routing'
psql -X -q -d log_sequence -f tests/vectors/log_sequence.sql >"$dir/log_sequence.expected" 2>"$work/log_sequence.log" \
    || { cat "$work/log_sequence.log" >&2; exit 1; }
echo "  $(wc -l <"$dir/log_sequence.expected") lines of sketches from the native triggers into $dir/log_sequence.expected"

# The log's BEFORE row trigger: tests/vectors/log_refusals.sql, as a superuser and as a caller.
psql -X -q -d postgres -c 'CREATE DATABASE log_refusals'
psql -X -q -d log_refusals -c 'CREATE EXTENSION webhook_routing' \
    -c 'CREATE ROLE wr_log_caller NOLOGIN IN ROLE webhook_routing_caller'
psql -X -q -d log_refusals -f tests/vectors/log_refusals.sql >"$dir/log_refusals.expected" 2>"$work/log_refusals.log" \
    || { cat "$work/log_refusals.log" >&2; exit 1; }
echo "  $(wc -l <"$dir/log_refusals.expected") answers of the log's row trigger into $dir/log_refusals.expected"

# The admin functions: tests/vectors/admin.sql as a member of webhook_routing_admin, with the
# NOTICEs (stderr) in their place and without their LOCATION lines, which name a source file.
psql -X -q -d postgres -c 'CREATE DATABASE admin_vectors'
psql -X -q -d admin_vectors -c 'CREATE EXTENSION webhook_routing' \
    -c 'CREATE ROLE wr_admin_op NOLOGIN IN ROLE webhook_routing_admin'
psql -X -q -d admin_vectors -v ON_ERROR_STOP=1 -f tests/vectors/admin.sql 2>&1 | grep -v '^LOCATION:  ' >"$dir/admin.expected"
echo "  $(wc -l <"$dir/admin.expected") lines of the admin functions' answers into $dir/admin.expected"
