//! The statements of the write path. Everything here runs inside the writer's transaction, after
//! the group's locks are taken (see the module docs of `postgres`).

use super::read::{LIVE_KEY_SQL, TILL_SELECT, key_row, till_row};
use super::rows::{HoldState, KnownTarget};
use super::{PendingMovement, Pg};
use crate::error::Result;
use crate::model::{ApiKey, Till};
use crate::rules::expiry;
use crate::store::rows::*;
use crate::store::sql::{
    ADD_TO_TOTALS, ARCHIVE_PRODUCT, DUE_SELECT, INSERT_REQUEST, INSERT_TILL_CONFLICT,
    UPDATE_PRODUCT,
};
use crate::store::tx::WriteTx;
use chrono::{DateTime, Utc};
use uuid::Uuid;

impl WriteTx for Pg<'_> {
    fn lock_webhook(&mut self, id: Uuid) -> Result<Option<(crate::webhooks::Webhook, String)>> {
        self.locked_webhook(id)
    }

    fn insert_webhook(&mut self, webhook: &crate::webhooks::Webhook, secret: &str) -> Result<()> {
        self.add_webhook(webhook, secret)
    }

    fn update_webhook(&mut self, webhook: &crate::webhooks::Webhook) -> Result<()> {
        self.save_webhook(webhook)
    }

    fn delete_webhook(&mut self, id: Uuid) -> Result<()> {
        self.remove_webhook(id)
    }

    fn take_lease(&mut self, id: Uuid, owner: &str, until: &Stamp, now: &Stamp) -> Result<bool> {
        self.lease(id, owner, until, now)
    }

    fn insert_delivery(&mut self, row: &NewDelivery) -> Result<()> {
        self.log_delivery(row)
    }

    fn forget_deliveries(&mut self, before: &Stamp) -> Result<()> {
        self.forget_old_deliveries(before)
    }

    fn stock_target(&mut self, id: Uuid) -> Result<Option<StockTarget>> {
        // Every stock operation reaches its product through here first: the product's row lock
        // is what makes its check and change one step for every other process.
        self.lock_product(id)?;
        let known = match self.known.targets.get(&id) {
            Some(known) => known.clone(),
            None => {
                let Some(r) = self.query_opt(
                    "SELECT p.ordinal, l.name, l.id, p.reorder_point IS NOT NULL,
                            (SELECT min(r.expires_at) FROM reservations r WHERE r.product_id = p.id)
                     FROM products p JOIN locations l ON l.id = p.location_id
                     WHERE p.id = $1 AND p.archived_at IS NULL",
                    &[&id],
                )?
                else {
                    return Ok(None);
                };
                // Reservations this group changed count as they are now.
                let changed = self
                    .deferred
                    .holds
                    .iter()
                    .filter(|(key, _)| key.0 == id)
                    .filter_map(|(_, w)| w.state.as_ref()?.row.expires_at)
                    .min();
                let stored: Option<chrono::DateTime<chrono::Utc>> = self.get(&r, 4)?;
                let known = KnownTarget {
                    ordinal: self.get(&r, 0)?,
                    home: self.get(&r, 1)?,
                    home_id: self.get(&r, 2)?,
                    keeps_totals: self.get(&r, 3)?,
                    earliest_expiry: stored.into_iter().chain(changed).min(),
                };
                self.known.names.insert(known.home_id, known.home.clone());
                self.known.targets.insert(id, known.clone());
                known
            }
        };
        Ok(Some(StockTarget {
            ordinal: known.ordinal,
            home: known.home,
            home_id: known.home_id,
            keeps_totals: known.keeps_totals,
            earliest_expiry: known.earliest_expiry,
        }))
    }

    fn sku_taken(&mut self, sku: &str) -> Result<bool> {
        Ok(self
            .query_opt(
                "SELECT 1 FROM products WHERE sku COLLATE \"C\" = $1 AND archived_at IS NULL",
                &[&sku],
            )?
            .is_some())
    }

    fn product_id_by_sku(&mut self, sku: &str) -> Result<Option<Uuid>> {
        match self.query_opt(
            "SELECT id FROM products WHERE sku COLLATE \"C\" = $1 AND archived_at IS NULL",
            &[&sku],
        )? {
            Some(row) => self.get(&row, 0).map(Some),
            None => Ok(None),
        }
    }

    fn insert_product(&mut self, row: &NewProductRow) -> Result<i64> {
        self.writing()?;
        let r = self.query_one(
            "INSERT INTO products (id, name, description, sku, price, location_id, reorder_point, version,
                                   on_hand_total, reserved_total, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 0, 0, $8, $8)
             RETURNING ordinal",
            &[
                &row.id,
                &row.name,
                &row.description,
                &row.sku,
                &row.price,
                &row.location_id,
                &row.reorder_point,
                &row.at.at,
            ],
        )?;
        self.locked.insert(row.id);
        self.revised.push(row.id);
        self.get(&r, 0)
    }

    fn update_product(&mut self, id: Uuid, row: &ProductUpdate) -> Result<()> {
        self.writing()?;
        self.known.targets.remove(&id); // whether it keeps totals may change
        self.execute(
            UPDATE_PRODUCT,
            &[
                &row.name,
                &row.description,
                &row.price,
                &row.reorder_point,
                &row.at.at,
                &id,
            ],
        )?;
        self.revised.push(id);
        Ok(())
    }

    fn archive_product(&mut self, id: Uuid, now: &Stamp) -> Result<()> {
        self.writing()?;
        self.known.targets.remove(&id);
        self.execute(ARCHIVE_PRODUCT, &[&now.at, &id])?;
        self.revised.push(id);
        Ok(())
    }

    fn product_ever_existed(&mut self, id: Uuid) -> Result<bool> {
        Ok(self
            .query_opt("SELECT 1 FROM products WHERE id = $1", &[&id])?
            .is_some())
    }

    fn location_id(&mut self, name: &str) -> Result<Option<i64>> {
        // Locations are never renamed or deleted: an id found once holds for the transaction.
        if let Some(id) = self.known.ids.get(name) {
            return Ok(Some(*id));
        }
        match self.query_opt("SELECT id FROM locations WHERE name = $1", &[&name])? {
            Some(r) => {
                let id: i64 = self.get(&r, 0)?;
                self.known.ids.insert(name.to_owned(), id);
                self.known.names.insert(id, name.to_owned());
                Ok(Some(id))
            }
            None => Ok(None),
        }
    }

    fn insert_location(&mut self, name: &str, now: &Stamp) -> Result<i64> {
        self.writing()?;
        // Another process may create the same location at the same moment: the insert then
        // waits for it and, once it has committed, takes its row.
        if let Some(r) = self.query_opt(
            "INSERT INTO locations (name, created_at) VALUES ($1, $2)
             ON CONFLICT (name) DO NOTHING RETURNING id",
            &[&name, &now.at],
        )? {
            let id: i64 = self.get(&r, 0)?;
            self.known.names.insert(id, name.to_owned());
            return Ok(id);
        }
        let r = self.query_one("SELECT id FROM locations WHERE name = $1", &[&name])?;
        let id: i64 = self.get(&r, 0)?;
        self.known.names.insert(id, name.to_owned());
        Ok(id)
    }

    fn load_level(&mut self, product: Uuid, location_id: i64) -> Result<Option<StoredLevel>> {
        if let Some(level) = self.known.levels.get(&(product, location_id)) {
            return Ok(Some(level.clone()));
        }
        let Some(r) = self.query_opt(
            "SELECT id, on_hand, reserved, created_at, updated_at FROM stock_levels
             WHERE product_id = $1 AND location_id = $2",
            &[&product, &location_id],
        )?
        else {
            return Ok(None);
        };
        let level = StoredLevel {
            id: self.get(&r, 0)?,
            on_hand: self.get(&r, 1)?,
            reserved: self.get(&r, 2)?,
            created_at: self.get(&r, 3)?,
            updated_at: self.get(&r, 4)?,
        };
        self.loaded_level(product, location_id, &level);
        Ok(Some(level))
    }

    fn insert_level(&mut self, level: &Level) -> Result<()> {
        self.writing()?;
        self.execute(
            "INSERT INTO stock_levels (id, product_id, location_id, on_hand, reserved, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &level.id,
                &level.product_id,
                &level.location_id,
                &level.on_hand,
                &level.reserved,
                &level.created_at,
                &level.updated_at,
            ],
        )?;
        let stored = StoredLevel {
            id: level.id,
            on_hand: level.on_hand,
            reserved: level.reserved,
            created_at: level.created_at,
            updated_at: level.updated_at,
        };
        self.know_level(level.product_id, level.location_id, &stored);
        Ok(())
    }

    fn update_level(&mut self, level: &Level) -> Result<()> {
        if self.defer_level(level) {
            return Ok(());
        }
        self.writing()?;
        self.execute(
            "UPDATE stock_levels SET on_hand = $1, reserved = $2, updated_at = $3
             WHERE product_id = $4 AND location_id = $5",
            &[
                &level.on_hand,
                &level.reserved,
                &level.updated_at,
                &level.product_id,
                &level.location_id,
            ],
        )?;
        Ok(())
    }

    fn add_to_totals(&mut self, product: Uuid, on_hand: i64, reserved: i64) -> Result<()> {
        self.writing()?;
        self.execute(ADD_TO_TOTALS, &[&on_hand, &reserved, &product])?;
        Ok(())
    }

    fn load_hold(&mut self, key: &HoldKey) -> Result<Option<StoredHold>> {
        let cache_key = (key.product, key.location_id, key.reference.to_owned());
        if let Some(hold) = self.known.holds.get(&cache_key) {
            return Ok(hold.clone());
        }
        let hold = match self.query_opt(
            "SELECT quantity, expires_at, owner FROM reservations
             WHERE product_id = $1 AND location_id = $2 AND reference = $3",
            &[&key.product, &key.location_id, &key.reference],
        )? {
            Some(r) => Some(StoredHold {
                quantity: self.get(&r, 0)?,
                expires_at: self.get(&r, 1)?,
                owner: self.get(&r, 2)?,
            }),
            None => None,
        };
        self.loaded_hold(key, hold.clone());
        Ok(hold)
    }

    fn delete_hold(&mut self, key: &HoldKey) -> Result<()> {
        if self.defer_hold(key, None) {
            return Ok(());
        }
        self.writing()?;
        self.execute(
            "DELETE FROM reservations WHERE product_id = $1 AND location_id = $2 AND reference = $3",
            &[&key.product, &key.location_id, &key.reference],
        )?;
        Ok(())
    }

    fn update_hold(&mut self, key: &HoldKey, hold: &HoldRow) -> Result<()> {
        let state = HoldState {
            fresh: None,
            row: hold.clone(),
        };
        if self.defer_hold(key, Some(state)) {
            return Ok(());
        }
        self.writing()?;
        self.execute(
            "UPDATE reservations SET quantity = $4, expires_at = $5, updated_at = $6
             WHERE product_id = $1 AND location_id = $2 AND reference = $3",
            &[
                &key.product,
                &key.location_id,
                &key.reference,
                &hold.quantity,
                &hold.expires_at,
                &hold.updated_at,
            ],
        )?;
        Ok(())
    }

    fn insert_hold(&mut self, key: &HoldKey, id: Uuid, hold: &HoldRow) -> Result<()> {
        let state = HoldState {
            fresh: Some((id, hold.updated_at)),
            row: hold.clone(),
        };
        if self.defer_hold(key, Some(state)) {
            return Ok(());
        }
        self.writing()?;
        self.execute(
            "INSERT INTO reservations (id, product_id, location_id, reference, quantity, expires_at, created_at, updated_at, owner)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)",
            &[
                &id,
                &key.product,
                &key.location_id,
                &key.reference,
                &hold.quantity,
                &hold.expires_at,
                &hold.updated_at,
                &hold.owner,
            ],
        )?;
        Ok(())
    }

    fn due(&mut self, product: Option<Uuid>, now: &Stamp) -> Result<Vec<Due>> {
        let rows = self.query(DUE_SELECT, &[&product, &now.at])?;
        let mut due = Vec::with_capacity(rows.len());
        for r in &rows {
            let d = Due {
                product: self.get(r, 0)?,
                ordinal: self.get(r, 1)?,
                location_id: self.get(r, 2)?,
                location: self.get(r, 3)?,
                reference: self.get(r, 4)?,
                quantity: self.get(r, 5)?,
            };
            self.known.names.insert(d.location_id, d.location.clone());
            // Only a product whose row this transaction holds may be released here; one that
            // fell due after the group took its locks is the next sweep's. A reservation this
            // group has changed is taken as it is now, below.
            let id = (d.product, d.location_id, d.reference.clone());
            if self.locked.contains(&d.product) && !self.deferred.holds.contains_key(&id) {
                due.push(d);
            }
        }
        let changed: Vec<((Uuid, i64, String), i64)> = self
            .deferred
            .holds
            .iter()
            .filter_map(|(id, w)| {
                let s = w.state.as_ref()?;
                let expired = expiry::is_due(s.row.expires_at, now.at);
                (expired && product.is_none_or(|p| p == id.0)).then(|| (id.clone(), s.row.quantity))
            })
            .collect();
        for ((p, location_id, reference), quantity) in changed {
            let ordinal = match self.known.targets.get(&p) {
                Some(t) => t.ordinal,
                None => {
                    let r = self.query_one("SELECT ordinal FROM products WHERE id = $1", &[&p])?;
                    self.get(&r, 0)?
                }
            };
            let location = match self.known.names.get(&location_id) {
                Some(name) => name.clone(),
                None => {
                    let r = self
                        .query_one("SELECT name FROM locations WHERE id = $1", &[&location_id])?;
                    self.get(&r, 0)?
                }
            };
            due.push(Due {
                product: p,
                ordinal,
                location_id,
                location,
                reference,
                quantity,
            });
        }
        // The earliest expiry of these products is about to change.
        for d in &due {
            self.known.targets.remove(&d.product);
        }
        if let Some(p) = product {
            self.known.targets.remove(&p);
        }
        Ok(due)
    }

    fn append(&mut self, m: &NewMovement) -> Result<()> {
        self.movements.push(PendingMovement {
            id: m.id,
            product_id: m.level.product_id,
            location_id: m.level.location_id,
            kind: m.kind.as_str(),
            quantity: m.quantity,
            on_hand_delta: m.on_hand_delta,
            reserved_delta: m.reserved_delta,
            on_hand_after: m.level.on_hand,
            reserved_after: m.level.reserved,
            reference: m.reference.map(str::to_owned),
            notes: m.notes.map(str::to_owned),
            transfer_id: m.transfer_id,
            created_at: m.at.at,
            product_ordinal: m.level.product_ordinal,
            actor: m.actor.map(str::to_owned),
            external_id: m.external_id.map(str::to_owned),
        });
        Ok(())
    }

    fn find_request(&mut self, key: &str) -> Result<Option<(String, String)>> {
        match self.query_opt(
            "SELECT request, outcome FROM idempotency_keys WHERE key = $1",
            &[&key],
        )? {
            Some(r) => Ok(Some((self.get(&r, 0)?, self.get(&r, 1)?))),
            None => Ok(None),
        }
    }

    fn store_request(&mut self, r: &NewRequest) -> Result<()> {
        self.writing()?;
        self.execute(INSERT_REQUEST, &[&r.key, &r.request, &r.outcome, &r.at.at])?;
        Ok(())
    }

    fn forget_requests(&mut self, before: DateTime<Utc>) -> Result<()> {
        self.writing()?;
        self.execute(
            "DELETE FROM idempotency_keys WHERE created_at < $1",
            &[&before],
        )?;
        Ok(())
    }

    fn insert_key(&mut self, row: &NewKeyRow) -> Result<()> {
        self.writing()?;
        let locations = row.locations.map(serde_json::to_string).transpose()?;
        self.execute(
            "INSERT INTO api_keys (id, name, scope, locations, secret_sha256, created_at)
             VALUES ($1, $2, $3, $4::text::jsonb, $5, $6)",
            &[
                &row.id,
                &row.name,
                &row.scope.as_str(),
                &locations,
                &row.secret_sha256,
                &row.at.at,
            ],
        )?;
        Ok(())
    }

    fn live_key(&mut self, name: &str) -> Result<Option<ApiKey>> {
        self.row(LIVE_KEY_SQL, &[&name], key_row)
    }

    fn revoke_key(&mut self, name: &str, now: &Stamp) -> Result<()> {
        self.writing()?;
        self.execute(
            "UPDATE api_keys SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
            &[&name, &now.at],
        )?;
        Ok(())
    }

    fn load_till(&mut self, id: &str) -> Result<Option<Till>> {
        self.row(&format!("{TILL_SELECT} WHERE id = $1"), &[&id], till_row)
    }

    fn till_token(&mut self, id: &str) -> Result<Option<String>> {
        match self.query_opt("SELECT token FROM tills WHERE id = $1", &[&id])? {
            Some(row) => self.get(&row, 0).map(Some),
            None => Ok(None),
        }
    }

    fn insert_till(&mut self, till: &Till, token: &str) -> Result<()> {
        self.writing()?;
        self.execute(
            "INSERT INTO tills (id, key_name, instance_id, location, token, registered_at, last_sync_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &till.id,
                &till.key,
                &till.instance_id,
                &till.location,
                &token,
                &till.registered_at,
                &till.last_sync_at,
            ],
        )?;
        Ok(())
    }

    fn touch_till(&mut self, id: &str, token: &str, now: &Stamp) -> Result<()> {
        self.writing()?;
        self.execute(
            "UPDATE tills SET last_sync_at = $2, token = $3 WHERE id = $1",
            &[&id, &now.at, &token],
        )?;
        Ok(())
    }

    fn delete_till(&mut self, id: &str) -> Result<()> {
        self.writing()?;
        self.execute("DELETE FROM tills WHERE id = $1", &[&id])?;
        Ok(())
    }

    fn insert_till_conflict(&mut self, c: &NewTillConflict) -> Result<bool> {
        self.writing()?;
        let inserted = self.execute(
            INSERT_TILL_CONFLICT,
            &[&c.reference, &c.till_id, &c.code, &c.at.at],
        )?;
        Ok(inserted == 1)
    }
}
