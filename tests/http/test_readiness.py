"""Readiness that tells the truth (issue 30): /ready is 503 while the database cannot take a
write (a file read-only for the server's user, a full disk), until a write or the probe
succeeds; a server that cannot write its database at start-up exits, unless `--read-only`."""

import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import BIN, Server, assert_error, new_product, wait_until


def as_nobody():
    """preexec_fn: drop to nobody (root writes every file whatever its mode)."""
    os.setgid(65534)
    os.setuid(65534)


@pytest.fixture
def shared_dir():
    """A directory nobody can reach and write, holding a database nobody may only read."""
    path = tempfile.mkdtemp(prefix="inventory-ro-")
    os.chmod(path, 0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def read_only_db(tmp_path, directory):
    db = os.path.join(directory, "ro.db")
    maker = Server(tmp_path, db=db)
    new_product(maker, sku="RO-1")
    assert maker.stop() == 0
    os.chmod(db, 0o444)
    return db


def test_a_server_that_cannot_write_its_database_exits_at_start_up(tmp_path, shared_dir):
    db = read_only_db(tmp_path, shared_dir)
    drop = as_nobody if os.geteuid() == 0 else None
    proc = subprocess.run(
        [BIN, "--addr", "127.0.0.1:0", "--db", db],
        capture_output=True, text=True, timeout=60, preexec_fn=drop, cwd=shared_dir,
    )
    assert proc.returncode == 1, (proc.returncode, proc.stdout)
    assert "listening" not in proc.stdout
    assert "read-only" in proc.stdout and "--read-only" in proc.stdout, proc.stdout


def test_read_only_serves_reads_and_refuses_writes_with_a_clear_code(tmp_path, shared_dir, start):
    db = read_only_db(tmp_path, shared_dir)
    drop = as_nobody if os.geteuid() == 0 else None
    server = start("--read-only", db=db, preexec_fn=drop)
    [product] = server.get("/api/products").json()["data"]
    assert product["sku"] == "RO-1"
    assert server.get("/health").status_code == 200
    r = server.get("/ready")
    assert r.status_code == 200 and r.json()["data"]["status"] == "read-only", r.text
    for r in (
        server.post("/api/products", {"name": "No", "sku": "RO-2", "price": 1}),
        server.post(f"/api/products/{product['id']}/stock/add", {"quantity": 1}),
        server.put(f"/api/products/{product['id']}", {"name": "Renamed"}),
        server.delete(f"/api/products/{product['id']}"),
    ):
        assert_error(r, 503, "READ_ONLY")
        assert "Retry-After" not in r.headers
    # Nothing is written at shutdown either: it stops cleanly.
    assert server.stop() == 0


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs (root only): a disk that can be filled."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(path):
    """Writes a file until the disk is full. Unbuffered, so that closing it has nothing left
    to write (a buffered close would raise ENOSPC again)."""
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass


def test_ready_is_503_while_the_disk_is_full_and_recovers_by_itself(tmp_path, small_disk, start):
    server = start(db=str(small_disk / "full.db"))
    product = new_product(server, initial_quantity=0)["product"]
    assert server.get("/ready").status_code == 200
    filler = small_disk / "filler"
    fill(filler)
    # Writes grow the WAL until one no longer fits.
    failed = None
    for i in range(2000):
        r = server.post("/api/products", {"name": f"Fill {i}", "sku": f"FULL-{i}", "price": 1, "description": "x" * 4000})
        if r.status_code != 201:
            failed = r
            break
    assert failed is not None, "the disk never filled"
    assert_error(failed, 503, "STORAGE_ERROR")
    r = server.get("/ready")
    assert_error(r, 503, "STORAGE_ERROR")
    assert "not ready" in r.json()["message"]
    # Space comes back: the probe commits, readiness and writes come back without a restart.
    filler.unlink()
    wait_until(lambda: server.get("/ready").status_code == 200, "ready again")
    r = server.post(f"/api/products/{product['id']}/stock/add", {"quantity": 2})
    assert r.status_code == 200, r.text
