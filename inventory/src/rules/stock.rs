//! The rules of the stock operations, one function per kind. Each states what it requires and
//! what it posts; `Ctx` records it.

use super::context::{Ctx, Memo, Stocked};
use super::expiry;
use super::tills;
use crate::command::{Expect, OpKind, StockOp};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{MovementKind, StockLevel};
use crate::shape::{self, Field};
use crate::store::rows::Level;
use uuid::Uuid;

/// Applies one stock operation. Its fields' presence and limits are the table's
/// ([`shape::check`]); what follows are the rules.
pub(crate) fn apply(ctx: &mut Ctx, op: &StockOp) -> Result<Vec<StockLevel>> {
    shape::check(op)?;
    let product = ctx.product(op.product_id)?;
    let location_field = shape::shape(op.kind).location_field().name();
    let location = match op.location.as_deref() {
        Some(l) => l.trim().to_owned(),
        None => product.home.clone(),
    };
    ctx.may_stock_at(&location, location_field)?;
    let creates = matches!(op.kind, OpKind::Add | OpKind::Count);
    let mut level = ctx.level(&product, &location, creates)?;
    check_expect(&level, op.expect)?;
    let memo = Memo {
        reference: op.reference.as_deref(),
        notes: op.notes.as_deref(),
        external_id: op.external_id.as_deref(),
        transfer_id: None,
    };
    match op.kind {
        OpKind::Add => {
            let q = quantity(op, Field::Quantity)?;
            ctx.post(&mut level, MovementKind::In, q, &memo)?;
        }
        OpKind::Remove => {
            let q = quantity(op, Field::Quantity)?;
            ensure_available(&level, q)?;
            ctx.post(&mut level, MovementKind::Out, q, &memo)?;
        }
        OpKind::Reserve => {
            let q = quantity(op, Field::Quantity)?;
            let expires_at = expiry::resolve(op.expires, ctx.now.at)?;
            ensure_available(&level, q)?;
            tills::may_change_hold(ctx, &level, op.reference.as_deref().unwrap_or(""))?;
            ctx.post(&mut level, MovementKind::Reserve, q, &memo)?;
            ctx.hold(&level, op.reference.as_deref().unwrap_or(""), q, expires_at)?;
        }
        OpKind::Unreserve | OpKind::Commit => release(ctx, &mut level, op, &memo)?,
        OpKind::Count => count(ctx, &mut level, op, &memo)?,
        OpKind::Renew => renew(ctx, &level, op)?,
        OpKind::Transfer => return transfer(ctx, &product, level, op, memo),
    }
    Ok(vec![level.view()])
}

/// A field the shape check found present (its kind requires it).
fn required<T>(value: Option<T>, field: Field) -> Result<T> {
    value.ok_or_else(|| shape::missing_field(field))
}

fn quantity(op: &StockOp, field: Field) -> Result<i64> {
    required(op.quantity, field)
}

fn check_expect(level: &Level, expect: Option<Expect>) -> Result<()> {
    let (field, expected, actual) = match expect {
        None => return Ok(()),
        Some(Expect::Available(v)) => (Field::ExpectedAvailable, v, level.available()),
        Some(Expect::Quantity(v)) => (Field::ExpectedQuantity, v, level.on_hand),
    };
    let field = field.name();
    if expected != actual {
        return Err(Error::conflict(format!(
            "{field} is {expected} but {} has {actual}",
            level.location
        ))
        .on_field(field));
    }
    Ok(())
}

fn ensure_available(level: &Level, wanted: i64) -> Result<()> {
    if level.available() >= wanted {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::InsufficientStock,
        format!(
            "only {} available at {}, {wanted} requested",
            level.available(),
            level.location
        ),
    ))
}

