"""`keys create|list|revoke`: create prints the secret and nothing else, list never shows a
secret, revoke refuses the key from then on; usage errors and a missing database."""

import json
import re

from conftest import cli

SECRET = re.compile(r"^inv_[0-9a-f]{64}\n$")


def test_create_prints_the_secret_and_only_the_secret(db):
    made = cli("keys", "create", "--db", db, "--name", "till-3", "--scope", "write",
               "--location", "Shop", "--location", "Back room", check=0)
    assert SECRET.match(made.stdout), made.stdout
    assert made.stderr == ""
    other = cli("keys", "create", "--db", db, "--name", "ops", "--scope", "admin", check=0).stdout
    assert SECRET.match(other) and other != made.stdout

    listed = cli("keys", "list", "--db", db, check=0).stdout
    lines = listed.splitlines()
    assert lines[0].split() == ["NAME", "SCOPE", "LOCATIONS", "CREATED", "REVOKED"]
    assert lines[1].startswith("till-3  write  Shop, Back room  ") and lines[1].endswith("  -"), lines
    assert re.match(r"^ops     admin  \*\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  -$", lines[2]), lines
    as_json = [json.loads(l) for l in cli("keys", "list", "--db", db, "--format", "jsonl", check=0).stdout.splitlines()]
    assert [(k["name"], k["scope"], k["locations"], k["revoked_at"]) for k in as_json] == [
        ("till-3", "write", ["Shop", "Back room"], None), ("ops", "admin", None, None)]
    assert all(set(k) == {"name", "scope", "locations", "created_at", "revoked_at"} for k in as_json)
    for secret in (made.stdout.strip(), other.strip()):
        assert secret[4:] not in listed
        assert secret[4:] not in json.dumps(as_json)
    # The file keeps only digests.
    assert made.stdout.strip()[4:].encode() not in db.read_bytes()


def test_revoke(db):
    cli("keys", "create", "--db", db, "--name", "temp", "--scope", "read", check=0)
    done = cli("keys", "revoke", "--db", db, "temp", check=0)
    assert (done.stdout, done.stderr) == ("revoked temp\n", "")
    keys = [json.loads(l) for l in cli("keys", "list", "--db", db, "--format", "jsonl", check=0).stdout.splitlines()]
    assert keys[0]["name"] == "temp" and keys[0]["revoked_at"] is not None
    again = cli("keys", "revoke", "--db", db, "temp", check=1)
    assert again.stdout == "" and 'key "temp" not found' in again.stderr
    # The name may be used again once its key is revoked.
    cli("keys", "create", "--db", db, "--name", "temp", "--scope", "read", check=0)


def test_refusals_and_usage_errors(db, tmp_path):
    cli("keys", "create", "--db", db, "--name", "a", "--scope", "read", check=0)
    dup = cli("keys", "create", "--db", db, "--name", "a", "--scope", "read", check=1)
    assert dup.stdout == "" and "already exists" in dup.stderr
    blank = cli("keys", "create", "--db", db, "--name", " ", "--scope", "read", check=1)
    assert blank.stdout == "" and "name must not be empty" in blank.stderr
    bad = cli("keys", "create", "--db", db, "--name", "b", "--scope", "owner", check=2)
    assert "read, write, admin" in bad.stderr
    assert "--name" in cli("keys", "create", "--db", db, "--scope", "read", check=2).stderr
    missing = tmp_path / "nowhere.db"
    assert "no database at" in cli("keys", "list", "--db", missing, check=1).stderr
    assert "no database at" in cli("keys", "revoke", "--db", missing, "a", check=1).stderr
    assert not missing.exists()
