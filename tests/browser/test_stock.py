"""Stock operation forms: a submission changes the level and shows up live, errors from the
API land next to the field, and one submission applies once however often it is sent."""

import time

from conftest import movements, new_product, open_product, stock
from playwright.sync_api import expect


def test_add_through_the_form_changes_the_level_and_reaches_the_feed_within_a_second(page, server):
    p = new_product(server, name="Gaming Laptop", sku="LAP-001", location="Warehouse A", initial_quantity=50)
    open_product(page, server, p["id"])
    expect(page.locator("#t-on_hand")).to_have_text("50")

    newest_before = page.locator("#feed li").first.get_attribute("data-seq")
    form = page.locator("#op-add")
    form.get_by_label("Quantity", exact=True).fill("7")
    form.get_by_label("Reference", exact=True).fill("PO-77")
    started = time.monotonic()
    form.get_by_role("button", name="Add").click()
    page.wait_for_function(
        "before => document.querySelector('#feed li')?.dataset.seq !== before", arg=newest_before, timeout=1000
    )
    elapsed = time.monotonic() - started
    expect(page.locator("#t-on_hand")).to_have_text("57", timeout=1000)
    expect(page.locator("#levels tr[data-location='Warehouse A'] td").first).to_have_text("57")
    expect(form.locator(".form-ok")).to_contain_text("on hand 57")

    ledger = movements(server, p["id"])
    assert [(m["type"], m["quantity"], m["reference"]) for m in ledger[:1]] == [("IN", 7, "PO-77")]
    seq = ledger[0]["seq"]
    newest = page.locator("#feed li").first
    assert newest.get_attribute("data-seq") == str(seq)
    assert "LAP-001" in newest.text_content() and "on hand 57" in newest.text_content()
    expect(page.locator(f"#history tr[data-seq='{seq}']")).to_be_visible()
    print(f"add via form -> live feed: {elapsed * 1000:.0f} ms")


def test_removing_more_than_available_shows_the_api_message_at_the_quantity_field(page, server):
    p = new_product(server, location="Warehouse A", initial_quantity=5)
    stock(server, p["id"], "reserve", quantity=2, reference="HOLD")
    before = movements(server, p["id"])
    open_product(page, server, p["id"])
    page.get_by_label("Operation").select_option("remove")
    form = page.locator("#op-remove")
    quantity = form.get_by_label("Quantity", exact=True)
    quantity.fill("4")
    form.get_by_role("button", name="Remove").click()

    error = form.locator("#remove-quantity-err")
    expect(error).to_be_visible()
    # The very message the API gives for the same request (which, failing, changes nothing).
    r = server.post(f"/api/products/{p['id']}/stock/remove", {"quantity": 4})
    assert r.status_code == 409 and r.json()["error"] == "INSUFFICIENT_STOCK"
    assert error.text_content() == r.json()["message"]
    assert quantity.get_attribute("aria-invalid") == "true"
    assert "remove-quantity-err" in quantity.get_attribute("aria-describedby")
    expect(quantity).to_be_focused()

    assert movements(server, p["id"]) == before
    level = server.get(f"/api/products/{p['id']}/inventory").json()["data"]
    assert (level["on_hand"], level["reserved"], level["available"]) == (5, 2, 3)
    expect(page.locator("#t-on_hand")).to_have_text("5")

    # A quantity that fits, after editing the form, succeeds and clears the error.
    quantity.fill("3")
    form.get_by_role("button", name="Remove").click()
    expect(form.locator(".form-ok")).to_contain_text("on hand 2")
    expect(error).to_have_count(0)


