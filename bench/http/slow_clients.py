#!/usr/bin/env python3
"""Slow clients against a normal one: SOCKETS connections from 127.0.0.2 trickle a request head
one byte every 0.5 s (reconnecting whenever the server closes one), while a client on 127.0.0.1
sends GET /health, one fresh connection each, and its latencies are reported (p50, p99, max).
The target (issue 30): p99 < 100 ms with 2,000 trickling sockets. Standard library only.

Usage: bench/http/slow_clients.py [BIN] [SOCKETS] [SECONDS] [extra server flags...]
(BIN defaults to target/release/inventory-server; build it with cargo build --release.)"""

import json
import os
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/inventory-server"
SOCKETS = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
SECONDS = float(sys.argv[3]) if len(sys.argv) > 3 else 20
FLAGS = sys.argv[4:]
HEAD = b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"y" * 1000


def start_server(work):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    proc = subprocess.Popen([BIN, "--addr", "127.0.0.1:0", "--db", f"{work}/bench.db", "--durability", "normal", *FLAGS],
                            stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        entry = json.loads(line)
        if entry.get("message") == "listening":
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            host, port = entry["addr"].rsplit(":", 1)
            return proc, (host, int(port)), entry
    raise SystemExit("the server did not start")


def trickle(addr, stop, counts):
    """Keeps SOCKETS connections from 127.0.0.2 trickling, in one thread."""
    sel = selectors.DefaultSelector()
    conns = {}  # socket -> bytes sent

    def connect():
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.setblocking(False)
        try:
            s.connect(addr)
        except BlockingIOError:
            pass
        sel.register(s, selectors.EVENT_READ)
        conns[s] = 0
        counts["opened"] += 1

    for _ in range(SOCKETS):
        connect()
    while not stop.is_set():
        deadline = time.monotonic() + 0.5
        for key, _ in sel.select(timeout=0):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                s.close()
                del conns[s]
                counts["cut"] += 1
                connect()
        for s, sent in list(conns.items()):
            try:
                s.send(HEAD[sent % len(HEAD):sent % len(HEAD) + 1])
                conns[s] = sent + 1
            except (BlockingIOError, OSError):
                pass
        time.sleep(max(0.0, deadline - time.monotonic()))
    for s in conns:
        s.close()


def main():
    work = tempfile.mkdtemp()
    proc, addr, listening = start_server(work)
    stop = threading.Event()
    counts = {"opened": 0, "cut": 0}
    t = threading.Thread(target=trickle, args=(addr, stop, counts))
    t.start()
    time.sleep(2)
    latencies = []
    end = time.monotonic() + SECONDS
    request = b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    while time.monotonic() < end:
        t0 = time.monotonic()
        c = socket.create_connection(addr, timeout=30)
        c.sendall(request)
        got = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            got += chunk
        c.close()
        assert got.startswith(b"HTTP/1.1 200"), got[:100]
        latencies.append(time.monotonic() - t0)
        time.sleep(0.01)
    stop.set()
    t.join()
    proc.terminate()
    proc.wait()
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    print(f"{SOCKETS} trickling sockets from 127.0.0.2 ({counts['opened']} opened, {counts['cut']} cut by the server); "
          f"max_connections {listening.get('max_connections')}, per ip {listening.get('max_connections_per_ip')}, "
          f"head timeout {listening.get('head_timeout_secs')} s, flags {FLAGS}")
    print(f"normal client on 127.0.0.1: {len(latencies)} requests in {SECONDS:.0f} s: "
          f"p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms, max {latencies[-1] * 1000:.1f} ms")
    print(f"load average {' '.join(open('/proc/loadavg').read().split()[:3])}, {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
