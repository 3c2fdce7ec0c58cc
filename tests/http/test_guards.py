"""The browser guards against what a probe got past them (issue 30): an absolute-form request
target naming another host while `Host` says 127.0.0.1, and a cross-site write that carries the
Fetch Metadata header but no `Origin`."""

from conftest import new_product, raw_exchange, statuses


def exchange(server, head, body=b""):
    data, _ = raw_exchange(server, head + b"Connection: close\r\n\r\n" + body)
    return data


def test_an_absolute_form_target_is_held_to_the_host_guard(start):
    server = start("--allowed-host", "inventory.test")
    local = b"Host: 127.0.0.1:%d\r\n" % server.port
    for target, expected in (
        (b"http://evil.example/api/products", 403),
        (b"http://evil.example:%d/api/products" % server.port, 403),
        (b"http://127.0.0.1.evil.example/api/products", 403),
        (b"http://127.0.0.1:%d/api/products" % server.port, 200),
        (b"http://localhost:%d/api/products" % server.port, 200),
        (b"http://inventory.test/api/products", 200),
    ):
        data = exchange(server, b"GET " + target + b" HTTP/1.1\r\n" + local)
        assert statuses(data) == [expected], (target, data)
        if expected == 403:
            assert b"the request target's host" in data, data
    # Nor can a write go through that way.
    data = exchange(
        server,
        b"POST http://evil.example/api/locations HTTP/1.1\r\n" + local + b"Content-Length: 12\r\n",
        b'{"name":"R"}',
    )
    assert statuses(data) == [403], data
    assert "R" not in [loc["name"] for loc in server.get("/api/locations").json()["data"]]


def test_a_cross_site_write_without_origin_is_refused(start):
    server = start("--cors-origin", "https://shop.example")
    pid = new_product(server, initial_quantity=5)["product"]["id"]
    body = b'{"quantity":1}'
    head = (
        b"POST /api/products/%s/stock/remove HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
        b"Content-Type: text/plain\r\nContent-Length: %d\r\n" % (pid.encode(), server.port, len(body))
    )
    data = exchange(server, head + b"Sec-Fetch-Site: cross-site\r\n", body)
    assert statuses(data) == [403], data
    assert b"FORBIDDEN" in data and b"Sec-Fetch-Site" in data
    assert server.get(f"/api/products/{pid}/inventory").json()["data"]["quantity"] == 5
    # Same-origin and same-site metadata, none at all, or an allowed origin's page: applied.
    for extra in (
        b"Sec-Fetch-Site: same-origin\r\n",
        b"Sec-Fetch-Site: same-site\r\n",
        b"",
        b"Sec-Fetch-Site: cross-site\r\nOrigin: https://shop.example\r\n",
    ):
        data = exchange(server, head + extra, body)
        assert statuses(data) == [200], (extra, data)
    assert server.get(f"/api/products/{pid}/inventory").json()["data"]["quantity"] == 1
    # Reads are not writes: a cross-site GET is answered (CORS decides who may read it).
    data = exchange(server, b"GET /api/products/%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nSec-Fetch-Site: cross-site\r\n" % (pid.encode(), server.port))
    assert statuses(data) == [200], data
