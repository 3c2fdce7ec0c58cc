//! The rows of the products a writing transaction holds locked, kept by the transaction itself.
//! No other transaction can change them until it commits (every writer of a product's levels and
//! reservations holds its row lock), so within a group:
//! - each level, reservation and stock target is read from the database once (`Known`);
//! - changes to levels that exist and to reservations are not sent one statement at a time but
//!   kept (`Deferred`) and written at the end of the group in one statement per kind, so a
//!   command that only changes those (a reserve, an unreserve, a commit of stock on hand) costs
//!   no round trip at all once its product is known, and needs no savepoint: if it fails, its
//!   changes are taken back here (`Undo`).
//!
//! SQL that reads those tables inside the group must see the kept changes: `due` and `levels`
//! lay them over what they read, a stock target's earliest expiry takes them into account, and
//! every other command (creating or changing products, locations, keys, the sweep) writes them
//! out before it starts.

use super::Pg;
use crate::error::Result;
use crate::store::rows::{HoldKey, HoldRow, Level, StoredHold, StoredLevel};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use uuid::Uuid;

pub(crate) type HoldId = (Uuid, i64, String);

#[derive(Default)]
pub(crate) struct Known {
    pub targets: HashMap<Uuid, KnownTarget>,
    pub levels: HashMap<(Uuid, i64), StoredLevel>,
    /// `None`: known to have no row (or a deleted one).
    pub holds: HashMap<HoldId, Option<StoredHold>>,
    /// Location names by id, for reservations that exist only here.
    pub names: HashMap<i64, String>,
    /// Location ids by name, as read from the database.
    pub ids: HashMap<String, i64>,
}

/// A product's stock target, with the earliest expiry among its reservations: `due` is
/// derived from it at each command's "now" (a released reservation may leave it too early, which
/// only costs a look that finds nothing due).
#[derive(Clone)]
pub(crate) struct KnownTarget {
    pub ordinal: i64,
    pub home: String,
    pub home_id: i64,
    pub keeps_totals: bool,
    pub earliest_expiry: Option<DateTime<Utc>>,
}

/// A reservation's final state for the group.
#[derive(Clone)]
pub(crate) struct HoldWrite {
    /// Whether its row was in the database when the group first changed it.
    pub in_db: bool,
    /// `None`: deleted.
    pub state: Option<HoldState>,
}

#[derive(Clone)]
pub(crate) struct HoldState {
    /// A reservation opened in this group (new id, opened at that time), replacing any row.
    pub fresh: Option<(Uuid, DateTime<Utc>)>,
    pub row: HoldRow,
}

/// Changes kept for the end of the group.
#[derive(Default)]
pub(crate) struct Deferred {
    pub levels: HashMap<(Uuid, i64), Level>,
    pub holds: HashMap<HoldId, HoldWrite>,
}

impl Deferred {
    pub fn is_empty(&self) -> bool {
        self.levels.is_empty() && self.holds.is_empty()
    }
}

/// How to take back what the running command changed here.
pub(crate) enum Undo {
    Level((Uuid, i64), Option<StoredLevel>, Option<Level>),
    Hold(HoldId, Option<Option<StoredHold>>, Option<HoldWrite>),
}

fn hold_id(key: &HoldKey) -> HoldId {
    (key.product, key.location_id, key.reference.to_owned())
}

