//! /api/tills/conflicts: a till reports a sale central refused (its lease had lapsed and the
//! units were sold elsewhere, or the product was archived). The sale stays in the till's outbox
//! until an operator resolves it there; central counts the report in its metrics
//! (`inventory_till_conflicts_total`, by code) and logs it with the key that made it, so that
//! an operator watching central learns of it without visiting the till.

use crate::app::App;
use crate::errors::{ApiError, SERVER_CODES};
use crate::http::{Reply, Req};
use crate::input::{TillConflictBody, parse_body};
use inventory::ErrorCode;

pub fn conflict(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let body: TillConflictBody = parse_body(req.body())?;
    let reference =
        inventory::required_text("reference", &body.reference, inventory::MAX_REFERENCE)?;
    // The codes the document's ErrorCode lists: a closed set, so the metric's label is too.
    let code = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .chain(SERVER_CODES)
        .find(|c| *c == body.code)
        .ok_or_else(|| {
            ApiError::validation("code", format!("{:?} is not an error code", body.code))
        })?;
    app.metrics.till_conflict(code);
    tracing::warn!(
        reference = reference.as_str(),
        code,
        key = req.key.map(|k| k.name.as_str()),
        "a till reported a sale central refused"
    );
    Ok(Reply::json(
        202,
        crate::json::success(
            &TillConflictBody {
                reference,
                code: code.to_owned(),
            },
            "Conflict reported",
        ),
    ))
}
