"""Issue 7 over HTTP: expiring reservations and commit, idempotency keys, ETag/If-Match,
expected values, atomic batches."""

from datetime import datetime, timedelta, timezone

from conftest import assert_error, new_product, wait_until


def poll(predicate, timeout=15):
    return wait_until(predicate, "the reservation state", timeout)


def test_reserve_commit_and_list(server):
    p = new_product(server, location="Warehouse A", initial_quantity=50)["product"]
    pid = p["id"]
    r = server.post(f"/api/products/{pid}/stock/reserve", {"quantity": 10, "reference": "ORDER-456"})
    assert r.status_code == 200
    r = server.post(f"/api/products/{pid}/stock/reserve", {"quantity": 2, "reference": "ORDER-456"})
    assert r.json()["data"]["reserved"] == 12  # same reference adds to the reservation
    res = server.get(f"/api/products/{pid}/reservations").json()["data"]
    assert [(x["reference"], x["quantity"], x["location"]) for x in res] == [("ORDER-456", 12, "Warehouse A")]
    by_ref = server.get("/api/reservations", params={"reference": "ORDER-456"}).json()["data"]
    assert [x["product_id"] for x in by_ref] == [pid]
    assert_error(server.get("/api/reservations"), 400, "VALIDATION_ERROR", "reference")

    r = server.post(f"/api/products/{pid}/stock/commit", {"reference": "ORDER-456", "quantity": 5})
    assert r.status_code == 200, r.text
    assert (r.json()["data"]["quantity"], r.json()["data"]["reserved"]) == (45, 7)
    r = server.post(f"/api/products/{pid}/stock/commit", {"reference": "ORDER-456"})
    assert (r.json()["data"]["quantity"], r.json()["data"]["reserved"]) == (38, 0)
    assert server.get(f"/api/products/{pid}/reservations").json()["data"] == []
    assert_error(server.post(f"/api/products/{pid}/stock/commit", {"reference": "ORDER-456"}),
                 409, "INSUFFICIENT_RESERVED")

    server.post(f"/api/products/{pid}/stock/reserve", {"quantity": 6, "reference": "ORDER-9"})
    r = server.post(f"/api/products/{pid}/stock/commit",
                    {"reference": "ORDER-9", "quantity": 2, "release_remainder": True})
    assert (r.json()["data"]["quantity"], r.json()["data"]["reserved"]) == (36, 0)
    r = server.post(f"/api/products/{pid}/stock/reserve", {"quantity": 3, "reference": "ORDER-10"})
    r = server.post(f"/api/products/{pid}/stock/unreserve", {"reference": "ORDER-10"})
    assert r.status_code == 200 and r.json()["data"]["reserved"] == 0
    types = [t["type"] for t in server.get(f"/api/products/{pid}/transactions?limit=3").json()["data"]]
    assert types == ["UNRESERVE", "RESERVE", "UNRESERVE"]


def test_reservations_expire(start):
    server = start("--sweep-interval-secs", "1")
    p = new_product(server, initial_quantity=10)["product"]
    pid = p["id"]
    r = server.post(f"/api/products/{pid}/stock/reserve",
                    {"quantity": 4, "reference": "CART-1", "expires_in_seconds": 1})
    assert r.status_code == 200 and r.json()["data"]["available"] == 6
    res = server.get(f"/api/products/{pid}/reservations").json()["data"]
    assert res[0]["expires_at"] is not None
    # The sweep releases it without anyone reading the product.
    poll(lambda: any(t["type"] == "EXPIRE" for t in
                     server.get(f"/api/events?after=0").json()["data"]["movements"]))
    assert server.get(f"/api/products/{pid}/inventory").json()["data"]["available"] == 10
    at = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    r = server.post(f"/api/products/{pid}/stock/reserve", {"quantity": 1, "reference": "CART-2", "expires_at": at})
    assert r.status_code == 200, r.text
    assert_error(server.post(f"/api/products/{pid}/stock/reserve",
                             {"quantity": 1, "expires_at": "tomorrow"}), 400, "VALIDATION_ERROR", "expires_at")
    assert_error(server.post(f"/api/products/{pid}/stock/reserve",
                             {"quantity": 1, "expires_in_seconds": 1, "expires_at": at}),
                 400, "VALIDATION_ERROR")
    assert_error(server.post(f"/api/products/{pid}/stock/reserve",
                             {"quantity": 1, "expires_in_seconds": 0}), 400, "VALIDATION_ERROR", "expires_in_seconds")


