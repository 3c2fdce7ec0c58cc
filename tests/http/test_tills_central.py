"""What central offers the tills over HTTP: a commit that takes from a till's allotment while its
movement carries the sale's reference, a lease renewed without its quantity changing, and the
catalogue feed a till mirrors from a cursor."""

from conftest import assert_error, new_product


def test_a_sale_is_committed_from_the_allotment_under_its_own_reference(server):
    pid = new_product(server, initial_quantity=10, location="Shop 1")["product"]["id"]
    r = server.post(
        f"/api/products/{pid}/stock/reserve",
        {"quantity": 5, "reference": "till:T1", "location": "Shop 1", "expires_in_seconds": 600},
    )
    assert r.status_code == 200, r.text
    body = {"quantity": 2, "reference": "sale:1", "reservation": "till:T1", "location": "Shop 1"}
    r = server.post(f"/api/products/{pid}/stock/commit", body, headers={"Idempotency-Key": "sale:1"})
    assert r.status_code == 200, r.text
    assert (r.json()["data"]["on_hand"], r.json()["data"]["reserved"]) == (8, 3)
    again = server.post(f"/api/products/{pid}/stock/commit", body, headers={"Idempotency-Key": "sale:1"})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    held = server.get("/api/reservations?reference=till:T1").json()["data"]
    assert [(h["product_id"], h["quantity"]) for h in held] == [(pid, 3)]
    last = server.get(f"/api/products/{pid}/transactions?limit=1").json()["data"][0]
    assert (last["type"], last["quantity"], last["reference"]) == ("COMMIT", 2, "sale:1")
    # More than the allotment holds is refused, and so is the field on another operation.
    r = server.post(
        f"/api/products/{pid}/stock/commit",
        {"quantity": 4, "reference": "sale:2", "reservation": "till:T1", "location": "Shop 1"},
    )
    assert_error(r, 409, "INSUFFICIENT_RESERVED")
    r = server.post(
        f"/api/products/{pid}/stock/unreserve",
        {"quantity": 1, "reference": "till:T1", "reservation": "till:T1", "location": "Shop 1"},
    )
    assert_error(r, 400, "VALIDATION_ERROR", "reservation")


def test_renew_moves_a_lease_and_writes_no_movement(server):
    pid = new_product(server, initial_quantity=10)["product"]["id"]
    server.post(
        f"/api/products/{pid}/stock/reserve",
        {"quantity": 4, "reference": "till:T1", "expires_in_seconds": 60},
    )
    before = server.get(f"/api/products/{pid}/transactions").json()["data"]
    old = server.get("/api/reservations?reference=till:T1").json()["data"][0]["expires_at"]
    r = server.post(
        f"/api/products/{pid}/stock/renew", {"reference": "till:T1", "expires_in_seconds": 3600}
    )
    assert r.status_code == 200, r.text
    assert r.json()["message"] == "Reservation renewed successfully"
    assert (r.json()["data"]["on_hand"], r.json()["data"]["reserved"]) == (10, 4)
    held = server.get("/api/reservations?reference=till:T1").json()["data"][0]
    assert held["quantity"] == 4 and held["expires_at"] > old
    assert server.get(f"/api/products/{pid}/transactions").json()["data"] == before
    assert_error(
        server.post(f"/api/products/{pid}/stock/renew", {"reference": "till:T9", "expires_in_seconds": 60}),
        409,
        "INSUFFICIENT_RESERVED",
    )
    assert_error(
        server.post(f"/api/products/{pid}/stock/renew", {"reference": "till:T1"}),
        400,
        "VALIDATION_ERROR",
        "expires_in_seconds",
    )
    assert_error(
        server.post(f"/api/products/{pid}/stock/renew", {"reference": "till:T1", "quantity": 1, "expires_in_seconds": 5}),
        400,
        "VALIDATION_ERROR",
        "quantity",
    )
    # In a batch, beside the reserve that tops an allotment up.
    r = server.post(
        "/api/stock/batch",
        {"operations": [
            {"op": "reserve", "product_id": pid, "quantity": 1, "reference": "till:T2", "expires_in_seconds": 60},
            {"op": "renew", "product_id": pid, "reference": "till:T1", "expires_in_seconds": 7200},
        ]},
    )
    assert r.status_code == 200, r.text


def test_the_catalogue_feed_pages_every_change_once_archived_included(server):
    assert server.get("/api/catalogue").json()["data"] == {"products": [], "next_after": 0}
    a = new_product(server)["product"]
    b = new_product(server)["product"]
    page = server.get("/api/catalogue?limit=1").json()["data"]
    assert [p["id"] for p in page["products"]] == [a["id"]]
    cursor = page["next_after"]
    page = server.get(f"/api/catalogue?after={cursor}").json()["data"]
    assert [p["id"] for p in page["products"]] == [b["id"]]
    assert page["products"][0]["archived_at"] is None
    cursor = page["next_after"]
    assert server.put(f"/api/products/{a['id']}", {"price": "12.50"}).status_code == 200
    assert server.delete(f"/api/products/{b['id']}").status_code == 200
    page = server.get(f"/api/catalogue?after={cursor}").json()["data"]
    got = [(p["id"], p["price"], p["archived_at"] is not None) for p in page["products"]]
    assert got == [(a["id"], 12.5, False), (b["id"], 9.99, True)]
    assert all(p["revision"] > cursor for p in page["products"])
    assert server.get(f"/api/catalogue?after={page['next_after']}").json()["data"]["products"] == []
    assert_error(server.get("/api/catalogue?after=-1"), 400, "VALIDATION_ERROR", "after")
    assert_error(server.get("/api/catalogue?limit=0"), 400, "VALIDATION_ERROR", "limit")


