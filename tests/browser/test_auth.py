"""The dashboard on a server that requires API keys: the page asks for a key when the API answers
401 (again when a key is refused), shows everything with a `read` key, live feed included, and
refuses a write with the API's own message."""

import os
import subprocess

import requests
from conftest import BIN, movements, new_product, open_product
from playwright.sync_api import expect


def make_key(server, name, scope):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "INVENTORY_DB")}
    out = subprocess.run([BIN, "keys", "create", "--db", server.db, "--name", name, "--scope", scope],
                         capture_output=True, text=True, env=env, check=True, timeout=60)
    return out.stdout.strip()


def give_key(page, secret, reason):
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#key-reason")).to_contain_text(reason)
    page.locator("#key-input").fill(secret)
    page.get_by_role("button", name="Use this key").click()


def test_with_keys_required_the_page_asks_for_one_and_a_read_key_views_but_cannot_write(page, start):
    server = start(args=("--auth", "required"))
    admin = make_key(server, "ops", "admin")
    viewer = make_key(server, "viewer", "read")
    server.http.headers["Authorization"] = f"Bearer {admin}"
    p = new_product(server, name="Gaming Laptop", sku="LAP-001", location="Warehouse A", initial_quantity=50)

    page.goto(server.url + "/")
    give_key(page, "inv_not-a-key", "This server needs an API key")
    give_key(page, viewer, "The key was refused")
    expect(page.locator("#key-dialog")).to_be_hidden()
    page.locator("#products[data-state=ready]").wait_for()
    expect(page.locator(f"#products tr[data-id='{p['id']}'] td").first).to_have_text("LAP-001")
    page.locator("#feed-status[data-state=live]").wait_for(timeout=10000)
    # The key is this tab's: the page asks no more, and every request carries it.
    assert page.evaluate("sessionStorage.getItem('inventory.apiKey')") == viewer

    open_product(page, server, p["id"])
    expect(page.locator("#t-on_hand")).to_have_text("50")
    before = movements(server, p["id"])
    form = page.locator("#op-add")
    form.get_by_label("Quantity", exact=True).fill("7")
    form.get_by_role("button", name="Add").click()
    error = form.locator(".form-error")
    expect(error).to_be_visible()
    # The very message the API gives the same key for the same request.
    r = requests.post(f"{server.url}/api/products/{p['id']}/stock/add", json={"quantity": 7},
                      headers={"Authorization": f"Bearer {viewer}"}, timeout=10)
    assert r.status_code == 403 and r.json()["error"] == "FORBIDDEN"
    assert error.text_content() == f"Not allowed: {r.json()['message']} (FORBIDDEN)"
    assert movements(server, p["id"]) == before
    expect(page.locator("#t-on_hand")).to_have_text("50")
    expect(page.locator("#key-dialog")).to_be_hidden()
