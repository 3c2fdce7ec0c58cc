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
#      valgrind with the installed suppression file, the way inventory-c/README.md says.
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
if ((${#need[@]})); then
    echo "== installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# Definite, indirect and possible leaks are errors; inventory-c/valgrind.supp (installed with the
# library) names the only reports that are not the library's doing.
VALGRIND=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect,possible
          --error-exitcode=1 --suppressions="$ROOT/inventory-c/valgrind.supp")
CFLAGS=(-std=c99 -Wall -Wextra -Werror -pedantic -I"$ROOT/inventory-c/include")
LINK=(-L"$LIB_DIR" -linventory_c -Wl,-rpath,"$LIB_DIR")

echo "== cargo build --release -p inventory-c"
cargo build --release -p inventory-c
echo "== cargo test -p inventory-c (landing pad, header up to date)"
cargo test -q -p inventory-c

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

echo "== C suite passed"
