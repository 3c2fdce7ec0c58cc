"""Stock operations, locations, reservations, batches, idempotency and the change feed."""

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

import inventory


def test_add_remove_reserve_unreserve(inv, laptop):
    level = inv.add_stock(laptop.id, 5, reference="PO-1", notes="restock")
    assert isinstance(level, inventory.StockLevel)
    assert (level.quantity, level.on_hand, level.reserved, level.available) == (55, 55, 0, 55)
    assert level.location == "Warehouse A" and level.product_id == laptop.id
    assert level.updated_at.tzinfo is not None
    assert inv.remove_stock(laptop.id, 15, reference="SO-1").available == 40
    level = inv.reserve_stock(laptop.id, 10, reference="ORDER-456")
    assert (level.on_hand, level.reserved, level.available) == (40, 10, 30)
    assert inv.unreserve_stock(laptop.id, 4, reference="ORDER-456").reserved == 6
    # With a reference and no quantity: the whole reservation.
    assert inv.unreserve_stock(laptop.id, reference="ORDER-456").reserved == 0
    # Without a reference: unreferenced reserved stock.
    inv.reserve_stock(laptop.id, 3)
    assert inv.unreserve_stock(laptop.id, 3).reserved == 0

    moves = inv.list_transactions(laptop.id, limit=10)
    assert [(m.type, m.quantity, m.reference) for m in moves] == [
        ("UNRESERVE", 3, None),
        ("RESERVE", 3, None),
        ("UNRESERVE", 6, "ORDER-456"),
        ("UNRESERVE", 4, "ORDER-456"),
        ("RESERVE", 10, "ORDER-456"),
        ("OUT", 15, "SO-1"),
        ("IN", 5, "PO-1"),
        ("IN", 50, None),
    ]
    m = moves[-2]
    assert m.notes == "restock" and m.on_hand_after == 55 and m.reserved_after == 0
    assert m.external_id is None
    assert m.location == "Warehouse A" and m.product_id == laptop.id
    assert isinstance(m.id, str) and isinstance(m.inventory_id, str) and m.transfer_id is None
    assert m.created_at.tzinfo is not None
    assert [m.seq for m in moves] == sorted((m.seq for m in moves), reverse=True)
    # Pages and cursors.
    assert [m.seq for m in inv.list_transactions(laptop.id, 2, 1)] == [moves[1].seq, moves[2].seq]
    assert [m.seq for m in inv.list_transactions(laptop.id, 100, after=moves[2].seq)] == [
        moves[0].seq,
        moves[1].seq,
    ]
    assert [m.seq for m in inv.list_transactions(laptop.id, 100, before=moves[-2].seq)] == [
        moves[-1].seq
    ]
    assert inv.verify().ok


def test_seed_snippet(inv):
    p = inv.create_product(
        name="Laptop", sku="LAP001", price="1500.00", description="Gaming Laptop",
        location="Warehouse A", initial_quantity=50,
    )
    level = inv.reserve_stock(p.id, 10, reference="ORDER-456")
    assert level.available == 40
    assert [(m.type, m.quantity, m.reference) for m in inv.list_transactions(p.id, limit=10)] == [
        ("RESERVE", 10, "ORDER-456"),
        ("IN", 50, None),
    ]


