"""The seed README's API: routes, payloads, envelope, field names and status codes."""

import re
import socket
import uuid

import requests

from conftest import assert_error, new_product

LAPTOP = (
    '{"name": "Gaming Laptop", "description": "High-performance gaming laptop", '
    '"sku": "LAP001", "price": 1500.00, "location": "Warehouse A", "initial_quantity": 50}'
)


def create_laptop(server):
    # Sent as `curl -d` would: a form content type, the seed README's payload verbatim.
    r = server.http.post(
        server.url + "/api/products",
        data=LAPTOP,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 201, r.text
    return r


def test_seed_readme_walkthrough(server):
    r = create_laptop(server)
    body = r.json()
    assert set(body) == {"data", "message", "timestamp"}
    product = body["data"]["product"]
    inventory = body["data"]["inventory"]
    for field in ("id", "name", "description", "sku", "price", "created_at", "updated_at"):
        assert field in product
    assert product["name"] == "Gaming Laptop"
    assert product["sku"] == "LAP001"
    assert product["location"] == "Warehouse A"
    # The exact decimal, as a JSON number token: 1500.00, not 1500.0 or "1500.00".
    assert re.search(r'"price":1500\.00[,}]', r.text), r.text
    for field in ("id", "product_id", "quantity", "reserved", "location", "created_at", "updated_at"):
        assert field in inventory
    assert (inventory["quantity"], inventory["reserved"], inventory["available"]) == (50, 0, 50)
    assert inventory["location"] == "Warehouse A"
    pid = product["id"]

    r = server.post(f"/api/products/{pid}/stock/add",
                    {"quantity": 25, "reference": "PO-12345", "notes": "Restocking from supplier"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["quantity"] == 75
    r = server.post(f"/api/products/{pid}/stock/remove",
                    {"quantity": 5, "reference": "SALE-789", "notes": "Sold to customer"})
    assert r.status_code == 200 and r.json()["data"]["quantity"] == 70
    r = server.post(f"/api/products/{pid}/stock/reserve",
                    {"quantity": 10, "reference": "ORDER-456", "notes": "Reserved for pending order"})
    assert r.status_code == 200, r.text
    level = r.json()["data"]
    assert (level["quantity"], level["reserved"], level["available"]) == (70, 10, 60)
    r = server.post(f"/api/products/{pid}/stock/unreserve",
                    {"quantity": 5, "reference": "ORDER-456", "notes": "Order partially cancelled"})
    assert r.status_code == 200 and r.json()["data"]["reserved"] == 5

    r = server.get(f"/api/products/{pid}")
    assert r.status_code == 200
    data = r.json()["data"]
    assert set(data) == {"product", "inventory"}
    assert data["inventory"]["reserved"] == 5
    assert r.headers["ETag"] == '"1"'

    r = server.get(f"/api/products/{pid}/inventory")
    assert r.status_code == 200 and r.json()["data"]["quantity"] == 70

    r = server.get(f"/api/products/{pid}/transactions?limit=10&offset=0")
    assert r.status_code == 200
    txs = r.json()["data"]
    assert [t["type"] for t in txs] == ["UNRESERVE", "RESERVE", "OUT", "IN", "IN"]
    for field in ("id", "inventory_id", "product_id", "type", "quantity", "reference", "notes", "created_at"):
        assert field in txs[0]
    assert txs[0]["reference"] == "ORDER-456" and txs[0]["notes"] == "Order partially cancelled"
    assert txs[2]["notes"] == "Sold to customer"
    assert [t["seq"] for t in txs] == sorted((t["seq"] for t in txs), reverse=True)

    r = server.get("/api/products?limit=10&offset=0")
    assert r.status_code == 200
    assert [p["sku"] for p in r.json()["data"]] == ["LAP001"]

    r = server.put(f"/api/products/{pid}", {"price": "1399.99"})
    assert r.status_code == 200, r.text
    updated = r.json()["data"]
    assert updated["name"] == "Gaming Laptop"  # partial: omitted fields stay
    assert '"price":1399.99' in r.text
    assert r.headers["ETag"] == '"2"'

    r = server.delete(f"/api/products/{pid}")
    assert r.status_code == 200
    assert_error(server.get(f"/api/products/{pid}"), 404, "NOT_FOUND")
    assert_error(server.delete(f"/api/products/{pid}"), 404, "NOT_FOUND")


def test_empty_lists_are_arrays(server):
    r = server.get("/api/products")
    assert r.status_code == 200 and r.json()["data"] == []
    p = new_product(server)["product"]
    for path in (f"/api/products/{p['id']}/reservations", "/api/reservations?reference=none"):
        r = server.get(path)
        assert r.status_code == 200 and r.json()["data"] == [], path
    r = server.get(f"/api/products/{p['id']}/transactions?offset=5")
    assert r.json()["data"] == []


def test_price_accepts_number_or_string_never_f64(server):
    for given, expected in ((19.99, "19.99"), ("0.10", "0.10"), ("1500.00", "1500.00"), (7, "7")):
        p = new_product(server, price=given)["product"]
        raw = server.get(f"/api/products/{p['id']}").text
        assert f'"price":{expected},' in raw, raw
    # A value f64 cannot hold exactly survives.
    r = server.http.post(server.url + "/api/products",
                         data='{"name":"Big","sku":"BIG-1","price":123456789012.3456}'.replace("123456789012", "99999999999"))
    assert r.status_code == 201, r.text
    assert '"price":99999999999.3456' in r.text
    for bad in ("-1", '"abc"', "1e3", "true", "null", "0.00001", '"1e3"', "1000000000000", "100000000000", "[1]"):
        r = server.http.post(server.url + "/api/products",
                             data='{"name":"X","sku":"BAD-%s","price":%s}' % (uuid.uuid4(), bad))
        assert_error(r, 400, "VALIDATION_ERROR", "price")


def test_400s_name_the_field(server):
    p = new_product(server)["product"]
    r = server.http.post(server.url + "/api/products", data='{"name": "x", ')
    assert_error(r, 400, "VALIDATION_ERROR")
    assert_error(server.post("/api/products", {"name": "x", "price": 1}), 400, "VALIDATION_ERROR", "sku")
    assert_error(server.post("/api/products", {"name": "x", "sku": "A", "price": 1, "colour": "red"}),
                 400, "VALIDATION_ERROR", "colour")
    assert_error(server.post("/api/products", {"name": "x", "sku": "A", "price": 1, "initial_quantity": "5"}),
                 400, "VALIDATION_ERROR", "initial_quantity")
    assert_error(server.post("/api/products", {"name": " ", "sku": "A", "price": 1}),
                 400, "VALIDATION_ERROR", "name")
    assert_error(server.post("/api/products", {"name": "x", "sku": "A", "price": 1, "initial_quantity": -1}),
                 400, "VALIDATION_ERROR", "initial_quantity")
    assert_error(server.post(f"/api/products/{p['id']}/stock/add", {"quantity": 0}),
                 400, "VALIDATION_ERROR", "quantity")
    assert_error(server.post(f"/api/products/{p['id']}/stock/add", {"quantity": 1.5}),
                 400, "VALIDATION_ERROR", "quantity")
    assert_error(server.post(f"/api/products/{p['id']}/stock/add", {"quantity": 1, "expires_in_seconds": 5}),
                 400, "VALIDATION_ERROR", "expires_in_seconds")
    assert_error(server.http.post(server.url + f"/api/products/{p['id']}/stock/add", data=""),
                 400, "VALIDATION_ERROR")
    assert_error(server.put(f"/api/products/{p['id']}", {"sku": "NEW"}), 400, "VALIDATION_ERROR", "sku")
    for query in ("limit=0", "limit=101", "limit=abc", "offset=-1", "offset=x"):
        field = query.split("=")[0]
        assert_error(server.get(f"/api/products?{query}"), 400, "VALIDATION_ERROR", field)
        assert_error(server.get(f"/api/products/{p['id']}/transactions?{query}"), 400, "VALIDATION_ERROR", field)


def test_unknown_products_and_routes_are_404_not_found(server):
    missing = uuid.uuid4()
    assert_error(server.get(f"/api/products/{missing}"), 404, "NOT_FOUND")
    assert_error(server.get("/api/products/not-a-uuid"), 404, "NOT_FOUND")
    assert_error(server.get(f"/api/products/{missing}/transactions"), 404, "NOT_FOUND")
    assert_error(server.get(f"/api/products/{missing}/inventory"), 404, "NOT_FOUND")
    assert_error(server.put(f"/api/products/{missing}", {"name": "x"}), 404, "NOT_FOUND")
    assert_error(server.post(f"/api/products/{missing}/stock/add", {"quantity": 1}), 404, "NOT_FOUND")
    assert_error(server.get("/api/nothing"), 404, "NOT_FOUND")
    assert_error(server.get("/nothing"), 404, "NOT_FOUND")  # "/" is the dashboard
    assert_error(server.post(f"/api/products/{missing}/stock/steal", {"quantity": 1}), 404, "NOT_FOUND")


def test_405_with_allow(server):
    r = server.http.patch(server.url + "/api/products")
    assert_error(r, 405, "METHOD_NOT_ALLOWED")
    assert r.headers["Allow"] == "GET, POST, HEAD, OPTIONS"
    r = server.get(f"/api/products/{uuid.uuid4()}/stock/add")
    assert_error(r, 405, "METHOD_NOT_ALLOWED")
    assert r.headers["Allow"] == "POST, OPTIONS"
    r = server.post("/health", {})
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_duplicate_skus_and_short_stock_are_409_and_change_nothing(server):
    new_product(server, sku="DUP-1")
    r = server.post("/api/products", {"name": "again", "sku": "DUP-1", "price": 1})
    assert_error(r, 409, "DUPLICATE_SKU")
    p = new_product(server, initial_quantity=3)["product"]
    assert_error(server.post(f"/api/products/{p['id']}/stock/remove", {"quantity": 4}), 409, "INSUFFICIENT_STOCK")
    assert_error(server.post(f"/api/products/{p['id']}/stock/reserve", {"quantity": 4}), 409, "INSUFFICIENT_STOCK")
    assert_error(server.post(f"/api/products/{p['id']}/stock/unreserve", {"quantity": 1}), 409, "INSUFFICIENT_RESERVED")
    # Nothing changed.
    assert server.get(f"/api/products/{p['id']}/inventory").json()["data"]["quantity"] == 3


def test_413_body_cap(start):
    server = start("--max-body-bytes", "2048")
    p = new_product(server)["product"]
    big = {"quantity": 1, "notes": "x" * 4000}
    assert_error(server.post(f"/api/products/{p['id']}/stock/add", big), 413, "PAYLOAD_TOO_LARGE")
    # A chunked body (no Content-Length) is capped while it is read.
    def chunks():
        yield b'{"quantity": 1, "notes": "'
        for _ in range(10):
            yield b"y" * 1000
        yield b'"}'
    r = server.http.post(server.url + f"/api/products/{p['id']}/stock/add", data=chunks())
    assert_error(r, 413, "PAYLOAD_TOO_LARGE")
    assert server.get(f"/api/products/{p['id']}/inventory").json()["data"]["quantity"] == 0


def test_request_id_echoed_and_logged(server):
    r = server.get("/api/products", headers={"X-Request-ID": "trace-abc-123"})
    assert r.headers["X-Request-ID"] == "trace-abc-123"
    line = server.wait_log(lambda e: e.get("request_id") == "trace-abc-123")
    assert line["target"] == "access"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/products", 200)
    assert isinstance(line["duration_us"], int)
    generated = server.get("/health").headers["X-Request-ID"]
    assert generated and generated != "trace-abc-123"
    server.wait_log(lambda e: e.get("request_id") == generated and e.get("path") == "/health")
    # An unprintable id is replaced, not echoed.
    r = server.get("/health", headers={"X-Request-ID": "x" * 200})
    assert r.headers["X-Request-ID"] != "x" * 200


def test_health_and_openapi(server):
    r = server.get("/health")
    assert r.status_code == 200 and r.json()["data"]["status"] == "ok"
    doc = server.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert "/api/products/{id}/stock/reserve" in doc["paths"]


def test_health_503_when_database_is_gone(start, tmp_path):
    db_dir = tmp_path / "dbdir"
    db_dir.mkdir()
    server = start("--db", str(db_dir / "inv.db"))
    assert server.get("/health").status_code == 200
    # Overwrite the database and its WAL index in place: the open connections now read garbage.
    for suffix in ("", "-wal", "-shm"):
        path = db_dir / ("inv.db" + suffix)
        if path.exists():
            with open(path, "r+b") as f:
                f.write(b"\xff" * path.stat().st_size)
    statuses = {server.get("/health").status_code for _ in range(20)}
    assert 503 in statuses, statuses


def test_keep_alive_and_raw_http(server):
    with socket.create_connection((server.host, server.port)) as s:
        for _ in range(3):
            s.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                data += s.recv(4096)
            head, rest = data.split(b"\r\n\r\n", 1)
            length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
            while len(rest) < length:
                rest += s.recv(4096)
            assert head.startswith(b"HTTP/1.1 200")


def test_help_lists_every_flag():
    """The README's configuration table against the real binary's --help. (A Rust unit test,
    config::tests::help_and_readme_list_every_flag, holds that table to the parser itself.)"""
    import pathlib
    import subprocess
    from conftest import BIN
    readme = (pathlib.Path(__file__).parents[2] / "inventory-server" / "README.md").read_text()
    rows = re.findall(r"^\| `(--[a-z-]+)` \| `([A-Z_]+)` \|", readme, re.M)
    assert len(rows) >= 11, rows
    out = subprocess.run([BIN, "--help"], capture_output=True, text=True, check=True).stdout
    for flag, env in rows:
        assert flag in out, flag
        assert env in out, env
    assert "DATABASE_URL" in out


def test_env_config_and_database_url(tmp_path):
    import json, os, queue, subprocess, threading, time
    from conftest import BIN
    env = dict(os.environ, DATABASE_URL=f"sqlite:{tmp_path}/seed.db", INVENTORY_ADDR="127.0.0.1:0",
               INVENTORY_WORKERS="3")
    env.pop("INVENTORY_DB", None)
    proc = subprocess.Popen([BIN], stdout=subprocess.PIPE, text=True, env=env, cwd=str(tmp_path))
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    listening = None
    try:
        deadline = time.monotonic() + 30
        while listening is None and time.monotonic() < deadline:
            try:
                entry = json.loads(lines.get(timeout=0.2))
            except queue.Empty:
                if proc.poll() is not None:
                    break
                continue
            if entry.get("message") == "listening":
                listening = entry
        assert listening is not None, "the server never logged its listening line"
        assert listening["db"] == f"{tmp_path}/seed.db"
        assert listening["workers"] == 3
        r = requests.get(f"http://{listening['addr']}/health", timeout=5)
        assert r.status_code == 200
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
    assert (tmp_path / "seed.db").exists()


def test_text_log_format(start):
    server = start("--log-format", "text")
    server.get("/health", headers={"X-Request-ID": "text-rid"})
    line = server.wait_log(lambda e: "text-rid" in e.get("raw", ""))
    raw = line["raw"]
    assert "status=200" in raw and ('path="/health"' in raw or "path=/health" in raw), raw


def test_a_receipt_carries_its_external_id_into_the_ledger_and_the_feed(server):
    p = new_product(server)["product"]
    r = server.post(f"/api/products/{p['id']}/stock/add",
                    {"quantity": 3, "reference": "PO-7", "external_id": "ERP-REC-7"})
    assert r.status_code == 200, r.text
    moves = server.get(f"/api/products/{p['id']}/transactions").json()["data"]
    assert [(m["type"], m["external_id"]) for m in moves] == [("IN", "ERP-REC-7")]
    feed = server.get("/api/events?after=0&limit=1000").json()["data"]["movements"]
    assert [m["external_id"] for m in feed if m["product_id"] == p["id"]] == ["ERP-REC-7"]
    # Only a receipt takes it, in a single operation or a batch item.
    assert_error(server.post(f"/api/products/{p['id']}/stock/remove",
                             {"quantity": 1, "external_id": "X"}), 400, "VALIDATION_ERROR", "external_id")
    assert_error(server.post("/api/stock/batch", {"operations": [
        {"product_id": p["id"], "op": "reserve", "quantity": 1, "external_id": "X"}]}),
        400, "VALIDATION_ERROR", "operations[0].external_id")
    assert_error(server.post(f"/api/products/{p['id']}/stock/add",
                             {"quantity": 1, "external_id": "x" * 256}), 400, "VALIDATION_ERROR", "external_id")
