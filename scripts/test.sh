#!/usr/bin/env bash
# Runs every test suite of the project, installing on a fresh Debian machine whatever they need
# (each suite's own script installs its tools: valgrind, a Python virtualenv, PyPI test tools...).
# Every suite runs even when an earlier one fails; the exit status is non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

passed=0
failed=0
failures=()

suite() {
    local name=$1
    shift
    echo
    echo "==> ${name}: $*"
    local start=$SECONDS
    if "$@"; then
        passed=$((passed + 1))
        echo "<== ${name}: ok ($((SECONDS - start))s)"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "<== ${name}: FAILED ($((SECONDS - start))s)"
    fi
}

if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    rustup component add rustfmt clippy
fi

suite "format" cargo fmt --all -- --check
suite "clippy" cargo clippy --workspace --all-targets -- -D warnings
suite "docs" env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p inventory -p inventory-till \
    -p inventory-c -p inventory-py -p inventory-version
suite "cargo test" cargo test --workspace
# Every Rust test has run: the suites below skip the ones they would run on their own
# (`cargo test -p` of their crate, which would also build it again with other features).
export INVENTORY_RUST_TESTS_RAN=1
suite "release binaries" scripts/build-binaries.sh
suite "HTTP server" tests/http/run.sh
suite "Operator commands" tests/cli/run.sh
suite "Dashboard in a browser" tests/browser/run.sh
suite "Python package" inventory-py/run-tests.sh
suite "C library" tests/c/run.sh
suite "PostgreSQL" tests/pg/run.sh
suite "Fuzzing (bounded)" tests/fuzz/run.sh

echo
if ((failed > 0)); then
    echo "failed suites: ${failures[*]}"
fi
echo "suites: ${passed} passed, ${failed} failed"
((failed == 0))
