"""Issue 12, browsers: CORS for the origins given with --cors-origin, the Origin guard against
cross-site writes (CSRF), the Host guard against DNS rebinding, and log lines that collectors
can parse."""

import subprocess

from conftest import BIN, assert_error, new_product, parse_log_line, raw_exchange, statuses

SHOP = "https://shop.example"
EVIL = "https://evil.example"


def test_cors_preflight_and_exposed_headers(start):
    server = start("--cors-origin", SHOP, "--cors-origin", "http://localhost:5173")
    pid = new_product(server, initial_quantity=5)["product"]["id"]
    path = f"/api/products/{pid}/stock/reserve"
    r = server.http.options(server.url + path, timeout=10, headers={
        "Origin": SHOP, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, idempotency-key"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"idempotency-key", "if-match", "authorization", "content-type"} <= allowed
    assert "Origin" in r.headers["Vary"]
    r = server.get(f"/api/products/{pid}", headers={"Origin": "http://localhost:5173"})
    assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    exposed = {h.strip() for h in r.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"ETag", "Idempotent-Replayed", "X-Request-ID"} <= exposed
    # An allowed origin may write.
    r = server.post(path, {"quantity": 1}, headers={"Origin": SHOP})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == SHOP
    # Other origins get no CORS headers, in preflights or answers.
    r = server.http.options(server.url + path, timeout=10,
                            headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in r.headers
    assert "Access-Control-Allow-Origin" not in server.get("/health", headers={"Origin": EVIL}).headers


def test_no_cors_by_default(server):
    r = server.http.options(server.url + "/api/products", timeout=10,
                            headers={"Origin": SHOP, "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204 and "Access-Control-Allow-Origin" not in r.headers


def test_cross_site_writes_are_refused(server):
    pid = new_product(server, initial_quantity=5)["product"]["id"]
    url = f"{server.url}/api/products/{pid}/stock/remove"
    # What a form or fetch() on another site can send without a preflight.
    r = server.http.post(url, data='{"quantity": 5}', timeout=10,
                         headers={"Content-Type": "text/plain", "Origin": EVIL})
    assert_error(r, 403, "FORBIDDEN")
    assert_error(server.delete(f"/api/products/{pid}", headers={"Origin": "null"}), 403, "FORBIDDEN")
    assert server.get(f"/api/products/{pid}/inventory").json()["data"]["quantity"] == 5
    # Reads from any origin and writes from the server's own origin or with no Origin pass.
    assert server.get(f"/api/products/{pid}", headers={"Origin": EVIL}).status_code == 200
    r = server.http.post(url, data='{"quantity": 1}', timeout=10,
                         headers={"Content-Type": "text/plain", "Origin": server.url})
    assert r.status_code == 200, r.text
    assert server.post(f"/api/products/{pid}/stock/remove", {"quantity": 1}).status_code == 200
    assert server.get(f"/api/products/{pid}/inventory").json()["data"]["quantity"] == 3


def test_host_guard_on_loopback(start):
    server = start("--allowed-host", "inventory.test")
    for host, expected in ((b"evil.example", 403), (b"evil.example:%d" % server.port, 403),
                           (b"127.0.0.1.evil.example", 403), (b"localhost:%d" % server.port, 200),
                           (b"127.0.0.1:%d" % server.port, 200), (b"[::1]:%d" % server.port, 200),
                           (b"Inventory.Test:%d" % server.port, 200)):
        data, _ = raw_exchange(server, b"GET /health HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n")
        assert statuses(data) == [expected], (host, data)
    # A rebound name can neither read nor write.
    data, _ = raw_exchange(server, b"POST /api/locations HTTP/1.1\r\nHost: evil.example\r\n"
                           b"Content-Length: 12\r\nConnection: close\r\n\r\n{\"name\":\"R\"}")
    assert statuses(data) == [403], data
    assert "R" not in [loc["name"] for loc in server.get("/api/locations").json()["data"]]


def test_error_log_lines_are_json_with_unique_keys(tmp_path):
    # A startup failure logs one error line; it names the error once, under "error".
    proc = subprocess.run([BIN, "--addr", "127.0.0.1:0", "--db", str(tmp_path / "missing" / "x.db")],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    errors = [parse_log_line(line) for line in proc.stdout.splitlines() if '"ERROR"' in line]
    assert errors, proc.stdout
    assert all(isinstance(e["message"], str) and "error" in e for e in errors), errors


def test_a_5xx_logs_one_valid_error_line(start):
    server = start("--max-streams", "0")
    r = server.get("/api/events", headers={"Accept": "text/event-stream"})
    assert_error(r, 503, "SERVICE_UNAVAILABLE")
    line = server.wait_log(lambda e: e.get("message") == "request failed")
    assert line["request_id"] == r.headers["X-Request-ID"] and "subscribers" in line["error"]
