# Shared by scripts/demo, scripts/test and bench: install what is missing, manage a throwaway
# PostgreSQL 15 cluster. Every step is skipped when its result is already there.
set -euo pipefail

PG_CONFIG=/usr/bin/pg_config
PG_BIN=/usr/lib/postgresql/15/bin
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
        -o "-p $STANDBY_PORT -k $dir -c listen_addresses=127.0.0.1 -c hot_standby=on" start >/dev/null
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

# install_extension [--release]: build and install into Debian's PostgreSQL.
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
