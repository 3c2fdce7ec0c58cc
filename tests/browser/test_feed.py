"""The live movements panel: Server-Sent Events read with fetch(), newest first, resuming
after a reconnect from Last-Event-ID without gaps or repeats."""

import json
import time

from conftest import movements, new_product, open_dashboard, open_product, stock
from test_auth import give_key, make_key
from playwright.sync_api import expect


def feed_seqs(page):
    return [int(s) for s in page.locator("#feed li").evaluate_all("lis => lis.map(li => li.dataset.seq)")]


def wait_for_newest(page, seq, timeout=1000):
    page.wait_for_function(
        "seq => document.querySelector('#feed li')?.dataset.seq === String(seq)", arg=seq, timeout=timeout
    )


def test_a_movement_made_elsewhere_appears_in_the_feed(page, server):
    p = new_product(server, sku="LAP-001", location="Warehouse A", initial_quantity=50)
    open_dashboard(page, server)
    page.locator("#products[data-state=ready]").wait_for()
    started = time.monotonic()
    level = stock(server, p["id"], "remove", quantity=4, reference="POS-1")  # as curl would
    seq = movements(server, p["id"])[0]["seq"]
    wait_for_newest(page, seq)
    print(f"movement by the API -> live feed: {(time.monotonic() - started) * 1000:.0f} ms")
    newest = page.locator("#feed li").first
    expect(newest).to_contain_text("OUT")
    expect(newest).to_contain_text("LAP-001")
    expect(newest).to_contain_text(f"on hand {level['on_hand']}")
    # The products table follows the feed too.
    expect(page.locator(f"#products tr[data-id='{p['id']}'] [data-col=on_hand]")).to_have_text("46")
    assert feed_seqs(page) == sorted(feed_seqs(page), reverse=True)


def test_the_feed_resumes_after_a_reconnect_without_gaps_or_repeats(page, start):
    server = start()
    p = new_product(server, location="Warehouse A", initial_quantity=10)
    reconnects = []
    page.on(
        "request",
        lambda r: reconnects.append(r.headers.get("last-event-id")) if r.url.endswith("/api/events") else None,
    )
    open_dashboard(page, server)
    stock(server, p["id"], "add", quantity=1)
    stock(server, p["id"], "add", quantity=2)
    last = movements(server, p["id"])[0]["seq"]
    wait_for_newest(page, last)

    # The server goes away (its streams end) and comes back on the same port and database.
    port = server.addr.rsplit(":", 1)[1]
    assert server.stop() == 0
    expect(page.locator("#feed-status")).not_to_have_attribute("data-state", "live", timeout=5000)
    server = start(addr=f"127.0.0.1:{port}")
    stock(server, p["id"], "add", quantity=3)
    stock(server, p["id"], "remove", quantity=4)
    newest = movements(server, p["id"])[0]["seq"]
    wait_for_newest(page, newest, timeout=10000)
    expect(page.locator("#feed-status")).to_have_attribute("data-state", "live")

    # It asked for what came after the last event it had, and shows every movement once.
    assert len(reconnects) >= 2 and reconnects[0] is not None
    assert all(r == str(last) for r in reconnects[1:]), reconnects
    everything = [m["seq"] for m in movements(server, p["id"])]
    assert feed_seqs(page) == everything
    assert len(set(everything)) == len(everything) == 5


def test_the_event_stream_parser_whatever_the_chunking(page, server):
    """The page's own text/event-stream parser, in the browser, on a stream cut at every
    position: CRLF, CR and LF line ends (a CRLF split across chunks included), comments,
    multi-line data, an id that carries over, retry, and an event without data."""
    page.goto(server.url + "/")
    result = page.evaluate(
        """async () => {
            const { EventStreamParser } = await import('/dashboard/feed.js');
            const text = 'retry: 1500\\r\\n: keep-alive\\r\\n\\r\\nid: 7\\r\\nevent: movement\\r\\n' +
                'data: {"seq":7}\\r\\n\\r\\nevent: movement\\rdata: a\\rdata:b\\r\\rid: 9\\nevent: x\\n\\n' +
                'data: last\\n\\n';
            const runs = [];
            for (let cut = 0; cut <= text.length; cut++) {
                const events = [];
                const parser = new EventStreamParser((e) => events.push(e));
                parser.push(text.slice(0, cut));
                parser.push(text.slice(cut));
                runs.push(JSON.stringify({ events, retry: parser.retry }));
            }
            return runs;
        }"""
    )
    expected = {
        "events": [
            {"type": "movement", "data": '{"seq":7}', "id": "7"},
            {"type": "movement", "data": "a\nb", "id": "7"},
            {"type": "message", "data": "last", "id": "9"},
        ],
        "retry": 1500,
    }
    assert all(json.loads(r) == expected for r in result), result[0]


def test_the_feed_shows_reference_actor_and_notes_within_a_second_and_the_history_too(page, start):
    server = start(args=("--auth", "required"))
    till = make_key(server, "till-3", "write")
    server.http.headers["Authorization"] = f"Bearer {till}"
    p = new_product(server, sku="COF-1", location="Warehouse A", initial_quantity=20)
    page.goto(server.url + "/")
    give_key(page, till, "This server needs an API key")
    page.locator("#feed-status[data-state=live]").wait_for(timeout=10000)
    started = time.monotonic()
    stock(server, p["id"], "reserve", quantity=3, reference="ORD-17", notes="gift wrap")
    seq = movements(server, p["id"])[0]["seq"]
    wait_for_newest(page, seq)  # within a second of the write
    print(f"reserve by the API -> reference in the live feed: {(time.monotonic() - started) * 1000:.0f} ms")
    newest = page.locator("#feed li").first
    expect(newest.locator(".ref")).to_have_text("ref ORD-17")
    expect(newest.locator(".actor")).to_have_text("by till-3")
    expect(newest.locator(".notes")).to_have_text("“gift wrap”")
    expect(newest).to_contain_text("RESERVE")

    open_product(page, server, p["id"])
    row = page.locator(f"#history tr[data-seq='{seq}']")
    expect(row.locator("[data-col=reference]")).to_have_text("ORD-17")
    expect(row.locator("[data-col=actor]")).to_have_text("till-3")
    expect(row.locator("[data-col=notes]")).to_have_text("gift wrap")
