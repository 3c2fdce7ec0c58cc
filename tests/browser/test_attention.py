"""What needs attention comes first: low stock, out of stock and reservations about to expire,
flagged on the list and on the product page (in words, not colour alone), and summarised on
the first page with a link to each product."""

from conftest import new_product, open_dashboard, open_product, stock
from playwright.sync_api import expect


def row(page, product_id):
    return page.locator(f"#products tr[data-id='{product_id}']")


def test_the_low_stock_flag_appears_and_clears_as_stock_moves(page, server):
    p = new_product(server, name="Coffee beans", sku="COF-1", initial_quantity=40, reorder_point=30)
    calm = new_product(server, name="Tea", sku="TEA-1", initial_quantity=40, reorder_point=5)
    open_dashboard(page, server)
    page.locator("#products[data-state=ready]").wait_for()
    flags = row(page, p["id"]).locator("[data-col=flags]")
    expect(flags).to_have_text("")
    expect(page.locator("#attention-low-none")).to_be_visible()

    stock(server, p["id"], "remove", quantity=11)  # available 29, at or below 30
    expect(flags).to_have_text("▼ Low stock")
    expect(row(page, p["id"])).to_have_attribute("data-attention", "low")
    expect(row(page, calm["id"]).locator("[data-col=flags]")).to_have_text("")
    summary = page.locator("#attention-low li")
    expect(summary).to_have_count(1)
    expect(summary.first).to_contain_text("COF-1")
    expect(summary.first).to_contain_text("available 29, reorder point 30")

    stock(server, p["id"], "remove", quantity=29)  # nothing available
    expect(flags).to_have_text("✕ Out of stock")
    expect(summary.first).to_contain_text("Out of stock")

    open_product(page, server, p["id"])
    product_flags = page.locator("#p-flags")
    expect(product_flags).to_have_text("✕ Out of stock")
    stock(server, p["id"], "add", quantity=25)  # 25: low, not out
    expect(product_flags).to_have_text("▼ Low stock")
    stock(server, p["id"], "add", quantity=10)  # 35 > 30: clear
    expect(product_flags).to_have_text("")
    expect(product_flags).to_have_attribute("data-attention", "")

    open_dashboard(page, server)
    page.locator("#products[data-state=ready]").wait_for()
    expect(flags).to_have_text("")
    expect(page.locator("#attention-low li")).to_have_count(0)
    # The page's flag is the API's: the low_stock filter lists exactly the flagged rows.
    stock(server, calm["id"], "remove", quantity=36)
    expect(row(page, calm["id"])).to_have_attribute("data-attention", "low")
    listed = {x["id"] for x in server.get("/api/products?low_stock=true").json()["data"]}
    flagged = set(page.locator("#products tr[data-attention~=low]").evaluate_all("rs => rs.map(r => r.dataset.id)"))
    assert flagged == listed == {calm["id"]}


def test_the_summary_links_work(page, server):
    low = new_product(server, name="Filter papers", sku="FIL-1", initial_quantity=8, reorder_point=10)
    held = new_product(server, name="Grinder", sku="GRI-1", initial_quantity=5)
    later = new_product(server, name="Kettle", sku="KET-1", initial_quantity=5)
    stock(server, held["id"], "reserve", quantity=2, reference="ORD-17", expires_in_seconds=300)
    stock(server, later["id"], "reserve", quantity=1, reference="ORD-99", expires_in_seconds=7200)
    open_dashboard(page, server)
    page.locator("#attention[data-state=ready]").wait_for()

    expect(page.locator("#attention-expiring-title")).to_have_text("Reservations expiring within 15 minutes")
    expiring = page.locator("#attention-expiring li")
    expect(expiring).to_have_count(1)  # ORD-99 lapses in 2 hours: not soon
    expect(expiring.first).to_contain_text("ORD-17: 2 at default, expires in 4 min")
    expect(row(page, held["id"])).to_have_attribute("data-attention", "expiring")
    expect(row(page, held["id"]).locator("[data-col=flags]")).to_have_text("◔ Reservation expiring")
    expect(row(page, later["id"])).to_have_attribute("data-attention", "")

    page.locator("#attention-low").get_by_role("link", name="FIL-1").click()
    page.wait_for_url(f"**/#/product/{low['id']}")
    page.locator("section[data-state=ready]").wait_for()
    expect(page.locator("#view-title")).to_have_text("Filter papers")
    expect(page.locator("#p-flags")).to_have_text("▼ Low stock")

    page.go_back()
    page.locator("#attention[data-state=ready]").wait_for()
    page.locator("#attention-expiring").get_by_role("link", name="GRI-1").click()
    page.wait_for_url(f"**/#/product/{held['id']}")
    page.locator("section[data-state=ready]").wait_for()
    expect(page.locator("#view-title")).to_have_text("Grinder")
    expect(page.locator("#p-flags")).to_have_text("◔ Reservation expiring")
    expect(page.locator("#reservations tbody tr").first).to_contain_text("Reservation expiring")

    # Committed, the reservation leaves the summary and the flags.
    stock(server, held["id"], "commit", reference="ORD-17")
    expect(page.locator("#p-flags")).to_have_text("")
    open_dashboard(page, server)
    page.locator("#attention[data-state=ready]").wait_for()
    expect(page.locator("#attention-expiring li")).to_have_count(0)
    expect(page.locator("#attention-expiring-none")).to_be_visible()
