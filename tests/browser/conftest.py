"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright, against
the real inventory-server binary on a free port with a temporary database.

The binary is $INVENTORY_SERVER_BIN (run.sh builds the release binary and sets it), the browser
$CHROMIUM (default /usr/bin/chromium: Playwright's own browser download is not used). Every
test leaves a screenshot in $BROWSER_SCREENSHOTS (default target/browser-screenshots), passed
or failed, and fails if the page threw an uncaught error.
"""

import json
import os
import queue
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("INVENTORY_SERVER_BIN", str(ROOT / "target/release/inventory-server"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", ROOT / "target/browser-screenshots"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Server:
    """One inventory-server process; `addr` 127.0.0.1:0 picks a free port (read from the log)."""

    def __init__(self, db, addr="127.0.0.1:0", args=()):
        self.db = str(db)
        self.lines = queue.Queue()
        self.proc = subprocess.Popen(
            [BIN, "--addr", addr, "--db", self.db, "--durability", "normal", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()
        deadline = time.monotonic() + 30
        self.addr = None
        while self.addr is None:
            try:
                entry = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.proc.kill()
                    raise AssertionError("the server did not start")
                continue
            if entry.get("message") == "listening":
                self.addr = entry["addr"]
        self.url = f"http://{self.addr}"
        self.http = requests.Session()

    def _pump(self):
        for line in self.proc.stdout:
            try:
                self.lines.put(json.loads(line))
            except ValueError:
                self.lines.put({"raw": line})

    def get(self, path, **kw):
        return self.http.get(self.url + path, timeout=10, **kw)

    def post(self, path, body=None, **kw):
        return self.http.post(self.url + path, json=body, timeout=10, **kw)

    def put(self, path, body=None, **kw):
        return self.http.put(self.url + path, json=body, timeout=10, **kw)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        return self.proc.returncode


@pytest.fixture
def start(tmp_path):
    """Starts servers on tmp_path/inventory.db; every one is stopped at teardown."""
    servers = []

    def _start(addr="127.0.0.1:0", args=("--sweep-interval-secs", "1")):
        s = Server(tmp_path / "inventory.db", addr, args)
        servers.append(s)
        return s

    yield _start
    for s in servers:
        s.stop()


@pytest.fixture
def server(start):
    return start()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def _page(browser, request, **context_args):
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **context_args})
    page = context.new_page()
    if "axe" in request.fixturenames:
        page.add_init_script(path=AXE)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    SHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    try:
        page.evaluate("window.scrollTo(0, 0)")  # a sticky panel is drawn where the scroll left it
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    finally:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def page(browser, start, request):
    """A fresh browser context (no cache, no storage) at a desktop size. It depends on `start`
    so that its screenshot is taken while the test's servers still run."""
    yield from _page(browser, request)


@pytest.fixture
def axe():
    """Asked for by a test, it makes `page` load axe-core into every document."""
    if not Path(AXE).is_file():
        raise AssertionError(f"{AXE} is missing: tests/browser/run.sh installs axe-core from npm")


_sku = [0]


def new_product(server, **fields):
    """Creates a product through the API with a fresh SKU; returns the created product."""
    _sku[0] += 1
    body = {"name": f"Product {_sku[0]}", "sku": f"SKU-{_sku[0]:04d}", "price": "9.99"}
    body.update(fields)
    r = server.post("/api/products", body)
    assert r.status_code == 201, r.text
    return r.json()["data"]["product"]


def stock(server, product_id, op, **body):
    r = server.post(f"/api/products/{product_id}/stock/{op}", body)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def movements(server, product_id, limit=100):
    r = server.get(f"/api/products/{product_id}/transactions?limit={limit}")
    assert r.status_code == 200, r.text
    return r.json()["data"]


def open_dashboard(page, server, hash_path="#/"):
    """Opens the page and waits for the live feed to be connected."""
    page.goto(server.url + "/" + hash_path)
    page.locator("#feed-status[data-state=live]").wait_for(timeout=10000)


def open_product(page, server, product_id):
    """Opens a product's page and waits for its data and its forms (built from /openapi.json)."""
    open_dashboard(page, server, f"#/product/{product_id}")
    page.locator("section[data-state=ready]").wait_for()
    page.locator("#op-forms[data-state=ready]").wait_for()


AXE = os.environ.get("AXE_JS", str(ROOT / "target/browser-tools/node_modules/axe-core/axe.min.js"))


def axe_violations(page, impacts=("serious", "critical")):
    """axe-core's violations of `impacts` on the page as it is now. axe is injected by the
    test through the browser's devtools protocol (an init script, which the page's CSP does
    not govern), never served by the server: run.sh installs it from npm."""
    if not page.evaluate("typeof window.axe === 'object'"):
        raise AssertionError("axe-core is not injected: use the `axe_page` fixture")
    result = page.evaluate("async () => (await axe.run(document, { resultTypes: ['violations'] })).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result
        if v["impact"] in impacts
    ]
