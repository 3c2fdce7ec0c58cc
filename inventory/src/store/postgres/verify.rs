//! The PostgreSQL checks of `verify()`, in the read's one snapshot: the proofs both stores run
//! (`store::sql::PROOFS`), plus what is PostgreSQL's own: the feed counter equals the last movement and no number is missing,
//! and every constraint of the schema is in force (PostgreSQL checks the CHECKs and foreign keys
//! on every write; a constraint added `NOT VALID`, or one that is missing, is reported).

use super::Pg;
use crate::error::Result;
use crate::store::sql::{MAX_PROBLEMS_PER_CHECK, PROOFS};

/// What only PostgreSQL has, beside the shared proofs (`store::sql::PROOFS`).
const CHECKS: &[(&str, &str)] = &[
    (
        "the feed counter differs from the ledger",
        "SELECT 'counter ' || c.last || ', last movement ' || coalesce(m.top, 0) || ', movements ' || m.n
         FROM feed_counter c, (SELECT max(seq) AS top, count(*) AS n FROM movements) m
         WHERE c.last <> coalesce(m.top, 0) OR m.n <> c.last OR (SELECT min(seq) FROM movements) <> 1
         LIMIT $1",
    ),
    (
        "catalogue counter behind its products",
        "SELECT 'counter ' || c.last || ', last revision ' || m.top
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
    for (title, sql) in PROOFS.iter().chain(CHECKS) {
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
