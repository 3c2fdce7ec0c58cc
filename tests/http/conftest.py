"""Starts the real inventory-server binary on a free port with a temporary database.

The binary is $INVENTORY_SERVER_BIN (run.sh builds the release binary and sets it). The server
is told to listen on port 0 and the bound address is read from its "listening" log line, so
tests never race for a port.

The database is a SQLite file in the test's tmp_path, or, when $INVENTORY_TEST_PG holds a
PostgreSQL URL (scripts/with-postgres.sh sets it), a fresh PostgreSQL database made for the test
(every server a test starts shares it, as they would share the file) and dropped after it.
"""

import importlib.util
import json
import os
import pathlib
import queue
import re
import signal
import socket
import subprocess
import threading
import time
import uuid

import pytest
import requests

_waiting = importlib.util.spec_from_file_location(
    "waiting", pathlib.Path(__file__).resolve().parent.parent / "support" / "waiting.py"
)
waiting = importlib.util.module_from_spec(_waiting)
_waiting.loader.exec_module(waiting)
wait_until = waiting.wait_until

BIN = os.environ.get("INVENTORY_SERVER_BIN", "target/release/inventory-server")
PG = os.environ.get("INVENTORY_TEST_PG") or None

_databases = {}  # tmp_path -> (URL, name) of its PostgreSQL database


def default_db(tmp_path):
    """The test's database: a file in tmp_path, or its own PostgreSQL database."""
    if not PG:
        return str(tmp_path / "inventory.db")
    if tmp_path not in _databases:
        name = "http_" + uuid.uuid4().hex
        subprocess.run(["psql", PG, "-qc", f"CREATE DATABASE {name}"], check=True)
        _databases[tmp_path] = (PG.rsplit("/", 1)[0] + "/" + name, name)
    return _databases[tmp_path][0]


def drop_db(tmp_path):
    if tmp_path in _databases:
        _, name = _databases.pop(tmp_path)
        subprocess.run(["psql", PG, "-qc", f"DROP DATABASE {name} WITH (FORCE)"], check=True)


def unique_keys(pairs):
    """json.loads hook: a log line whose object repeats a key is not valid for collectors."""
    keys = [k for k, _ in pairs]
    dups = sorted({k for k in keys if keys.count(k) > 1})
    if dups:
        raise ValueError(f"duplicate keys {dups}")
    return dict(pairs)


def parse_log_line(line):
    """A JSON log line as a dict; ValueError when it is not JSON or repeats a key."""
    return json.loads(line, object_pairs_hook=unique_keys)


class Server:
    def __init__(self, tmp_path, *args, env=None, db=None, preexec_fn=None, addr="127.0.0.1:0"):
        self.db = db or default_db(tmp_path)
        self.args = args
        self.logs = queue.Queue()
        self.lines = []
        # JSON-looking lines that are not valid JSON with unique keys; checked at teardown.
        self.bad_lines = []
        full_env = dict(os.environ)
        full_env.pop("DATABASE_URL", None)
        full_env.update(env or {})
        cmd = [BIN, "--addr", addr]
        if "--db" not in args and "INVENTORY_DB" not in (env or {}):
            cmd += ["--db", self.db]
        cmd += list(args)
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=str(tmp_path),
            text=True,
            preexec_fn=preexec_fn,
        )
        threading.Thread(target=self._pump, daemon=True).start()
        try:
            listening = self.wait_log(lambda e: e.get("message") == "listening", timeout=30)
        except BaseException:
            self.proc.kill()
            self.proc.wait()
            raise
        self.addr = listening["addr"]
        self.host, port = self.addr.rsplit(":", 1)
        self.port = int(port)
        # A server on every interface is reached over loopback: tests talk to no other address.
        if self.host == "0.0.0.0":
            self.host = "127.0.0.1"
        self.url = f"http://{self.host}:{self.port}"
        self.http = requests.Session()

    def _pump(self):
        for line in self.proc.stdout:
            try:
                entry = parse_log_line(line)
            except ValueError as e:
                if line.startswith("{"):
                    self.bad_lines.append((str(e), line))
                # --log-format text: `... INFO inventory_server: listening addr=127.0.0.1:1234 ...`
                entry = {"raw": line}
                m = re.search(r"\blistening addr=(\S+)", line)
                if m:
                    entry.update(message="listening", addr=m.group(1))
            self.lines.append(entry)
            self.logs.put(entry)

    def wait_log(self, predicate, timeout=10):
        """Waits for a log entry matching predicate (entries already seen included)."""
        deadline = time.monotonic() + timeout
        for entry in list(self.lines):
            if predicate(entry):
                return entry
        while time.monotonic() < deadline:
            try:
                entry = self.logs.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise AssertionError(f"server exited early: {self.lines[-5:]}")
                continue
            if predicate(entry):
                return entry
        raise AssertionError("log entry not seen")

    def get(self, path, **kw):
        return self.http.get(self.url + path, timeout=10, **kw)

    def post(self, path, body=None, **kw):
        if body is not None:
            kw["json"] = body
        return self.http.post(self.url + path, timeout=10, **kw)

    def put(self, path, body=None, **kw):
        if body is not None:
            kw["json"] = body
        return self.http.put(self.url + path, timeout=10, **kw)

    def delete(self, path, **kw):
        return self.http.delete(self.url + path, timeout=10, **kw)

    def pid_status(self, key):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        raise KeyError(key)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        return self.proc.returncode


@pytest.fixture
def start(tmp_path):
    """Starts a server with extra flags; every server started is stopped at teardown."""
    servers = []

    def _start(*args, **kw):
        s = Server(tmp_path, *args, **kw)
        servers.append(s)
        return s

    yield _start
    for s in servers:
        if s.proc.poll() is None:
            s.stop()
    drop_db(tmp_path)
    # Every log line of every server a test started is valid JSON with unique keys.
    assert [bad for s in servers for bad in s.bad_lines] == []


@pytest.fixture
def server(start):
    return start()


_sku = [0]


def new_product(server, **fields):
    """Creates a product with a fresh SKU; returns the created data."""
    _sku[0] += 1
    body = {
        "name": f"Product {_sku[0]}",
        "sku": f"SKU-{os.getpid()}-{_sku[0]}",
        "price": 9.99,
    }
    body.update(fields)
    r = server.post("/api/products", body)
    assert r.status_code == 201, r.text
    return r.json()["data"]


def open_connections(server):
    """The connections the server holds, from its metrics (this scrape's own included). Read on
    the server's keep-alive session: a new connection could be over the address's cap."""
    text = server.http.get(server.url + "/metrics", timeout=5).text
    line = next(l for l in text.splitlines() if l.startswith("inventory_http_connections_open "))
    return float(line.split()[1])


def assert_error(r, status, code, field=None):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == code, body
    assert body["code"] == status
    assert isinstance(body["message"], str) and body["message"]
    assert "timestamp" in body
    if field is not None:
        assert body.get("field") == field, body
        assert field.split(".")[-1].split("[")[0] in body["message"], body
    return body


def raw_exchange(server, data, timeout=5.0):
    """Sends raw bytes on a new connection and reads until the server closes it or `timeout`
    passes. Returns (everything received, whether the server closed the connection)."""
    s = socket.create_connection((server.host, server.port))
    s.settimeout(timeout)
    got = b""
    closed = False
    try:
        s.sendall(data)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            got += chunk
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    finally:
        s.close()
    return got, closed


def statuses(data):
    """The status codes of every response in a raw byte stream, in order."""
    return [int(m.group(1)) for m in re.finditer(rb"HTTP/1\.[01] (\d{3}) ", data)]
