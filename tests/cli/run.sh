#!/usr/bin/env bash
# Black-box tests of inventory-server's operator commands (backup, restore, verify, import,
# export, --help): builds the release binary and runs the pytest suite against it, each test on
# its own temporary files, starting the real server where a test needs one writing to the same
# file. Installs what it needs on a fresh Debian machine (run as root).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv-cli"

if ! command -v cargo >/dev/null; then
    echo "cargo is required (rustup or Debian's cargo)" >&2
    exit 1
fi
# GNU time measures the peak RSS of an export.
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || [ ! -x /usr/bin/time ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq python3 python3-venv python3-pip time >/dev/null
fi
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check "pytest>=8,<10" "requests>=2,<3"

scripts/build-binaries.sh
export INVENTORY_SERVER_BIN="$ROOT/target/release/inventory-server"

"$VENV/bin/pytest" -q tests/cli "$@"
