"""inventory.Till against the real inventory-server binary (keys required) on real files: a
sale made while central is unreachable and pushed once afterwards, the allotments, a lapsed
lease's conflict and its resolution, the GIL released while a sync waits on central."""

import os
import re
import socket
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

import inventory
from conftest import ROOT, wait_until

SHOP = "Shop"
DOWN = "http://127.0.0.1:1"  # nothing listens there


def server_bin():
    path = os.environ.get("INVENTORY_SERVER_BIN", str(ROOT / "target" / "release" / "inventory-server"))
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: cargo build --release -p inventory-server")
    return path


class Central:
    """The server binary on its own file, with keys required."""

    def __init__(self, db):
        self.db = db
        self.process = subprocess.Popen(
            [server_bin(), "--addr", "127.0.0.1:0", "--db", str(db), "--auth", "required",
             "--sweep-interval-secs", "1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for line in self.process.stdout:
            match = re.search(r'"message":"listening","addr":"([^"]+)"', line)
            if match:
                self.url = "http://" + match.group(1)
                break
        else:
            raise RuntimeError("central did not start")
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)


@pytest.fixture
def central(tmp_path):
    db = tmp_path / "central.db"
    with inventory.Inventory(db) as inv:
        a = inv.create_product(name="Mug", sku="MUG", price=Decimal("4.50"), location=SHOP,
                               initial_quantity=40).id
        b = inv.create_product(name="Tea", sku="TEA", price=Decimal("3.00"), location=SHOP,
                               initial_quantity=3).id
        key = inv.create_key("till-p1", "write", [SHOP]).secret
    c = Central(db)
    c.products = (a, b)
    c.key = key
    yield c
    c.stop()


def commits(db, product):
    with inventory.Inventory(db) as inv:
        return [m for m in inv.list_transactions(product, limit=100) if m.type == "COMMIT"]


def test_a_sale_made_with_central_unreachable_is_pushed_once(tmp_path, central):
    a, _ = central.products
    path = tmp_path / "till.db"
    with inventory.Till(path, central.url, central.key, "P1", SHOP) as till:
        assert (till.till_id, till.location) == ("P1", SHOP)
        till.set_target(a, 10)
        report = till.sync()
        assert report.complete and report.error_code is None
        assert report.catalogue_created == 2
        assert [(c.product_id, c.before, c.after, c.held) for c in report.allotments] == [(a, 0, 10, 10)]
        [allotment] = till.allotments()
        assert (allotment.product_id, allotment.target, allotment.held, allotment.remaining) == (a, 10, 10, 10)
        left = allotment.lease_expires_at.timestamp() - time.time()
        assert inventory.TILL_DEFAULT_LEASE_SECONDS - 120 < left <= inventory.TILL_DEFAULT_LEASE_SECONDS
        sale = till.sell(a, 2, sale_id="R-1", notes="receipt 1", actor="cashier-2")
        assert (sale.reference, sale.quantity, sale.actor, sale.conflict) == ("sale:P1:R-1", 2, "cashier-2", False)
        again = till.sell(a, 2, sale_id="R-1", notes="receipt 1", actor="cashier-2")
        assert again == sale, "the same POS id: the first sale"
        with pytest.raises(inventory.ConflictError):
            till.sell(a, 3, sale_id="R-1")  # the id of another sale
        with pytest.raises(inventory.InsufficientStockError):
            till.sell(a, 9)
        with pytest.raises(inventory.NotFoundError):
            till.sell("00000000-0000-7000-8000-000000000000", 1)
        assert till.inventory.get_inventory(a, SHOP).quantity == 8

    # The same till, central unreachable: it sells and keeps the sales.
    with inventory.Till(path, DOWN, central.key, "P1", SHOP) as till:
        till.sell(a, 1)
        report = till.sync()
        assert not report.complete and report.error_code == "UNREACHABLE"
        assert [s.quantity for s in till.pending()] == [2, 1]
    assert commits(central.db, a) == []

    with inventory.Till(path, central.url, central.key, "P1", SHOP) as till:
        report = till.sync()
        assert (report.complete, report.pushed, report.already_applied) == (True, 2, 0)
        assert till.pending() == []
        assert till.last_report().pushed == 2
        assert till.inventory.verify().ok
    applied = commits(central.db, a)
    assert sorted((m.quantity, m.actor) for m in applied) == [(1, "till-p1"), (2, "till-p1")]
    references = {m.reference for m in applied}
    assert len(references) == 2 and "sale:P1:R-1" in references


def test_refusals_are_the_engines_errors(tmp_path, central):
    with pytest.raises(inventory.ValidationError) as e:
        inventory.Till(tmp_path / "t.db", central.url, central.key, "P 1", SHOP)
    assert e.value.field == "till_id"
    with pytest.raises(inventory.ValidationError):
        inventory.Till(tmp_path / "t.db", "ftp://x", central.key, "P1", SHOP)
    with pytest.raises(inventory.ValidationError):
        inventory.Till(tmp_path / "t.db", central.url, central.key, "P1", SHOP, lease=-1)
    till = inventory.Till(tmp_path / "t.db", central.url, central.key, "P1", SHOP)
    with pytest.raises(inventory.BusyError):
        inventory.Till(tmp_path / "t.db", central.url, central.key, "P1", SHOP)
    with pytest.raises(inventory.ValidationError):
        till.resolve("sale:P1:x", "keep", "why")
    with pytest.raises(inventory.NotFoundError):
        till.resolve("sale:P1:x", "apply", "why")
    till.close()
    till.close()
    assert till.closed
    with pytest.raises(inventory.StorageError):
        till.pending()
    # A wrong key is central's refusal, reported, not raised.
    with inventory.Till(tmp_path / "t.db", central.url, "inv_wrong", "P1", SHOP) as till:
        report = till.sync()
        assert not report.complete and report.error_code == "UNAUTHORIZED"


def test_a_lapsed_lease_is_a_conflict_an_operator_resolves(tmp_path, central):
    _, b = central.products
    with inventory.Till(tmp_path / "till.db", central.url, central.key, "P1", SHOP, lease=1) as till:
        till.set_target(b, 3)
        assert till.sync().complete
        sale = till.sell(b, 2)
        # A web shop on central's file, two seconds on: the lease has lapsed, and the shop's
        # first operation on the product releases it and takes every unit.
        later = inventory.ManualClock(datetime.now(timezone.utc) + timedelta(seconds=2))
        with inventory.Inventory(central.db, clock=later) as inv:
            inv.reserve_stock(b, 3, location=SHOP, reference="web-1")
        report = till.sync()
        assert report.complete
        [conflict] = report.conflicts
        assert (conflict.sale.reference, conflict.code, conflict.resolution) == (sale.reference, "INSUFFICIENT_STOCK", None)
        assert [s.conflict for s in till.pending()] == [True]
        assert till.conflicts() == [conflict]
        assert till.resolve(sale.reference, "discard", "voided at the counter") is True
        assert till.conflicts() == [] and till.pending() == []
    with inventory.Inventory(central.db) as inv:
        [adjust] = [m for m in inv.list_transactions(b, limit=100) if m.reference == sale.reference]
        assert (adjust.type, adjust.quantity) == ("ADJUST", 0)
        assert "voided at the counter" in adjust.notes


def test_a_sync_waiting_on_central_releases_the_gil(tmp_path, central):
    a, _ = central.products
    path = tmp_path / "till.db"
    with inventory.Till(path, central.url, central.key, "P1", SHOP) as till:
        till.set_target(a, 5)
        assert till.sync().complete
    # Central that accepts and never answers.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    url = "http://127.0.0.1:%d" % silent.getsockname()[1]
    with inventory.Till(path, url, central.key, "P1", SHOP, timeout=2) as till:
        reports = []
        syncing = threading.Thread(target=lambda: reports.append(till.sync()))
        syncing.start()
        # The sync has sent its request and waits for the answer.
        silent.settimeout(10)
        connection, _ = silent.accept()
        connection.settimeout(10)
        head = b""
        while b"\r\n\r\n" not in head:
            head += connection.recv(65536)
        # Python code (and a sale) runs on this thread while the sync waits.
        spins = 0
        start = time.monotonic()
        while time.monotonic() - start < 0.3:
            spins += 1
        sale = till.sell(a, 1)
        assert syncing.is_alive(), "the sync held the GIL"
        syncing.join()
        assert spins > 1000 and sale.quantity == 1
        assert not reports[0].complete and reports[0].error_code == "UNREACHABLE"
    connection.close()
    silent.close()


def test_a_background_sync_pushes_without_being_called(tmp_path, central):
    a, _ = central.products
    with inventory.Till(tmp_path / "till.db", central.url, central.key, "P1", SHOP, sync_interval=0.1) as till:
        till.set_target(a, 3)
        wait_until(lambda: till.allotments()[0].remaining, "a background sync takes the allotment", timeout=20)
        sale = till.sell(a, 1)
        wait_until(lambda: not till.pending(), "a background sync pushes the sale", timeout=20)
        assert till.last_report().complete
    assert [m.reference for m in commits(central.db, a)] == [sale.reference]


def test_a_second_till_under_one_id_is_refused_and_keeps_its_sales(tmp_path, central):
    a = central.products[0]
    with pytest.raises(inventory.ValidationError) as e:
        inventory.Till(tmp_path / "x.db", central.url, central.key, "P1", SHOP, retention=-1)
    assert e.value.field == "retention"
    with inventory.Till(tmp_path / "one.db", central.url, central.key, "P1", SHOP,
                        retention=7 * 86400) as first:
        first.sync()
        first.set_target(a, 5)
        report = first.sync()
        assert report.complete and not report.rewound and report.repushed == 0
        with inventory.Till(tmp_path / "two.db", central.url, central.key, "P1", SHOP) as second:
            refused = second.sync()
            assert not refused.complete and refused.error_code == "CONFLICT"
            assert "another instance" in refused.error_message
            with pytest.raises(inventory.NotFoundError):
                second.sell(a, 1)  # it never mirrored the catalogue: it sells nothing
        first.sell(a, 1)
        assert first.sync().pushed == 1
    assert len(commits(central.db, a)) == 1


def test_central_lists_its_tills_and_takes_one_over(tmp_path, central):
    a = central.products[0]
    with inventory.Till(tmp_path / "one.db", central.url, central.key, "P1", SHOP) as till:
        till.sync()
        till.set_target(a, 5)
        assert till.sync().complete
    with inventory.Inventory(central.db) as inv:
        [status] = inv.tills()
        registration = status.till
        assert (registration.id, registration.key, registration.location) == ("P1", "till-p1", SHOP)
        assert registration.instance_id and registration.last_sync_at >= registration.registered_at
        assert 0 <= status.lag_seconds < 60
        [held] = status.allotments
        assert (held.product_id, held.reference, held.quantity) == (a, "till:P1", 5)
        assert held.owner == "till-p1" and held.expires_at is not None
        # The library's own reservation has no owner; every read of a reservation shows it.
        inv.reserve_stock(a, 1, location=SHOP, reference="web-1")
        owners = {r.reference: r.owner for r in inv.list_reservations(a)}
        assert owners == {"till:P1": "till-p1", "web-1": None}
        assert [r.owner for r in inv.reservations_by_reference("till:P1")] == ["till-p1"]

        with pytest.raises(TypeError):
            inv.take_over_till("P1")  # release is required: releasing is not a default
        taken = inv.take_over_till("P1", release=False)
        assert (taken.till.id, taken.released, taken.transferred) == ("P1", 0, 5)
        assert inv.tills() == []
        assert [r.quantity for r in inv.reservations_by_reference("till:P1")] == [5]
        with pytest.raises(inventory.NotFoundError):
            inv.take_over_till("P1", release=True)
    # Another device takes the id over: it registers anew, and central holds its allotment.
    with inventory.Till(tmp_path / "two.db", central.url, central.key, "P1", SHOP) as device:
        assert device.sync().complete
    with inventory.Inventory(central.db) as inv:
        [status] = inv.tills()
        assert status.till.instance_id != registration.instance_id
        reserved = inv.get_inventory(a, location=SHOP).reserved
        taken = inv.take_over_till("P1", release=True)
        assert taken.till.instance_id == status.till.instance_id
        assert taken.released == sum(r.quantity for r in status.allotments)
        assert inv.get_inventory(a, location=SHOP).reserved == reserved - taken.released
        assert inv.verify().ok
