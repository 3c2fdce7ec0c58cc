"""The build's version is the same wherever the server states it: `--version`, /health and the
OpenAPI document, and it is Cargo's version with the commit built."""

import pathlib
import re
import subprocess

from conftest import BIN

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_version_everywhere_is_cargos_with_the_commit(server):
    cargo = re.search(r'^version = "([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M).group(1)
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    full = f"{cargo}+{head}"

    lines = subprocess.run([BIN, "--version"], capture_output=True, text=True, check=True).stdout.splitlines()
    assert lines[0] == f"inventory-server {full}"
    assert f"commit: {head}" in lines
    assert "features: postgres" in lines
    assert any(line.startswith("target: ") for line in lines)
    short = subprocess.run([BIN, "-V"], capture_output=True, text=True, check=True).stdout
    assert short == f"inventory-server {full}\n"

    health = server.get("/health").json()["data"]
    assert (health["version"], health["commit"]) == (full, head)
    assert server.get("/openapi.json").json()["info"]["version"] == full
