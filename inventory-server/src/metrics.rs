//! The Prometheus metrics served at `GET /metrics`, kept with `prometheus-client`: what the
//! transport and the router count as requests pass, what the engine tells its [`Observer`] as
//! commands end, and gauges read at each scrape (the engine's stats, event-stream subscribers,
//! the process's memory and threads from /proc).
//!
//! Every label value comes from a closed set, so the number of series is bounded whatever
//! clients send: route templates (`/api/products/{id}`, never a raw path), the methods the
//! server serves (anything else is `other`), the statuses it answers with, the engine's command
//! kinds and error codes.

use crate::app::Slots;
use inventory::{CommandEnd, Inventory, Observer};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;
use std::time::Duration;

/// The route label of a request that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// What a scraper that asks for OpenMetrics (`Accept: application/openmetrics-text`) gets.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Request latency buckets, in seconds: 100 µs (a read of a local file) to 10 s.
const LATENCY: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];
/// Commit latency buckets, in seconds: 20 µs (no sync) to 1 s (a starved disk).
const COMMIT: [f64; 15] = [
    0.00002, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
    0.5, 1.0,
];
/// Commands per commit group.
const GROUP: [f64; 11] = [
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];
/// Checkpoint buckets, in seconds.
const CHECKPOINT: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailedLabels {
    kind: &'static str,
    code: &'static str,
}

type HistogramFamily<S> = Family<S, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY)
}

/// What the engine reports, recorded as it reports it: installed as the engine's observer
/// before the database is opened, so it is its own value, shared with [`Metrics`].
pub struct EngineMetrics {
    applied: Family<KindLabels, Counter>,
    replayed: Family<KindLabels, Counter>,
    failed: Family<FailedLabels, Counter>,
    group_size: Histogram,
    commit: Histogram,
    checkpoint: Histogram,
}

impl EngineMetrics {
    pub fn new() -> Arc<EngineMetrics> {
        Arc::new(EngineMetrics {
            applied: Family::default(),
            replayed: Family::default(),
            failed: Family::default(),
            group_size: Histogram::new(GROUP),
            commit: Histogram::new(COMMIT),
            checkpoint: Histogram::new(CHECKPOINT),
        })
    }
}

impl Observer for EngineMetrics {
    fn command(&self, kind: &'static str, end: CommandEnd) {
        match end {
            CommandEnd::Applied => self.applied.get_or_create(&KindLabels { kind }).inc(),
            CommandEnd::Replayed => self.replayed.get_or_create(&KindLabels { kind }).inc(),
            CommandEnd::Failed(code) => self
                .failed
                .get_or_create(&FailedLabels {
                    kind,
                    code: code.as_str(),
                })
                .inc(),
        };
    }

    fn group(&self, commands: usize, commit: Duration) {
        self.group_size.observe(commands as f64);
        self.commit.observe(commit.as_secs_f64());
    }

