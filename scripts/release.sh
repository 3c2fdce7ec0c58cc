#!/usr/bin/env bash
# Builds the release artifacts into dist/, for users without a Rust toolchain:
#   inventory_py-<version>-cp39-abi3-manylinux_2_17_x86_64...whl  the Python package (glibc >= 2.17)
#   inventory_py-<version>.tar.gz                                 its sdist (builds with cargo)
#   inventory-c-<version>-x86_64-linux.tar.gz                     header, .so (with soname), .a,
#                                                                 relocatable .pc, valgrind.supp
#   inventory-server-<version>-x86_64-linux[.tar.gz]              the server (glibc >= 2.17)
#   SHA256SUMS
# Old glibc without a container: Zig (the `ziglang` PyPI package) links against glibc 2.17,
# through maturin's --zig for the wheel and cargo-zigbuild for the rest.
#
#   scripts/release.sh [--smoke] [--allow-dirty]
#
# --smoke then runs the smoke suite on dist/ (tests/release/run.sh). The artifacts carry the
# commit they were built from, so a tree with uncommitted changes is refused unless
# --allow-dirty. Installs what it needs: a virtualenv (.venv-release) with ziglang, maturin and
# auditwheel, and cargo-zigbuild into ~/.cargo/bin when absent.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

smoke=0
allow_dirty=0
for arg in "$@"; do
    case "$arg" in
        --smoke) smoke=1 ;;
        --allow-dirty) allow_dirty=1 ;;
        *) echo "usage: scripts/release.sh [--smoke] [--allow-dirty]" >&2; exit 2 ;;
    esac
done

if ((!allow_dirty)) && [ -n "$(git status --porcelain --untracked-files=no)" ]; then
    echo "the work tree has uncommitted changes: commit them, or pass --allow-dirty" >&2
    exit 1
fi

VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
MAJOR="${VERSION%%.*}"
MINOR="$(echo "$VERSION" | cut -d. -f2)"
# The C ABI may change with any 0.x minor release, so a 0.x soname names the minor too.
if [ "$MAJOR" = 0 ]; then SOVERSION="0.$MINOR"; else SOVERSION="$MAJOR"; fi
TARGET=x86_64-unknown-linux-gnu
GLIBC=2.17
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BUILT="$TARGET_DIR/$TARGET/release"
DIST="$ROOT/dist"
# Other builds share the machine.
NICE=(nice -n 10)

echo "== tools"
VENV="$ROOT/.venv-release"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check "ziglang>=0.13,<0.18" "maturin>=1.16,<2" \
    "auditwheel>=6,<7"
# cargo-zigbuild and maturin find Zig as `python3 -m ziglang`.
export PATH="$VENV/bin:$HOME/.cargo/bin:$PATH"
if ! command -v cargo-zigbuild >/dev/null; then
    "${NICE[@]}" cargo install cargo-zigbuild --locked --version "^0.24"
fi

rm -rf "$DIST"
mkdir -p "$DIST"

echo "== server ($TARGET, glibc $GLIBC)"
"${NICE[@]}" cargo zigbuild --release --locked --target "$TARGET.$GLIBC" -p inventory-server
SERVER="inventory-server-$VERSION-x86_64-linux"
install -m 755 "$BUILT/inventory-server" "$DIST/$SERVER"
mkdir "$DIST/$SERVER.d"
install -m 755 "$BUILT/inventory-server" "$DIST/$SERVER.d/inventory-server"
install -m 644 inventory-server/README.md LICENSE "$DIST/$SERVER.d/"
tar -C "$DIST" --transform "s|^$SERVER.d|$SERVER|" --owner=0 --group=0 -czf "$DIST/$SERVER.tar.gz" \
    "$SERVER.d"
rm -r "$DIST/$SERVER.d"

echo "== C library ($TARGET, glibc $GLIBC, soname libinventory.so.$SOVERSION)"
# `cargo rustc` passes the soname to this crate's link only; cargo names the files
# libinventory_c.* (see inventory-c/Makefile), shipped as libinventory.*. The symbol table
# stays (strip=none: through Zig's linker the release profile's strip=debuginfo drops it),
# because the shipped valgrind suppressions match function names.
"${NICE[@]}" cargo-zigbuild rustc --release --locked --target "$TARGET.$GLIBC" -p inventory-c \
    --lib --crate-type cdylib,staticlib -- \
    -C "link-arg=-Wl,-soname,libinventory.so.$SOVERSION" -C strip=none
C="inventory-c-$VERSION-x86_64-linux"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
P="$STAGE/$C"
install -d "$P/include" "$P/lib/pkgconfig" "$P/share/inventory" "$P/examples"
install -m 644 inventory-c/include/inventory.h "$P/include/"
install -m 755 "$BUILT/libinventory_c.so" "$P/lib/libinventory.so.$SOVERSION"
ln -s "libinventory.so.$SOVERSION" "$P/lib/libinventory.so"
install -m 644 "$BUILT/libinventory_c.a" "$P/lib/libinventory.a"
install -m 644 inventory-c/valgrind.supp "$P/share/inventory/"
install -m 644 examples/pos.c "$P/examples/"
install -m 644 inventory-c/README.md LICENSE "$P/"
# Relocatable: every path is relative to where the .pc file is found.
sed -e 's|@PREFIX@|${pcfiledir}/../..|' -e 's|@LIBDIR@|${prefix}/lib|' \
    -e 's|@INCLUDEDIR@|${prefix}/include|' -e 's|@PKGDATADIR@|${prefix}/share/inventory|' \
    -e "s|@VERSION@|$VERSION|" inventory-c/inventory.pc.in >"$P/lib/pkgconfig/inventory.pc"
tar -C "$STAGE" --owner=0 --group=0 -czf "$DIST/$C.tar.gz" "$C"

echo "== Python wheel (abi3, manylinux2014) and sdist"
# Its own target directory: maturin builds with other flags (strip), which would otherwise
# rebuild the dependencies that the server and the C library share with it, every time.
CARGO_TARGET_DIR="$TARGET_DIR/release-wheel" "${NICE[@]}" maturin build --release --locked --zig \
    --compatibility manylinux2014 -m inventory-py/Cargo.toml --out "$DIST"
maturin sdist -m inventory-py/Cargo.toml --out "$DIST"

(cd "$DIST" && sha256sum -- * >SHA256SUMS)
echo "== dist/"
ls -l "$DIST"

if ((smoke)); then
    if ((allow_dirty)); then
        tests/release/run.sh --allow-dirty "$DIST"
    else
        tests/release/run.sh "$DIST"
    fi
fi
