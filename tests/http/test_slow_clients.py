"""Slow clients cannot hold the door (issue 30): one client address may hold at most
--max-connections-per-ip connections. With the connection slots taken by sockets trickling a
byte at a time from 127.0.0.2 (reconnecting when cut), a normal client on 127.0.0.1 used to
wait for a slot until their io timeout (10 s); here it is answered at once. The socket count
and duration are kept small for CI; bench/ is the place for thousands of sockets."""

import socket
import threading
import time

import requests

from conftest import wait_until


def trickler(server, stop, held, refused, connected):
    """Holds connections from 127.0.0.2, sending a byte of a request head every 0.2 s and
    reconnecting whenever the server closes one; adds itself to `connected` once connected."""
    while not stop.is_set():
        try:
            s = socket.socket()
            s.bind(("127.0.0.2", 0))
            s.settimeout(2)
            s.connect((server.host, server.port))
        except OSError:
            time.sleep(0.05)  # refused at the cap: the trickler's pause before it tries again
            continue
        connected.add(threading.get_ident())
        head = b"GET /health HTTP/1.1\r\nHost: localhost\r\n"
        try:
            for b in head:
                if stop.is_set():
                    break
                s.sendall(bytes([b]))
                held[0] += 1 if b == head[0] else 0
                time.sleep(0.2)  # the trickle is the slow client under test
                s.setblocking(False)
                try:
                    if s.recv(1) == b"":
                        refused[0] += 1
                        break
                except BlockingIOError:
                    pass
                finally:
                    s.setblocking(True)
        except OSError:
            refused[0] += 1
        finally:
            s.close()


def test_one_address_cannot_take_every_connection_slot(start):
    server = start("--max-connections", "64", "--max-connections-per-ip", "16", "--io-timeout-secs", "10")
    stop = threading.Event()
    held, refused, connected = [0], [0], set()
    threads = [threading.Thread(target=trickler, args=(server, stop, held, refused, connected))
               for _ in range(100)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: len(connected) == len(threads), "every trickler has connected")
        for _ in range(30):
            # Answered before the tricklers' io timeout (10 s) could free a slot.
            r = requests.get(server.url + "/health", timeout=5, headers={"Connection": "close"})
            assert r.status_code == 200
        metrics = requests.get(server.url + "/metrics", timeout=5).text
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    print(f"{held[0]} trickling connections opened, {refused[0]} closed by the server")
    assert refused[0] > 0, "the address's connections over its cap were closed"
    over = [line for line in metrics.splitlines() if line.startswith("inventory_http_connections_over_address_cap_total ")]
    assert over and float(over[0].split()[1]) > 0, over


def test_a_head_has_its_own_deadline_shorter_than_the_idle_timeout(start):
    server = start("--head-timeout-secs", "1", "--io-timeout-secs", "6")
    # A head trickled a byte every 0.2 s is cut about a second after its first byte.
    slow = socket.create_connection((server.host, server.port))
    slow.settimeout(0.05)
    t0 = time.monotonic()
    closed_after = None
    for b in b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"y" * 200:
        try:
            slow.sendall(bytes([b]))
            if slow.recv(1) == b"":
                closed_after = time.monotonic() - t0
                break
        except socket.timeout:
            pass
        except OSError:
            closed_after = time.monotonic() - t0
            break
        time.sleep(0.15)  # the trickle is the slow client under test
    slow.close()
    assert closed_after is not None and 0.8 < closed_after < 3, closed_after
    # An idle keep-alive connection outlives the head deadline (until the io timeout).
    idle = socket.create_connection((server.host, server.port))
    idle.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
    idle.settimeout(5)
    assert idle.recv(65536).startswith(b"HTTP/1.1 200")
    time.sleep(2.5)  # idle past the head deadline (the tokio timer's, no clock to move)
    idle.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert idle.recv(65536).startswith(b"HTTP/1.1 200"), "still open after 2.5 s idle"
    idle.close()


def closed(s):
    """Whether the server has closed the socket (a shed one is closed at once)."""
    s.settimeout(0.3)
    try:
        return s.recv(65536) == b""
    except ConnectionResetError:
        return True
    except (socket.timeout, OSError):
        return False


def partial_heads(server, n):
    out = []
    for _ in range(n):
        s = socket.create_connection((server.host, server.port))
        s.sendall(b"GET /health HTTP/1.1\r\nHost: loc")
        out.append(s)
        time.sleep(0.02)  # their heads begin in this order
    return out


def test_at_the_cap_idle_and_slow_connections_make_room(start):
    """At --max-connections, a new client takes the place of an idle keep-alive connection (the
    longest idle), else of the slowest unfinished head, rather than waiting in the listen queue
    for their timeouts (10 s here)."""
    server = start("--max-connections", "8", "--io-timeout-secs", "10", "--head-timeout-secs", "10")
    idle = []
    for _ in range(4):
        s = socket.create_connection((server.host, server.port))
        s.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        s.settimeout(5)
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        idle.append(s)
        time.sleep(0.02)  # idle since distinct instants, in this order: the longest idle is shed
    heads = partial_heads(server, 4)
    time.sleep(1.2)  # idle or slow for a second at least: a client mid-request is never cut
    # Answered before any of their timeouts (10 s) could free a slot.
    r = requests.get(server.url + "/health", timeout=5, headers={"Connection": "close"})
    assert r.status_code == 200
    # One slot was needed: the longest idle connection gave it up, no head did.
    assert [closed(s) for s in idle] == [True, False, False, False]
    assert [closed(s) for s in heads] == [False] * 4
    for s in idle + heads:
        s.close()

    # With no idle connection, the oldest unfinished head makes room.
    server = start("--max-connections", "8", "--io-timeout-secs", "10", "--head-timeout-secs", "10")
    heads = partial_heads(server, 8)
    time.sleep(1.2)  # slow for a second at least
    r = requests.get(server.url + "/health", timeout=5, headers={"Connection": "close"})
    assert r.status_code == 200
    assert [closed(s) for s in heads] == [True] + [False] * 7
    for s in heads:
        s.close()
