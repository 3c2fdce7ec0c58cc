"""The engine from Python: create a product, sell from a reservation, read the ledger, verify.

Run: `python examples/quickstart.py [PATH]` (default `quickstart.db`), after
`pip install ./inventory-py`. It shares its file format with `examples/quickstart.rs`: either
program can run on a file the other wrote. Running it twice on one file shows that the data
persists: the second run finds the SKU taken and archives the old product first.
"""

import sys
from decimal import Decimal

import inventory


def main(path: str) -> None:
    with inventory.Inventory(path) as inv:
        for old in inv.list_products(100, q="LAP001"):
            if old.sku == "LAP001":
                print(f"archiving an earlier LAP001 ({old.id})")
                inv.delete_product(old.id)

        p = inv.create_product(name="Laptop", sku="LAP001", price=Decimal("1500.00"),
                               description="Gaming Laptop", location="Warehouse A",
                               initial_quantity=50)
        level = inv.reserve_stock(p.id, 10, reference="ORDER-456")
        assert level.available == 40
        print(f"reserved 10 for ORDER-456: on_hand {level.on_hand} reserved {level.reserved} "
              f"available {level.available}")

        level = inv.commit_reservation(p.id, "ORDER-456", notes="shipped")
        print(f"shipped ORDER-456: on_hand {level.on_hand} reserved {level.reserved} "
              f"available {level.available}")

        source, dest = inv.transfer_stock(p.id, 5, to_location="Store 1")
        print(f"moved 5 to {dest.location}: {source.on_hand} left at {source.location}")

        try:
            inv.remove_stock(p.id, 1000)
        except inventory.InsufficientStockError as e:
            print(f"refused: {e.code}: {e}")

        for m in inv.list_transactions(p.id, limit=10):
            print(m.type, m.quantity, m.reference)

        report = inv.verify()
        print(f"verify: ok={report.ok} problems={report.problems}")
        print(f"product id {p.id} in {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "quickstart.db")
