"""`import products` and `import levels`: errors by line and column, all or nothing, dry runs,
a second import that changes nothing, JSON Lines, and imports into a file a server is using."""

import json

from conftest import cli, export, export_json, export_rows, write

CATALOGUE = """\
sku,name,description,price,location,initial_quantity,reorder_point
LAP-1,Laptop,"Gaming, 16"" screen",1500.00,Warehouse A,10,2
PEN-1,Pen,,0.5000,,,
MUG-1,Mug,Ceramic,7.25,Shop,3,
"""


def catalogue(tmp_path):
    return write(tmp_path / "catalogue.csv", CATALOGUE)


def test_errors_name_line_and_column_and_nothing_is_imported(tmp_path, db):
    bad = write(
        tmp_path / "bad.csv",
        "name,price,sku,initial_quantity\n"
        "Fine,1.00,OK-1,\n"
        "Too precise,1.00001,BAD-1,\n"
        "Not a number,2,BAD-2,many\n"
        '"Line\nbreak",zero,BAD-3,\n'
        "Short row,3\n",
    )
    proc = cli("import", "products", bad, "--db", db, check=1)
    assert proc.stderr.splitlines() == [
        "line 3, column price: VALIDATION_ERROR: price has more than 4 decimal places",
        'line 4, column initial_quantity: VALIDATION_ERROR: initial_quantity must be a whole number, not "many"',
        'line 5, column price: VALIDATION_ERROR: price "zero" is not a decimal number',
        "line 7: VALIDATION_ERROR: the row has 2 fields, the header row 4",
        "error: bad.csv: 4 errors, nothing was imported",
    ]
    assert proc.stdout == ""
    assert not db.exists(), "a file with errors never reaches the database"


def test_the_engine_refuses_a_row_and_the_whole_file_is_refused(tmp_path, db):
    cli("import", "products", write(tmp_path / "first.csv", "sku,name,price\nDUP-0,Existing,1\n"), "--db", db, check=0)
    rows = "sku,name,price,reorder_point\nNEW-1,Fine,1,\nNEW-2,Fine too,2,3\nNEW-3,   ,3,\nNEW-4,Fine,4,\n"
    proc = cli("import", "products", write(tmp_path / "p.csv", rows), "--db", db, check=1)
    assert proc.stderr.splitlines() == [
        "line 4, column name: VALIDATION_ERROR: name must not be empty",
        "error: p.csv: 1 error, nothing was imported",
    ]
    proc = cli("import", "products", write(tmp_path / "q.csv", "sku,name,price,reorder_point\nNEW-1,Fine,1,-2\n"), "--db", db, check=1)
    assert proc.stderr.splitlines()[0] == "line 2, column reorder_point: VALIDATION_ERROR: reorder_point must not be negative"
    assert [p["sku"] for p in export_rows(db, "products")] == ["DUP-0"], "all or nothing"


def test_a_dry_run_checks_everything_and_changes_nothing(tmp_path, db):
    path = catalogue(tmp_path)
    proc = cli("import", "products", path, "--db", db, "--dry-run", check=0)
    assert proc.stdout == "catalogue.csv: dry run, nothing changed: 3 would be created, 0 updated, 0 unchanged\n"
    assert export_rows(db, "products") == []
    assert export_rows(db, "movements") == []
    bad = write(tmp_path / "bad.csv", CATALOGUE + "BAD-1,,,1,,,\n")
    proc = cli("import", "products", bad, "--db", db, "--dry-run", check=1)
    assert proc.stderr.splitlines()[0] == "line 5, column name: VALIDATION_ERROR: name must not be empty"
    cli("import", "products", path, "--db", db, check=0)
    assert len(export_rows(db, "products")) == 3


