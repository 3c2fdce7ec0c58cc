#!/usr/bin/env bash
# The PostgreSQL suites, on a private server from Debian's packages (scripts/with-postgres.sh
# starts it when INVENTORY_TEST_PG is not set): the engine without its postgres feature (a
# postgres:// URL is a clear STORAGE_ERROR); every engine integration test on a fresh database
# each, with the PostgreSQL-only ones (several handles on one database, the change feed under
# eight writers); four real server processes on one database; the HTTP black-box suite; and
# tests/pg's own, each on private clusters of its own: one stopped and started under a running
# server, and a primary killed under 16 writers and its synchronous standby promoted.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
if [ -z "${INVENTORY_TEST_PG:-}" ]; then
    exec scripts/with-postgres.sh "$0" "$@"
fi
step() {
    echo
    echo "--> $*"
    local start=$SECONDS
    "$@"
    echo "<-- $((SECONDS - start))s"
}
step cargo test -p inventory --lib
step cargo test -p inventory --features postgres --tests -- --include-ignored
step cargo test -p inventory-server --test multiprocess -- --include-ignored
step tests/http/run.sh
step env INVENTORY_SERVER_BIN="$ROOT/target/release/inventory-server" "$ROOT/.venv-http/bin/pytest" -q tests/pg
