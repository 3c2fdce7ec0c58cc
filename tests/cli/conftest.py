"""Runs the real inventory-server binary's operator commands, and starts it as a server where a
test needs one writing to the same file (the server fixtures are tests/http's own, loaded from
its conftest so that both suites start the binary the same way).

The binary is $INVENTORY_SERVER_BIN (run.sh builds the release binary and sets it).
"""

import csv
import importlib.util
import io
import json
import os
import pathlib
import subprocess

import pytest

_spec = importlib.util.spec_from_file_location(
    "http_suite", pathlib.Path(__file__).resolve().parent.parent / "http" / "conftest.py"
)
http_suite = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(http_suite)

BIN = http_suite.BIN
Server = http_suite.Server
start = http_suite.start  # the fixture: starts servers, stops them at teardown
new_product = http_suite.new_product
wait_until = http_suite.wait_until


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "INVENTORY_DB")}
    env.update(extra)
    return env


def cli(*args, env=None, cwd=None, check=None, stdin=None, raw=False, timeout=600):
    """Runs `inventory-server ARGS...` (`raw`: ARGS is the whole command); returns the
    CompletedProcess (text, both streams captured). `check`: the exit status expected, asserted
    with the output shown. `timeout`: seconds before the command counts as hung (it fails)."""
    proc = subprocess.run(
        [*([] if raw else [BIN]), *map(str, args)],
        capture_output=True,
        text=True,
        env=env or clean_env(),
        cwd=cwd,
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        timeout=timeout,
    )
    if check is not None:
        assert proc.returncode == check, (proc.returncode, proc.stdout, proc.stderr)
    return proc


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def export(db, what, *extra):
    """The export's stdout (the command must succeed)."""
    return cli("export", what, "--db", db, *extra, check=0).stdout


def export_rows(db, what):
    return list(csv.DictReader(io.StringIO(export(db, what))))


def export_json(db, what):
    return [json.loads(line) for line in export(db, what, "--format", "jsonl").splitlines()]


@pytest.fixture
def db(tmp_path):
    return tmp_path / "shop.db"
