#!/usr/bin/env bash
# Soak: a mixed workload (reads, reserves left to expire, reserve-then-commit, feed pages, SSE
# subscribers; bench/soak.py) against the release server for DURATION seconds (default 1800),
# printing the server's RSS, descriptors, threads and the interval's request count, p50 and p99
# every INTERVAL seconds (default 60), so that drift shows as a trend. A benchmark, not a test.
# Usage: [DURATION=1800] [INTERVAL=60] bench/soak.sh [extra server flags...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
DURATION="${DURATION:-1800}"
INTERVAL="${INTERVAL:-60}"
cargo build --release -p inventory-server
WORK="$(mktemp -d)"
PID=""
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID"
        wait "$PID" || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
target/release/inventory-server --addr 127.0.0.1:0 --db "$WORK/soak.db" --sweep-interval-secs 1 "$@" \
    >"$WORK/server.log" 2>&1 &
PID=$!
ADDR=""
for _ in $(seq 1 100); do
    ADDR="$(sed -n 's/.*"message":"listening","addr":"\([^"]*\)".*/\1/p' "$WORK/server.log" | head -n1)"
    [ -n "$ADDR" ] && break
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
    sleep 0.1
done
[ -n "$ADDR" ] || { echo "the server did not start" >&2; exit 1; }
echo "soak: ${DURATION}s, a sample every ${INTERVAL}s, server pid $PID on $ADDR, flags: $*; load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
python3 bench/soak.py "http://$ADDR" "$PID" "$DURATION" "$INTERVAL"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
