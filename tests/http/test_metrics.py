"""Issue 14, metrics: GET /metrics in the Prometheus text format (and OpenMetrics for a scraper
that asks for it), read by prometheus_client's own parsers, with counters that move as the
server works and labels that stay few whatever paths clients send."""

import socket
import uuid

import requests
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
from prometheus_client.parser import text_string_to_metric_families as prometheus_text

from conftest import PG, new_product, wait_until


def scrape(server, fmt="text"):
    """Every sample of one scrape as {(name, labels): value}, and the families by name."""
    headers = {}
    if fmt == "openmetrics":
        headers["Accept"] = "application/openmetrics-text; version=1.0.0, text/plain; q=0.5"
    r = server.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    parse = openmetrics if fmt == "openmetrics" else prometheus_text
    families = {f.name: f for f in parse(r.text)}
    samples = {}
    for family in families.values():
        for s in family.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            assert key not in samples, f"{key} twice"
            samples[key] = s.value
    return r, families, samples


def value(samples, name, **labels):
    """A sample's value; a series not yet created reads as 0, as Prometheus' rate() sees it."""
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def wait_for(server, predicate, timeout=10):
    """The samples of the first scrape where `predicate` holds."""
    def moved():
        samples = scrape(server)[2]
        return samples if predicate(samples) else None

    return wait_until(moved, "the metric moves", timeout)


