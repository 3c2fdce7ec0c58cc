"""The scan field: focused on load, back with one key (/); a code and Enter opens the product,
and a one-line command (+5, -2 ORD-17, =40) acts on it with a confirmation naming the product
and the result. A barcode scanner is a keyboard that types fast and presses Enter."""

from conftest import movements, new_product, open_dashboard, stock
from playwright.sync_api import expect


def scan(page, text):
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def test_a_scanner_sequence_adds_five_and_the_ledger_shows_it(page, server):
    p = new_product(server, name="Coffee beans", sku="COF-1", location="Warehouse", initial_quantity=20)
    new_product(server, name="Coffee filter", sku="COF-10", initial_quantity=3)  # shares the prefix
    stock(server, p["id"], "reserve", quantity=3, reference="ORD-1")
    open_dashboard(page, server)
    field = page.get_by_label("Scan or type a code")
    expect(field).to_be_focused()

    scan(page, "COF-1")
    page.wait_for_url(f"**/#/product/{p['id']}")
    page.locator("section[data-state=ready]").wait_for()
    expect(page.locator("#view-title")).to_have_text("Coffee beans")
    expect(field).to_be_focused()  # the next scan needs no click

    scan(page, "+5")
    result = page.locator("#scan-result")
    expect(result).to_contain_text("Added 5: COF-1 · Coffee beans. Warehouse: on hand 25, reserved 3, available 22.")
    ledger = movements(server, p["id"])
    assert [(m["type"], m["quantity"], m["on_hand_after"]) for m in ledger[:1]] == [("IN", 5, 25)]
    expect(page.locator(f"#history tr[data-seq='{ledger[0]['seq']}']")).to_be_visible()
    expect(page.locator("#t-on_hand")).to_have_text("25")
    expect(field).to_have_value("")
    expect(field).to_be_focused()

    scan(page, "-2 ORD-17")
    expect(result).to_contain_text("Removed 2 under ORD-17: COF-1 · Coffee beans. Warehouse: on hand 23")
    scan(page, "=40")
    expect(result).to_contain_text("Counted 40: COF-1 · Coffee beans. Warehouse: on hand 40, reserved 3, available 37.")
    ledger = movements(server, p["id"])
    assert [(m["type"], m["on_hand_after"], m["reference"]) for m in ledger[:2]] == [("ADJUST", 40, None), ("OUT", 23, "ORD-17")]
    expect(page.locator("#t-on_hand")).to_have_text("40")

    # The API's refusal is said, naming the line; nothing moves.
    scan(page, "-100")
    expect(result).to_contain_text("-100: ")
    expect(result).to_contain_text("INSUFFICIENT_STOCK")
    expect(result).to_have_attribute("data-state", "error")
    assert len(movements(server, p["id"])) == len(ledger)

    scan(page, "NOPE-404")
    expect(result).to_have_text("No product has the code NOPE-404.")
    expect(page.locator("#view-title")).to_have_text("Coffee beans")


def test_a_command_with_no_product_on_screen_changes_nothing(page, server):
    p = new_product(server, sku="COF-2", initial_quantity=20)
    open_dashboard(page, server)
    page.locator("#products[data-state=ready]").wait_for()
    scan(page, "+5")
    expect(page.locator("#scan-result")).to_contain_text("Scan or open a product first")
    assert len(movements(server, p["id"])) == 1


def test_slash_brings_the_focus_back_to_the_scan_field(page, server):
    new_product(server, sku="COF-3")
    open_dashboard(page, server)
    field = page.get_by_label("Scan or type a code")
    page.get_by_role("button", name="API key").focus()
    page.keyboard.press("/")
    expect(field).to_be_focused()
    expect(field).to_have_value("")
    # In a text field "/" is a character, not a shortcut.
    search = page.get_by_label("Search by SKU or name prefix")
    search.focus()
    page.keyboard.type("a/b")
    expect(search).to_have_value("a/b")
    expect(search).to_be_focused()


def test_lines_scanned_back_to_back_apply_in_order(page, server):
    """A scanner does not wait for answers: a code, Enter and a command at once still act on
    the product the code named, once."""
    p = new_product(server, name="Oat milk", sku="OAT-1", initial_quantity=10)
    open_dashboard(page, server)
    expect(page.get_by_label("Scan or type a code")).to_be_focused()
    page.keyboard.type("OAT-1\n+3\n-1 ORD-5\n")
    expect(page.locator("#scan-result")).to_contain_text("Removed 1 under ORD-5: OAT-1 · Oat milk. default: on hand 12")
    ledger = movements(server, p["id"])
    assert [(m["type"], m["quantity"]) for m in ledger] == [("OUT", 1), ("IN", 3), ("IN", 10)]
    expect(page.locator("#t-on_hand")).to_have_text("12")
