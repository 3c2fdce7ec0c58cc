//! Reads, on pooled read connections (WAL readers never block the writer) and inside the write
//! path.

use super::Sql;
use crate::clock::from_text;
use crate::error::Result;
use crate::model::{
    ApiKey, CatalogueEntry, DatabaseIdentity, Location, Movement, MovementKind, Product,
    Reservation, Scope, StockLevel, Till,
};
use crate::store::prefix_end;
use crate::store::rows::{HistoryFilter, ProductFilter, Stamp};
use crate::store::sql::{
    ANY_DUE, ANY_DUE_OF, LOW_STOCK, MOVEMENT_SELECT, PRODUCT_COLUMNS, RESERVATION_SELECT,
};
use crate::store::tx::ReadTx;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

pub(crate) fn parse_uuid(s: &str) -> rusqlite::Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn product_row(r: &Row) -> rusqlite::Result<Product> {
    Ok(Product {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        name: r.get(1)?,
        description: r.get(2)?,
        sku: r.get(3)?,
        price: r.get(4)?,
        location: r.get(5)?,
        reorder_point: r.get(6)?,
        version: r.get(7)?,
        created_at: from_text(&r.get::<_, String>(8)?)?,
        updated_at: from_text(&r.get::<_, String>(9)?)?,
    })
}

/// A prefix match on one indexed column: `column >= prefix AND column < prefix_end(prefix)`.
struct PrefixRange {
    column: &'static str,
    collate: &'static str,
    low: String,
    high: Option<String>,
}

impl PrefixRange {
    fn new(column: &'static str, collate: &'static str, prefix: String) -> Self {
        let high = prefix_end(&prefix);
        PrefixRange {
            column,
            collate,
            low: prefix,
            high,
        }
    }

    /// The condition on `alias.column`, pushing its parameters onto `args` in order.
    fn condition(&self, alias: &str, args: &mut Vec<Value>) -> String {
        let (column, collate) = (self.column, self.collate);
        args.push(Value::Text(self.low.clone()));
        let mut sql = format!("{alias}{column} >= ?{collate}");
        if let Some(high) = &self.high {
            args.push(Value::Text(high.clone()));
            sql.push_str(&format!(" AND {alias}{column} < ?{collate}"));
        }
        sql
    }

    /// How many live products match, counting no further than `cap` (an index range scan).
    fn count_capped(&self, conn: &Connection, cap: i64) -> Result<i64> {
        let mut args = Vec::new();
        let sql = format!(
            "SELECT count(*) FROM (SELECT 1 FROM products WHERE archived_at IS NULL AND {} LIMIT {cap})",
            self.condition("", &mut args)
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        Ok(stmt.query_row(rusqlite::params_from_iter(&args), |r| r.get(0))?)
    }
}

/// Up to this many matches, a prefix search is driven by the SKU and name indexes and its
/// matches sorted into id order; beyond it, matches are dense enough that walking products in id
/// order fills a page sooner than sorting them all.
const INDEXED_SEARCH_LIMIT: i64 = 200;

/// The SQL and parameters of a product listing.
fn product_query(conn: &Connection, query: &ProductFilter) -> Result<(String, Vec<Value>)> {
    let mut sql = format!(
        "SELECT {PRODUCT_COLUMNS} FROM products p JOIN locations l ON l.id = p.location_id WHERE p.archived_at IS NULL"
    );
    let mut args: Vec<Value> = Vec::new();
    if query.low_stock {
        sql.push_str(" AND ");
        sql.push_str(LOW_STOCK);
    }
    if let Some(q) = query.q {
        let sku = PrefixRange::new("sku", "", q.to_owned());
        let name = PrefixRange::new("name", " COLLATE NOCASE", q.to_ascii_lowercase());
        let cap = INDEXED_SEARCH_LIMIT + 1;
        if sku.count_capped(conn, cap)? + name.count_capped(conn, cap)? <= INDEXED_SEARCH_LIMIT {
            sql.push_str(&format!(
                " AND p.id IN (SELECT id FROM products WHERE archived_at IS NULL AND {}
                               UNION SELECT id FROM products WHERE archived_at IS NULL AND {})",
                sku.condition("", &mut args),
                name.condition("", &mut args)
            ));
        } else {
            sql.push_str(&format!(
                " AND (({}) OR ({}))",
                sku.condition("p.", &mut args),
                name.condition("p.", &mut args)
            ));
        }
    }
    sql.push_str(" ORDER BY p.id LIMIT ? OFFSET ?");
    args.extend([Value::Integer(query.limit), Value::Integer(query.offset)]);
    Ok((sql, args))
}

