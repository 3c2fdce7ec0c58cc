//! GET /api/events as a JSON page. The Server-Sent Events form of the same path is `sse.rs`.

use crate::app::App;
use crate::errors::ApiError;
use crate::http::{Reply, Req};
use crate::json::ChangePageJson;
use inventory::Reach;

pub fn page(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let after = req.query.int("after")?.unwrap_or(0);
    let page = Reach::of(req.key).changes(app.inv.changes(after, req.query.int("limit")?)?);
    Ok(Reply::ok(
        &ChangePageJson::from(&page),
        "Events retrieved successfully",
    ))
}
