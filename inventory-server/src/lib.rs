#![recursion_limit = "512"]
//! inventory-server: the seed's REST API over the inventory engine. hyper's HTTP/1.1 server on
//! a small tokio runtime reads requests; a bounded pool of threads runs the synchronous
//! handlers. Routes map to engine calls and engine values to JSON; every business rule is the
//! engine's.
//!
//! The binary (`main.rs`) is [`main`]; the library exists so that `fuzz/` can reach the
//! parsers through [`fuzzing`], and exports nothing else.

mod app;
mod auth;
mod browser;
mod cli;
mod clock;
mod config;
mod descriptors;
mod dispatch;
mod errors;
pub mod fuzzing;
mod handlers;
mod http;
mod input;
mod json;
mod logging;
mod metrics;
mod openapi;
mod params;
mod phases;
mod ratelimit;
mod routes;
mod shutdown;
mod sse;
mod strict_json;
mod sweep;
mod transport;
mod webhook_delivery;

use app::{App, Slots};
use browser::Policy;
use config::{AuthArg, Config};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use transport::Limits;

/// The whole program: the operator commands, or the server.
pub fn main() -> ExitCode {
    cli::main(serve)
}

fn serve(config: Config) -> ExitCode {
    logging::init(config.log_format);
    match run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!(error = %message, "inventory-server failed");
            ExitCode::FAILURE
        }
    }
}

/// Whether requests need a key: `--auth`, where `auto` is required unless the listener is on
/// loopback only. Warns when a server anyone may reach asks for no key, and when one that asks
/// for keys has none to accept.
fn auth_required(
    config: &Config,
    addr: &std::net::SocketAddr,
    inv: &inventory::Inventory,
) -> Result<bool, String> {
    let loopback = addr.ip().is_loopback();
    let required = match config.auth {
        AuthArg::Required => true,
        AuthArg::Off => false,
        AuthArg::Auto => !loopback,
    };
    if !required && !loopback {
        tracing::warn!(
            addr = %addr,
            "authentication is off on an address other hosts may reach: anyone who can connect can read and change stock"
        );
    }
    if required {
        let keys = inv
            .list_keys()
            .map_err(|e| format!("cannot read the API keys: {}", e.message))?;
        if keys.iter().all(|k| k.revoked_at.is_some()) {
            tracing::warn!(
                "API keys are required and none exists yet: make one with `inventory-server keys create --name NAME --scope admin`"
            );
        }
    }
    Ok(required)
}

