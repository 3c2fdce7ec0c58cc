//! /api/tills: what central knows of the tills selling offline from it (docs/TILLS.md). The
//! rules are the engine's (one identity per till id, reservations owned by their till,
//! conflict reports bound to the reporting till's sales); these handlers translate.
//!
//! - `POST /api/tills/{id}/check-in`: the first call of every sync. The first registers the
//!   till id with the caller's key and the till's instance id; after that another key is 403
//!   and another instance 409, and nothing of the registered till's changes. The answer carries
//!   central's database identity and generation and its ledger's high-water sequence, which
//!   the till compares with what it saw to notice a restore.
//! - `GET /api/tills`: every registered till, with its last sync, allotments and lag.
//! - `POST /api/tills/{id}/take-over` (admin): ends a registration (a replaced device),
//!   releasing or keeping its allotments, recorded in the ledger.
//! - `POST /api/tills/conflicts`: a till reports a sale central refused; only a sale of a till
//!   registered to the reporting key is accepted, and each is counted once in
//!   `inventory_till_conflicts_total` (by code) and logged with the key.
//!
//! None of them takes an Idempotency-Key: a check-in repeated is a check-in again, a take-over
//! repeated is 404, and a conflict report repeated is recorded once.

use crate::app::App;
use crate::errors::ApiError;
use crate::http::{Reply, Req};
use crate::input::{CheckInBody, TakeOverBody, TillConflictBody, parse_body};
use crate::params::TillPath;
use inventory::{Call, Write};

/// The call of a request made with its key, and never under an idempotency key. A request
/// without a key reaches these routes only when authentication is off, where every caller may
/// do anything an admin may.
fn call(req: &Req) -> Call {
    req.key.map(Call::by).unwrap_or(Call {
        admin: true,
        ..Call::default()
    })
}

pub fn check_in(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let TillPath { id: till_id } = req.path()?;
    let body: CheckInBody = parse_body(req.body())?;
    let checked = app.inv.write(
        Write::check_in_till(
            till_id,
            body.instance_id,
            body.location,
            body.token,
            body.next_token,
            body.seen,
        ),
        &call(req),
    )?;
    Ok(Reply::ok(&checked.value, "Till checked in"))
}

pub fn list(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let tills = inventory::Reach::of(req.key).retain(app.inv.tills()?);
    Ok(Reply::ok(&tills, "Tills retrieved successfully"))
}

pub fn take_over(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let TillPath { id: till_id } = req.path()?;
    let body: TakeOverBody = parse_body(req.body())?;
    let taken = app.inv.take_over_till(&till_id, body.release, &call(req))?;
    tracing::warn!(
        till = till_id.as_str(),
        released = taken.released,
        transferred = taken.transferred,
        key = req.key.map(|k| k.name.as_str()),
        "a till was taken over"
    );
    Ok(Reply::ok(&taken, "Till taken over"))
}

pub fn conflict(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let body: TillConflictBody = parse_body(req.body())?;
    // The codes the document's ErrorCode lists: a closed set, so the metric's label is too.
    let code = crate::errors::codes()
        .find(|c| *c == body.code)
        .ok_or_else(|| {
            ApiError::validation("code", format!("{:?} is not an error code", body.code))
        })?;
    let report = app
        .inv
        .write(
            Write::report_till_conflict(body.reference, code),
            &call(req),
        )?
        .value;
    if report.first {
        app.metrics.till_conflict(code);
        tracing::warn!(
            reference = report.reference.as_str(),
            till = report.till_id.as_str(),
            code,
            key = req.key.map(|k| k.name.as_str()),
            "a till reported a sale central refused"
        );
    }
    Ok(Reply::json(
        202,
        crate::json::success(&report, "Conflict reported"),
    ))
}
