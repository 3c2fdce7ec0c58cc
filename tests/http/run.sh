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
# Rust black-box test that runs verify() on the file after concurrent HTTP load.
cargo test -p inventory-server
cargo build --release -p inventory-server
export INVENTORY_SERVER_BIN="$ROOT/target/release/inventory-server"

"$VENV/bin/pytest" -q tests/http "$@"

# schemathesis against a live server holding one product, so that some generated requests
# reach the handlers rather than 404.
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        wait "$SERVER_PID" || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
"$INVENTORY_SERVER_BIN" --addr 127.0.0.1:0 --db "$WORK/fuzz.db" --durability normal >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
ADDR=""
for _ in $(seq 1 100); do
    ADDR="$(sed -n 's/.*"message":"listening","addr":"\([^"]*\)".*/\1/p' "$WORK/server.log" | head -n1)"
    [ -n "$ADDR" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
    sleep 0.1
done
[ -n "$ADDR" ] || { echo "server did not start" >&2; cat "$WORK/server.log"; exit 1; }
curl -fsS -d '{"name":"Gaming Laptop","sku":"LAP001","price":1500.00,"location":"Warehouse A","initial_quantity":50}' \
    "http://$ADDR/api/products" >/dev/null

# schemathesis keeps a cache in its working directory: keep it out of the repository.
cd "$WORK"
# Valid inputs everywhere, which must not be refused as invalid (schemathesis.toml says which
# statuses a valid request may meet; the hooks drop only the refusals of rules relative to now
# or to another resource, which a schema cannot state); then invalid ones, with the two write
# headers pinned (unpinned, schemathesis' negative generation for DELETE fails its own
# filter_too_much health check on the document's header patterns; tests/http covers bad values
# of both headers).
SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$ROOT/tests/http" \
"$VENV/bin/schemathesis" --config-file "$ROOT/tests/http/schemathesis.toml" run "http://$ADDR/openapi.json" \
    --checks not_a_server_error,response_schema_conformance,positive_data_acceptance \
    --phases examples,coverage,fuzzing --mode positive \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-50}" --seed "${SCHEMATHESIS_SEED:-1}" \
    --warnings off
"$VENV/bin/schemathesis" run "http://$ADDR/openapi.json" \
    --checks not_a_server_error,response_schema_conformance \
    --phases examples,coverage,fuzzing --mode negative \
    -H 'If-Match: *' -H 'Idempotency-Key: schemathesis-negative' \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-50}" --seed "${SCHEMATHESIS_SEED:-1}" \
    --warnings off

# The server must still be healthy, shut down cleanly, and have logged no server fault.
curl -fsS "http://$ADDR/health" >/dev/null
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
SERVER_PID=""
if grep -q '"status":5[0-9][0-9]' "$WORK/server.log"; then
    echo "schemathesis provoked a 5xx:" >&2
    grep '"status":5[0-9][0-9]' "$WORK/server.log" | head >&2
    exit 1
fi
echo "schemathesis: no 5xx, every response matched the schema, no schema-valid request refused"
