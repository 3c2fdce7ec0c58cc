"""Issue 12, strict framing (RFC 9112) and the limits on a request head: every request gets an
answer or a closed connection, never a second request smuggled inside the first, never an
unbounded head."""

import socket
import time

from conftest import new_product, raw_exchange, statuses

SMUGGLED = b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"


def test_differing_content_lengths_are_400_and_close(server):
    data, closed = raw_exchange(
        server,
        b"POST /api/locations HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n"
        b"Content-Length: 14\r\n\r\n" + SMUGGLED,
    )
    assert statuses(data) == [400], data
    assert closed


def test_content_length_with_transfer_encoding_serves_nothing_after_it(server):
    # Read as chunked (RFC 9112 §6.1), and the connection is closed after the answer, so the
    # request hidden behind the body is never served.
    for head in (b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
                 b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n"):
        data, closed = raw_exchange(
            server,
            b"POST /api/locations HTTP/1.1\r\nHost: localhost\r\n" + head + b"\r\n"
            b"0\r\n\r\n" + SMUGGLED,
        )
        assert len(statuses(data)) == 1 and statuses(data)[0] >= 400, data
        assert b"Connection: close" in data
        assert closed


def test_transfer_codings_other_than_chunked(server):
    for coding, expected in ((b"xchunked", 400), (b"chunked, identity", 400),
                             (b"gzip, chunked", 501), (b"identity", 400)):
        data, closed = raw_exchange(
            server,
            b"POST /api/locations HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: " + coding
            + b"\r\n\r\n0\r\n\r\n" + SMUGGLED,
        )
        assert statuses(data) == [expected], (coding, data)
        assert closed, coding


def test_malformed_chunk_is_400_at_once(server):
    t0 = time.monotonic()
    data, closed = raw_exchange(
        server,
        b"POST /api/locations HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"zz\r\n{}\r\n0\r\n\r\n",
    )
    assert statuses(data) == [400], data
    assert closed and time.monotonic() - t0 < 2


def test_http11_needs_exactly_one_host(server):
    data, closed = raw_exchange(server, b"GET /health HTTP/1.1\r\n\r\n")
    assert statuses(data) == [400] and closed, data
    data, closed = raw_exchange(
        server, b"GET /health HTTP/1.1\r\nHost: localhost\r\nHost: 127.0.0.1\r\n\r\n")
    assert statuses(data) == [400] and closed, data
    # HTTP/1.0 has no Host requirement.
    data, _ = raw_exchange(server, b"GET /health HTTP/1.0\r\n\r\n")
    assert statuses(data) == [200], data


def test_odd_bytes_always_get_an_answer(server):
    # Non-ASCII in a header value (obs-text, allowed by RFC 9110) is served...
    data, _ = raw_exchange(
        server,
        b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Note: caf\xc3\xa9\r\nConnection: close\r\n\r\n")
    assert statuses(data) == [200], data
    # ...but not in a name, nor in a header the server acts on.
    data, closed = raw_exchange(server, b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-\xe9: 1\r\n\r\n")
    assert statuses(data) == [400] and closed, data
    pid = new_product(server)["product"]["id"]
    data, _ = raw_exchange(
        server,
        b"POST /api/products/%s/stock/add HTTP/1.1\r\nHost: localhost\r\nIdempotency-Key: k\xe9\r\n"
        b"Content-Length: 15\r\nConnection: close\r\n\r\n{\"quantity\": 1}" % pid.encode())
    assert statuses(data) == [400] and b"Idempotency-Key" in data, data
    # An HTTP/2 connection preface is told the version is not supported.
    data, closed = raw_exchange(server, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    assert statuses(data) == [505] and closed, data
    # A bare LF ends lines too (RFC 9112 §2.2 lets a recipient accept it): answered.
    data, _ = raw_exchange(server, b"GET /health HTTP/1.1\nHost: localhost\nConnection: close\n\n")
    assert statuses(data) == [200], data
    # Binary garbage where a request line should be.
    data, closed = raw_exchange(server, b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n")
    assert statuses(data) == [400] and closed, data


def test_header_and_request_line_caps(start):
    server = start("--max-header-bytes", "4096")
    data, closed = raw_exchange(
        server, b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n")
    assert statuses(data) == [431] and closed, data
    data, _ = raw_exchange(
        server, b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 3000
        + b"\r\nConnection: close\r\n\r\n")
    assert statuses(data) == [200], data
    default = start()
    data, _ = raw_exchange(
        default, b"GET /health?" + b"q" * 9000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert statuses(data) == [414], data
    data, closed = raw_exchange(
        default, b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 17000 + b"\r\n\r\n")
    assert statuses(data) == [431] and closed, data


def test_header_flood_holds_no_memory(server):
    # Six clients each pushing 16 MiB of one endless header: each is answered 431 and cut off
    # after the first 16 KiB, so the server's peak memory stays small.
    line = b"X-Flood: " + b"a" * 65000 + b"\r\n"
    for _ in range(6):
        s = socket.create_connection((server.host, server.port))
        s.settimeout(5)
        sent = 0
        try:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
            while sent < 16 << 20:
                s.sendall(line)
                sent += len(line)
        except OSError:
            pass
        assert sent < 16 << 20, "the server read 16 MiB of header"
        s.close()
    assert server.get("/health").status_code == 200
    peak_kib = server.pid_status("VmHWM")
    assert peak_kib < 64 * 1024, peak_kib


def test_head_deadline_cuts_off_trickling_clients(start):
    server = start("--io-timeout-secs", "2")
    s = socket.create_connection((server.host, server.port))
    s.settimeout(0.5)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
    t0 = time.monotonic()
    closed_after = None
    # One header byte every 0.3 s: every read succeeds, but the head never ends.
    while time.monotonic() - t0 < 8:
        try:
            s.sendall(b"X")
            if s.recv(1024) == b"":
                closed_after = time.monotonic() - t0
                break
        except socket.timeout:
            continue
        except OSError:
            closed_after = time.monotonic() - t0
            break
        time.sleep(0.3)  # the trickle is the slow client under test
    s.close()
    assert closed_after is not None, "a trickling client was never cut off"
    assert closed_after < 4, closed_after
