"""API keys over HTTP: `--auth`, every scope against every class of route, revocation, keys made
by the operator's command line while the server runs, location-limited keys, the actor on
movements, `/api/keys`, rate limits, and secrets kept out of the log."""

import json
import os
import re
import subprocess
import time

import requests

from conftest import BIN, assert_error, wait_until
from test_events import Sse

SECRET = re.compile(r"^inv_[0-9a-f]{64}$")


def keys_cli(server, *args, check=0):
    """`inventory-server keys ARGS --db <the server's database>`: stdout."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "INVENTORY_DB")}
    proc = subprocess.run([BIN, "keys", *args, "--db", server.db], capture_output=True,
                          text=True, env=env, timeout=60)
    assert proc.returncode == check, (proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout


def bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


_sku = [0]


def product(server, secret, **fields):
    """A product made with the key `secret`: the created data."""
    _sku[0] += 1
    body = {"name": f"Product {_sku[0]}", "sku": f"AUTH-{os.getpid()}-{_sku[0]}", "price": 9.99, **fields}
    r = server.post("/api/products", body, headers=bearer(secret))
    assert r.status_code == 201, r.text
    return r.json()["data"]


def make_key(server, admin, name, scope, locations=None):
    """A key made over HTTP with the admin key: its secret."""
    body = {"name": name, "scope": scope}
    if locations is not None:
        body["locations"] = locations
    r = server.post("/api/keys", body, headers=bearer(admin))
    assert r.status_code == 201, r.text
    return r.json()["data"]["secret"]


def secured(start, *args):
    """A server requiring keys, with an admin key made by the command line: (server, secret)."""
    server = start("--auth", "required", *args)
    admin = keys_cli(server, "create", "--name", "ops", "--scope", "admin").strip()
    assert SECRET.match(admin), admin
    return server, admin


def assert_refused(r, status):
    code = {401: "UNAUTHORIZED", 403: "FORBIDDEN"}[status]
    assert_error(r, status, code)
    if status == 401:
        assert r.headers["WWW-Authenticate"].startswith("Bearer"), r.headers


def test_every_scope_against_every_class_of_route(start):
    server, admin = secured(start)
    secrets = {
        "admin": admin,
        "write": make_key(server, admin, "writer", "write"),
        "read": make_key(server, admin, "reader", "read"),
    }
    pid = product(server, admin, initial_quantity=50, location="Main")["product"]["id"]
    n = [0]

    def fresh():
        n[0] += 1
        return product(server, admin, initial_quantity=1)["product"]["id"]

    def unique(prefix):
        n[0] += 1
        return f"{prefix}-{n[0]}"

    # (class, method, path or a function giving one, body or a function giving one, status when
    # allowed)
    routes = [
        ("open", "GET", "/health", None, 200),
        ("open", "GET", "/", None, 200),
        ("open", "GET", "/dashboard/app.js", None, 200),
        ("open", "OPTIONS", f"/api/products/{pid}", None, 204),
        ("read", "GET", "/openapi.json", None, 200),
        ("read", "GET", "/metrics", None, 200),
        ("read", "GET", "/ready", None, 200),
        ("read", "GET", "/api/products", None, 200),
        ("read", "HEAD", "/api/products", None, 200),
        ("read", "GET", f"/api/products/{pid}", None, 200),
        ("read", "GET", f"/api/products/{pid}/inventory", None, 200),
        ("read", "GET", f"/api/products/{pid}/transactions", None, 200),
        ("read", "GET", f"/api/products/{pid}/reservations", None, 200),
        ("read", "GET", "/api/locations", None, 200),
        ("read", "GET", "/api/reservations?reference=x", None, 200),
        ("read", "GET", "/api/reservations/expiring?within=60", None, 200),
        ("read", "GET", "/api/events", None, 200),
        ("write", "POST", "/api/products",
         lambda: {"name": "P", "sku": unique("SKU-W"), "price": 1}, 201),
        ("write", "PUT", f"/api/products/{pid}", {"name": "Renamed"}, 200),
        ("write", "DELETE", lambda: f"/api/products/{fresh()}", None, 200),
        ("write", "POST", f"/api/products/{pid}/stock/add", {"quantity": 1}, 200),
        ("write", "POST", f"/api/products/{pid}/stock/remove", {"quantity": 1}, 200),
        ("write", "POST", f"/api/products/{pid}/stock/reserve", {"quantity": 1, "reference": "R"}, 200),
        ("write", "POST", f"/api/products/{pid}/stock/unreserve", {"reference": "R"}, 200),
        ("write", "POST", f"/api/products/{pid}/stock/count", {"counted": 40}, 200),
        ("write", "POST", f"/api/products/{pid}/stock/transfer", {"quantity": 1, "to_location": "Back"}, 200),
        ("write", "POST", "/api/stock/batch",
         {"operations": [{"product_id": pid, "op": "add", "quantity": 1}]}, 200),
        ("write", "POST", "/api/locations", lambda: {"name": unique("Loc")}, 201),
        ("admin", "GET", "/api/keys", None, 200),
        ("admin", "POST", "/api/keys", lambda: {"name": unique("k"), "scope": "read"}, 201),
        ("admin", "DELETE", lambda: f"/api/keys/{made_key()}", None, 200),
    ]

    def made_key():
        name = unique("doomed")
        make_key(server, admin, name, "read")
        return name

    rank = {"open": 0, "read": 1, "write": 2, "admin": 3}
    callers = {"none": None, "bad": "inv_" + "0" * 64, "malformed": "Basic b3BzOm9wcw==",
               **secrets}
    for caller, secret in callers.items():
        for cls, method, path, body, ok in routes:
            path = path() if callable(path) else path
            body = body() if callable(body) else body
            headers = {}
            if secret is not None:
                headers["Authorization"] = secret if secret.startswith("Basic") else f"Bearer {secret}"
            r = requests.request(method, server.url + path, json=body, headers=headers, timeout=10)
            what = (caller, method, path, r.status_code, r.text[:200])
            if cls == "open":
                assert r.status_code == ok, what
            elif caller in ("none", "bad", "malformed"):
                assert r.status_code == 401, what
                if method != "HEAD":
                    assert_refused(r, 401)
                challenge = r.headers["WWW-Authenticate"]
                assert challenge == ("Bearer" if caller == "none" else 'Bearer error="invalid_token"'), what
            elif rank[caller] >= rank[cls]:
                assert r.status_code == ok, what
            else:
                assert r.status_code == 403, what
                if method != "HEAD":
                    body = assert_refused(r, 403)
                    assert cls in r.json()["message"] and caller in r.json()["message"], what


def test_a_revoked_key_is_refused_at_once(start):
    server, admin = secured(start)
    secret = make_key(server, admin, "temp", "write")
    assert server.get("/api/products", headers=bearer(secret)).status_code == 200
    r = server.delete("/api/keys/temp", headers=bearer(admin))
    assert r.status_code == 200, r.text
    assert r.json()["data"]["revoked_at"] is not None
    r = server.get("/api/products", headers=bearer(secret))
    assert_refused(r, 401)
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    # The name is free again; the old secret stays refused.
    again = make_key(server, admin, "temp", "read")
    assert server.get("/api/products", headers=bearer(again)).status_code == 200
    assert_refused(server.get("/api/products", headers=bearer(secret)), 401)


def test_keys_made_and_revoked_by_the_command_line_count_within_a_second(start):
    server, admin = secured(start)
    # The server has read its key list (and caches it).
    assert server.get("/api/products", headers=bearer(admin)).status_code == 200
    secret = keys_cli(server, "create", "--name", "late", "--scope", "read").strip()
    wait_until(lambda: server.get("/api/products", headers=bearer(secret)).status_code == 200,
               "a new key accepted within a second", timeout=1.0)
    assert keys_cli(server, "revoke", "late") == "revoked late\n"
    wait_until(lambda: server.get("/api/products", headers=bearer(secret)).status_code == 401,
               "a revoked key refused within a second", timeout=1.0)


def levels_of(server, admin, pid):
    summary = server.get(f"/api/products/{pid}/inventory", headers=bearer(admin)).json()["data"]
    return {l["location"]: (l["on_hand"], l["reserved"]) for l in summary["locations"]}


def test_a_location_limited_key(start):
    server, admin = secured(start)
    till = make_key(server, admin, "till-3", "write", ["Shop"])
    auth = bearer(till)
    pid = product(server, admin, location="Warehouse", initial_quantity=20)["product"]["id"]
    r = server.post(f"/api/products/{pid}/stock/transfer",
                    {"from_location": "Warehouse", "to_location": "Shop", "quantity": 10},
                    headers=bearer(admin))
    assert r.status_code == 200, r.text
    stock = f"/api/products/{pid}/stock"

    # Allowed at its own location.
    for op, body in [
        ("add", {"quantity": 2}),
        ("remove", {"quantity": 1}),
        ("reserve", {"quantity": 3, "reference": "T-1"}),
        ("unreserve", {"quantity": 1, "reference": "T-1"}),
        ("commit", {"quantity": 1, "reference": "T-1"}),
        ("count", {"counted": 8}),
    ]:
        r = server.post(f"{stock}/{op}", {**body, "location": "Shop"}, headers=auth)
        assert r.status_code == 200, (op, r.text)
    assert levels_of(server, admin, pid) == {"Warehouse": (10, 0), "Shop": (8, 1)}

    # Refused elsewhere, and at the product's own location when none is named.
    for op, body in [
        ("add", {"quantity": 2}),
        ("remove", {"quantity": 1}),
        ("reserve", {"quantity": 1, "reference": "T-2"}),
        ("unreserve", {"quantity": 1, "reference": "T-2"}),
        ("commit", {"quantity": 1, "reference": "T-2"}),
        ("count", {"counted": 3}),
    ]:
        for where in ({"location": "Warehouse"}, {}):
            r = server.post(f"{stock}/{op}", {**body, **where}, headers=auth)
            e = assert_error(r, 403, "FORBIDDEN", "location")
            assert "Warehouse" in e["message"], e
    # Transfers: both ends must be its own.
    r = server.post(f"{stock}/transfer", {"from_location": "Shop", "to_location": "Warehouse", "quantity": 1}, headers=auth)
    assert_error(r, 403, "FORBIDDEN", "to_location")
    r = server.post(f"{stock}/transfer", {"from_location": "Warehouse", "to_location": "Shop", "quantity": 1}, headers=auth)
    assert_error(r, 403, "FORBIDDEN", "from_location")
    # The catalogue is shared: no new product, even one at its own location without stock
    # (test_location_keys.py has the rest of the catalogue and the reads).
    for where in ({"location": "Warehouse", "initial_quantity": 5}, {"location": "Shop"}):
        r = server.post("/api/products", {"name": "N", "sku": "TILL-NEW", "price": 1, **where}, headers=auth)
        assert "without a location limit" in assert_error(r, 403, "FORBIDDEN")["message"]

    # A batch with one operation out of bounds is refused whole: nothing applied.
    before = server.get(f"/api/products/{pid}/transactions?limit=100", headers=bearer(admin)).json()["data"]
    r = server.post("/api/stock/batch", {"operations": [
        {"product_id": pid, "op": "add", "quantity": 5, "location": "Shop"},
        {"product_id": pid, "op": "remove", "quantity": 1, "location": "Warehouse"},
    ]}, headers=auth)
    e = assert_error(r, 403, "FORBIDDEN", "operations[1].location")
    assert e["index"] == 1, e
    after = server.get(f"/api/products/{pid}/transactions?limit=100", headers=bearer(admin)).json()["data"]
    assert after == before
    assert levels_of(server, admin, pid) == {"Warehouse": (10, 0), "Shop": (8, 1)}
    # The same batch within bounds applies.
    r = server.post("/api/stock/batch", {"operations": [
        {"product_id": pid, "op": "add", "quantity": 5, "location": "Shop"},
        {"product_id": pid, "op": "remove", "quantity": 1, "location": "Shop"},
    ]}, headers=auth)
    assert r.status_code == 200, r.text
    assert levels_of(server, admin, pid) == {"Warehouse": (10, 0), "Shop": (12, 1)}


def test_movements_name_the_key_that_made_them(start):
    server, admin = secured(start)
    clerk = make_key(server, admin, "clerk-7", "write")
    pid = product(server, admin, initial_quantity=3)["product"]["id"]
    stream = Sse(server, headers=bearer(clerk))
    try:
        assert server.post(f"/api/products/{pid}/stock/add", {"quantity": 2}, headers=bearer(clerk)).status_code == 200
        r = server.post(f"/api/products/{pid}/stock/reserve", {"quantity": 1}, headers={
            **bearer(clerk), "Idempotency-Key": "k-1"})
        assert r.status_code == 200, r.text
        txs = server.get(f"/api/products/{pid}/transactions", headers=bearer(clerk)).json()["data"]
        assert [(t["type"], t["actor"]) for t in txs] == [
            ("RESERVE", "clerk-7"), ("IN", "clerk-7"), ("IN", "ops")]
        page = server.get("/api/events?after=0", headers=bearer(clerk)).json()["data"]["movements"]
        assert [m["actor"] for m in page] == ["ops", "clerk-7", "clerk-7"]
        streamed = [json.loads(stream.next_event()["data"])["actor"] for _ in range(3)]
        assert streamed == ["ops", "clerk-7", "clerk-7"]
    finally:
        stream.close()
    # And in the operator's export of the ledger.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "INVENTORY_DB")}
    exported = subprocess.run([BIN, "export", "movements", "--db", server.db, "--format", "jsonl"],
                              capture_output=True, text=True, env=env, check=True, timeout=60)
    assert [json.loads(l)["actor"] for l in exported.stdout.splitlines()] == ["ops", "clerk-7", "clerk-7"]


def test_with_auth_off_the_header_is_not_read_and_nobody_is_named(start):
    server = start("--auth", "off")
    p = product(server, "inv_" + "1" * 64, initial_quantity=1)["product"]
    r = server.post(f"/api/products/{p['id']}/stock/add", {"quantity": 1}, headers={"Authorization": "Basic x"})
    assert r.status_code == 200, r.text
    txs = server.get(f"/api/products/{p['id']}/transactions").json()["data"]
    assert [t["actor"] for t in txs] == [None, None]
    line = server.wait_log(lambda e: e.get("message") == "listening")
    assert line["auth"] == "off"
    access = [e for e in server.lines if e.get("target") == "access"]
    assert access and all("key" not in e for e in access), access


def test_event_streams_need_a_key_and_end_when_it_is_revoked(start):
    server, admin = secured(start)
    r = requests.get(server.url + "/api/events", headers={"Accept": "text/event-stream"}, timeout=10)
    assert_refused(r, 401)
    reader = make_key(server, admin, "screen", "read")
    stream = Sse(server, headers=bearer(reader))
    try:
        pid = product(server, admin, initial_quantity=1)["product"]["id"]
        assert json.loads(stream.next_event()["data"])["product_id"] == pid
        assert server.delete("/api/keys/screen", headers=bearer(admin)).status_code == 200
        revoked = time.monotonic()
        ended = False
        try:
            for _ in stream.lines:
                pass
            ended = True
        except requests.exceptions.RequestException:
            ended = True
        assert ended and time.monotonic() - revoked < 2.0
    finally:
        stream.close()
    done = server.wait_log(lambda e: e.get("target") == "access" and e.get("path") == "/api/events"
                           and e.get("key") == "screen")
    assert done["status"] == 200


def test_key_management_routes(start):
    server, admin = secured(start)
    auth = bearer(admin)
    r = server.post("/api/keys", {"name": "till 3/a", "scope": "write", "locations": ["Shop", "Back"]}, headers=auth)
    assert r.status_code == 201, r.text
    created = r.json()["data"]
    assert set(created) == {"name", "scope", "locations", "created_at", "revoked_at", "secret"}
    assert (created["name"], created["scope"], created["locations"], created["revoked_at"]) == (
        "till 3/a", "write", ["Shop", "Back"], None)
    assert SECRET.match(created["secret"])

    listed = server.get("/api/keys", headers=auth)
    assert listed.status_code == 200
    assert created["secret"] not in listed.text and admin not in listed.text
    keys = {k["name"]: k for k in listed.json()["data"]}
    assert set(keys) == {"ops", "till 3/a"}
    assert all("secret" not in k for k in keys.values())
    assert keys["ops"]["locations"] is None and keys["ops"]["scope"] == "admin"

    # Strict bodies, as everywhere.
    assert_error(server.post("/api/keys", {"name": "x", "scope": "read", "role": 1}, headers=auth),
                 400, "VALIDATION_ERROR", "role")
    assert_error(server.post("/api/keys", {"name": "x", "scope": "owner"}, headers=auth),
                 400, "VALIDATION_ERROR", "scope")
    assert_error(server.post("/api/keys", {"scope": "read"}, headers=auth), 400, "VALIDATION_ERROR", "name")
    assert_error(server.post("/api/keys", {"name": "x", "scope": "read", "locations": []}, headers=auth),
                 400, "VALIDATION_ERROR", "locations")
    assert_error(server.post("/api/keys", {"name": " ", "scope": "read"}, headers=auth),
                 400, "VALIDATION_ERROR", "name")
    assert_error(server.post("/api/keys", {"name": "ops", "scope": "read"}, headers=auth), 409, "CONFLICT", "name")
    # No Idempotency-Key: a replay could not show the secret again.
    r = server.post("/api/keys", {"name": "y", "scope": "read"}, headers={**auth, "Idempotency-Key": "a"})
    assert_error(r, 400, "VALIDATION_ERROR", "Idempotency-Key")
    r = server.delete("/api/keys/ops", headers={**auth, "Idempotency-Key": "a"})
    assert_error(r, 400, "VALIDATION_ERROR", "Idempotency-Key")

    # Revoking by a percent-encoded name; a second time is 404.
    r = server.delete("/api/keys/till%203%2Fa", headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["name"] == "till 3/a" and r.json()["data"]["revoked_at"]
    assert_error(server.delete("/api/keys/till%203%2Fa", headers=auth), 404, "NOT_FOUND")
    assert_refused(server.get("/api/products", headers=bearer(created["secret"])), 401)
    keys = {k["name"]: k for k in server.get("/api/keys", headers=auth).json()["data"]}
    assert keys["till 3/a"]["revoked_at"] is not None


def test_rate_limits_per_key_and_per_address(start):
    server, admin = secured(start, "--rate-limit", "2")
    other = keys_cli(server, "create", "--name", "other", "--scope", "read").strip()
    # Bursts of up to twice the rate, then 429 with Retry-After.
    statuses = [server.get("/api/products", headers=bearer(admin)).status_code for _ in range(8)]
    assert statuses[:4] == [200] * 4 and 429 in statuses[4:], statuses
    r = server.get("/api/products", headers=bearer(admin))
    e = assert_error(r, 429, "RATE_LIMITED")
    assert int(r.headers["Retry-After"]) >= 1
    assert "2 requests per second" in e["message"]
    # Another key is not affected.
    for _ in range(3):
        assert server.get("/api/products", headers=bearer(other)).status_code == 200
    # Clients without a key are limited by address, 401s and open routes included.
    anonymous = [server.get("/health").status_code for _ in range(4)]
    anonymous += [server.get("/api/products").status_code for _ in range(4)]
    assert 429 in anonymous and set(anonymous) <= {200, 401, 429}, anonymous
    r = server.get("/api/products", headers=bearer("inv_" + "2" * 64))
    assert_error(r, 429, "RATE_LIMITED")
    assert "this address" in r.json()["message"]
    # The key may go on after waiting as told.
    time.sleep(int(r.headers["Retry-After"]))
    assert server.get("/api/products", headers=bearer(admin)).status_code == 200


def test_no_secret_in_the_log(start):
    server, admin = secured(start)
    writer = make_key(server, admin, "writer", "write")
    doomed = make_key(server, admin, "doomed", "read")
    guess = admin[:-4] + ("0000" if not admin.endswith("0000") else "1111")
    pid = product(server, writer, initial_quantity=2)["product"]["id"]
    server.post(f"/api/products/{pid}/stock/add", {"quantity": 1}, headers=bearer(writer))
    server.post(f"/api/products/{pid}/stock/add", {"quantity": 1}, headers=bearer(doomed))  # 403
    server.get("/api/products", headers=bearer(guess))  # 401
    server.get("/api/products", headers={"Authorization": f"Token {writer}"})  # 401, malformed
    server.delete("/api/keys/doomed", headers=bearer(admin))
    server.get("/api/products", headers=bearer(doomed))  # 401, revoked
    stream = Sse(server, headers=bearer(writer))
    stream.next_event()
    stream.close()
    assert server.stop() == 0
    log = "".join(e.get("raw") or json.dumps(e) for e in server.lines)
    for secret in (admin, writer, doomed, guess):
        assert secret[4:] not in log, secret
    access = [e for e in server.lines if e.get("target") == "access"]
    assert {e.get("key") for e in access} >= {"ops", "writer", "doomed", None}


def test_auth_auto_follows_the_listening_address(start):
    loopback = start()
    assert loopback.wait_log(lambda e: e.get("message") == "listening")["auth"] == "off"
    assert loopback.get("/api/products").status_code == 200
    loopback.stop()

    everywhere = start(addr="0.0.0.0:0")
    assert everywhere.wait_log(lambda e: e.get("message") == "listening")["auth"] == "required"
    assert_refused(everywhere.get("/api/products"), 401)
    assert everywhere.get("/health").status_code == 200
    # Keys required and none made yet: the log says how to make one.
    warning = everywhere.wait_log(lambda e: e.get("level") == "WARN" and "keys create" in e.get("message", ""))
    assert "none exists" in warning["message"]
    everywhere.stop()

    off = start("--auth", "off", addr="0.0.0.0:0")
    warning = off.wait_log(lambda e: e.get("level") == "WARN" and "authentication is off" in e.get("message", ""))
    assert warning["addr"].startswith("0.0.0.0:")
    assert off.get("/api/products").status_code == 200
    # On loopback, off is what auto means: no warning there.
    quiet = start("--auth", "off")
    quiet.stop()
    assert not [e for e in quiet.lines if "authentication is off" in e.get("message", "")]
