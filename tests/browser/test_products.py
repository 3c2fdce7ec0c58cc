"""The products table: what the API holds, search, the low-stock filter, paging, exact prices."""

from conftest import new_product, open_dashboard, stock
from playwright.sync_api import expect


def table_skus(page):
    page.locator("#products[data-state=ready]").wait_for()
    return page.locator("#products tbody tr td:first-child").all_text_contents()


def test_list_shows_api_products_and_search_and_low_stock_filter(page, server):
    laptop = new_product(server, name="Gaming Laptop", sku="LAP-001", price="1500.00", initial_quantity=50, reorder_point=10)
    low = new_product(server, name="Laptop Sleeve", sku="LAP-002", price="12.3400", initial_quantity=12, reorder_point=10)
    mouse = new_product(server, name="Mouse", sku="MOU-001", price="99999999999.9000", initial_quantity=3)
    stock(server, low["id"], "reserve", quantity=4, reference="ORDER-1")  # available 8 <= 10

    open_dashboard(page, server)
    assert sorted(table_skus(page)) == ["LAP-001", "LAP-002", "MOU-001"]
    row = page.locator(f"#products tr[data-id='{low['id']}']")
    cols = ["sku", "name", "price", "on_hand", "reserved", "available"]
    assert [row.locator(f"[data-col={c}]").text_content() for c in cols] == [
        "LAP-002", "Laptop Sleeve", "12.3400", "12", "4", "8"
    ]
    # Prices exactly as the API wrote them, scale kept, up to the largest price the engine takes
    # (a double would print 99999999999.9000 as 99999999999.9).
    assert page.locator(f"#products tr[data-id='{laptop['id']}'] [data-col=price]").text_content() == "1500.00"
    assert page.locator(f"#products tr[data-id='{mouse['id']}'] [data-col=price]").text_content() == "99999999999.9000"

    skus = page.locator("#products tbody tr td:first-child")
    page.get_by_label("Search by SKU or name prefix").fill("LAP")
    expect(skus).to_have_text(["LAP-001", "LAP-002"])
    page.get_by_label("Search by SKU or name prefix").fill("mou")  # a name prefix, any case
    expect(skus).to_have_text(["MOU-001"])
    assert "q=mou" in page.url

    page.get_by_label("Search by SKU or name prefix").fill("")
    page.get_by_label("Low stock only").check()
    expect(skus).to_have_text(["LAP-002"])
    assert "low_stock=true" in page.url

    page.get_by_label("Search by SKU or name prefix").fill("NOPE")
    expect(page.locator("#products-empty")).to_be_visible()


def test_paging(page, server):
    for i in range(12):
        new_product(server, sku=f"P-{i:02d}", name=f"Item {i:02d}")
    open_dashboard(page, server, "#/?limit=10")
    assert len(table_skus(page)) == 10
    expect(page.get_by_role("button", name="Previous page")).to_be_disabled()
    page.get_by_role("button", name="Next page").click()
    expect(page.locator("#products tbody tr")).to_have_count(2)
    expect(page.locator("#page")).to_have_text("11–12")
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    second = set(table_skus(page))
    page.get_by_role("button", name="Previous page").click()
    expect(page.locator("#products tbody tr")).to_have_count(10)
    first_page = set(table_skus(page))
    assert first_page | second == {f"P-{i:02d}" for i in range(12)}
    assert not first_page & second
