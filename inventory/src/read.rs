//! Read queries. They run on pooled read connections (WAL readers never block the writer)
//! and inside the write path, so each takes a plain `&Connection`.

use crate::clock::from_text;
use crate::error::{Error, Result};
use crate::ledger::parse_uuid;
use crate::model::{
    ChangePage, Location, Movement, MovementKind, Product, ProductWithStock, Reservation,
    StockLevel, StockSummary,
};
use crate::validate::{self, MAX_NAME};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

/// Default and largest page of products or movements.
pub const DEFAULT_PAGE: i64 = 10;
/// Largest page of products or movements.
pub const MAX_PAGE: i64 = 100;
/// Default and largest page of the change feed.
pub const DEFAULT_CHANGES_PAGE: i64 = 100;
/// Largest page of the change feed.
pub const MAX_CHANGES_PAGE: i64 = 1000;

/// Filters and page of `list_products`. Products come in creation order (their v7 ids).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductQuery {
    /// Page size: 1 to [`MAX_PAGE`], default [`DEFAULT_PAGE`].
    pub limit: Option<i64>,
    /// Products to skip.
    pub offset: Option<i64>,
    /// Only products whose available total is at or below their reorder point.
    pub low_stock: bool,
    /// Only products whose SKU starts with this (exactly) or whose name does (ignoring ASCII case).
    pub q: Option<String>,
}

/// A page of a product's history, newest first: by limit/offset, or by sequence cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MovementQuery {
    /// Page size: 1 to [`MAX_PAGE`], default [`DEFAULT_PAGE`].
    pub limit: Option<i64>,
    /// Movements to skip.
    pub offset: Option<i64>,
    /// Only movements with a sequence number above this.
    pub after: Option<i64>,
    /// Only movements with a sequence number below this: pass the last `seq` of a page to get the next.
    pub before: Option<i64>,
    /// Only movements at this location.
    pub location: Option<String>,
}

const PRODUCT_COLUMNS: &str = "p.id, p.name, p.description, p.sku, p.price, l.name, p.reorder_point, p.version, p.created_at, p.updated_at";

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

/// A live (not archived) product.
pub(crate) fn product(conn: &Connection, id: Uuid) -> Result<Option<Product>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM products p JOIN locations l ON l.id = p.location_id
         WHERE p.id = ?1 AND p.archived_at IS NULL"
    ))?;
    Ok(stmt.query_row([id.to_string()], product_row).optional()?)
}

fn live_product(conn: &Connection, id: Uuid) -> Result<Product> {
    product(conn, id)?.ok_or_else(|| Error::not_found(format!("product {id}")))
}

pub(crate) fn product_with_stock(conn: &Connection, id: Uuid) -> Result<ProductWithStock> {
    let product = live_product(conn, id)?;
    let inventory = summary_of(conn, &product)?;
    Ok(ProductWithStock { product, inventory })
}

