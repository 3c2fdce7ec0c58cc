//! The rules of webhook subscriptions: what one may hold, what an operator may do to it, and
//! how a delivery moves it (its cursor, its backoff, its pause), only for the deliverer that
//! holds its lease. Whether a URL leads into the operator's network is asked before the
//! command runs (`webhooks::check_target` resolves names, which no transaction waits on);
//! here the URL's form is checked.

use super::context::Ctx;
use crate::error::{Error, Result};
use crate::store::rows::{NewDelivery, Stamp};
use crate::validate::{self, MAX_LOCATION};
use crate::webhooks::{
    DeliveryReport, DeliveryResult, EVENT_TYPES, Lease, MAX_WEBHOOK_FILTER, MAX_WEBHOOK_URL,
    NewWebhook, SECRET_PREFIX, Webhook, WebhookChange, WebhookState, check_target,
};
use chrono::Duration;
use uuid::Uuid;

/// A filter list: left out means everything; given, it names 1 to `MAX_WEBHOOK_FILTER`.
fn filter<T>(field: &str, list: Option<&[T]>) -> Result<()> {
    match list {
        Some(l) if l.is_empty() || l.len() > MAX_WEBHOOK_FILTER => Err(Error::validation(
            field,
            format!("{field} must name 1 to {MAX_WEBHOOK_FILTER} entries (leave it out for all)"),
        )),
        _ => Ok(()),
    }
}

pub(crate) fn create(ctx: &mut Ctx, id: Uuid, new: &NewWebhook, secret: &str) -> Result<Webhook> {
    let url = validate::required("url", &new.url, MAX_WEBHOOK_URL)?;
    check_target(&url, true)?;
    let events = match &new.events {
        None => EVENT_TYPES.iter().map(|e| e.to_string()).collect(),
        Some(list) => {
            filter("events", Some(list))?;
            if let Some(unknown) = list.iter().find(|e| !EVENT_TYPES.contains(&e.as_str())) {
                return Err(Error::validation(
                    "events",
                    format!(
                        "events names an unknown event type {unknown:?} (known: {})",
                        EVENT_TYPES.join(", ")
                    ),
                ));
            }
            let mut events = list.clone();
            events.sort();
            events.dedup();
            events
        }
    };
    filter("locations", new.locations.as_deref())?;
    let locations = new
        .locations
        .as_ref()
        .map(|l| {
            l.iter()
                .map(|l| validate::required("locations", l, MAX_LOCATION))
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?;
    filter("product_ids", new.product_ids.as_deref())?;
    if !secret.starts_with(SECRET_PREFIX) {
        return Err(Error::validation("secret", "secret must start with whsec_"));
    }
    let webhook = Webhook {
        id,
        url,
        events,
        locations,
        product_ids: new.product_ids.clone(),
        state: WebhookState::Active,
        paused_reason: None,
        // A new subscription is told about what happens from now on; a rewind replays history.
        after: ctx.tx.last_seq()?,
        failures: 0,
        failing_since: None,
        next_attempt_at: None,
        lease_owner: None,
        lease_until: None,
        created_at: ctx.now.at,
    };
    ctx.tx.insert_webhook(&webhook, secret)?;
    Ok(webhook)
}

fn locked(ctx: &mut Ctx, id: Uuid) -> Result<Webhook> {
    ctx.tx
        .lock_webhook(id)?
        .map(|(w, _)| w)
        .ok_or_else(|| Error::not_found(format!("webhook {id}")))
}

pub(crate) fn change(ctx: &mut Ctx, id: Uuid, change: WebhookChange) -> Result<Webhook> {
    let mut w = locked(ctx, id)?;
    let forget_failures = |w: &mut Webhook| {
        w.failures = 0;
        w.failing_since = None;
        w.next_attempt_at = None;
    };
    match change {
        WebhookChange::Pause => {
            w.state = WebhookState::Paused;
            w.paused_reason = Some("paused by an operator".into());
        }
        WebhookChange::Resume => {
            w.state = WebhookState::Active;
            w.paused_reason = None;
            forget_failures(&mut w);
        }
        WebhookChange::Rewind(after) => {
            let last = ctx.tx.last_seq()?;
            if !(0..=last).contains(&after) {
                return Err(Error::validation(
                    "after",
                    format!("after must be a seq the ledger holds, 0 to {last}"),
                ));
            }
            w.after = after;
            forget_failures(&mut w);
        }
        WebhookChange::Delete => {
            ctx.tx.delete_webhook(id)?;
            return Ok(w);
        }
    }
    ctx.tx.update_webhook(&w)?;
    Ok(w)
}

/// Leases every active subscription that no other deliverer holds a live lease on (or that
/// `owner` holds already) to `owner`, for `lease_seconds`. The store takes each lease with
/// one conditional update, so of two processes claiming at once one gets it.
pub(crate) fn claim(ctx: &mut Ctx, owner: &str, lease_seconds: i64) -> Result<Vec<Lease>> {
    validate::required("owner", owner, 255)?;
    let until = Stamp::new(ctx.now.at + Duration::seconds(lease_seconds.clamp(1, 3600)));
    let mut leases = Vec::new();
    for (w, _) in ctx.tx.webhooks()? {
        if w.state != WebhookState::Active || !ctx.tx.take_lease(w.id, owner, &until, &ctx.now)? {
            continue;
        }
        // Read again: the row may have changed since this transaction's first look at it.
        if let Some((webhook, secret)) = ctx.tx.lock_webhook(w.id)? {
            leases.push(Lease { webhook, secret });
        }
    }
    Ok(leases)
}

/// Applies a deliverer's report: the attempt logged, then the cursor advanced (unless an
/// operator rewound it meanwhile), or the failure counted with its backoff, or the pause.
/// CONFLICT when `owner` no longer holds the lease: another process delivers it now.
pub(crate) fn record(ctx: &mut Ctx, report: &DeliveryReport) -> Result<Webhook> {
    let mut w = locked(ctx, report.webhook)?;
    let held = w.lease_owner.as_deref() == Some(report.owner.as_str())
        && w.lease_until.is_some_and(|until| until >= ctx.now.at);
    if !held {
        return Err(Error::conflict(format!(
            "the lease of webhook {} is no longer held by {}",
            w.id, report.owner
        ))
        .on_field("owner"));
    }
    if let Some(attempt) = &report.attempt {
        ctx.tx.insert_delivery(&NewDelivery {
            webhook: w.id,
            attempt,
            number: w.failures + 1,
            at: &ctx.now,
        })?;
    }
    match &report.result {
        DeliveryResult::Advanced(through) => {
            if w.after == report.from && *through > w.after {
                w.after = *through;
            }
            w.failures = 0;
            w.failing_since = None;
            w.next_attempt_at = None;
        }
        DeliveryResult::Retry(at) => {
            w.failures += 1;
            w.failing_since = w.failing_since.or(Some(ctx.now.at));
            w.next_attempt_at = Some(*at);
        }
        DeliveryResult::Pause(reason) => {
            w.failures += 1;
            w.failing_since = w.failing_since.or(Some(ctx.now.at));
            w.next_attempt_at = None;
            w.state = WebhookState::Paused;
            w.paused_reason = Some(reason.clone());
        }
    }
    if w.state == WebhookState::Active {
        w.lease_until = Some(ctx.now.at + Duration::seconds(report.lease_seconds.clamp(1, 3600)));
    } else {
        w.lease_owner = None;
        w.lease_until = None;
    }
    if let Some(before) = report.forget_before {
        ctx.tx.forget_deliveries(&Stamp::new(before))?;
    }
    ctx.tx.update_webhook(&w)?;
    Ok(w)
}
