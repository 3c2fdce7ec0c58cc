#!/usr/bin/env bash
# The cost of API keys (a benchmark, not a timed test; figures in docs/PERFORMANCE.md): one
# release binary as two servers running at once, `--auth off` and `--auth required`, each on
# its own database, with GET /api/products/{id} and POST .../stock/reserve (bench/http/
# reserve.lua) at CONNECTIONS keep-alive connections (wrk -t2). Both are sent the same
# `Authorization: Bearer` header (the off server does not read it), so only the check differs.
# Every row runs against both servers in turn, ROUNDS times, the order swapped each round;
# prints every run, then the median req/s, p99 and server CPU time per request per row and
# server, and the ratio
# required/off of each round (the two runs of a round are seconds apart) and its median.
# Usage: bench/http/auth.sh [SECONDS] [ROUNDS] [CONNECTIONS] [extra server flags...]
#   extra flags default to --durability normal (a commit's fsync would hide the check's cost).
# e.g.   bench/http/auth.sh 10 5 32
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
DURATION="${1:-10}"
ROUNDS="${2:-5}"
CONNECTIONS="${3:-32}"
shift 3 || shift $#
FLAGS=("$@")
[ ${#FLAGS[@]} -gt 0 ] || FLAGS=(--durability normal)
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release -p inventory-server
BIN="$ROOT/target/release/inventory-server"
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

declare -A ADDR ID SECRET PID
for mode in off required; do
    SECRET[$mode]="$("$BIN" keys create --db "$WORK/$mode.db" --name bench --scope write)"
    "$BIN" --addr 127.0.0.1:0 --db "$WORK/$mode.db" --auth "$mode" "${FLAGS[@]}" >"$WORK/$mode.log" 2>&1 &
    PIDS+=($!)
    PID[$mode]=$!
    for _ in $(seq 1 100); do
        ADDR[$mode]="$(sed -n 's/.*"message":"listening","addr":"\([^"]*\)".*/\1/p' "$WORK/$mode.log" | head -n1)"
        [ -n "${ADDR[$mode]}" ] && break
        sleep 0.1
    done
    [ -n "${ADDR[$mode]}" ] || { cat "$WORK/$mode.log"; exit 1; }
    ID[$mode]="$(curl -fsS -H "Authorization: Bearer ${SECRET[$mode]}" \
        -d '{"name":"Bench","sku":"BENCH-1","price":"9.99","initial_quantity":1000000000000}' \
        "http://${ADDR[$mode]}/api/products" | sed -n 's/.*"product":{"id":"\([^"]*\)".*/\1/p')"
    [ -n "${ID[$mode]}" ] || { echo "no product on the $mode server" >&2; exit 1; }
    echo "$mode: ${ADDR[$mode]}, product ${ID[$mode]}"
done

# cpu PID: the process's user + system time so far, in clock ticks.
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run ROW MODE: one wrk run; appends "req/s p99_ms cpu_us_per_request" to $WORK/ROW.MODE.
# CPU time per request is the figure the machine's noise moves least: another process slows a
# server down, but takes none of its CPU time.
run() {
    local row="$1" mode="$2" before after
    local url="http://${ADDR[$mode]}/api/products/${ID[$mode]}" script=()
    [ "$row" = reserve ] && script=(-s "$ROOT/bench/http/reserve.lua")
    before="$(cpu "${PID[$mode]}")"
    PRODUCT_ID="${ID[$mode]}" wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "${script[@]}" \
        -H "Authorization: Bearer ${SECRET[$mode]}" "$url" >"$WORK/wrk.txt"
    after="$(cpu "${PID[$mode]}")"
    python3 - "$WORK/wrk.txt" "$row" "$mode" "$WORK/$row.$mode" "$((after - before))" "$(getconf CLK_TCK)" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(v):
    n, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 1e-3, "ms": 1, "s": 1e3}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
total = int(re.search(r"(\d+) requests in", text).group(1))
cpu_us = int(sys.argv[5]) / int(sys.argv[6]) * 1e6 / total
p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{sys.argv[2]:<8} {sys.argv[3]:<9} req/s={rps:<9.0f} p99={p99:.3f}ms cpu/request={cpu_us:.1f}us non-2xx={bad.group(1) if bad else 0}")
if bad:
    sys.exit("a run got errors: the figures would not be comparable")
with open(sys.argv[4], "a") as f:
    f.write(f"{rps} {p99} {cpu_us}\n")
PY
}

echo "${DURATION}s per run, $CONNECTIONS connections, flags: ${FLAGS[*]}; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
    order=(off required)
    [ $((round % 2)) -eq 0 ] && order=(required off)
    for row in get reserve; do
        for mode in "${order[@]}"; do
            run "$row" "$mode"
        done
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$WORK" <<'PY'
import statistics, sys
def runs(row, mode):
    return [list(map(float, l.split())) for l in open(f"{sys.argv[1]}/{row}.{mode}")]
for row in ("get", "reserve"):
    off, req = runs(row, "off"), runs(row, "required")
    ratios = [r[0] / o[0] for o, r in zip(off, req)]
    med = lambda rs, c: statistics.median(r[c] for r in rs)
    print(f"median {row:<8} off: {med(off, 0):.0f} req/s p99 {med(off, 1):.3f}ms "
          f"cpu {med(off, 2):.1f}us; required: {med(req, 0):.0f} req/s p99 {med(req, 1):.3f}ms "
          f"cpu {med(req, 2):.1f}us; required/off per round "
          f"{' '.join(f'{x:.3f}' for x in ratios)}, median {statistics.median(ratios):.3f}; "
          f"CPU per request required/off {med(req, 2) / med(off, 2):.3f}")
PY
