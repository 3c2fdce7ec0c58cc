//! GET /api/catalogue: the catalogue feed, products changed after a revision (archived ones
//! included), what a till pulls to mirror central's catalogue.

use crate::app::App;
use crate::errors::ApiError;
use crate::http::{Reply, Req};
use crate::json::CataloguePageJson;
use crate::params::CatalogueQuery;

pub fn page(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let CatalogueQuery { after, limit } = req.query()?;
    let page = app.inv.catalogue_changes(after.unwrap_or(0), limit)?;
    Ok(Reply::ok(
        &CataloguePageJson::from(&page),
        "Catalogue changes retrieved successfully",
    ))
}
