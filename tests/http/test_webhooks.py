"""Webhooks end to end: the real server delivers the ledger to a real receiver run here, and the
signatures are checked by the Standard Webhooks reference library (PyPI `standardwebhooks`), an
implementation independent of the server's.
"""

import http.server
import json
import signal
import threading
import time

import pytest
from standardwebhooks.webhooks import Webhook

from conftest import assert_error, new_product, wait_until


class Receiver:
    """An HTTP server on a free loopback port that records every request it answers 2xx.

    `mode` is "ok", a status code to answer with, or "hang" (hold the request until the mode
    changes)."""

    def __init__(self):
        self.mode = "ok"
        self.requests = []  # (headers, body) of each request answered 2xx
        self.hanging = 0  # requests held in "hang" mode right now
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                if receiver.mode == "hang":
                    with receiver.lock:
                        receiver.hanging += 1
                    while receiver.mode == "hang":
                        time.sleep(0.01)
                    with receiver.lock:
                        receiver.hanging -= 1
                status = 200 if receiver.mode == "ok" else int(receiver.mode)
                if status == 200:
                    with receiver.lock:
                        receiver.requests.append((dict(self.headers), body))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def events(self):
        """Every event received, in arrival order."""
        out = []
        with self.lock:
            requests = list(self.requests)
        for _, body in requests:
            payload = json.loads(body)
            out.extend(payload if isinstance(payload, list) else [payload])
        return out

    def close(self):
        self.mode = "ok"
        self.httpd.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def ledger(server, after=0):
    """Every movement after `after`, as /api/events shows it."""
    out = []
    while True:
        page = server.get(f"/api/events?after={after}&limit=1000").json()["data"]
        if not page["movements"]:
            return out
        out.extend(page["movements"])
        after = page["next_after"]


def subscribe(server, url, **fields):
    r = server.post("/api/webhooks", {"url": url, **fields})
    assert r.status_code == 201, r.text
    return r.json()["data"]


def test_every_movement_is_delivered_signed_and_in_order(start, receiver):
    server = start("--webhook-allow-private", "--webhook-max-batch", "25")
    hook = subscribe(server, receiver.url)
    assert hook["secret"].startswith("whsec_")
    assert hook["events"] == ["movement.created"] and hook["state"] == "active"
    listed = server.get(f"/api/webhooks/{hook['id']}").json()["data"]
    assert "secret" not in listed and listed["url"] == receiver.url

    products = [new_product(server, initial_quantity=100)["product"]["id"] for _ in range(3)]
    for i in range(100):
        pid = products[i % 3]
        assert server.post(f"/api/products/{pid}/stock/reserve", {"quantity": 1, "reference": f"o{i}"}).status_code == 200
        assert server.post(f"/api/products/{pid}/stock/remove", {"quantity": 1}).status_code == 200
    expected = ledger(server, hook["after"])
    assert len(expected) >= 200
    wait_until(lambda: len({e["id"] for e in receiver.events()}) >= len(expected), "delivery", timeout=60)
    events = receiver.events()
    # The data of each event is the movement as /api/events shows it, by seq.
    assert [e["id"] for e in events] == [m["seq"] for m in expected]
    for event, movement in zip(events, expected):
        assert event["type"] == "movement.created"
        assert event["data"] == movement
    # In seq order per level (and here, with one subscription, overall).
    last = {}
    for e in events:
        level = (e["data"]["product_id"], e["data"]["location"])
        assert last.get(level, 0) < e["id"]
        last[level] = e["id"]
    # Every request verifies with the reference library; a tampered body does not.
    verifier = Webhook(hook["secret"])
    for headers, body in receiver.requests:
        lowered = {k.lower(): v for k, v in headers.items()}
        verifier.verify(body, lowered)
    headers, body = receiver.requests[0]
    with pytest.raises(Exception):
        verifier.verify(body.replace(b'"quantity"', b'"quantitx"'), {k.lower(): v for k, v in headers.items()})
    assert len(receiver.requests) < len(expected), "a backlog is sent in batches"

    log = server.get(f"/api/webhooks/{hook['id']}/deliveries?limit=1000").json()["data"]
    assert len(log) == len(receiver.requests)
    assert all(d["ok"] and d["status"] == 200 for d in log)
    one = server.get(f"/api/webhooks/{hook['id']}/deliveries?event={expected[5]['seq']}").json()["data"]
    assert len(one) == 1 and one[0]["first_seq"] <= expected[5]["seq"] <= one[0]["last_seq"]

    metrics = server.get("/metrics").text
    assert 'inventory_webhook_deliveries_total{result="delivered"}' in metrics
    assert f'inventory_webhook_events_pending{{webhook="{hook["id"]}"}} 0' in metrics


def test_a_private_target_is_refused_without_the_flag(server):
    for url in ["http://127.0.0.1:9/hook", "http://localhost/hook", "http://169.254.169.254/"]:
        assert_error(server.post("/api/webhooks", {"url": url}), 400, "VALIDATION_ERROR", "url")
    assert_error(server.post("/api/webhooks", {"url": "ftp://example.com/"}), 400, "VALIDATION_ERROR", "url")
    assert server.get("/api/webhooks").json()["data"] == []


