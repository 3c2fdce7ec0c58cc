//! POST /api/products/{id}/stock/{op} and POST /api/stock/batch.

use super::{execute, product_id, unexpected};
use crate::app::App;
use crate::errors::ApiError;
use crate::http::{Reply, Req};
use crate::input::{parse_batch, parse_stock};
use crate::json::LevelJson;
use inventory::{Command, OpKind, Outcome};
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
    }
}

#[derive(Serialize)]
struct Transfer<'a> {
    from: LevelJson<'a>,
    to: LevelJson<'a>,
}

/// One stock operation. The reply is the level after it; for a transfer, both levels.
pub fn apply(app: &App, req: &mut Req, kind: OpKind) -> Result<Reply, ApiError> {
    let id = product_id(req)?;
    let op = parse_stock(req.body(), kind)?.into_op(kind, id)?;
    let (levels, replayed) = match execute(app, req, Command::Stock(op), false)? {
        (Outcome::Levels(levels), replayed) => (levels, replayed),
        (other, _) => return Err(unexpected(&other)),
    };
    let reply = match (kind, levels.as_slice()) {
        (OpKind::Transfer, [from, to]) => Reply::ok(
            &Transfer {
                from: from.into(),
                to: to.into(),
            },
            message(kind),
        ),
        (OpKind::Transfer, _) => return Err(unexpected(&Outcome::Levels(levels))),
        (_, [.., level]) => Reply::ok(&LevelJson::from(level), message(kind)),
        (_, []) => return Err(unexpected(&Outcome::Levels(levels))),
    };
    Ok(reply.replayed(replayed))
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

#[derive(Serialize)]
struct BatchResult<'a> {
    /// One entry per operation, in order: the levels it changed.
    results: Vec<Vec<LevelJson<'a>>>,
}

/// All or nothing: on failure the error carries the failing operation's `index`.
pub fn batch(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let ops = parse_batch(req.body())?;
    match execute(app, req, Command::Batch(ops), false)? {
        (Outcome::Batch(levels), replayed) => {
            let results = levels
                .iter()
                .map(|op| op.iter().map(LevelJson::from).collect())
                .collect();
            Ok(
                Reply::ok(&BatchResult { results }, "Batch applied successfully")
                    .replayed(replayed),
            )
        }
        (other, _) => Err(unexpected(&other)),
    }
}
