"""`backup`: a consistent, verified copy of a file that a running server is writing to."""

import os
import socket
import stat
import threading

import requests

from conftest import cli, export_rows, new_product, wait_until, write


def test_a_backup_during_16_writers_holds_every_write_acknowledged_before_it(tmp_path, start):
    server = start("--durability", "full")
    product = new_product(server, initial_quantity=0)["product"]
    url = f"{server.url}/api/products/{product['id']}/stock/add"
    acknowledged = [0] * 16
    failures = []
    stop = threading.Event()

    def writer(n):
        s = requests.Session()
        while not stop.is_set():
            r = s.post(url, json={"quantity": 1, "reference": f"W{n}"}, timeout=30)
            if r.status_code != 200:
                failures.append((r.status_code, r.text))
                return
            acknowledged[n] += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: sum(acknowledged) >= 300 or failures, "the writers get going", timeout=30)
        before = sum(acknowledged)
        copy = tmp_path / "copy.db"
        backup = cli("backup", "--db", server.db, "--to", copy)
        # Writes keep landing after the copy's snapshot.
        landed = sum(acknowledged)
        wait_until(lambda: sum(acknowledged) >= landed + 50 or failures, "writes after the backup")
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert failures == []
    assert backup.returncode == 0, backup.stderr
    assert backup.stdout.startswith(f"backed up {server.db} to {copy}: "), backup.stdout
    assert backup.stdout.rstrip().endswith("bytes, verified")
    assert backup.stderr == "", "no progress bar off a terminal"
    assert before >= 300, "the writers were writing when the backup began"
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name], "no temporary file left"

    assert cli("verify", "--db", copy, check=0).stdout.strip() == f"{copy}: ok"
    [level] = export_rows(copy, "levels")
    copied = int(level["counted"])
    after = sum(acknowledged)
    assert before <= copied <= after + 16, (before, copied, after)
    # The copy is one snapshot: its ledger is exactly the first movements of the live one.
    server.stop()
    live = export_rows(server.db, "movements")
    copied_ledger = export_rows(copy, "movements")
    assert len(copied_ledger) == copied
    assert copied_ledger == live[: len(copied_ledger)]
    assert int(copied_ledger[-1]["on_hand_after"]) == copied


def test_a_backup_never_creates_or_overwrites_what_it_should_not(tmp_path, db):
    products = tmp_path / "p.csv"
    products.write_text("sku,name,price\nB-1,One,1\n")
    cli("import", "products", products, "--db", db, check=0)
    missing = tmp_path / "missing.db"
    proc = cli("backup", "--db", missing, "--to", tmp_path / "x.db", check=1)
    assert "missing.db" in proc.stderr
    assert not missing.exists() and not (tmp_path / "x.db").exists()
    # A file that is not an inventory database leaves no copy behind.
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database " * 100)
    cli("backup", "--db", junk, "--to", tmp_path / "y.db", check=1)
    assert not (tmp_path / "y.db").exists()
    # Nor is the database ever replaced by a copy of itself.
    proc = cli("backup", "--db", db, "--to", db, check=1)
    assert "is the database itself" in proc.stderr
    cli("verify", "--db", db, check=0)


def _specials(tmp_path):
    """Paths that are not regular files: a directory, a FIFO, a socket and (as root) a copy of
    the /dev/full device node made in tmp_path, so that no test ever aims at the real one."""
    made = {"directory": tmp_path / "dir"}
    made["directory"].mkdir()
    made["fifo"] = tmp_path / "fifo"
    os.mkfifo(made["fifo"])
    made["socket"] = tmp_path / "sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(made["socket"]))
    if os.geteuid() == 0:
        made["device"] = tmp_path / "full"
        os.mknod(made["device"], stat.S_IFCHR | 0o600, os.makedev(1, 7))
    return made, listener


def test_a_backup_replaces_only_a_regular_file_or_a_new_path(tmp_path, db):
    cli("import", "products", write(tmp_path / "p.csv", "sku,name,price\nT-1,One,1\n"), "--db", db, check=0)
    specials, listener = _specials(tmp_path)
    try:
        for kind, path in specials.items():
            before = os.lstat(path)
            proc = cli("backup", "--db", db, "--to", path, check=1)
            assert "is not a regular file" in proc.stderr, (kind, proc.stderr)
            assert proc.stdout == "", kind
            after = os.lstat(path)
            assert (stat.S_IFMT(after.st_mode), after.st_ino, after.st_rdev) == (
                stat.S_IFMT(before.st_mode),
                before.st_ino,
                before.st_rdev,
            ), f"the {kind} is untouched"
        assert os.listdir(specials["directory"]) == []
    finally:
        listener.close()
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    # A source that is not a regular file is refused before it is opened (a FIFO would block).
    proc = cli("backup", "--db", specials["fifo"], "--to", tmp_path / "x.db", check=1, timeout=30)
    assert "is not a regular file" in proc.stderr
    assert not (tmp_path / "x.db").exists()

    # An older backup is replaced as before: the new copy renamed over it.
    old = tmp_path / "old.db"
    cli("backup", "--db", db, "--to", old, check=0)
    cli("import", "products", write(tmp_path / "q.csv", "sku,name,price\nT-2,Two,2\n"), "--db", db, check=0)
    inode = os.stat(old).st_ino
    cli("backup", "--db", db, "--to", old, check=0)
    assert os.stat(old).st_ino != inode, "written beside it, then renamed into place"
    assert [p["sku"] for p in export_rows(old, "products")] == ["T-1", "T-2"]

    # --no-clobber refuses any existing target, leaving it as it was, and takes a new path.
    cli("import", "products", write(tmp_path / "r.csv", "sku,name,price\nT-3,Three,3\n"), "--db", db, check=0)
    other = write(tmp_path / "notes.txt", "keep me")
    for existing in [old, other]:
        before = existing.read_bytes()
        proc = cli("backup", "--db", db, "--to", existing, "--no-clobber", check=1)
        assert "already exists" in proc.stderr, proc.stderr
        assert existing.read_bytes() == before
    fresh = tmp_path / "fresh.db"
    cli("backup", "--db", db, "--to", fresh, "--no-clobber", check=0)
    assert [p["sku"] for p in export_rows(fresh, "products")] == ["T-1", "T-2", "T-3"]


def test_a_live_database_is_never_a_backup_target(tmp_path, db, start):
    cli("import", "products", write(tmp_path / "p.csv", "sku,name,price\nL-1,One,1\n"), "--db", db, check=0)
    live = tmp_path / "live.db"
    server = start(db=str(live))
    new_product(server, sku="LIVE-1")
    proc = cli("backup", "--db", db, "--to", live, check=1)
    assert "open in another process" in proc.stderr, proc.stderr
    assert f"pid {server.proc.pid}" in proc.stderr
    # The server still writes to the file it opened, and the path still leads to it.
    r = server.post("/api/products", {"name": "After", "sku": "LIVE-2", "price": 2})
    assert r.status_code == 201, r.text
    assert server.get("/ready").status_code == 200
    server.stop()
    assert [p["sku"] for p in export_rows(live, "products")] == ["LIVE-1", "LIVE-2"]
