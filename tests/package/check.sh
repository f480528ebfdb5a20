#!/usr/bin/env bash
# The packages of one major (scripts/package) install on a clean server of that major and work:
# into a copy of the tests' server (PG_CONFIG, PG_BIN: scripts/lib.sh) without the extension,
# the tarball through its install.sh, and (15 and 17) the .deb's files where dpkg puts them; each
# then in a new cluster of that copy: CREATE EXTENSION, and a decision at 100% that must go to
# unified for the jobs domain. install.sh must refuse a pg_config of another major. The .deb's
# fields and files are read with dpkg-deb -I and -c.
# Usage: tests/package/check.sh MAJOR WORKDIR
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
major=$1
work=$2
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
name=webhook_routing-$version-pg$major-linux-amd64
tarball=dist/$name.tar.gz
deb=
case "$major" in 15 | 17) deb=dist/postgresql-$major-webhook-routing_${version}_amd64.deb ;; esac
mkdir -p "$work"
chmod 755 "$work"
clusters=()
# (Each as "PG_BIN|DIR", stopped on the way out.)
trap 'for c in "${clusters[@]}"; do PG_BIN=${c%%|*} cluster_stop "${c#*|}"; done' EXIT

fail() {
    echo "package check, PostgreSQL $major: $*" >&2
    exit 1
}

