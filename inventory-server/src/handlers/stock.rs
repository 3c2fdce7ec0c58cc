//! POST /api/products/{id}/stock/{op} and POST /api/stock/batch.

use super::{product_id, write};
use crate::app::App;
use crate::errors::ApiError;
use crate::http::{Reply, Req};
use crate::input::{in_item, parse_batch, parse_stock};
use crate::json::LevelJson;
use inventory::{OpKind, Write};
use schemars::JsonSchema;
use serde::Serialize;

fn message(kind: OpKind) -> &'static str {
    match kind {
        OpKind::Add => "Stock added successfully",
        OpKind::Remove => "Stock removed successfully",
        OpKind::Reserve => "Stock reserved successfully",
        OpKind::Unreserve => "Stock unreserved successfully",
        OpKind::Commit => "Reservation committed successfully",
        OpKind::Transfer => "Stock transferred successfully",
        OpKind::Count => "Stock counted successfully",
        OpKind::Renew => "Reservation renewed successfully",
    }
}

/// Both levels of a transfer.
#[derive(Serialize, JsonSchema)]
pub struct Transfer<'a> {
    from: LevelJson<'a>,
    to: LevelJson<'a>,
}

/// One stock operation. The reply is the level after it; for a transfer, both levels.
pub fn apply(app: &App, req: &mut Req, kind: OpKind) -> Result<Reply, ApiError> {
    let id = product_id(req)?;
    let op = parse_stock(req.body(), kind, id)?;
    if kind == OpKind::Transfer {
        let moved = write(app, req, Write::transfer(op), false)?;
        let (from, to) = &moved.value;
        let data = Transfer {
            from: from.into(),
            to: to.into(),
        };
        return Ok(Reply::ok(&data, message(kind)).replayed(moved.replayed));
    }
    let applied = write(app, req, Write::level(op), false)?;
    Ok(Reply::ok(&LevelJson::from(&applied.value), message(kind)).replayed(applied.replayed))
}

pub fn add(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    apply(app, req, OpKind::Add)
}
pub fn remove(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    apply(app, req, OpKind::Remove)
}
pub fn reserve(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    apply(app, req, OpKind::Reserve)
}
pub fn unreserve(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    apply(app, req, OpKind::Unreserve)
}
pub fn commit(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    apply(app, req, OpKind::Commit)
}
pub fn transfer(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    apply(app, req, OpKind::Transfer)
}
pub fn count(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    apply(app, req, OpKind::Count)
}
pub fn renew(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    apply(app, req, OpKind::Renew)
}

/// Every operation's levels, in order.
#[derive(Serialize, JsonSchema)]
pub struct BatchResult<'a> {
    /// One entry per operation, in order: the levels it changed.
    results: Vec<Vec<LevelJson<'a>>>,
}

/// All or nothing: on failure the error carries the failing operation's `index`, and names
/// its field as the request spells it (`operations[1].quantity`).
pub fn batch(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let ops = parse_batch(req.body())?;
    let applied = write(app, req, Write::batch(ops), false).map_err(|e| match e.index {
        Some(i) => in_item(e, i),
        None => e,
    })?;
    let results = applied
        .value
        .iter()
        .map(|op| op.iter().map(LevelJson::from).collect())
        .collect();
    Ok(
        Reply::ok(&BatchResult { results }, "Batch applied successfully")
            .replayed(applied.replayed),
    )
}
