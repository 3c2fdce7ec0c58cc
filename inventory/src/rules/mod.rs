//! The one write path: `execute` applies a `Command` inside the caller's transaction, whatever
//! the store, handling its idempotency key in that same transaction. The store opens the
//! transaction (and, when commands share one, gives each its own savepoint); every rule is here.

mod catalogue;
mod context;
pub(crate) mod expiry;
mod import;
mod keys;
mod pending;
mod stock;
pub(crate) mod tills;
mod webhooks;

use crate::command::{Command, Outcome};
use crate::error::{Error, Result};
use crate::store::rows::NewRequest;
use crate::store::tx::WriteTx;
use crate::validate::{self, MAX_ACTOR, MAX_BATCH, MAX_IDEMPOTENCY_KEY};
use crate::write::{Applied, Call};
use chrono::{DateTime, Duration, Utc};
use context::Ctx;

/// How long an idempotency key is remembered.
pub const IDEMPOTENCY_TTL_HOURS: i64 = 24;

/// Applies `cmd` once per idempotency key: a repeat of the same command returns the first
/// outcome (`replayed`) and changes nothing; the same key with another command is a CONFLICT.
/// Only successes are stored, so a failed attempt can be retried. The call's actor is recorded
/// on every movement the command makes, and its locations bound where it may move stock.
pub(crate) fn execute(
    tx: &mut dyn WriteTx,
    cmd: &Command,
    call: &Call,
    now: DateTime<Utc>,
) -> Result<Applied<Outcome>> {
    if let Some(actor) = &call.actor {
        validate::limit("actor", actor, MAX_ACTOR)?;
    }
    let Some(key) = call.idempotency_key.as_deref() else {
        return Ok(Applied {
            value: apply(tx, cmd, call, now)?,
            replayed: false,
        });
    };
    if key.is_empty() {
        return Err(Error::validation(
            "idempotency_key",
            "idempotency_key must not be empty",
        ));
    }
    validate::limit("idempotency_key", key, MAX_IDEMPOTENCY_KEY)?;
    let request = serde_json::to_string(cmd)?;
    if let Some((first_request, outcome)) = tx.find_request(key)? {
        if first_request != request {
            return Err(Error::conflict(format!(
                "idempotency key {key:?} was already used for a different request"
            ))
            .on_field("idempotency_key"));
        }
        return Ok(Applied {
            value: serde_json::from_str(&outcome)?,
            replayed: true,
        });
    }
    let outcome = apply(tx, cmd, call, now)?;
    let stamp = crate::store::rows::Stamp::new(now);
    tx.store_request(&NewRequest {
        key,
        request: &request,
        outcome: &serde_json::to_string(&outcome)?,
        at: &stamp,
    })?;
    Ok(Applied {
        value: outcome,
        replayed: false,
    })
}

fn apply(tx: &mut dyn WriteTx, cmd: &Command, call: &Call, now: DateTime<Utc>) -> Result<Outcome> {
    let mut ctx = Ctx::new(tx, now, call);
    let outcome = match cmd {
        Command::CreateProduct(new) => {
            Outcome::ProductCreated(Box::new(catalogue::create_product(&mut ctx, new)?))
        }
        Command::UpdateProduct {
            id,
            changes,
            expected_version,
        } => Outcome::ProductUpdated(Box::new(catalogue::update_product(
            &mut ctx,
            *id,
            changes,
            *expected_version,
        )?)),
        Command::DeleteProduct {
            id,
            expected_version,
        } => {
            catalogue::delete_product(&mut ctx, *id, *expected_version)?;
            Outcome::ProductDeleted(*id)
        }
        Command::CreateLocation { name } => {
            Outcome::LocationCreated(catalogue::create_location(&mut ctx, name)?)
        }
        Command::Stock(op) => Outcome::Levels(stock::apply(&mut ctx, op)?),
        Command::Batch(ops) => {
            if ops.is_empty() || ops.len() > MAX_BATCH {
                return Err(Error::validation(
                    "operations",
                    format!("a batch holds 1 to {MAX_BATCH} operations"),
                ));
            }
            let levels = ops
                .iter()
                .enumerate()
                .map(|(i, op)| stock::apply(&mut ctx, op).map_err(|e| e.at_index(i)))
                .collect::<Result<_>>()?;
            Outcome::Batch(levels)
        }
        Command::Sweep => {
            let released = expiry::expire_due(&mut ctx, None)?;
            ctx.tx
                .forget_requests(now - Duration::hours(IDEMPOTENCY_TTL_HOURS))?;
            Outcome::Swept(released)
        }
        Command::CreateKey {
            name,
            scope,
            locations,
            secret_sha256,
        } => Outcome::KeyCreated(keys::create_key(
            &mut ctx,
            name,
            *scope,
            locations.as_deref(),
            secret_sha256,
        )?),
        Command::RevokeKey { name } => Outcome::KeyRevoked(keys::revoke_key(&mut ctx, name)?),
        Command::ImportProducts(rows) => Outcome::Imported(import::products(&mut ctx, rows)?),
        Command::ImportCounts { reference, counts } => {
            Outcome::Imported(import::counts(&mut ctx, reference, counts)?)
        }
        Command::CheckInTill {
            till_id,
            instance_id,
            location,
            token,
            next_token,
            seen,
        } => Outcome::TillCheckedIn(Box::new(tills::check_in(
            &mut ctx,
            tills::Claim {
                till_id,
                instance_id,
                location,
                token: token.as_deref(),
                next_token,
                seen: *seen,
            },
        )?)),
        Command::TakeOverTill { till_id, release } => {
            Outcome::TillTakenOver(Box::new(tills::take_over(&mut ctx, till_id, *release)?))
        }
        Command::ReportTillConflict { reference, code } => {
            Outcome::TillConflict(tills::report_conflict(&mut ctx, reference, code)?)
        }
        Command::CreateWebhook { id, new, secret } => {
            Outcome::WebhookCreated(Box::new(webhooks::create(&mut ctx, *id, new, secret)?))
        }
        Command::ChangeWebhook { id, change } => {
            Outcome::WebhookChanged(Box::new(webhooks::change(&mut ctx, *id, *change)?))
        }
        Command::ClaimWebhooks {
            owner,
            lease_seconds,
        } => Outcome::WebhooksClaimed(webhooks::claim(&mut ctx, owner, *lease_seconds)?),
        Command::RecordDelivery(report) => {
            Outcome::DeliveryRecorded(Box::new(webhooks::record(&mut ctx, report)?))
        }
    };
    ctx.finish()?;
    Ok(outcome)
}
