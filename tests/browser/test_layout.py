"""Every width from 360 px up: no view scrolls sideways at 360, 390, 768 or 1280 px; on the
product list SKU, name and available stay inside the viewport (the other columns fold into a
detail line on narrow screens); the history table is not cut off. Each view is kept as a
screenshot at 390 and 1280 px (test artifacts, in the directory run.sh prints)."""

import pytest
from conftest import SHOTS, new_product, open_dashboard, open_product, stock
from playwright.sync_api import expect

WIDTHS = [360, 390, 768, 1280]


@pytest.fixture
def shop(server):
    long = new_product(server, name="A product with a rather long name for a narrow screen", sku="LONG-SKU-0001",
                       location="Warehouse A", initial_quantity=40, reorder_point=45)
    for i in range(3):
        new_product(server, name=f"Item {i}", sku=f"ITEM-{i}", initial_quantity=10 * i)
    server.post("/api/locations", {"name": "Store B with a long name"})
    stock(server, long["id"], "reserve", quantity=5, reference="ORDER-2026-000123", expires_in_seconds=600)
    stock(server, long["id"], "transfer", quantity=4, from_location="Warehouse A", to_location="Store B with a long name",
          reference="TRANSFER-2026-000042", notes="a long note about why these units moved to the other store")
    stock(server, long["id"], "add", quantity=12, reference="PO-2026-998877-SUPPLIER", notes="delivery")
    return long


def views(product):
    """Each view's hash and what shows it has loaded."""
    return {
        "products": ("#/", "#attention[data-state=ready] ~ .table-wrap #products[data-state=ready]"),
        "product": (f"#/product/{product['id']}", None),
        "locations": ("#/locations", "#locations tbody tr >> nth=0"),
        "new": ("#/new", "#new-product"),
    }


def no_sideways_scroll(page, width, where):
    scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert client == width, (where, client)
    assert scroll == width, f"{where} at {width} px scrolls sideways: {scroll} px wide"


@pytest.mark.parametrize("width", WIDTHS)
def test_no_view_scrolls_sideways_and_the_list_keeps_sku_name_and_available(browser, server, shop, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        for name, (where, loaded) in views(shop).items():
            if name == "product":
                open_product(page, server, shop["id"])
            else:
                open_dashboard(page, server, where)
                page.locator(loaded).wait_for()
            no_sideways_scroll(page, width, where)
            # No table is cut off either: each fits its box, with nothing to scroll to.
            cut = page.locator(".table-wrap").evaluate_all(
                "ws => ws.filter(w => w.scrollWidth > w.clientWidth).map(w => w.firstElementChild.id)")
            assert cut == [], f"{where} at {width} px: tables cut off: {cut}"
            if width in (390, 1280):
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.evaluate("window.scrollTo(0, 0)")
                page.screenshot(path=str(SHOTS / f"view-{name}-{width}px.png"), full_page=True)
            if name == "products":
                page.locator("#products[data-state=ready]").wait_for()
                rows = page.locator("#products tbody tr")
                expect(rows).to_have_count(4)
                for r in rows.all():
                    for col in ("sku", "name", "available"):
                        box = r.locator(f"[data-col={col}]").bounding_box()
                        assert box and box["width"] > 0 and box["x"] >= 0 and box["x"] + box["width"] <= width, (width, col, box)
                folded = width < 768
                on_hand = page.locator(f"#products tr[data-id='{shop['id']}'] [data-col=on_hand]")
                detail = page.locator(f"#products tr[data-id='{shop['id']}'] [data-col=detail]")
                if folded:
                    expect(on_hand).to_be_hidden()
                    expect(detail).to_be_visible()
                    expect(detail).to_have_text("Price 9.99 · on hand 52 · reserved 5")
                else:
                    expect(on_hand).to_be_visible()
                    expect(detail).to_be_hidden()
            if name == "product":
                # Nothing of the history is cut off: the table fits its box, references whole.
                wrap = page.locator("#history").locator("xpath=..")
                overflow = wrap.evaluate("w => w.scrollWidth - w.clientWidth")
                assert overflow <= 0, f"history at {width} px is {overflow} px too wide"
                reference = page.locator("#history tbody tr").first.locator("[data-col=reference]")
                expect(reference).to_have_text("PO-2026-998877-SUPPLIER")
                assert reference.evaluate("c => c.scrollWidth <= c.clientWidth")
                if width >= 1280:
                    expect(page.locator("#history tbody tr").first.locator("[data-col=actor]")).to_be_visible()
                    expect(page.locator("#history tbody tr").nth(1).locator("[data-col=notes]")).to_have_text(
                        "a long note about why these units moved to the other store")
                else:
                    detail = page.locator("#history tbody tr").nth(1).locator(".fold-detail")
                    if width < 768:
                        expect(detail).to_contain_text("a long note about why these units moved")
        assert not errors, errors
    finally:
        context.close()
