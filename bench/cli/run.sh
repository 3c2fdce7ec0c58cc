#!/usr/bin/env bash
# Benchmark of the operator commands (a benchmark, not a timed test; figures in
# docs/PERFORMANCE.md): `import products` of 100,000 products from CSV into an empty file, the
# same import again (every row unchanged), and `export movements` of 1,000,000 movements as CSV
# and as JSON Lines (the movements are made first by `import levels`, five files of 200,000
# counts). Each timed step runs ROUNDS times; for each run it prints wall and CPU seconds, rows
# per second (by wall time) and the peak RSS of the command (GNU time), then the medians.
# Usage: bench/cli/run.sh [ROUNDS]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
ROUNDS="${1:-5}"
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
cargo build --release -p inventory-server
BIN="$ROOT/target/release/inventory-server"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

python3 - "$WORK" <<'PY'
import sys
work = sys.argv[1]
with open(f"{work}/products.csv", "w") as f:
    f.write("sku,name,description,price,location,initial_quantity,reorder_point\n")
    for i in range(100_000):
        reorder = i % 7 if i % 3 else ""
        f.write(f'SKU-{i:06d},Product {i},"Product {i}, described",{i % 99_999 + 1}.{i % 100:02d},'
                f"Warehouse {i % 10},{i % 50},{reorder}\n")
with open(f"{work}/counts.csv", "w") as f:
    f.write("sku,location,counted\n")
    f.writelines(f"SKU-000001,Warehouse 1,{1 + i % 2}\n" for i in range(200_000))
PY

# run NAME ROWS COMMAND...: one timed run; appends "wall cpu rss_kib" to $WORK/NAME.
run() {
    local name="$1" rows="$2"
    shift 2
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" >/dev/null
    python3 - "$WORK/time" "$name" "$rows" "$WORK/$name" <<'PY'
import sys
wall, user, sys_, rss = map(float, open(sys.argv[1]).read().split())
name, rows = sys.argv[2], int(sys.argv[3])
print(f"{name:<22} rows={rows:<8} wall={wall:6.2f}s cpu={user + sys_:6.2f}s "
      f"rows/s={rows / wall:<10,.0f} peak_rss={rss / 1024:6.1f} MiB")
with open(sys.argv[4], "a") as f:
    f.write(f"{wall} {user + sys_} {rss}\n")
PY
}

# median NAME ROWS: the median wall, CPU and RSS of NAME's runs.
median() {
    local name="$1" rows="$2"
    python3 - "$WORK/$name" "$name" "$rows" <<'PY'
import statistics, sys
runs = [list(map(float, l.split())) for l in open(sys.argv[1])]
wall, cpu, rss = (statistics.median(c) for c in zip(*runs))
rows = int(sys.argv[3])
print(f"median {sys.argv[2]:<15} rows={rows:<8} wall={wall:6.2f}s cpu={cpu:6.2f}s "
      f"rows/s={rows / wall:,.0f} (by CPU time {rows / cpu:,.0f}) peak_rss={rss / 1024:.1f} MiB")
PY
}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"
for _ in $(seq "$ROUNDS"); do
    rm -f "$WORK"/import.db*
    run import-products 100000 "$BIN" import products "$WORK/products.csv" --db "$WORK/import.db"
    run reimport-products 100000 "$BIN" import products "$WORK/products.csv" --db "$WORK/import.db"
done

printf 'sku,name,price,location\nSKU-000001,Counted often,1.00,Warehouse 1\n' >"$WORK/one.csv"
"$BIN" import products "$WORK/one.csv" --db "$WORK/ledger.db" >/dev/null
for _ in 1 2 3 4 5; do
    "$BIN" import levels "$WORK/counts.csv" --db "$WORK/ledger.db" >/dev/null
done
MOVEMENTS="$("$BIN" export movements --db "$WORK/ledger.db" --after 0 | tail -n1 | cut -d, -f1)"
echo "ledger: $MOVEMENTS movements, $(du -m "$WORK/ledger.db" | cut -f1) MiB"
for _ in $(seq "$ROUNDS"); do
    run export-movements-csv "$MOVEMENTS" "$BIN" export movements --db "$WORK/ledger.db" --out "$WORK/m.csv"
    run export-movements-jsonl "$MOVEMENTS" "$BIN" export movements --db "$WORK/ledger.db" --out "$WORK/m.jsonl"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
median import-products 100000
median reimport-products 100000
median export-movements-csv "$MOVEMENTS"
median export-movements-jsonl "$MOVEMENTS"
