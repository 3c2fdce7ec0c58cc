"""Issue 6 over HTTP: locations, per-location stock, transfers, counts, reorder points, search."""

from conftest import assert_error, new_product


def test_locations_list_and_create(server):
    r = server.get("/api/locations")
    assert r.status_code == 200 and isinstance(r.json()["data"], list)
    r = server.post("/api/locations", {"name": "Warehouse B"})
    assert r.status_code == 201, r.text
    assert r.json()["data"]["name"] == "Warehouse B"
    assert_error(server.post("/api/locations", {"name": "Warehouse B"}), 409, "CONFLICT")
    assert_error(server.post("/api/locations", {"name": ""}), 400, "VALIDATION_ERROR", "name")
    assert_error(server.post("/api/locations", {"title": "x"}), 400, "VALIDATION_ERROR")
    new_product(server, location="Warehouse A", initial_quantity=7)
    names = {l["name"]: l for l in server.get("/api/locations").json()["data"]}
    assert names["Warehouse A"]["on_hand"] == 7 and names["Warehouse B"]["on_hand"] == 0


def test_stock_per_location_transfer_and_count(server):
    p = new_product(server, location="Warehouse A", initial_quantity=50)["product"]
    pid = p["id"]
    r = server.post(f"/api/products/{pid}/stock/add", {"quantity": 5, "location": "Store 1"})
    assert r.status_code == 200 and r.json()["data"]["location"] == "Store 1"
    r = server.post(f"/api/products/{pid}/stock/transfer",
                    {"from_location": "Warehouse A", "to_location": "Store 1", "quantity": 20,
                     "reference": "TR-1", "notes": "restock store"})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["from"]["location"], data["from"]["quantity"]) == ("Warehouse A", 30)
    assert (data["to"]["location"], data["to"]["quantity"]) == ("Store 1", 25)
    inv = server.get(f"/api/products/{pid}/inventory").json()["data"]
    assert inv["location"] == "Warehouse A"
    assert inv["quantity"] == 55
    assert [(l["location"], l["quantity"]) for l in inv["locations"]] == [("Store 1", 25), ("Warehouse A", 30)]
    one = server.get(f"/api/products/{pid}/inventory", params={"location": "Store 1"}).json()["data"]
    assert one["quantity"] == 25 and "locations" not in one
    assert_error(server.get(f"/api/products/{pid}/inventory?location=Nowhere"), 404, "NOT_FOUND")
    txs = server.get(f"/api/products/{pid}/transactions?limit=2").json()["data"]
    assert {t["type"] for t in txs} == {"TRANSFER_OUT", "TRANSFER_IN"}
    assert txs[0]["transfer_id"] and txs[0]["transfer_id"] == txs[1]["transfer_id"]
    assert_error(server.post(f"/api/products/{pid}/stock/transfer",
                             {"from_location": "Store 1", "to_location": "Warehouse A", "quantity": 26}),
                 409, "INSUFFICIENT_STOCK")
    # Without from_location a transfer takes from the product's own location, as the engine says.
    r = server.post(f"/api/products/{pid}/stock/transfer", {"to_location": "X", "quantity": 1})
    assert r.status_code == 200, r.text
    assert (r.json()["data"]["from"]["location"], r.json()["data"]["from"]["quantity"]) == ("Warehouse A", 29)
    assert_error(server.post(f"/api/products/{pid}/stock/transfer", {"quantity": 1}),
                 400, "VALIDATION_ERROR", "to_location")
    assert_error(server.post(f"/api/products/{pid}/stock/transfer", {"to_location": "Warehouse A", "quantity": 1}),
                 400, "VALIDATION_ERROR", "to_location")

    server.post(f"/api/products/{pid}/stock/reserve", {"quantity": 4, "location": "Store 1"})
    r = server.post(f"/api/products/{pid}/stock/count",
                    {"location": "Store 1", "counted": 22, "reference": "CC-7", "notes": "cycle count"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["quantity"] == 22
    adjust = server.get(f"/api/products/{pid}/transactions?limit=1&location=Store 1").json()["data"][0]
    assert (adjust["type"], adjust["quantity"], adjust["reference"]) == ("ADJUST", -3, "CC-7")
    body = assert_error(server.post(f"/api/products/{pid}/stock/count", {"location": "Store 1", "counted": 3}),
                        409, "CONFLICT")
    assert "reserved" in body["message"]


def test_reorder_point_low_stock_and_search(server):
    low = new_product(server, name="Laptop Bag", sku="LAP-BAG", initial_quantity=2, reorder_point=5)["product"]
    new_product(server, name="Laptop Stand", sku="LAP-STAND", initial_quantity=50, reorder_point=5)
    new_product(server, name="Mouse", sku="MOU-1", initial_quantity=0)
    r = server.get("/api/products?low_stock=true")
    assert [p["sku"] for p in r.json()["data"]] == ["LAP-BAG"]
    assert low["reorder_point"] == 5
    assert [p["sku"] for p in server.get("/api/products?q=LAP").json()["data"]] == ["LAP-BAG", "LAP-STAND"]
    assert [p["sku"] for p in server.get("/api/products?q=laptop s").json()["data"]] == ["LAP-STAND"]
    assert [p["sku"] for p in server.get("/api/products?q=LAP&limit=1&offset=1").json()["data"]] == ["LAP-STAND"]
    r = server.put(f"/api/products/{low['id']}", {"reorder_point": None})
    assert r.status_code == 200 and r.json()["data"]["reorder_point"] is None
    assert server.get("/api/products?low_stock=true").json()["data"] == []
    assert_error(server.get("/api/products?low_stock=maybe"), 400, "VALIDATION_ERROR", "low_stock")
