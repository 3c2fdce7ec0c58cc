#!/usr/bin/env bash
# Builds the release binaries the black-box suites run, once: the server
# (target/release/inventory-server) and the C library (target/release/libinventory_c.{so,a}).
# Each suite calls this rather than its own `cargo build`, so scripts/test.sh builds them in one
# step it times (the first suite to need them used to pay for them unseen), and a suite run
# alone still finds them up to date. Each package is built on its own, as `cargo build -p` and
# `make -C inventory-c` build it, so that the binaries are the ones a user gets (built together,
# cargo would unify their features and link the server's schema code into the C library).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p inventory-server
cargo build --release -p inventory-c