def test_locations_transfer_and_count(inv, laptop):
    assert inv.create_location("Store 1").name == "Store 1"
    with pytest.raises(inventory.ConflictError):
        inv.create_location("Store 1")
    source, dest = inv.transfer_stock(
        laptop.id, 8, to_location="Store 1", reference="T-1", notes="weekly"
    )
    assert (source.location, source.on_hand, dest.location, dest.on_hand) == (
        "Warehouse A", 42, "Store 1", 8,
    )
    back, _ = inv.transfer_stock(laptop.id, 2, from_location="Store 1", to_location="Warehouse A")
    assert back.location == "Store 1" and back.on_hand == 6
    out, into = inv.list_transactions(laptop.id, 2)[::-1]
    assert (out.type, into.type) == ("TRANSFER_OUT", "TRANSFER_IN")
    assert out.transfer_id is not None and out.transfer_id == into.transfer_id

    with pytest.raises(inventory.InsufficientStockError):
        inv.transfer_stock(laptop.id, 7, from_location="Store 1", to_location="Warehouse A")

    inv.reserve_stock(laptop.id, 2, location="Store 1", reference="R")
    counted = inv.count_stock(laptop.id, 4, location="Store 1", reference="COUNT-1", notes="shelf")
    assert (counted.on_hand, counted.reserved) == (4, 2)
    adjust = inv.list_transactions(laptop.id, 1, location="Store 1")[0]
    assert (adjust.type, adjust.quantity, adjust.notes) == ("ADJUST", -2, "shelf")
    with pytest.raises(inventory.InventoryError):
        inv.count_stock(laptop.id, 1, location="Store 1")  # below what is reserved

    summary = inv.get_inventory(laptop.id)
    assert (summary.on_hand, summary.reserved) == (44 + 4, 2)
    assert [(l.location, l.on_hand) for l in summary.locations] == [
        ("Store 1", 4), ("Warehouse A", 44),
    ]
    one = inv.get_inventory(laptop.id, "Store 1")
    assert isinstance(one, inventory.StockLevel) and one.available == 2
    with pytest.raises(inventory.NotFoundError):
        inv.get_inventory(laptop.id, "Nowhere")

    locations = {l.name: l for l in inv.list_locations()}
    assert locations["Store 1"].on_hand == 4 and locations["Store 1"].products == 1
    assert locations["Warehouse A"].available == 44
    assert locations["Store 1"].created_at.tzinfo is not None
    # A stock operation at a new location creates it.
    inv.add_stock(laptop.id, 1, location="Store 2")
    assert "Store 2" in {l.name for l in inv.list_locations()}
    assert inv.verify().ok


def test_reservations_commit_and_lookup(inv, laptop):
    other = inv.create_product(name="Mouse", sku="MOU001", price="25", initial_quantity=10)
    inv.reserve_stock(laptop.id, 5, reference="ORDER-1")
    inv.reserve_stock(laptop.id, 2, reference="ORDER-1")  # adds to it
    inv.reserve_stock(other.id, 1, reference="ORDER-1", expires_in_seconds=3600)
    mine = inv.list_reservations(laptop.id)
    assert [(r.reference, r.quantity, r.location) for r in mine] == [("ORDER-1", 7, "Warehouse A")]
    assert isinstance(mine[0].id, str) and mine[0].expires_at is None
    assert mine[0].created_at.tzinfo is not None and mine[0].updated_at >= mine[0].created_at
    both = inv.reservations_by_reference("ORDER-1")
    assert sorted(r.product_id for r in both) == sorted([laptop.id, other.id])
    mouse = next(r for r in both if r.product_id == other.id)
    assert mouse.expires_at is not None and mouse.expires_at > datetime.now(timezone.utc)

    level = inv.commit_reservation(laptop.id, "ORDER-1", quantity=3)
    assert (level.on_hand, level.reserved) == (47, 4)
    level = inv.commit_reservation(laptop.id, "ORDER-1", quantity=1, release_remainder=True)
    assert (level.on_hand, level.reserved) == (46, 0)
    assert inv.list_reservations(laptop.id) == []
    assert inv.commit_reservation(other.id, "ORDER-1", notes="shipped").on_hand == 9
    with pytest.raises(inventory.InsufficientReservedError) as err:
        inv.commit_reservation(laptop.id, "ORDER-1", quantity=1)
    assert isinstance(err.value, inventory.InsufficientStockError)
    assert err.value.code == "INSUFFICIENT_RESERVED"
    assert [m.type for m in inv.list_transactions(laptop.id, 2)] == ["UNRESERVE", "COMMIT"]


@pytest.fixture
def clock():
    return inventory.ManualClock()


@pytest.fixture
def clocked(tmp_path, clock):
    """A database on a clock the test moves, with the laptop product."""
    with inventory.Inventory(tmp_path / "clocked.db", clock=clock) as handle:
        handle.create_product(name="Laptop", sku="LAP001", price=1500, location="Warehouse A",
                              initial_quantity=50)
        yield handle


def test_reservation_expiry(clocked, clock):
    inv = clocked
    laptop = inv.list_products()[0]
    inv.reserve_stock(laptop.id, 5, reference="CART-1", expires_in_seconds=1)
    at = clock.now().astimezone(timezone(timedelta(hours=2))) + timedelta(hours=1)
    inv.reserve_stock(laptop.id, 1, reference="CART-2", expires_at=at)
    cart2 = [r for r in inv.list_reservations(laptop.id) if r.reference == "CART-2"][0]
    assert cart2.expires_at == at  # same instant, returned in UTC
    assert cart2.expires_at.utcoffset() == timedelta(0)
    assert inv.get_inventory(laptop.id).reserved == 6
    clock.advance(1)
    assert inv.get_inventory(laptop.id).reserved == 1  # reads release expired reservations
    assert [r.reference for r in inv.list_reservations(laptop.id)] == ["CART-2"]
    assert inv.list_transactions(laptop.id, 1)[0].type == "EXPIRE"
    assert inv.expire_reservations() == 0
    with pytest.raises(inventory.ValidationError) as err:
        inv.reserve_stock(laptop.id, 1, expires_in_seconds=5, expires_at=at)
    assert err.value.field == "expires_at"