fn movement_row(r: &Row) -> rusqlite::Result<Movement> {
    let kind: String = r.get(5)?;
    Ok(Movement {
        seq: r.get(0)?,
        id: parse_uuid(&r.get::<_, String>(1)?)?,
        inventory_id: parse_uuid(&r.get::<_, String>(2)?)?,
        product_id: parse_uuid(&r.get::<_, String>(3)?)?,
        location: r.get(4)?,
        kind: MovementKind::parse(&kind).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                5,
                rusqlite::types::Type::Text,
                format!("unknown movement kind {kind}").into(),
            )
        })?,
        quantity: r.get(6)?,
        on_hand_after: r.get(7)?,
        reserved_after: r.get(8)?,
        reference: r.get(9)?,
        notes: r.get(10)?,
        transfer_id: r
            .get::<_, Option<String>>(11)?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
        created_at: from_text(&r.get::<_, String>(12)?)?,
        actor: r.get(13)?,
        external_id: r.get(14)?,
    })
}

/// A product's history, newest first, read from the (product number, seq) index.
fn history_sql() -> String {
    format!(
        "{MOVEMENT_SELECT}
         WHERE m.product_ordinal = (SELECT ordinal FROM products WHERE id = ?1)
           AND m.seq > ?2 AND m.seq < ?3 AND (?4 IS NULL OR l.name = ?4)
         ORDER BY m.seq DESC LIMIT ?5 OFFSET ?6"
    )
}

const LOCATION_SELECT: &str = "SELECT l.name, l.created_at, coalesce(sum(s.on_hand), 0), coalesce(sum(s.reserved), 0), count(s.product_id)
    FROM locations l
    LEFT JOIN stock_levels s ON s.location_id = l.id
        AND s.product_id IN (SELECT id FROM products WHERE archived_at IS NULL)";

fn location_row(r: &Row) -> rusqlite::Result<Location> {
    let (on_hand, reserved): (i64, i64) = (r.get(2)?, r.get(3)?);
    Ok(Location {
        name: r.get(0)?,
        created_at: from_text(&r.get::<_, String>(1)?)?,
        on_hand,
        reserved,
        available: on_hand - reserved,
        products: r.get(4)?,
    })
}

fn reservation_row(r: &Row) -> rusqlite::Result<Reservation> {
    Ok(Reservation {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        product_id: parse_uuid(&r.get::<_, String>(1)?)?,
        location: r.get(2)?,
        reference: r.get(3)?,
        quantity: r.get(4)?,
        expires_at: r
            .get::<_, Option<String>>(5)?
            .as_deref()
            .map(from_text)
            .transpose()?,
        created_at: from_text(&r.get::<_, String>(6)?)?,
        updated_at: from_text(&r.get::<_, String>(7)?)?,
        owner: r.get(8)?,
    })
}

const KEY_SELECT: &str =
    "SELECT name, scope, locations, created_at, revoked_at, secret_sha256 FROM api_keys";

pub(crate) fn key_row(r: &Row) -> rusqlite::Result<ApiKey> {
    let scope: String = r.get(1)?;
    let bad = |e: String| {
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, e.into())
    };
    Ok(ApiKey {
        name: r.get(0)?,
        scope: Scope::parse(&scope).ok_or_else(|| bad(format!("unknown scope {scope}")))?,
        locations: r
            .get::<_, Option<String>>(2)?
            .map(|l| serde_json::from_str(&l).map_err(|e| bad(e.to_string())))
            .transpose()?,
        created_at: from_text(&r.get::<_, String>(3)?)?,
        revoked_at: r
            .get::<_, Option<String>>(4)?
            .as_deref()
            .map(from_text)
            .transpose()?,
    })
}

pub(crate) const TILL_SELECT: &str =
    "SELECT id, key_name, instance_id, location, registered_at, last_sync_at FROM tills";