    fn checkpoint(&self, took: Duration) {
        self.checkpoint.observe(took.as_secs_f64());
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookLabels {
    webhook: String,
}

/// What webhook deliveries report: the engine's deliverer tells them as they happen.
pub struct WebhookMetrics {
    attempts: Family<DeliveryLabels, Counter>,
    latency: Histogram,
    paused: Counter,
}

impl inventory::webhooks::DeliveryObserver for WebhookMetrics {
    fn attempted(&self, _webhook: inventory::Uuid, ok: bool, latency: Duration, _events: usize) {
        let result = if ok { "delivered" } else { "failed" };
        self.attempts
            .get_or_create(&DeliveryLabels { result })
            .inc();
        self.latency.observe(latency.as_secs_f64());
    }

    fn paused(&self, webhook: inventory::Uuid, reason: &str) {
        self.paused.inc();
        tracing::warn!(%webhook, reason, "webhook paused: it failed past the retry window");
    }
}

/// Every metric the server exposes, and the registry that encodes them.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily<RouteLabels>,
    in_flight: Gauge,
    connections_open: Gauge,
    connections: Counter,
    cap_reached: Counter,
    per_address_refused: Counter,
    accept_errors: Counter,
    swept: Counter,
    till_conflicts: Family<CodeLabels, Counter>,
    webhooks: Arc<WebhookMetrics>,
}

/// The methods some route serves; any other is counted as `other`.
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

impl Metrics {
    /// The registry, with the engine's metrics and gauges read from `inv` and `streams` at
    /// each scrape.
    pub fn new(engine: &EngineMetrics, inv: Inventory, streams: Arc<Slots>) -> Metrics {
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: HistogramFamily<RouteLabels> = Family::new_with_constructor(latency_histogram);
        let (in_flight, connections_open) = (Gauge::default(), Gauge::default());
        let (connections, cap_reached) = (Counter::default(), Counter::default());
        let (accept_errors, swept) = (Counter::default(), Counter::default());
        let per_address_refused = Counter::default();
        let mut registry = Registry::default();
        registry.register_collector(Box::new(ProcessGauges));
        let ours = registry.sub_registry_with_prefix("inventory");
        let http = ours.sub_registry_with_prefix("http");
        http.register(
            "requests",
            "Requests answered, by method, route template (`unmatched` for none) and status",
            requests.clone(),
        );
        http.register_with_unit(
            "request_duration",
            "Time from a request's arrival at the router to its reply (for an event stream, to \
             its start), by method and route template",
            Unit::Seconds,
            latency.clone(),
        );
        http.register(
            "requests_in_flight",
            "Requests read and not yet answered",
            in_flight.clone(),
        );
        http.register(
            "connections_open",
            "Open client connections",
            connections_open.clone(),
        );
        http.register("connections", "Connections accepted", connections.clone());
        http.register(
            "connection_cap_reached",
            "Times a new connection found every one of --max-connections taken: an idle or slow \
             connection was closed for it, or (every connection being in a request) it waited",
            cap_reached.clone(),
        );
        http.register(
            "connections_over_address_cap",
            "Connections closed as soon as accepted because their client address already held \
             --max-connections-per-ip",
            per_address_refused.clone(),
        );
        http.register(
            "accept_errors",
            "Failed accept() calls (EMFILE and the like); each is retried after a pause",
            accept_errors.clone(),
        );
        ours.register(
            "commands_applied",
            "Commands applied, by kind",
            engine.applied.clone(),
        );
        ours.register(
            "commands_replayed",
            "Commands whose Idempotency-Key matched an earlier identical request: the first \
             outcome was returned and nothing applied",
            engine.replayed.clone(),
        );
        ours.register(
            "commands_failed",
            "Commands refused or failed, by kind and the engine's error code",
            engine.failed.clone(),
        );
        ours.register(
            "commit_group_size",
            "Commands per commit group (one transaction, one commit); its count is the number \
             of commit groups",
            engine.group_size.clone(),
        );
        ours.register_with_unit(
            "commit_duration",
            "How long each group's commit took (for a durable store, the sync to disk)",
            Unit::Seconds,
            engine.commit.clone(),
        );
        ours.register_with_unit(
            "checkpoint_duration",
            "Background checkpoints of the write-ahead log into the database file (SQLite)",
            Unit::Seconds,
            engine.checkpoint.clone(),
        );
        ours.register(
            "sweep_reservations_expired",
            "Reservations released by the periodic sweep (reads and writes also release the \
             expired reservations of the products they touch; those are not counted here)",
            swept.clone(),
        );
        let till_conflicts = Family::<CodeLabels, Counter>::default();
        ours.register(
            "till_conflicts",
            "Sales tills reported central refused (POST /api/tills/conflicts: a lapsed lease \
             whose units were sold elsewhere, an archived product), by error code; \
             each waits at its till for an operator. A report whose answer was lost is sent \
             again, so this counts at least once",
            till_conflicts.clone(),
        );
        let webhooks = Arc::new(WebhookMetrics {
            attempts: Family::default(),
            latency: latency_histogram(),
            paused: Counter::default(),
        });
        let hooks = ours.sub_registry_with_prefix("webhook");
        hooks.register(
            "deliveries",
            "Webhook requests made, by result (`delivered`: a 2xx in time; `failed`: another \
             status, a timeout, a refused connection)",
            webhooks.attempts.clone(),
        );
        hooks.register_with_unit(
            "delivery_duration",
            "Time from sending a webhook request to the end of its answer",
            Unit::Seconds,
            webhooks.latency.clone(),
        );
        hooks.register(
            "pauses",
            "Webhook subscriptions paused after failing past the retry window",
            webhooks.paused.clone(),
        );
        ours.register_collector(Box::new(StoreGauges { inv, streams }));
        Metrics {
            registry,
            requests,
            latency,
            in_flight,
            connections_open,
            connections,
            cap_reached,
            per_address_refused,
            accept_errors,
            swept,
            till_conflicts,
            webhooks,
        }
    }

