"""Webhook subscriptions from Python: the same calls and names as /api/webhooks. Delivery is a
server's (docs/WEBHOOKS.md); here the subscriptions are made, changed and read."""

import pytest

import inventory

PUBLIC = "http://93.184.216.34/hook"  # an address literal: no name to resolve


def test_create_list_pause_resume_rewind_delete(inv, laptop):
    made = inv.create_webhook(PUBLIC, product_ids=[laptop.id], locations=["Warehouse A"])
    assert made.secret.startswith("whsec_")
    assert made.secret not in repr(made)
    hook = made.webhook
    assert (hook.url, hook.events, hook.state) == (PUBLIC, ["movement.created"], "active")
    assert hook.product_ids == [laptop.id] and hook.locations == ["Warehouse A"]
    assert hook.after == inv.changes(0).next_after
    assert inv.webhooks() == [hook] and inv.webhook(hook.id) == hook

    assert inv.pause_webhook(hook.id).state == "paused"
    resumed = inv.resume_webhook(hook.id)
    assert (resumed.state, resumed.failures) == ("active", 0)
    assert inv.rewind_webhook(hook.id, 0).after == 0
    with pytest.raises(inventory.ValidationError) as err:
        inv.rewind_webhook(hook.id, 10**9)
    assert err.value.field == "after"
    assert inv.webhook_deliveries(hook.id) == []

    assert inv.delete_webhook(hook.id).id == hook.id
    with pytest.raises(inventory.NotFoundError):
        inv.webhook(hook.id)
    with pytest.raises(inventory.NotFoundError):
        inv.webhook_deliveries("not-a-uuid")
    assert inv.webhooks() == []


def test_bad_subscriptions_are_refused_naming_the_field(inv):
    for url, field in [
        ("http://127.0.0.1:8080/hook", "url"),
        ("http://169.254.169.254/latest", "url"),
        ("ftp://example.com/", "url"),
    ]:
        with pytest.raises(inventory.ValidationError) as err:
            inv.create_webhook(url)
        assert err.value.field == field
    with pytest.raises(inventory.ValidationError) as err:
        inv.create_webhook(PUBLIC, events=["stock.teleported"])
    assert err.value.field == "events"
    with pytest.raises(inventory.ValidationError) as err:
        inv.create_webhook(PUBLIC, product_ids=["nope"])
    assert err.value.field == "product_ids"
    assert inv.webhooks() == []
