//! GET /api/events as a JSON page. The Server-Sent Events form of the same path is `sse.rs`.

use crate::app::App;
use crate::errors::ApiError;
use crate::http::{Reply, Req};
use crate::json::ChangePageJson;
use crate::params::EventsQuery;
use inventory::Reach;

pub fn page(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let EventsQuery { after, limit } = req.query()?;
    let page = Reach::of(req.key).changes(app.inv.changes(after.unwrap_or(0), limit)?);
    Ok(Reply::ok(
        &ChangePageJson::from(&page),
        "Events retrieved successfully",
    ))
}
