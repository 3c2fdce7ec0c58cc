//! Row-level building blocks of the write path: locations, stock levels, ledger postings and
//! reservation records. Everything here runs inside the caller's transaction, and `post` is
//! the only place a balance ever changes.

use crate::clock::{from_text, to_text};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{MovementKind, StockLevel};
use crate::validate::MAX_QUANTITY;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// A stock level as the write path holds it while changing it.
#[derive(Debug, Clone)]
pub(crate) struct Level {
    pub id: Uuid,
    pub product_id: Uuid,
    /// The product's compact number, which keys the history index.
    pub product_ordinal: i64,
    pub location_id: i64,
    pub location: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Level {
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }

    pub fn view(&self) -> StockLevel {
        StockLevel {
            id: self.id,
            product_id: self.product_id,
            location: self.location.clone(),
            on_hand: self.on_hand,
            reserved: self.reserved,
            available: self.available(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

pub(crate) fn location_id(conn: &Connection, name: &str) -> Result<Option<i64>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM locations WHERE name = ?1")?;
    Ok(stmt.query_row([name], |r| r.get(0)).optional()?)
}

/// Locations are created on first use.
pub(crate) fn ensure_location(conn: &Connection, name: &str, now: DateTime<Utc>) -> Result<i64> {
    if let Some(id) = location_id(conn, name)? {
        return Ok(id);
    }
    let mut stmt =
        conn.prepare_cached("INSERT INTO locations (name, created_at) VALUES (?1, ?2)")?;
    stmt.execute(params![name, to_text(now)])?;
    Ok(conn.last_insert_rowid())
}

/// The stored level of a product at a location, given what the caller knows of both.
pub(crate) fn load_level(
    conn: &Connection,
    (product_id, product_ordinal): (Uuid, i64),
    (location_id, location): (i64, &str),
) -> Result<Option<Level>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, on_hand, reserved, created_at, updated_at FROM stock_levels
         WHERE product_id = ?1 AND location_id = ?2",
    )?;
    Ok(stmt
        .query_row(params![product_id.to_string(), location_id], |r| {
            Ok(Level {
                id: parse_uuid(&r.get::<_, String>(0)?)?,
                product_id,
                product_ordinal,
                location_id,
                location: location.to_owned(),
                on_hand: r.get(1)?,
                reserved: r.get(2)?,
                created_at: from_text(&r.get::<_, String>(3)?)?,
                updated_at: from_text(&r.get::<_, String>(4)?)?,
            })
        })
        .optional()?)
}

/// The level of a product at a location as this command sees it (its pending state, else its
/// row), or an empty one that is not yet stored (`post` records it on its first movement).
pub(crate) fn level_or_empty(
    conn: &Connection,
    pending: &Pending,
    (product_id, product_ordinal): (Uuid, i64),
    location_id: i64,
    location: &str,
    now: DateTime<Utc>,
) -> Result<(Level, bool)> {
    let product = (product_id, product_ordinal);
    Ok(
        match pending.level(conn, product, (location_id, location))? {
            Some(level) => (level, true),
            None => (
                Level {
                    id: Uuid::now_v7(),
                    product_id,
                    product_ordinal,
                    location_id,
                    location: location.to_owned(),
                    on_hand: 0,
                    reserved: 0,
                    created_at: now,
                    updated_at: now,
                },
                false,
            ),
        },
    )
}

pub(crate) fn insert_level(conn: &Connection, level: &Level) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO stock_levels (id, product_id, location_id, on_hand, reserved, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?;
    stmt.execute(params![
        level.id.to_string(),
        level.product_id.to_string(),
        level.location_id,
        level.on_hand,
        level.reserved,
        to_text(level.created_at)
    ])?;
    Ok(())
}

/// What a command has posted but not yet written: each touched level's and reservation's
/// latest state, and the changes to each product's cached totals. `flush` writes each of those
/// rows once when the command ends, so a batch does not rewrite the same rows for every
/// operation (and a reservation opened and released in one basket is never written); the
/// movements themselves, and the checks, happen at each posting.
#[derive(Default)]
pub(crate) struct Pending {
    /// The latest state of each level, and whether its row existed before this command.
    levels: HashMap<(Uuid, i64), (Level, bool)>,
    totals: HashMap<Uuid, (i64, i64)>,
    /// Products known to keep no totals (no reorder point): their row is not even visited.
    without_totals: HashSet<Uuid>,
    holds: HashMap<(Uuid, i64, String), Hold>,
}

/// A reservation as the command holds it.
struct Hold {
    /// Whether the reservation has a row in the database.
    stored: bool,
    quantity: i64,
    expires_at: Option<DateTime<Utc>>,
    /// False once the reservation closed in this command: reopening it then starts a new
    /// one (new id, no old expiry) rather than continuing the stored row.
    continues: bool,
    /// Whether this command changed it (a lookup alone writes nothing).
    touched: bool,
    updated_at: DateTime<Utc>,
}

impl Pending {
    /// The level's latest state in this command: pending if posted, else as stored.
    fn level(
        &self,
        conn: &Connection,
        product: (Uuid, i64),
        location: (i64, &str),
    ) -> Result<Option<Level>> {
        match self.levels.get(&(product.0, location.0)) {
            Some((level, _)) => Ok(Some(level.clone())),
            None => load_level(conn, product, location),
        }
    }

