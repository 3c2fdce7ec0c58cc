//! /api/keys: managing API keys, with an `admin` key. A key's secret is in the answer to its
//! creation and nowhere else (the engine keeps only its SHA-256).
//!
//! These routes take no Idempotency-Key: a replayed creation could not show the secret again,
//! so a repeated create is 409 (the name is taken) and a repeated revoke 404, and a header
//! that promises otherwise is refused rather than ignored.

use crate::app::App;
use crate::errors::ApiError;
use crate::http::{Reply, Req};
use crate::input::{KeyBody, parse_body};
use crate::json::CreatedKeyJson;
use crate::params::KeyPath;

fn no_idempotency_key(req: &Req) -> Result<(), ApiError> {
    match req.idempotency_key() {
        None => Ok(()),
        Some(_) => Err(ApiError::validation(
            "Idempotency-Key",
            "key management takes no Idempotency-Key: a repeated create is 409 (a secret is shown only once) and a repeated revoke 404",
        )),
    }
}

pub fn list(app: &App, _req: &mut Req) -> Result<Reply, ApiError> {
    Ok(Reply::ok(
        &app.inv.list_keys()?,
        "Keys retrieved successfully",
    ))
}

pub fn create(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    no_idempotency_key(req)?;
    let body: KeyBody = parse_body(req.body())?;
    let created = app.inv.create_key(&body.name, body.scope, body.locations)?;
    Ok(Reply::created(
        &CreatedKeyJson::from(&created),
        "Key created; its secret is shown this once",
    ))
}

pub fn revoke(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    no_idempotency_key(req)?;
    let KeyPath { name } = req.path()?;
    let revoked = app.inv.revoke_key(&name)?;
    Ok(Reply::ok(&revoked, "Key revoked successfully"))
}
