"""Location-limited keys (issue 30): a key made with `locations` moves stock and reads stock
at those locations only. It cannot change the shared catalogue (create, update or archive a
product, create a location), and every read of stock leaves other locations out (a product's
totals are summed over the levels it sees), or is 403 when it names one."""

import json

from conftest import assert_error
from test_auth import bearer, make_key, product, secured
from test_events import Sse


def setup(start):
    """A product at A (its home) with stock and an open reservation at A and at B, with
    notes and references, and a till key limited to B."""
    server, admin = secured(start)
    ops = bearer(admin)
    pid = product(server, admin, location="A", initial_quantity=10)["product"]["id"]
    stock = f"/api/products/{pid}/stock"
    for path, body in [
        ("transfer", {"from_location": "A", "to_location": "B", "quantity": 4}),
        ("reserve", {"quantity": 2, "location": "A", "reference": "ORDER-A", "notes": "secret A"}),
        ("reserve", {"quantity": 1, "location": "B", "reference": "ORDER-B"}),
    ]:
        r = server.post(f"{stock}/{path}", body, headers=ops)
        assert r.status_code == 200, r.text
    till = bearer(make_key(server, admin, "till-b", "write", ["B"]))
    return server, ops, till, pid


def test_a_limited_key_cannot_change_the_catalogue(start):
    server, ops, till, pid = setup(start)
    before = server.get(f"/api/products/{pid}", headers=ops).json()["data"]
    for r in (
        server.put(f"/api/products/{pid}", {"name": "Renamed", "price": 0.01}, headers=till),
        server.delete(f"/api/products/{pid}", headers=till),
        server.post("/api/products", {"name": "N", "sku": "TILL-NEW", "price": 1, "location": "B"}, headers=till),
        server.post("/api/locations", {"name": "C"}, headers=till),
    ):
        e = assert_error(r, 403, "FORBIDDEN")
        assert "without a location limit" in e["message"], e
    after = server.get(f"/api/products/{pid}", headers=ops).json()["data"]
    assert after == before, "not renamed, not repriced, not archived"
    reservations = server.get(f"/api/products/{pid}/reservations", headers=ops).json()["data"]
    assert sorted(r["reference"] for r in reservations) == ["ORDER-A", "ORDER-B"], "nothing released"
    assert "C" not in [l["name"] for l in server.get("/api/locations", headers=ops).json()["data"]]
    # Stock at its own location still moves, and a key without a limit still changes the catalogue.
    assert server.post(f"/api/products/{pid}/stock/add", {"quantity": 1, "location": "B"}, headers=till).status_code == 200
    assert server.put(f"/api/products/{pid}", {"name": "Renamed"}, headers=ops).status_code == 200


def test_every_read_route_leaves_other_locations_out(start):
    server, ops, till, pid = setup(start)

    data = server.get(f"/api/products/{pid}", headers=till).json()["data"]
    assert [l["location"] for l in data["inventory"]["locations"]] == ["B"]
    assert (data["inventory"]["on_hand"], data["inventory"]["reserved"], data["inventory"]["available"]) == (4, 1, 3)
    assert server.get(f"/api/products/{pid}", headers=ops).json()["data"]["inventory"]["on_hand"] == 10

    summary = server.get(f"/api/products/{pid}/inventory", headers=till).json()["data"]
    assert [l["location"] for l in summary["locations"]] == ["B"]
    assert (summary["quantity"], summary["reserved"]) == (4, 1)
    assert server.get(f"/api/products/{pid}/inventory?location=B", headers=till).json()["data"]["on_hand"] == 4
    assert_error(server.get(f"/api/products/{pid}/inventory?location=A", headers=till), 403, "FORBIDDEN", "location")

    txs = server.get(f"/api/products/{pid}/transactions?limit=100", headers=till).json()["data"]
    assert txs and {t["location"] for t in txs} == {"B"}, txs
    assert "secret A" not in json.dumps(txs) and "ORDER-A" not in json.dumps(txs)
    assert len(server.get(f"/api/products/{pid}/transactions?limit=100", headers=ops).json()["data"]) > len(txs)
    assert_error(server.get(f"/api/products/{pid}/transactions?location=A", headers=till), 403, "FORBIDDEN", "location")
    assert [t["location"] for t in server.get(f"/api/products/{pid}/transactions?location=B", headers=till).json()["data"]] == ["B"] * len(txs)

    held = server.get(f"/api/products/{pid}/reservations", headers=till).json()["data"]
    assert [(r["location"], r["reference"]) for r in held] == [("B", "ORDER-B")]
    assert server.get("/api/reservations?reference=ORDER-A", headers=till).json()["data"] == []
    assert len(server.get("/api/reservations?reference=ORDER-A", headers=ops).json()["data"]) == 1
    assert len(server.get("/api/reservations?reference=ORDER-B", headers=till).json()["data"]) == 1

    assert [l["name"] for l in server.get("/api/locations", headers=till).json()["data"]] == ["B"]

    # Reservations about to lapse (the dashboard's attention list) and the tills at central.
    for path, body in [
        ("reserve", {"quantity": 1, "location": "A", "reference": "SOON-A", "expires_in_seconds": 60}),
        ("reserve", {"quantity": 1, "location": "B", "reference": "SOON-B", "expires_in_seconds": 60}),
    ]:
        assert server.post(f"/api/products/{pid}/stock/{path}", body, headers=ops).status_code == 200
    soon = server.get("/api/reservations/expiring?within=600", headers=till).json()["data"]
    assert [(r["location"], r["reference"]) for r in soon] == [("B", "SOON-B")]
    assert len(server.get("/api/reservations/expiring?within=600", headers=ops).json()["data"]) == 2
    for till_id, key, location in [("t-a", ops, "A"), ("t-b", till, "B")]:
        r = server.post(f"/api/tills/{till_id}/check-in",
                        {"instance_id": "i-1", "location": location, "token": None,
                         "next_token": "n-1"}, headers=key)
        assert r.status_code == 200, r.text
    assert [t["till"]["id"] for t in server.get("/api/tills", headers=till).json()["data"]] == ["t-b"]
    assert sorted(t["till"]["id"] for t in server.get("/api/tills", headers=ops).json()["data"]) == ["t-a", "t-b"]

    page = server.get("/api/events?after=0&limit=100", headers=till).json()["data"]
    everything = server.get("/api/events?after=0&limit=100", headers=ops).json()["data"]
    assert page["movements"] and {m["location"] for m in page["movements"]} == {"B"}
    assert page["next_after"] == everything["next_after"], "the cursor moves past what it does not see"
    assert len(page["movements"]) < len(everything["movements"])

    # The live stream too: a movement at A is skipped, the next one at B arrives.
    stream = Sse(server, headers=till, params={"after": everything["next_after"]})
    try:
        assert server.post(f"/api/products/{pid}/stock/add", {"quantity": 1, "location": "A"}, headers=ops).status_code == 200
        assert server.post(f"/api/products/{pid}/stock/add", {"quantity": 1, "location": "B"}, headers=ops).status_code == 200
        event = stream.next_event()
        assert json.loads(event["data"])["location"] == "B"
        assert int(event["id"]) == everything["next_after"] + 2
    finally:
        stream.close()

    # The catalogue itself is shared: products and the catalogue feed are read as they are.
    assert [p["id"] for p in server.get("/api/products", headers=till).json()["data"]] == [pid]
    assert server.get("/api/catalogue?after=0", headers=till).json()["data"]["products"]
