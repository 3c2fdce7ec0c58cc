#!/usr/bin/env bash
# Installs the package into a virtualenv (like inventory-py/run-tests.sh) and runs the Python
# benchmarks. Arguments go to bench.py (--rounds, --ops, --seconds, --dir).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${INVENTORY_PY_VENV:-$root/.venv-py}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip --disable-pip-version-check -q install "$root/inventory-py"
# The same loops in Rust: stock operations (bench/c/rust_ops.rs) to measure what the Python
# layer adds, and reads (bench/python/rust_reads.rs) for the 2-thread ceiling of the engine.
(cd "$root" && cargo build -q --release -p inventory-c --example c_bench_rust \
    && cargo build -q --release -p inventory-py --example py_bench_reads)
examples="${CARGO_TARGET_DIR:-$root/target}/release/examples"
mkdir -p "$root/target/bench-python"
exec "$venv/bin/python" "$root/bench/python/bench.py" --dir "$root/target/bench-python" \
    --rust-twin "$examples/c_bench_rust" --rust-reads "$examples/py_bench_reads" "$@"