fn run(config: &Config) -> Result<(), String> {
    let (db, warning) = config.db_path();
    if let Some(warning) = warning {
        tracing::warn!(%warning);
    }
    let engine_metrics = metrics::EngineMetrics::new();
    let options = inventory::Options {
        durability: config.durability.into(),
        observer: Some(engine_metrics.clone()),
        allow_private_webhooks: config.webhook_allow_private,
        ..inventory::Options::default()
    };
    let options = match &config.clock_offset_file {
        Some(path) => inventory::Options {
            clock: Arc::new(clock::OffsetFileClock::new(path.clone())),
            ..options
        },
        None => options,
    };
    // A PostgreSQL URL may hold a password: it is never logged.
    let shown = inventory::redacted(&db);
    let inv = inventory::Inventory::open_with(&db, options)
        .map_err(|e| format!("cannot open {shown}: {}", e.message))?;
    // A server that would answer every write with 503 is not worth starting, unless asked to
    // serve reads only.
    if !config.read_only {
        inv.probe_write().map_err(|e| {
            format!(
                "cannot write to {shown}: {} (start with --read-only to serve reads only)",
                e.message
            )
        })?;
    }

    let nofile = descriptors::raise_limit();
    let reserved = inv.max_descriptors();
    let max_connections =
        descriptors::connection_cap(config.max_connections.into(), nofile, reserved).ok_or_else(
            || {
                format!(
                    "the open-file limit ({}) leaves no descriptor for connections once the \
                     database's {reserved} are kept: raise it (ulimit -n)",
                    nofile.unwrap_or(0)
                )
            },
        )?;
    if max_connections < config.max_connections.into() {
        tracing::warn!(
            max_connections,
            asked = config.max_connections,
            open_file_limit = nofile,
            database_descriptors = reserved,
            "the connection cap is lowered so that the database keeps its descriptors"
        );
    }

    let listener = transport::listen(&config.addr)
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let auth = auth_required(config, &addr, &inv)?;
    let streams = Slots::new(config.max_streams);
    let app = Arc::new(App {
        inline_reads: inv.store_kind() == inventory::StoreKind::Sqlite,
        metrics: metrics::Metrics::new(&engine_metrics, inv.clone(), Arc::clone(&streams)),
        inv,
        shutting_down: Arc::new(AtomicBool::new(false)),
        streams,
        browser: Policy::new(
            &config.cors_origins,
            addr.ip().is_loopback(),
            &config.allowed_hosts,
        ),
        auth: auth::Gate::new(auth),
        limiter: config.rate_limit.map(ratelimit::Limiter::new),
        read_only: config.read_only,
    });
    let limits = Limits {
        max_connections: max_connections as usize,
        max_connections_per_ip: config.max_connections_per_ip as usize,
        max_header_bytes: config.max_header_bytes as usize,
        max_body: config.max_body_bytes,
        io_timeout: config.io_timeout(),
        head_timeout: config.head_timeout(),
    };
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let workers = config.workers();
    let signals = shutdown::Watch::new().map_err(|e| format!("cannot watch signals: {e}"))?;
    // Connections are tasks on a few threads (`--io-threads`), which also answer reads;
    // writes run on at most `workers` blocking threads, started as load needs them.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.io_threads())
        .max_blocking_threads(workers)
        .thread_name("http")
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start the HTTP runtime: {e}"))?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server = runtime.spawn(transport::serve(
        listener,
        Arc::clone(&app),
        limits,
        stopped,
        grace,
    ));
    let sweeper = (!config.read_only).then(|| {
        sweep::start(
            Arc::clone(&app),
            Duration::from_secs(config.sweep_interval_secs),
        )
    });
    let deliverer = (!config.read_only).then(|| webhook_delivery::start(&app, config));
    tracing::info!(
        addr = %addr,
        db = %shown,
        workers,
        max_connections = limits.max_connections,
        max_connections_per_ip = limits.max_connections_per_ip,
        head_timeout_secs = limits.head_timeout.as_secs(),
        open_file_limit = nofile,
        durability = ?config.durability,
        auth = if auth { "required" } else { "off" },
        rate_limit = config.rate_limit,
        read_only = config.read_only,
        "listening"
    );

    let signal = signals.wait();
    tracing::info!(
        signal,
        "shutting down: no new connections, finishing requests in flight"
    );
    // Streams see the flag and end their bodies; the transport stops accepting and waits
    // (at most `grace`) for every connection to finish the request it is on.
    app.shutting_down.store(true, Ordering::SeqCst);
    let _ = stop.send(true);
    let accept_errors = match runtime.block_on(server) {
        Ok(Ok(n)) => n,
        Ok(Err(e)) => return Err(format!("the HTTP server failed: {e}")),
        Err(e) => return Err(format!("the HTTP server failed: {e}")),
    };
    runtime.shutdown_timeout(grace);
    if let Some(sweeper) = sweeper {
        sweeper.thread().unpark();
        let _ = sweeper.join();
    }
    if let Some(deliverer) = deliverer {
        deliverer.stop();
    }
    let deadline = Instant::now() + grace;
    while app.streams.open() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    // A file deleted or replaced while the server ran had its writes refused since; exiting
    // with success would hide that the path no longer holds what was served.
    app.inv
        .health()
        .map_err(|e| format!("at shutdown: {}", e.message))?;
    if !config.read_only {
        app.inv
            .checkpoint()
            .map_err(|e| format!("checkpoint at shutdown failed: {}", e.message))?;
    }
    tracing::info!(accept_errors, "stopped");
    Ok(())
}
