#!/usr/bin/env python3
"""Idle and slow sockets, and bursts of new connections: what they cost the server. The figures
that tests/http/test_connections.py used to assert, measured here instead (a functional test
asserts behaviour; these depend on the machine and its load).

1. 1,000 sockets that sent part of a request head and went quiet: the server's threads before
   and after (target: at most 4 more), its RSS (target: under 128 MiB), and how long 20
   GET /health take meanwhile (target: under 2 s). Then 300 connections that send nothing
   (`--io-timeout-secs 2`): threads (target: at most 8 more), RSS (target: under 64 MiB), and
   20 GET /health meanwhile (target: under 2 s).
2. 200 slow heads, 200 slow bodies and 200 idle keep-alive connections, with `--workers 2`: the
   worst of 50 POST /api/locations (target: under 2 s; wave 1 held them for the io timeout).
3. Bursts of 64, 256, 512 and 512 connections opened at once, one request each: the worst wait
   for an answer per burst (target: under 1 s).

Prints one JSON object of figures and exits 1 if a target is missed. Standard library only.
Usage: bench/http/idle_sockets.py [BIN]  (default target/release/inventory-server)"""

import json
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/inventory-server"


def start_server(work, *flags):
    proc = subprocess.Popen([BIN, "--addr", "127.0.0.1:0", "--db", f"{work}/bench.db", *flags],
                            stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        entry = json.loads(line)
        if entry.get("message") == "listening":
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            host, port = entry["addr"].rsplit(":", 1)
            return proc, host, int(port)
    raise SystemExit("the server did not start")


def status(proc, key):
    with open(f"/proc/{proc.pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def open_connections(url):
    text = urllib.request.urlopen(url + "/metrics", timeout=5).read().decode()
    line = next(l for l in text.splitlines() if l.startswith("inventory_http_connections_open "))
    return float(line.split()[1])


def wait_connected(url, n):
    deadline = time.monotonic() + 30
    while open_connections(url) < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"the server never held {n} connections")
        time.sleep(0.05)


def slow_sockets(host, port, n, data=b"GET /health HTTP/1.1\r\nHost: localh"):
    out = []
    for _ in range(n):
        s = socket.create_connection((host, port))
        if data:
            s.sendall(data)
        out.append(s)
    return out


def idle_sockets(work):
    proc, host, port = start_server(work, "--io-timeout-secs", "30", "--max-connections-per-ip", "2000")
    url = f"http://{host}:{port}"
    urllib.request.urlopen(url + "/health", timeout=5).read()
    baseline = status(proc, "Threads")
    slow = slow_sockets(host, port, 1000)
    wait_connected(url, 1000)
    threads, rss_kib = status(proc, "Threads"), status(proc, "VmRSS")
    t0 = time.monotonic()
    for _ in range(20):
        urllib.request.urlopen(url + "/health", timeout=5).read()
    served_in = time.monotonic() - t0
    for s in slow:
        s.close()
    proc.terminate()
    proc.wait()
    return {"threads_before": baseline, "threads_with_1000_idle": threads, "rss_kib": rss_kib,
            "20_requests_s": round(served_in, 3)}


def idle_connections(work):
    proc, host, port = start_server(work, "--io-timeout-secs", "2", "--max-connections-per-ip", "2000")
    url = f"http://{host}:{port}"
    urllib.request.urlopen(url + "/health", timeout=5).read()
    baseline = status(proc, "Threads")
    idle = slow_sockets(host, port, 300, b"")
    wait_connected(url, 300)
    threads, rss_kib = status(proc, "Threads"), status(proc, "VmRSS")
    t0 = time.monotonic()
    for _ in range(20):
        urllib.request.urlopen(url + "/health", timeout=5).read()
    served_in = time.monotonic() - t0
    for s in idle:
        s.close()
    proc.terminate()
    proc.wait()
    return {"threads_with_300_silent": threads - baseline, "rss_kib_300_silent": rss_kib,
            "20_requests_beside_300_silent_s": round(served_in, 3)}


def slow_clients(work):
    proc, host, port = start_server(work, "--io-timeout-secs", "30", "--workers", "2",
                                    "--max-connections-per-ip", "2000")
    url = f"http://{host}:{port}"
    slow = slow_sockets(host, port, 200)
    slow += slow_sockets(host, port, 200, b"POST /api/locations HTTP/1.1\r\nHost: localhost\r\n"
                                          b"Content-Length: 2000\r\n\r\n{")
    slow += slow_sockets(host, port, 200, b"")
    wait_connected(url, 600)
    worst = 0.0
    for i in range(50):
        body = json.dumps({"name": f"L{i}"}).encode()
        req = urllib.request.Request(url + "/api/locations", data=body,
                                     headers={"Content-Type": "application/json"})
        t0 = time.monotonic()
        urllib.request.urlopen(req, timeout=35).read()
        worst = max(worst, time.monotonic() - t0)
    for s in slow:
        s.close()
    proc.terminate()
    proc.wait()
    return {"worst_write_with_600_slow_s": round(worst, 3)}


def burst(host, port, n):
    """n connections opened at once, one request each: the longest wait for an answer."""
    sel = selectors.DefaultSelector()
    t0 = time.monotonic()
    worst, pending, answered = 0.0, {}, []
    for i in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((host, port))
        sel.register(s, selectors.EVENT_WRITE, i)
        pending[i] = (s, b"")
    while pending and time.monotonic() < t0 + 30:
        for key, events in sel.select(timeout=0.5):
            s, got = pending[key.data]
            if events & selectors.EVENT_WRITE:
                s.send(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
                sel.modify(s, selectors.EVENT_READ, key.data)
                continue
            chunk = s.recv(65536)
            got += chunk
            if b"\r\n\r\n" in got or not chunk:
                worst = max(worst, time.monotonic() - t0)
                sel.unregister(s)
                del pending[key.data]
                answered.append(s)
            else:
                pending[key.data] = (s, got)
    for s in answered + [s for s, _ in pending.values()]:
        s.close()
    return worst if not pending else float("inf")


def bursts(work):
    proc, host, port = start_server(work, "--max-connections-per-ip", "2000")
    worst = [round(burst(host, port, n), 3) for n in (64, 256, 512, 512)]
    proc.terminate()
    proc.wait()
    return {"worst_wait_per_burst_s": worst}


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    figures = {}
    for part in (idle_sockets, idle_connections, slow_clients, bursts):
        with tempfile.TemporaryDirectory() as work:
            figures.update(part(work))
    print(json.dumps(figures))
    missed = []
    if figures["threads_with_1000_idle"] > figures["threads_before"] + 4:
        missed.append("1,000 idle sockets took threads")
    if figures["rss_kib"] >= 128 * 1024:
        missed.append("RSS with 1,000 idle sockets is 128 MiB or more")
    if figures["20_requests_s"] >= 2:
        missed.append("20 requests beside 1,000 idle sockets took 2 s or more")
    if figures["threads_with_300_silent"] > 8:
        missed.append("300 silent connections took threads")
    if figures["rss_kib_300_silent"] >= 64 * 1024:
        missed.append("RSS with 300 silent connections is 64 MiB or more")
    if figures["20_requests_beside_300_silent_s"] >= 2:
        missed.append("20 requests beside 300 silent connections took 2 s or more")
    if figures["worst_write_with_600_slow_s"] >= 2:
        missed.append("a write beside 600 slow clients took 2 s or more")
    if max(figures["worst_wait_per_burst_s"]) >= 1:
        missed.append("a burst waited 1 s or more")
    for m in missed:
        print("target missed:", m, file=sys.stderr)
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
