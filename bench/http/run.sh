#!/usr/bin/env bash
# Load test of inventory-server with wrk, optionally side by side with another build of it.
#
# For GET /health, GET /api/products/{id}, GET /api/products (a page of 10) and
# POST .../stock/reserve, at 1, 32, 128 and 512 keep-alive connections, prints requests/s,
# p50, p99, max latency, wrk timeouts and the server's peak RSS (VmHWM) after the run; then
# the RSS of each server with a thousand slow sockets connected (each sent part of a request
# head). With BASELINE_BIN set, both servers run at once on their own databases and every row
# runs against each in turn, ROUNDS times, so both see the same machine; the summary gives
# medians per row and the ratio new/baseline.
#
# Usage: [BASELINE_BIN=path] [ROUTES="..."] [CONNS="..."] bench/http/run.sh [DURATION_SECONDS] [ROUNDS] [extra server flags...]
#   ROUTES (default "health product list reserve") and CONNS (default "1 32 128 512") pick rows.
# e.g.   BASELINE_BIN=/work/bin/inventory-server-wave1 bench/http/run.sh 5 3
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
DURATION="${1:-5}"
ROUNDS="${2:-3}"
shift 2 || shift $#
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release -p inventory-server
ulimit -n 8192
WORK="$(mktemp -d)"
cp "$ROOT/target/release/inventory-server" "$WORK/new"
NAMES=(new)
BINS=("$WORK/new")
if [ -n "${BASELINE_BIN:-}" ]; then
    NAMES+=(baseline)
    BINS+=("$BASELINE_BIN")
fi
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

