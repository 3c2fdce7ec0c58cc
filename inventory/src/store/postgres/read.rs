//! Reads, on pooled read connections and inside the write path. Text that is ordered or
//! prefix-searched is compared `COLLATE "C"` (bytes), as SQLite compares it.

use super::Pg;
use crate::error::{Error, Result};
use crate::model::{
    ApiKey, CatalogueEntry, DatabaseIdentity, Location, Movement, MovementKind, Product,
    Reservation, Scope, StockLevel, Till,
};
use crate::money::Price;
use crate::store::prefix_end;
use crate::store::rows::{HistoryFilter, ProductFilter, Stamp};
use crate::store::sql::{
    ANY_DUE, ANY_DUE_OF, LOW_STOCK, MOVEMENT_SELECT, PRODUCT_COLUMNS, RESERVATION_SELECT,
};
use crate::store::tx::ReadTx;
use postgres::Row;
use postgres::types::ToSql;
use uuid::Uuid;

/// `name` folded as SQLite's NOCASE folds it (ASCII letters only); the expression of the
/// products_live_name index.
const FOLDED_NAME: &str =
    "translate(p.name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') COLLATE \"C\"";

fn product_row(pg: &Pg, r: &Row) -> Result<Product> {
    Ok(Product {
        id: pg.get(r, 0)?,
        name: pg.get(r, 1)?,
        description: pg.get(r, 2)?,
        sku: pg.get(r, 3)?,
        price: pg.get::<Price>(r, 4)?,
        location: pg.get(r, 5)?,
        reorder_point: pg.get(r, 6)?,
        version: pg.get(r, 7)?,
        created_at: pg.get(r, 8)?,
        updated_at: pg.get(r, 9)?,
    })
}

fn movement_row(pg: &Pg, r: &Row) -> Result<Movement> {
    let kind: String = pg.get(r, 5)?;
    Ok(Movement {
        seq: pg.get(r, 0)?,
        id: pg.get(r, 1)?,
        inventory_id: pg.get(r, 2)?,
        product_id: pg.get(r, 3)?,
        location: pg.get(r, 4)?,
        kind: MovementKind::parse(&kind)
            .ok_or_else(|| Error::storage(format!("unknown movement kind {kind}")))?,
        quantity: pg.get(r, 6)?,
        on_hand_after: pg.get(r, 7)?,
        reserved_after: pg.get(r, 8)?,
        reference: pg.get(r, 9)?,
        notes: pg.get(r, 10)?,
        transfer_id: pg.get(r, 11)?,
        created_at: pg.get(r, 12)?,
        actor: pg.get(r, 13)?,
        external_id: pg.get(r, 14)?,
    })
}

const LOCATION_SELECT: &str = "SELECT l.name, l.created_at, coalesce(sum(s.on_hand), 0)::bigint,
        coalesce(sum(s.reserved), 0)::bigint, count(s.product_id)
    FROM locations l
    LEFT JOIN stock_levels s ON s.location_id = l.id
        AND s.product_id IN (SELECT id FROM products WHERE archived_at IS NULL)";

fn location_row(pg: &Pg, r: &Row) -> Result<Location> {
    let (on_hand, reserved): (i64, i64) = (pg.get(r, 2)?, pg.get(r, 3)?);
    Ok(Location {
        name: pg.get(r, 0)?,
        created_at: pg.get(r, 1)?,
        on_hand,
        reserved,
        available: on_hand - reserved,
        products: pg.get(r, 4)?,
    })
}

fn reservation_row(pg: &Pg, r: &Row) -> Result<Reservation> {
    Ok(Reservation {
        id: pg.get(r, 0)?,
        product_id: pg.get(r, 1)?,
        location: pg.get(r, 2)?,
        reference: pg.get(r, 3)?,
        quantity: pg.get(r, 4)?,
        expires_at: pg.get(r, 5)?,
        created_at: pg.get(r, 6)?,
        updated_at: pg.get(r, 7)?,
        owner: pg.get(r, 8)?,
    })
}

