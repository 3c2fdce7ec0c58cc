"""Products, the result classes and the handle's lifecycle."""

import dataclasses
import importlib.metadata
import re
import subprocess
import threading
from datetime import timezone
from decimal import Decimal

import pytest

import inventory
from conftest import ROOT


def test_version_is_cargos_with_the_commit():
    version, plus, commit = inventory.__version__.partition("+")
    assert plus == "+"
    assert version == importlib.metadata.version("inventory-py")
    cargo = re.search(r'^version = "([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M)
    assert version == cargo.group(1)
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
        capture_output=True, text=True, check=True,
    )
    assert commit == head.stdout.strip()


def test_import_surface():
    assert inventory.__version__
    for name in inventory.__all__:
        assert hasattr(inventory, name), name
    assert inventory.DEFAULT_LOCATION == "default"
    assert inventory.IDEMPOTENCY_TTL_HOURS == 24


def test_every_public_method_has_a_docstring():
    for cls in (inventory.Inventory, inventory.ChangeFeed, inventory.ManualClock):
        for name in dir(cls):
            if name.startswith("_"):
                continue
            assert getattr(cls, name).__doc__, f"{cls.__name__}.{name} has no docstring"
    for name in inventory.__all__:
        obj = getattr(inventory, name)
        if isinstance(obj, type):
            assert obj.__doc__, name


def test_create_and_get(inv, laptop):
    assert isinstance(laptop, inventory.Product)
    assert isinstance(laptop.id, str) and len(laptop.id) == 36
    assert (laptop.name, laptop.sku, laptop.description) == ("Laptop", "LAP001", "Gaming Laptop")
    assert laptop.price == Decimal("1500.00") and str(laptop.price) == "1500.00"
    assert laptop.location == "Warehouse A"
    assert laptop.reorder_point is None and laptop.version == 1
    assert laptop.created_at.tzinfo is not None
    assert laptop.created_at.utcoffset().total_seconds() == 0
    assert laptop.updated_at >= laptop.created_at

    got = inv.get_product(laptop.id)
    assert isinstance(got, inventory.ProductWithStock)
    assert got.product == laptop
    stock = got.inventory
    assert isinstance(stock, inventory.StockSummary)
    assert (stock.quantity, stock.on_hand, stock.reserved, stock.available) == (50, 50, 0, 50)
    assert stock.location == "Warehouse A" and stock.product_id == laptop.id
    assert [level.location for level in stock.locations] == ["Warehouse A"]


def test_a_product_given_only_name_sku_and_price_gets_the_defaults(inv):
    p = inv.create_product(name="Cable", sku="CAB001", price=3)
    assert p.location == inventory.DEFAULT_LOCATION and p.description == ""
    assert inv.get_inventory(p.id).on_hand == 0
    assert p.price == Decimal(3)


def test_reprs_are_useful(inv, laptop):
    assert repr(laptop).startswith("Product(id='") and "sku='LAP001'" in repr(laptop)
    assert "price=Decimal('1500.00')" in repr(laptop)
    level = inv.reserve_stock(laptop.id, 10, reference="ORDER-456")
    assert repr(level).endswith("on_hand=50, reserved=10, available=40)")
    assert "locations=['Warehouse A']" in repr(inv.get_inventory(laptop.id))
    m = inv.list_transactions(laptop.id)[0]
    assert repr(m).startswith("Movement(seq=2, type='RESERVE', quantity=10")
    assert "reference='ORDER-456'" in repr(inv.list_reservations(laptop.id)[0])
    assert repr(inv.verify()) == "VerifyReport(ok=True, problems=[])"
    assert repr(inv.list_locations()[0]).startswith("Location(name='Warehouse A'")
    assert repr(inv.get_product(laptop.id)).startswith("ProductWithStock(product=Product(")
    assert repr(inv.changes()) == "ChangePage(movements=<2 movements>, next_after=2)"
    assert repr(inv).startswith("<Inventory '") and repr(inv).endswith("shop.db'>")


def test_results_are_immutable(inv, laptop):
    with pytest.raises(AttributeError):
        laptop.name = "other"  # type: ignore[misc]
    level = inv.add_stock(laptop.id, 1)
    with pytest.raises(AttributeError):
        level.quantity = 0  # type: ignore[misc]
    with pytest.raises(TypeError):
        inventory.Product()  # type: ignore[call-arg]
    assert not dataclasses.is_dataclass(laptop)


