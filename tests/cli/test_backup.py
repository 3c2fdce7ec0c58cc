"""`backup`: a consistent, verified copy of a file that a running server is writing to."""

import threading
import time

import requests

from conftest import cli, export_rows, new_product


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
        deadline = time.monotonic() + 30
        while sum(acknowledged) < 300 and time.monotonic() < deadline and not failures:
            time.sleep(0.05)
        before = sum(acknowledged)
        copy = tmp_path / "copy.db"
        backup = cli("backup", "--db", server.db, "--to", copy)
        time.sleep(0.3)  # writes keep landing after the copy's snapshot
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