impl Pg<'_> {
    /// A level written now (a new row): remembered, and forgotten if the command fails.
    pub(super) fn know_level(&mut self, product: Uuid, location_id: i64, level: &StoredLevel) {
        if !self.locked.contains(&product) {
            return;
        }
        let key = (product, location_id);
        let before = self.known.levels.insert(key, level.clone());
        let deferred = self.deferred.levels.get(&key).cloned();
        self.undo.push(Undo::Level(key, before, deferred));
    }

    /// A level read from the database.
    pub(super) fn loaded_level(&mut self, product: Uuid, location_id: i64, level: &StoredLevel) {
        if self.locked.contains(&product) {
            self.known
                .levels
                .insert((product, location_id), level.clone());
        }
    }

    /// A reservation (or its absence) read from the database.
    pub(super) fn loaded_hold(&mut self, key: &HoldKey, hold: Option<StoredHold>) {
        if self.locked.contains(&key.product) {
            self.known.holds.insert(hold_id(key), hold);
        }
    }

    /// Keeps an existing level's new state for the end of the group. Only locked products' rows
    /// are kept (every row the rules change is one).
    pub(super) fn defer_level(&mut self, level: &Level) -> bool {
        if !self.locked.contains(&level.product_id) {
            return false;
        }
        let key = (level.product_id, level.location_id);
        let stored = StoredLevel {
            id: level.id,
            on_hand: level.on_hand,
            reserved: level.reserved,
            created_at: level.created_at,
            updated_at: level.updated_at,
        };
        let before = self.known.levels.insert(key, stored);
        let deferred = self.deferred.levels.insert(key, level.clone());
        self.undo.push(Undo::Level(key, before, deferred));
        true
    }

    /// Keeps a reservation's new state (`None`: deleted; `fresh`: opened anew) for the end of
    /// the group. Only reservations this transaction has read are kept (every one the rules
    /// change is: they read it first).
    pub(super) fn defer_hold(&mut self, key: &HoldKey, state: Option<HoldState>) -> bool {
        let id = hold_id(key);
        let Some(known) = self.known.holds.get(&id).cloned() else {
            return false;
        };
        if !self.locked.contains(&key.product) {
            return false;
        }
        let previous = self.deferred.holds.get(&id).cloned();
        let in_db = previous.as_ref().map_or(known.is_some(), |p| p.in_db);
        // A reservation opened in this group keeps its id and opening time through later
        // changes in the group.
        let state = state.map(|mut s| {
            if s.fresh.is_none() {
                s.fresh = previous
                    .as_ref()
                    .and_then(|p| p.state.as_ref())
                    .and_then(|p| p.fresh);
            }
            s
        });
        let stored = state.as_ref().map(|s| StoredHold {
            quantity: s.row.quantity,
            expires_at: s.row.expires_at,
            owner: s.row.owner.clone(),
        });
        if let (Some(e), Some(target)) = (
            state.as_ref().and_then(|s| s.row.expires_at),
            self.known.targets.get_mut(&key.product),
        ) {
            target.earliest_expiry = Some(target.earliest_expiry.map_or(e, |t| t.min(e)));
        }
        self.known.holds.insert(id.clone(), stored);
        self.deferred
            .holds
            .insert(id.clone(), HoldWrite { in_db, state });
        self.undo.push(Undo::Hold(id, Some(known), previous));
        true
    }

    /// The running command succeeded: what it kept stays.
    pub(super) fn keep_command(&mut self) {
        self.undo.clear();
    }

    /// The running command failed: takes back what it kept, newest first.
    pub(super) fn undo_command(&mut self) {
        while let Some(undo) = self.undo.pop() {
            match undo {
                Undo::Level(key, known, deferred) => {
                    restore(&mut self.known.levels, key, known);
                    restore(&mut self.deferred.levels, key, deferred);
                }
                Undo::Hold(id, known, deferred) => {
                    restore(&mut self.known.holds, id.clone(), known);
                    restore(&mut self.deferred.holds, id, deferred);
                }
            }
        }
    }

    /// Forgets everything about a product whose lock was given back (a rolled-back savepoint
    /// took it).
    pub(super) fn forget_product(&mut self, id: Uuid) {
        self.known.targets.remove(&id);
        self.known.levels.retain(|(p, _), _| *p != id);
        self.known.holds.retain(|(p, _, _), _| *p != id);
    }

    /// Writes every kept change: deleted and replaced reservations go, new ones are inserted,
    /// changed ones and levels are updated, one statement each.
    pub(super) fn flush_deferred(&mut self) -> Result<()> {
        if self.deferred.is_empty() {
            return Ok(());
        }
        let holds: Vec<(HoldId, HoldWrite)> = self.deferred.holds.drain().collect();
        let levels: Vec<Level> = self.deferred.levels.drain().map(|(_, l)| l).collect();
        let gone: Vec<&HoldId> = holds
            .iter()
            .filter(|(_, w)| w.in_db && w.state.as_ref().is_none_or(|s| s.fresh.is_some()))
            .map(|(id, _)| id)
            .collect();
        if !gone.is_empty() {
            let (p, l, r) = key_columns(&gone);
            self.execute(
                "DELETE FROM reservations r USING unnest($1::uuid[], $2::int8[], $3::text[]) AS d(p, l, ref)
                 WHERE r.product_id = d.p AND r.location_id = d.l AND r.reference = d.ref",
                &[&p, &l, &r],
            )?;
        }
        let fresh: Vec<(&HoldId, &HoldState, Uuid, DateTime<Utc>)> = holds
            .iter()
            .filter_map(|(id, w)| {
                let s = w.state.as_ref()?;
                let (new_id, opened) = s.fresh?;
                Some((id, s, new_id, opened))
            })
            .collect();
        if !fresh.is_empty() {
            let keys: Vec<&HoldId> = fresh.iter().map(|f| f.0).collect();
            let (p, l, r) = key_columns(&keys);
            let ids: Vec<Uuid> = fresh.iter().map(|f| f.2).collect();
            let opened: Vec<DateTime<Utc>> = fresh.iter().map(|f| f.3).collect();
            let (q, e, t) = row_columns(fresh.iter().map(|f| f.1));
            let owners: Vec<Option<&str>> =
                fresh.iter().map(|f| f.1.row.owner.as_deref()).collect();
            self.execute(
                "INSERT INTO reservations (id, product_id, location_id, reference, quantity, expires_at,
                                           created_at, updated_at, owner)
                 SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int8[], $4::text[], $5::int8[],
                                      $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], $9::text[])",
                &[&ids, &p, &l, &r, &q, &e, &opened, &t, &owners],
            )?;
        }
        let changed: Vec<(&HoldId, &HoldState)> = holds
            .iter()
            .filter_map(|(id, w)| {
                let s = w.state.as_ref()?;
                (w.in_db && s.fresh.is_none()).then_some((id, s))
            })
            .collect();
        if !changed.is_empty() {
            let keys: Vec<&HoldId> = changed.iter().map(|c| c.0).collect();
            let (p, l, r) = key_columns(&keys);
            let (q, e, t) = row_columns(changed.iter().map(|c| c.1));
            self.execute(
                "UPDATE reservations r SET quantity = u.q, expires_at = u.e, updated_at = u.t
                 FROM unnest($1::uuid[], $2::int8[], $3::text[], $4::int8[], $5::timestamptz[],
                             $6::timestamptz[]) AS u(p, l, ref, q, e, t)
                 WHERE r.product_id = u.p AND r.location_id = u.l AND r.reference = u.ref",
                &[&p, &l, &r, &q, &e, &t],
            )?;
        }
        if !levels.is_empty() {
            let p: Vec<Uuid> = levels.iter().map(|l| l.product_id).collect();
            let l: Vec<i64> = levels.iter().map(|l| l.location_id).collect();
            let h: Vec<i64> = levels.iter().map(|l| l.on_hand).collect();
            let r: Vec<i64> = levels.iter().map(|l| l.reserved).collect();
            let t: Vec<DateTime<Utc>> = levels.iter().map(|l| l.updated_at).collect();
            self.execute(
                "UPDATE stock_levels s SET on_hand = u.h, reserved = u.r, updated_at = u.t
                 FROM unnest($1::uuid[], $2::int8[], $3::int8[], $4::int8[], $5::timestamptz[])
                      AS u(p, l, h, r, t)
                 WHERE s.product_id = u.p AND s.location_id = u.l",
                &[&p, &l, &h, &r, &t],
            )?;
        }
        Ok(())
    }
}

fn restore<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, key: K, value: Option<V>) {
    match value {
        Some(v) => map.insert(key, v),
        None => map.remove(&key),
    };
}

fn key_columns(keys: &[&HoldId]) -> (Vec<Uuid>, Vec<i64>, Vec<String>) {
    (
        keys.iter().map(|k| k.0).collect(),
        keys.iter().map(|k| k.1).collect(),
        keys.iter().map(|k| k.2.clone()).collect(),
    )
}

#[allow(clippy::type_complexity)]
fn row_columns<'a>(
    states: impl Iterator<Item = &'a HoldState>,
) -> (Vec<i64>, Vec<Option<DateTime<Utc>>>, Vec<DateTime<Utc>>) {
    let mut columns = (Vec::new(), Vec::new(), Vec::new());
    for s in states {
        columns.0.push(s.row.quantity);
        columns.1.push(s.row.expires_at);
        columns.2.push(s.row.updated_at);
    }
    columns
}
