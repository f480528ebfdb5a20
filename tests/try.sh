#!/usr/bin/env bash
# scripts/try as a newcomer uses it: start it, then run every command it prints, as printed
# (psql's connection line with each SQL line, the curl through the edge router); each must
# succeed and answer what it says. Started again, it must say how to reach the same one; then
# scripts/try --stop must leave no process of it running and remove its folder.
# Usage: tests/try.sh (uses PG_CONFIG and PG_BIN when set, as scripts/try does).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

out=$(mktemp -d)
trap 'scripts/try --stop >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
fail() { echo "tests/try.sh: $*" >&2; exit 1; }

scripts/try >"$out/first" 2>&1 || { cat "$out/first"; fail "scripts/try failed"; }
sed -n '/^== webhook_routing is running/,$p' "$out/first"
root=$(private_root try)
pids="$(cat "$root/router.pid") $(cat "$root/world.pid")"

connect=$(grep -m 1 '^  psql -h ' "$out/first" | sed 's/^  //')
[ -n "$connect" ] || fail "no psql line printed"
mapfile -t statements < <(grep '^  SELECT ' "$out/first" | sed 's/^  //')
[ ${#statements[@]} -ge 6 ] || fail "${#statements[@]} SQL lines printed"
for statement in "${statements[@]}"; do
    # shellcheck disable=SC2086
    if ! answer=$($connect -X -v ON_ERROR_STOP=1 -c "$statement" 2>&1); then
        fail "$statement: $answer"
    fi
    rows=$(grep -Eo '^\(([0-9]+) rows?\)' <<<"$answer" | grep -Eo '[0-9]+')
    [ "${rows:-0}" -ge 1 ] || fail "$statement: no row: $answer"
    echo "  ran: $statement ($rows row$([ "$rows" = 1 ] || echo s))"
done
# What the kill switch and the config changes above did is in the history, by the role that
# connected.
# shellcheck disable=SC2086
changes=$($connect -X -At -c "SELECT count(*) FROM webhook_routing.webhook_routing_config WHERE reason IN ('jobs: more to unified', 'trying the kill switch', 'back on')")
[ "$changes" = 3 ] || fail "config history holds $changes of the 3 changes typed"

curl_line=$(grep -m 1 '^  curl ' "$out/first" | sed 's/^  //')
[ -n "$curl_line" ] || fail "no curl line printed"
answer=$(eval "$curl_line")
grep -Eq '^the (unified|legacy) handler .*(took it|failed): (unified|legacy); reason=' <<<"$answer" \
    || fail "the router's answer to the curl: $answer"
echo "  ran: curl ... -> $answer"

sent=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["answered_2xx"])' "$root/state.json")
[ "$sent" -ge 100 ] || fail "only $sent webhooks through the router"

scripts/try >"$out/second" 2>&1 || { cat "$out/second"; fail "scripts/try, run again, failed"; }
[ "$(grep -m 1 '^  psql -h ' "$out/second" | sed 's/^  //')" = "$connect" ] \
    || fail "run again, scripts/try did not name the running cluster: $(cat "$out/second")"
grep -q '^== building' "$out/second" && fail "run again, scripts/try built and started anew"

scripts/try --stop >"$out/stop" 2>&1 || { cat "$out/stop"; fail "scripts/try --stop failed"; }
for pid in $pids; do
    ! kill -0 "$pid" 2>/dev/null || fail "process $pid of scripts/try still runs after --stop"
done
[ ! -e "$root" ] || fail "$root is still there after --stop"
# shellcheck disable=SC2086
! $connect -X -c 'SELECT 1' >/dev/null 2>&1 || fail "the cluster still answers after --stop"
echo "  scripts/try run again named the same cluster; --stop left nothing running and removed $root"
echo "try: ok"