    /// What the webhook deliverer reports to.
    pub fn webhooks(&self) -> Arc<WebhookMetrics> {
        Arc::clone(&self.webhooks)
    }

    /// The exposition: OpenMetrics when asked for, else the Prometheus text format (0.0.4).
    /// Returns the content type and the text.
    pub fn render(&self, openmetrics: bool) -> (&'static str, String) {
        let mut out = String::with_capacity(16 * 1024);
        // Writing to a String cannot fail, and every name and label was checked at registration.
        if openmetrics {
            prometheus_client::encoding::text::encode(&mut out, &self.registry)
                .expect("metrics encode to a string");
            (OPENMETRICS, out)
        } else {
            prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
                .expect("metrics encode to a string");
            (
                prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
                out,
            )
        }
    }

    /// One answered request. `route` is the template it matched, or [`UNMATCHED`].
    pub fn request(&self, method: &str, route: &'static str, status: u16, took: Duration) {
        let method = method_label(method);
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { method, route })
            .observe(took.as_secs_f64());
    }

    /// Counts a request as in flight until the returned guard drops.
    pub fn in_flight(&self) -> Level<'_> {
        Level::up(&self.in_flight)
    }

    /// Counts an accepted connection, open until the returned guard drops.
    pub fn connection(&self) -> OwnedLevel {
        self.connections.inc();
        self.connections_open.inc();
        OwnedLevel(self.connections_open.clone())
    }

    pub fn cap_reached(&self) {
        self.cap_reached.inc();
    }

    pub fn per_address_refused(&self) {
        self.per_address_refused.inc();
    }

    pub fn accept_error(&self) {
        self.accept_errors.inc();
    }

    pub fn swept(&self, released: u64) {
        self.swept.inc_by(released);
    }

    /// A till reported a sale central refused, with this engine code.
    pub fn till_conflict(&self, code: &'static str) {
        self.till_conflicts
            .get_or_create(&CodeLabels { code })
            .inc();
    }
}

/// One unit of a gauge, given back when dropped.
pub struct Level<'a>(&'a Gauge);

impl<'a> Level<'a> {
    fn up(gauge: &'a Gauge) -> Level<'a> {
        gauge.inc();
        Level(gauge)
    }
}

impl Drop for Level<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// As [`Level`], for a holder that outlives the borrow (a connection's task).
pub struct OwnedLevel(Gauge);

impl Drop for OwnedLevel {
    fn drop(&mut self) {
        self.0.dec();
    }
}

fn gauge<N: prometheus_client::encoding::EncodeGaugeValue>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: N,
) -> Result<(), std::fmt::Error> {
    let gauge = ConstGauge::new(value);
    let metric = encoder.encode_descriptor(name, help, unit, gauge.metric_type())?;
    gauge.encode(metric)
}

/// The engine's gauges and the stream slots, read at each scrape.
struct StoreGauges {
    inv: Inventory,
    streams: Arc<Slots>,
}

impl std::fmt::Debug for StoreGauges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreGauges").finish_non_exhaustive()
    }
}