fn levels(conn: &Connection, product_id: Uuid) -> Result<Vec<StockLevel>> {
    let mut stmt = conn.prepare_cached(
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

fn summary_of(conn: &Connection, product: &Product) -> Result<StockSummary> {
    let locations = levels(conn, product.id)?;
    let home = locations
        .iter()
        .find(|l| l.location == product.location)
        .ok_or_else(|| {
            Error::storage(format!(
                "product {} has no level at its own location",
                product.id
            ))
        })?;
    let on_hand = locations.iter().map(|l| l.on_hand).sum();
    let reserved = locations.iter().map(|l| l.reserved).sum();
    Ok(StockSummary {
        id: home.id,
        product_id: product.id,
        location: product.location.clone(),
        on_hand,
        reserved,
        available: on_hand - reserved,
        created_at: home.created_at,
        updated_at: locations
            .iter()
            .map(|l| l.updated_at)
            .max()
            .unwrap_or(home.updated_at),
        locations,
    })
}

pub(crate) fn stock_summary(conn: &Connection, id: Uuid) -> Result<StockSummary> {
    summary_of(conn, &live_product(conn, id)?)
}

pub(crate) fn stock_level(conn: &Connection, id: Uuid, location: &str) -> Result<StockLevel> {
    let product = live_product(conn, id)?;
    levels(conn, product.id)?
        .into_iter()
        .find(|l| l.location == location)
        .ok_or_else(|| Error::not_found(format!("stock of product {id} at location {location:?}")))
}

/// The smallest string greater than every string that starts with `prefix`, if any.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
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

pub(crate) fn list_products(conn: &Connection, query: &ProductQuery) -> Result<Vec<Product>> {
    let (sql, args) = product_query(conn, query)?;
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(&args), product_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The SQL and parameters of a product listing.
fn product_query(conn: &Connection, query: &ProductQuery) -> Result<(String, Vec<Value>)> {
    let limit = validate::page_limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let offset = validate::page_offset(query.offset)?;
    let mut sql = format!(
        "SELECT {PRODUCT_COLUMNS} FROM products p JOIN locations l ON l.id = p.location_id WHERE p.archived_at IS NULL"
    );
    let mut args: Vec<Value> = Vec::new();
    if query.low_stock {
        // Written exactly as the partial index products_low_stock states it, so it is used.
        sql.push_str(" AND p.reorder_point IS NOT NULL AND p.reorder_point >= p.on_hand_total - p.reserved_total");
    }
    if let Some(q) = &query.q {
        let q = validate::required("q", q, MAX_NAME)?;
        let sku = PrefixRange::new("sku", "", q.clone());
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
    args.extend([Value::Integer(limit), Value::Integer(offset)]);
    Ok((sql, args))
}

const MOVEMENT_SELECT: &str =
    "SELECT m.seq, m.id, s.id, m.product_id, l.name, m.kind, m.quantity, m.on_hand_after,
        m.reserved_after, m.reference, m.notes, m.transfer_id, m.created_at
    FROM movements m
    JOIN locations l ON l.id = m.location_id
    JOIN stock_levels s ON s.product_id = m.product_id AND s.location_id = m.location_id";

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

pub(crate) fn movements(
    conn: &Connection,
    id: Uuid,
    query: &MovementQuery,
) -> Result<Vec<Movement>> {
    let limit = validate::page_limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let offset = validate::page_offset(query.offset)?;
    live_product(conn, id)?;
    let mut stmt = conn.prepare_cached(&history_sql())?;
    let rows = stmt.query_map(
        params![
            id.to_string(),
            query.after.unwrap_or(0),
            query.before.unwrap_or(i64::MAX),
            query.location,
            limit,
            offset
        ],
        movement_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn changes(conn: &Connection, after: i64, limit: Option<i64>) -> Result<ChangePage> {
    let limit = validate::page_limit(limit, DEFAULT_CHANGES_PAGE, MAX_CHANGES_PAGE)?;
    if after < 0 {
        return Err(Error::validation("after", "after must not be negative"));
    }
    let mut stmt = conn.prepare_cached(&format!(
        "{MOVEMENT_SELECT} WHERE m.seq > ?1 ORDER BY m.seq LIMIT ?2"
    ))?;
    let movements: Vec<Movement> = stmt
        .query_map(params![after, limit], movement_row)?
        .collect::<rusqlite::Result<_>>()?;
    let next_after = movements.last().map_or(after, |m| m.seq);
    Ok(ChangePage {
        movements,
        next_after,
    })
}

pub(crate) fn last_seq(conn: &Connection) -> Result<i64> {
    let mut stmt = conn.prepare_cached("SELECT coalesce(max(seq), 0) FROM movements")?;
    Ok(stmt.query_row([], |r| r.get(0))?)
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

pub(crate) fn locations(conn: &Connection) -> Result<Vec<Location>> {
    let mut stmt =
        conn.prepare_cached(&format!("{LOCATION_SELECT} GROUP BY l.id ORDER BY l.name"))?;
    Ok(stmt
        .query_map([], location_row)?
        .collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn location(conn: &Connection, name: &str) -> Result<Option<Location>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{LOCATION_SELECT} WHERE l.name = ?1 GROUP BY l.id"
    ))?;
    Ok(stmt.query_row([name], location_row).optional()?)
}

const RESERVATION_SELECT: &str = "SELECT r.id, r.product_id, l.name, r.reference, r.quantity, r.expires_at, r.created_at, r.updated_at
    FROM reservations r JOIN locations l ON l.id = r.location_id";

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
    })
}

pub(crate) fn reservations_of_product(conn: &Connection, id: Uuid) -> Result<Vec<Reservation>> {
    live_product(conn, id)?;
    let mut stmt = conn.prepare_cached(&format!(
        "{RESERVATION_SELECT} WHERE r.product_id = ?1 ORDER BY l.name, r.reference"
    ))?;
    Ok(stmt
        .query_map([id.to_string()], reservation_row)?
        .collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn reservations_by_reference(
    conn: &Connection,
    reference: &str,
) -> Result<Vec<Reservation>> {
    if reference.is_empty() {
        return Err(Error::validation(
            "reference",
            "reference must not be empty",
        ));
    }
    // `!= ''` lets the partial index reservations_reference serve the lookup.
    let mut stmt = conn.prepare_cached(&format!(
        "{RESERVATION_SELECT} WHERE r.reference = ?1 AND r.reference != ''
           AND r.product_id IN (SELECT id FROM products WHERE archived_at IS NULL)
         ORDER BY r.product_id, l.name"
    ))?;
    Ok(stmt
        .query_map([reference], reservation_row)?
        .collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan of a product listing, as `EXPLAIN QUERY PLAN` details.
    fn plan(conn: &Connection, query: &ProductQuery) -> String {
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
        crate::schema::migrate(&mut conn).unwrap();
        let low = plan(
            &conn,
            &ProductQuery {
                low_stock: true,
                ..Default::default()
            },
        );
        assert!(low.contains("products_low_stock"), "{low}");
        let search = plan(
            &conn,
            &ProductQuery {
                q: Some("LAP".into()),
                ..Default::default()
            },
        );
        assert!(
            search.contains("products_live_sku") && search.contains("products_live_name"),
            "{search}"
        );
    }

    #[test]
    fn history_reads_the_product_number_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::schema::migrate(&mut conn).unwrap();
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

    #[test]
    fn prefix_end_is_the_next_string() {
        assert_eq!(prefix_end("LAP").as_deref(), Some("LAQ"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
        assert_eq!(prefix_end("\u{D7FF}").as_deref(), Some("\u{E000}"));
    }
}