def test_expiry_with_a_manual_clock(tmp_path):
    start = datetime(2030, 1, 1, tzinfo=timezone.utc)
    clock = inventory.ManualClock(start)
    assert clock.now() == start and "2030" in repr(clock)
    with inventory.Inventory(tmp_path / "clock.db", clock=clock) as inv:
        assert inv.now() == start
        p = inv.create_product(name="A", sku="A", price=1, initial_quantity=10)
        inv.reserve_stock(p.id, 4, reference="CART", expires_in_seconds=60)
        inv.reserve_stock(p.id, 1, reference="LATER", expires_at=start + timedelta(hours=1))
        r = {r.reference: r for r in inv.list_reservations(p.id)}
        assert r["CART"].expires_at == start + timedelta(seconds=60)
        assert r["CART"].created_at == start
        clock.advance(59.9)
        assert inv.get_inventory(p.id).reserved == 5  # not yet
        clock.advance(timedelta(milliseconds=100))
        assert inv.get_inventory(p.id).reserved == 1  # released on read, at exactly 60 s
        expired = inv.list_transactions(p.id, 1)[0]
        assert (expired.type, expired.quantity, expired.reference) == ("EXPIRE", 4, "CART")
        assert expired.created_at == start + timedelta(seconds=60)
        clock.set(start + timedelta(days=1))
        assert inv.expire_reservations() == 1  # the sweep finds LATER
        assert inv.list_reservations(p.id) == []
        assert inv.verify().ok
    with pytest.raises(TypeError):
        clock.advance("1")
    with pytest.raises(inventory.ValidationError):
        clock.advance(float("inf"))
    with pytest.raises(inventory.ValidationError):
        clock.set(datetime(2030, 1, 1))
    assert inventory.ManualClock().now() == start  # the default start


def test_expire_reservations_sweep(clocked, clock):
    inv = clocked
    laptop = inv.list_products()[0]
    inv.reserve_stock(laptop.id, 2, reference="A", expires_in_seconds=1)
    assert inv.expire_reservations() == 0
    clock.advance(1)
    assert inv.expire_reservations() == 1
    assert inv.list_transactions(laptop.id, 1)[0].type == "EXPIRE"


def test_compare_and_set_guards(inv, laptop):
    assert inv.remove_stock(laptop.id, 1, expected_available=50).available == 49
    with pytest.raises(inventory.ConflictError) as err:
        inv.remove_stock(laptop.id, 1, expected_available=50)
    assert err.value.field == "expected_available"
    assert inv.add_stock(laptop.id, 1, expected_quantity=49).on_hand == 50
    with pytest.raises(inventory.ConflictError) as err:
        inv.reserve_stock(laptop.id, 1, expected_quantity=1)
    assert err.value.field == "expected_quantity"
    with pytest.raises(inventory.ValidationError):
        inv.add_stock(laptop.id, 1, expected_available=1, expected_quantity=1)
    assert inv.get_inventory(laptop.id).on_hand == 50


def test_count_with_compare_and_set(inv, laptop):
    """A count conditional on what the counter last saw: applied when current, else CONFLICT
    naming the guard, with nothing changed."""
    level = inv.count_stock(laptop.id, 48, expected_quantity=50, notes="shelf")
    assert (level.on_hand, level.available) == (48, 48)
    with pytest.raises(inventory.ConflictError) as err:
        inv.count_stock(laptop.id, 47, expected_quantity=50)
    assert err.value.field == "expected_quantity"
    inv.reserve_stock(laptop.id, 3, reference="HOLD")
    level = inv.count_stock(laptop.id, 46, expected_available=45)
    assert (level.on_hand, level.reserved, level.available) == (46, 3, 43)
    with pytest.raises(inventory.ConflictError) as err:
        inv.count_stock(laptop.id, 40, expected_available=45)
    assert err.value.field == "expected_available"
    # The same guard in a batch item.
    with pytest.raises(inventory.ConflictError) as err:
        inv.batch([{"op": "count", "product_id": laptop.id, "counted": 1,
                    "expected_quantity": 50}])
    assert err.value.field == "expected_quantity" and err.value.index == 0
    inv.batch([{"op": "count", "product_id": laptop.id, "counted": 44, "expected_quantity": 46}])
    summary = inv.get_inventory(laptop.id)
    assert (summary.on_hand, summary.reserved) == (44, 3)
    assert [m.quantity for m in inv.list_transactions(laptop.id, 3) if m.type == "ADJUST"] == [
        -2, -2,
    ]
    assert inv.verify().ok


