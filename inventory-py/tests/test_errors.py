"""The exception hierarchy, type checking of arguments, and hostile input."""

import itertools
import math
import subprocess
import sys
import time
from datetime import datetime
from decimal import Decimal

import pytest

import inventory

CLASSES = {
    "NOT_FOUND": inventory.NotFoundError,
    "VALIDATION_ERROR": inventory.ValidationError,
    "INSUFFICIENT_STOCK": inventory.InsufficientStockError,
    "INSUFFICIENT_RESERVED": inventory.InsufficientReservedError,
    "DUPLICATE_SKU": inventory.DuplicateSkuError,
    "CONFLICT": inventory.ConflictError,
    "STORAGE_ERROR": inventory.StorageError,
    "BUSY": inventory.BusyError,
    "UNAUTHORIZED": inventory.UnauthorizedError,
    "FORBIDDEN": inventory.ForbiddenError,
}


def test_each_error_code_has_its_exception_class_under_inventory_error():
    assert issubclass(inventory.InventoryError, Exception)
    for code, cls in CLASSES.items():
        assert issubclass(cls, inventory.InventoryError)
        assert cls.code == code
        assert cls.__module__ == "inventory"
    assert inventory.InventoryError.code is None
    assert issubclass(inventory.ValidationError, ValueError)
    assert issubclass(inventory.InsufficientReservedError, inventory.InsufficientStockError)
    assert not issubclass(inventory.NotFoundError, ValueError)
    # BUSY is a kind of storage failure, so code that catches StorageError keeps working.
    assert issubclass(inventory.BusyError, inventory.StorageError)
    for cls in (inventory.UnauthorizedError, inventory.ForbiddenError):
        assert cls.__bases__ == (inventory.InventoryError,)


def test_each_error_is_raised_with_its_code(inv, laptop, tmp_path):
    def raised(call):
        with pytest.raises(inventory.InventoryError) as err:
            call()
        return err.value

    cases = {
        "NOT_FOUND": lambda: inv.get_product("00000000-0000-0000-0000-000000000000"),
        "VALIDATION_ERROR": lambda: inv.add_stock(laptop.id, 0),
        "INSUFFICIENT_STOCK": lambda: inv.remove_stock(laptop.id, 51),
        "INSUFFICIENT_RESERVED": lambda: inv.unreserve_stock(laptop.id, 1),
        "DUPLICATE_SKU": lambda: inv.create_product(name="X", sku="LAP001", price=1),
        "CONFLICT": lambda: inv.remove_stock(laptop.id, 1, expected_available=3),
        "STORAGE_ERROR": lambda: inventory.Inventory(tmp_path),  # a directory
        "UNAUTHORIZED": lambda: inv.authenticate("inv_not-a-key"),
    }
    # FORBIDDEN needs a write bounded by a key's locations, which only the HTTP server makes.
    assert set(cases) | {"BUSY", "FORBIDDEN"} == set(CLASSES)
    for code, call in cases.items():
        e = raised(call)
        assert type(e) is CLASSES[code], (code, type(e))
        assert e.code == code and e.message and str(e) == e.message
    assert raised(cases["VALIDATION_ERROR"]).field == "quantity"
    assert raised(cases["DUPLICATE_SKU"]).field == "sku"
    assert raised(cases["NOT_FOUND"]).index is None


def test_busy_when_another_process_holds_the_file(tmp_path):
    """A write that waits longer than busy_timeout for another process's lock: BusyError."""
    path = tmp_path / "busy.db"
    with inventory.Inventory(path, busy_timeout=0.2) as inv:
        p = inv.create_product(name="A", sku="A", price=1, initial_quantity=3)
        # Another process: SQLite's locks are per process, so a lock taken in this one
        # would not be seen.
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        try:
            assert holder.stdout.readline().strip() == "locked"
            start = time.monotonic()
            with pytest.raises(inventory.BusyError) as err:
                inv.add_stock(p.id, 1)
            assert isinstance(err.value, inventory.StorageError) and err.value.code == "BUSY"
            assert 0.15 < time.monotonic() - start < 5
        finally:
            holder.stdin.close()
            holder.wait(10)
        assert inv.add_stock(p.id, 1).on_hand == 4  # free again: retrying works
    with pytest.raises(inventory.ValidationError) as err:
        inventory.Inventory(path, busy_timeout=-1)
    assert err.value.field == "busy_timeout"


