"""`verify`: exit 0 on a clean file, 1 when it finds problems, 2 when the file cannot be opened."""

import sqlite3
import threading

from conftest import cli, new_product, wait_until, write


def make(tmp_path, db):
    cli("import", "products", write(tmp_path / "p.csv", "sku,name,price,initial_quantity\nV-1,One,1,5\nV-2,Two,2,0\n"), "--db", db, check=0)


def test_a_clean_file_exits_0(tmp_path, db):
    make(tmp_path, db)
    proc = cli("verify", "--db", db, check=0)
    assert proc.stdout == f"{db}: ok\n" and proc.stderr == ""


def test_a_live_file_verifies_while_its_server_writes(tmp_path, start):
    server = start()
    pid = new_product(server, initial_quantity=3)["product"]["id"]
    acknowledged = []
    stop = threading.Event()

    def writer():
        while not stop.is_set():
            r = server.post(f"/api/products/{pid}/stock/add", {"quantity": 1})
            assert r.status_code == 200, r.text
            acknowledged.append(1)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        wait_until(lambda: acknowledged, "the writer's first write")
        # Verify until three runs have overlapped committed writes (a run on a small file can
        # end between two writes); every run, overlapping or not, must find the file sound.
        overlapped = 0

        def verify_overlapping_writes():
            nonlocal overlapped
            before = len(acknowledged)
            proc = cli("verify", "--db", server.db, check=0)
            assert proc.stdout == f"{server.db}: ok\n"
            overlapped += len(acknowledged) > before
            return overlapped >= 3

        wait_until(verify_overlapping_writes, "three verifies while writes were committed", timeout=60)
    finally:
        stop.set()
        thread.join()
    on_hand = server.get(f"/api/products/{pid}/inventory").json()["data"]["on_hand"]
    assert on_hand == 3 + len(acknowledged)


def test_a_damaged_file_exits_1_and_names_the_problems(tmp_path, db):
    make(tmp_path, db)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE stock_levels SET on_hand = on_hand + 1")
    conn.commit()
    conn.close()
    proc = cli("verify", "--db", db, check=1)
    problems = proc.stdout.splitlines()
    assert len(problems) >= 2, proc.stdout
    assert all(p.startswith("level differs from the sum of its movements: ") for p in problems[:2]), problems
    assert proc.stderr.strip() == f"error: {db}: {len(problems)} problems found"


def test_a_file_that_cannot_be_opened_exits_2(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"junk " * 1000)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    for path in [junk, tmp_path / "missing.db", other, tmp_path]:
        proc = cli("verify", "--db", path, check=2)
        assert proc.stderr.startswith(f"error: cannot verify {path}: STORAGE_ERROR: "), proc.stderr
        assert proc.stdout == ""
    assert not (tmp_path / "missing.db").exists(), "verify creates nothing"
