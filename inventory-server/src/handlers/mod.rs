//! Route handlers: each turns a request into one engine call and the engine's answer into JSON.

pub mod catalogue;
pub mod dashboard;
pub mod events;
pub mod keys;
pub mod locations;
pub mod products;
pub mod stock;
pub mod system;
pub mod tills;
pub mod webhooks;

use crate::app::App;
use crate::errors::ApiError;
use crate::http::Req;
use crate::params::ProductPath;
use inventory::{Applied, Write};
use uuid::Uuid;

/// The `{id}` path parameter. A malformed id names no product, so it is a 404 like an unknown one.
fn product_id(req: &Req) -> Result<Uuid, ApiError> {
    let ProductPath { id } = req.path()?;
    Uuid::parse_str(&id).map_err(|_| ApiError::not_found(format!("product {id} not found")))
}

/// Applies a typed write with the request's key and Idempotency-Key, if any. `conditional`: the
/// request carried If-Match, so a version conflict is a failed precondition (412).
fn write<T>(
    app: &App,
    req: &Req,
    write: Write<T>,
    conditional: bool,
) -> Result<Applied<T>, ApiError> {
    app.inv
        .write(write, &req.call())
        .map_err(|e| ApiError::from_engine(e, conditional))
}