def test_a_tills_report_of_a_conflict_is_counted_by_code(server):
    def counted():
        text = server.get("/metrics").text
        prefix = 'inventory_till_conflicts_total{code="INSUFFICIENT_STOCK"} '
        return next((float(line[len(prefix):]) for line in text.splitlines() if line.startswith(prefix)), 0)

    # Only a sale of a registered till is accepted: T1 checks in first.
    made_up = server.post("/api/tills/conflicts", {"reference": "sale:T1:7", "code": "INSUFFICIENT_STOCK"})
    assert_error(made_up, 403, "FORBIDDEN", "reference")
    check_in = {"instance_id": "i-1", "location": "Shop 1", "token": None, "next_token": "t-1"}
    r = server.post("/api/tills/T1/check-in", check_in)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["till"]["id"] == "T1"

    before = counted()
    report = {"reference": "sale:T1:7", "code": "INSUFFICIENT_STOCK"}
    r = server.post("/api/tills/conflicts", report)
    assert r.status_code == 202, r.text
    assert r.json()["data"] == {**report, "till_id": "T1", "first": True}
    assert counted() == before + 1
    # A repeat is recorded once, and counted once.
    r = server.post("/api/tills/conflicts", report)
    assert r.status_code == 202 and r.json()["data"]["first"] is False
    assert counted() == before + 1
    assert_error(server.post("/api/tills/conflicts", {"reference": "sale:T1:7", "code": "LOST"}),
                 400, "VALIDATION_ERROR", "code")
    assert_error(server.post("/api/tills/conflicts", {"reference": " ", "code": "NOT_FOUND"}),
                 400, "VALIDATION_ERROR", "reference")
    assert_error(server.post("/api/tills/conflicts", {"reference": "sale:\u0000", "code": "NOT_FOUND"}),
                 400, "VALIDATION_ERROR", "reference")
    # The reference as the engine keeps every reference: trimmed.
    r = server.post("/api/tills/conflicts", {"reference": " sale:T1:8 ", "code": "INSUFFICIENT_STOCK"})
    assert r.status_code == 202 and r.json()["data"]["reference"] == "sale:T1:8"
    before += 1
    r = server.post("/api/tills/conflicts", {**report, "till": "T1"})
    assert r.status_code == 400, r.text
    assert counted() == before + 1, "a refused report is not counted"


def test_a_till_id_has_one_instance_until_an_admin_takes_it_over(server):
    pid = new_product(server, initial_quantity=10, location="Shop 1")["product"]["id"]
    first = {"instance_id": "device-a", "location": "Shop 1", "token": None, "next_token": "a1"}
    r = server.post("/api/tills/T9/check-in", first)
    assert r.status_code == 200, r.text
    database = r.json()["data"]["database"]
    assert database["id"] and database["generation"]
    r = server.post(f"/api/products/{pid}/stock/reserve",
                    {"quantity": 4, "reference": "till:T9", "location": "Shop 1"})
    assert r.status_code == 200, r.text
    again = {**first, "token": "a1", "next_token": "a2"}
    assert server.post("/api/tills/T9/check-in", again).status_code == 200
    other = {"instance_id": "device-b", "location": "Shop 1", "token": None, "next_token": "b1"}
    assert_error(server.post("/api/tills/T9/check-in", other), 409, "CONFLICT", "instance_id")
    copy = {**first, "token": "a1", "next_token": "a3"}
    assert_error(server.post("/api/tills/T9/check-in", copy), 409, "CONFLICT", "token")

    tills = server.get("/api/tills").json()["data"]
    mine = next(t for t in tills if t["till"]["id"] == "T9")
    assert mine["till"]["instance_id"] == "device-a"
    assert [a["quantity"] for a in mine["allotments"]] == [4]
    assert mine["lag_seconds"] >= 0

    r = server.post("/api/tills/T9/take-over", {"release": False})
    assert r.status_code == 200, r.text
    assert (r.json()["data"]["released"], r.json()["data"]["transferred"]) == (0, 4)
    assert_error(server.post("/api/tills/T9/take-over", {"release": False}), 404, "NOT_FOUND")
    assert server.post("/api/tills/T9/check-in", other).status_code == 200
    history = server.get(f"/api/products/{pid}/transactions").json()["data"]
    assert [m["type"] for m in history[:2]] == ["RESERVE", "UNRESERVE"]


def test_a_check_in_answers_a_point_of_the_ledger_and_whether_it_holds_the_one_seen(server):
    pid = new_product(server, initial_quantity=3, location="Shop 1")["product"]["id"]
    first = {"instance_id": "device-p", "location": "Shop 1", "token": None, "next_token": "p1"}
    r = server.post("/api/tills/TP/check-in", first)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["seen_held"] is None
    point = data["point"]
    assert point["seq"] == data["high_water"]
    # The newest movement anywhere: the product's receipt, just made.
    newest = server.get(f"/api/products/{pid}/transactions?limit=1").json()["data"][0]
    assert (newest["seq"], newest["id"]) == (point["seq"], point["movement_id"])

    seen = {"point": point, "checked_in_at": data["till"]["last_sync_at"]}
    again = {**first, "token": "p1", "next_token": "p2", "seen": seen}
    r = server.post("/api/tills/TP/check-in", again)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["seen_held"] is True
    # Another movement at that number: a ledger rewound and grown again.
    lost = {**seen, "point": {**point, "movement_id": "0190a7b2-0000-7000-8000-000000000000"}}
    r = server.post("/api/tills/TP/check-in", {**again, "seen": lost})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["seen_held"] is False
    r = server.post("/api/tills/TP/check-in", {**again, "seen": {**seen, "at": 1}})
    assert_error(r, 400, "VALIDATION_ERROR")