    /// Notes that `product` keeps no totals, so `flush` skips its row.
    pub(crate) fn without_totals(&mut self, product: Uuid) {
        self.without_totals.insert(product);
    }

    fn record(&mut self, level: &Level, existed: bool, on_hand: i64, reserved: i64) {
        self.levels
            .entry((level.product_id, level.location_id))
            .and_modify(|(latest, _)| *latest = level.clone())
            .or_insert_with(|| (level.clone(), existed));
        let total = self.totals.entry(level.product_id).or_default();
        total.0 += on_hand;
        total.1 += reserved;
    }

    pub(crate) fn flush(&mut self, conn: &Connection) -> Result<()> {
        let mut update = conn.prepare_cached(
            "UPDATE stock_levels SET on_hand = ?1, reserved = ?2, updated_at = ?3 WHERE product_id = ?4 AND location_id = ?5",
        )?;
        for (_, (level, existed)) in self.levels.drain() {
            if existed {
                update.execute(params![
                    level.on_hand,
                    level.reserved,
                    to_text(level.updated_at),
                    level.product_id.to_string(),
                    level.location_id
                ])?;
            } else {
                insert_level(conn, &level)?;
            }
        }
        // The totals exist for the low-stock index, which only holds products with a reorder
        // point; for the others the row is not written at all (one page less per commit).
        let mut stmt = conn.prepare_cached(
            "UPDATE products SET on_hand_total = on_hand_total + ?1, reserved_total = reserved_total + ?2
             WHERE id = ?3 AND reorder_point IS NOT NULL",
        )?;
        for (product, (on_hand, reserved)) in self.totals.drain() {
            if (on_hand != 0 || reserved != 0) && !self.without_totals.contains(&product) {
                stmt.execute(params![on_hand, reserved, product.to_string()])?;
            }
        }
        for ((product, location, reference), hold) in self.holds.drain() {
            write_hold(conn, product, location, &reference, &hold)?;
        }
        Ok(())
    }

