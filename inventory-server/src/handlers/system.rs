//! /health and /openapi.json.

use crate::app::App;
use crate::errors::ApiError;
use crate::http::{Reply, Req};

/// 200 when the database answers a query, 503 when it does not.
pub fn health(app: &App, _req: &mut Req) -> Result<Reply, ApiError> {
    match app.inv.health() {
        Ok(()) => Ok(Reply::ok(
            &serde_json::json!({ "status": "ok", "database": "ok" }),
            "Service is healthy",
        )),
        Err(e) => Err(ApiError::new(
            503,
            "STORAGE_ERROR",
            format!("database unavailable: {}", e.message),
        )),
    }
}

pub fn openapi(_app: &App, _req: &mut Req) -> Result<Reply, ApiError> {
    Ok(Reply::json(200, crate::openapi::document_bytes().to_vec()))
}
