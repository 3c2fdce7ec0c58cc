//! /api/locations and /api/reservations.

use super::{execute, unexpected};
use crate::app::App;
use crate::errors::ApiError;
use crate::http::{Reply, Req};
use crate::input::{LocationBody, parse_body};
use inventory::{Command, Outcome};

pub fn list(app: &App, _req: &mut Req) -> Result<Reply, ApiError> {
    let locations = app.inv.list_locations()?;
    Ok(Reply::ok(&locations, "Locations retrieved successfully"))
}

pub fn create(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let body: LocationBody = parse_body(req.body())?;
    match execute(app, req, Command::CreateLocation { name: body.name }, false)? {
        (Outcome::LocationCreated(l), replayed) => {
            Ok(Reply::created(&l, "Location created successfully").replayed(replayed))
        }
        (other, _) => Err(unexpected(&other)),
    }
}

/// Open reservations held under `?reference=`, across products.
pub fn by_reference(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let reference = req.query.get("reference").ok_or_else(|| {
        ApiError::validation("reference", "query parameter reference is required")
    })?;
    let list = app.inv.reservations_by_reference(reference)?;
    Ok(Reply::ok(&list, "Reservations retrieved successfully"))
}