def test_a_double_submitted_form_applies_once(page, server):
    p = new_product(server, location="Warehouse A", initial_quantity=10)
    open_product(page, server, p["id"])
    sent = []
    page.on(
        "request",
        lambda r: sent.append(r.headers.get("idempotency-key")) if r.url.endswith("/stock/add") else None,
    )
    answers = []
    page.on(
        "response",
        lambda r: answers.append(r.headers.get("idempotent-replayed")) if r.url.endswith("/stock/add") else None,
    )
    form = page.locator("#op-add")
    form.get_by_label("Quantity", exact=True).fill("3")
    # Two submissions before the first answer: both go out, under one key.
    form.evaluate("f => { f.requestSubmit(); f.requestSubmit(); }")
    expect(form.locator(".form-ok")).to_contain_text("not applied again")
    page.wait_for_timeout(200)
    assert len(sent) == 2 and sent[0] and sent[0] == sent[1]
    assert sorted(a or "" for a in answers) == ["", "true"]
    adds = [m for m in movements(server, p["id"]) if m["type"] == "IN"]
    assert [m["quantity"] for m in adds] == [3, 10]

    # A double click on the button, later, is a repeat too: the form was not edited.
    form.get_by_role("button", name="Add").dblclick()
    page.wait_for_timeout(500)
    assert len(sent) == 4 and sent[3] == sent[0], sent
    adds = [m for m in movements(server, p["id"]) if m["type"] == "IN"]
    assert [m["quantity"] for m in adds] == [3, 10]
    expect(page.locator("#t-on_hand")).to_have_text("13")

    # Editing the form makes it a new submission, which applies.
    form.get_by_label("Quantity", exact=True).fill("3")
    form.get_by_role("button", name="Add").click()
    expect(page.locator("#t-on_hand")).to_have_text("16")
    assert sent[-1] != sent[0]
    adds = [m for m in movements(server, p["id"]) if m["type"] == "IN"]
    assert [m["quantity"] for m in adds] == [3, 3, 10]


def test_every_operation_form_works_from_the_keyboard(page, server):
    p = new_product(server, location="Warehouse A", initial_quantity=20)
    server.post("/api/locations", {"name": "Store B"})
    open_product(page, server, p["id"])
    # Every control on the page has a label.
    unlabeled = page.evaluate(
        """() => [...document.querySelectorAll('main input, main select')]
             .filter(e => e.labels.length === 0).map(e => e.id || e.name)"""
    )
    assert unlabeled == []

    def run(op, fields):
        select = page.get_by_label("Operation")
        select.focus()
        select.select_option(op)
        form = page.locator(f"#op-{op}")
        for field in form.locator("input:not([type=checkbox])").all():  # what an earlier run left
            field.focus()
            page.keyboard.press("Control+A")
            page.keyboard.press("Delete")
        for label, value in fields:
            field = form.get_by_label(label, exact=True)
            field.focus()
            if value is True:
                page.keyboard.press("Space")
            else:
                page.keyboard.type(value)
        page.keyboard.press("Enter")
        expect(form.locator(".form-ok")).to_contain_text("Done.")

    run("reserve", [("Quantity", "5"), ("Reference", "ORDER-9"), ("Expires in seconds", "600")])
    expect(page.locator("#reservations tbody tr")).to_have_count(1)
    expect(page.locator("#reservations time")).to_contain_text("min")
    run("commit", [("Reference", "ORDER-9"), ("Quantity", "2"), ("Release remainder", True)])
    run("transfer", [("Quantity", "4"), ("From location", "Warehouse A"), ("To location", "Store B")])
    run("count", [("Counted", "9"), ("Location", "Store B")])
    run("reserve", [("Quantity", "1")])
    run("unreserve", [("Quantity", "1")])
    run("remove", [("Quantity", "1")])

    kinds = [m["type"] for m in reversed(movements(server, p["id"]))]
    assert kinds == [
        "IN", "RESERVE", "COMMIT", "UNRESERVE", "TRANSFER_OUT", "TRANSFER_IN",
        "ADJUST", "RESERVE", "UNRESERVE", "OUT",
    ]
    inv = server.get(f"/api/products/{p['id']}/inventory").json()["data"]
    levels = {l["location"]: (l["on_hand"], l["reserved"]) for l in inv["locations"]}
    assert levels == {"Warehouse A": (13, 0), "Store B": (9, 0)}
    expect(page.locator("#t-on_hand")).to_have_text("22")
