#!/usr/bin/env bash
# Runs some of the workspace's Rust test executables exactly as `cargo test --workspace` builds
# them, each from its package's directory as cargo runs it.
#
# Why not `cargo test -p PACKAGE` (or `--test NAME`): cargo resolves dependency features for the
# packages and targets it is asked to build, so a narrower selection builds much of the
# dependency graph again with other features (measured on 2 cores: `cargo test --workspace
# --test sync` after `cargo test --workspace` recompiled tokio, serde, chrono, postgres and the
# engine, minutes of work). Here the build is the workspace's own, a no-op once it is done.
#
# Usage: scripts/workspace-tests.sh PACKAGE [TARGET...] [-- TEST-ARGS...]
#   TARGET: a test target's name (tests/NAME.rs), or `unit` for the package's unit tests (lib
#   and bin); none: every test executable of the package. `-TARGET` leaves one out.
set -euo pipefail
cd "$(dirname "$0")/.."

package=$1
shift
targets=()
while (($#)) && [ "$1" != "--" ]; do
    targets+=("$1")
    shift
done
[ "${1:-}" = "--" ] && shift

plan="$(cargo test --workspace --no-run --message-format=json-render-diagnostics |
    python3 -c '
import json, os, subprocess, sys
package, wanted = sys.argv[1], sys.argv[2:]
keep = [w for w in wanted if not w.startswith("-")]
drop = {w[1:] for w in wanted if w.startswith("-")}
members = json.loads(subprocess.run(["cargo", "metadata", "--no-deps", "--format-version", "1"],
                                    check=True, capture_output=True, text=True).stdout)["packages"]
manifest = {p["manifest_path"] for p in members if p["name"] == package}
if not manifest:
    sys.exit(f"{package} is not a package of this workspace")
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") != "compiler-artifact" or not m.get("executable") or not m["profile"]["test"]:
        continue
    meta = m["manifest_path"]
    if meta not in manifest:
        continue
    kinds = m["target"]["kind"]
    label = "unit" if ("lib" in kinds or "bin" in kinds) else m["target"]["name"]
    if (keep and label not in keep) or label in drop:
        continue
    print(os.path.dirname(meta) + "\t" + m["executable"])
' "$package" ${targets[@]+"${targets[@]}"})"
[ -n "$plan" ] || { echo "no test executable of $package matches: ${targets[*]:-all}" >&2; exit 1; }

status=0
while IFS=$'\t' read -r dir exe; do
    echo "     Running $(basename "$exe") (from $dir)"
    (cd "$dir" && CARGO_MANIFEST_DIR="$dir" "$exe" "$@") || status=1
done <<<"$plan"
exit "$status"
