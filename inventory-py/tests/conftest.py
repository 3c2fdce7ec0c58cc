"""Fixtures: every test gets a fresh database file in its own temporary directory."""

import importlib.util
import os
import pathlib
from decimal import Decimal

import pytest

import inventory

ROOT = pathlib.Path(os.environ.get("INVENTORY_ROOT", pathlib.Path(__file__).resolve().parents[2]))

# The wait on a condition with a deadline that every Python suite shares.
_waiting = importlib.util.spec_from_file_location("waiting", ROOT / "tests" / "support" / "waiting.py")
_module = importlib.util.module_from_spec(_waiting)
_waiting.loader.exec_module(_module)
wait_until = _module.wait_until


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "shop.db"


@pytest.fixture
def inv(db_path):
    with inventory.Inventory(db_path) as handle:
        yield handle


@pytest.fixture
def laptop(inv):
    return inv.create_product(
        name="Laptop",
        sku="LAP001",
        price=Decimal("1500.00"),
        description="Gaming Laptop",
        location="Warehouse A",
        initial_quantity=50,
    )
