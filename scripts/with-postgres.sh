#!/usr/bin/env bash
# Runs a command with a private PostgreSQL server: a cluster from Debian's packages in a temporary
# directory, run as an unprivileged user, on a free port, listening on 127.0.0.1 only, and stopped
# (and deleted) when the command ends. The command finds its URL in INVENTORY_TEST_PG
# (postgres://postgres@127.0.0.1:PORT/postgres; trust authentication, so no password).
# Installs postgresql with apt-get when it is missing (run as root on a fresh Debian machine).
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]
# Extra server settings: PG_SETTINGS="-c shared_buffers=256MB ..."
set -euo pipefail

pg_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1
}
if [ -z "$(pg_bin)" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
fi
BIN="$(pg_bin)"
[ -x "$BIN/initdb" ] || { echo "no initdb under /usr/lib/postgresql" >&2; exit 1; }

# PostgreSQL refuses to run as root: use the Debian package's postgres user, or make one.
RUN_AS=()
if [ "$(id -u)" = 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    fi
    RUN_AS=(runuser -u postgres --)
fi

DIR="$(mktemp -d /tmp/inventory-pg.XXXXXX)"
chmod 755 "$DIR"
[ "${#RUN_AS[@]}" = 0 ] || chown postgres "$DIR"

stop() {
    "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
}
trap stop EXIT

"${RUN_AS[@]}" "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 >"$DIR/initdb.log" 2>&1 ||
    { cat "$DIR/initdb.log" >&2; exit 1; }
# Default durability (fsync, synchronous_commit=on). Room for several servers, each with a writer,
# a change listener and its pooled readers, and for the test threads' own databases. A random
# port that is taken makes the start fail: another is tried.
started=""
for _ in $(seq 1 20); do
    PORT=$((20000 + RANDOM % 40000))
    if "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
        -o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$DIR -c max_connections=400 ${PG_SETTINGS:-}" \
        start >/dev/null; then
        started=1
        break
    fi
done
[ -n "$started" ] || { cat "$DIR/server.log" >&2; exit 1; }

export INVENTORY_TEST_PG="postgres://postgres@127.0.0.1:$PORT/postgres"
echo "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT ($DIR)"
status=0
"$@" || status=$?
exit "$status"
