//! The rules of tills at central (docs/TILLS.md): one identity per till id, reservations a
//! till holds owned by it, take-overs by an admin recorded in the ledger, and conflict reports
//! bound to the reporting till's own sales. A till's own software cannot enforce any of this:
//! a copied file or a second key would claim the same id, so central does.

use super::context::{Ctx, Memo};
use crate::error::{Error, Result};
use crate::model::{CheckIn, ConflictReport, LedgerPoint, MovementKind, SeenPoint, TakeOver, Till};
use crate::store::rows::NewTillConflict;
use crate::validate::{self, MAX_LOCATION, MAX_REFERENCE};
use chrono::SubsecRound;

/// The longest till id: `till:<id>` must fit a reference.
const MAX_TILL_ID: usize = MAX_REFERENCE - 5;
/// The longest instance id a till may generate.
pub const MAX_INSTANCE_ID: usize = 255;

/// The reference a till's allotments are held under.
pub fn till_reference(till_id: &str) -> String {
    format!("till:{till_id}")
}

/// What every sale reference of a till starts with.
pub fn sale_prefix(till_id: &str) -> String {
    format!("sale:{till_id}:")
}

/// The till a reservation reference belongs to, if it is a till's.
pub(crate) fn till_of(reference: &str) -> Option<&str> {
    reference.strip_prefix("till:")
}

/// The key a till acts under; without keys (a server with authentication off) every caller is
/// one anonymous key, named "".
fn key_of<'c>(ctx: &Ctx<'c>) -> &'c str {
    ctx.key.unwrap_or("")
}

/// What a till claims at its check-in.
pub(crate) struct Claim<'a> {
    pub till_id: &'a str,
    pub instance_id: &'a str,
    pub location: &'a str,
    pub token: Option<&'a str>,
    pub next_token: &'a str,
    pub seen: Option<SeenPoint>,
}

/// The movement at `seq` in this ledger, as a point.
fn point_at(ctx: &mut Ctx, seq: i64) -> Result<Option<LedgerPoint>> {
    if seq < 1 {
        return Ok(None);
    }
    Ok(ctx
        .tx
        .changes(seq - 1, 1)?
        .into_iter()
        .find(|m| m.seq == seq)
        .map(|m| LedgerPoint {
            seq,
            movement_id: m.id,
        }))
}

/// A till's check-in. Its instance id tells two sets of files apart; the token, changed at
/// every check-in, tells a copy of one set apart (a disk image restored on a second device):
/// whichever copy checks in second holds a token the first left behind.
///
/// A database rewound past the till's last check-in (a file copied back, a snapshot, a
/// point-in-time recovery: nothing that changes the generation or clears the tokens) holds an
/// older token than the till's. It is told from a copy by what the till saw: the registration
/// was last touched before the till's check-in that gave its point (on central's clock), which
/// only a rewind undoes, since every check-in touches it. A copy that comes second after such
/// a rewind finds the registration touched by the first, later than anything it saw, and is
/// refused. `seen_held` is the till's to judge: a rewind may keep the point (nothing was
/// written between) and still take the token back.
pub(crate) fn check_in(ctx: &mut Ctx, claim: Claim) -> Result<CheckIn> {
    let till_id = validate::required("till_id", claim.till_id, MAX_TILL_ID)?;
    let instance_id = validate::required("instance_id", claim.instance_id, MAX_INSTANCE_ID)?;
    let location = validate::required("location", claim.location, MAX_LOCATION)?;
    let next_token = validate::required("next_token", claim.next_token, MAX_INSTANCE_ID)?;
    let key = key_of(ctx);
    ctx.may_stock_at(&location, "location")?;
    let seen_held = match claim.seen {
        Some(seen) => Some(point_at(ctx, seen.point.seq)? == Some(seen.point)),
        None => None,
    };
    let till = match ctx.tx.load_till(&till_id)? {
        None => {
            let till = Till {
                id: till_id,
                key: key.to_owned(),
                instance_id,
                location,
                registered_at: ctx.now.at,
                last_sync_at: ctx.now.at,
            };
            ctx.tx.insert_till(&till, &next_token)?;
            till
        }
        Some(t) if t.key != key => {
            return Err(Error::forbidden(format!(
                "till_id: till {till_id:?} is registered to another key; an admin may take it over"
            ))
            .on_field("till_id"));
        }
        Some(t) if t.instance_id != instance_id => {
            return Err(Error::conflict(format!(
                "instance_id: till {till_id:?} is registered to another instance (its files on \
                 another device, or a copy of them); an admin may take it over"
            ))
            .on_field("instance_id"));
        }
        Some(t) if t.location != location => {
            return Err(Error::conflict(format!(
                "location: till {till_id:?} sells at {:?}, not {location:?}",
                t.location
            ))
            .on_field("location"));
        }
        Some(t) => {
            let stored = ctx.tx.till_token(&t.id)?.unwrap_or_default();
            // The same pair again is a check-in whose answer was lost; no token is a database
            // restored from a backup, whose tokens were cleared.
            let current = stored.is_empty() || Some(stored.as_str()) == claim.token;
            // Compared as stored (to the microsecond), so that a till's own last check-in is
            // never "later" than itself.
            let rewound = claim.seen.is_some_and(|s| {
                t.last_sync_at.trunc_subsecs(6) < s.checked_in_at.trunc_subsecs(6)
            });
            if stored != next_token && !current && !rewound {
                return Err(Error::conflict(format!(
                    "token: till {till_id:?} checked in since this copy of its files last did: \
                     it runs on another device too; an admin may take it over"
                ))
                .on_field("token"));
            }
            ctx.tx.touch_till(&t.id, &next_token, &ctx.now)?;
            Till {
                last_sync_at: ctx.now.at,
                ..t
            }
        }
    };
    let high_water = ctx.tx.last_seq()?;
    Ok(CheckIn {
        till,
        database: ctx.tx.identity()?,
        high_water,
        point: point_at(ctx, high_water)?,
        seen_held,
    })
}