def test_both_formats_parse_and_declare_every_family(server):
    new_product(server, initial_quantity=3)
    r, text_families, text_samples = scrape(server)
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert r.headers["Cache-Control"] == "no-store"
    r, om_families, om_samples = scrape(server, "openmetrics")
    assert r.headers["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
    assert r.text.endswith("# EOF\n")
    expected = {
        "inventory_http_requests": "counter",
        "inventory_http_request_duration_seconds": "histogram",
        "inventory_http_requests_in_flight": "gauge",
        "inventory_http_connections_open": "gauge",
        "inventory_http_connections": "counter",
        "inventory_http_connection_cap_reached": "counter",
        "inventory_http_connections_over_address_cap": "counter",
        "inventory_http_accept_errors": "counter",
        "inventory_commands_applied": "counter",
        "inventory_commit_group_size": "histogram",
        "inventory_commit_duration_seconds": "histogram",
        "inventory_checkpoint_duration_seconds": "histogram",
        "inventory_sweep_reservations_expired": "counter",
        "inventory_reservations_open": "gauge",
        "inventory_sse_subscribers": "gauge",
        "process_resident_memory_bytes": "gauge",
        "process_threads": "gauge",
    }
    if not PG:
        expected.update(inventory_database_size_bytes="gauge", inventory_wal_size_bytes="gauge")
    for families in (text_families, om_families):
        got = {name: f.type for name, f in families.items()}
        assert {k: got.get(k) for k in expected} == expected
        for name, family in families.items():
            assert family.documentation, f"{name} has no help"
    # The file sizes are a SQLite file's; PostgreSQL has none to report.
    assert ("inventory_database_size_bytes" in text_families) == (not PG)
    if not PG:
        assert value(text_samples, "inventory_database_size_bytes") > 0
    assert value(text_samples, "process_resident_memory_bytes") > 1 << 20
    assert value(text_samples, "process_threads") >= 2
    # The scrape itself is the request in flight, on the one connection open.
    assert value(om_samples, "inventory_http_requests_in_flight") == 1
    assert value(om_samples, "inventory_http_connections_open") >= 1
    assert value(om_samples, "inventory_commands_applied_total", kind="product.create") == 1


def test_requests_and_commands_are_counted(server):
    pid = new_product(server, initial_quantity=5)["product"]["id"]
    add = "/api/products/{id}/stock/add"
    _, _, before = scrape(server)
    for _ in range(2):
        r = server.post(f"/api/products/{pid}/stock/add", {"quantity": 1},
                        headers={"Idempotency-Key": "metrics-add"})
        assert r.status_code == 200
    assert server.post(f"/api/products/{pid}/stock/remove", {"quantity": 50}).status_code == 409
    assert server.post(f"/api/products/{pid}/stock/reserve",
                       {"quantity": 2, "reference": "M-1"}).status_code == 200
    assert server.get(f"/api/products/{uuid.uuid4()}").status_code == 404
    _, _, after = scrape(server)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    req = "inventory_http_requests_total"
    assert moved(req, method="POST", route=add, status="200") == 2
    assert moved(req, method="POST", route="/api/products/{id}/stock/remove", status="409") == 1
    assert moved(req, method="GET", route="/api/products/{id}", status="404") == 1
    latency = "inventory_http_request_duration_seconds_count"
    assert moved(latency, method="POST", route=add) == 2
    assert value(after, "inventory_http_request_duration_seconds_bucket",
                 method="POST", route=add, le="+Inf") == value(after, latency, method="POST", route=add)
    assert moved("inventory_commands_applied_total", kind="stock.add") == 1
    assert moved("inventory_commands_replayed_total", kind="stock.add") == 1
    assert moved("inventory_commands_applied_total", kind="stock.reserve") == 1
    assert moved("inventory_commands_failed_total", kind="stock.remove", code="INSUFFICIENT_STOCK") == 1
    # One commit group per write that committed (the replay and the refusal commit nothing of
    # their own, but a group may hold them): at least the add and the reserve.
    groups = moved("inventory_commit_group_size_count")
    assert 2 <= groups <= 4, groups
    assert moved("inventory_commit_group_size_sum") >= groups
    assert moved("inventory_commit_duration_seconds_count") == groups
    assert value(after, "inventory_reservations_open") == 1


def test_labels_are_route_templates_never_raw_paths(server):
    pid = new_product(server)["product"]["id"]
    for path in (f"/api/products/{pid}", f"/api/products/{pid}/inventory", f"/nowhere/{uuid.uuid4()}",
                 f"/api/products/{uuid.uuid4()}/nowhere", "/dashboard/nothing.js", "/health"):
        server.get(path)
    server.http.request("BREW", server.url + "/health", timeout=10)
    server.http.request("OPTIONS", server.url + f"/api/products/{pid}", timeout=10)
    _, _, samples = scrape(server)
    routes = {dict(labels)["route"] for (name, labels) in samples if name == "inventory_http_requests_total"}
    documented = set(server.get("/openapi.json").json()["paths"])
    assert routes <= documented | {"unmatched", "/", "/dashboard/{file}"}, routes
    assert {"/api/products/{id}", "/api/products/{id}/inventory", "unmatched", "/dashboard/{file}"} <= routes
    methods = {dict(labels)["method"] for (name, labels) in samples if name == "inventory_http_requests_total"}
    assert methods == {"GET", "POST", "OPTIONS", "other"}, methods
    assert value(samples, "inventory_http_requests_total", method="other", route="/health", status="405") == 1
    assert value(samples, "inventory_http_requests_total", method="OPTIONS", route="/api/products/{id}",
                 status="204") == 1


def test_event_stream_subscribers_are_a_gauge(server):
    assert value(scrape(server)[2], "inventory_sse_subscribers") == 0
    stream = requests.get(server.url + "/api/events", headers={"Accept": "text/event-stream"},
                          stream=True, timeout=10)
    assert stream.status_code == 200
    wait_for(server, lambda s: value(s, "inventory_sse_subscribers") == 1)
    stream.close()
    # A departed client frees its slot within a poll interval.
    wait_for(server, lambda s: value(s, "inventory_sse_subscribers") == 0)


def test_the_sweeps_expired_reservations_are_counted(start):
    server = start("--sweep-interval-secs", "1")
    pid = new_product(server, initial_quantity=5)["product"]["id"]
    for ref in ("S-1", "S-2"):
        r = server.post(f"/api/products/{pid}/stock/reserve",
                        {"quantity": 1, "reference": ref, "expires_in_seconds": 1})
        assert r.status_code == 200, r.text
    assert value(scrape(server)[2], "inventory_reservations_open") == 2
    # Nothing reads the product meanwhile (a read would release them itself): the sweep does.
    samples = wait_for(server, lambda s: value(s, "inventory_sweep_reservations_expired_total") == 2)
    assert value(samples, "inventory_reservations_open") == 0
    assert value(samples, "inventory_commands_applied_total", kind="sweep") >= 1


def test_connections_open_and_the_cap_are_counted(start):
    server = start("--max-connections", "3")
    _, _, samples = scrape(server)
    assert value(samples, "inventory_http_connection_cap_reached_total") == 0
    # The scrape's keep-alive connection and two held ones take every slot; a third arrives.
    held = [socket.create_connection((server.host, server.port)) for _ in range(3)]
    wait_for(server, lambda s: value(s, "inventory_http_connection_cap_reached_total") >= 1)
    for s in held:
        s.close()
    samples = wait_for(server, lambda s: value(s, "inventory_http_connections_open") == 1)
    assert value(samples, "inventory_http_connection_cap_reached_total") >= 1
    assert value(samples, "inventory_http_connections_total") >= 3
