#!/usr/bin/env bash
# One database, one or four server processes: GET product and POST reserve at 32 keep-alive
# connections (wrk; with four servers, 8 connections to each), and a flash sale (32 connections
# reserving one unit at a time of a product with FLASH_UNITS units: exactly that many must be
# sold). The same rows for a SQLite file and for a PostgreSQL database, run one after the other
# in one go so that they share the machine's state.
# Usage: bench/pg/run.sh [DURATION_SECONDS] [extra server flags...]
# PostgreSQL: $INVENTORY_TEST_PG (a server URL), else a private server from scripts/with-postgres.sh
# with its default durability (fsync on, synchronous_commit=on).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
if [ -z "${INVENTORY_TEST_PG:-}" ]; then
    exec scripts/with-postgres.sh "$0" "$@"
fi
DURATION="${1:-10}"
shift || true
FLASH_UNITS="${FLASH_UNITS:-2000}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release -p inventory-server
BIN="$ROOT/target/release/inventory-server"
WORK="$(mktemp -d)"
PIDS=()
stop_servers() {
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}
cleanup() {
    stop_servers
    rm -rf "$WORK"
}
trap cleanup EXIT

ADDRS=()
start_servers() { # count db
    ADDRS=()
    for i in $(seq 1 "$1"); do
        "$BIN" --addr 127.0.0.1:0 --db "$2" "${@:3}" >"$WORK/server$i.log" 2>&1 &
        PIDS+=($!)
    done
    for i in $(seq 1 "$1"); do
        local addr=""
        for _ in $(seq 1 200); do
            addr="$(sed -n 's/.*"message":"listening","addr":"\([^"]*\)".*/\1/p' "$WORK/server$i.log" | head -n1)"
            [ -n "$addr" ] && break
            sleep 0.05
        done
        [ -n "$addr" ] || { cat "$WORK/server$i.log"; exit 1; }
        ADDRS+=("$addr")
    done
}

create() { # sku quantity -> product id
    curl -fsS -d "{\"name\":\"Bench\",\"sku\":\"$1\",\"price\":\"9.99\",\"initial_quantity\":$2}" \
        "http://${ADDRS[0]}/api/products" | sed -n 's/.*"product":{"id":"\([^"]*\)".*/\1/p'
}

# wrk on every server at once, 32 connections in all; prints "req/s p99 requests non2xx".
load() { # path-or-script-args...
    local per=$((32 / ${#ADDRS[@]})) i=0 wrks=()
    rm -f "$WORK"/wrk*.out
    for addr in "${ADDRS[@]}"; do
        wrk -t1 -c"$per" -d"${DURATION}s" --latency "$@" "http://$addr${URL_PATH:-}" >"$WORK/wrk$i.out" 2>&1 &
        wrks+=($!)
        i=$((i + 1))
    done
    wait "${wrks[@]}"
    awk '
        /Requests\/sec/ { rps += $2 }
        $1 == "99%" { v = $2; ms = v + 0; if (v ~ /us$/) ms /= 1000; else if (v ~ /[0-9]s$/ && v !~ /ms$/) ms *= 1000; if (ms > p99) p99 = ms }
        / requests in / { n += $1 }
        /^non-2xx: / { bad += $2 }
        END { printf "%.0f %.2fms %d %d\n", rps, p99, n, bad }' "$WORK"/wrk*.out
}

row() { # store processes db
    local store=$1 procs=$2 db=$3
    start_servers "$procs" "$db" "${EXTRA[@]}"
    local id
    id="$(create "BENCH-$procs" 1000000000000)"
    read -r rps p99 _ _ < <(URL_PATH="/api/products/$id" load)
    printf '%-9s procs=%s GET     conns=32 req/s=%-7s p99=%s\n' "$store" "$procs" "$rps" "$p99"
    read -r rps p99 _ bad < <(PRODUCT_ID="$id" load -s "$ROOT/bench/http/reserve.lua")
    printf '%-9s procs=%s RESERVE conns=32 req/s=%-7s p99=%s non-2xx=%s\n' "$store" "$procs" "$rps" "$p99" "$bad"
    local flash sold reserved
    flash="$(create "FLASH-$procs" "$FLASH_UNITS")"
    read -r _ _ n bad < <(PRODUCT_ID="$flash" load -s "$ROOT/bench/http/reserve.lua")
    sold=$((n - bad))
    reserved="$(curl -fsS "http://${ADDRS[${#ADDRS[@]}-1]}/api/products/$flash/inventory" |
        sed -n 's/.*"reserved":\([0-9]*\).*/\1/p' | head -n1)"
    printf '%-9s procs=%s FLASH   units=%s sold=%s reserved=%s refused=%s %s\n' "$store" "$procs" \
        "$FLASH_UNITS" "$sold" "$reserved" "$bad" \
        "$([ "$sold" = "$FLASH_UNITS" ] && [ "$reserved" = "$FLASH_UNITS" ] && echo exact || echo WRONG)"
    stop_servers
}

EXTRA=("$@")
SERVER="${INVENTORY_TEST_PG%/*}"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); PostgreSQL $(psql "$INVENTORY_TEST_PG" -tAc 'show server_version'), synchronous_commit=$(psql "$INVENTORY_TEST_PG" -tAc 'show synchronous_commit')"
for procs in 1 4; do
    row sqlite "$procs" "$WORK/bench-$procs.db"
    name="bench_${procs}_$$"
    psql "$INVENTORY_TEST_PG" -qc "CREATE DATABASE $name"
    row postgres "$procs" "$SERVER/$name"
done