# clean_copy DIR: a copy of the tests' server in DIR without the extension's files; prints the
# copy's pg_config. Debian's layout (15 and 17: .../usr/lib/postgresql/N/bin) keeps its usr/
# tree; a wheel (PG_BIN is TREE/PACKAGE/pginstall/bin) is copied whole, with the libraries
# beside the package that its programs find from where they are ($ORIGIN/../../../PACKAGE.libs).
# Either finds its share and library directories from where its programs are.
clean_copy() {
    local dir=$1 root
    rm -rf "$dir"
    if [[ "$PG_BIN" == */usr/lib/postgresql/$major/bin ]]; then
        root=${PG_BIN%/usr/lib/postgresql/$major/bin}
        mkdir -p "$dir/usr/lib/postgresql" "$dir/usr/share/postgresql"
        cp -a "$root/usr/lib/postgresql/$major" "$dir/usr/lib/postgresql/"
        cp -a "$root/usr/share/postgresql/$major" "$dir/usr/share/postgresql/"
        rm -f "$dir/usr/lib/postgresql/$major/lib/webhook_routing.so" "$dir/usr/share/postgresql/$major/extension/webhook_routing"*
        chmod -R a+rX "$dir"
        echo "$dir/usr/lib/postgresql/$major/bin/pg_config"
    else
        root=$(cd "$PG_BIN/../../.." && pwd)
        cp -a "$root" "$dir"
        local install=$dir/${PG_BIN#"$root"/}/..
        rm -f "$install/lib/webhook_routing.so" "$install/lib/postgresql/webhook_routing.so" \
            "$install"/share/extension/webhook_routing* "$install"/share/postgresql/extension/webhook_routing*
        chmod -R a+rX "$dir"
        echo "$dir/${PG_BIN#"$root"/}/pg_config"
    fi
}

# decide PG_CONFIG LABEL: a new cluster of that server, the extension created, one decision.
decide() {
    local config=$1 label=$2 bin got t=$SECONDS
    bin=$("$config" --bindir)
    if [ ! -e "$("$config" --pkglibdir)/webhook_routing.so" ]; then
        fail "$label: no library in $("$config" --pkglibdir)"
    fi
    clusters+=("$bin|$work/cluster-$label")
    PG_BIN=$bin CLUSTER_OPTIONS= cluster_start "$work/cluster-$label"
    got=$("$bin/psql" -X -q -At -v ON_ERROR_STOP=1 -d postgres \
        -c "CREATE EXTENSION webhook_routing" \
        -c "SELECT webhook_routing.set_routing_enabled(true, 'package check')" \
        -c "SELECT webhook_routing.update_routing_percentage(100, 'package check')" \
        -c "SELECT e.extversion || ' ' || d.domain || ' ' || d.routed_to
            FROM pg_catalog.pg_extension AS e,
                 webhook_routing.route_decision('{\"entry\":[{\"changes\":[{\"value\":{\"messages\":[{\"from\":\"250788123456\",\"type\":\"text\",\"text\":{\"body\":\"I am looking for a job, any vacancy?\"}}]}}]}]}'::jsonb) AS d
            WHERE e.extname = 'webhook_routing'" 2>&1 | tail -n 1)
    PG_BIN=$bin cluster_stop "$work/cluster-$label"
    [ "$got" = "$version jobs unified" ] || fail "$label: expected '$version jobs unified' from a new cluster, got: $got"
    echo "  $label: CREATE EXTENSION in a new cluster ($("$config" --version)), a decision at 100%: $got ($((SECONDS - t)) s)"
}

[ -f "$tarball" ] || fail "no $tarball: run scripts/package --pg $major"

t=$SECONDS
config=$(clean_copy "$work/server-tar")
echo "  a copy of the server without the extension ($((SECONDS - t)) s)"
t=$SECONDS
mkdir -p "$work/unpacked"
tar -C "$work/unpacked" -xzf "$tarball"
owners=$(tar --numeric-owner -tvzf "$tarball" | awk '{print $2}' | sort -u)
[ "$owners" = 0/0 ] || fail "$tarball: files owned by $owners, not root (0/0)"
# Another major's pg_config is refused, and nothing is written.
printf '#!/bin/sh\necho "PostgreSQL 99.1"\n' >"$work/pg_config_99"
chmod 755 "$work/pg_config_99"
if refusal=$("$work/unpacked/$name/install.sh" "$work/pg_config_99" 2>&1); then
    fail "install.sh accepted a pg_config of PostgreSQL 99"
fi
grep -q "for PostgreSQL $major, and .* is PostgreSQL 99.1" <<<"$refusal" || fail "install.sh refused PostgreSQL 99 without saying why: $refusal"
echo "  install.sh refuses another major: $(head -n 1 <<<"$refusal")"
"$work/unpacked/$name/install.sh" "$config" | sed 's/^/    /'
echo "  tarball unpacked and installed by install.sh ($((SECONDS - t)) s)"
decide "$config" tarball

if [ -n "$deb" ]; then
    [ -f "$deb" ] || fail "no $deb: run scripts/package --pg $major"
    t=$SECONDS
    info=$(dpkg-deb -I "$deb")
    for field in "Package: postgresql-$major-webhook-routing" "Version: $version" "Architecture: amd64"; do
        grep -qx " $field" <<<"$info" || fail "$deb: no '$field' in its control file"
    done
    grep -q "^ Depends: postgresql-$major," <<<"$info" || fail "$deb: does not depend on postgresql-$major"
    contents=$(dpkg-deb -c "$deb")
    if grep -v ' root/root ' <<<"$contents"; then
        fail "$deb: the files above are not root's"
    fi
    for f in "./usr/lib/postgresql/$major/lib/webhook_routing.so" "./usr/share/postgresql/$major/extension/webhook_routing.control" \
             "./usr/share/postgresql/$major/extension/webhook_routing--$version.sql"; do
        grep -q " $f\$" <<<"$contents" || fail "$deb: no $f"
    done
    echo "  $deb: $(grep '^ Depends:' <<<"$info" | sed 's/^ //'), $(grep -c '^-' <<<"$contents") files, all root's ($((SECONDS - t)) s)"
    t=$SECONDS
    config=$(clean_copy "$work/server-deb")
    # Where dpkg would put them, in the copy's tree.
    dpkg-deb -x "$deb" "$work/server-deb"
    echo "  .deb unpacked into another copy of the server ($((SECONDS - t)) s)"
    decide "$config" deb
fi