def test_the_second_import_changes_nothing(tmp_path, db):
    path = catalogue(tmp_path)
    first = cli("import", "products", path, "--db", db, check=0)
    assert first.stdout == "catalogue.csv: 3 created, 0 updated, 0 unchanged\n"
    before = {what: export(db, what) for what in ("products", "levels", "movements")}
    second = cli("import", "products", path, "--db", db, check=0)
    assert second.stdout == "catalogue.csv: 0 created, 0 updated, 3 unchanged\n"
    assert {what: export(db, what) for what in before} == before


def test_existing_products_are_updated_and_absent_columns_kept(tmp_path, db, start):
    cli("import", "products", catalogue(tmp_path), "--db", db, check=0)
    update = write(
        tmp_path / "update.csv",
        # No description or location column: both are kept. An empty reorder point clears it;
        # initial_quantity is for new products only.
        "sku,price,name,reorder_point,initial_quantity\n"
        "LAP-1,1399.99,Laptop Pro,,500\n"
        "PEN-1,0.5000,Pen,4,\n"
        "NEW-1,2,New one,,6\n",
    )
    proc = cli("import", "products", update, "--db", db, check=0)
    assert proc.stdout == "update.csv: 1 created, 2 updated, 0 unchanged\n"
    products = {p["sku"]: p for p in export_rows(db, "products")}
    assert products["LAP-1"] == {
        "sku": "LAP-1",
        "name": "Laptop Pro",
        "description": 'Gaming, 16" screen',
        "price": "1399.99",
        "location": "Warehouse A",
        "reorder_point": "",
    }
    assert products["PEN-1"]["reorder_point"] == "4" and products["PEN-1"]["location"] == "default"
    assert products["NEW-1"]["location"] == "default"
    levels = {(l["sku"], l["location"]): int(l["counted"]) for l in export_rows(db, "levels")}
    assert levels[("LAP-1", "Warehouse A")] == 10, "stock of an existing product is left alone"
    assert levels[("NEW-1", "default")] == 6
    # Through the API: the unchanged product kept its version, the changed one moved on.
    server = start(db=str(db))
    listed = {p["sku"]: p for p in server.get("/api/products?limit=100").json()["data"]}
    assert listed["MUG-1"]["version"] == 1 and listed["LAP-1"]["version"] == 2
    assert listed["LAP-1"]["price"] == 1399.99


def test_json_lines_by_extension_or_flag(tmp_path, db):
    lines = [
        {"sku": "J-1", "name": "Ünïcode “name”", "price": 1500.00, "initial_quantity": 2, "reorder_point": None},
        {"sku": "J-2", "name": "String price", "price": "0.0001", "description": "line\nbreak"},
    ]
    text = "\n".join(json.dumps(l, ensure_ascii=False) for l in lines) + "\n\n"
    # 1500.00 is written as 1500.0 by json.dumps: give the exact text instead.
    text = text.replace("1500.0,", "1500.00,")
    for name, flags in [("p.jsonl", []), ("p.ndjson", []), ("p.txt", ["--format", "jsonl"])]:
        target = db.with_name(f"{name}.db")
        proc = cli("import", "products", write(tmp_path / name, text), "--db", target, *flags, check=0)
        assert proc.stdout == f"{name}: 2 created, 0 updated, 0 unchanged\n"
        products = export_json(target, "products")
        assert [p["price"] for p in products] == ["1500.00", "0.0001"]
        assert products[0]["name"] == "Ünïcode “name”" and products[1]["description"] == "line\nbreak"
    bad = write(tmp_path / "bad.jsonl", '{"sku":"J-3","name":"N","price":1}\n{"sku":"J-4","name":"N","price":1,"colour":"red"}\n{"sku": "J-5"\n')
    proc = cli("import", "products", bad, "--db", db, check=1)
    errors = proc.stderr.splitlines()
    assert errors[0].startswith("line 2, column colour: VALIDATION_ERROR: unknown key"), errors
    assert errors[1].startswith("line 3: VALIDATION_ERROR: not a JSON object"), errors
    # A CSV file named .jsonl is read as JSON Lines unless told otherwise.
    csv_named_jsonl = write(tmp_path / "c.jsonl", "sku,name,price\nC-1,N,1\n")
    cli("import", "products", csv_named_jsonl, "--db", db, check=1)
    cli("import", "products", csv_named_jsonl, "--db", db, "--format", "csv", check=0)