def test_commit_without_a_reference_takes_the_unreferenced_reservation(inv, laptop):
    inv.reserve_stock(laptop.id, 4)
    inv.reserve_stock(laptop.id, 2, reference="ORDER-1")
    level = inv.commit_reservation(laptop.id, quantity=3)
    assert (level.on_hand, level.reserved) == (47, 3)
    level = inv.commit_reservation(laptop.id)  # the rest of it
    assert (level.on_hand, level.reserved) == (46, 2)
    assert [r.reference for r in inv.list_reservations(laptop.id)] == ["ORDER-1"]
    with pytest.raises(inventory.InsufficientReservedError):
        inv.commit_reservation(laptop.id)


def test_summary_is_a_level_of_totals(inv, laptop):
    inv.transfer_stock(laptop.id, 5, to_location="Store 1")
    inv.reserve_stock(laptop.id, 2, location="Store 1")
    summary = inv.get_inventory(laptop.id)
    assert isinstance(summary, inventory.StockSummary)
    assert isinstance(summary, inventory.StockLevel)
    assert (summary.quantity, summary.on_hand, summary.reserved, summary.available) == (50, 50, 2, 48)
    assert (summary.location, summary.product_id) == ("Warehouse A", laptop.id)
    own = inv.get_inventory(laptop.id, "Warehouse A")
    assert summary.id == own.id and summary.created_at == own.created_at
    assert summary.updated_at >= own.updated_at
    assert [(l.location, l.on_hand, l.reserved) for l in summary.locations] == [
        ("Store 1", 5, 2), ("Warehouse A", 45, 0),
    ]
    assert summary == inv.get_inventory(laptop.id) and not summary != inv.get_inventory(laptop.id)
    assert summary == inv.get_product(laptop.id).inventory
    # A summary is never equal to a single level, either way round.
    assert summary != own and own != summary
    inv.add_stock(laptop.id, 1)
    assert summary != inv.get_inventory(laptop.id)
    assert "locations=['Store 1', 'Warehouse A']" in repr(summary)


def test_idempotency_keys(inv, laptop):
    first = inv.reserve_stock(laptop.id, 3, reference="O-1", idempotency_key="k-1")
    again = inv.reserve_stock(laptop.id, 3, reference="O-1", idempotency_key="k-1")
    assert again == first and inv.get_inventory(laptop.id).reserved == 3
    with pytest.raises(inventory.ConflictError) as err:
        inv.reserve_stock(laptop.id, 4, reference="O-1", idempotency_key="k-1")
    assert err.value.field == "idempotency_key"
    # Every write takes a key.
    p = inv.create_product(name="K", sku="K1", price="1", idempotency_key="create")
    assert inv.create_product(name="K", sku="K1", price="1", idempotency_key="create") == p
    u = inv.update_product(p.id, name="K2", idempotency_key="upd")
    assert inv.update_product(p.id, name="K2", idempotency_key="upd") == u
    loc = inv.create_location("L", idempotency_key="loc")
    assert inv.create_location("L", idempotency_key="loc") == loc
    for call in (
        lambda: inv.add_stock(p.id, 1, idempotency_key="a"),
        lambda: inv.remove_stock(p.id, 1, idempotency_key="r"),
        lambda: inv.transfer_stock(laptop.id, 1, to_location="L", idempotency_key="t"),
        lambda: inv.count_stock(laptop.id, 5, location="L", idempotency_key="c"),
        lambda: inv.unreserve_stock(laptop.id, 1, reference="O-1", idempotency_key="u"),
        lambda: inv.commit_reservation(laptop.id, "O-1", quantity=1, idempotency_key="m"),
        lambda: inv.batch([{"op": "add", "product_id": p.id, "quantity": 2}], idempotency_key="b"),
    ):
        assert call() == call()
    inv.delete_product(p.id, idempotency_key="del")
    inv.delete_product(p.id, idempotency_key="del")  # a replay, not NOT_FOUND
    seen = [(m.type, m.quantity) for m in inv.changes(0, 1000).movements if m.product_id == p.id]
    assert seen == [("IN", 1), ("OUT", 1), ("IN", 2)]
    assert inv.verify().ok


