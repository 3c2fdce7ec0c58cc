"""A product's page: the chart from the ledger's balances, history paging, reservations
counting down, create and edit (If-Match: a stale edit says so)."""

from conftest import movements, new_product, open_dashboard, open_product, stock
from playwright.sync_api import expect


def shown(page):
    rows = page.locator("#history tbody tr").evaluate_all("rs => rs.map(r => Number(r.dataset.seq))")
    points = page.locator("#chart g.point").evaluate_all(
        """gs => gs.map(g => ({
            seq: Number(g.dataset.seq),
            cy: Number(g.querySelector('circle.on-hand').getAttribute('cy')),
            title: g.querySelector('title').textContent }))"""
    )
    return rows, points


def test_the_chart_has_one_point_per_movement_shown(page, server):
    p = new_product(server, location="Warehouse A", initial_quantity=10)
    server.post("/api/locations", {"name": "Store B"})
    for i in range(8):
        stock(server, p["id"], "add", quantity=i + 1)
        stock(server, p["id"], "reserve", quantity=1, reference=f"R{i}")
        stock(server, p["id"], "remove", quantity=2)
    stock(server, p["id"], "transfer", quantity=5, from_location="Warehouse A", to_location="Store B")
    ledger = {m["seq"]: m for m in movements(server, p["id"])}
    assert len(ledger) == 27

    open_product(page, server, p["id"])
    rows, points = shown(page)
    assert len(rows) == 20
    assert [pt["seq"] for pt in points] == sorted(rows)  # oldest first, one per row
    for pt in points:
        m = ledger[pt["seq"]]
        assert f"on hand {m['on_hand_after']}, reserved {m['reserved_after']}" in pt["title"]
    # Heights follow the ledger's on_hand_after: a larger balance is drawn higher.
    by_value = sorted(points, key=lambda pt: ledger[pt["seq"]]["on_hand_after"])
    for low, high in zip(by_value, by_value[1:]):
        same = ledger[low["seq"]]["on_hand_after"] == ledger[high["seq"]]["on_hand_after"]
        assert low["cy"] == high["cy"] if same else low["cy"] > high["cy"]
    expect(page.locator("#chart figcaption")).to_contain_text("Store B")

    page.get_by_role("button", name="Older").click()
    expect(page.locator("#history tbody tr")).to_have_count(7)
    rows, points = shown(page)
    assert [pt["seq"] for pt in points] == sorted(rows) == sorted(ledger)[:7]
    page.get_by_role("button", name="Newer").click()
    expect(page.locator("#history tbody tr")).to_have_count(20)

    page.get_by_label("Location shown").select_option("Store B")
    expect(page.locator("#history tbody tr")).to_have_count(1)
    rows, points = shown(page)
    assert [pt["seq"] for pt in points] == rows
    assert ledger[rows[0]]["type"] == "TRANSFER_IN"


def test_reservations_count_down_and_go_when_they_expire(page, server):
    p = new_product(server, location="Warehouse A", initial_quantity=10)
    stock(server, p["id"], "reserve", quantity=3, reference="CART-1", expires_in_seconds=4)
    stock(server, p["id"], "reserve", quantity=2, reference="ORDER-2")
    open_product(page, server, p["id"])
    expect(page.locator("#reservations tbody tr")).to_have_count(2)
    timer = page.locator("#reservations time")
    shown = timer.text_content()
    assert shown.startswith("in ") and int(shown.split()[1]) <= 4
    expect(timer).not_to_have_text(shown, timeout=2500)
    assert int(timer.text_content().split()[1]) < int(shown.split()[1])
    # The server's sweep (every second here) releases it; the page follows.
    expect(page.locator("#reservations tbody tr")).to_have_count(1, timeout=8000)
    expect(page.locator("#reservations tbody tr [data-col=reference]")).to_have_text("ORDER-2")
    expect(page.locator("#t-reserved")).to_have_text("2")
    expect(page.locator("#feed li").first).to_contain_text("EXPIRE")


def test_a_stale_edit_says_so_and_changes_nothing(page, server):
    p = new_product(server, name="Desk", price="120.00")
    open_product(page, server, p["id"])
    expect(page.locator("#p-version")).to_have_text("1")
    # Someone else edits the product after the page loaded it.
    r = server.put(f"/api/products/{p['id']}", {"name": "Standing desk"})
    assert r.status_code == 200 and r.headers["ETag"] == '"2"'

    edit = page.locator("#edit")
    edit.get_by_label("Price").fill("99.50")
    edit.get_by_role("button", name="Save changes").click()
    error = edit.locator(".form-error")
    expect(error).to_contain_text("changed after this form was filled")
    expect(error).to_contain_text("CONFLICT")
    now = server.get(f"/api/products/{p['id']}").json()["data"]["product"]
    assert (now["name"], now["price"], now["version"]) == ("Standing desk", 120.0, 2)

    page.reload()
    page.locator("section[data-state=ready]").wait_for()
    expect(edit.get_by_label("Name")).to_have_value("Standing desk")
    edit.get_by_label("Price").fill("99.50")
    edit.get_by_role("button", name="Save changes").click()
    expect(edit.locator(".form-ok")).to_contain_text("Saved (version 3)")
    expect(page.locator("#p-price")).to_have_text("99.50")
    raw = server.get(f"/api/products/{p['id']}").text
    assert '"price":99.50' in raw and '"version":3' in raw


def test_create_a_product_with_errors_next_to_their_fields(page, server):
    new_product(server, sku="LAP-001")
    open_dashboard(page, server, "#/new")
    form = page.locator("#new-product")
    form.get_by_label("Name").fill("Gaming Laptop")
    form.get_by_label("SKU").fill("LAP-001")
    form.get_by_label("Price").fill("lots")
    form.get_by_label("Initial quantity").fill("5")
    form.get_by_role("button", name="Create product").click()
    expect(form.locator("#n-price-err")).to_be_visible()
    assert "price" in form.locator("#n-price-err").text_content()

    form.get_by_label("Price").fill("1500.00")
    form.get_by_role("button", name="Create product").click()
    expect(form.locator("#n-sku-err")).to_have_text('a product with sku "LAP-001" already exists')

    form.get_by_label("SKU").fill("LAP-002")
    form.get_by_role("button", name="Create product").click()
    page.wait_for_url("**/#/product/*")
    page.locator("section[data-state=ready]").wait_for()
    expect(page.locator("#view-title")).to_have_text("Gaming Laptop")
    expect(page.locator("#p-price")).to_have_text("1500.00")
    expect(page.locator("#t-on_hand")).to_have_text("5")
    expect(page.locator("#view-title")).to_be_focused()
