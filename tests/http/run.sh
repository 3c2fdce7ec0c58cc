#!/usr/bin/env bash
# Black-box tests of inventory-server: builds the release binary, runs the pytest suite against
# it (each test starts the real binary on a free port with a temporary database; one generates a
# Python client from the served document with openapi-python-client and uses it), then runs
# schemathesis against its /openapi.json (bounded examples; checks: no 500s, responses match
# the schema, and schema-valid requests are not refused with a 400). Installs what it needs on
# a fresh Debian machine (run as root).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv-http"

if ! command -v cargo >/dev/null; then
    echo "cargo is required (rustup or Debian's cargo)" >&2
    exit 1
fi
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || ! command -v curl >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq python3 python3-venv python3-pip curl >/dev/null
fi
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
# Major versions pinned: the schemathesis flags below are those of its 4.x CLI, the
# generator's those of openapi-python-client 0.29; tests/http/test_metrics.py reads /metrics
# with prometheus-client's own parsers (Prometheus text and OpenMetrics); test_webhooks.py
# checks signatures with the Standard Webhooks reference library.
"$VENV/bin/pip" install -q --disable-pip-version-check "pytest>=8,<10" "requests>=2,<3" "schemathesis>=4.32,<5" \
    "openapi-python-client>=0.29,<0.30" "prometheus-client>=0.26,<0.27" "standardwebhooks>=1.1,<2"

# Unit tests (error mapping, body parsing, the OpenAPI document against the router) and the
# Rust black-box test that runs verify() on the file after concurrent HTTP load, unless
# scripts/test.sh has run every Rust test already (cargo test --workspace).
if [ "${INVENTORY_RUST_TESTS_RAN:-}" != 1 ]; then
    cargo test -p inventory-server
fi
scripts/build-binaries.sh
export INVENTORY_SERVER_BIN="$ROOT/target/release/inventory-server"

"$VENV/bin/pytest" -q tests/http "$@"

# schemathesis against live servers holding one product, so that some generated requests
# reach the handlers rather than 404. Its servers are SQLite's: tests/pg/run.sh, which runs the
# pytest suite again on PostgreSQL, sets INVENTORY_HTTP_SCHEMATHESIS=0 rather than run these twice.
if [ "${INVENTORY_HTTP_SCHEMATHESIS:-1}" = 0 ]; then
    exit 0
fi
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"
            wait "$pid" || true
        fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# start_fuzz_server NAME: a server on $WORK/NAME.db logging to $WORK/NAME.log, with the product;
# its address goes to $ADDR and its pid to PIDS.
start_fuzz_server() {
    : >"$WORK/$1.log" # made before the server opens it, so the poll below never reads a missing file
    "$INVENTORY_SERVER_BIN" --addr 127.0.0.1:0 --db "$WORK/$1.db" --durability normal >"$WORK/$1.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    ADDR=""
    for _ in $(seq 1 100); do
        ADDR="$(sed -n 's/.*"message":"listening","addr":"\([^"]*\)".*/\1/p' "$WORK/$1.log" | head -n1)"
        [ -n "$ADDR" ] && break
        kill -0 "$pid" 2>/dev/null || { cat "$WORK/$1.log"; exit 1; }
        sleep 0.1
    done
    [ -n "$ADDR" ] || { echo "server did not start" >&2; cat "$WORK/$1.log"; exit 1; }
    curl -fsS -d '{"name":"Gaming Laptop","sku":"LAP001","price":1500.00,"location":"Warehouse A","initial_quantity":50}' \
        "http://$ADDR/api/products" >/dev/null
}
start_fuzz_server positive
POSITIVE="$ADDR"
start_fuzz_server negative
NEGATIVE="$ADDR"

# schemathesis keeps a cache in its working directory: keep it out of the repository.
cd "$WORK"
# The two runs are independent (a server each) and mostly Python's CPU: they run side by side.
# Valid inputs everywhere, which must not be refused as invalid (schemathesis.toml says which
# statuses a valid request may meet; the hooks drop only the refusals of rules relative to now
# or to another resource, which a schema cannot state); then invalid ones, with the two write
# headers pinned (unpinned, schemathesis' negative generation for DELETE fails its own
# filter_too_much health check on the document's header patterns; tests/http covers bad values
# of both headers).
SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$ROOT/tests/http" \
"$VENV/bin/schemathesis" --config-file "$ROOT/tests/http/schemathesis.toml" run "http://$POSITIVE/openapi.json" \
    --checks not_a_server_error,response_schema_conformance,positive_data_acceptance \
    --phases examples,coverage,fuzzing --mode positive \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-50}" --seed "${SCHEMATHESIS_SEED:-1}" \
    --warnings off >"$WORK/positive.out" 2>&1 &
positive=$!
"$VENV/bin/schemathesis" run "http://$NEGATIVE/openapi.json" \
    --checks not_a_server_error,response_schema_conformance \
    --phases examples,coverage,fuzzing --mode negative \
    -H 'If-Match: *' -H 'Idempotency-Key: schemathesis-negative' \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-50}" --seed "${SCHEMATHESIS_SEED:-1}" \
    --warnings off >"$WORK/negative.out" 2>&1 &
negative=$!
failed=0
wait "$positive" || failed=1
echo "--- schemathesis, valid inputs"
cat "$WORK/positive.out"
wait "$negative" || failed=1
echo "--- schemathesis, invalid inputs"
cat "$WORK/negative.out"
((failed == 0)) || exit 1

# The servers must still be healthy, shut down cleanly, and have logged no server fault.
for addr in "$POSITIVE" "$NEGATIVE"; do
    curl -fsS "http://$addr/health" >/dev/null
done
for pid in "${PIDS[@]}"; do
    kill -TERM "$pid"
    wait "$pid"
done
PIDS=()
if grep -q '"status":5[0-9][0-9]' "$WORK/positive.log" "$WORK/negative.log"; then
    echo "schemathesis provoked a 5xx:" >&2
    grep '"status":5[0-9][0-9]' "$WORK/positive.log" "$WORK/negative.log" | head >&2
    exit 1
fi
echo "schemathesis: no 5xx, every response matched the schema, no schema-valid request refused"
