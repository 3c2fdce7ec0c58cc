"""One command line: `--help` lists every command, each has its own `--help`, and the server
runs both with no command (as the README's first command does) and as `serve`."""

import json
import subprocess

import pytest
import requests

from conftest import BIN, cli, clean_env

COMMANDS = ["serve", "backup", "restore", "verify", "import", "export", "keys"]


def test_help_lists_every_command():
    out = cli("--help", check=0).stdout
    for command in COMMANDS:
        assert f"\n  {command} " in out, out
    # The server's own flags are there too: they work without a command.
    assert "--addr <ADDR>" in out and "--durability <DURABILITY>" in out


@pytest.mark.parametrize(
    "command, flags",
    [
        (["serve"], ["--addr", "--db", "--durability", "--workers", "--auth", "--rate-limit"]),
        (["backup"], ["--db", "--to", "Exit status"]),
        (["restore"], ["--from", "--db", "--force", "Exit status"]),
        (["verify"], ["--db", "Exit status: 0 when clean, 1 when problems are found, 2 when"]),
        (["import"], ["products", "levels"]),
        (["import", "products"], ["<FILE>", "--format", "--dry-run", "--db", "reorder_point"]),
        (["import", "levels"], ["<FILE>", "--format", "--dry-run", "--db", "counted"]),
        (["export"], ["products", "levels", "movements"]),
        (["export", "products"], ["--format", "--out", "--db"]),
        (["export", "levels"], ["--format", "--out", "--db"]),
        (["export", "movements"], ["--format", "--out", "--after", "--db", "actor"]),
        (["keys"], ["create", "list", "revoke", "Exit status"]),
        (["keys", "create"], ["--name", "--scope", "--location", "--db", "read, write, admin", "print its secret, and nothing else"]),
        (["keys", "list"], ["--format", "--db"]),
        (["keys", "revoke"], ["<NAME>", "--db"]),
    ],
)
def test_each_command_has_its_own_help(command, flags):
    out = cli(*command, "--help", check=0).stdout
    for flag in flags:
        assert flag in out, out


def test_usage_errors_exit_2():
    assert "--to" in cli("backup", check=2).stderr
    assert "cannot be used with" in cli("--addr", "127.0.0.1:0", "verify", check=2).stderr
    assert "unrecognized subcommand" in cli("vacuum", check=2).stderr


def wait_listening(proc):
    for line in proc.stdout:
        entry = json.loads(line)
        if entry.get("message") == "listening":
            return entry["addr"]
    raise AssertionError("the server ended before listening")


@pytest.mark.parametrize("prefix", [[], ["serve"]])
def test_the_server_runs_with_and_without_serve(tmp_path, prefix):
    proc = subprocess.Popen(
        [BIN, *prefix, "--addr", "127.0.0.1:0", "--db", str(tmp_path / "s.db")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=clean_env(),
    )
    try:
        addr = wait_listening(proc)
        assert requests.get(f"http://{addr}/health", timeout=10).status_code == 200
    finally:
        proc.terminate()
        assert proc.wait(30) == 0


def test_db_comes_from_the_environment_for_every_command(tmp_path):
    db = tmp_path / "env.db"
    products = tmp_path / "p.csv"
    products.write_text("sku,name,price\nENV-1,From the environment,1.00\n")
    cli("import", "products", products, env=clean_env(INVENTORY_DB=str(db)), check=0)
    assert cli("verify", env=clean_env(DATABASE_URL=f"sqlite:{db}"), check=0).stdout.strip() == f"{db}: ok"
    out = cli("export", "products", env=clean_env(DATABASE_URL=f"sqlite://{db}"), check=0).stdout
    assert "ENV-1,From the environment" in out
    # --db wins over both.
    other = tmp_path / "other.db"
    cli("import", "products", products, "--db", other, env=clean_env(INVENTORY_DB=str(db)), check=0)
    assert other.exists()


@pytest.mark.parametrize("command", [["backup", "--to", "x.db"], ["restore", "--from", "x.db"], ["verify"]])
def test_file_commands_refuse_a_postgres_url_and_say_why(tmp_path, command):
    url = "postgres://clerk:s3cret@db.invalid/shop"
    for env, args in [(clean_env(DATABASE_URL=url), []), (clean_env(), ["--db", url])]:
        proc = cli(*command, *args, env=env, cwd=tmp_path, check=2)
        assert f"{command[0]} works on a SQLite file" in proc.stderr, proc.stderr
        assert "PostgreSQL" in proc.stderr
        assert "s3cret" not in proc.stderr, "the URL's password is never printed"
    assert list(tmp_path.iterdir()) == []
