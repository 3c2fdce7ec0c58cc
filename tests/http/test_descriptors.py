"""Descriptors (issue 30): the server raises its soft RLIMIT_NOFILE to the hard limit, and sizes
its connection cap so that the database pool keeps its descriptors. Under `ulimit -n 64`, 200
clients at once used to take the descriptors the read pool needed: 503 "unable to open database
file"."""

import resource
import threading

import requests

from conftest import new_product


def test_the_soft_limit_is_raised_to_the_hard_limit(start):
    def soft_below_hard():
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

    server = start(preexec_fn=soft_below_hard)
    soft, hard = resource.prlimit(server.proc.pid, resource.RLIMIT_NOFILE)
    assert soft == hard, (soft, hard)
    listening = server.wait_log(lambda e: e.get("message") == "listening")
    expected = hard if hard != resource.RLIM_INFINITY else None
    assert listening["open_file_limit"] == expected, listening
    assert listening["max_connections"] == 1024


def test_200_clients_under_ulimit_64_never_starve_the_database(start):
    def ulimit_64():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    server = start("--io-timeout-secs", "30", preexec_fn=ulimit_64)
    pid = new_product(server, initial_quantity=5)["product"]["id"]

    answers = []
    start_all = threading.Barrier(200)

    def client(n):
        # Keep-alive clients: each holds its connection (a descriptor) across its requests.
        session = requests.Session()
        start_all.wait()
        for i in range(5):
            path = "/health" if (n + i) % 2 else f"/api/products/{pid}/inventory"
            try:
                r = session.get(server.url + path, timeout=60)
                answers.append((r.status_code, r.text if r.status_code != 200 else ""))
            except requests.RequestException as e:
                answers.append((0, repr(e)))
        session.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(answers) == 1000
    failures = [a for a in answers if a[0] != 200]
    assert failures == [], failures[:5]
    # A write after the burst still finds its descriptors too.
    r = server.post(f"/api/products/{pid}/stock/add", {"quantity": 1})
    assert r.status_code == 200, r.text
    # The cap it chose, and why, are logged.
    lowered = server.wait_log(lambda e: "connection cap is lowered" in e.get("message", ""))
    assert lowered["open_file_limit"] == 64 and lowered["asked"] == 1024, lowered
    cap = lowered["max_connections"]
    assert 1 <= cap < 64 - lowered["database_descriptors"], lowered
    listening = server.wait_log(lambda e: e.get("message") == "listening")
    assert listening["max_connections"] == cap
    assert server.stop() == 0
