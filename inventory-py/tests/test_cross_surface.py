"""One file format for every surface: a database written by the Rust engine (its quickstart
example) opens here, and one written here opens in Rust. Also runs examples/quickstart.py."""

import re
import subprocess
import sys
from decimal import Decimal

import pytest

import inventory
from conftest import ROOT


@pytest.fixture(scope="session")
def rust_quickstart():
    """The Rust example's binary, built once."""
    build = subprocess.run(
        ["cargo", "build", "-q", "-p", "inventory", "--example", "quickstart",
         "--message-format=json"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert build.returncode == 0, build.stderr
    for line in build.stdout.splitlines():
        if '"executable":"' in line and "quickstart" in line:
            return re.search(r'"executable":"([^"]+)"', line).group(1)
    pytest.fail("cargo built no quickstart executable")


def run(cmd):
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_rust_file_opens_in_python(rust_quickstart, tmp_path):
    path = tmp_path / "from-rust.db"
    out = run([rust_quickstart, str(path)])
    rust_id = re.search(r"product id (\S+) in", out).group(1)
    with inventory.Inventory(path) as inv:
        got = inv.get_product(rust_id)
        assert got.product.sku == "LAP001" and got.product.price == Decimal("1500.00")
        assert str(got.product.price) == "1500.00"
        assert (got.inventory.on_hand, got.inventory.reserved) == (40, 0)
        assert {(l.location, l.on_hand) for l in got.inventory.locations} == {
            ("Warehouse A", 35), ("Store 1", 5),
        }
        types = [m.type for m in inv.list_transactions(rust_id, 10)]
        assert types == ["TRANSFER_IN", "TRANSFER_OUT", "COMMIT", "RESERVE", "IN"]
        # ...and Python can keep writing to it.
        inv.reserve_stock(rust_id, 3, reference="PY-1")
        assert inv.verify().ok


def test_python_file_opens_in_rust(rust_quickstart, tmp_path):
    path = tmp_path / "from-python.db"
    with inventory.Inventory(path) as inv:
        p = inv.create_product(name="Laptop", sku="LAP001", price=Decimal("0.10"),
                               location="Warehouse A", initial_quantity=7)
        inv.reserve_stock(p.id, 2, reference="PY", expires_in_seconds=3600)
        inv.transfer_stock(p.id, 1, to_location="Annex")
    # The Rust program finds the Python product by SKU, archives it and works on the file.
    out = run([rust_quickstart, str(path)])
    assert f"archiving an earlier LAP001 ({p.id})" in out
    assert "verify: ok=true problems=[]" in out
    rust_id = re.search(r"product id (\S+) in", out).group(1)
    with inventory.Inventory(path) as inv:
        with pytest.raises(inventory.NotFoundError):
            inv.get_product(p.id)  # archived by Rust
        assert inv.get_product(rust_id).inventory.on_hand == 40
        mine = [m for m in inv.changes(0, 1000).movements if m.product_id == p.id]
        assert [m.type for m in mine] == ["IN", "RESERVE", "TRANSFER_OUT", "TRANSFER_IN"]
        assert inv.verify().ok


def test_python_quickstart_example(tmp_path, rust_quickstart):
    example = ROOT / "examples" / "quickstart.py"
    path = tmp_path / "quick.db"
    first = run([sys.executable, str(example), str(path)])
    assert "reserved 10 for ORDER-456: on_hand 50 reserved 10 available 40" in first
    assert "refused: INSUFFICIENT_STOCK" in first
    assert "verify: ok=True problems=[]" in first
    second = run([sys.executable, str(example), str(path)])
    assert "archiving an earlier LAP001" in second
    # The Rust example continues on the file the Python one wrote.
    assert "verify: ok=true" in run([rust_quickstart, str(path)])
