#!/usr/bin/env bash
# The Python package's test suite, run the way a user installs it: a fresh virtualenv,
# `pip install ./inventory-py` (an isolated PEP 517 build that fetches maturin itself), then
# mypy's stubtest against the compiled module and pytest (the till's tests against the release
# inventory-server binary, built here). Needs a Rust toolchain (cargo).
#
#   inventory-py/run-tests.sh [PYTEST ARGS...]
#
# INVENTORY_PY_VENV picks the virtualenv (default: .venv-py at the repository root).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
venv="${INVENTORY_PY_VENV:-$root/.venv-py}"

python="$(command -v python3 || true)"
if [ -z "$python" ] || ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
    echo "== installing python3 and venv support"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-dev >/dev/null
    python="$(command -v python3)"
fi
"$python" - <<'PY'
import sys
if sys.version_info < (3, 9):
    sys.exit(f"inventory needs Python >= 3.9, found {sys.version.split()[0]}")
PY
command -v cargo >/dev/null || { echo "cargo (a Rust toolchain) is required" >&2; exit 1; }

echo "== fresh virtualenv at $venv"
"$python" -m venv --clear "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip

echo "== pip install ./inventory-py (isolated build)"
(cd "$root" && "${pip[@]}" install ./inventory-py)
"${pip[@]}" install "pytest>=8,<10" "mypy>=1.10,<3"

# The till's tests (test_till.py) run against the real server binary.
echo "== release binaries (scripts/build-binaries.sh)"
"$root/scripts/build-binaries.sh"
export INVENTORY_SERVER_BIN="${CARGO_TARGET_DIR:-$root/target}/release/inventory-server"

# Run from the tests folder so `import inventory` finds the installed package, not the source.
cd "$here/tests"
echo "== stubtest"
"$venv/bin/python" -m mypy.stubtest inventory._inventory --allowlist stubtest-allowlist.txt
echo "== pytest"
INVENTORY_ROOT="$root" "$venv/bin/python" -m pytest -q "$@"
