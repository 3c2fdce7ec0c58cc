//! The one write path: `execute` applies a `Command` inside the caller's transaction
//! (the writer opens it IMMEDIATE, and gives each command of a shared group its own
//! savepoint), handling the idempotency key in that same transaction.

use crate::DEFAULT_LOCATION;
use crate::clock::to_text;
use crate::command::{
    Command, Expect, Expiry, NewProduct, OpKind, Outcome, ProductChanges, StockOp,
};
use crate::error::{Error, ErrorCode, Result};
use crate::ledger::{self, Level, Memo};
use crate::model::{Location, MovementKind, Product, ProductWithStock, StockLevel};
use crate::read;
use crate::validate::{self, *};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use uuid::Uuid;

/// How long an idempotency key is remembered.
pub const IDEMPOTENCY_TTL_HOURS: i64 = 24;

/// A command's result, and whether it was replayed from an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executed {
    /// The command's result (the stored one, when replayed).
    pub outcome: Outcome,
    /// True when an idempotency key matched an earlier identical request and nothing was applied.
    pub replayed: bool,
}

pub(crate) fn execute(
    conn: &Connection,
    cmd: &Command,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Executed> {
    let Some(key) = key else {
        return Ok(Executed {
            outcome: apply(conn, cmd, now)?,
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
    let mut stmt =
        conn.prepare_cached("SELECT request, outcome FROM idempotency_keys WHERE key = ?1")?;
    let seen: Option<(String, String)> = stmt
        .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((first_request, outcome)) = seen {
        if first_request != request {
            return Err(Error::conflict(format!(
                "idempotency key {key:?} was already used for a different request"
            ))
            .on_field("idempotency_key"));
        }
        return Ok(Executed {
            outcome: serde_json::from_str(&outcome)?,
            replayed: true,
        });
    }
    let outcome = apply(conn, cmd, now)?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO idempotency_keys (key, request, outcome, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?;
    stmt.execute(params![
        key,
        request,
        serde_json::to_string(&outcome)?,
        to_text(now)
    ])?;
    Ok(Executed {
        outcome,
        replayed: false,
    })
}

fn apply(conn: &Connection, cmd: &Command, now: DateTime<Utc>) -> Result<Outcome> {
    let mut seen = Seen::default();
    // Formatted once: a batch would otherwise format it for every movement.
    let now_text = to_text(now);
    let outcome = match cmd {
        Command::CreateProduct(new) => create_product(conn, &mut seen.pending, new, now)
            .map(|p| Outcome::ProductCreated(Box::new(p))),
        Command::UpdateProduct {
            id,
            changes,
            expected_version,
        } => update_product(conn, *id, changes, *expected_version, now)
            .map(|p| Outcome::ProductUpdated(Box::new(p))),
        Command::DeleteProduct {
            id,
            expected_version,
        } => {
            delete_product(conn, *id, *expected_version, now).map(|()| Outcome::ProductDeleted(*id))
        }
        Command::CreateLocation { name } => {
            create_location(conn, name, now).map(Outcome::LocationCreated)
        }
        Command::Stock(op) => stock(conn, &mut seen, op, (now, &now_text)).map(Outcome::Levels),
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
                .map(|(i, op)| {
                    stock(conn, &mut seen, op, (now, &now_text)).map_err(|e| e.at_index(i))
                })
                .collect::<Result<_>>()?;
            Ok(Outcome::Batch(levels))
        }
        Command::Sweep => {
            let released = ledger::expire_due(conn, &mut seen.pending, None, now)?;
            // Keys arrive in time order, so the expired ones are the rows before the first
            // live one: finding it reads only what is deleted.
            let mut stmt = conn.prepare_cached(
                "DELETE FROM idempotency_keys WHERE id < coalesce(
                     (SELECT id FROM idempotency_keys WHERE created_at >= ?1 ORDER BY id LIMIT 1),
                     (SELECT max(id) + 1 FROM idempotency_keys))",
            )?;
            stmt.execute([to_text(now - Duration::hours(IDEMPOTENCY_TTL_HOURS))])?;
            Ok(Outcome::Swept(released))
        }
    }?;
    seen.pending.flush(conn)?;
    Ok(outcome)
}

fn reorder_point(value: Option<i64>) -> Result<Option<i64>> {
    value
        .map(|v| validate::non_negative_quantity("reorder_point", v))
        .transpose()
}

fn create_product(
    conn: &Connection,
    pending: &mut ledger::Pending,
    new: &NewProduct,
    now: DateTime<Utc>,
) -> Result<ProductWithStock> {
    let name = validate::required("name", &new.name, MAX_NAME)?;
    let sku = validate::required("sku", &new.sku, MAX_SKU)?;
    validate::limit("description", &new.description, MAX_DESCRIPTION)?;
    let location = validate::required(
        "location",
        new.location.as_deref().unwrap_or(DEFAULT_LOCATION),
        MAX_LOCATION,
    )?;
    let initial = validate::non_negative_quantity("initial_quantity", new.initial_quantity)?;
    let reorder_point = reorder_point(new.reorder_point)?;
    let mut stmt =
        conn.prepare_cached("SELECT 1 FROM products WHERE sku = ?1 AND archived_at IS NULL")?;
    if stmt.exists([&sku])? {
        return Err(Error::new(
            ErrorCode::DuplicateSku,
            format!("a product with sku {sku:?} already exists"),
        )
        .on_field("sku"));
    }
    let location_id = ledger::ensure_location(conn, &location, now)?;
    let id = Uuid::now_v7();
    let mut stmt = conn.prepare_cached(
        "INSERT INTO products (id, name, description, sku, price, location_id, reorder_point, version,
                               on_hand_total, reserved_total, created_at, updated_at, ordinal)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, 0, 0, ?8, ?8,
                 (SELECT coalesce(max(ordinal), 0) + 1 FROM products))
         RETURNING ordinal",
    )?;
    let ordinal: i64 = stmt.query_row(
        params![
            id.to_string(),
            name,
            new.description,
            sku,
            new.price,
            location_id,
            reorder_point,
            to_text(now)
        ],
        |r| r.get(0),
    )?;
    let (mut level, _) =
        ledger::level_or_empty(conn, pending, (id, ordinal), location_id, &location, now)?;
    ledger::insert_level(conn, &level)?;
    let mut stored = true;
    if initial > 0 {
        let now_text = to_text(now);
        let memo = Memo {
            reference: None,
            notes: Some("initial quantity"),
            transfer_id: None,
            now,
            now_text: &now_text,
        };
        ledger::post(
            conn,
            pending,
            &mut level,
            &mut stored,
            MovementKind::In,
            initial,
            &memo,
        )?;
    }
    pending.flush(conn)?;
    read::product_with_stock(conn, id)
}

fn live_product(conn: &Connection, id: Uuid) -> Result<Product> {
    read::product(conn, id)?.ok_or_else(|| Error::not_found(format!("product {id}")))
}

fn check_version(product: &Product, expected: Option<i64>) -> Result<()> {
    match expected {
        Some(v) if v != product.version => Err(Error::conflict(format!(
            "product {} is at version {}, not {v}",
            product.id, product.version
        ))
        .on_field("version")),
        _ => Ok(()),
    }
}

fn update_product(
    conn: &Connection,
    id: Uuid,
    changes: &ProductChanges,
    expected: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Product> {
    let product = live_product(conn, id)?;
    check_version(&product, expected)?;
    let name = changes
        .name
        .as_deref()
        .map(|n| validate::required("name", n, MAX_NAME))
        .transpose()?;
    if let Some(d) = &changes.description {
        validate::limit("description", d, MAX_DESCRIPTION)?;
    }
    let reorder = match changes.reorder_point {
        Some(r) => reorder_point(r)?,
        None => product.reorder_point,
    };
    // Totals are kept only while there is a reorder point (see `ledger::Pending::flush`), so
    // they are recomputed from the levels whenever one is set, and zeroed when it is removed.
    let mut stmt = conn.prepare_cached(
        "UPDATE products SET name = ?2, description = ?3, price = ?4, reorder_point = ?5,
                version = version + 1, updated_at = ?6,
                on_hand_total = CASE WHEN ?5 IS NULL THEN 0 ELSE
                    (SELECT coalesce(sum(on_hand), 0) FROM stock_levels WHERE product_id = ?1) END,
                reserved_total = CASE WHEN ?5 IS NULL THEN 0 ELSE
                    (SELECT coalesce(sum(reserved), 0) FROM stock_levels WHERE product_id = ?1) END
         WHERE id = ?1",
    )?;
    stmt.execute(params![
        id.to_string(),
        name.unwrap_or(product.name),
        changes.description.as_ref().unwrap_or(&product.description),
        changes.price.unwrap_or(product.price),
        reorder,
        to_text(now)
    ])?;
    live_product(conn, id)
}

/// Archives: the product leaves the catalogue, its ledger stays, and its SKU is free again.
fn delete_product(
    conn: &Connection,
    id: Uuid,
    expected: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    let product = live_product(conn, id)?;
    check_version(&product, expected)?;
    let mut stmt = conn.prepare_cached(
        "UPDATE products SET archived_at = ?2, updated_at = ?2, version = version + 1 WHERE id = ?1",
    )?;
    stmt.execute(params![id.to_string(), to_text(now)])?;
    Ok(())
}

fn create_location(conn: &Connection, name: &str, now: DateTime<Utc>) -> Result<Location> {
    let name = validate::required("name", name, MAX_LOCATION)?;
    if ledger::location_id(conn, &name)?.is_some() {
        return Err(Error::conflict(format!("location {name:?} already exists")).on_field("name"));
    }
    ledger::ensure_location(conn, &name, now)?;
    read::location(conn, &name)?.ok_or_else(|| Error::storage("location vanished after insert"))
}

/// Rejects fields that do not belong to the operation's kind, so that nothing a caller
/// sends is silently ignored.
fn check_shape(op: &StockOp) -> Result<()> {
    let refuse = |field: &str| {
        Err(Error::validation(
            field,
            format!("{field} does not apply to {}", op.kind.as_str()),
        ))
    };
    if op.to_location.is_some() && op.kind != OpKind::Transfer {
        return refuse("to_location");
    }
    if op.expires.is_some() && op.kind != OpKind::Reserve {
        return refuse("expires");
    }
    if op.release_remainder && op.kind != OpKind::Commit {
        return refuse("release_remainder");
    }
    if op.expect.is_some() && matches!(op.kind, OpKind::Count) {
        return refuse("expect");
    }
    validate::optional("reference", &op.reference, MAX_REFERENCE)?;
    validate::optional("notes", &op.notes, MAX_NOTES)?;
    Ok(())
}

fn required_quantity(op: &StockOp) -> Result<i64> {
    let q = op
        .quantity
        .ok_or_else(|| Error::validation("quantity", "quantity is required"))?;
    validate::positive_quantity("quantity", q)
}

fn location_name(op_location: Option<&str>, field: &str, product_location: &str) -> Result<String> {
    match op_location {
        Some(l) => validate::required(field, l, MAX_LOCATION),
        None => Ok(product_location.to_owned()),
    }
}

/// What a stock operation needs to know of its product.
struct Stocked {
    ordinal: i64,
    /// The name of the product's own location, the default for its operations.
    home: String,
}

/// What one command has looked up already, and what it has posted but not yet written.
/// Within a command `now` is fixed, and stock operations change neither a product's fields nor
/// a location's id, so a batch reads each product (releasing its expired reservations) and
/// each location once, and writes each level and product row once, at the end.
#[derive(Default)]
struct Seen {
    products: HashMap<Uuid, Stocked>,
    locations: HashMap<String, i64>,
    pending: ledger::Pending,
}

impl Seen {
    /// A live product, whose expired reservations have been released at `now`. One statement
    /// finds the product, its home location, whether it keeps totals and whether anything of
    /// it is due to expire.
    fn product(
        &mut self,
        conn: &Connection,
        id: Uuid,
        (now, now_text): (DateTime<Utc>, &str),
    ) -> Result<&Stocked> {
        Ok(match self.products.entry(id) {
            Entry::Occupied(seen) => seen.into_mut(),
            Entry::Vacant(slot) => {
                let mut stmt = conn.prepare_cached(
                    "SELECT p.ordinal, l.name, l.id, p.reorder_point IS NOT NULL,
                            EXISTS (SELECT 1 FROM reservations r
                                    WHERE r.product_id = p.id AND r.expires_at <= ?2)
                     FROM products p JOIN locations l ON l.id = p.location_id
                     WHERE p.id = ?1 AND p.archived_at IS NULL",
                )?;
                let (ordinal, home, home_id, keeps_totals, due): (i64, String, i64, bool, bool) =
                    stmt.query_row(params![id.to_string(), now_text], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })
                    .optional()?
                    .ok_or_else(|| Error::not_found(format!("product {id}")))?;
                if !keeps_totals {
                    self.pending.without_totals(id);
                }
                if due {
                    ledger::expire_due(conn, &mut self.pending, Some(id), now)?;
                }
                self.locations.insert(home.clone(), home_id);
                slot.insert(Stocked { ordinal, home })
            }
        })
    }

    /// The level an operation acts on. Operations that only take stock away do not create
    /// locations or levels, so a mistyped location fails instead of leaving debris.
    fn target(
        &mut self,
        conn: &Connection,
        product: (Uuid, i64),
        location: &str,
        create: bool,
        now: DateTime<Utc>,
    ) -> Result<(Level, bool)> {
        let location_id = match self.locations.get(location) {
            Some(id) => *id,
            None => {
                let id = if create {
                    ledger::ensure_location(conn, location, now)?
                } else {
                    ledger::location_id(conn, location)?
                        .ok_or_else(|| Error::not_found(format!("location {location:?}")))?
                };
                self.locations.insert(location.to_owned(), id);
                id
            }
        };
        ledger::level_or_empty(conn, &self.pending, product, location_id, location, now)
    }
}

fn check_expect(level: &Level, expect: Option<Expect>) -> Result<()> {
    let (field, expected, actual) = match expect {
        None => return Ok(()),
        Some(Expect::Available(v)) => ("expected_available", v, level.available()),
        Some(Expect::Quantity(v)) => ("expected_quantity", v, level.on_hand),
    };
    if expected != actual {
        return Err(Error::conflict(format!(
            "{field} is {expected} but {} has {actual}",
            level.location
        ))
        .on_field(field));
    }
    Ok(())
}

fn resolve_expiry(expiry: Option<Expiry>, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
    match expiry {
        None => Ok(None),
        Some(Expiry::In(secs)) if (1..=MAX_EXPIRY_SECONDS).contains(&secs) => {
            Ok(Some(now + Duration::seconds(secs)))
        }
        Some(Expiry::In(_)) => Err(Error::validation(
            "expires_in_seconds",
            format!("expires_in_seconds must be between 1 and {MAX_EXPIRY_SECONDS}"),
        )),
        Some(Expiry::At(at)) if at > now && at <= now + Duration::seconds(MAX_EXPIRY_SECONDS) => {
            Ok(Some(at))
        }
        Some(Expiry::At(_)) => Err(Error::validation(
            "expires_at",
            "expires_at must be in the future, within a year",
        )),
    }
}

fn insufficient_stock(level: &Level, wanted: i64) -> Error {
    Error::new(
        ErrorCode::InsufficientStock,
        format!(
            "only {} available at {}, {wanted} requested",
            level.available(),
            level.location
        ),
    )
}

fn insufficient_reserved(level: &Level, reference: &str, held: i64, wanted: i64) -> Error {
    let whose = if reference.is_empty() {
        "unreferenced".to_owned()
    } else {
        format!("reference {reference:?}")
    };
    Error::new(
        ErrorCode::InsufficientReserved,
        format!(
            "{held} reserved for {whose} at {}, {wanted} requested",
            level.location
        ),
    )
}

fn stock(
    conn: &Connection,
    seen: &mut Seen,
    op: &StockOp,
    (now, now_text): (DateTime<Utc>, &str),
) -> Result<Vec<StockLevel>> {
    check_shape(op)?;
    let id = op.product_id;
    let stocked = seen.product(conn, id, (now, now_text))?;
    let product = (id, stocked.ordinal);
    let location = location_name(op.location.as_deref(), "location", &stocked.home)?;
    let reference = op.reference.as_deref();
    let held_for = reference.unwrap_or("");
    let memo = Memo {
        reference,
        notes: op.notes.as_deref(),
        transfer_id: None,
        now,
        now_text,
    };
    let creates = matches!(op.kind, OpKind::Add | OpKind::Count);
    let (mut level, mut stored) = seen.target(conn, product, &location, creates, now)?;
    check_expect(&level, op.expect)?;
    match op.kind {
        OpKind::Add => {
            let q = required_quantity(op)?;
            ledger::post(
                conn,
                &mut seen.pending,
                &mut level,
                &mut stored,
                MovementKind::In,
                q,
                &memo,
            )?;
        }
        OpKind::Remove => {
            let q = required_quantity(op)?;
            if level.available() < q {
                return Err(insufficient_stock(&level, q));
            }
            ledger::post(
                conn,
                &mut seen.pending,
                &mut level,
                &mut stored,
                MovementKind::Out,
                q,
                &memo,
            )?;
        }
        OpKind::Reserve => {
            let q = required_quantity(op)?;
            let expires_at = resolve_expiry(op.expires, now)?;
            if level.available() < q {
                return Err(insufficient_stock(&level, q));
            }
            ledger::post(
                conn,
                &mut seen.pending,
                &mut level,
                &mut stored,
                MovementKind::Reserve,
                q,
                &memo,
            )?;
            ledger::hold(conn, &mut seen.pending, &level, held_for, q, expires_at)?;
        }
        OpKind::Unreserve | OpKind::Commit => {
            let held = seen.pending.held(conn, &level, held_for)?;
            let q = match op.quantity {
                Some(q) => validate::positive_quantity("quantity", q)?,
                None if op.kind == OpKind::Unreserve && reference.is_none() => {
                    return Err(Error::validation(
                        "quantity",
                        "quantity is required without a reference",
                    ));
                }
                None if held == 0 => {
                    return Err(Error::new(
                        ErrorCode::InsufficientReserved,
                        format!(
                            "no open reservation for reference {held_for:?} at {}",
                            level.location
                        ),
                    ));
                }
                None => held,
            };
            if held < q {
                return Err(insufficient_reserved(&level, held_for, held, q));
            }
            let kind = if op.kind == OpKind::Commit {
                MovementKind::Commit
            } else {
                MovementKind::Unreserve
            };
            ledger::post(
                conn,
                &mut seen.pending,
                &mut level,
                &mut stored,
                kind,
                q,
                &memo,
            )?;
            ledger::release(conn, &mut seen.pending, &level, held_for, q)?;
            if op.release_remainder && held > q {
                ledger::post(
                    conn,
                    &mut seen.pending,
                    &mut level,
                    &mut stored,
                    MovementKind::Unreserve,
                    held - q,
                    &memo,
                )?;
                ledger::release(conn, &mut seen.pending, &level, held_for, held - q)?;
            }
        }
        OpKind::Count => {
            let counted = op
                .quantity
                .ok_or_else(|| Error::validation("counted", "counted is required"))?;
            let counted = validate::non_negative_quantity("counted", counted)?;
            if counted < level.reserved {
                return Err(Error::conflict(format!(
                    "counted {counted} is below the {} reserved at {}; release reservations first",
                    level.reserved, level.location
                ))
                .on_field("counted"));
            }
            let delta = counted - level.on_hand;
            ledger::post(
                conn,
                &mut seen.pending,
                &mut level,
                &mut stored,
                MovementKind::Adjust,
                delta,
                &memo,
            )?;
        }
        OpKind::Transfer => {
            let q = required_quantity(op)?;
            let to = op
                .to_location
                .as_deref()
                .ok_or_else(|| Error::validation("to_location", "to_location is required"))?;
            let to = validate::required("to_location", to, MAX_LOCATION)?;
            if to == level.location {
                return Err(Error::validation(
                    "to_location",
                    "to_location must differ from the source location",
                ));
            }
            if level.available() < q {
                return Err(insufficient_stock(&level, q));
            }
            let memo = Memo {
                transfer_id: Some(Uuid::now_v7()),
                ..memo
            };
            let (mut dest, mut dest_stored) = seen.target(conn, product, &to, true, now)?;
            ledger::post(
                conn,
                &mut seen.pending,
                &mut level,
                &mut stored,
                MovementKind::TransferOut,
                q,
                &memo,
            )?;
            ledger::post(
                conn,
                &mut seen.pending,
                &mut dest,
                &mut dest_stored,
                MovementKind::TransferIn,
                q,
                &memo,
            )?;
            return Ok(vec![level.view(), dest.view()]);
        }
    }
    Ok(vec![level.view()])
}