def test_list_products_pages_and_filters(inv):
    ids = [
        inv.create_product(name=f"Item {i}", sku=f"SKU{i:03}", price="1.00", initial_quantity=i).id
        for i in range(15)
    ]
    assert [p.id for p in inv.list_products()] == ids[:10]
    assert [p.id for p in inv.list_products(5, 10)] == ids[10:]
    assert [p.id for p in inv.list_products(limit=3, offset=2)] == ids[2:5]
    assert [p.sku for p in inv.list_products(100, q="SKU01")] == [f"SKU01{i}" for i in range(5)]
    assert [p.sku for p in inv.list_products(100, q="item 1")] == ["SKU001"] + [f"SKU01{i}" for i in range(5)]
    inv.update_product(ids[2], reorder_point=5)
    inv.update_product(ids[9], reorder_point=5)
    assert [p.id for p in inv.list_products(100, low_stock=True)] == [ids[2]]
    with pytest.raises(inventory.ValidationError):
        inv.list_products(0)
    with pytest.raises(inventory.ValidationError):
        inv.list_products(10, -1)


def test_update_product(inv, laptop):
    p = inv.update_product(laptop.id, name="Laptop Pro", price=Decimal("1999.99"), reorder_point=3)
    assert (p.name, p.description, p.price, p.reorder_point, p.version) == (
        "Laptop Pro",
        "Gaming Laptop",
        Decimal("1999.99"),
        3,
        2,
    )
    # Left out keeps the reorder point; None clears it.
    assert inv.update_product(laptop.id, description="Thin").reorder_point == 3
    assert inv.update_product(laptop.id, reorder_point=None).reorder_point is None
    # Compare-and-set on the version.
    current = inv.get_product(laptop.id).product.version
    assert inv.update_product(laptop.id, name="CAS", expected_version=current).version == current + 1
    with pytest.raises(inventory.ConflictError) as err:
        inv.update_product(laptop.id, name="stale", expected_version=current)
    assert err.value.code == "CONFLICT" and err.value.field == "version"
    assert inv.get_product(laptop.id).product.name == "CAS"


def test_delete_product(inv, laptop):
    version = inv.get_product(laptop.id).product.version
    with pytest.raises(inventory.ConflictError):
        inv.delete_product(laptop.id, expected_version=version + 1)
    assert inv.delete_product(laptop.id, expected_version=version) is None
    with pytest.raises(inventory.NotFoundError):
        inv.get_product(laptop.id)
    with pytest.raises(inventory.NotFoundError):
        inv.delete_product(laptop.id)
    # The SKU is free again; the old ledger is kept (the change feed still has it).
    again = inv.create_product(name="Laptop", sku="LAP001", price="1")
    assert again.id != laptop.id
    assert [m.product_id for m in inv.changes().movements] == [laptop.id]


def test_context_manager_and_close(db_path):
    with inventory.Inventory(str(db_path)) as inv:
        assert not inv.closed and inv.path == str(db_path)
        p = inv.create_product(name="A", sku="A1", price="1", initial_quantity=2)
    assert inv.closed
    for call in (
        lambda: inv.get_product(p.id),
        lambda: inv.add_stock(p.id, 1),
        lambda: inv.list_products(),
        lambda: inv.verify(),
        lambda: inv.now(),
        lambda: list(inv.iter_changes()),
    ):
        with pytest.raises(inventory.StorageError) as err:
            call()
        assert isinstance(err.value, inventory.InventoryError)
        assert err.value.code == "STORAGE_ERROR" and "closed" in str(err.value)
    inv.close()  # twice is harmless
    assert "closed" in repr(inv)
    # The data persisted and the file reopens.
    with inventory.Inventory(db_path) as again:
        assert again.get_inventory(p.id).on_hand == 2


def test_close_while_another_thread_is_using_it(db_path):
    inv = inventory.Inventory(db_path)
    p = inv.create_product(name="A", sku="A1", price="1", initial_quantity=1)
    errors = []
    started = threading.Event()

    def worker():
        started.set()
        try:
            while True:
                inv.get_product(p.id)
        except inventory.StorageError as e:
            errors.append(e)

    t = threading.Thread(target=worker)
    t.start()
    started.wait()
    inv.close()
    t.join(10)
    assert not t.is_alive() and len(errors) == 1


def test_exit_does_not_swallow_exceptions(db_path):
    with pytest.raises(KeyError):
        with inventory.Inventory(db_path):
            raise KeyError("boom")


def test_durability_option(tmp_path):
    with inventory.Inventory(tmp_path / "n.db", durability="normal") as inv:
        inv.create_product(name="A", sku="A", price=1)
    with pytest.raises(inventory.ValidationError):
        inventory.Inventory(tmp_path / "x.db", durability="fast")  # type: ignore[arg-type]


def test_not_an_inventory_file(tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_bytes(b"this is not a database" * 100)
    with pytest.raises(inventory.StorageError):
        inventory.Inventory(bogus)
    assert bogus.read_bytes() == b"this is not a database" * 100


def test_health_checkpoint_now(inv):
    assert inv.health() is None
    assert inv.checkpoint() is None
    assert inv.now().tzinfo == timezone.utc
