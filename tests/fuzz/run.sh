#!/usr/bin/env bash
# Bounded fuzzing: every cargo-fuzz target of fuzz/ runs for FUZZ_SECONDS (default 30) from its
# corpus in the repository. New inputs the run finds go to a temporary copy, so the committed
# corpus stays small; a failing input is kept under fuzz/artifacts/TARGET/ (replay it from
# fuzz/ with `cargo +nightly fuzz run -s none -a TARGET artifacts/TARGET/FILE`) and becomes a
# regression test, its input a corpus entry. Installs what it needs: a nightly toolchain (rustup) and cargo-fuzz, pinned.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT/fuzz"
FUZZ_SECONDS="${FUZZ_SECONDS:-30}"
CARGO_FUZZ_VERSION=0.13.2

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if [ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

# No sanitizer: the code under test is safe Rust (AddressSanitizer would instrument only it,
# not the bundled SQLite, which cargo-fuzz's flags do not reach), and without it each target
# runs several times faster in its bounded time. Debug assertions on, so that an arithmetic
# overflow is a finding. 16 codegen units rather than cargo-fuzz's 1: the build, not the run,
# is most of this suite's time. The build directory is kept outside the clone (FUZZ_TARGET_DIR
# to choose another), so that a fresh clone on the same machine, as CI's is, rebuilds only the
# project's own crates.
TARGET_DIR="${FUZZ_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/inventory/fuzz-target}"
FLAGS=(--sanitizer none --debug-assertions --codegen-units 16 --target-dir "$TARGET_DIR")
# Outside the workspace, so scripts/test.sh's format check does not see it.
cargo fmt --check
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

start=$SECONDS
cargo +nightly fuzz build "${FLAGS[@]}"
echo "fuzz targets built in $((SECONDS - start))s"
failed=()
for target in $(cargo +nightly fuzz list); do
    mkdir -p "$WORK/$target/new" "$WORK/$target/artifacts"
    echo "--> $target (${FUZZ_SECONDS}s)"
    if cargo +nightly fuzz run "${FLAGS[@]}" "$target" "$WORK/$target/new" "corpus/$target" -- \
        -max_total_time="$FUZZ_SECONDS" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$WORK/$target/artifacts/" >"$WORK/$target/log" 2>&1; then
        grep -E '^stat::number_of_executed_units|^Done ' "$WORK/$target/log" || true
    else
        tail -n 40 "$WORK/$target/log"
        mkdir -p "artifacts/$target"
        cp "$WORK/$target/artifacts/"* "artifacts/$target/" 2>/dev/null || true
        echo "$target FAILED; inputs kept in fuzz/artifacts/$target/"
        failed+=("$target")
    fi
done
echo "fuzzing took $((SECONDS - start))s"
if ((${#failed[@]} > 0)); then
    echo "failed targets: ${failed[*]}"
    exit 1
fi
