#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the export tests, on 127.0.0.1 and a free port, in a temp dir.
#
#   source .ci/postgres.sh        # exports CLVMODELS_PG_URL (CI, or a developer's shell)
#   eval "$(.ci/postgres.sh)"     # the same from a script that cannot source
#
# Installs Debian's postgresql with apt-get if no server binaries are found. Idempotent and quick:
# if CLVMODELS_PG_URL already answers, or a cluster this script started is still up, it is reused.
# The cluster stops (and its directory is removed) when the shell that started it exits; to stop
# it earlier: clvmodels_pg_stop. PostgreSQL refuses to run as root, so as root the server runs as
# the unprivileged user "nobody" (override with CLVMODELS_PG_OS_USER).

_clv_pg_state="${TMPDIR:-/tmp}/clvmodels-pg.env"

_clv_pg_log() { echo "postgres.sh: $*" >&2; }

_clv_pg_answers() {  # $1 = URL; true if a server accepts a query there
    local url="${1/+psycopg/}"
    command -v psql >/dev/null 2>&1 && psql "$url" -Atqc 'select 1' >/dev/null 2>&1
}

_clv_pg_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$dir" ] && command -v pg_config >/dev/null 2>&1; then dir=$(pg_config --bindir); fi
    [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

_clv_pg_install() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    _clv_pg_log "installing Debian's postgresql (apt-get)"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        postgresql postgresql-client >&2
}

_clv_pg_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_clv_pg_start() {
    local bindir base port os_user run watch
    bindir=$(_clv_pg_bindir) || { _clv_pg_install && bindir=$(_clv_pg_bindir); } || {
        _clv_pg_log "no PostgreSQL server binaries after installing postgresql"; return 1; }
    base=$(mktemp -d "${TMPDIR:-/tmp}/clvmodels-pg.XXXXXX")
    port=$(_clv_pg_free_port)
    run=()
    if [ "$(id -u)" -eq 0 ]; then
        os_user="${CLVMODELS_PG_OS_USER:-nobody}"
        chown "$os_user" "$base"
        run=(runuser -u "$os_user" --)
    fi
    # trust auth on 127.0.0.1 only; durability off: a test cluster that is thrown away
    "${run[@]}" "$bindir/initdb" -D "$base/data" -U clvmodels --auth=trust -E UTF8 --no-locale \
        >"$base/initdb.log" 2>&1 || { cat "$base/initdb.log" >&2; return 1; }
    "${run[@]}" "$bindir/pg_ctl" -D "$base/data" -l "$base/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $base -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null || { cat "$base/server.log" >&2; return 1; }
    "${run[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U clvmodels clvmodels
    # stop the cluster when the shell that wants it exits (the sourcing shell, or the caller of eval)
    if [ "${BASH_SOURCE[0]}" != "$0" ]; then watch=$$; else watch=$PPID; fi
    nohup bash -c "while kill -0 $watch 2>/dev/null; do sleep 2; done
        ${run[*]} '$bindir/pg_ctl' -D '$base/data' -m immediate stop; rm -rf '$base' '$_clv_pg_state'" \
        >/dev/null 2>&1 &
    disown 2>/dev/null || true
    cat >"$_clv_pg_state" <<EOF
CLVMODELS_PG_URL=postgresql+psycopg://clvmodels@127.0.0.1:$port/clvmodels
CLVMODELS_PG_DIR=$base
CLVMODELS_PG_BINDIR=$bindir
EOF
    _clv_pg_log "started PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($base)"
}

clvmodels_pg_stop() {
    [ -f "$_clv_pg_state" ] || return 0
    # shellcheck disable=SC1090
    . "$_clv_pg_state"
    local run=()
    [ "$(id -u)" -eq 0 ] && run=(runuser -u "${CLVMODELS_PG_OS_USER:-nobody}" --)
    "${run[@]}" "$CLVMODELS_PG_BINDIR/pg_ctl" -D "$CLVMODELS_PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$CLVMODELS_PG_DIR" "$_clv_pg_state"
    unset CLVMODELS_PG_URL CLVMODELS_PG_DIR CLVMODELS_PG_BINDIR
}

_clv_pg_main() {
    if [ -n "${CLVMODELS_PG_URL:-}" ] && _clv_pg_answers "$CLVMODELS_PG_URL"; then
        _clv_pg_log "reusing $CLVMODELS_PG_URL"
    else
        if [ -f "$_clv_pg_state" ]; then
            # shellcheck disable=SC1090
            . "$_clv_pg_state"
            if _clv_pg_answers "$CLVMODELS_PG_URL"; then
                _clv_pg_log "reusing the cluster in $CLVMODELS_PG_DIR"
            else
                rm -f "$_clv_pg_state"
            fi
        fi
        if [ ! -f "$_clv_pg_state" ]; then
            _clv_pg_start || return 1
            # shellcheck disable=SC1090
            . "$_clv_pg_state"
        fi
    fi
    export CLVMODELS_PG_URL
    echo "export CLVMODELS_PG_URL=$CLVMODELS_PG_URL"
}

_clv_pg_main