const KEY_SELECT: &str =
    "SELECT name, scope, locations::text, created_at, revoked_at, secret_sha256 FROM api_keys";

pub(crate) fn key_row(pg: &Pg, r: &Row) -> Result<ApiKey> {
    let scope: String = pg.get(r, 1)?;
    let locations: Option<String> = pg.get(r, 2)?;
    Ok(ApiKey {
        name: pg.get(r, 0)?,
        scope: Scope::parse(&scope)
            .ok_or_else(|| Error::storage(format!("unknown scope {scope}")))?,
        locations: locations.map(|l| serde_json::from_str(&l)).transpose()?,
        created_at: pg.get(r, 3)?,
        revoked_at: pg.get(r, 4)?,
    })
}

pub(crate) const TILL_SELECT: &str =
    "SELECT id, key_name, instance_id, location, registered_at, last_sync_at FROM tills";

pub(crate) fn till_row(pg: &Pg, r: &Row) -> Result<Till> {
    Ok(Till {
        id: pg.get(r, 0)?,
        key: pg.get(r, 1)?,
        instance_id: pg.get(r, 2)?,
        location: pg.get(r, 3)?,
        registered_at: pg.get(r, 4)?,
        last_sync_at: pg.get(r, 5)?,
    })
}

pub(crate) const LIVE_KEY_SQL: &str = "SELECT name, scope, locations::text, created_at, revoked_at, secret_sha256 FROM api_keys WHERE name = $1 AND revoked_at IS NULL";

impl Pg<'_> {
    pub(super) fn rows<T>(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        each: fn(&Pg, &Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        let rows = self.query(sql, params)?;
        rows.iter().map(|r| each(self, r)).collect()
    }

    pub(super) fn row<T>(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        each: fn(&Pg, &Row) -> Result<T>,
    ) -> Result<Option<T>> {
        match self.query_opt(sql, params)? {
            Some(r) => each(self, &r).map(Some),
            None => Ok(None),
        }
    }
}

/// `low <= column < high` (no upper bound without `high`), its parameters pushed onto `params`.
fn range<'a>(
    params: &mut Vec<&'a (dyn ToSql + Sync)>,
    column: &str,
    low: &'a (dyn ToSql + Sync),
    high: &'a Option<String>,
) -> String {
    params.push(low);
    let mut cond = format!("{column} >= ${}", params.len());
    if let Some(high) = high {
        params.push(high);
        cond.push_str(&format!(" AND {column} < ${}", params.len()));
    }
    cond
}

