//! The SQLite checks of `verify()`: proves the caches against the ledger. Stock levels must equal the sum of their
//! movements, every movement's balances must chain from the one before it (and be filed under
//! its product's number in the history index), product totals must equal their levels (they are
//! kept, for the low-stock index, only while the product has a reorder point; otherwise they are
//! zero), reserved must equal the open reservations, and SQLite must be intact.

use crate::error::Result;
use rusqlite::Connection;

/// Problems reported per check at most, so a badly damaged file still gives a readable report.
const MAX_PROBLEMS_PER_CHECK: i64 = 50;

const CHECKS: &[(&str, &str)] = &[
    (
        "level differs from the sum of its movements",
        "SELECT s.product_id || ' @ ' || s.location_id || ': level ' || s.on_hand || '/' || s.reserved
                || ', ledger ' || coalesce(m.on_hand, 0) || '/' || coalesce(m.reserved, 0)
         FROM stock_levels s
         LEFT JOIN (SELECT product_id, location_id, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
                    FROM movements GROUP BY product_id, location_id) m
           ON m.product_id = s.product_id AND m.location_id = s.location_id
         WHERE s.on_hand != coalesce(m.on_hand, 0) OR s.reserved != coalesce(m.reserved, 0)
         LIMIT ?1",
    ),
    (
        "movements without a stock level",
        "SELECT 'movement ' || m.seq FROM movements m
         WHERE NOT EXISTS (SELECT 1 FROM stock_levels s WHERE s.product_id = m.product_id AND s.location_id = m.location_id)
         LIMIT ?1",
    ),
    (
        "movement filed under another product's number",
        "SELECT 'movement ' || m.seq FROM movements m JOIN products p ON p.id = m.product_id
         WHERE m.product_ordinal != p.ordinal
         LIMIT ?1",
    ),
    (
        "movement balances do not chain",
        "SELECT 'movement ' || seq || ': after ' || on_hand_after || '/' || reserved_after
                || ', running sum ' || run_on_hand || '/' || run_reserved
         FROM (SELECT seq, on_hand_after, reserved_after,
                      sum(on_hand_delta) OVER w AS run_on_hand, sum(reserved_delta) OVER w AS run_reserved
               FROM movements
               WINDOW w AS (PARTITION BY product_id, location_id ORDER BY seq))
         WHERE on_hand_after != run_on_hand OR reserved_after != run_reserved
         LIMIT ?1",
    ),
    (
        "product totals differ from their levels",
        "SELECT 'product ' || p.id || ': totals ' || p.on_hand_total || '/' || p.reserved_total
                || ', levels ' || coalesce(s.on_hand, 0) || '/' || coalesce(s.reserved, 0)
         FROM products p
         LEFT JOIN (SELECT product_id, sum(on_hand) AS on_hand, sum(reserved) AS reserved
                    FROM stock_levels GROUP BY product_id) s ON s.product_id = p.id
         WHERE p.reorder_point IS NOT NULL
           AND (p.on_hand_total != coalesce(s.on_hand, 0) OR p.reserved_total != coalesce(s.reserved, 0))
         LIMIT ?1",
    ),
    (
        "product without a reorder point keeps totals",
        "SELECT 'product ' || id || ': totals ' || on_hand_total || '/' || reserved_total
         FROM products WHERE reorder_point IS NULL AND (on_hand_total != 0 OR reserved_total != 0)
         LIMIT ?1",
    ),
    (
        "reserved differs from the open reservations",
        "SELECT s.product_id || ' @ ' || s.location_id || ': reserved ' || s.reserved
                || ', reservations ' || coalesce(r.quantity, 0)
         FROM stock_levels s
         LEFT JOIN (SELECT product_id, location_id, sum(quantity) AS quantity
                    FROM reservations GROUP BY product_id, location_id) r
           ON r.product_id = s.product_id AND r.location_id = s.location_id
         WHERE s.reserved != coalesce(r.quantity, 0)
         LIMIT ?1",
    ),
    (
        "product without a catalogue revision",
        "SELECT 'product ' || id FROM products WHERE revision <= 0 LIMIT ?1",
    ),
    (
        "reservations without a stock level",
        "SELECT 'reservation ' || r.id FROM reservations r
         WHERE NOT EXISTS (SELECT 1 FROM stock_levels s WHERE s.product_id = r.product_id AND s.location_id = r.location_id)
         LIMIT ?1",
    ),
];

pub(crate) fn problems(conn: &Connection) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for (title, sql) in CHECKS {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([MAX_PROBLEMS_PER_CHECK], |r| r.get::<_, String>(0))?;
        for row in rows {
            problems.push(format!("{title}: {}", row?));
        }
    }
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    for row in stmt.query_map([], |r| r.get::<_, String>(0))? {
        let line = row?;
        if line != "ok" {
            problems.push(format!("integrity_check: {line}"));
        }
    }
    let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
    for row in stmt.query_map([], |r| {
        Ok(format!(
            "{} row {:?} -> {}",
            r.get::<_, String>(0)?,
            r.get::<_, Option<i64>>(1)?,
            r.get::<_, String>(2)?
        ))
    })? {
        problems.push(format!("foreign_key_check: {}", row?));
    }
    Ok(problems)
}
