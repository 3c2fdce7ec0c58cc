#!/usr/bin/env bash
# Single-connection write latency of two server binaries, side by side (a benchmark, not a
# timed test; figures in docs/PERFORMANCE.md): POST .../stock/reserve over one keep-alive
# connection (wrk -t1 -c1, bench/http/reserve.lua) against each binary in turn, each on a fresh
# database with the given server flags, ROUNDS interleaved rounds (A B A B ...). Prints req/s,
# p50, p99 and max of every run, then the medians per binary.
# Usage: bench/http/single.sh SECONDS ROUNDS BINARY_A [BINARY_B] [-- server flags...]
#   BINARY_B defaults to this tree's release build; server flags default to --durability normal.
#   NICE=-15 runs the servers and wrk at that niceness (as root): on a shared machine it keeps
#   other processes' CPU time out of the tail being measured.
# e.g.   NICE=-15 bench/http/single.sh 10 7 /work/bin/inventory-server-wave1
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
DURATION="$1"
ROUNDS="$2"
A="$3"
shift 3
B="$ROOT/target/release/inventory-server"
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
    B="$1"
    shift
fi
[ "${1:-}" = "--" ] && shift
FLAGS=("$@")
RUN=(nice -n "${NICE:-0}")
[ ${#FLAGS[@]} -gt 0 ] || FLAGS=(--durability normal)
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
[ "$B" != "$ROOT/target/release/inventory-server" ] || cargo build --release -p inventory-server
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# one LABEL BINARY: a fresh server, one wrk run, its figures appended to $WORK/LABEL.
one() {
    local label="$1" bin="$2"
    # A fresh log too: read before the new server truncates it, the old one names the old port.
    rm -f "$WORK"/bench.db* "$WORK/server.log"
    "${RUN[@]}" "$bin" --addr 127.0.0.1:0 --db "$WORK/bench.db" "${FLAGS[@]}" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    local addr=""
    for _ in $(seq 1 100); do
        addr="$(sed -n 's/.*"message":"listening","addr":"\([^"]*\)".*/\1/p' "$WORK/server.log" | head -n1)"
        [ -n "$addr" ] && break
        sleep 0.1
    done
    [ -n "$addr" ] || { cat "$WORK/server.log"; exit 1; }
    local id
    id="$(curl -fsS -d '{"name":"Bench","sku":"BENCH-1","price":"9.99","initial_quantity":1000000000000}' \
        "http://$addr/api/products" | sed -n 's/.*"product":{"id":"\([^"]*\)".*/\1/p')"
    PRODUCT_ID="$id" "${RUN[@]}" wrk -t1 -c1 -d"${DURATION}s" --latency -s "$ROOT/bench/http/reserve.lua" \
        "http://$addr" >"$WORK/wrk.txt"
    kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true
    SERVER_PID=""
    python3 - "$WORK/wrk.txt" "$label" "$WORK/$label" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(v):
    n, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 1e-3, "ms": 1, "s": 1e3}[unit]
latency = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", text)
p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
top = ms(latency.group(3))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
bad = re.search(r"non-2xx: (\d+)", text).group(1)
print(f"{sys.argv[2]:<3} req/s={rps:<9.0f} p50={p50:.3f}ms p99={p99:.3f}ms max={top:.1f}ms "
      f"p99/p50={p99 / p50:.1f} non-2xx={bad}")
with open(sys.argv[3], "a") as f:
    f.write(f"{rps} {p50} {p99} {top}\n")
PY
}

echo "A: $A"
echo "B: $B"
echo "flags: ${FLAGS[*]}; ${DURATION}s per run; nice ${NICE:-0}; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$ROUNDS"); do
    one A "$A"
    one B "$B"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
for label in A B; do
    python3 - "$WORK/$label" "$label" <<'PY'
import statistics, sys
runs = [list(map(float, l.split())) for l in open(sys.argv[1])]
rps, p50, p99, top = (statistics.median(c) for c in zip(*runs))
print(f"median {sys.argv[2]}: req/s={rps:.0f} p50={p50:.3f}ms p99={p99:.3f}ms max={top:.1f}ms p99/p50={p99 / p50:.1f}")
PY
done
