//! The statements of the write path. Everything here runs inside the writer's transaction.

use super::Sql;
use super::read::{LIVE_KEY_SQL, TILL_SELECT, key_row, parse_uuid, till_row};
use crate::clock::{from_text, to_text};
use crate::error::Result;
use crate::model::{ApiKey, Till};
use crate::store::rows::*;
use crate::store::sql::{
    ADD_TO_TOTALS, ARCHIVE_PRODUCT, DUE_SELECT, INSERT_REQUEST, INSERT_TILL_CONFLICT,
    UPDATE_PRODUCT,
};
use crate::store::tx::WriteTx;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

impl Sql<'_> {
    /// Gives a product the next catalogue revision, as each change does (docs/ENGINE.md): the
    /// writer is this process's only one, so `max + 1` is in commit order.
    fn revise(&mut self, id: Uuid) -> Result<()> {
        let mut stmt = self.0.prepare_cached(
            "UPDATE products SET revision = (SELECT max(revision) + 1 FROM products) WHERE id = ?1",
        )?;
        stmt.execute([id.to_string()])?;
        Ok(())
    }
}

impl WriteTx for Sql<'_> {
    fn lock_webhook(&mut self, id: Uuid) -> Result<Option<(crate::webhooks::Webhook, String)>> {
        // The writer's transaction is IMMEDIATE: the file's write lock covers every row.
        self.one_webhook(id)
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
        let mut stmt = self.0.prepare_cached(
            "SELECT p.ordinal, l.name, l.id, p.reorder_point IS NOT NULL,
                    (SELECT min(r.expires_at) FROM reservations r
                     WHERE r.product_id = p.id AND r.expires_at IS NOT NULL)
             FROM products p JOIN locations l ON l.id = p.location_id
             WHERE p.id = ?1 AND p.archived_at IS NULL",
        )?;
        Ok(stmt
            .query_row([id.to_string()], |r| {
                let earliest: Option<String> = r.get(4)?;
                Ok(StockTarget {
                    ordinal: r.get(0)?,
                    home: r.get(1)?,
                    home_id: r.get(2)?,
                    keeps_totals: r.get(3)?,
                    earliest_expiry: earliest.as_deref().map(from_text).transpose()?,
                })
            })
            .optional()?)
    }

    fn product_ever_existed(&mut self, id: Uuid) -> Result<bool> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT 1 FROM products WHERE id = ?1")?;
        Ok(stmt.exists([id.to_string()])?)
    }

    fn sku_taken(&mut self, sku: &str) -> Result<bool> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT 1 FROM products WHERE sku = ?1 AND archived_at IS NULL")?;
        Ok(stmt.exists([sku])?)
    }

    fn product_id_by_sku(&mut self, sku: &str) -> Result<Option<Uuid>> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT id FROM products WHERE sku = ?1 AND archived_at IS NULL")?;
        let id: Option<String> = stmt.query_row([sku], |r| r.get(0)).optional()?;
        Ok(id.as_deref().map(parse_uuid).transpose()?)
    }

    fn insert_product(&mut self, row: &NewProductRow) -> Result<i64> {
        let mut stmt = self.0.prepare_cached(
            "INSERT INTO products (id, name, description, sku, price, location_id, reorder_point, version,
                                   on_hand_total, reserved_total, created_at, updated_at, ordinal, revision)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, 0, 0, ?8, ?8,
                     (SELECT coalesce(max(ordinal), 0) + 1 FROM products),
                     (SELECT coalesce(max(revision), 0) + 1 FROM products))
             RETURNING ordinal",
        )?;
        Ok(stmt.query_row(
            params![
                row.id.to_string(),
                row.name,
                row.description,
                row.sku,
                row.price,
                row.location_id,
                row.reorder_point,
                row.at.text
            ],
            |r| r.get(0),
        )?)
    }

    fn update_product(&mut self, id: Uuid, row: &ProductUpdate) -> Result<()> {
        let mut stmt = self.0.prepare_cached(UPDATE_PRODUCT)?;
        stmt.execute(params![
            row.name,
            row.description,
            row.price,
            row.reorder_point,
            row.at.text,
            id.to_string()
        ])?;
        self.revise(id)
    }

    fn archive_product(&mut self, id: Uuid, now: &Stamp) -> Result<()> {
        let mut stmt = self.0.prepare_cached(ARCHIVE_PRODUCT)?;
        stmt.execute(params![now.text, id.to_string()])?;
        self.revise(id)
    }

    fn location_id(&mut self, name: &str) -> Result<Option<i64>> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT id FROM locations WHERE name = ?1")?;
        Ok(stmt.query_row([name], |r| r.get(0)).optional()?)
    }

    fn insert_location(&mut self, name: &str, now: &Stamp) -> Result<i64> {
        let mut stmt = self
            .0
            .prepare_cached("INSERT INTO locations (name, created_at) VALUES (?1, ?2)")?;
        stmt.execute(params![name, now.text])?;
        Ok(self.0.last_insert_rowid())
    }

    fn load_level(&mut self, product: Uuid, location_id: i64) -> Result<Option<StoredLevel>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT id, on_hand, reserved, created_at, updated_at FROM stock_levels
             WHERE product_id = ?1 AND location_id = ?2",
        )?;
        Ok(stmt
            .query_row(params![product.to_string(), location_id], |r| {
                Ok(StoredLevel {
                    id: parse_uuid(&r.get::<_, String>(0)?)?,
                    on_hand: r.get(1)?,
                    reserved: r.get(2)?,
                    created_at: from_text(&r.get::<_, String>(3)?)?,
                    updated_at: from_text(&r.get::<_, String>(4)?)?,
                })
            })
            .optional()?)
    }

    fn insert_level(&mut self, level: &Level) -> Result<()> {
        let mut stmt = self.0.prepare_cached(
            "INSERT INTO stock_levels (id, product_id, location_id, on_hand, reserved, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        stmt.execute(params![
            level.id.to_string(),
            level.product_id.to_string(),
            level.location_id,
            level.on_hand,
            level.reserved,
            to_text(level.created_at),
            to_text(level.updated_at)
        ])?;
        Ok(())
    }

    fn update_level(&mut self, level: &Level) -> Result<()> {
        let mut stmt = self.0.prepare_cached(
            "UPDATE stock_levels SET on_hand = ?1, reserved = ?2, updated_at = ?3
             WHERE product_id = ?4 AND location_id = ?5",
        )?;
        stmt.execute(params![
            level.on_hand,
            level.reserved,
            to_text(level.updated_at),
            level.product_id.to_string(),
            level.location_id
        ])?;
        Ok(())
    }

    fn add_to_totals(&mut self, product: Uuid, on_hand: i64, reserved: i64) -> Result<()> {
        let mut stmt = self.0.prepare_cached(ADD_TO_TOTALS)?;
        stmt.execute(params![on_hand, reserved, product.to_string()])?;
        Ok(())
    }

    fn load_hold(&mut self, key: &HoldKey) -> Result<Option<StoredHold>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT quantity, expires_at, owner FROM reservations
             WHERE product_id = ?1 AND location_id = ?2 AND reference = ?3",
        )?;
        let row: Option<(i64, Option<String>, Option<String>)> = stmt
            .query_row(
                params![key.product.to_string(), key.location_id, key.reference],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(match row {
            Some((quantity, expires_at, owner)) => Some(StoredHold {
                quantity,
                expires_at: expires_at.as_deref().map(from_text).transpose()?,
                owner,
            }),
            None => None,
        })
    }

    fn delete_hold(&mut self, key: &HoldKey) -> Result<()> {
        let mut stmt = self.0.prepare_cached(
            "DELETE FROM reservations WHERE product_id = ?1 AND location_id = ?2 AND reference = ?3",
        )?;
        stmt.execute(params![
            key.product.to_string(),
            key.location_id,
            key.reference
        ])?;
        Ok(())
    }

    fn update_hold(&mut self, key: &HoldKey, hold: &HoldRow) -> Result<()> {
        let mut stmt = self.0.prepare_cached(
            "UPDATE reservations SET quantity = ?4, expires_at = ?5, updated_at = ?6
             WHERE product_id = ?1 AND location_id = ?2 AND reference = ?3",
        )?;
        stmt.execute(params![
            key.product.to_string(),
            key.location_id,
            key.reference,
            hold.quantity,
            hold.expires_at.map(to_text),
            to_text(hold.updated_at)
        ])?;
        Ok(())
    }

    fn insert_hold(&mut self, key: &HoldKey, id: Uuid, hold: &HoldRow) -> Result<()> {
        let mut stmt = self.0.prepare_cached(
            "INSERT INTO reservations (id, product_id, location_id, reference, quantity, expires_at, created_at, updated_at, owner)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)",
        )?;
        stmt.execute(params![
            id.to_string(),
            key.product.to_string(),
            key.location_id,
            key.reference,
            hold.quantity,
            hold.expires_at.map(to_text),
            to_text(hold.updated_at),
            hold.owner
        ])?;
        Ok(())
    }

    fn due(&mut self, product: Option<Uuid>, now: &Stamp) -> Result<Vec<Due>> {
        let mut stmt = self.0.prepare_cached(DUE_SELECT)?;
        let rows = stmt.query_map(params![product.map(|p| p.to_string()), now.text], |r| {
            Ok(Due {
                product: parse_uuid(&r.get::<_, String>(0)?)?,
                ordinal: r.get(1)?,
                location_id: r.get(2)?,
                location: r.get(3)?,
                reference: r.get(4)?,
                quantity: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn append(&mut self, m: &NewMovement) -> Result<()> {
        let mut stmt = self.0.prepare_cached(
            "INSERT INTO movements (id, product_id, location_id, kind, quantity, on_hand_delta, reserved_delta,
                                    on_hand_after, reserved_after, reference, notes, transfer_id, created_at,
                                    product_ordinal, actor, external_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        )?;
        stmt.execute(params![
            m.id.to_string(),
            m.level.product_id.to_string(),
            m.level.location_id,
            m.kind.as_str(),
            m.quantity,
            m.on_hand_delta,
            m.reserved_delta,
            m.level.on_hand,
            m.level.reserved,
            m.reference,
            m.notes,
            m.transfer_id.map(|t| t.to_string()),
            m.at.text,
            m.level.product_ordinal,
            m.actor,
            m.external_id,
        ])?;
        Ok(())
    }

    fn find_request(&mut self, key: &str) -> Result<Option<(String, String)>> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT request, outcome FROM idempotency_keys WHERE key = ?1")?;
        Ok(stmt
            .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn store_request(&mut self, r: &NewRequest) -> Result<()> {
        let mut stmt = self.0.prepare_cached(INSERT_REQUEST)?;
        stmt.execute(params![r.key, r.request, r.outcome, r.at.text])?;
        Ok(())
    }

    fn forget_requests(&mut self, before: DateTime<Utc>) -> Result<()> {
        // Keys arrive in time order, so the expired ones are the rows before the first live
        // one: finding it reads only what is deleted.
        let mut stmt = self.0.prepare_cached(
            "DELETE FROM idempotency_keys WHERE id < coalesce(
                 (SELECT id FROM idempotency_keys WHERE created_at >= ?1 ORDER BY id LIMIT 1),
                 (SELECT max(id) + 1 FROM idempotency_keys))",
        )?;
        stmt.execute([to_text(before)])?;
        Ok(())
    }

    fn insert_key(&mut self, row: &NewKeyRow) -> Result<()> {
        let mut stmt = self.0.prepare_cached(
            "INSERT INTO api_keys (id, name, scope, locations, secret_sha256, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        stmt.execute(params![
            row.id.to_string(),
            row.name,
            row.scope.as_str(),
            row.locations.map(serde_json::to_string).transpose()?,
            row.secret_sha256,
            row.at.text
        ])?;
        Ok(())
    }

    fn live_key(&mut self, name: &str) -> Result<Option<ApiKey>> {
        let mut stmt = self.0.prepare_cached(LIVE_KEY_SQL)?;
        Ok(stmt.query_row([name], key_row).optional()?)
    }

    fn revoke_key(&mut self, name: &str, now: &Stamp) -> Result<()> {
        let mut stmt = self.0.prepare_cached(
            "UPDATE api_keys SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
        )?;
        stmt.execute(params![name, now.text])?;
        Ok(())
    }

    fn load_till(&mut self, id: &str) -> Result<Option<Till>> {
        let mut stmt = self
            .0
            .prepare_cached(&format!("{TILL_SELECT} WHERE id = ?1"))?;
        Ok(stmt.query_row([id], till_row).optional()?)
    }

    fn till_token(&mut self, id: &str) -> Result<Option<String>> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT token FROM tills WHERE id = ?1")?;
        Ok(stmt.query_row([id], |r| r.get(0)).optional()?)
    }

    fn insert_till(&mut self, till: &Till, token: &str) -> Result<()> {
        let mut stmt = self.0.prepare_cached(
            "INSERT INTO tills (id, key_name, instance_id, location, token, registered_at, last_sync_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        stmt.execute(params![
            till.id,
            till.key,
            till.instance_id,
            till.location,
            token,
            to_text(till.registered_at),
            to_text(till.last_sync_at)
        ])?;
        Ok(())
    }

    fn touch_till(&mut self, id: &str, token: &str, now: &Stamp) -> Result<()> {
        let mut stmt = self
            .0
            .prepare_cached("UPDATE tills SET last_sync_at = ?2, token = ?3 WHERE id = ?1")?;
        stmt.execute(params![id, now.text, token])?;
        Ok(())
    }

    fn delete_till(&mut self, id: &str) -> Result<()> {
        let mut stmt = self.0.prepare_cached("DELETE FROM tills WHERE id = ?1")?;
        stmt.execute([id])?;
        Ok(())
    }

    fn insert_till_conflict(&mut self, c: &NewTillConflict) -> Result<bool> {
        let mut stmt = self.0.prepare_cached(INSERT_TILL_CONFLICT)?;
        Ok(stmt.execute(params![c.reference, c.till_id, c.code, c.at.text])? == 1)
    }
}