declare -A ADDR ID PID
for i in "${!NAMES[@]}"; do
    name="${NAMES[$i]}"
    # Access logs are on (the default): each request costs one JSON log line, as in production.
    "${BINS[$i]}" --addr 127.0.0.1:0 --db "$WORK/$name.db" "$@" >"$WORK/$name.log" 2>&1 &
    PID[$name]=$!
    PIDS+=($!)
    for _ in $(seq 1 100); do
        ADDR[$name]="$(sed -n 's/.*"message":"listening","addr":"\([^"]*\)".*/\1/p' "$WORK/$name.log" | head -n1)"
        [ -n "${ADDR[$name]}" ] && break
        sleep 0.1
    done
    [ -n "${ADDR[$name]}" ] || { cat "$WORK/$name.log"; exit 1; }
    ID[$name]="$(curl -fsS -d '{"name":"Bench","sku":"BENCH-1","price":"9.99","initial_quantity":1000000000000}' \
        "http://${ADDR[$name]}/api/products" | sed -n 's/.*"product":{"id":"\([^"]*\)".*/\1/p')"
    for n in $(seq 2 20); do
        curl -fsS -o /dev/null -d "{\"name\":\"Bench $n\",\"sku\":\"BENCH-$n\",\"price\":\"1.00\",\"initial_quantity\":$n}" \
            "http://${ADDR[$name]}/api/products"
    done
    echo "$name: ${BINS[$i]} on ${ADDR[$name]}, product ${ID[$name]}"
done

RESULTS="$WORK/results"
: >"$RESULTS"
# wrk prints latencies as 1.23ms / 456.00us / 1.20s: in ms.
to_ms() { awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /m$/) { sub(/m$/, "", v); v *= 60000 } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.2f", v }'; }

run() { # row-name connections server-name wrk-args...
    local row="$1" conns="$2" name="$3"
    shift 3
    local threads=$((conns < 2 ? 1 : 2))
    local out
    out="$(wrk -t"$threads" -c"$conns" -d"${DURATION}s" --timeout 2s --latency "$@")"
    local rps p50 p99 max timeouts rss bad
    rps="$(echo "$out" | awk '/Requests\/sec/ {print $2}')"
    p50="$(echo "$out" | awk '$1 == "50%" {print $2}' | to_ms)"
    p99="$(echo "$out" | awk '$1 == "99%" {print $2}' | to_ms)"
    max="$(echo "$out" | awk '$1 == "Latency" {print $4; exit}' | to_ms)"
    timeouts="$(echo "$out" | sed -n 's/.*timeout \([0-9]*\).*/\1/p')"
    bad="$(echo "$out" | sed -n 's/.*Non-2xx or 3xx responses: \([0-9]*\).*/\1/p')"
    rss="$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/${PID[$name]}/status")"
    printf '%-8s %-7s conns=%-3s req/s=%-9s p50=%-7s p99=%-8s max=%-8s timeouts=%-3s non2xx=%-4s peak_rss=%sMiB\n' \
        "$row" "$name" "$conns" "$rps" "$p50" "$p99" "$max" "${timeouts:-0}" "${bad:-0}" "$rss"
    echo "$row $conns $name $rps $p50 $p99 $max ${timeouts:-0} ${bad:-0} $rss" >>"$RESULTS"
}

ROUTES="${ROUTES:-health product list reserve}"
wanted() { [[ " $ROUTES " == *" $1 "* ]]; }
for conns in ${CONNS:-1 32 128 512}; do
    for round in $(seq 1 "$ROUNDS"); do
        for name in "${NAMES[@]}"; do
            a="http://${ADDR[$name]}"
            if wanted health; then run health "$conns" "$name" "$a/health"; fi
            if wanted product; then run product "$conns" "$name" "$a/api/products/${ID[$name]}"; fi
            if wanted list; then run list "$conns" "$name" "$a/api/products"; fi
            if wanted reserve; then
                PRODUCT_ID="${ID[$name]}" run reserve "$conns" "$name" -s "$ROOT/bench/http/reserve.lua" "$a"
            fi
        done
    done
done

echo
echo "RSS with 1,000 slow sockets (each sent part of a request head):"
for name in "${NAMES[@]}"; do
    python3 - "${ADDR[$name]}" "${PID[$name]}" "$name" <<'EOF'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
pid, name = sys.argv[2], sys.argv[3]
def status(key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
before = status("VmRSS")
threads_before = status("Threads")
socks = []
for _ in range(1000):
    s = socket.create_connection((host, int(port)))
    s.sendall(b"GET /health HTTP/1.1\r\nHost: localh")
    socks.append(s)
time.sleep(1)
print(f"{name:8} RSS {before / 1024:.1f} -> {status('VmRSS') / 1024:.1f} MiB, "
      f"threads {threads_before} -> {status('Threads')}, peak RSS {status('VmHWM') / 1024:.1f} MiB")
for s in socks:
    s.close()
EOF
done

echo
echo "Medians over $ROUNDS rounds of ${DURATION}s (latencies in ms; timeouts summed; peak RSS the largest):"
python3 - "$RESULTS" <<'EOF'
import statistics, sys
from collections import defaultdict
rows = defaultdict(list)
for line in open(sys.argv[1]):
    row, conns, name, rps, p50, p99, mx, to, bad, rss = line.split()
    rows[(row, int(conns), name)].append((float(rps), float(p50), float(p99), float(mx), int(to), int(bad), float(rss)))
names = sorted({k[2] for k in rows}, key=lambda n: n != "new")
print(f"| route | conns | {' | '.join(f'{n} req/s' for n in names)} | " +
      ("ratio | " if len(names) > 1 else "") +
      " | ".join(f"{n} p50 / p99 / max" for n in names) + " | " +
      " | ".join(f"{n} timeouts" for n in names) + " | " + " | ".join(f"{n} peak RSS MiB" for n in names) + " |")
print("|---" * (2 + len(names) * 4 + (1 if len(names) > 1 else 0)) + "|")
for route in ("health", "product", "list", "reserve"):
    for conns in (1, 32, 128, 512):
        cells = {}
        for n in names:
            runs = rows.get((route, conns, n))
            if not runs:
                continue
            med = lambda i: statistics.median(r[i] for r in runs)
            cells[n] = dict(rps=med(0), p50=med(1), p99=med(2), max=max(r[3] for r in runs),
                            to=sum(r[4] for r in runs), bad=sum(r[5] for r in runs), rss=max(r[6] for r in runs))
        if len(cells) < len(names):
            continue
        line = f"| {route} | {conns} | " + " | ".join(f"{cells[n]['rps']:,.0f}" for n in names) + " | "
        if len(names) > 1:
            line += f"{cells['new']['rps'] / cells[names[1]]['rps']:.2f}× | "
        line += " | ".join(f"{cells[n]['p50']:.2f} / {cells[n]['p99']:.2f} / {cells[n]['max']:.1f}" for n in names) + " | "
        line += " | ".join(str(cells[n]['to']) + (f" ({cells[n]['bad']} non-2xx)" if cells[n]['bad'] else "") for n in names) + " | "
        line += " | ".join(f"{cells[n]['rss']:.1f}" for n in names) + " |"
        print(line)
EOF
for name in "${NAMES[@]}"; do
    curl -fsS "http://${ADDR[$name]}/api/products/${ID[$name]}/inventory" |
        sed -n "s/.*\"reserved\":\([0-9]*\).*/$name: reserved after the run: \1/p" | head -1
done
