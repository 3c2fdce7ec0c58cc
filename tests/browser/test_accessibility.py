"""Accessibility: axe-core (from npm, injected by the test, never served) finds no serious or
critical violation on any view, in either colour scheme; focus is visible; every control has
a label."""

import pytest
from conftest import axe_violations, new_product, open_dashboard, open_product, stock
from playwright.sync_api import expect


@pytest.fixture
def shop(server):
    p = new_product(server, name="Coffee beans", sku="COF-1", initial_quantity=12, reorder_point=20)
    new_product(server, name="Empty shelf", sku="EMP-1", initial_quantity=0, reorder_point=0)
    stock(server, p["id"], "reserve", quantity=2, reference="ORD-17", expires_in_seconds=300)
    stock(server, p["id"], "remove", quantity=1, reference="POS-1", notes="sold at the counter")
    return p


def every_view(page, server, product):
    open_dashboard(page, server)
    page.locator("#products[data-state=ready]").wait_for()
    page.locator("#attention[data-state=ready]").wait_for()
    yield "products"
    open_product(page, server, product["id"])
    yield "product"
    page.get_by_label("Operation").select_option("reserve")
    form = page.locator("#op-reserve")
    form.get_by_label("Quantity", exact=True).fill("1000")
    form.get_by_role("button", name="Reserve").click()
    expect(form.locator(".field-error")).to_be_visible()
    yield "product with a form error"
    open_dashboard(page, server, "#/locations")
    page.locator("#locations tbody tr").first.wait_for()
    yield "locations"
    open_dashboard(page, server, "#/new")
    yield "new product"
    page.get_by_role("button", name="API key").click()
    expect(page.locator("#key-dialog")).to_be_visible()
    yield "key dialog"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_or_critical_violation_on_any_view(axe, page, server, shop, scheme):
    page.emulate_media(color_scheme=scheme)
    found = {}
    for name in every_view(page, server, shop):
        violations = axe_violations(page)
        if violations:
            found[name] = violations
    assert found == {}
    # The check itself can fail: a control without a name is found.
    page.keyboard.press("Escape")
    expect(page.locator("#key-dialog")).to_be_hidden()
    page.evaluate("document.querySelector('main').append(document.createElement('button'))")
    assert "button-name" in [v["id"] for v in axe_violations(page)]


def test_focus_is_visible_and_every_control_labelled(page, server, shop):
    for name in every_view(page, server, shop):
        unlabeled = page.evaluate(
            """() => [...document.querySelectorAll('input, select, textarea')]
                 .filter(e => e.type !== 'hidden' && e.labels.length === 0 && !e.getAttribute('aria-label'))
                 .map(e => e.id || e.name)"""
        )
        assert unlabeled == [], (name, unlabeled)
        if name == "key dialog":
            page.keyboard.press("Escape")
    open_product(page, server, shop["id"])
    # Tab from the top: each control reached shows a focus ring of at least 2 px.
    page.locator("body").focus()
    for _ in range(12):
        page.keyboard.press("Tab")
        ring = page.evaluate(
            """() => { const s = getComputedStyle(document.activeElement);
                       return [document.activeElement.tagName, s.outlineStyle, parseFloat(s.outlineWidth)]; }"""
        )
        assert ring[1] != "none" and ring[2] >= 2, ring
