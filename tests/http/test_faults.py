"""Issue 14, the faults found by fault injection, over HTTP, each as it was found: the database
file deleted or replaced under a running server (writes kept returning 200 and were lost at
restart), several processes opening a new file at once (one start in four failed), and another
process holding the write lock past the busy timeout (500 STORAGE_ERROR). Plus the probes:
/health and /ready.

The file faults are a SQLite file's: on PostgreSQL (INVENTORY_TEST_PG) they are skipped. The
concurrent first open and the held lock run on both stores."""

import concurrent.futures
import os
import sqlite3
import subprocess
import threading
import time

import pytest
import requests

from conftest import BIN, PG, assert_error, default_db, drop_db, new_product

FILE_ONLY = pytest.mark.skipif(PG is not None, reason="a fault of a SQLite file; PostgreSQL has no file to lose")


def test_health_and_ready_answer_200(server):
    for path in ("/health", "/ready"):
        r = server.get(path)
        assert r.status_code == 200, r.text
        assert r.json()["data"]["database"] == "ok"
    assert server.get("/ready").json()["data"]["status"] == "ready"


def assert_refuses_writes(server, pid, what):
    """Every write is 503 STORAGE_ERROR naming what happened to the file, without Retry-After
    (retrying cannot help: the server must be restarted on the right file), and both probes
    are 503."""
    for _ in range(5):
        r = server.post(f"/api/products/{pid}/stock/add", {"quantity": 1})
        body = assert_error(r, 503, "STORAGE_ERROR")
        assert what in body["message"], body
        assert "Retry-After" not in r.headers
    assert_error(server.post("/api/locations", {"name": "After"}), 503, "STORAGE_ERROR")
    for probe in ("/ready", "/health"):
        body = assert_error(server.get(probe), 503, "STORAGE_ERROR")
        assert what in body["message"], (probe, body)


@FILE_ONLY
def test_a_deleted_database_file_refuses_writes_and_fails_the_probes(start, tmp_path):
    server = start()
    pid = new_product(server, initial_quantity=3)["product"]["id"]
    assert server.get("/ready").status_code == 200
    os.remove(server.db)
    # Reads from many connections at once make the server open more read connections: none may
    # create a file at the path (found here: one did, and the deletion then read as a
    # replacement). A read answers from the file the server holds, or fails; either way 200
    # or 503, never a 500.
    def reads():
        s = requests.Session()
        return [s.get(f"{server.url}/api/products/{pid}", timeout=10).status_code for _ in range(25)]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = {c for result in pool.map(lambda _: reads(), range(8)) for c in result}
    assert codes <= {200, 503}, codes
    assert not os.path.exists(server.db), "the server created a file at the path"
    assert_refuses_writes(server, pid, "was deleted")
    assert not os.path.exists(server.db)
    # Shutdown says the file is gone rather than report success.
    assert server.stop() == 1
    assert server.wait_log(lambda e: e.get("level") == "ERROR" and "was deleted" in e.get("error", ""))
    # Nothing was acknowledged after the deletion, so a restart loses nothing it acknowledged:
    # it starts on a new, empty file.
    again = start()
    assert again.get("/api/products").json()["data"] == []
    assert again.get("/ready").status_code == 200


@FILE_ONLY
def test_a_replaced_database_file_refuses_writes_and_fails_the_probes(start, tmp_path):
    server = start()
    pid = new_product(server, initial_quantity=3)["product"]["id"]
    # An operator puts another database at the path (a copy taken now, renamed into place).
    copy = tmp_path / "copy.db"
    subprocess.run([BIN, "backup", "--db", server.db, "--to", str(copy)], check=True,
                   capture_output=True, timeout=60)
    assert server.post(f"/api/products/{pid}/stock/add", {"quantity": 4}).status_code == 200
    os.replace(copy, server.db)
    assert_refuses_writes(server, pid, "was replaced")
    assert server.stop() == 1
    # The restarted server serves the file now at the path: the copy, which lacks the add
    # acknowledged before the replacement (the operator's choice) and holds nothing the old
    # server acknowledged after it.
    again = start()
    assert again.get(f"/api/products/{pid}/inventory").json()["data"]["quantity"] == 3
    assert again.post(f"/api/products/{pid}/stock/add", {"quantity": 1}).status_code == 200


