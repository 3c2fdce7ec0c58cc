"""PostgreSQL failover (issue 30): a primary with a synchronous standby, two real server
processes given a multi-host URL with target_session_attrs=read-write, and 16 writers. The
primary is killed (SIGKILL to every one of its processes) and the standby promoted. Then:
- every write a client got a success for is on the new primary;
- nothing is applied twice: each writer retries a write whose outcome it did not learn (a 5xx,
  a dropped connection) with the same Idempotency-Key until it gets one, and each key's movement
  is in the ledger exactly once;
- both servers, never restarted, acknowledge writes again within 10 s of the kill.

The cluster is made as scripts/with-postgres.sh makes one (Debian's binaries, an unprivileged
user, 127.0.0.1 only); the standby is a `pg_basebackup -R` of the primary, and the primary waits
for it on every commit (`synchronous_standby_names`, set after the copy, so that the standby,
once promoted, waits for nobody)."""

import collections
import glob
import importlib.util
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest
import requests

_spec = importlib.util.spec_from_file_location(
    "http_suite", pathlib.Path(__file__).resolve().parent.parent / "http" / "conftest.py"
)
http_suite = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(http_suite)
Server = http_suite.Server

WRITERS = 16
SERVERS = 2
PRODUCTS = 4
RESUME_WITHIN = 10.0  # seconds from the kill to each server's first acknowledged write


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Pair:
    """A primary and its synchronous standby, each in its own directory under one temporary one."""

    def __init__(self):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            pytest.skip("no PostgreSQL binaries under /usr/lib/postgresql")
        self.bin = bins[-1]
        self.run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.dir = tempfile.mkdtemp(prefix="inventory-pg-failover-")
        os.chmod(self.dir, 0o755)
        if self.run_as:
            shutil.chown(self.dir, "postgres")
        self.ports = {"primary": free_port(), "standby": free_port()}
        self.pg("initdb", "-D", self.data("primary"), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start("primary")
        # -R: standby.signal plus primary_conninfo, so the copy starts as a streaming standby.
        self.pg("pg_basebackup", "-D", self.data("standby"), "-R", "-X", "stream", "-c", "fast",
                "-h", "127.0.0.1", "-p", str(self.ports["primary"]), "-U", "postgres")
        # The standby's cluster_name is the application_name it streams under.
        self.start("standby", "-c cluster_name=standby")
        self.sql("primary", "ALTER SYSTEM SET synchronous_standby_names = 'standby'")
        self.sql("primary", "SELECT pg_reload_conf()")
        deadline = time.monotonic() + 30
        while self.sql("primary", "SELECT sync_state FROM pg_stat_replication") != "sync":
            assert time.monotonic() < deadline, "the standby never became synchronous"
            time.sleep(0.1)

    def data(self, node):
        return f"{self.dir}/{node}"

    def url(self, node, db="postgres"):
        return f"postgres://postgres@127.0.0.1:{self.ports[node]}/{db}"

    def pg(self, tool, *args):
        subprocess.run([*self.run_as, f"{self.bin}/{tool}", *args], check=True, capture_output=True, timeout=120)

    def start(self, node, extra=""):
        opts = (f"-p {self.ports[node]} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.dir} "
                f"-c synchronous_commit=on {extra}")
        self.pg("pg_ctl", "-D", self.data(node), "-l", f"{self.dir}/{node}.log", "-w", "-o", opts, "start")

    def sql(self, node, query, db="postgres"):
        out = subprocess.run(["psql", self.url(node, db), "-XAtqc", query], check=True, capture_output=True,
                             text=True, timeout=60)
        return out.stdout.strip()

    def kill(self, node):
        """SIGKILL to the postmaster and every process it started, as a crash would end them:
        stopped first, so that it forks no new one while its children are listed."""
        with open(f"{self.data(node)}/postmaster.pid") as f:
            postmaster = int(f.readline())
        os.kill(postmaster, signal.SIGSTOP)
        children = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                with open(stat) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == postmaster:
                children.append(int(stat.split("/")[2]))
        for pid in [postmaster, *children]:
            os.kill(pid, signal.SIGKILL)

    def promote(self):
        self.pg("pg_ctl", "-D", self.data("standby"), "-w", "promote")

    def remove(self):
        for node in ("standby", "primary"):
            try:
                self.pg("pg_ctl", "-D", self.data(node), "-m", "immediate", "-w", "stop")
            except subprocess.CalledProcessError:
                pass  # the killed primary
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def pair():
    p = Pair()
    yield p
    p.remove()


class Writer(threading.Thread):
    """Adds 1 to its product again and again, each add with its own key and reference. An add
    whose outcome it does not learn (a 5xx, a dropped connection, a timeout) is sent again with
    the same key until it gets an answer. Only an answer it was given counts as acknowledged."""

    def __init__(self, n, server, product, stop):
        super().__init__(daemon=True)
        self.n, self.server, self.product, self.stop = n, server, product, stop
        self.acked = []  # (reference, monotonic time of the answer)
        self.unknown = collections.Counter()  # what left an outcome unknown (then retried)
        self.replayed = 0  # retries answered with the outcome of a write that had committed
        self.refused = []  # any 4xx: a bug, not a failover
        self.error = None

    def run(self):
        http = requests.Session()
        i = 0
        try:
            while not self.stop.is_set():
                reference = f"fo-{self.n}-{i}"
                key = f"{reference}-{uuid.uuid4()}"
                while True:
                    try:
                        r = http.post(
                            f"{self.server.url}/api/products/{self.product}/stock/add",
                            json={"quantity": 1, "reference": reference},
                            headers={"Idempotency-Key": key},
                            timeout=30,
                        )
                    except requests.RequestException as e:
                        self.unknown[type(e).__name__] += 1
                        http = requests.Session()
                        time.sleep(0.05)  # a pause between retries, not a synchronisation
                        continue
                    if r.status_code == 200:
                        self.acked.append((reference, time.monotonic()))
                        self.replayed += r.headers.get("Idempotent-Replayed") == "true"
                        break
                    if r.status_code >= 500:
                        self.unknown[f"{r.status_code} {r.json().get('error')}"] += 1
                        time.sleep(0.05)
                        continue
                    self.refused.append((r.status_code, r.text))
                    return
                i += 1
        except BaseException as e:  # reported by the test
            self.error = e


def test_failover_to_a_synchronous_standby_loses_nothing_and_applies_nothing_twice(tmp_path, pair):
    pair.sql("primary", "CREATE DATABASE failover")
    # Both hosts, the primary first: whichever takes writes is used.
    url = (f"postgres://postgres@127.0.0.1:{pair.ports['primary']},127.0.0.1:{pair.ports['standby']}"
           f"/failover?target_session_attrs=read-write")
    servers = []
    stop = threading.Event()
    writers = []
    try:
        servers = [Server(tmp_path, db=url) for _ in range(SERVERS)]
        run_and_check(pair, servers, stop, writers)
    finally:
        stop.set()
        for s in servers:
            s.stop()


def run_and_check(pair, servers, stop, writers):
    products = []
    for k in range(PRODUCTS):
        r = servers[0].post("/api/products", {"name": f"F{k}", "sku": f"FAILOVER-{k}", "price": 1})
        assert r.status_code == 201, r.text
        products.append(r.json()["data"]["product"]["id"])
    writers += [Writer(n, servers[n % SERVERS], products[n % PRODUCTS], stop) for n in range(WRITERS)]
    for w in writers:
        w.start()

    def acked():
        return sum(len(w.acked) for w in writers)

    def wait_for(condition, what, timeout=60):
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, what
            assert all(w.is_alive() for w in writers), [(w.refused, w.error) for w in writers]
            time.sleep(0.05)

    wait_for(lambda: acked() >= 300, "300 writes acknowledged before the failover")
    killed_at = time.monotonic()
    pair.kill("primary")
    pair.promote()
    promoted_at = time.monotonic()

    # Each server acknowledges a write on the new primary (answered after its promotion) within
    # RESUME_WITHIN of the kill.
    def resumed(server):
        return [t for w in writers if w.server is server for _, t in w.acked if t > promoted_at]

    wait_for(lambda: all(resumed(s) for s in servers), "both servers write again", timeout=RESUME_WITHIN + 20)
    resume = [min(resumed(s)) - killed_at for s in servers]
    print(f"promoted {promoted_at - killed_at:.2f} s after the kill; servers resumed after "
          + ", ".join(f"{t:.2f} s" for t in resume))
    assert max(resume) < RESUME_WITHIN, resume
    after = acked()
    wait_for(lambda: acked() >= after + 300, "300 more writes acknowledged after the failover")
    stop.set()
    for w in writers:
        w.join(timeout=60)
        assert not w.is_alive(), "a writer never got an answer"
        assert w.error is None, w.error
        assert w.refused == [], w.refused
    unknown = sum((w.unknown for w in writers), collections.Counter())
    print(f"{acked()} writes acknowledged; outcomes left unknown: {dict(unknown)}; "
          f"{sum(w.replayed for w in writers)} retries answered as replays")

    # What the new primary holds: each reference's movements, and each product's balance.
    rows = pair.sql("standby", "SELECT reference, count(*) FROM movements WHERE reference LIKE 'fo-%' "
                               "GROUP BY reference", db="failover")
    ledger = dict(line.split("|") for line in rows.splitlines())
    twice = {ref: n for ref, n in ledger.items() if n != "1"}
    assert twice == {}, f"applied more than once: {twice}"
    acknowledged = {ref for w in writers for ref, _ in w.acked}
    lost = acknowledged - ledger.keys()
    assert lost == set(), f"acknowledged and lost: {sorted(lost)[:10]}"
    # Every writer ended on an acknowledged write: nothing was applied that no client was told of.
    assert ledger.keys() - acknowledged == set()
    for k, pid in enumerate(products):
        mine = sum(len(w.acked) for w in writers if w.product == pid)
        r = servers[k % SERVERS].get(f"/api/products/{pid}/inventory")
        assert r.status_code == 200, r.text
        assert r.json()["data"]["quantity"] == mine, (pid, r.text)
        ledger_sum = pair.sql("standby", f"SELECT sum(on_hand_delta) FROM movements WHERE product_id = '{pid}'",
                              db="failover")
        assert int(ledger_sum) == mine
    for s in servers:
        assert s.get("/ready").status_code == 200
        assert s.proc.poll() is None, "a server exited"