impl Collector for StoreGauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        gauge(
            &mut encoder,
            "sse_subscribers",
            "Open Server-Sent Events streams",
            None,
            self.streams.open() as u64,
        )?;
        // A store that cannot be read leaves its gauges out of this scrape rather than fail
        // it: the request counters are what shows the failure.
        let stats = match self.inv.stats() {
            Ok(stats) => stats,
            Err(e) => {
                tracing::warn!(error = %e.message, "metrics: cannot read the store's gauges");
                return Ok(());
            }
        };
        gauge(
            &mut encoder,
            "reservations_open",
            "Open reservations",
            None,
            stats.open_reservations,
        )?;
        if let Some(bytes) = stats.database_bytes {
            gauge(
                &mut encoder,
                "database_size",
                "Size of the database file (SQLite)",
                Some(&Unit::Bytes),
                bytes,
            )?;
        }
        if let Ok(backlog) = self.inv.webhook_backlog() {
            let paused = backlog
                .iter()
                .filter(|(w, _)| w.state == inventory::webhooks::WebhookState::Paused)
                .count();
            gauge(
                &mut encoder,
                "webhooks_paused",
                "Webhook subscriptions paused (by an operator, or after failing past the retry window)",
                None,
                paused as u64,
            )?;
            let mut family = encoder.encode_descriptor(
                "webhook_events_pending",
                "Movements after each webhook subscription's cursor, before its filters",
                None,
                prometheus_client::metrics::MetricType::Gauge,
            )?;
            for (w, pending) in &backlog {
                let labels = WebhookLabels {
                    webhook: w.id.to_string(),
                };
                ConstGauge::new(*pending).encode(family.encode_family(&labels)?)?;
            }
        }
        if let Some(bytes) = stats.wal_bytes {
            gauge(
                &mut encoder,
                "wal_size",
                "Size of the write-ahead log file (SQLite)",
                Some(&Unit::Bytes),
                bytes,
            )?;
        }
        Ok(())
    }
}

/// The process's resident memory and threads, under the names Prometheus' own clients use.
#[derive(Debug)]
struct ProcessGauges;

/// (resident bytes, threads) from /proc/self/status; `None` where there is no such file.
fn process_status() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
    };
    Some((field("VmRSS:")? * 1024, field("Threads:")?))
}

impl Collector for ProcessGauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some((rss, threads)) = process_status() else {
            return Ok(());
        };
        gauge(
            &mut encoder,
            "process_resident_memory",
            "Resident memory of the server process",
            Some(&Unit::Bytes),
            rss,
        )?;
        gauge(
            &mut encoder,
            "process_threads",
            "Threads of the server process",
            None,
            threads,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_bounded() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("BREW"), "other");
        assert_eq!(method_label("get"), "other");
    }

    #[test]
    fn guards_give_their_unit_back_and_both_formats_render() {
        let dir = tempfile::tempdir().unwrap();
        let engine = EngineMetrics::new();
        let options = inventory::Options {
            observer: Some(engine.clone()),
            ..inventory::Options::default()
        };
        let inv = Inventory::open_with(dir.path().join("m.db"), options).unwrap();
        let metrics = Metrics::new(&engine, inv.clone(), Slots::new(4));
        inv.create_location("A").unwrap();
        let line = |text: &str, name: &str| {
            text.lines()
                .find(|l| l.starts_with(name))
                .map(|l| l.rsplit(' ').next().unwrap().to_owned())
        };
        {
            let _request = metrics.in_flight();
            let _open = metrics.connection();
            let (_, text) = metrics.render(false);
            assert_eq!(
                line(&text, "inventory_http_requests_in_flight ").unwrap(),
                "1"
            );
            assert_eq!(
                line(&text, "inventory_http_connections_open ").unwrap(),
                "1"
            );
        }
        metrics.request("BREW", UNMATCHED, 405, Duration::from_millis(1));
        let (content_type, text) = metrics.render(false);
        assert!(content_type.starts_with("text/plain; version=0.0.4"));
        assert_eq!(
            line(&text, "inventory_http_requests_in_flight ").unwrap(),
            "0"
        );
        assert_eq!(
            line(&text, "inventory_http_connections_open ").unwrap(),
            "0"
        );
        assert_eq!(
            line(&text, "inventory_http_connections_total ").unwrap(),
            "1"
        );
        let request =
            r#"inventory_http_requests_total{method="other",route="unmatched",status="405"} "#;
        assert_eq!(line(&text, request).unwrap(), "1");
        let applied = r#"inventory_commands_applied_total{kind="location.create"} "#;
        assert_eq!(line(&text, applied).unwrap(), "1");
        let (content_type, text) = metrics.render(true);
        assert_eq!(content_type, OPENMETRICS);
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(text.contains("# UNIT inventory_commit_duration_seconds seconds"));
    }

    #[test]
    fn process_gauges_are_read_from_proc() {
        let (rss, threads) = process_status().expect("/proc/self/status on Linux");
        assert!(rss > 1 << 20, "{rss}");
        assert!(threads >= 1);
    }
}
