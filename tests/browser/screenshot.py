"""Makes docs/dashboard.png, the README's picture of a product page: a fresh server with a
small shop's day of movements, made through the API, and the page in headless Chromium.

    .venv-browser/bin/python tests/browser/screenshot.py [OUT.png]

(run tests/browser/run.sh once first: it builds the server and the virtualenv).
"""

import sys
import tempfile
from pathlib import Path

from conftest import CHROMIUM, FLAGS, ROOT, Server, new_product, stock
from playwright.sync_api import sync_playwright


def stage(server):
    laptop = new_product(
        server, name="Gaming Laptop", sku="LAP001", description="15-inch, 32 GB", price="1500.00",
        location="Warehouse A", initial_quantity=40, reorder_point=10,
    )
    new_product(server, name="USB-C Dock", sku="DOCK01", price="189.90", location="Warehouse A", initial_quantity=25)
    server.post("/api/locations", {"name": "Store B"})
    i = laptop["id"]
    stock(server, i, "reserve", quantity=6, reference="ORDER-451", expires_in_seconds=3600)
    stock(server, i, "commit", reference="ORDER-451")
    stock(server, i, "reserve", quantity=4, reference="ORDER-452", expires_in_seconds=1800)
    stock(server, i, "transfer", quantity=10, from_location="Warehouse A", to_location="Store B")
    stock(server, i, "remove", quantity=3, location="Store B", reference="POS-1187")
    stock(server, i, "add", quantity=24, reference="PO-2207", notes="supplier delivery")
    stock(server, i, "reserve", quantity=8, reference="ORDER-453", expires_in_seconds=5400)
    stock(server, i, "commit", reference="ORDER-452")
    stock(server, i, "remove", quantity=2, location="Store B", reference="POS-1191")
    stock(server, i, "count", counted=47, location="Warehouse A", notes="cycle count")
    stock(server, i, "reserve", quantity=3, reference="ORDER-454", expires_in_seconds=900)
    return laptop


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs/dashboard.png"
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "shop.db")
        try:
            laptop = stage(server)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                page = browser.new_page(viewport={"width": 1280, "height": 960})
                page.goto(f"{server.url}/#/product/{laptop['id']}")
                page.locator("section[data-state=ready]").wait_for()
                page.locator("#feed-status[data-state=live]").wait_for()
                page.screenshot(path=str(out))
                browser.close()
        finally:
            server.stop()
    print(out)


if __name__ == "__main__":
    main()
