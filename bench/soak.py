#!/usr/bin/env python3
"""The soak's workload and its samples (bench/soak.sh runs it against a started server).

Workers loop over a mixed workload: product and inventory reads, reserves with a short expiry
(left to expire, so the sweep releases them), reserves then commits, feed pages, and SSE
subscribers that stay connected, reconnecting now and then. Every INTERVAL seconds one line
is printed: the server's RSS, open descriptors and threads (from /proc), the requests done in
that interval with their p50 and p99, and the machine's one-minute load average (the latency
figures mean little without it on a shared machine). Standard library only.

Usage: soak.py URL PID SECONDS INTERVAL"""

import http.client
import json
import sys
import threading
import time
import urllib.parse

URL, PID, SECONDS, INTERVAL = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
HOST = urllib.parse.urlsplit(URL)
lock = threading.Lock()
latencies, errors = [], []


def call(conn, method, path, body=None):
    t0 = time.monotonic()
    payload = json.dumps(body) if body is not None else None
    conn.request(method, path, body=payload, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    with lock:
        latencies.append(time.monotonic() - t0)
        if r.status >= 500 or (r.status >= 400 and r.status != 409):
            errors.append((method, path, r.status, data[:200]))
    return r.status, data


def connect():
    return http.client.HTTPConnection(HOST.hostname, HOST.port, timeout=30)


def setup(n=20):
    conn = connect()
    ids = []
    for i in range(n):
        status, data = call(conn, "POST", "/api/products", {
            "name": f"Soak {i}", "sku": f"SOAK-{time.time_ns()}-{i}", "price": "1.00",
            "location": "Soak", "initial_quantity": 1_000_000_000})
        assert status == 201, data
        ids.append(json.loads(data)["data"]["product"]["id"])
    return ids


def worker(n, ids, stop):
    conn = connect()
    i = 0
    while not stop.is_set():
        pid = ids[(n + i) % len(ids)]
        step = i % 6
        try:
            if step == 0:
                call(conn, "GET", f"/api/products/{pid}")
            elif step == 1:
                call(conn, "GET", f"/api/products/{pid}/inventory")
            elif step == 2:  # left to expire: the sweep releases it
                call(conn, "POST", f"/api/products/{pid}/stock/reserve", {"quantity": 1, "expires_in_seconds": 2})
            elif step == 3:
                ref = f"S-{n}-{i}"
                call(conn, "POST", f"/api/products/{pid}/stock/reserve", {"quantity": 1, "reference": ref})
                call(conn, "POST", f"/api/products/{pid}/stock/commit", {"reference": ref})
            elif step == 4:
                call(conn, "GET", "/api/events?after=0&limit=100")
            else:
                call(conn, "GET", f"/api/products/{pid}/transactions?limit=20")
        except (OSError, http.client.HTTPException) as e:
            with lock:
                errors.append(("connection", repr(e)))
            conn = connect()
        i += 1


def subscriber(stop):
    """An SSE subscriber that reads for a while, then reconnects."""
    while not stop.is_set():
        conn = connect()
        conn.request("GET", "/api/events", headers={"Accept": "text/event-stream"})
        r = conn.getresponse()
        end = time.monotonic() + 30
        while time.monotonic() < end and not stop.is_set():
            if not r.fp.readline():
                break
        conn.close()


def proc_sample():
    status = open(f"/proc/{PID}/status").read().split("\n")
    field = lambda k: next(int(line.split()[1]) for line in status if line.startswith(k + ":"))
    import os
    return field("VmRSS"), len(os.listdir(f"/proc/{PID}/fd")), field("Threads")


def load1():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def main():
    ids = setup()
    stop = threading.Event()
    threads = [threading.Thread(target=worker, args=(n, ids, stop), daemon=True) for n in range(8)]
    threads += [threading.Thread(target=subscriber, args=(stop,), daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    print("minute\trss_kib\tfds\tthreads\trequests\tp50_ms\tp99_ms\terrors\tload1", flush=True)
    started = time.monotonic()
    k = 0
    while time.monotonic() - started < SECONDS:
        time.sleep(INTERVAL)
        k += 1
        with lock:
            got, errs = sorted(latencies), list(errors)
            latencies.clear()
            errors.clear()
        rss, fds, nthreads = proc_sample()
        q = lambda p: got[min(len(got) - 1, int(p * len(got)))] * 1000 if got else float("nan")
        print(f"{k * INTERVAL / 60:.2f}\t{rss}\t{fds}\t{nthreads}\t{len(got)}\t{q(0.5):.1f}\t{q(0.99):.1f}\t{len(errs)}\t{load1()}", flush=True)
        for e in errs[:3]:
            print(f"# error: {e}", flush=True)
    stop.set()


if __name__ == "__main__":
    main()
