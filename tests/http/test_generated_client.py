"""A client generated from the served OpenAPI document, used as a new user would: functions are
named by operationId, models by component, and prices come back exactly although the client
reads JSON numbers as doubles."""

import importlib
import os
import subprocess
import sys

import pytest

from conftest import new_product

# The largest price the engine accepts: fifteen significant digits, which a double holds.
LARGEST_PRICE = 99999999999.9999


@pytest.fixture
def generated(server, tmp_path):
    """Generates `inventory_client` from the live server's document and imports it."""
    doc = tmp_path / "openapi.json"
    doc.write_bytes(server.get("/openapi.json").content)
    bin_dir = os.path.dirname(sys.executable)
    # The generator formats its output with ruff, which it installs beside itself.
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    out = tmp_path / "inventory_client"
    result = subprocess.run(
        [os.path.join(bin_dir, "openapi-python-client"), "generate", "--path", str(doc),
         "--meta", "none", "--output-path", str(out), "--fail-on-warning"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        for name in [m for m in sys.modules if m == "inventory_client" or m.startswith("inventory_client.")]:
            del sys.modules[name]
        yield importlib.import_module("inventory_client"), server.get("/openapi.json").json()
    finally:
        sys.path.remove(str(tmp_path))


def test_names_come_from_operation_ids_and_components(generated):
    client, doc = generated
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            (tag,) = op["tags"]
            module = importlib.import_module(f"inventory_client.api.{tag}.{op['operationId']}")
            # HEAD and OPTIONS answer without a body: the generator gives them only the
            # `_detailed` functions, which return the status and headers.
            call = module.sync_detailed if method in ("head", "options") else module.sync
            assert callable(call), (method, path)
    models = importlib.import_module("inventory_client.models")
    for name, schema in doc["components"]["schemas"].items():
        if "oneOf" in schema or "anyOf" in schema:
            continue  # a union is a type, not a model
        assert hasattr(models, name), name
    # No model is named after a path ("PostApiProductsIdStockAddResponse200"): beside the
    # components there are only the batch variants' `op` enums.
    variants = [v["$ref"].rsplit("/", 1)[-1] for v in doc["components"]["schemas"]["BatchItem"]["oneOf"]]
    extras = set(models.__all__) - set(doc["components"]["schemas"])
    assert extras == {f"{v}Op" for v in variants}, extras


def test_round_trip_through_the_generated_client(server, generated):
    client_pkg, _ = generated
    from inventory_client import Client
    from inventory_client.api.products import create_product, get_product, list_transactions
    from inventory_client.api.stock import add_stock, apply_batch, count_stock, transfer_stock
    from inventory_client.models import (
        Batch, BatchReserve, BatchReserveOp, Error, ErrorCode, MovementType, NewProduct,
        StockAdd, StockCount, StockTransfer,
    )

    client = Client(base_url=server.url, raise_on_unexpected_status=True)
    created = create_product.sync(client=client, body=NewProduct(
        name="Generated", sku="GEN-1", price=LARGEST_PRICE, location="Warehouse A", initial_quantity=5))
    product = created.data.product
    assert product.price == LARGEST_PRICE
    pid = product.id

    first = add_stock.sync_detailed(pid, client=client, body=StockAdd(quantity=3), idempotency_key="gen-add")
    assert first.status_code == 200 and first.parsed.data.on_hand == 8
    again = add_stock.sync_detailed(pid, client=client, body=StockAdd(quantity=3), idempotency_key="gen-add")
    assert again.headers["Idempotent-Replayed"] == "true" and again.parsed.data.on_hand == 8

    moved = transfer_stock.sync(pid, client=client, body=StockTransfer(quantity=2, to_location="Shelf"))
    assert (moved.data.from_.location, moved.data.from_.on_hand) == ("Warehouse A", 6)

    batch = apply_batch.sync(client=client, body=Batch(operations=[
        BatchReserve(product_id=pid, op=BatchReserveOp.RESERVE, quantity=1, reference="GEN-ORDER")]))
    assert batch.data.results[0][0].reserved == 1

    stale = count_stock.sync(pid, client=client, body=StockCount(counted=9, expected_quantity=5))
    assert isinstance(stale, Error)
    assert (stale.error, stale.field) == (ErrorCode.CONFLICT, "expected_quantity")
    counted = count_stock.sync(pid, client=client, body=StockCount(counted=9, expected_quantity=6))
    assert counted.data.on_hand == 9

    read = get_product.sync(pid, client=client)
    assert read.data.product.price == LARGEST_PRICE
    assert (read.data.inventory.on_hand, read.data.inventory.reserved) == (11, 1)
    history = list_transactions.sync(pid, client=client, limit=10).data
    assert [t.type_ for t in history][:2] == [MovementType.ADJUST, MovementType.RESERVE]
    assert all(t.actor is None for t in history)


def test_largest_price_round_trips_through_doubles(server):
    # `requests` parses JSON numbers as Python floats (doubles), as JavaScript does.
    p = new_product(server, price=LARGEST_PRICE)["product"]
    assert p["price"] == LARGEST_PRICE and repr(p["price"]) == "99999999999.9999"
    raw = server.get(f"/api/products/{p['id']}").text
    assert '"price":99999999999.9999,' in raw
    assert server.get(f"/api/products/{p['id']}").json()["data"]["product"]["price"] == LARGEST_PRICE
    # Sixteen significant digits do not survive a double, so the engine refuses them.
    r = server.http.post(server.url + "/api/products",
                         data='{"name":"Big","sku":"BIG-16","price":894120449492.8205}')
    assert r.status_code == 400 and r.json()["field"] == "price", r.text
