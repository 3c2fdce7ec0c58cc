//! The probes (/health, /ready), /metrics and /openapi.json.

use crate::app::App;
use crate::errors::ApiError;
use crate::http::{Reply, Req};
use crate::json::{Health, Ready};

/// 200 when the database answers a query, 503 when it does not, with the engine's code: BUSY
/// (with `Retry-After`) while PostgreSQL cannot be reached, STORAGE_ERROR otherwise. The body
/// names the build (version and commit), so that a probe also tells which binary answers.
pub fn health(app: &App, _req: &mut Req) -> Result<Reply, ApiError> {
    match app.inv.health() {
        Ok(()) => Ok(Reply::ok(
            &Health {
                status: "ok",
                database: "ok",
                version: inventory_version::FULL,
                commit: inventory_version::COMMIT,
            },
            "Service is healthy",
        )),
        Err(e) => Err(ApiError {
            status: 503,
            message: format!("database unavailable: {}", e.message),
            ..ApiError::from(e)
        }),
    }
}

/// 200 only when the database would take a write now: open, its write lock free to take and,
/// for a file, the path still leading to the file the server holds (the engine's `ready()`).
/// Otherwise 503 with the engine's code: STORAGE_ERROR (a vanished or replaced file, a
/// database that does not answer) or BUSY (another process holds the write lock).
///
/// A server started with `--read-only` takes no write by design: it is ready once the database
/// answers a read, and says so (`"status": "read-only"`).
pub fn ready(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    if app.read_only {
        return health(app, req).map(|_| {
            Reply::ok(
                &Ready {
                    status: "read-only",
                    database: "ok",
                },
                "Ready for reads; this server applies no write (--read-only)",
            )
        });
    }
    match app.inv.ready() {
        Ok(()) => Ok(Reply::ok(
            &Ready {
                status: "ready",
                database: "ok",
            },
            "Ready for writes",
        )),
        Err(e) => Err(ApiError {
            status: 503,
            message: format!("not ready: {}", e.message),
            ..ApiError::from(e)
        }),
    }
}

/// The Prometheus text format, or OpenMetrics for a scraper that asks for it.
pub fn metrics(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let openmetrics = req
        .header("Accept")
        .is_some_and(|a| a.contains("application/openmetrics-text"));
    let (content_type, text) = app.metrics.render(openmetrics);
    Ok(Reply::bytes(200, content_type, text.into_bytes()).with_header("Cache-Control", "no-store"))
}

pub fn openapi(_app: &App, _req: &mut Req) -> Result<Reply, ApiError> {
    Ok(Reply::json(200, crate::openapi::document_bytes().to_vec()))
}
