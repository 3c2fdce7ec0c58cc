"""Slow clients cannot hold the door (issue 30): one client address may hold at most
--max-connections-per-ip connections. With the connection slots taken by sockets trickling a
byte at a time from 127.0.0.2 (reconnecting when cut), a normal client on 127.0.0.1 used to
wait for a slot until their io timeout (10 s); here it is answered at once. The socket count
and duration are kept small for CI; bench/ is the place for thousands of sockets."""

import socket
import threading
import time

import requests


def trickler(server, stop, held, refused):
    """Holds connections from 127.0.0.2, sending a byte of a request head every 0.2 s and
    reconnecting whenever the server closes one."""
    while not stop.is_set():
        try:
            s = socket.socket()
            s.bind(("127.0.0.2", 0))
            s.settimeout(2)
            s.connect((server.host, server.port))
        except OSError:
            time.sleep(0.05)
            continue
        head = b"GET /health HTTP/1.1\r\nHost: localhost\r\n"
        try:
            for b in head:
                if stop.is_set():
                    break
                s.sendall(bytes([b]))
                held[0] += 1 if b == head[0] else 0
                time.sleep(0.2)
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
    held, refused = [0], [0]
    threads = [threading.Thread(target=trickler, args=(server, stop, held, refused)) for _ in range(100)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)  # every trickler has connected at least once
        times = []
        for _ in range(30):
            t0 = time.monotonic()
            r = requests.get(server.url + "/health", timeout=15, headers={"Connection": "close"})
            times.append(time.monotonic() - t0)
            assert r.status_code == 200
        metrics = requests.get(server.url + "/metrics", timeout=5).text
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    times.sort()
    print(f"normal client: median {times[15] * 1000:.1f} ms, worst {times[-1] * 1000:.1f} ms; "
          f"{held[0]} trickling connections opened, {refused[0]} closed by the server")
    assert times[-1] < 0.5, times
    assert refused[0] > 0, "the address's connections over its cap were closed"
    over = [line for line in metrics.splitlines() if line.startswith("inventory_http_connections_over_address_cap_total ")]
    assert over and float(over[0].split()[1]) > 0, over