    /// The reservation held for `reference` at the level, loaded on first touch.
    fn hold(&mut self, conn: &Connection, level: &Level, reference: &str) -> Result<&mut Hold> {
        let key = (level.product_id, level.location_id, reference.to_owned());
        if !self.holds.contains_key(&key) {
            let mut stmt = conn.prepare_cached(
                "SELECT quantity, expires_at FROM reservations WHERE product_id = ?1 AND location_id = ?2 AND reference = ?3",
            )?;
            let stored: Option<(i64, Option<String>)> = stmt
                .query_row(
                    params![level.product_id.to_string(), level.location_id, reference],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let hold = Hold {
                stored: stored.is_some(),
                quantity: stored.as_ref().map_or(0, |(q, _)| *q),
                expires_at: stored
                    .and_then(|(_, e)| e)
                    .map(|e| from_text(&e))
                    .transpose()?,
                continues: true,
                touched: false,
                updated_at: level.updated_at,
            };
            self.holds.insert(key.clone(), hold);
        }
        Ok(self.holds.get_mut(&key).expect("inserted above"))
    }

    /// The quantity held for `reference` at the level.
    pub(crate) fn held(
        &mut self,
        conn: &Connection,
        level: &Level,
        reference: &str,
    ) -> Result<i64> {
        Ok(self.hold(conn, level, reference)?.quantity)
    }
}

/// Writes a reservation's final state for the command: a closed one is deleted, a reopened
/// one replaces its row, and an untouched one is left alone.
fn write_hold(
    conn: &Connection,
    product: Uuid,
    location: i64,
    reference: &str,
    hold: &Hold,
) -> Result<()> {
    let key = params![product.to_string(), location, reference];
    let delete = || -> Result<()> {
        let mut stmt = conn.prepare_cached(
            "DELETE FROM reservations WHERE product_id = ?1 AND location_id = ?2 AND reference = ?3",
        )?;
        stmt.execute(key)?;
        Ok(())
    };
    let expires_at = hold.expires_at.map(to_text);
    let updated_at = to_text(hold.updated_at);
    if hold.quantity == 0 {
        if hold.stored {
            delete()?;
        }
    } else if hold.stored && hold.continues {
        if hold.touched {
            let mut stmt = conn.prepare_cached(
                "UPDATE reservations SET quantity = ?4, expires_at = ?5, updated_at = ?6
                 WHERE product_id = ?1 AND location_id = ?2 AND reference = ?3",
            )?;
            stmt.execute(params![
                key[0],
                key[1],
                key[2],
                hold.quantity,
                expires_at,
                updated_at
            ])?;
        }
    } else {
        if hold.stored {
            delete()?;
        }
        let mut stmt = conn.prepare_cached(
            "INSERT INTO reservations (id, product_id, location_id, reference, quantity, expires_at, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        )?;
        stmt.execute(params![
            Uuid::now_v7().to_string(),
            key[0],
            key[1],
            key[2],
            hold.quantity,
            expires_at,
            updated_at
        ])?;
    }
    Ok(())
}

/// The context of one posting: its memo fields and time.
pub(crate) struct Memo<'a> {
    pub reference: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub transfer_id: Option<Uuid>,
    pub now: DateTime<Utc>,
    /// `now` as stored, formatted once per command rather than once per movement.
    pub now_text: &'a str,
}

/// Applies one movement to a level: checks the resulting balances, updates the level and records
/// it (and the product's totals) in `pending`, and appends the movement with its balances after.
/// Callers check business rules first to give precise errors; the checks here guard the
/// invariants themselves. `stored` says whether the level's row exists or is pending.
pub(crate) fn post(
    conn: &Connection,
    pending: &mut Pending,
    level: &mut Level,
    stored: &mut bool,
    kind: MovementKind,
    quantity: i64,
    memo: &Memo,
) -> Result<i64> {
    let (d_on_hand, d_reserved) = kind.deltas(quantity);
    let on_hand = level
        .on_hand
        .checked_add(d_on_hand)
        .filter(|v| *v <= MAX_QUANTITY)
        .ok_or_else(|| {
            Error::validation(
                "quantity",
                format!("on_hand at {} would exceed {MAX_QUANTITY}", level.location),
            )
        })?;
    let reserved = level.reserved + d_reserved;
    if reserved < 0 {
        return Err(Error::new(
            ErrorCode::InsufficientReserved,
            format!("not enough reserved at {}", level.location),
        ));
    }
    if on_hand < 0 || reserved > on_hand {
        return Err(Error::new(
            ErrorCode::InsufficientStock,
            format!("not enough stock at {}", level.location),
        ));
    }
    level.on_hand = on_hand;
    level.reserved = reserved;
    level.updated_at = memo.now;
    pending.record(level, *stored, d_on_hand, d_reserved);
    *stored = true;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO movements (id, product_id, location_id, kind, quantity, on_hand_delta, reserved_delta,
                                on_hand_after, reserved_after, reference, notes, transfer_id, created_at,
                                product_ordinal)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    stmt.execute(params![
        Uuid::now_v7().to_string(),
        level.product_id.to_string(),
        level.location_id,
        kind.as_str(),
        quantity,
        d_on_hand,
        d_reserved,
        on_hand,
        reserved,
        memo.reference,
        memo.notes,
        memo.transfer_id.map(|t| t.to_string()),
        memo.now_text,
        level.product_ordinal,
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Adds to the reservation held for `reference`, opening it if needed. A new expiry replaces
/// the old one; `None` keeps it (a reservation opened anew starts without one).
pub(crate) fn hold(
    conn: &Connection,
    pending: &mut Pending,
    level: &Level,
    reference: &str,
    quantity: i64,
    expires_at: Option<DateTime<Utc>>,
) -> Result<()> {
    let hold = pending.hold(conn, level, reference)?;
    if hold.quantity == 0 {
        hold.expires_at = None;
    }
    hold.quantity += quantity;
    hold.expires_at = expires_at.or(hold.expires_at);
    hold.touched = true;
    hold.updated_at = level.updated_at;
    Ok(())
}

/// Takes `quantity` off the reservation held for `reference`, closing it when it reaches zero.
pub(crate) fn release(
    conn: &Connection,
    pending: &mut Pending,
    level: &Level,
    reference: &str,
    quantity: i64,
) -> Result<()> {
    let hold = pending.hold(conn, level, reference)?;
    if hold.quantity < quantity {
        return Err(Error::new(
            ErrorCode::InsufficientReserved,
            "reservation holds less than requested",
        ));
    }
    hold.quantity -= quantity;
    if hold.quantity == 0 {
        hold.continues = false;
    }
    hold.touched = true;
    hold.updated_at = level.updated_at;
    Ok(())
}

/// Releases every reservation of `product` (or of all products) whose expiry has passed,
/// each with an EXPIRE movement. Returns how many were released.
pub(crate) fn expire_due(
    conn: &Connection,
    pending: &mut Pending,
    product: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<u64> {
    type Due = (String, i64, i64, String, String, i64);
    let now_text = to_text(now);
    let due: Vec<Due> = {
        let mut stmt = conn.prepare_cached(
            "SELECT r.product_id, p.ordinal, r.location_id, l.name, r.reference, r.quantity
             FROM reservations r JOIN products p ON p.id = r.product_id
             JOIN locations l ON l.id = r.location_id
             WHERE r.expires_at IS NOT NULL AND r.expires_at <= ?2
               AND (?1 IS NULL OR r.product_id = ?1)",
        )?;
        stmt.query_map(params![product.map(|p| p.to_string()), now_text], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?
    };
    for (product_id, ordinal, location_id, location, reference, quantity) in &due {
        let product = (parse_uuid(product_id)?, *ordinal);
        let mut level = pending
            .level(conn, product, (*location_id, location))?
            .ok_or_else(|| Error::storage("reservation without a stock level"))?;
        let memo = Memo {
            reference: Some(reference.as_str()).filter(|r| !r.is_empty()),
            notes: None,
            transfer_id: None,
            now,
            now_text: &now_text,
        };
        post(
            conn,
            pending,
            &mut level,
            &mut true,
            MovementKind::Expire,
            *quantity,
            &memo,
        )?;
        release(conn, pending, &level, reference, *quantity)?;
    }
    Ok(due.len() as u64)
}

/// Whether any reservation of `product` (or of any product) has passed its expiry.
pub(crate) fn any_due(
    conn: &Connection,
    product: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let now = to_text(now);
    Ok(match product {
        Some(id) => conn
            .prepare_cached(
                "SELECT 1 FROM reservations WHERE product_id = ?1 AND expires_at <= ?2",
            )?
            .exists(params![id.to_string(), now])?,
        None => conn
            .prepare_cached("SELECT 1 FROM reservations WHERE expires_at <= ?1")?
            .exists([now])?,
    })
}

pub(crate) fn parse_uuid(s: &str) -> rusqlite::Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}
