#!/usr/bin/env python3
"""The transport rows of issue 12's table, measured against a running server: what each
attack or odd request gets, how long a burst of new connections waits, and what slow or
flooding clients cost in threads and memory. Not a test (tests/http pins each row); this is
how candidate HTTP implementations were compared (docs/perf/server.md).

Usage: bench/http/rows.py HOST:PORT PID   (the server's pid, for /proc/PID/status)
Raise `ulimit -n` first: the slow-socket rows open 1,000 connections (4,000 with --slowloris-4000).
"""

import re
import resource
import selectors
import socket
import sys
import time

addr, pid = sys.argv[1], sys.argv[2]
HOST, PORT = addr.rsplit(":", 1)
PORT = int(PORT)


def status(key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def exchange(data, wait=3.0):
    s = socket.create_connection((HOST, PORT))
    s.settimeout(wait)
    got, end = b"", "open after %.0fs" % wait
    t0 = time.monotonic()
    try:
        s.sendall(data)
        while True:
            c = s.recv(65536)
            if not c:
                end = "closed"
                break
            got += c
    except socket.timeout:
        pass
    except OSError as e:
        end = type(e).__name__
    s.close()
    codes = [m.decode() for m in re.findall(rb"HTTP/1\.[01] (\d{3})", got)]
    return f"{'/'.join(codes) or 'no answer'}, {end} ({time.monotonic() - t0:.2f}s)"


H = b"Host: localhost\r\n"
SMUGGLED = b"GET /health HTTP/1.1\r\n" + H + b"\r\n"
ROWS = [
    ("Content-Length 0 then 14", b"POST /health HTTP/1.1\r\n" + H + b"Content-Length: 0\r\nContent-Length: 14\r\n\r\n" + SMUGGLED),
    ("Content-Length + chunked", b"POST /health HTTP/1.1\r\n" + H + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED),
    ("Transfer-Encoding: xchunked", b"POST /health HTTP/1.1\r\n" + H + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + SMUGGLED),
    ("malformed chunk size", b"POST /health HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
    ("non-ASCII header value", b"GET /health HTTP/1.1\r\n" + H + b"X-Note: caf\xc3\xa9\r\nConnection: close\r\n\r\n"),
    ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
    ("bare LF", b"GET /health HTTP/1.1\n" + H.replace(b"\r", b"") + b"Connection: close\n\n"),
    ("HTTP/1.1 without Host", b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n"),
    ("20 KiB header", b"GET /health HTTP/1.1\r\n" + H + b"X-Big: " + b"a" * 20000 + b"\r\nConnection: close\r\n\r\n"),
    ("9 KiB request target", b"GET /health?" + b"q" * 9000 + b" HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n"),
    ("HEAD /health", b"HEAD /health HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n"),
    ("OPTIONS /health", b"OPTIONS /health HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n"),
]


def burst(n):
    sel = selectors.DefaultSelector()
    t0 = time.monotonic()
    pending, waits, done = {}, [], []
    for i in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((HOST, PORT))
        sel.register(s, selectors.EVENT_WRITE, i)
        pending[i] = s
    while pending and time.monotonic() - t0 < 20:
        for key, ev in sel.select(timeout=0.5):
            s = pending[key.data]
            if ev & selectors.EVENT_WRITE:
                s.send(b"GET /health HTTP/1.1\r\n" + H + b"\r\n")
                sel.modify(s, selectors.EVENT_READ, key.data)
            else:
                s.recv(65536)
                waits.append(time.monotonic() - t0)
                sel.unregister(s)
                done.append(pending.pop(key.data))
    for s in done + list(pending.values()):
        s.close()
    return max(waits) if waits else float("nan"), len(pending)


def slow(n, trickle_seconds):
    base_threads, base_rss = status("Threads"), status("VmRSS")
    socks = []
    for _ in range(n):
        s = socket.create_connection((HOST, PORT))
        s.sendall(b"GET /health HTTP/1.1\r\nHost: loc")
        socks.append(s)
    time.sleep(1)
    peak_threads, rss = status("Threads"), status("VmRSS")
    # Slowloris: one header byte every second; how many connections are still open at the end?
    t0 = time.monotonic()
    while time.monotonic() - t0 < trickle_seconds:
        for s in socks:
            try:
                s.send(b"a")
            except OSError:
                pass
        time.sleep(1)
    alive = 0
    for s in socks:
        s.setblocking(False)
        try:
            alive += s.recv(1) != b""
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
        s.close()
    return (f"threads {base_threads} -> {peak_threads}, RSS {base_rss // 1024} -> {rss // 1024} MiB; "
            f"after {trickle_seconds}s of one byte a second, {alive} of {n} still open")


def flood():
    """Six clients each sending 128 MiB of one unfinished header, one after another."""
    base = status("VmRSS")
    line = b"X-Flood: " + b"a" * 65000 + b"\r\n"
    sent_total = 0
    peak = base
    for _ in range(6):
        s = socket.create_connection((HOST, PORT))
        s.settimeout(5)
        try:
            s.sendall(b"GET /health HTTP/1.1\r\n" + H)
            sent = 0
            while sent < 128 << 20:
                s.sendall(line)
                sent += len(line)
        except OSError:
            pass
        sent_total += sent
        peak = max(peak, status("VmRSS"))
        s.close()
    return f"{sent_total >> 20} MiB accepted from 6 clients; RSS {base // 1024} -> peak {peak // 1024} MiB"


if __name__ == "__main__":
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 10000), hard))
    for name, data in ROWS:
        print(f"{name:30} {exchange(data)}")
    for n in (64, 256, 512):
        worst, lost = burst(n)
        print(f"{'burst of %d connections' % n:30} worst wait {worst * 1000:.0f} ms, {lost} unanswered")
    print(f"{'1,000 slow sockets':30} {slow(1000, 12)}")
    if "--slowloris-4000" in sys.argv:
        print(f"{'4,000 slow sockets':30} {slow(4000, 12)}")
    print(f"{'header flood':30} {flood()}")
