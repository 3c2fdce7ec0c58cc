"""Who did what: the actor recorded on movements (per handle and per call), and API keys
(create, list, revoke, authenticate) with secrets that never reach a repr, str or message."""

from datetime import datetime, timedelta, timezone

import pytest

import inventory
from conftest import wait_until


def actors(inv, product_id):
    """(type, actor) of the product's movements, oldest first."""
    return [(m.type, m.actor) for m in reversed(inv.list_transactions(product_id, 100))]


def test_actor_per_handle_and_per_call(db_path):
    with inventory.Inventory(db_path, actor="till-3") as till:
        assert till.actor == "till-3"
        p = till.create_product(name="Mug", sku="MUG", price=8, initial_quantity=10)
        till.add_stock(p.id, 5)
        till.remove_stock(p.id, 1, actor="alice")
        till.reserve_stock(p.id, 2, reference="O-1")
        till.unreserve_stock(p.id, 1, reference="O-1", actor="bob")
        till.commit_reservation(p.id, "O-1", actor="carol")
        till.transfer_stock(p.id, 3, to_location="Back", actor="dave")
        till.count_stock(p.id, 9, location="Back", actor="erin")
        till.batch(
            [
                {"op": "add", "product_id": p.id, "quantity": 1},
                {"op": "remove", "product_id": p.id, "quantity": 1},
            ],
            actor="frank",
        )
        q = till.create_product(name="Cup", sku="CUP", price=1, initial_quantity=1, actor="gina")
    with inventory.Inventory(db_path) as plain:
        assert plain.actor is None
        plain.add_stock(p.id, 1)
        plain.add_stock(p.id, 1, actor="hank")
        assert actors(plain, p.id) == [
            ("IN", "till-3"),
            ("IN", "till-3"),
            ("OUT", "alice"),
            ("RESERVE", "till-3"),
            ("UNRESERVE", "bob"),
            ("COMMIT", "carol"),
            ("TRANSFER_OUT", "dave"),
            ("TRANSFER_IN", "dave"),
            ("ADJUST", "erin"),
            ("IN", "frank"),
            ("OUT", "frank"),
            ("IN", None),
            ("IN", "hank"),
        ]
        assert actors(plain, q.id) == [("IN", "gina")]
        feed = [m.actor for m in plain.changes(0, 1000).movements]
        assert feed[-2:] == [None, "hank"] and "frank" in feed
        assert "actor='hank'" in repr(plain.list_transactions(p.id, 1)[0])
        assert plain.verify().ok


def test_actor_is_checked_by_the_engine(inv, laptop):
    with pytest.raises(inventory.ValidationError) as err:
        inv.add_stock(laptop.id, 1, actor="x" * 256)
    assert err.value.field == "actor"
    assert inv.get_inventory(laptop.id).on_hand == 50


def test_expiry_has_no_actor(tmp_path):
    clock = inventory.ManualClock()
    with inventory.Inventory(tmp_path / "e.db", clock=clock, actor="till-1") as inv:
        p = inv.create_product(name="T", sku="T", price=1, initial_quantity=5)
        inv.reserve_stock(p.id, 2, reference="CART", expires_in_seconds=60)
        clock.advance(61)
        assert inv.expire_reservations() == 1
        assert actors(inv, p.id)[-2:] == [("RESERVE", "till-1"), ("EXPIRE", None)]


def test_keys_create_list_revoke_authenticate(inv):
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    till = inv.create_key("till-3", "write", ["Store 1", "Store 2"])
    assert isinstance(till, inventory.CreatedKey)
    key = till.key
    assert (key.name, key.scope, key.locations, key.revoked_at) == (
        "till-3", "write", ["Store 1", "Store 2"], None,
    )
    assert key.created_at >= before and key.created_at.tzinfo is not None
    assert till.secret.startswith("inv_") and len(till.secret) > 32
    ops = inv.create_key("ops", "admin")
    assert ops.key.locations is None and ops.secret != till.secret

    assert inv.authenticate(till.secret) == key
    assert inv.authenticate(ops.secret).name == "ops"
    assert [(k.name, k.scope) for k in inv.list_keys()] == [("till-3", "write"), ("ops", "admin")]

    with pytest.raises(inventory.ConflictError) as err:
        inv.create_key("till-3", "read")
    assert err.value.field == "name"
    with pytest.raises(inventory.ValidationError) as err:
        inv.create_key("x", "owner")
    assert err.value.field == "scope"
    with pytest.raises(inventory.ValidationError) as err:
        inv.create_key("x", "read", [])
    assert err.value.field == "locations"
    with pytest.raises(inventory.ValidationError) as err:
        inv.create_key("", "read")
    assert err.value.field == "name"

    revoked = inv.revoke_key("till-3")
    assert revoked.name == "till-3" and revoked.revoked_at is not None
    with pytest.raises(inventory.UnauthorizedError) as err:
        inv.authenticate(till.secret)  # refused at once
    assert err.value.code == "UNAUTHORIZED"
    with pytest.raises(inventory.NotFoundError):
        inv.revoke_key("till-3")
    with pytest.raises(inventory.UnauthorizedError):
        inv.authenticate("inv_" + "0" * 64)
    listed = {k.name: k for k in inv.list_keys()}
    assert listed["till-3"].revoked_at is not None and listed["ops"].revoked_at is None
    # A revoked key's name is free again, with a new secret.
    again = inv.create_key("till-3", "read")
    assert inv.authenticate(again.secret).scope == "read"
    assert len(inv.list_keys()) == 3


def test_another_handle_sees_keys_change(db_path):
    with inventory.Inventory(db_path) as a, inventory.Inventory(db_path) as b:
        created = a.create_key("till", "write")
        assert b.authenticate(created.secret).name == "till"
        a.revoke_key("till")
        def refused():
            try:
                b.authenticate(created.secret)
            except inventory.UnauthorizedError:
                return True
            return False

        wait_until(refused, "the other handle sees the revocation")


def test_a_secret_never_appears_in_a_repr_or_message(inv, laptop):
    created = inv.create_key("till-3", "write", ["Warehouse A"])
    secret = created.secret
    hidden = secret[len("inv_"):]
    seen = [
        repr(created), str(created), repr(created.key), str(created.key),
        repr(inv.list_keys()), repr(inv.authenticate(secret)), repr(inv), str(inv),
    ]
    inv.add_stock(laptop.id, 1, actor=created.key.name)
    seen += [repr(m) for m in inv.list_transactions(laptop.id, 100)]
    inv.revoke_key("till-3")
    for attempt in (secret, secret + "x", secret[:-1]):
        with pytest.raises(inventory.UnauthorizedError) as err:
            inv.authenticate(attempt)
        seen += [str(err.value), repr(err.value), err.value.message, repr(err.value.args)]
    for text in seen:
        assert hidden not in text, text
    assert "<hidden>" in repr(created)