def test_processes_opening_a_new_database_at_once_all_succeed(tmp_path):
    """Two servers and two import jobs (a worker script beside the server) start together on a
    database nobody has created yet, round after round: every one must succeed."""
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    for round_ in range(5):
        where = tmp_path / f"round-{round_}"
        where.mkdir()
        db = default_db(where)
        rows = []
        for n in range(2):
            csv = where / f"import-{n}.csv"
            csv.write_text(f"sku,name,price,initial_quantity\nW{n},Worker {n},1.50,{n + 1}\n")
            rows.append(csv)
        procs = [subprocess.Popen([BIN, "--addr", "127.0.0.1:0", "--db", db], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, env=env, cwd=str(where))
                 for _ in range(2)]
        jobs = [subprocess.Popen([BIN, "import", "products", str(csv), "--db", db], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, env=env, cwd=str(where))
                for csv in rows]
        try:
            for job in jobs:
                out, _ = job.communicate(timeout=60)
                assert job.returncode == 0, f"round {round_}: an import failed: {out}"
            for proc in procs:
                line = ""
                deadline = time.monotonic() + 30
                while '"listening"' not in line:
                    line = proc.stdout.readline()
                    assert line and time.monotonic() < deadline, f"round {round_}: a server failed to start"
                addr = line.split('"addr":"')[1].split('"')[0]
                ready = requests.get(f"http://{addr}/ready", timeout=10)
                assert ready.status_code == 200, ready.text
                listed = requests.get(f"http://{addr}/api/products", timeout=10).json()["data"]
                assert sorted(p["sku"] for p in listed) == ["W0", "W1"]
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=30)
                proc.stdout.close()
        for proc in procs:
            assert proc.returncode == 0
        if PG:
            drop_db(where)
        else:
            verified = subprocess.run([BIN, "verify", "--db", db], capture_output=True, text=True, timeout=60)
            assert verified.returncode == 0, verified.stdout + verified.stderr


class LockHolder:
    """Another process's transaction holding the database's write lock (SQLite: BEGIN
    IMMEDIATE on the file; PostgreSQL: the movements table locked against writers), until
    released."""

    def __init__(self, db):
        self.db = db
        if PG:
            self.proc = subprocess.Popen(
                ["psql", db, "-qAt", "-v", "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True)
            self.proc.stdin.write("BEGIN;\nLOCK TABLE movements IN EXCLUSIVE MODE;\nSELECT 'locked';\n")
            self.proc.stdin.flush()
            assert self.proc.stdout.readline().strip() == "locked"
        else:
            self.conn = sqlite3.connect(db, isolation_level=None, timeout=10)
            self.conn.execute("BEGIN IMMEDIATE")

    def release(self):
        if PG:
            self.proc.communicate("ROLLBACK;\n", timeout=30)
        else:
            self.conn.execute("ROLLBACK")
            self.conn.close()


def test_a_lock_held_past_the_busy_timeout_is_503_busy_with_retry_after(server):
    pid = new_product(server, initial_quantity=3)["product"]["id"]
    holder = LockHolder(server.db)
    answers = {}

    def ask(name, call):
        answers[name] = call()

    try:
        # Each waits out the busy timeout (5 s); the probe waits for the writer, then for the lock.
        calls = {
            "write": lambda: requests.post(f"{server.url}/api/products/{pid}/stock/add",
                                           json={"quantity": 1}, timeout=30),
            "ready": lambda: requests.get(f"{server.url}/ready", timeout=30),
        }
        threads = [threading.Thread(target=ask, args=item) for item in calls.items()]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        # Reads never wait for the lock.
        assert server.get(f"/api/products/{pid}").status_code == 200
        assert server.get("/health").status_code == 200
        for t in threads:
            t.join(60)
        waited = time.monotonic() - t0
    finally:
        holder.release()
    assert waited >= 4, waited
    r = answers["write"]
    body = assert_error(r, 503, "BUSY")
    assert "busy" in body["message"], body
    assert r.headers["Retry-After"] == "1"
    if PG:
        # PostgreSQL's readiness asks whether the database takes writes at all; a lock on one
        # table is a busy moment, not an unready database.
        assert answers["ready"].status_code == 200
    else:
        r = answers["ready"]
        assert_error(r, 503, "BUSY")
        assert r.headers["Retry-After"] == "1"
    # Once the lock is released, the same write goes through, and nothing was applied before.
    r = server.post(f"/api/products/{pid}/stock/add", {"quantity": 1})
    assert r.status_code == 200 and r.json()["data"]["on_hand"] == 4, r.text
    assert server.get("/ready").status_code == 200
    metrics = server.get("/metrics").text
    assert 'inventory_commands_failed_total{kind="stock.add",code="BUSY"} 1' in metrics, metrics
