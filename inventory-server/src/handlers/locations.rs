//! /api/locations, /api/reservations and /api/reservations/expiring.

use super::write;
use crate::app::App;
use crate::errors::ApiError;
use crate::http::{Reply, Req};
use crate::input::{LocationBody, parse_body};
use crate::params::{ExpiringQuery, ReferenceQuery};
use inventory::{Reach, Write};

pub fn list(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let locations = Reach::of(req.key).retain(app.inv.list_locations()?);
    Ok(Reply::ok(&locations, "Locations retrieved successfully"))
}

pub fn create(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let body: LocationBody = parse_body(req.body())?;
    let created = write(app, req, Write::create_location(body.name), false)?;
    Ok(Reply::created(&created.value, "Location created successfully").replayed(created.replayed))
}

/// Open reservations held under `?reference=`, across products.
pub fn by_reference(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let ReferenceQuery { reference } = req.query()?;
    let list = Reach::of(req.key).retain(app.inv.reservations_by_reference(&reference)?);
    Ok(Reply::ok(&list, "Reservations retrieved successfully"))
}

/// Open reservations lapsing within `?within=SECONDS` (required), soonest first, up to `limit`.
pub fn expiring(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let ExpiringQuery { within, limit } = req.query()?;
    let list = Reach::of(req.key).retain(app.inv.reservations_expiring(within, limit)?);
    Ok(Reply::ok(&list, "Reservations retrieved successfully"))
}
