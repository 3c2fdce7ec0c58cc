"""`restore`: a verified backup replaces the file atomically, and not while a server has it
open unless forced."""

import os
import stat

from conftest import cli, export_rows, new_product, write


def skus(db):
    return [p["sku"] for p in export_rows(db, "products")]


def test_restore_refused_while_a_server_holds_the_file_then_forced(tmp_path, start):
    live, saved = tmp_path / "live.db", tmp_path / "saved.db"
    cli("import", "products", write(tmp_path / "a.csv", "sku,name,price\nR-1,Kept,1\n"), "--db", live, check=0)
    cli("backup", "--db", live, "--to", saved, check=0)
    cli("import", "products", write(tmp_path / "b.csv", "sku,name,price\nR-2,Later,2\n"), "--db", live, check=0)

    server = start(db=str(live))
    refused = cli("restore", "--from", saved, "--db", live, check=1)
    assert "is open in another process" in refused.stderr, refused.stderr
    assert f"pid {server.proc.pid}" in refused.stderr
    assert "--force" in refused.stderr
    assert refused.stdout == ""
    # Nothing changed: the server still writes to the file at the path.
    r = server.post("/api/products", {"name": "During", "sku": "R-3", "price": 3})
    assert r.status_code == 201, r.text
    assert skus(live) == ["R-1", "R-2", "R-3"]

    forced = cli("restore", "--from", saved, "--db", live, "--force", check=0)
    assert forced.stdout.startswith(f"restored {live} from {saved}: "), forced.stdout
    assert f"pid {server.proc.pid} had {live} open" in forced.stderr, forced.stderr
    assert skus(live) == ["R-1"]
    # The server holds the replaced file: it refuses writes rather than acknowledge lost ones.
    r = server.post("/api/products", {"name": "Lost", "sku": "R-4", "price": 4})
    assert r.status_code >= 500 and r.json()["error"] == "STORAGE_ERROR", r.text
    assert "replaced" in r.json()["message"]
    server.stop()
    assert skus(live) == ["R-1"]
    cli("verify", "--db", live, check=0)


def test_restore_without_holders_and_of_files_that_do_not_verify(tmp_path):
    live, saved = tmp_path / "live.db", tmp_path / "saved.db"
    cli("import", "products", write(tmp_path / "a.csv", "sku,name,price\nS-1,One,1\n"), "--db", live, check=0)
    cli("backup", "--db", live, "--to", saved, check=0)
    cli("import", "products", write(tmp_path / "b.csv", "sku,name,price\nS-2,Two,2\n"), "--db", live, check=0)
    proc = cli("restore", "--from", saved, "--db", live, check=0)
    assert proc.stderr == ""
    assert skus(live) == ["S-1"]
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]

    junk = write(tmp_path / "junk.db", "not a database at all")
    for bad in [junk, tmp_path / "missing.db"]:
        proc = cli("restore", "--from", bad, "--db", live, "--force", check=1, timeout=30)
        assert f"{live} was not restored" in proc.stderr, proc.stderr
        assert skus(live) == ["S-1"]
    # A restore into a path with no database yet creates it.
    fresh = tmp_path / "fresh.db"
    cli("restore", "--from", saved, "--db", fresh, check=0)
    assert skus(fresh) == ["S-1"]


def test_restore_refuses_sources_and_targets_that_are_not_plain_files_or_are_live(tmp_path, start):
    live, saved = tmp_path / "live.db", tmp_path / "saved.db"
    cli("import", "products", write(tmp_path / "a.csv", "sku,name,price\nU-1,One,1\n"), "--db", live, check=0)
    cli("backup", "--db", live, "--to", saved, check=0)
    fifo, folder = tmp_path / "fifo", tmp_path / "dir"
    os.mkfifo(fifo)
    folder.mkdir()
    for bad in [fifo, folder]:
        # --force overrides holders only: never what the source or target is.
        proc = cli("restore", "--from", bad, "--db", live, "--force", check=1, timeout=30)
        assert "is not a regular file" in proc.stderr, proc.stderr
        proc = cli("restore", "--from", saved, "--db", bad, "--force", check=1)
        assert "is not a regular file" in proc.stderr, proc.stderr
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and os.listdir(folder) == []
    proc = cli("restore", "--from", live, "--db", live, "--force", check=1)
    assert "is the database itself" in proc.stderr, proc.stderr
    # A database a server is writing to is not a backup: its file lacks what is in its WAL.
    server = start(db=str(tmp_path / "other.db"))
    new_product(server, sku="OTHER-1")
    proc = cli("restore", "--from", server.db, "--db", live, "--force", check=1)
    assert "open in another process" in proc.stderr, proc.stderr
    assert skus(live) == ["U-1"]
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
