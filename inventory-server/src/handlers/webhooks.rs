//! /api/webhooks: webhook subscriptions, with an `admin` key. A subscription's secret is in
//! the answer to its creation and nowhere else. Delivery is the engine's `Deliverer`, which
//! `main` runs beside the server (`webhook_delivery.rs`).
//!
//! Like key management, these routes take no Idempotency-Key: a replayed creation could not
//! show the secret again.

use crate::app::App;
use crate::errors::ApiError;
use crate::http::{Reply, Req};
use crate::input::{RewindBody, WebhookBody, parse_body};
use crate::json::CreatedWebhookJson;
use crate::params::{DeliveriesQuery, WebhookPath};
use inventory::webhooks::{NewWebhook, WebhookChange};
use uuid::Uuid;

fn no_idempotency_key(req: &Req) -> Result<(), ApiError> {
    match req.idempotency_key() {
        None => Ok(()),
        Some(_) => Err(ApiError::validation(
            "Idempotency-Key",
            "webhook management takes no Idempotency-Key: a subscription's secret is shown only once",
        )),
    }
}

/// The `{id}` path parameter. A malformed id names no subscription: 404 like an unknown one.
fn webhook_id(req: &Req) -> Result<Uuid, ApiError> {
    let WebhookPath { id } = req.path()?;
    Uuid::parse_str(&id).map_err(|_| ApiError::not_found(format!("webhook {id} not found")))
}

pub fn list(app: &App, _req: &mut Req) -> Result<Reply, ApiError> {
    Ok(Reply::ok(
        &app.inv.webhooks()?,
        "Webhooks retrieved successfully",
    ))
}

pub fn get(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let id = webhook_id(req)?;
    Ok(Reply::ok(
        &app.inv.webhook(id)?,
        "Webhook retrieved successfully",
    ))
}

pub fn create(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    no_idempotency_key(req)?;
    let body: WebhookBody = parse_body(req.body())?;
    let created = app.inv.create_webhook(NewWebhook {
        url: body.url,
        events: body.events,
        locations: body.locations,
        product_ids: body.product_ids,
    })?;
    Ok(Reply::created(
        &CreatedWebhookJson::from(&created),
        "Webhook created; its secret is shown this once",
    ))
}

fn change(app: &App, req: &mut Req, change: WebhookChange, done: &str) -> Result<Reply, ApiError> {
    no_idempotency_key(req)?;
    let id = webhook_id(req)?;
    Ok(Reply::ok(&app.inv.change_webhook(id, change)?, done))
}

pub fn delete(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    change(app, req, WebhookChange::Delete, "Webhook deleted")
}

pub fn pause(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    change(app, req, WebhookChange::Pause, "Webhook paused")
}

pub fn resume(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    change(app, req, WebhookChange::Resume, "Webhook resumed")
}

pub fn rewind(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let RewindBody { after } = parse_body(req.body())?;
    change(app, req, WebhookChange::Rewind(after), "Webhook rewound")
}

pub fn deliveries(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let id = webhook_id(req)?;
    let DeliveriesQuery { event, limit } = req.query()?;
    Ok(Reply::ok(
        &app.inv.webhook_deliveries(id, event, limit)?,
        "Deliveries retrieved successfully",
    ))
}