def test_levels_are_counts_with_the_file_as_reference(tmp_path, db):
    cli("import", "products", catalogue(tmp_path), "--db", db, check=0)
    counts = write(tmp_path / "count-2026-12.csv", "sku,location,counted\nLAP-1,Warehouse A,8\nLAP-1,Shop,4\nMUG-1,Shop,3\n")
    proc = cli("import", "levels", counts, "--db", db, check=0)
    assert proc.stdout == "count-2026-12.csv: 1 created, 1 updated, 1 unchanged\n"
    adjusts = [m for m in export_rows(db, "movements") if m["kind"] == "ADJUST"]
    assert [(m["location"], int(m["quantity"]), int(m["on_hand_after"])) for m in adjusts] == [
        ("Warehouse A", -2, 8),
        ("Shop", 4, 4),
    ]
    assert {m["reference"] for m in adjusts} == {"import:count-2026-12.csv"}
    again = cli("import", "levels", counts, "--db", db, check=0)
    assert again.stdout == "count-2026-12.csv: 0 created, 0 updated, 3 unchanged\n"
    assert len([m for m in export_rows(db, "movements") if m["kind"] == "ADJUST"]) == 2


def test_levels_are_all_or_nothing(tmp_path, db):
    cli("import", "products", catalogue(tmp_path), "--db", db, check=0)
    before = export(db, "levels")
    counts = write(tmp_path / "c.csv", "sku,location,counted\nLAP-1,Warehouse A,1\nNOPE-1,Shop,4\nMUG-1,Shop,-1\n")
    proc = cli("import", "levels", counts, "--db", db, check=1)
    assert proc.stderr.splitlines() == [
        'line 3, column sku: NOT_FOUND: product with sku "NOPE-1" not found',
        "error: c.csv: 1 error, nothing was imported",
    ]
    assert export(db, "levels") == before
    proc = cli("import", "levels", write(tmp_path / "d.csv", "sku,location,counted\nMUG-1,Shop,-1\n"), "--db", db, check=1)
    assert proc.stderr.splitlines()[0] == "line 2, column counted: VALIDATION_ERROR: counted must not be negative"
    jsonl = write(tmp_path / "c.jsonl", '{"sku":"MUG-1","location":"Shop","counted":9}\n')
    assert cli("import", "levels", jsonl, "--db", db, check=0).stdout == "c.jsonl: 0 created, 1 updated, 0 unchanged\n"


def test_an_import_lands_in_the_file_a_server_is_using(tmp_path, start):
    server = start()
    cli("import", "products", catalogue(tmp_path), "--db", server.db, check=0)
    listed = server.get("/api/products?limit=100").json()["data"]
    assert sorted(p["sku"] for p in listed) == ["LAP-1", "MUG-1", "PEN-1"]
    r = server.post(f"/api/products/{listed[0]['id']}/stock/add", {"quantity": 1})
    assert r.status_code == 200, r.text


def test_a_header_row_alone_imports_nothing_and_an_empty_file_is_refused(tmp_path, db):
    proc = cli("import", "products", write(tmp_path / "h.csv", "sku,name,price\n"), "--db", db, check=0)
    assert proc.stdout == "h.csv: 0 created, 0 updated, 0 unchanged\n"
    proc = cli("import", "products", write(tmp_path / "e.csv", ""), "--db", db, check=1)
    assert "line 1, column sku: VALIDATION_ERROR: the header row has no such column" in proc.stderr


def test_an_unreadable_input_is_an_error(tmp_path, db):
    proc = cli("import", "products", tmp_path / "nope.csv", "--db", db, check=1)
    assert proc.stderr.startswith("error: cannot read ")
    assert not db.exists()