def test_batch_all_or_nothing(inv, laptop):
    mouse = inv.create_product(name="Mouse", sku="MOU001", price="25", initial_quantity=10)
    result = inv.batch([
        {"op": "reserve", "product_id": laptop.id, "quantity": 2, "reference": "B-1"},
        {"op": "reserve", "product_id": mouse.id, "quantity": 1, "reference": "B-1",
         "expires_in_seconds": 600},
        {"op": "transfer", "product_id": laptop.id, "quantity": 5, "to_location": "Store"},
        {"op": "transfer", "product_id": laptop.id, "quantity": 1, "from_location": "Store",
         "to_location": "Warehouse A"},
        {"op": "count", "product_id": mouse.id, "counted": 12, "notes": "count"},
        {"op": "commit", "product_id": laptop.id, "reference": "B-1", "quantity": None},
        {"op": "add", "product_id": mouse.id, "quantity": 1, "expected_quantity": 12},
    ])
    assert [len(levels) for levels in result] == [1, 1, 2, 2, 1, 1, 1]
    assert result[0][0].reserved == 2 and result[2][1].location == "Store"
    assert (result[3][0].location, result[3][0].on_hand) == ("Store", 4)
    assert result[-1][0].on_hand == 13
    before = inv.changes(0, 1000).next_after
    with pytest.raises(inventory.InsufficientStockError) as err:
        inv.batch([
            {"op": "add", "product_id": laptop.id, "quantity": 1},
            {"op": "remove", "product_id": mouse.id, "quantity": 1000},
        ])
    assert err.value.index == 1 and err.value.code == "INSUFFICIENT_STOCK"
    assert inv.changes(0, 1000).next_after == before  # nothing applied
    with pytest.raises(inventory.ValidationError):
        inv.batch([])  # the engine wants 1 to 1000 operations


@pytest.mark.parametrize(
    "item, error, field",
    [
        ({"op": "fly", "product_id": "x", "quantity": 1}, inventory.ValidationError, "op"),
        ({"product_id": "x", "quantity": 1}, inventory.ValidationError, "op"),
        ({"op": "add", "quantity": 1}, inventory.ValidationError, "product_id"),
        # The engine's one refusal of a key the op does not take names the key itself.
        ({"op": "add", "product_id": "PID", "quantity": 1, "colour": "red"},
         inventory.ValidationError, "colour"),
        ({"op": "add", "product_id": "PID", "quantity": 1, "counted": 1},
         inventory.ValidationError, "counted"),
        ({"op": "add", "product_id": "PID", "quantity": "1"}, TypeError, None),
        ({"op": "add", "product_id": 7, "quantity": 1}, TypeError, None),
        ({"op": "commit", "product_id": "PID", "reference": "R", "release_remainder": "yes"},
         TypeError, None),
        ({"op": "reserve", "product_id": "PID", "quantity": 1, "expires_at": "2030-01-01"},
         TypeError, None),
        ({"op": "add", "product_id": "PID", "quantity": 1, "notes": 5}, TypeError, None),
        # A key is accepted only if the engine's table gives it to the op.
        ({"op": "add", "product_id": "PID", "counted": 1}, inventory.ValidationError, "counted"),
        ({"op": "add", "product_id": "PID", "quantity": 1, "counted": None},
         inventory.ValidationError, "counted"),
        ({"op": "count", "product_id": "PID", "quantity": 1}, inventory.ValidationError,
         "quantity"),
        ({"op": "transfer", "product_id": "PID", "quantity": 1, "location": "Warehouse A",
          "to_location": "B"}, inventory.ValidationError, "location"),
        ({"op": "add", "product_id": "PID", "quantity": 1, "expires_in_seconds": 60},
         inventory.ValidationError, "expires_in_seconds"),
        ({"op": "remove", "product_id": "PID", "quantity": 1, "release_remainder": True},
         inventory.ValidationError, "release_remainder"),
        ({"op": "add", "product_id": "PID", "quantity": 1, "expected_available": 50,
          "expected_quantity": 50}, inventory.ValidationError, "expected_quantity"),
        ({"op": "reserve", "product_id": "PID", "quantity": 1, "expires_in_seconds": 60,
          "expires_at": datetime(2030, 1, 1, tzinfo=timezone.utc)}, inventory.ValidationError,
         "expires_at"),
        ({"op": "count", "product_id": "PID"}, inventory.ValidationError, "counted"),
        ("add", TypeError, None),
    ],
)
def test_batch_item_errors(inv, laptop, item, error, field):
    if isinstance(item, dict) and item.get("product_id") == "PID":
        item = {**item, "product_id": laptop.id}
    ok = {"op": "add", "product_id": laptop.id, "quantity": 1}
    with pytest.raises(error) as err:
        inv.batch([ok, item])
    if isinstance(err.value, inventory.InventoryError):
        assert err.value.field == field and err.value.index == 1
    assert inv.get_inventory(laptop.id).on_hand == 50
    with pytest.raises(TypeError):
        inv.batch(ok)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        inv.batch(5)  # type: ignore[arg-type]


