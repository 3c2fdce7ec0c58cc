//! What a command has changed but not yet written: each touched level's and reservation's latest
//! state, and the changes to each product's cached totals. `flush` writes each of those rows once
//! when the command ends, so a batch does not rewrite the same rows for every operation (and a
//! reservation opened and released in one basket is never written). Movements and checks happen
//! at each posting.

use crate::error::Result;
use crate::store::rows::{HoldKey, HoldRow, Level};
use crate::store::tx::WriteTx;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

#[derive(Default)]
pub(crate) struct Pending {
    /// The latest state of each level this command has looked at.
    levels: HashMap<(Uuid, i64), Tracked>,
    totals: HashMap<Uuid, (i64, i64)>,
    /// Products known to keep no totals (no reorder point): their row is not even visited.
    without_totals: HashSet<Uuid>,
    holds: HashMap<(Uuid, i64, String), Hold>,
}

struct Tracked {
    level: Level,
    /// Whether its row existed before this command.
    existed: bool,
    /// Whether this command changed it (a look-up alone writes nothing).
    touched: bool,
}

/// A reservation as the command holds it.
pub(crate) struct Hold {
    /// Whether the reservation has a row in the store.
    stored: bool,
    pub quantity: i64,
    pub expires_at: Option<DateTime<Utc>>,
    /// The name of the key that opened it.
    pub owner: Option<String>,
    /// False once the reservation closed in this command: reopening it then starts a new
    /// one (new id, no old expiry) rather than continuing the stored row.
    continues: bool,
    touched: bool,
    updated_at: DateTime<Utc>,
}

impl Pending {
    /// The level's latest state in this command, if this command has seen it.
    pub fn level(&self, product: Uuid, location_id: i64) -> Option<&Level> {
        self.levels.get(&(product, location_id)).map(|t| &t.level)
    }

    /// Starts tracking a level read from the store (`existed`) or new.
    pub fn track(&mut self, level: Level, existed: bool) {
        self.levels.insert(
            (level.product_id, level.location_id),
            Tracked {
                level,
                existed,
                touched: false,
            },
        );
    }

    /// Notes that `product` keeps no totals, so `flush` skips its row.
    pub fn without_totals(&mut self, product: Uuid) {
        self.without_totals.insert(product);
    }

    /// Records a level's new state and the change it made to its product's totals.
    pub fn record(&mut self, level: &Level, on_hand: i64, reserved: i64) {
        let tracked = self
            .levels
            .entry((level.product_id, level.location_id))
            .or_insert_with(|| Tracked {
                level: level.clone(),
                existed: false,
                touched: false,
            });
        tracked.level.clone_from(level);
        tracked.touched = true;
        let total = self.totals.entry(level.product_id).or_default();
        total.0 += on_hand;
        total.1 += reserved;
    }

    /// The reservation held for `reference` at the level, loaded on first touch.
    pub fn hold(
        &mut self,
        tx: &mut dyn WriteTx,
        level: &Level,
        reference: &str,
    ) -> Result<&mut Hold> {
        let key = (level.product_id, level.location_id, reference.to_owned());
        if !self.holds.contains_key(&key) {
            let stored = tx.load_hold(&HoldKey {
                product: level.product_id,
                location_id: level.location_id,
                reference,
            })?;
            let hold = Hold {
                stored: stored.is_some(),
                quantity: stored.as_ref().map_or(0, |s| s.quantity),
                expires_at: stored.as_ref().and_then(|s| s.expires_at),
                owner: stored.and_then(|s| s.owner),
                continues: true,
                touched: false,
                updated_at: level.updated_at,
            };
            self.holds.insert(key.clone(), hold);
        }
        Ok(self.holds.get_mut(&key).expect("inserted above"))
    }

    /// Writes every touched row once.
    pub fn flush(&mut self, tx: &mut dyn WriteTx) -> Result<()> {
        for (_, tracked) in self.levels.drain() {
            match (tracked.touched, tracked.existed) {
                (false, _) => {}
                (true, true) => tx.update_level(&tracked.level)?,
                (true, false) => tx.insert_level(&tracked.level)?,
            }
        }
        // The totals exist for the low-stock index, which only holds products with a reorder
        // point; for the others the row is not written at all (one page less per commit).
        for (product, (on_hand, reserved)) in self.totals.drain() {
            if (on_hand != 0 || reserved != 0) && !self.without_totals.contains(&product) {
                tx.add_to_totals(product, on_hand, reserved)?;
            }
        }
        for ((product, location_id, reference), hold) in self.holds.drain() {
            let key = HoldKey {
                product,
                location_id,
                reference: &reference,
            };
            write_hold(tx, &key, &hold)?;
        }
        Ok(())
    }
}

impl Hold {
    /// Adds to the reservation, opening it if needed (owned by `owner`). A new expiry replaces
    /// the old one; `None` keeps it (a reservation opened anew starts without one).
    pub fn add(
        &mut self,
        quantity: i64,
        expires_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
        owner: Option<&str>,
    ) {
        if self.quantity == 0 {
            self.expires_at = None;
            self.owner = owner.map(str::to_owned);
        }
        self.quantity += quantity;
        self.expires_at = expires_at.or(self.expires_at);
        self.touched = true;
        self.updated_at = at;
    }

    /// Replaces the expiry of an open reservation.
    pub fn renew(&mut self, expires_at: DateTime<Utc>, at: DateTime<Utc>) {
        self.expires_at = Some(expires_at);
        self.touched = true;
        self.updated_at = at;
    }

    /// Takes from the reservation (the caller has checked it holds enough), closing it at zero.
    pub fn take(&mut self, quantity: i64, at: DateTime<Utc>) {
        self.quantity -= quantity;
        if self.quantity == 0 {
            self.continues = false;
        }
        self.touched = true;
        self.updated_at = at;
    }
}

/// Writes a reservation's final state for the command: a closed one is deleted, a reopened
/// one replaces its row, and an untouched one is left alone.
fn write_hold(tx: &mut dyn WriteTx, key: &HoldKey, hold: &Hold) -> Result<()> {
    let row = HoldRow {
        quantity: hold.quantity,
        expires_at: hold.expires_at,
        owner: hold.owner.clone(),
        updated_at: hold.updated_at,
    };
    match (hold.quantity, hold.stored, hold.continues) {
        (0, true, _) => tx.delete_hold(key),
        (0, false, _) => Ok(()),
        (_, true, true) if hold.touched => tx.update_hold(key, &row),
        (_, true, true) => Ok(()),
        (_, stored, _) => {
            if stored {
                tx.delete_hold(key)?;
            }
            tx.insert_hold(key, Uuid::now_v7(), &row)
        }
    }
}
