//! The PostgreSQL checks of `verify()`, in the read's one snapshot: the same proofs of the caches
//! against the ledger as on SQLite (levels equal the sum of their movements, balances chain,
//! movements are filed under their product's number, totals equal their levels and are zero
//! without a reorder point, reserved equals the open reservations, nothing is orphaned), plus
//! what is PostgreSQL's own: the feed counter equals the last movement and no number is missing,
//! and every constraint of the schema is in force (PostgreSQL checks the CHECKs and foreign keys
//! on every write; a constraint added `NOT VALID`, or one that is missing, is reported).

use super::Pg;
use crate::error::Result;

/// Problems reported per check at most, so a badly damaged database still gives a readable report.
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
         WHERE s.on_hand <> coalesce(m.on_hand, 0) OR s.reserved <> coalesce(m.reserved, 0)
         LIMIT $1",
    ),
    (
        "movements without a stock level",
        "SELECT 'movement ' || m.seq FROM movements m
         WHERE NOT EXISTS (SELECT 1 FROM stock_levels s WHERE s.product_id = m.product_id AND s.location_id = m.location_id)
         LIMIT $1",
    ),
    (
        "movement filed under another product's number",
        "SELECT 'movement ' || m.seq FROM movements m JOIN products p ON p.id = m.product_id
         WHERE m.product_ordinal <> p.ordinal
         LIMIT $1",
    ),
    (
        "movement balances do not chain",
        "SELECT 'movement ' || seq || ': after ' || on_hand_after || '/' || reserved_after
                || ', running sum ' || run_on_hand || '/' || run_reserved
         FROM (SELECT seq, on_hand_after, reserved_after,
                      sum(on_hand_delta) OVER w AS run_on_hand, sum(reserved_delta) OVER w AS run_reserved
               FROM movements
               WINDOW w AS (PARTITION BY product_id, location_id ORDER BY seq)) chained
         WHERE on_hand_after <> run_on_hand OR reserved_after <> run_reserved
         LIMIT $1",
    ),
    (
        "product totals differ from their levels",
        "SELECT 'product ' || p.id || ': totals ' || p.on_hand_total || '/' || p.reserved_total
                || ', levels ' || coalesce(s.on_hand, 0) || '/' || coalesce(s.reserved, 0)
         FROM products p
         LEFT JOIN (SELECT product_id, sum(on_hand) AS on_hand, sum(reserved) AS reserved
                    FROM stock_levels GROUP BY product_id) s ON s.product_id = p.id
         WHERE p.reorder_point IS NOT NULL
           AND (p.on_hand_total <> coalesce(s.on_hand, 0) OR p.reserved_total <> coalesce(s.reserved, 0))
         LIMIT $1",
    ),
    (
        "product without a reorder point keeps totals",
        "SELECT 'product ' || id || ': totals ' || on_hand_total || '/' || reserved_total
         FROM products WHERE reorder_point IS NULL AND (on_hand_total <> 0 OR reserved_total <> 0)
         LIMIT $1",
    ),
    (
        "reserved differs from the open reservations",
        "SELECT s.product_id || ' @ ' || s.location_id || ': reserved ' || s.reserved
                || ', reservations ' || coalesce(r.quantity, 0)
         FROM stock_levels s
         LEFT JOIN (SELECT product_id, location_id, sum(quantity) AS quantity
                    FROM reservations GROUP BY product_id, location_id) r
           ON r.product_id = s.product_id AND r.location_id = s.location_id
         WHERE s.reserved <> coalesce(r.quantity, 0)
         LIMIT $1",
    ),
    (
        "reservations without a stock level",
        "SELECT 'reservation ' || r.id FROM reservations r
         WHERE NOT EXISTS (SELECT 1 FROM stock_levels s WHERE s.product_id = r.product_id AND s.location_id = r.location_id)
         LIMIT $1",
    ),
    (
        "the feed counter differs from the ledger",
        "SELECT 'counter ' || c.last || ', last movement ' || coalesce(m.top, 0) || ', movements ' || m.n
         FROM feed_counter c, (SELECT max(seq) AS top, count(*) AS n FROM movements) m
         WHERE c.last <> coalesce(m.top, 0) OR m.n <> c.last OR (SELECT min(seq) FROM movements) <> 1
         LIMIT $1",
    ),
    (
        "product without a catalogue revision",
        "SELECT 'product ' || id FROM products WHERE revision IS NULL OR revision <= 0
         UNION ALL
         SELECT 'counter ' || c.last || ', last revision ' || m.top
         FROM catalogue_counter c, (SELECT max(revision) AS top FROM products) m WHERE m.top > c.last
         LIMIT $1",
    ),
    (
        "constraint not in force",
        "SELECT conrelid::regclass || ' ' || conname FROM pg_constraint
         WHERE NOT convalidated AND conrelid IN (SELECT to_regclass(t) FROM unnest(ARRAY['locations',
               'products', 'stock_levels', 'movements', 'reservations', 'idempotency_keys', 'api_keys',
               'feed_counter', 'catalogue_counter']) t)
         LIMIT $1",
    ),
];

/// How many CHECK and foreign-key constraints each table of the schema has: one dropped is
/// reported (PostgreSQL then no longer enforces the invariant it stated).
const CONSTRAINTS: &str = "SELECT t.name || ': ' || coalesce(c.n, 0) || ' CHECK and foreign-key constraints, ' || t.n || ' expected'
     FROM (VALUES ('locations', 1), ('products', 8), ('stock_levels', 4), ('movements', 7),
                  ('reservations', 3), ('idempotency_keys', 0), ('api_keys', 4), ('feed_counter', 2),
                  ('catalogue_counter', 2)) t(name, n)
     LEFT JOIN (SELECT conrelid, count(*) AS n FROM pg_constraint WHERE contype IN ('c', 'f')
                GROUP BY conrelid) c ON c.conrelid = to_regclass(t.name)
     WHERE coalesce(c.n, 0) <> t.n";

pub(crate) fn problems(pg: &mut Pg) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for (title, sql) in CHECKS {
        for row in pg.query(sql, &[&MAX_PROBLEMS_PER_CHECK])? {
            problems.push(format!("{title}: {}", pg.get::<String>(&row, 0)?));
        }
    }
    for row in pg.query(CONSTRAINTS, &[])? {
        problems.push(format!(
            "schema constraints: {}",
            pg.get::<String>(&row, 0)?
        ));
    }
    Ok(problems)
}