def test_changes_pages(inv, laptop):
    inv.add_stock(laptop.id, 1)
    inv.add_stock(laptop.id, 2)
    page = inv.changes()
    assert isinstance(page, inventory.ChangePage)
    assert [(m.seq, m.type) for m in page.movements] == [(1, "IN"), (2, "IN"), (3, "IN")]
    assert page.next_after == 3
    first = inv.changes(0, 2)
    assert [m.seq for m in first.movements] == [1, 2] and first.next_after == 2
    rest = inv.changes(first.next_after, 2)
    assert [m.seq for m in rest.movements] == [3] and rest.next_after == 3
    empty = inv.changes(3)
    assert empty.movements == [] and empty.next_after == 3
    with pytest.raises(inventory.ValidationError):
        inv.changes(-1)


def test_iter_changes(inv, laptop):
    for _ in range(4):
        inv.add_stock(laptop.id, 1)
    feed = inv.iter_changes(limit=2)
    assert iter(feed) is feed and feed.after == 0
    assert [m.seq for m in feed] == [1, 2, 3, 4, 5]
    assert feed.after == 5
    assert [m.seq for m in inv.iter_changes(3)] == [4, 5]
    # Caught up and not following: stops at once, even with a timeout.
    assert list(inv.iter_changes(5, timeout=5)) == []


def test_iter_changes_follow(inv, laptop):
    got = []
    feed = inv.iter_changes(1, follow=True, timeout=10)

    def consume():
        for m in feed:
            got.append(m.quantity)
            if len(got) == 3:
                return

    t = threading.Thread(target=consume)
    t.start()
    for q in (7, 8, 9):
        inv.add_stock(laptop.id, q)
    t.join(15)
    assert not t.is_alive() and got == [7, 8, 9]
    # Following with a timeout stops once nothing new arrives.
    start = time.monotonic()
    assert list(inv.iter_changes(feed.after, follow=True, timeout=0.3)) == []
    assert 0.25 <= time.monotonic() - start < 5
    with pytest.raises(inventory.ValidationError):
        inv.iter_changes(follow=True, timeout=-1)


def test_following_the_feed_can_be_interrupted(inv, laptop):
    """A follow without a timeout waits without the GIL, yet Ctrl-C still reaches it."""
    import _thread
    import signal

    # Python's own SIGINT handler, whatever this process inherited: a suite started from a
    # background job inherits SIGINT ignored, and then no interrupt reaches Python at all.
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        timer = threading.Timer(0.3, _thread.interrupt_main)
        timer.start()
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            for _ in inv.iter_changes(1, follow=True):
                pass
        timer.join()
        assert time.monotonic() - start < 5
    finally:
        signal.signal(signal.SIGINT, inherited)


def test_a_receipt_carries_its_external_id(inv, laptop):
    inv.add_stock(laptop.id, 2, reference="PO-8", external_id="ERP-REC-8")
    inv.batch([{"op": "add", "product_id": laptop.id, "quantity": 1, "external_id": "ERP-REC-9"}])
    moves = inv.list_transactions(laptop.id, limit=3)
    assert [(m.type, m.external_id) for m in moves] == [
        ("IN", "ERP-REC-9"), ("IN", "ERP-REC-8"), ("IN", None)]
    assert inv.changes().movements[-1].external_id == "ERP-REC-9"
    with pytest.raises(inventory.ValidationError) as err:
        inv.remove_stock(laptop.id, 1, external_id="X")
    assert err.value.field == "external_id"
    with pytest.raises(TypeError):
        inv.add_stock(laptop.id, 1, external_id=7)
