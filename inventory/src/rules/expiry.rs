//! Reservation expiry: when a reservation lapses, and releasing those that have.

use super::context::{Ctx, Memo, Stocked};
use crate::command::Expiry;
use crate::error::{Error, Result};
use crate::model::MovementKind;
use crate::validate::MAX_EXPIRY_SECONDS;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// The instant a reservation lapses, from what the operation asked for. A lifetime in seconds
/// is within the table's limits already ([`crate::shape`]); an instant must fall within the
/// same longest lifetime from now.
pub(crate) fn resolve(expiry: Option<Expiry>, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
    match expiry {
        None => Ok(None),
        Some(Expiry::In(secs)) => Ok(Some(now + Duration::seconds(secs))),
        Some(Expiry::At(at)) if at > now && at <= now + Duration::seconds(MAX_EXPIRY_SECONDS) => {
            Ok(Some(at))
        }
        Some(Expiry::At(_)) => Err(Error::validation(
            "expires_at",
            format!(
                "expires_at must be in the future, within {} days",
                MAX_EXPIRY_SECONDS / 86_400
            ),
        )),
    }
}

/// Whether a reservation expiring at `expires_at` is due at `now`: its expiry has come, so the
/// next stock operation on its product, or a sweep, releases it. The stores state the same in
/// SQL ([`crate::store::sql::due`]), for what they select; this is for what a transaction holds
/// in memory.
pub(crate) fn is_due(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    expires_at.is_some_and(|at| at <= now)
}

/// Releases every reservation of `product` (or of all products) whose expiry has passed, each
/// with an EXPIRE movement. Returns how many were released.
pub(crate) fn expire_due(ctx: &mut Ctx, product: Option<Uuid>) -> Result<u64> {
    let due = ctx.tx.due(product, &ctx.now)?;
    // Time releases these, not whoever happens to touch the product: no actor.
    let actor = ctx.actor.take();
    let released = release_all(ctx, &due);
    ctx.actor = actor;
    released?;
    Ok(due.len() as u64)
}

fn release_all(ctx: &mut Ctx, due: &[crate::store::rows::Due]) -> Result<()> {
    for d in due {
        let stocked = Stocked {
            id: d.product,
            ordinal: d.ordinal,
            home: String::new(),
        };
        ctx.known_location(&d.location, d.location_id);
        let mut level = ctx.level(&stocked, &d.location, false)?;
        let memo = Memo {
            reference: Some(d.reference.as_str()).filter(|r| !r.is_empty()),
            ..Memo::default()
        };
        ctx.post(&mut level, MovementKind::Expire, d.quantity, &memo)?;
        ctx.release(&level, &d.reference, d.quantity)?;
    }
    Ok(())
}
