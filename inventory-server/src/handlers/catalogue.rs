//! GET /api/catalogue: the catalogue feed, products changed after a revision (archived ones
//! included), what a till pulls to mirror central's catalogue.

use crate::app::App;
use crate::errors::ApiError;
use crate::http::{Reply, Req};
use crate::json::CataloguePageJson;

pub fn page(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let after = req.query.int("after")?.unwrap_or(0);
    let page = app.inv.catalogue_changes(after, req.query.int("limit")?)?;
    Ok(Reply::ok(
        &CataloguePageJson::from(&page),
        "Catalogue changes retrieved successfully",
    ))
}
