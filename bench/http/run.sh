#!/usr/bin/env bash
# Load test of inventory-server with wrk: GET /api/products/{id} and POST .../stock/reserve at 1
# and 32 keep-alive connections. Prints requests/s, p99 latency and the server's peak RSS.
# Usage: bench/http/run.sh [DURATION_SECONDS] [extra server flags...]
# e.g.   bench/http/run.sh 10 --durability normal --workers 4
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
DURATION="${1:-10}"
shift || true
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release -p inventory-server
BIN="$ROOT/target/release/inventory-server"
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
# Access logs are on (the default): each request costs one JSON log line, as in production.
"$BIN" --addr 127.0.0.1:0 --db "$WORK/bench.db" "$@" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
ADDR=""
for _ in $(seq 1 100); do
    ADDR="$(sed -n 's/.*"message":"listening","addr":"\([^"]*\)".*/\1/p' "$WORK/server.log" | head -n1)"
    [ -n "$ADDR" ] && break
    sleep 0.1
done
[ -n "$ADDR" ] || { cat "$WORK/server.log"; exit 1; }
grep '"listening"' "$WORK/server.log"
ID="$(curl -fsS -d '{"name":"Bench","sku":"BENCH-1","price":"9.99","initial_quantity":1000000000000}' \
    "http://$ADDR/api/products" | sed -n 's/.*"product":{"id":"\([^"]*\)".*/\1/p')"
echo "product $ID"

run() { # name connections wrk-args...
    local name="$1" conns="$2"
    shift 2
    local threads=$(( conns < 2 ? 1 : 2 ))
    local out
    out="$(wrk -t"$threads" -c"$conns" -d"${DURATION}s" --latency "$@")"
    local rps p99 rss
    rps="$(echo "$out" | awk '/Requests\/sec/ {print $2}')"
    p99="$(echo "$out" | awk '$1 == "99%" {print $2}')"
    rss="$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$SERVER_PID/status")"
    printf '%-8s conns=%-3s req/s=%-10s p99=%-9s peak_rss=%s %s\n' "$name" "$conns" "$rps" "$p99" "$rss" \
        "$(echo "$out" | grep -E 'non-2xx|Non-2xx|Socket errors' | tr '\n' ' ')"
}
run GET 1 "http://$ADDR/api/products/$ID"
run GET 32 "http://$ADDR/api/products/$ID"
PRODUCT_ID="$ID" run RESERVE 1 -s "$ROOT/bench/http/reserve.lua" "http://$ADDR"
PRODUCT_ID="$ID" run RESERVE 32 -s "$ROOT/bench/http/reserve.lua" "http://$ADDR"
curl -fsS "http://$ADDR/api/products/$ID/inventory" | sed -n 's/.*"reserved":\([0-9]*\).*/reserved after the run: \1/p' | head -1