pub(crate) fn take_over(ctx: &mut Ctx, till_id: &str, release: bool) -> Result<TakeOver> {
    if !ctx.admin {
        return Err(Error::forbidden("taking a till over needs an admin key"));
    }
    let till = ctx
        .tx
        .load_till(till_id)?
        .ok_or_else(|| Error::not_found(format!("till {till_id:?}")))?;
    let reference = till_reference(till_id);
    let notes = if release {
        format!("till {till_id} taken over: its allotment released")
    } else {
        format!("till {till_id} taken over: its allotment kept for its next instance")
    };
    let memo = Memo {
        reference: Some(&reference),
        notes: Some(&notes),
        ..Memo::default()
    };
    let (mut released, mut transferred) = (0, 0);
    for held in ctx.tx.reservations_by_reference(&reference)? {
        let product = ctx.product(held.product_id)?;
        let mut level = ctx.level(&product, &held.location, false)?;
        // The product's own due reservations were released as it was looked up.
        let q = ctx.held(&level, &reference)?;
        if q == 0 {
            continue;
        }
        ctx.post(&mut level, MovementKind::Unreserve, q, &memo)?;
        ctx.release(&level, &reference, q)?;
        if release {
            released += q;
        } else {
            ctx.post(&mut level, MovementKind::Reserve, q, &memo)?;
            ctx.hold(&level, &reference, q, held.expires_at)?;
            transferred += q;
        }
    }
    ctx.tx.delete_till(till_id)?;
    Ok(TakeOver {
        till,
        released,
        transferred,
    })
}

pub(crate) fn report_conflict(
    ctx: &mut Ctx,
    reference: &str,
    code: &str,
) -> Result<ConflictReport> {
    let reference = validate::required("reference", reference, MAX_REFERENCE)?;
    let key = key_of(ctx);
    let admin = ctx.admin;
    let till = ctx
        .tx
        .tills()?
        .into_iter()
        .filter(|t| admin || t.key == key)
        .find(|t| reference.starts_with(&sale_prefix(&t.id)))
        .ok_or_else(|| {
            Error::forbidden(format!(
                "reference {reference:?} is not a sale of a till registered to this key"
            ))
            .on_field("reference")
        })?;
    let first = ctx.tx.insert_till_conflict(&NewTillConflict {
        reference: &reference,
        till_id: &till.id,
        code,
        at: &ctx.now,
    })?;
    Ok(ConflictReport {
        reference,
        till_id: till.id,
        code: code.to_owned(),
        first,
    })
}

/// Refuses a call limited to locations (and not made with an admin key) that would open or
/// change a reservation another key owns: a till's (`till:<id>`) belongs to the key its till
/// registered with, and may not be opened before it registers; any other belongs to the key
/// that opened it. Unreferenced reservations are a shared pool, and one opened without a key
/// (by the library itself, or before owners were recorded) is anyone's at its location.
pub(crate) fn may_change_hold(
    ctx: &mut Ctx,
    level: &crate::store::rows::Level,
    reference: &str,
) -> Result<()> {
    if reference.is_empty() || !ctx.limited() {
        return Ok(());
    }
    let key = ctx.key;
    let owner = match till_of(reference) {
        Some(id) => match ctx.tx.load_till(id)? {
            Some(till) => Some(till.key),
            None => {
                return Err(Error::forbidden(format!(
                    "reference {reference:?} is a till's reservation, and till {id:?} is not registered"
                ))
                .on_field("reference"));
            }
        },
        None => {
            let hold = ctx.pending.hold(ctx.tx, level, reference)?;
            if hold.quantity > 0 {
                hold.owner.clone()
            } else {
                None
            }
        }
    };
    match owner {
        Some(owner) if Some(owner.as_str()) != key => Err(Error::forbidden(format!(
            "reference {reference:?}: the reservation at {} belongs to another key",
            level.location
        ))
        .on_field("reference")),
        _ => Ok(()),
    }
}