/// Unreserve and commit: both take from the reservation named by the reference (or from
/// unreferenced reserved quantity); a commit also takes the units off hand. A commit that names
/// its `reservation` takes from that one, and its movements carry the reference.
fn release(ctx: &mut Ctx, level: &mut Level, op: &StockOp, memo: &Memo) -> Result<()> {
    let reference = op.reservation.as_deref().or(op.reference.as_deref());
    let held_for = reference.unwrap_or("");
    tills::may_change_hold(ctx, level, held_for)?;
    let held = ctx.held(level, held_for)?;
    let whose = || match reference {
        None | Some("") => "unreferenced".to_owned(),
        Some(r) => format!("reference {r:?}"),
    };
    let q = match op.quantity {
        Some(q) => q,
        None if held == 0 => {
            return Err(Error::new(
                ErrorCode::InsufficientReserved,
                format!("no open reservation for {} at {}", whose(), level.location),
            ));
        }
        None => held,
    };
    if held < q {
        return Err(Error::new(
            ErrorCode::InsufficientReserved,
            format!(
                "{held} reserved for {} at {}, {q} requested",
                whose(),
                level.location
            ),
        ));
    }
    let kind = match op.kind {
        OpKind::Commit => MovementKind::Commit,
        _ => MovementKind::Unreserve,
    };
    ctx.post(level, kind, q, memo)?;
    ctx.release(level, held_for, q)?;
    if op.release_remainder && held > q {
        ctx.post(level, MovementKind::Unreserve, held - q, memo)?;
        ctx.release(level, held_for, held - q)?;
    }
    Ok(())
}

/// A new expiry for an open reservation. Nothing moves, so nothing enters the ledger: the
/// reservation's row records it, as a repeat reserve's new expiry does.
fn renew(ctx: &mut Ctx, level: &Level, op: &StockOp) -> Result<()> {
    let held_for = op.reference.as_deref().unwrap_or("");
    let expires_at = required(
        expiry::resolve(op.expires, ctx.now.at)?,
        Field::ExpiresInSeconds,
    )?;
    tills::may_change_hold(ctx, level, held_for)?;
    if ctx.held(level, held_for)? == 0 {
        let whose = match held_for {
            "" => "unreferenced".to_owned(),
            r => format!("reference {r:?}"),
        };
        return Err(Error::new(
            ErrorCode::InsufficientReserved,
            format!("no open reservation for {whose} at {}", level.location),
        ));
    }
    ctx.renew(level, held_for, expires_at)
}

/// A physical count sets on hand to what was counted, recording the difference.
fn count(ctx: &mut Ctx, level: &mut Level, op: &StockOp, memo: &Memo) -> Result<()> {
    let field = Field::Counted.name();
    let counted = required(op.quantity, Field::Counted)?;
    if counted < level.reserved {
        return Err(Error::conflict(format!(
            "counted {counted} is below the {} reserved at {}; release reservations first",
            level.reserved, level.location
        ))
        .on_field(field));
    }
    let delta = counted - level.on_hand;
    ctx.post(level, MovementKind::Adjust, delta, memo)
}

/// Moves available units from the level to `to_location`, as two movements sharing an id.
fn transfer(
    ctx: &mut Ctx,
    product: &Stocked,
    mut from: Level,
    op: &StockOp,
    memo: Memo,
) -> Result<Vec<StockLevel>> {
    let q = quantity(op, Field::Quantity)?;
    let field = Field::ToLocation.name();
    let to = required(op.to_location.as_deref(), Field::ToLocation)?
        .trim()
        .to_owned();
    if to == from.location {
        return Err(Error::validation(
            field,
            "to_location must differ from the source location",
        ));
    }
    ctx.may_stock_at(&to, field)?;
    ensure_available(&from, q)?;
    let memo = Memo {
        transfer_id: Some(Uuid::now_v7()),
        ..memo
    };
    let mut dest = ctx.level(product, &to, true)?;
    ctx.post(&mut from, MovementKind::TransferOut, q, &memo)?;
    ctx.post(&mut dest, MovementKind::TransferIn, q, &memo)?;
    Ok(vec![from.view(), dest.view()])
}