def test_failures_then_a_killed_server_lose_nothing(start, receiver, tmp_path):
    flags = ("--webhook-allow-private", "--webhook-timeout-secs", "3", "--webhook-max-batch", "10")
    server = start(*flags)
    hook = subscribe(server, receiver.url)
    pid = new_product(server, initial_quantity=0)["product"]["id"]
    state = lambda s: s.get(f"/api/webhooks/{hook['id']}").json()["data"]

    # The receiver fails: the attempts are logged as failures and nothing is lost.
    receiver.mode = "500"
    for _ in range(5):
        server.post(f"/api/products/{pid}/stock/add", {"quantity": 1})
    wait_until(lambda: state(server)["failures"] >= 1, "a failure recorded", timeout=60)
    log = server.get(f"/api/webhooks/{hook['id']}/deliveries").json()["data"]
    assert log[0]["ok"] is False and log[0]["status"] == 500

    # It hangs: writes go on while a request is in flight, and then the server is killed.
    receiver.mode = "hang"
    wait_until(lambda: receiver.hanging > 0, "a request in flight", timeout=60)
    failures = state(server)["failures"]
    for _ in range(20):
        assert server.post(f"/api/products/{pid}/stock/add", {"quantity": 1}).status_code == 200
    assert state(server)["failures"] == failures, "the writes returned before the request timed out"
    server.stop(signal.SIGKILL)

    # Restarted on the same database, once the receiver recovers, everything arrives.
    receiver.mode = "ok"
    again = start(*flags, db=server.db)
    expected = [m["seq"] for m in ledger(again, hook["after"])]
    assert len(expected) == 25
    # The backoff after several failures is a few seconds: resume forgets it.
    assert again.post(f"/api/webhooks/{hook['id']}/pause").json()["data"]["state"] == "paused"
    resumed = again.post(f"/api/webhooks/{hook['id']}/resume").json()["data"]
    assert resumed["state"] == "active" and resumed["failures"] == 0
    wait_until(lambda: {e["id"] for e in receiver.events()} >= set(expected), "delivery after restart", timeout=60)
    assert sorted({e["id"] for e in receiver.events()}) == expected


def test_pause_resume_rewind_and_delete(start, receiver):
    server = start("--webhook-allow-private")
    pid = new_product(server, initial_quantity=5)["product"]["id"]
    hook = subscribe(server, receiver.url, product_ids=[pid], locations=["default"])
    base = f"/api/webhooks/{hook['id']}"
    assert server.post(base + "/pause").json()["data"]["state"] == "paused"
    # A second, active subscription shows when the deliverer has been past these movements.
    witness = Receiver()
    watching = None
    try:
        watching = subscribe(server, witness.url)
        server.post(f"/api/products/{pid}/stock/add", {"quantity": 2})
        other = new_product(server, initial_quantity=1)["product"]["id"]
        server.post(f"/api/products/{other}/stock/add", {"quantity": 2})
        wait_until(lambda: len(witness.events()) == 3, "the witness's deliveries", timeout=60)
    finally:
        witness.close()
    assert receiver.events() == []
    assert server.get(base).json()["data"]["after"] == hook["after"]
    assert server.post(base + "/resume").json()["data"]["state"] == "active"
    wait_until(lambda: len(receiver.events()) == 1, "the one matching movement", timeout=60)
    assert receiver.events()[0]["data"]["product_id"] == pid

    # Rewound to 0: the product's creation and the add come (again), the other product's never.
    assert server.post(base + "/rewind", {"after": 0}).json()["data"]["after"] == 0
    wait_until(lambda: len(receiver.events()) == 3, "the rewind", timeout=60)
    assert {e["data"]["product_id"] for e in receiver.events()} == {pid}
    assert_error(server.post(base + "/rewind", {"after": 10**9}), 400, "VALIDATION_ERROR", "after")
    assert_error(server.post("/api/webhooks", {"url": receiver.url, "events": ["nope"]}), 400, "VALIDATION_ERROR", "events")

    assert server.delete(base).status_code == 200
    assert_error(server.get(base), 404, "NOT_FOUND")
    assert_error(server.get("/api/webhooks/not-a-uuid"), 404, "NOT_FOUND")
    assert [w["id"] for w in server.get("/api/webhooks").json()["data"]] == [watching["id"]]


def test_a_10000_movement_run_is_delivered_whole(start, receiver):
    server = start("--webhook-allow-private", "--webhook-max-batch", "500")
    hook = subscribe(server, receiver.url)
    products = [new_product(server, initial_quantity=0)["product"]["id"] for _ in range(4)]
    for round_ in range(10):
        ops = [
            {"product_id": products[i % 4], "op": "add", "quantity": 1, "reference": f"b{round_}"}
            for i in range(1000)
        ]
        r = server.http.post(server.url + "/api/stock/batch", json={"operations": ops}, timeout=60)
        assert r.status_code == 200, r.text
    expected = ledger(server, hook["after"])
    assert len(expected) >= 10_000
    wait_until(lambda: len(receiver.events()) >= len(expected), "10,000 events", timeout=120)
    received = receiver.events()
    # At least once: the de-duplicated set is the ledger's, and each level's events in seq order.
    assert {e["id"] for e in received} == {m["seq"] for m in expected}
    last = {}
    for e in received:
        level = (e["data"]["product_id"], e["data"]["location"])
        assert last.get(level, 0) < e["id"]
        last[level] = e["id"]
        assert e["data"]["on_hand_after"] == e["data"]["quantity_after"]
