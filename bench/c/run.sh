#!/usr/bin/env bash
# Stock operations per second from C beside the same from Rust, in one run: alternating
# add 1 / remove 1 on one product, single-threaded, fresh database per sample. Rounds interleave
# the two sides so that machine noise hits both alike; medians and the C/Rust ratio are printed.
# Usage: bench/c/run.sh [ROUNDS] [OPS_NORMAL] [OPS_FULL]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
ROUNDS="${1:-7}"
OPS_NORMAL="${2:-20000}"
OPS_FULL="${3:-2000}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

cargo build -q --release -p inventory-c --example c_bench_rust
WORK="$(mktemp -d "${BENCH_DIR:-$ROOT/target}/c-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cc -O2 -std=c99 -Wall -Wextra -Werror -I"$ROOT/inventory-c/include" bench/c/stock_ops.c \
    -L"$TARGET_DIR/release" -linventory_c -Wl,-rpath,"$TARGET_DIR/release" -o "$WORK/stock_ops"

for round in $(seq "$ROUNDS"); do
    for durability in normal full; do
        ops=$([ "$durability" = normal ] && echo "$OPS_NORMAL" || echo "$OPS_FULL")
        "$TARGET_DIR/release/examples/c_bench_rust" "$WORK/rs-$round-$durability.db" "$durability" "$ops"
        "$WORK/stock_ops" "$WORK/c-$round-$durability.db" "$durability" "$ops"
    done
done | tee "$WORK/samples"

python3 - "$WORK/samples" <<'PY'
import statistics, sys
samples = {}
for line in open(sys.argv[1]):
    side, durability, rate = line.split()
    samples.setdefault((side, durability), []).append(float(rate))
print(f"{'durability':<10} {'rust ops/s':>12} {'c ops/s':>12} {'c/rust':>8} {'paired':>8}")
for d in ("normal", "full"):
    rs, cs = samples[("rust", d)], samples[("c", d)]
    r, c = statistics.median(rs), statistics.median(cs)
    # Each round ran Rust then C back to back: the median of per-round ratios cancels slow drift.
    paired = statistics.median(c_ / r_ for r_, c_ in zip(rs, cs))
    print(f"{d:<10} {r:>12.0f} {c:>12.0f} {c / r:>8.3f} {paired:>8.3f}")
PY