HOLD_LOCK = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
"""


def test_validation_error_is_a_value_error(inv):
    with pytest.raises(ValueError):
        inv.create_product(name="", sku="S", price=1)
    with pytest.raises(inventory.ValidationError) as err:
        inv.create_product(name="N", sku="S", price=1, initial_quantity=-1)
    assert err.value.field == "initial_quantity"


def test_malformed_id_is_not_found(inv):
    with pytest.raises(inventory.NotFoundError):
        inv.get_product("not-a-uuid")
    with pytest.raises(inventory.NotFoundError):
        inv.add_stock("", 1)


@pytest.mark.parametrize("bad", [1.5, True, "3", None, b"1", [1], Decimal("1")])
def test_quantity_must_be_an_int(inv, laptop, bad):
    with pytest.raises(TypeError):
        inv.add_stock(laptop.id, bad)
    assert inv.get_inventory(laptop.id).on_hand == 50


@pytest.mark.parametrize(
    "call",
    [
        lambda inv, p: inv.get_product(123),
        lambda inv, p: inv.create_product(name=1, sku="S", price=1),
        lambda inv, p: inv.create_product(name="N", sku="S", price=1.5),
        lambda inv, p: inv.create_product(name="N", sku="S", price=float("nan")),
        lambda inv, p: inv.create_product(name="N", sku="S", price=True),
        lambda inv, p: inv.create_product(name="N", sku="S", price=None),
        lambda inv, p: inv.create_product(name="N", sku="S", price=[1]),
        lambda inv, p: inv.update_product(p.id, price=2.5),
        lambda inv, p: inv.update_product(p.id, reorder_point="3"),
        lambda inv, p: inv.add_stock(p.id, 1, reference=5),
        lambda inv, p: inv.add_stock(p.id, 1, location=b"x"),
        lambda inv, p: inv.reserve_stock(p.id, 1, expires_at="2030-01-01T00:00:00Z"),
        lambda inv, p: inv.reserve_stock(p.id, 1, expires_in_seconds=1.5),
        lambda inv, p: inv.commit_reservation(p.id, 5),
        lambda inv, p: inv.create_key("k", "write", locations="Store 1"),
        lambda inv, p: inv.authenticate(None),
        lambda inv, p: inventory.Inventory(p.id, actor=3),
        lambda inv, p: inv.commit_reservation(p.id, "R", release_remainder="no"),
        lambda inv, p: inv.list_products("10"),
        lambda inv, p: inv.list_products(low_stock=1),
        lambda inv, p: inv.changes(1.0),
        lambda inv, p: inv.iter_changes(follow=True, timeout="1"),
        lambda inv, p: inv.add_stock(p.id),
        lambda inv, p: inv.add_stock(p.id, 1, colour="red"),
        lambda inv, p: inventory.Inventory(42),
    ],
)
def test_wrong_types_raise_type_error(inv, laptop, call):
    with pytest.raises(TypeError):
        call(inv, laptop)


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda inv, p: inv.add_stock(p.id, 2**63), None),
        (lambda inv, p: inv.add_stock(p.id, -(2**70)), None),
        (lambda inv, p: inv.add_stock(p.id, 10**12 + 1), "quantity"),
        (lambda inv, p: inv.create_product(name="N", sku="S", price="abc"), "price"),
        (lambda inv, p: inv.create_product(name="N", sku="S", price="1e3"), "price"),
        (lambda inv, p: inv.create_product(name="N", sku="S", price=Decimal("NaN")), "price"),
        (lambda inv, p: inv.create_product(name="N", sku="S", price=Decimal("-Infinity")), "price"),
        (lambda inv, p: inv.create_product(name="N", sku="S", price=Decimal("-0.01")), "price"),
        (lambda inv, p: inv.create_product(name="N", sku="S", price=Decimal("0.00001")), "price"),
        (lambda inv, p: inv.create_product(name="N", sku="S", price=10**12), "price"),
        (lambda inv, p: inv.create_product(name="N", sku="S", price=2**64), "price"),
        (lambda inv, p: inv.create_product(name="N\0", sku="S", price=1), "name"),
        (lambda inv, p: inv.create_product(name="N" * 256, sku="S", price=1), "name"),
        (lambda inv, p: inv.reserve_stock(p.id, 1, expires_at=datetime(2030, 1, 1)), "expires_at"),
        (lambda inv, p: inv.add_stock(p.id, 1, idempotency_key=""), "idempotency_key"),
    ],
)
def test_out_of_range_values_raise_validation_error(inv, laptop, call, field):
    with pytest.raises(inventory.ValidationError) as err:
        call(inv, laptop)
    assert err.value.code == "VALIDATION_ERROR"
    if field is not None:
        assert err.value.field == field


def test_hostile_input_never_crashes(inv, laptop):
    """Everything odd we can think of, in every argument: only Python exceptions come out."""

    class Weird:
        def __str__(self):
            raise RuntimeError("no str")

        def __index__(self):
            raise RuntimeError("no index")

    class BadDecimal(Decimal):
        def __str__(self):
            raise RuntimeError("no str")

    values = [
        None, True, 0, -1, 2**64, -(2**64), 1.5, math.inf, math.nan, "", "\0", "x" * 100_000,
        "\udcff", b"bytes", [], {}, (1,), object(), Weird(), BadDecimal("1"), Decimal("sNaN"),
        datetime.max, datetime.min, laptop,
    ]
    skus = itertools.count()
    calls = [
        lambda v: inv.get_product(v),
        lambda v: inv.add_stock(laptop.id, v),
        lambda v: inv.add_stock(laptop.id, 1, location=v),
        lambda v: inv.reserve_stock(laptop.id, 1, expires_at=v),
        lambda v: inv.reserve_stock(laptop.id, 1, expires_in_seconds=v),
        lambda v: inv.create_product(name="N", sku=f"S{next(skus)}", price=v),
        lambda v: inv.update_product(laptop.id, reorder_point=v),
        lambda v: inv.batch([{"op": "add", "product_id": laptop.id, "quantity": v}]),
        lambda v: inv.batch([v]),
        lambda v: inv.batch(v),
        lambda v: inv.list_products(v),
        lambda v: inv.changes(v, v),
        lambda v: inv.reservations_by_reference(v),
    ]
    for call in calls:
        for v in values:
            try:
                call(v)
            except (inventory.InventoryError, TypeError, ValueError, RuntimeError, OverflowError):
                pass
    assert inv.verify().ok
