#![recursion_limit = "512"]
//! inventory-server: the seed's REST API over the inventory engine, on a tiny_http worker pool.
//! Routes map to engine calls and engine values to JSON; every business rule is the engine's.

mod app;
mod config;
mod dispatch;
mod errors;
mod handlers;
mod http;
mod input;
mod json;
mod logging;
mod openapi;
mod pool;
mod routes;
mod shutdown;
mod sse;
mod sweep;

use app::{App, Slots};
use clap::Parser;
use config::Config;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let config = Config::parse();
    logging::init(config.log_format);
    match run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!(%message, "inventory-server failed");
            ExitCode::FAILURE
        }
    }
}

fn run(config: &Config) -> Result<(), String> {
    let (db, warning) = config.db_path();
    if let Some(warning) = warning {
        tracing::warn!(%warning);
    }
    let options = inventory::Options {
        durability: config.durability.into(),
        ..inventory::Options::default()
    };
    // A PostgreSQL URL may hold a password: it is never logged.
    let shown = inventory::redacted(&db);
    let inv = inventory::Inventory::open_with(&db, options)
        .map_err(|e| format!("cannot open {shown}: {}", e.message))?;

    let listener = pool::listen(&config.addr, config.io_timeout())
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let server = Arc::new(
        tiny_http::Server::from_listener(listener.listener, None)
            .map_err(|e| format!("cannot start the HTTP server: {e}"))?,
    );
    let app = Arc::new(App {
        inv,
        max_body: config.max_body_bytes,
        io_timeout: config.io_timeout(),
        shutting_down: Arc::new(AtomicBool::new(false)),
        listener_failed: AtomicBool::new(false),
        streams: Slots::new(config.max_streams),
        uploads: Slots::new(config.max_uploads),
    });
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let workers = pool::start_workers(config.workers(), &server, &app, grace);
    let waker = pool::start_accept_waker(listener.addr, config.io_timeout(), Arc::clone(&app));
    let sweeper = sweep::start(
        Arc::clone(&app),
        Duration::from_secs(config.sweep_interval_secs),
    );
    tracing::info!(
        addr = %listener.addr,
        db = %shown,
        workers = workers.len(),
        durability = ?config.durability,
        "listening"
    );

    let signal = shutdown::wait_for_signal().map_err(|e| format!("cannot watch signals: {e}"))?;
    tracing::info!(
        signal,
        "shutting down: no new connections, finishing requests in flight"
    );
    app.shutting_down.store(true, Ordering::SeqCst);
    waker.thread().unpark();
    let _ = waker.join();
    // Shutting the listening socket down makes tiny_http's accept fail, which ends its accept loop.
    if let Err(e) = listener.control.shutdown(std::net::Shutdown::Read) {
        tracing::warn!(error = %e, "cannot stop the listener");
    }
    for worker in workers {
        let _ = worker.join();
    }
    sweeper.thread().unpark();
    let _ = sweeper.join();
    let deadline = Instant::now() + grace;
    // Uploads are requests in flight; streams end once they see the flag.
    while app.streams.open() + app.uploads.open() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(server);
    app.inv
        .checkpoint()
        .map_err(|e| format!("checkpoint at shutdown failed: {}", e.message))?;
    tracing::info!("stopped");
    if app.listener_failed.load(Ordering::SeqCst) {
        return Err("stopped because the listener failed".into());
    }
    Ok(())
}