pub(crate) fn till_row(r: &Row) -> rusqlite::Result<Till> {
    Ok(Till {
        id: r.get(0)?,
        key: r.get(1)?,
        instance_id: r.get(2)?,
        location: r.get(3)?,
        registered_at: from_text(&r.get::<_, String>(4)?)?,
        last_sync_at: from_text(&r.get::<_, String>(5)?)?,
    })
}

pub(crate) const LIVE_KEY_SQL: &str = "SELECT name, scope, locations, created_at, revoked_at, secret_sha256 FROM api_keys WHERE name = ?1 AND revoked_at IS NULL";

impl ReadTx for Sql<'_> {
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
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products p JOIN locations l ON l.id = p.location_id
             WHERE p.id = ?1 AND p.archived_at IS NULL"
        ))?;
        Ok(stmt.query_row([id.to_string()], product_row).optional()?)
    }

    fn levels(&mut self, product_id: Uuid) -> Result<Vec<StockLevel>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT s.id, l.name, s.on_hand, s.reserved, s.created_at, s.updated_at
             FROM stock_levels s JOIN locations l ON l.id = s.location_id
             WHERE s.product_id = ?1 ORDER BY l.name",
        )?;
        let rows = stmt.query_map([product_id.to_string()], |r| {
            let (on_hand, reserved): (i64, i64) = (r.get(2)?, r.get(3)?);
            Ok(StockLevel {
                id: parse_uuid(&r.get::<_, String>(0)?)?,
                product_id,
                location: r.get(1)?,
                on_hand,
                reserved,
                available: on_hand - reserved,
                created_at: from_text(&r.get::<_, String>(4)?)?,
                updated_at: from_text(&r.get::<_, String>(5)?)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn list_products(&mut self, filter: &ProductFilter) -> Result<Vec<Product>> {
        let (sql, args) = product_query(self.0, filter)?;
        let mut stmt = self.0.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(&args), product_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn products_after(&mut self, after: Option<Uuid>, limit: i64) -> Result<Vec<Product>> {
        // The empty string sorts before every id: the first page starts at the beginning.
        let after = after.map(|id| id.to_string()).unwrap_or_default();
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products p JOIN locations l ON l.id = p.location_id
             WHERE p.id > ?1 AND p.archived_at IS NULL ORDER BY p.id LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![after, limit], product_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn catalogue(&mut self, after: i64, limit: i64) -> Result<Vec<CatalogueEntry>> {
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT {PRODUCT_COLUMNS}, p.archived_at, p.revision
             FROM products p JOIN locations l ON l.id = p.location_id
             WHERE p.revision > ?1 ORDER BY p.revision LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![after, limit], |r| {
            Ok(CatalogueEntry {
                product: product_row(r)?,
                archived_at: r
                    .get::<_, Option<String>>(10)?
                    .as_deref()
                    .map(from_text)
                    .transpose()?,
                revision: r.get(11)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn movements(&mut self, id: Uuid, filter: &HistoryFilter) -> Result<Vec<Movement>> {
        let mut stmt = self.0.prepare_cached(&history_sql())?;
        let rows = stmt.query_map(
            params![
                id.to_string(),
                filter.after,
                filter.before,
                filter.location,
                filter.limit,
                filter.offset
            ],
            movement_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn changes(&mut self, after: i64, limit: i64) -> Result<Vec<Movement>> {
        let mut stmt = self.0.prepare_cached(&format!(
            "{MOVEMENT_SELECT} WHERE m.seq > ?1 ORDER BY m.seq LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![after, limit], movement_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn last_seq(&mut self) -> Result<i64> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM movements")?;
        Ok(stmt.query_row([], |r| r.get(0))?)
    }

    fn locations(&mut self) -> Result<Vec<Location>> {
        let mut stmt = self
            .0
            .prepare_cached(&format!("{LOCATION_SELECT} GROUP BY l.id ORDER BY l.name"))?;
        Ok(stmt
            .query_map([], location_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn location(&mut self, name: &str) -> Result<Option<Location>> {
        let mut stmt = self.0.prepare_cached(&format!(
            "{LOCATION_SELECT} WHERE l.name = ?1 GROUP BY l.id"
        ))?;
        Ok(stmt.query_row([name], location_row).optional()?)
    }

    fn reservations_of(&mut self, id: Uuid) -> Result<Vec<Reservation>> {
        let mut stmt = self.0.prepare_cached(&format!(
            "{RESERVATION_SELECT} WHERE r.product_id = ?1 ORDER BY l.name, r.reference"
        ))?;
        Ok(stmt
            .query_map([id.to_string()], reservation_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn reservations_by_reference(&mut self, reference: &str) -> Result<Vec<Reservation>> {
        // `!= ''` lets the partial index reservations_reference serve the lookup.
        let mut stmt = self.0.prepare_cached(&format!(
            "{RESERVATION_SELECT} WHERE r.reference = ?1 AND r.reference != ''
               AND r.product_id IN (SELECT id FROM products WHERE archived_at IS NULL)
             ORDER BY r.product_id, l.name"
        ))?;
        Ok(stmt
            .query_map([reference], reservation_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn reservations_expiring(&mut self, before: &Stamp, limit: i64) -> Result<Vec<Reservation>> {
        // `IS NOT NULL` lets the partial index reservations_expiry serve the range.
        let mut stmt = self.0.prepare_cached(&format!(
            "{RESERVATION_SELECT} WHERE r.expires_at IS NOT NULL AND r.expires_at < ?1
               AND r.product_id IN (SELECT id FROM products WHERE archived_at IS NULL)
             ORDER BY r.expires_at, r.id LIMIT ?2"
        ))?;
        Ok(stmt
            .query_map(params![before.text, limit], reservation_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn any_due(&mut self, product: Option<Uuid>, now: &Stamp) -> Result<bool> {
        Ok(match product {
            Some(id) => self
                .0
                .prepare_cached(ANY_DUE_OF)?
                .exists(params![id.to_string(), now.text])?,
            None => self.0.prepare_cached(ANY_DUE)?.exists([&now.text])?,
        })
    }

    fn open_reservations(&mut self) -> Result<i64> {
        let mut stmt = self.0.prepare_cached("SELECT count(*) FROM reservations")?;
        Ok(stmt.query_row([], |r| r.get(0))?)
    }

    fn api_keys(&mut self) -> Result<Vec<(ApiKey, String)>> {
        let mut stmt = self
            .0
            .prepare_cached(&format!("{KEY_SELECT} ORDER BY created_at, name"))?;
        let rows = stmt.query_map([], |r| Ok((key_row(r)?, r.get(5)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn tills(&mut self) -> Result<Vec<Till>> {
        let mut stmt = self
            .0
            .prepare_cached(&format!("{TILL_SELECT} ORDER BY id"))?;
        let rows = stmt.query_map([], till_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn identity(&mut self) -> Result<DatabaseIdentity> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT id, generation FROM database_identity")?;
        Ok(stmt.query_row([], |r| {
            Ok(DatabaseIdentity {
                id: r.get(0)?,
                generation: r.get(1)?,
            })
        })?)
    }

    fn verify(&mut self) -> Result<Vec<String>> {
        super::verify::problems(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan of a product listing, as `EXPLAIN QUERY PLAN` details.
    fn plan(conn: &Connection, query: &ProductFilter) -> String {
        let (sql, args) = product_query(conn, query).unwrap();
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(&args), |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(|r| r.unwrap()).collect::<Vec<_>>().join("; ")
    }

    #[test]
    fn low_stock_and_sparse_prefix_search_are_index_backed() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        let page = |q, low_stock| ProductFilter {
            q,
            low_stock,
            limit: 10,
            offset: 0,
        };
        let low = plan(&conn, &page(None, true));
        assert!(low.contains("products_low_stock"), "{low}");
        let search = plan(&conn, &page(Some("LAP"), false));
        assert!(
            search.contains("products_live_sku") && search.contains("products_live_name"),
            "{search}"
        );
    }

    #[test]
    fn history_reads_the_product_number_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", history_sql()))
            .unwrap();
        let plan = stmt
            .query_map(params!["id", 0, i64::MAX, None::<String>, 10, 0], |r| {
                r.get::<_, String>(3)
            })
            .unwrap()
            .map(|r| r.unwrap())
            .collect::<Vec<_>>()
            .join("; ");
        assert!(
            plan.contains("movements_product_seq (product_ordinal=? AND seq>? AND seq<?)")
                && !plan.contains("TEMP B-TREE"),
            "{plan}"
        );
    }
}