def test_idempotency_key_replays_first_response(server):
    p = new_product(server, initial_quantity=10)["product"]
    pid = p["id"]
    url = f"/api/products/{pid}/stock/reserve"
    first = server.post(url, {"quantity": 3, "reference": "O-1"}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    again = server.post(url, {"quantity": 3, "reference": "O-1"}, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["data"] == first.json()["data"]
    assert server.get(f"/api/products/{pid}/inventory").json()["data"]["reserved"] == 3
    # Same key, different request: 409 CONFLICT naming the key.
    body = assert_error(server.post(url, {"quantity": 4, "reference": "O-1"}, headers={"Idempotency-Key": "k-1"}),
                        409, "CONFLICT")
    assert body["field"] == "idempotency_key"
    # Creation replays its 201.
    create = {"name": "Idem", "sku": "IDEM-1", "price": "1.00"}
    r1 = server.post("/api/products", create, headers={"Idempotency-Key": "create-1"})
    r2 = server.post("/api/products", create, headers={"Idempotency-Key": "create-1"})
    assert (r1.status_code, r2.status_code) == (201, 201)
    assert r1.json()["data"]["product"]["id"] == r2.json()["data"]["product"]["id"]
    assert r2.headers["Idempotent-Replayed"] == "true"
    # A failed attempt is not stored: the same key may succeed later.
    over = server.post(f"/api/products/{pid}/stock/remove", {"quantity": 11}, headers={"Idempotency-Key": "rm"})
    assert_error(over, 409, "INSUFFICIENT_STOCK")
    server.post(f"/api/products/{pid}/stock/add", {"quantity": 5})
    ok = server.post(f"/api/products/{pid}/stock/remove", {"quantity": 11}, headers={"Idempotency-Key": "rm"})
    assert ok.status_code == 200 and "Idempotent-Replayed" not in ok.headers
    # Keys work on PUT, DELETE, locations and batches too.
    for _ in range(2):
        r = server.put(f"/api/products/{pid}", {"name": "Renamed"}, headers={"Idempotency-Key": "put-1"})
        assert r.status_code == 200
    assert r.json()["data"]["version"] == 2
    for _ in range(2):
        r = server.post("/api/locations", {"name": "Idem Loc"}, headers={"Idempotency-Key": "loc-1"})
        assert r.status_code == 201
    for _ in range(2):
        r = server.post("/api/stock/batch", {"operations": [{"product_id": pid, "op": "add", "quantity": 1}]},
                        headers={"Idempotency-Key": "batch-1"})
        assert r.status_code == 200
    for _ in range(2):
        r = server.delete(f"/api/products/{pid}", headers={"Idempotency-Key": "del-1"})
        assert r.status_code == 200
    assert r.headers["Idempotent-Replayed"] == "true"


def test_etag_and_if_match(server):
    p = new_product(server)["product"]
    pid = p["id"]
    r = server.get(f"/api/products/{pid}")
    etag = r.headers["ETag"]
    assert etag == '"1"'
    r = server.put(f"/api/products/{pid}", {"name": "v2"}, headers={"If-Match": etag})
    assert r.status_code == 200 and r.headers["ETag"] == '"2"'
    assert_error(server.put(f"/api/products/{pid}", {"name": "v3"}, headers={"If-Match": etag}),
                 412, "CONFLICT")
    assert server.get(f"/api/products/{pid}").json()["data"]["product"]["name"] == "v2"
    assert_error(server.delete(f"/api/products/{pid}", headers={"If-Match": '"1"'}), 412, "CONFLICT")
    assert_error(server.put(f"/api/products/{pid}", {"name": "x"}, headers={"If-Match": "garbage"}),
                 400, "VALIDATION_ERROR", "If-Match")
    r = server.put(f"/api/products/{pid}", {"name": "any"}, headers={"If-Match": "*"})
    assert r.status_code == 200
    # If-Match compares strongly (RFC 9110 §13.1.1): a weak tag never matches.
    assert_error(server.delete(f"/api/products/{pid}", headers={"If-Match": 'W/"3"'}), 412, "CONFLICT")
    r = server.delete(f"/api/products/{pid}", headers={"If-Match": '"3"'})
    assert r.status_code == 200


def test_a_stale_expected_value_is_a_conflict_naming_its_field(server):
    p = new_product(server, initial_quantity=10)["product"]
    pid = p["id"]
    body = assert_error(server.post(f"/api/products/{pid}/stock/reserve", {"quantity": 1, "expected_available": 9}),
                        409, "CONFLICT")
    assert body["field"] == "expected_available"
    r = server.post(f"/api/products/{pid}/stock/reserve", {"quantity": 1, "expected_available": 10})
    assert r.status_code == 200
    assert_error(server.post(f"/api/products/{pid}/stock/add", {"quantity": 1, "expected_quantity": 11}),
                 409, "CONFLICT", "expected_quantity")
    assert server.post(f"/api/products/{pid}/stock/add", {"quantity": 1, "expected_quantity": 10}).status_code == 200


def test_batch_all_or_nothing(server):
    a = new_product(server, initial_quantity=5)["product"]["id"]
    b = new_product(server, initial_quantity=1)["product"]["id"]
    ok = {"operations": [
        {"product_id": a, "op": "reserve", "quantity": 2, "reference": "BASKET-1"},
        {"product_id": b, "op": "reserve", "quantity": 1, "reference": "BASKET-1"},
        {"product_id": a, "op": "transfer", "from_location": "default", "to_location": "Shelf", "quantity": 1},
    ]}
    r = server.post("/api/stock/batch", ok)
    assert r.status_code == 200, r.text
    results = r.json()["data"]["results"]
    assert [len(x) for x in results] == [1, 1, 2]
    assert results[0][0]["reserved"] == 2 and results[1][0]["available"] == 0
    before = [server.get(f"/api/products/{x}/inventory").json()["data"] for x in (a, b)]
    seq_before = server.get("/api/events?after=0&limit=1000").json()["data"]["next_after"]
    bad = {"operations": [
        {"product_id": a, "op": "reserve", "quantity": 1, "reference": "BASKET-2"},
        {"product_id": b, "op": "reserve", "quantity": 1, "reference": "BASKET-2"},
    ]}
    body = assert_error(server.post("/api/stock/batch", bad), 409, "INSUFFICIENT_STOCK")
    assert body["index"] == 1
    after = [server.get(f"/api/products/{x}/inventory").json()["data"] for x in (a, b)]
    assert [(x["quantity"], x["reserved"]) for x in after] == [(x["quantity"], x["reserved"]) for x in before]
    assert server.get("/api/events?after=0&limit=1000").json()["data"]["next_after"] == seq_before
    body = assert_error(server.post("/api/stock/batch", {"operations": [
        {"product_id": a, "op": "add", "quantity": 1}, {"product_id": a, "op": "fly", "quantity": 1}]}),
        400, "VALIDATION_ERROR", "operations[1].op")
    assert body["index"] == 1
    body = assert_error(server.post("/api/stock/batch", {"operations": [
        {"product_id": a, "op": "add", "quantity": 1, "colour": "red"}]}), 400, "VALIDATION_ERROR")
    assert body["field"] == "operations[0].colour"
    body = assert_error(server.post("/api/stock/batch", {"operations": [
        {"product_id": "00000000-0000-0000-0000-000000000000", "op": "add", "quantity": 1}]}), 404, "NOT_FOUND")
    assert body["index"] == 0
    assert_error(server.post("/api/stock/batch", {"ops": []}), 400, "VALIDATION_ERROR", "ops")


def test_count_guarded_by_expected_values(server):
    """Issue 11's count bug: a count conditional on what the counter last saw."""
    p = new_product(server, location="Warehouse A", initial_quantity=10)["product"]
    pid = p["id"]
    url = f"/api/products/{pid}/stock/count"
    r = server.post(url, {"counted": 7, "expected_quantity": 10})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["quantity"] == 7
    body = assert_error(server.post(url, {"counted": 5, "expected_quantity": 10}), 409, "CONFLICT",
                        "expected_quantity")
    assert "10" in body["message"]
    server.post(f"/api/products/{pid}/stock/reserve", {"quantity": 2, "reference": "HOLD"})
    r = server.post(url, {"counted": 6, "expected_available": 5})
    assert r.status_code == 200, r.text
    assert (r.json()["data"]["on_hand"], r.json()["data"]["available"]) == (6, 4)
    assert_error(server.post(url, {"counted": 9, "expected_available": 5}), 409, "CONFLICT", "expected_available")
    assert_error(server.post(url, {"counted": 9, "expected_available": 4, "expected_quantity": 6}),
                 400, "VALIDATION_ERROR", "expected_quantity")
    # The same in a batch: the field is named as the request spells it.
    body = assert_error(server.post("/api/stock/batch", {"operations": [
        {"product_id": pid, "op": "count", "counted": 1, "expected_quantity": 5}]}),
        409, "CONFLICT", "operations[0].expected_quantity")
    assert body["index"] == 0
    r = server.post("/api/stock/batch", {"operations": [
        {"product_id": pid, "op": "count", "counted": 3, "expected_quantity": 6}]})
    assert r.status_code == 200, r.text
    assert server.get(f"/api/products/{pid}/inventory").json()["data"]["quantity"] == 3
    # Stale counts changed nothing: one ADJUST per applied count.
    types = [t["type"] for t in server.get(f"/api/products/{pid}/transactions?limit=100").json()["data"]]
    assert types.count("ADJUST") == 3


def test_movements_carry_their_actor(server):
    p = new_product(server, initial_quantity=2)["product"]
    txs = server.get(f"/api/products/{p['id']}/transactions").json()["data"]
    events = server.get("/api/events?after=0").json()["data"]["movements"]
    # Without API keys nobody is named: the field is there, and null.
    for movement in txs + events:
        assert "actor" in movement and movement["actor"] is None, movement


def test_batch_items_take_their_kinds_fields(server):
    p = new_product(server, location="Warehouse A", initial_quantity=5)["product"]
    pid = p["id"]
    r = server.post("/api/stock/batch", {"operations": [
        {"product_id": pid, "op": "transfer", "to_location": "Shelf", "quantity": 1},
        {"product_id": pid, "op": "reserve", "quantity": 1, "reference": "B-1", "expires_in_seconds": 60},
        {"product_id": pid, "op": "unreserve", "reference": "B-1"},
    ]})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["results"][0][0]["location"] == "Warehouse A"
    for item, field in (
        ({"op": "unreserve"}, "operations[0].quantity"),
        ({"op": "transfer", "quantity": 1}, "operations[0].to_location"),
        ({"op": "add", "quantity": 1, "release_remainder": True}, "operations[0].release_remainder"),
        ({"op": "count"}, "operations[0].counted"),
    ):
        body = assert_error(server.post("/api/stock/batch", {"operations": [dict(item, product_id=pid)]}),
                            400, "VALIDATION_ERROR", field)
        assert body["index"] == 0


def test_expiring_reservations_soonest_first_and_low_stock_with_the_totals(server):
    a = new_product(server, location="Warehouse A", initial_quantity=20, reorder_point=15)["product"]
    b = new_product(server, location="Warehouse A", initial_quantity=20)["product"]
    inventory = server.get(f"/api/products/{a['id']}/inventory").json()["data"]
    assert inventory["low_stock"] is False  # available 20 > 15
    for pid, ref, seconds in [(a["id"], "LATER", 7200), (b["id"], "SOON", 300), (a["id"], "SOONEST", 120)]:
        r = server.post(f"/api/products/{pid}/stock/reserve",
                        {"quantity": 3, "reference": ref, "expires_in_seconds": seconds})
        assert r.status_code == 200, r.text
    server.post(f"/api/products/{b['id']}/stock/reserve", {"quantity": 1, "reference": "NEVER"})

    r = server.get("/api/reservations/expiring", params={"within": 900})
    assert r.status_code == 200, r.text
    listed = r.json()["data"]
    assert [(x["reference"], x["product_id"]) for x in listed] == [("SOONEST", a["id"]), ("SOON", b["id"])]
    assert all(x["expires_at"] for x in listed)
    r = server.get("/api/reservations/expiring", params={"within": 86400, "limit": 2})
    assert [x["reference"] for x in r.json()["data"]] == ["SOONEST", "SOON"]

    # Available is now 14, at or below 15: the totals say so, as the low_stock filter does.
    for path in (f"/api/products/{a['id']}/inventory", f"/api/products/{a['id']}"):
        data = server.get(path).json()["data"]
        assert (data.get("inventory") or data)["low_stock"] is True, path
    low = server.get("/api/products", params={"low_stock": "true"}).json()["data"]
    assert [p["id"] for p in low] == [a["id"]]
    assert server.get(f"/api/products/{b['id']}/inventory").json()["data"]["low_stock"] is False

    assert_error(server.get("/api/reservations/expiring"), 400, "VALIDATION_ERROR", "within")
    assert_error(server.get("/api/reservations/expiring?within=0"), 400, "VALIDATION_ERROR", "within")
    assert_error(server.get("/api/reservations/expiring?within=soon"), 400, "VALIDATION_ERROR", "within")
    assert_error(server.get("/api/reservations/expiring?within=60&limit=101"), 400, "VALIDATION_ERROR", "limit")
