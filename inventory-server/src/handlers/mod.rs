//! Route handlers: each turns a request into one engine call and the engine's answer into JSON.

pub mod dashboard;
pub mod events;
pub mod locations;
pub mod products;
pub mod stock;
pub mod system;

use crate::app::App;
use crate::errors::ApiError;
use crate::http::Req;
use inventory::{Command, Outcome};
use uuid::Uuid;

/// The `{id}` path parameter. A malformed id names no product, so it is a 404 like an unknown one.
fn product_id(req: &Req) -> Result<Uuid, ApiError> {
    let raw = req.param("id");
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found(format!("product {raw} not found")))
}

/// Applies a write under the request's Idempotency-Key, if any. Returns the outcome and
/// whether it was a replay. `conditional`: the request carried If-Match (a version conflict is 412).
fn execute(
    app: &App,
    req: &Req,
    command: Command,
    conditional: bool,
) -> Result<(Outcome, bool), ApiError> {
    let executed = app
        .inv
        .execute_with_key(command, req.idempotency_key())
        .map_err(|e| ApiError::from_engine(e, conditional))?;
    Ok((executed.value, executed.replayed))
}

fn unexpected(outcome: &Outcome) -> ApiError {
    ApiError::new(
        500,
        "STORAGE_ERROR",
        format!("internal error: unexpected outcome {outcome:?}"),
    )
}
