"""PostgreSQL unavailable (issue 30): while the database server is down, every route that
needs it answers 503 with Retry-After (BUSY) within a second, not after the pool's 5 s wait;
once it is back, the same server process reads and writes again without a restart. Meanwhile
the server's change-feed listener, which keeps trying to reconnect, pauses between attempts
instead of spinning a core (issue 21).

The test owns a private cluster of its own (it stops and starts it), made as
scripts/with-postgres.sh makes one: Debian's binaries, an unprivileged user, 127.0.0.1 only."""

import glob
import importlib.util
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import requests

_spec = importlib.util.spec_from_file_location(
    "http_suite", pathlib.Path(__file__).resolve().parent.parent / "http" / "conftest.py"
)
http_suite = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(http_suite)
Server = http_suite.Server
wait_until = http_suite.wait_until


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            pytest.skip("no PostgreSQL binaries under /usr/lib/postgresql")
        self.bin = bins[-1]
        self.run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.dir = tempfile.mkdtemp(prefix="inventory-pg-down-")
        os.chmod(self.dir, 0o755)
        if self.run_as:
            shutil.chown(self.dir, "postgres")
        self.port = free_port()
        self.pg("initdb", "-D", f"{self.dir}/data", "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def pg(self, tool, *args):
        subprocess.run([*self.run_as, f"{self.bin}/{tool}", *args], check=True, capture_output=True, timeout=120)

    def start(self):
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.dir}"
        self.pg("pg_ctl", "-D", f"{self.dir}/data", "-l", f"{self.dir}/server.log", "-w", "-o", opts, "start")

    def stop(self, mode="immediate"):
        self.pg("pg_ctl", "-D", f"{self.dir}/data", "-m", mode, "-w", "stop")

    def remove(self):
        try:
            self.stop("fast")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster():
    c = Cluster()
    c.start()
    yield c
    c.remove()


def test_postgres_down_is_503_with_retry_after_within_a_second_then_recovers(tmp_path, cluster):
    server = Server(tmp_path, db=cluster.url)
    try:
        r = server.post("/api/products", {"name": "P", "sku": "DOWN-1", "price": 1, "initial_quantity": 3})
        assert r.status_code == 201, r.text
        pid = r.json()["data"]["product"]["id"]
        # Warm the read pool, so that lost connections are part of what follows.
        for _ in range(5):
            assert server.get(f"/api/products/{pid}").status_code == 200

        cluster.stop()
        http = requests.Session()
        routes = [
            ("GET", "/health", None),
            ("GET", "/ready", None),
            ("GET", "/api/products", None),
            ("GET", f"/api/products/{pid}", None),
            ("GET", f"/api/products/{pid}/inventory", None),
            ("GET", f"/api/products/{pid}/transactions", None),
            ("GET", f"/api/products/{pid}/reservations", None),
            ("GET", "/api/locations", None),
            ("GET", "/api/events?after=0", None),
            ("GET", "/api/catalogue?after=0", None),
            ("POST", "/api/products", {"name": "Q", "sku": "DOWN-2", "price": 1}),
            ("POST", f"/api/products/{pid}/stock/add", {"quantity": 1}),
            ("PUT", f"/api/products/{pid}", {"name": "Renamed"}),
            ("DELETE", f"/api/products/{pid}", None),
            ("POST", "/api/locations", {"name": "L"}),
        ]
        for _ in range(2):  # the first round meets lost connections, the second none
            for method, path, body in routes:
                t0 = time.monotonic()
                r = http.request(method, server.url + path, json=body, timeout=30)
                took = time.monotonic() - t0
                assert r.status_code == 503, (method, path, r.status_code, r.text)
                assert r.json()["error"] == "BUSY", (method, path, r.text)
                assert r.headers.get("Retry-After") == "1", (method, path, r.headers)
                if method == "GET":
                    assert took < 1.0, (path, took)
                else:
                    assert took < 2.0, (method, path, took)

        cluster.start()
        wait_until(lambda: server.get("/health").status_code == 200, "healthy again", timeout=15)
        r = server.post(f"/api/products/{pid}/stock/add", {"quantity": 2})
        assert r.status_code == 200, r.text
        assert server.get(f"/api/products/{pid}/inventory").json()["data"]["quantity"] == 5
        assert server.get("/ready").status_code == 200
    finally:
        server.stop()


def cpu_seconds(pid):
    """User plus system CPU time of a process, from /proc (fields 14 and 15 of its stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_names(pid):
    names = []
    for comm in glob.glob(f"/proc/{pid}/task/*/comm"):
        try:
            with open(comm) as f:
                names.append(f.read().strip())
        except FileNotFoundError:
            pass  # a thread that ended while listed
    return names


def test_the_feed_listener_pauses_while_postgres_is_down_instead_of_spinning(tmp_path, cluster):
    server = Server(tmp_path, db=cluster.url)
    try:
        pid = server.proc.pid
        # An event stream with nothing to send waits for changes, which starts the listener.
        stream = requests.get(
            server.url + "/api/events", headers={"Accept": "text/event-stream"}, stream=True, timeout=10
        )
        assert stream.status_code == 200, stream.text
        wait_until(lambda: "inventory-feed" in thread_names(pid), "the feed listener starts")

        cluster.stop()
        stream.close()
        before, start = cpu_seconds(pid), time.monotonic()
        time.sleep(3)  # the window measured, not a synchronisation
        cpu, wall = cpu_seconds(pid) - before, time.monotonic() - start
        # The listener still runs, retrying: a pause doubling from 50 ms to 5 s costs a few
        # connection attempts in this window; one retrying at once would take most of a core.
        assert "inventory-feed" in thread_names(pid), thread_names(pid)
        assert cpu < wall / 10, f"the server used {cpu:.2f} s of CPU in {wall:.2f} s"
    finally:
        server.stop()
