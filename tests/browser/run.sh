#!/usr/bin/env bash
# The dashboard in a real browser: builds the release server binary, then runs the pytest suite
# in tests/browser, which drives Debian's headless Chromium with Playwright (pointed at
# /usr/bin/chromium: Playwright's own browser download is never used) against that binary,
# each test on a free port with a temporary database. Screenshots (every test's, and each view
# at 390 and 1280 px) go to target/browser-screenshots/, the measured figures to
# target/browser-figures.json.
# Installs what it needs on a fresh Debian machine (run as root): chromium, a font, python3-venv,
# nodejs and npm; a virtualenv with pytest, requests and playwright from PyPI; and axe-core from
# npm into target/browser-tools/, which the accessibility tests inject into the page (the
# server never serves it).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv-browser"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if ! command -v cargo >/dev/null; then
    echo "cargo is required (rustup or Debian's cargo)" >&2
    exit 1
fi
if [ ! -x "$CHROMIUM" ] || ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1 ||
    ! fc-list 2>/dev/null | grep -q .; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium fonts-dejavu-core python3 python3-venv >/dev/null
fi
if ! command -v npm >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq nodejs npm >/dev/null
fi
TOOLS="$ROOT/target/browser-tools"
if [ ! -f "$TOOLS/node_modules/axe-core/axe.min.js" ]; then
    mkdir -p "$TOOLS"
    npm install --prefix "$TOOLS" --no-save --no-audit --no-fund --silent "axe-core@4"
fi
export AXE_JS="$TOOLS/node_modules/axe-core/axe.min.js"
export BROWSER_SCREENSHOTS="${BROWSER_SCREENSHOTS:-$ROOT/target/browser-screenshots}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check "pytest>=8,<10" "requests>=2,<3" "playwright>=1.50,<2"

scripts/build-binaries.sh
export INVENTORY_SERVER_BIN="$ROOT/target/release/inventory-server"

status=0
"$VENV/bin/pytest" -q tests/browser "$@" || status=$?
echo "screenshots (test artifacts, git-ignored): $BROWSER_SCREENSHOTS"
if [ -f target/browser-figures.json ]; then
    echo "dashboard figures (target/browser-figures.json):"
    cat target/browser-figures.json
fi
exit "$status"
