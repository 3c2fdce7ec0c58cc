"""Issue 12, HTTP semantics (RFC 9110) and strict JSON: HEAD, OPTIONS, conditional requests,
bodies that are JSON objects with unique keys."""

import requests

from conftest import assert_error, new_product


def test_head_on_every_get_route(server):
    pid = new_product(server, initial_quantity=3)["product"]["id"]
    for path in ("/health", "/ready", "/openapi.json", "/api/products", f"/api/products/{pid}",
                 f"/api/products/{pid}/inventory", f"/api/products/{pid}/transactions",
                 f"/api/products/{pid}/reservations", "/api/locations",
                 "/api/reservations?reference=R", "/api/events"):
        get = server.get(path)
        head = server.http.head(server.url + path, timeout=10)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b"", path
        assert head.headers["Content-Length"] == str(len(get.content)), path
        assert head.headers["Content-Type"] == get.headers["Content-Type"], path
        assert head.headers.get("ETag") == get.headers.get("ETag"), path
    # Same status as GET for a missing product too.
    assert server.http.head(server.url + "/api/products/" + "0" * 32, timeout=10).status_code == 404


def test_options_answers_204_with_allow(server):
    r = server.http.options(server.url + "/api/products/x", timeout=10)
    assert r.status_code == 204 and r.content == b""
    assert r.headers["Allow"] == "GET, PUT, DELETE, HEAD, OPTIONS"
    r = server.http.options(server.url + "/api/stock/batch", timeout=10)
    assert r.status_code == 204 and r.headers["Allow"] == "POST, OPTIONS"
    assert server.http.options(server.url + "/nowhere", timeout=10).status_code == 404


def test_if_match_lists_star_and_strong_comparison(server):
    pid = new_product(server)["product"]["id"]
    url = f"/api/products/{pid}"
    # "stale-0" names no version: the precondition fails (412), it is not a malformed request.
    body = assert_error(server.put(url, {"name": "a"}, headers={"If-Match": '"stale-0"'}), 412, "CONFLICT")
    assert body["field"] == "If-Match"
    # A list matches when any strong tag is current.
    r = server.put(url, {"name": "b"}, headers={"If-Match": '"7", "1"'})
    assert r.status_code == 200 and r.headers["ETag"] == '"2"', r.text
    assert_error(server.put(url, {"name": "c"}, headers={"If-Match": '"1", W/"2"'}), 412, "CONFLICT")
    r = server.put(url, {"name": "d"}, headers={"If-Match": "*"})
    assert r.status_code == 200 and r.headers["ETag"] == '"3"'
    assert server.get(url).json()["data"]["product"]["name"] == "d"
    # A keyed conditional write that is retried after it succeeded replays, not 412.
    h = {"If-Match": '"3"', "Idempotency-Key": "cond-1"}
    first = server.put(url, {"name": "e"}, headers=h)
    again = server.put(url, {"name": "e"}, headers=h)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["data"] == first.json()["data"]
    # A new key with the stale tag is refused.
    assert_error(server.put(url, {"name": "f"}, headers={"If-Match": '"3"', "Idempotency-Key": "cond-2"}),
                 412, "CONFLICT")
    # On a missing product the answer is 404 whatever the condition.
    missing = "/api/products/00000000-0000-7000-8000-000000000000"
    assert_error(server.put(missing, {"name": "x"}, headers={"If-Match": '"1"'}), 404, "NOT_FOUND")


def test_if_none_match_gives_304_with_the_etag(server):
    pid = new_product(server)["product"]["id"]
    url = f"/api/products/{pid}"
    etag = server.get(url).headers["ETag"]
    r = server.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""
    assert r.headers["ETag"] == etag
    r = server.get(url, headers={"If-None-Match": f'"999", W/{etag}'})
    assert r.status_code == 304
    server.put(url, {"name": "changed"})
    r = server.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.headers["ETag"] != etag
    r = server.http.head(server.url + url, headers={"If-None-Match": r.headers["ETag"]}, timeout=10)
    assert r.status_code == 304


def test_bodies_must_be_json_objects(server):
    r = server.post("/api/products", ["Positional", "POS-1", 2.5])
    assert_error(r, 400, "VALIDATION_ERROR", "body")
    pid = new_product(server)["product"]["id"]
    assert_error(server.put(f"/api/products/{pid}", ["x"]), 400, "VALIDATION_ERROR", "body")
    assert server.get(f"/api/products/{pid}").json()["data"]["product"]["name"] != "x"
    assert_error(server.post(f"/api/products/{pid}/stock/add", [1]), 400, "VALIDATION_ERROR", "body")
    assert_error(server.post("/api/locations", "Shelf"), 400, "VALIDATION_ERROR", "body")


def test_duplicate_keys_are_400_on_every_route(server):
    pid = new_product(server, initial_quantity=5)["product"]["id"]

    def raw(method, path, text):
        return server.http.request(method, server.url + path, data=text,
                                   headers={"Content-Type": "application/json"}, timeout=10)

    cases = [
        ("POST", "/api/products", '{"name":"A","name":"B","sku":"DUP-1","price":1}', "name"),
        ("PUT", f"/api/products/{pid}", '{"name":"A","name":"B"}', "name"),
        ("POST", f"/api/products/{pid}/stock/add", '{"quantity":1,"quantity":1000}', "quantity"),
        ("POST", f"/api/products/{pid}/stock/reserve", '{"quantity":1,"reference":"a","reference":"b"}',
         "reference"),
        ("POST", "/api/locations", '{"name":"X","name":"Y"}', "name"),
        ("POST", "/api/stock/batch",
         '{"operations":[{"product_id":"%s","op":"add","quantity":1,"quantity":9}]}' % pid,
         "operations[0].quantity"),
    ]
    for method, path, text, field in cases:
        assert_error(raw(method, path, text), 400, "VALIDATION_ERROR", field)
    inv = server.get(f"/api/products/{pid}/inventory").json()["data"]
    assert (inv["quantity"], inv["reserved"]) == (5, 0)
    names = [loc["name"] for loc in requests.get(server.url + "/api/locations", timeout=10).json()["data"]]
    assert "X" not in names and "Y" not in names, names


def test_an_update_that_changes_nothing_keeps_the_version(server):
    """`PUT {}` (or the values the product already has) is a no-op: 200, nothing written, and
    the ETag does not move, so a client's If-Match stays current."""
    created = new_product(server, name="Same", price="1.50")
    pid = created["product"]["id"]
    url = f"/api/products/{pid}"
    etag = server.get(url).headers["ETag"]
    for body in ({}, {"name": "Same"}, {"price": "1.50"}):
        r = server.put(url, body)
        assert r.status_code == 200, r.text
        assert r.headers["ETag"] == etag, body
        assert r.json()["data"]["version"] == 1
    # A change of scale is a change: 1.5 is written differently from 1.50.
    r = server.put(url, {"price": "1.5"}, headers={"If-Match": etag})
    assert r.status_code == 200 and r.headers["ETag"] != etag
