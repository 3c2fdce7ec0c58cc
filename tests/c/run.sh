#!/usr/bin/env bash
# The C library's test suite. Runnable as root on a fresh Debian machine with a Rust toolchain:
# installs the C toolchain, valgrind and pkg-config if missing, builds libinventory, and checks
#   1. the Rust side: the landing pad, and that include/inventory.h is what cbindgen generates
#      from the source (a stale header fails here);
#   2. tests/c/test_inventory.c (every function and error path) built with
#      -std=c99 -Wall -Wextra -Werror -pedantic, run under valgrind: zero errors, zero leaks;
#   3. tests/c/test_threads.c: one handle shared by 8 pthreads, natively and under valgrind;
#   4. tests/c/header_check.cpp: the header compiles and runs as C++17;
#   5. `make install` into a temporary PREFIX, then examples/pos.c built with pkg-config
#      against the installed shared library and against the static one, and run under
#      valgrind with the installed suppression file, the way inventory-c/README.md says;
#   6. tests/c/test_till.c (every till function) under valgrind against the real
#      inventory-server binary with keys required, then pos.c's offline mode: a sale made with
#      central stopped, pushed once when central is back.
# Exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
LIB_DIR="$TARGET_DIR/release"

need=()
command -v cc >/dev/null || need+=(gcc)
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v valgrind >/dev/null || need+=(valgrind)
command -v curl >/dev/null || need+=(curl)
if ((${#need[@]})); then
    echo "== installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi

WORK="$(mktemp -d)"
CENTRAL_PID=""
stop_central() {
    if [ -n "$CENTRAL_PID" ]; then
        kill -TERM "$CENTRAL_PID" 2>/dev/null || true
        wait "$CENTRAL_PID" 2>/dev/null || true
        CENTRAL_PID=""
    fi
}
trap 'stop_central; rm -rf "$WORK"' EXIT
# Definite, indirect and possible leaks are errors; inventory-c/valgrind.supp (installed with the
# library) names the only reports that are not the library's doing.
VALGRIND=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect,possible
          --error-exitcode=1 --suppressions="$ROOT/inventory-c/valgrind.supp")
CFLAGS=(-std=c99 -Wall -Wextra -Werror -pedantic -I"$ROOT/inventory-c/include")
LINK=(-L"$LIB_DIR" -linventory_c -Wl,-rpath,"$LIB_DIR")

echo "== release binaries (scripts/build-binaries.sh)"
scripts/build-binaries.sh
# scripts/test.sh has run every Rust test already (cargo test --workspace).
if [ "${INVENTORY_RUST_TESTS_RAN:-}" != 1 ]; then
    echo "== cargo test -p inventory-c (landing pad, header up to date)"
    cargo test -q -p inventory-c
fi

echo "== C test program under valgrind"
cc "${CFLAGS[@]}" tests/c/test_inventory.c "${LINK[@]}" -o "$WORK/test_inventory"
mkdir "$WORK/scratch"
"${VALGRIND[@]}" "$WORK/test_inventory" "$WORK/scratch"

echo "== pthreads test (native, then under valgrind)"
cc "${CFLAGS[@]}" -pthread tests/c/test_threads.c "${LINK[@]}" -o "$WORK/test_threads"
"$WORK/test_threads" "$WORK/threads.db"
"${VALGRIND[@]}" "$WORK/test_threads" "$WORK/threads-vg.db"

echo "== C++17 header check"
g++ -std=c++17 -Wall -Wextra -Werror -pedantic -I"$ROOT/inventory-c/include" \
    tests/c/header_check.cpp "${LINK[@]}" -o "$WORK/header_check"
"${VALGRIND[@]}" "$WORK/header_check" "$WORK/cpp.db"

echo "== make install into a temporary PREFIX; examples/pos.c via pkg-config"
PREFIX="$WORK/prefix"
make -s -C inventory-c install PREFIX="$PREFIX" TARGET_DIR="$TARGET_DIR"
for f in include/inventory.h lib/libinventory.so lib/libinventory.a lib/pkgconfig/inventory.pc \
         share/inventory/valgrind.supp; do
    test -f "$PREFIX/$f" || { echo "missing after install: $f"; exit 1; }
done
cmp "$PREFIX/include/inventory.h" inventory-c/include/inventory.h
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
SUPP="$(pkg-config --variable=valgrind_suppressions inventory)"
test "$SUPP" = "$PREFIX/share/inventory/valgrind.supp"
# As inventory-c/README.md tells a user to run it: the installed library and suppressions only.
USER_VALGRIND=(valgrind -q --leak-check=full --error-exitcode=1 --suppressions="$SUPP")
# shellcheck disable=SC2046  # pkg-config output is meant to be word-split
cc -std=c99 -Wall -Wextra -Werror examples/pos.c $(pkg-config --cflags --libs inventory) -o "$WORK/pos"
mkdir "$WORK/shop"
(cd "$WORK/shop" && LD_LIBRARY_PATH="$PREFIX/lib" "${USER_VALGRIND[@]}" "$WORK/pos") | tee "$WORK/pos.out"
test -f "$WORK/shop/pos.db" || { echo "pos did not create pos.db in the working directory"; exit 1; }
grep -q "^COF-250 .* on hand  18  reserved   0  available  18" "$WORK/pos.out"
grep -qx "last movement: COMMIT 2 by till-1" "$WORK/pos.out"
(cd "$WORK/shop" && LD_LIBRARY_PATH="$PREFIX/lib" "$WORK/pos" other.db) >/dev/null
test -f "$WORK/shop/other.db"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror examples/pos.c $(pkg-config --cflags inventory) \
    "$PREFIX/lib/libinventory.a" $(pkg-config --static --libs-only-l inventory | sed 's/-linventory//') \
    -o "$WORK/pos_static"
if ldd "$WORK/pos_static" | grep -q libinventory; then echo "pos_static links libinventory dynamically"; exit 1; fi
"${USER_VALGRIND[@]}" "$WORK/pos_static" "$WORK/static.db" | grep -q "sold 2 x Coffee beans"

echo "== the till's C API against a real central (keys required), under valgrind"
SERVER="$TARGET_DIR/release/inventory-server"
# start_central DB ADDR LOG: serves DB at ADDR; CENTRAL_ADDR is where it listens.
start_central() {
    : >"$3" # made before the server opens it, so the poll below never reads a missing file
    "$SERVER" --addr "$2" --db "$1" --auth required --sweep-interval-secs 1 >"$3" 2>&1 &
    CENTRAL_PID=$!
    CENTRAL_ADDR=""
    for _ in $(seq 1 100); do
        CENTRAL_ADDR="$(sed -n 's/.*"message":"listening","addr":"\([^"]*\)".*/\1/p' "$3" | head -n1)"
        [ -n "$CENTRAL_ADDR" ] && return 0
        kill -0 "$CENTRAL_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "central did not start" >&2
    cat "$3" >&2
    return 1
}
KEY="$("$SERVER" keys create --db "$WORK/central.db" --name till-c --scope write --location Shop)"
start_central "$WORK/central.db" 127.0.0.1:0 "$WORK/central.log"
cc "${CFLAGS[@]}" tests/c/test_till.c "${LINK[@]}" -o "$WORK/test_till"
mkdir "$WORK/tills"
"${VALGRIND[@]}" "$WORK/test_till" "$WORK/tills" "http://$CENTRAL_ADDR" "$KEY" "$WORK/central.db"
stop_central

echo "== examples/pos.c offline: a sale with central stopped, pushed once when it is back"
BACKOFFICE="$("$SERVER" keys create --db "$WORK/shop.db" --name backoffice --scope write)"
TILL_KEY="$("$SERVER" keys create --db "$WORK/shop.db" --name till-1 --scope write \
    --location "Front store")"
start_central "$WORK/shop.db" 127.0.0.1:0 "$WORK/shop.log"
URL="http://$CENTRAL_ADDR"
PORT="${CENTRAL_ADDR##*:}"
PRODUCT="$(curl -fsS -H "Authorization: Bearer $BACKOFFICE" \
    -d '{"name":"Coffee beans","sku":"COF-250","price":12.50,"location":"Front store","initial_quantity":20}' \
    "$URL/api/products" | grep -o '"id":"[^"]*"' | head -n1 | cut -d'"' -f4)"
mkdir "$WORK/offline"
pos_till() {
    (cd "$WORK/offline" && LD_LIBRARY_PATH="$PREFIX/lib" "${USER_VALGRIND[@]}" "$WORK/pos" till \
        "$URL" "$TILL_KEY" "$@") | tee "$WORK/pos-till.out"
}
pos_till sync
grep -q "^synced: 0 sale(s) pushed, 0 conflict(s), 1 product(s) mirrored" "$WORK/pos-till.out"
pos_till target COF-250 10
pos_till sync
grep -qx "allotment $PRODUCT: 10 to sell, target 10, central holds 10" "$WORK/pos-till.out"
stop_central
pos_till sell COF-250 2
grep -q "^sold 2 x COF-250 (sale:till-1:" "$WORK/pos-till.out"
grep -qx "outbox: 1 sale(s) waiting for central" "$WORK/pos-till.out"
pos_till sync
grep -q "^central not reached (UNREACHABLE)" "$WORK/pos-till.out"
start_central "$WORK/shop.db" "127.0.0.1:$PORT" "$WORK/shop-again.log"
pos_till sync
grep -q "^synced: 1 sale(s) pushed" "$WORK/pos-till.out"
grep -qx "outbox: 0 sale(s) waiting for central" "$WORK/pos-till.out"
pos_till sync
grep -q "^synced: 0 sale(s) pushed" "$WORK/pos-till.out"
# Central's ledger: the sale is one COMMIT of 2, made with the till's key.
curl -fsS -H "Authorization: Bearer $BACKOFFICE" "$URL/api/products/$PRODUCT/transactions" \
    >"$WORK/ledger.json"
test "$(grep -o '"type":"COMMIT"' "$WORK/ledger.json" | wc -l)" = 1
grep -q '"type":"COMMIT","quantity":2' "$WORK/ledger.json"
grep -q '"actor":"till-1"' "$WORK/ledger.json"
stop_central

echo "== C suite passed"
