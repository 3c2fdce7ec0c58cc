"""The change feed: JSON pages, and Server-Sent Events with resume and live push."""

import socket
import threading

import requests

from conftest import assert_error, new_product, wait_until


class Sse:
    """A minimal SSE reader over requests' streaming response."""

    def __init__(self, server, headers=None, params=None):
        h = {"Accept": "text/event-stream"}
        h.update(headers or {})
        self.resp = requests.get(server.url + "/api/events", headers=h, params=params,
                                 stream=True, timeout=10)
        # chunk_size=1: a larger read would block until that many bytes arrived.
        self.lines = self.resp.iter_lines(chunk_size=1, decode_unicode=True)

    def next_event(self):
        event = {}
        for line in self.lines:
            if line == "":
                if "id" in event:
                    return event
                event = {}
                continue
            if line.startswith(":"):
                continue
            key, _, value = line.partition(":")
            event[key] = value.lstrip(" ")
        raise AssertionError("stream ended")

    def close(self):
        self.resp.close()


def test_the_event_feed_pages_by_sequence_and_refuses_bad_bounds(server):
    p = new_product(server, initial_quantity=5)["product"]
    for _ in range(3):
        server.post(f"/api/products/{p['id']}/stock/add", {"quantity": 1})
    page = server.get("/api/events?after=0&limit=2").json()["data"]
    assert [m["seq"] for m in page["movements"]] == [1, 2]
    assert page["next_after"] == 2
    page = server.get(f"/api/events?after={page['next_after']}&limit=100").json()["data"]
    assert [m["seq"] for m in page["movements"]] == [3, 4]
    page = server.get(f"/api/events?after={page['next_after']}").json()["data"]
    assert page == {"movements": [], "next_after": 4}
    assert_error(server.get("/api/events?after=-1"), 400, "VALIDATION_ERROR", "after")
    assert_error(server.get("/api/events?limit=0"), 400, "VALIDATION_ERROR", "limit")


def test_sse_resume_and_live_push(server):
    p = new_product(server, initial_quantity=5)["product"]
    pid = p["id"]
    server.post(f"/api/products/{pid}/stock/add", {"quantity": 1})
    stream = Sse(server, headers={"Last-Event-ID": "1"})
    assert stream.resp.status_code == 200
    assert stream.resp.headers["Content-Type"] == "text/event-stream"
    first = stream.next_event()
    assert first["id"] == "2" and first["event"] == "movement"
    assert '"type":"IN"' in first["data"]
    # Live: a movement committed after subscribing arrives without polling.
    server.post(f"/api/products/{pid}/stock/reserve", {"quantity": 2, "reference": "LIVE"})
    pushed = stream.next_event()
    assert pushed["id"] == "3" and '"RESERVE"' in pushed["data"] and "LIVE" in pushed["data"]
    stream.close()
    # Resuming with ?after= gives the same sequence.
    again = Sse(server, params={"after": "2"})
    assert again.next_event()["id"] == "3"
    again.close()
    assert_error(requests.get(server.url + "/api/events", headers={"Accept": "text/event-stream",
                                                                   "Last-Event-ID": "x"}, timeout=5),
                 400, "VALIDATION_ERROR", "Last-Event-ID")


def test_subscriber_cap_keeps_workers_free(start):
    server = start("--max-streams", "2", "--workers", "1")
    streams = [Sse(server) for _ in range(2)]
    assert all(s.resp.status_code == 200 for s in streams)
    r = requests.get(server.url + "/api/events", headers={"Accept": "text/event-stream"}, timeout=5)
    assert_error(r, 503, "SERVICE_UNAVAILABLE")
    # With a single worker and every stream slot taken, ordinary requests are still served.
    for _ in range(5):
        assert server.get("/health").status_code == 200
    streams[0].close()
    # The slot frees once the stream notices its client left (at its next write or heartbeat).
    p = new_product(server)["product"]
    def slot_free():
        server.post(f"/api/products/{p['id']}/stock/add", {"quantity": 1})
        r = requests.get(server.url + "/api/events", headers={"Accept": "text/event-stream"},
                         stream=True, timeout=5)
        r.close()
        return r.status_code == 200

    wait_until(slot_free, "the slot frees", timeout=15)
    streams[1].close()


def test_streams_end_at_shutdown(start):
    server = start()
    stream = Sse(server)
    done = threading.Event()

    def drain():
        try:
            for _ in stream.lines:
                pass
        except requests.RequestException:
            pass
        done.set()

    threading.Thread(target=drain, daemon=True).start()
    assert server.stop() == 0
    assert done.wait(10)


def test_raw_sse_framing(server):
    with socket.create_connection((server.host, server.port), timeout=5) as s:
        s.sendall(b"GET /api/events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n")
        data = b""
        while b"retry:" not in data:
            data += s.recv(4096)
        assert data.startswith(b"HTTP/1.1 200")
        assert b"Content-Type: text/event-stream" in data
