#!/usr/bin/env bash
# The PostgreSQL suites, on a private server from Debian's packages (scripts/with-postgres.sh
# starts it when INVENTORY_TEST_PG is not set): the engine without its postgres feature (a
# postgres:// URL is a clear STORAGE_ERROR); every engine integration test on a fresh database
# each, with the PostgreSQL-only ones (several handles on one database, the change feed under
# eight writers); four real server processes on one database; the tills' identity, owner and
# restore tests against a central on PostgreSQL; the HTTP black-box suite (its pytest part: its
# Rust tests and schemathesis runs are SQLite's); and
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
# The engine's integration tests as `cargo test --workspace` built them (scripts/workspace-tests.sh
# says why), less those that are SQLite's alone: its unit tests and tests/open.rs run on SQLite
# whatever INVENTORY_TEST_PG says, and scripts/test.sh has run them.
step scripts/workspace-tests.sh inventory -unit -open -- --include-ignored
step scripts/workspace-tests.sh inventory-server multiprocess -- --include-ignored
# The tills' identity tests against a central on PostgreSQL (the server binary is the one
# `cargo test --workspace` built).
step scripts/workspace-tests.sh inventory-till identity
# The HTTP suite on PostgreSQL; its Rust tests and its schemathesis runs are SQLite's.
step env INVENTORY_RUST_TESTS_RAN=1 INVENTORY_HTTP_SCHEMATHESIS=0 tests/http/run.sh
step env INVENTORY_SERVER_BIN="$ROOT/target/release/inventory-server" "$ROOT/.venv-http/bin/pytest" -q tests/pg