impl ReadTx for Pg<'_> {
    fn webhooks(&mut self) -> Result<Vec<(crate::webhooks::Webhook, String)>> {
        self.all_webhooks()
    }

    fn deliveries(
        &mut self,
        webhook: Uuid,
        event: Option<i64>,
        limit: i64,
    ) -> Result<Vec<crate::webhooks::Delivery>> {
        self.webhook_deliveries(webhook, event, limit)
    }

    fn product(&mut self, id: Uuid) -> Result<Option<Product>> {
        self.row(
            &format!(
                "SELECT {PRODUCT_COLUMNS} FROM products p JOIN locations l ON l.id = p.location_id
                 WHERE p.id = $1 AND p.archived_at IS NULL"
            ),
            &[&id],
            product_row,
        )
    }

    fn levels(&mut self, product_id: Uuid) -> Result<Vec<StockLevel>> {
        let rows = self.query(
            "SELECT s.id, l.name, s.on_hand, s.reserved, s.created_at, s.updated_at, s.location_id
             FROM stock_levels s JOIN locations l ON l.id = s.location_id
             WHERE s.product_id = $1 ORDER BY l.name COLLATE \"C\"",
            &[&product_id],
        )?;
        rows.iter()
            .map(|r| {
                let mut level = StockLevel {
                    id: self.get(r, 0)?,
                    product_id,
                    location: self.get(r, 1)?,
                    on_hand: self.get(r, 2)?,
                    reserved: self.get(r, 3)?,
                    available: 0,
                    created_at: self.get(r, 4)?,
                    updated_at: self.get(r, 5)?,
                };
                // In a writing transaction, a level changed earlier in the group is as it is now.
                let location_id: i64 = self.get(r, 6)?;
                if let Some(kept) = self.deferred.levels.get(&(product_id, location_id)) {
                    level.on_hand = kept.on_hand;
                    level.reserved = kept.reserved;
                    level.updated_at = kept.updated_at;
                }
                level.available = level.on_hand - level.reserved;
                Ok(level)
            })
            .collect()
    }

    fn list_products(&mut self, filter: &ProductFilter) -> Result<Vec<Product>> {
        let mut sql = format!(
            "SELECT {PRODUCT_COLUMNS} FROM products p JOIN locations l ON l.id = p.location_id
             WHERE p.archived_at IS NULL"
        );
        if filter.low_stock {
            sql.push_str(" AND ");
            sql.push_str(LOW_STOCK);
        }
        let name = filter.q.map(str::to_ascii_lowercase);
        let sku_high = filter.q.and_then(prefix_end);
        let name_high = name.as_deref().and_then(prefix_end);
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::new();
        if let (Some(q), Some(name)) = (&filter.q, &name) {
            // Each side is a range of its index: the SKU exactly, the name folded.
            let sku = range(&mut params, "p.sku COLLATE \"C\"", q, &sku_high);
            let folded = range(&mut params, FOLDED_NAME, name, &name_high);
            sql.push_str(&format!(" AND (({sku}) OR ({folded}))"));
        }
        params.push(&filter.limit);
        params.push(&filter.offset);
        sql.push_str(&format!(
            " ORDER BY p.id LIMIT ${} OFFSET ${}",
            params.len() - 1,
            params.len()
        ));
        self.rows(&sql, &params, product_row)
    }

    fn movements(&mut self, id: Uuid, filter: &HistoryFilter) -> Result<Vec<Movement>> {
        self.rows(
            &format!(
                "{MOVEMENT_SELECT}
                 WHERE m.product_ordinal = (SELECT ordinal FROM products WHERE id = $1)
                   AND m.seq > $2 AND m.seq < $3 AND ($4::text IS NULL OR l.name = $4)
                 ORDER BY m.seq DESC LIMIT $5 OFFSET $6"
            ),
            &[
                &id,
                &filter.after,
                &filter.before,
                &filter.location,
                &filter.limit,
                &filter.offset,
            ],
            movement_row,
        )
    }

    fn changes(&mut self, after: i64, limit: i64) -> Result<Vec<Movement>> {
        // Sequence numbers are handed out in commit order (see the module docs), so every
        // movement above the cursor that any later read can see is also visible now, or not
        // committed yet and numbered above everything visible.
        self.rows(
            &format!("{MOVEMENT_SELECT} WHERE m.seq > $1 ORDER BY m.seq LIMIT $2"),
            &[&after, &limit],
            movement_row,
        )
    }

    fn last_seq(&mut self) -> Result<i64> {
        let row = self.query_one("SELECT last FROM feed_counter", &[])?;
        self.get(&row, 0)
    }

    fn locations(&mut self) -> Result<Vec<Location>> {
        self.rows(
            &format!("{LOCATION_SELECT} GROUP BY l.id ORDER BY l.name COLLATE \"C\""),
            &[],
            location_row,
        )
    }

    fn location(&mut self, name: &str) -> Result<Option<Location>> {
        self.row(
            &format!("{LOCATION_SELECT} WHERE l.name = $1 GROUP BY l.id"),
            &[&name],
            location_row,
        )
    }

    fn reservations_of(&mut self, id: Uuid) -> Result<Vec<Reservation>> {
        self.rows(
            &format!(
                "{RESERVATION_SELECT} WHERE r.product_id = $1
                 ORDER BY l.name COLLATE \"C\", r.reference COLLATE \"C\""
            ),
            &[&id],
            reservation_row,
        )
    }

    fn reservations_by_reference(&mut self, reference: &str) -> Result<Vec<Reservation>> {
        self.rows(
            &format!(
                "{RESERVATION_SELECT} WHERE r.reference = $1 AND r.reference <> ''
                   AND r.product_id IN (SELECT id FROM products WHERE archived_at IS NULL)
                 ORDER BY r.product_id, l.name COLLATE \"C\""
            ),
            &[&reference],
            reservation_row,
        )
    }

    fn reservations_expiring(&mut self, before: &Stamp, limit: i64) -> Result<Vec<Reservation>> {
        self.rows(
            &format!(
                "{RESERVATION_SELECT} WHERE r.expires_at IS NOT NULL AND r.expires_at < $1
                   AND r.product_id IN (SELECT id FROM products WHERE archived_at IS NULL)
                 ORDER BY r.expires_at, r.id LIMIT $2"
            ),
            &[&before.at, &limit],
            reservation_row,
        )
    }

    fn any_due(&mut self, product: Option<Uuid>, now: &Stamp) -> Result<bool> {
        let row = match product {
            Some(id) => self.query_opt(ANY_DUE_OF, &[&id, &now.at])?,
            None => self.query_opt(ANY_DUE, &[&now.at])?,
        };
        Ok(row.is_some())
    }

    fn products_after(&mut self, after: Option<Uuid>, limit: i64) -> Result<Vec<Product>> {
        self.rows(
            &format!(
                "SELECT {PRODUCT_COLUMNS} FROM products p JOIN locations l ON l.id = p.location_id
                 WHERE ($1::uuid IS NULL OR p.id > $1) AND p.archived_at IS NULL
                 ORDER BY p.id LIMIT $2"
            ),
            &[&after, &limit],
            product_row,
        )
    }

    fn catalogue(&mut self, after: i64, limit: i64) -> Result<Vec<CatalogueEntry>> {
        self.rows(
            &format!(
                "SELECT {PRODUCT_COLUMNS}, p.archived_at, p.revision
                 FROM products p JOIN locations l ON l.id = p.location_id
                 WHERE p.revision > $1 ORDER BY p.revision LIMIT $2"
            ),
            &[&after, &limit],
            |pg, r| {
                Ok(CatalogueEntry {
                    product: product_row(pg, r)?,
                    archived_at: pg.get(r, 10)?,
                    revision: pg.get(r, 11)?,
                })
            },
        )
    }

    fn open_reservations(&mut self) -> Result<i64> {
        let row = self.query_one("SELECT count(*) FROM reservations", &[])?;
        self.get(&row, 0)
    }

    fn api_keys(&mut self) -> Result<Vec<(ApiKey, String)>> {
        self.rows(
            &format!("{KEY_SELECT} ORDER BY created_at, name COLLATE \"C\""),
            &[],
            |pg, r| Ok((key_row(pg, r)?, pg.get(r, 5)?)),
        )
    }

    fn tills(&mut self) -> Result<Vec<Till>> {
        self.rows(
            &format!("{TILL_SELECT} ORDER BY id COLLATE \"C\""),
            &[],
            till_row,
        )
    }

    fn identity(&mut self) -> Result<DatabaseIdentity> {
        let row = self.query_one("SELECT id, generation FROM database_identity", &[])?;
        Ok(DatabaseIdentity {
            id: self.get(&row, 0)?,
            generation: self.get(&row, 1)?,
        })
    }

    fn verify(&mut self) -> Result<Vec<String>> {
        super::verify::problems(self)
    }
}
