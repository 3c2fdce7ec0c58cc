//! The SQLite schema and its migrations. The CHECK constraints restate the invariants the engine
//! enforces in code, so that a bug in the write path fails loudly instead of corrupting stock.
//!
//! Migrations are a list of scripts; `user_version` counts those applied. They run in one
//! EXCLUSIVE transaction that also checks the file and reads the version, so processes opening
//! a new file at once take turns (the busy timeout applies) and each finds the work of the one
//! before it done. rusqlite_migration reads the version before its transaction begins, and two
//! processes starting together then both ran the first script ("table locations already
//! exists"). The switch to WAL comes after: a new file is created in rollback-journal mode under
//! that exclusive lock, so no process can act on a view of the file it read before another
//! created it (one that did switched a half-made file to WAL with a blank header).

use crate::error::{Error, Result};
use rusqlite::{Connection, ErrorCode, TransactionBehavior};
use std::path::Path;
use std::time::{Duration, Instant};

/// `PRAGMA application_id` of an inventory database ("INVY"), set by the first migration.
pub const APPLICATION_ID: i64 = 0x494E_5659;

const V1: &str = r#"
PRAGMA application_id = 1229870681;

CREATE TABLE locations (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),
    created_at  TEXT NOT NULL
);

CREATE TABLE products (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 255),
    description     TEXT NOT NULL CHECK (length(description) <= 4096),
    sku             TEXT NOT NULL CHECK (length(trim(sku)) BETWEEN 1 AND 100),
    price           TEXT NOT NULL,
    location_id     INTEGER NOT NULL REFERENCES locations(id),
    reorder_point   INTEGER CHECK (reorder_point >= 0),
    version         INTEGER NOT NULL CHECK (version >= 1),
    -- caches of the sums over stock_levels, proven by verify(); they back the low-stock index
    on_hand_total   INTEGER NOT NULL CHECK (on_hand_total >= 0),
    reserved_total  INTEGER NOT NULL CHECK (reserved_total BETWEEN 0 AND on_hand_total),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    archived_at     TEXT
) WITHOUT ROWID;
CREATE UNIQUE INDEX products_live_sku ON products(sku) WHERE archived_at IS NULL;
CREATE INDEX products_live_name ON products(name COLLATE NOCASE) WHERE archived_at IS NULL;
CREATE INDEX products_low_stock ON products(id)
    WHERE archived_at IS NULL AND reorder_point IS NOT NULL
      AND reorder_point >= on_hand_total - reserved_total;

CREATE TABLE stock_levels (
    id           TEXT NOT NULL UNIQUE,
    product_id   TEXT NOT NULL REFERENCES products(id),
    location_id  INTEGER NOT NULL REFERENCES locations(id),
    on_hand      INTEGER NOT NULL CHECK (on_hand >= 0),
    reserved     INTEGER NOT NULL CHECK (reserved >= 0 AND reserved <= on_hand),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (product_id, location_id)
) WITHOUT ROWID;
CREATE INDEX stock_levels_location ON stock_levels(location_id);

-- seq is the rowid: movements are never deleted, so max(seq) + 1 is strictly increasing
-- without AUTOINCREMENT's extra sqlite_sequence write. The UUID is not indexed (nothing looks a
-- movement up by it), which keeps a posting to three B-tree pages: the row and two indexes.
CREATE TABLE movements (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL,
    product_id      TEXT NOT NULL REFERENCES products(id),
    location_id     INTEGER NOT NULL REFERENCES locations(id),
    kind            TEXT NOT NULL,
    quantity        INTEGER NOT NULL,
    on_hand_delta   INTEGER NOT NULL,
    reserved_delta  INTEGER NOT NULL,
    on_hand_after   INTEGER NOT NULL CHECK (on_hand_after >= 0),
    reserved_after  INTEGER NOT NULL CHECK (reserved_after BETWEEN 0 AND on_hand_after),
    reference       TEXT,
    notes           TEXT,
    transfer_id     TEXT,
    created_at      TEXT NOT NULL,
    CHECK (CASE kind
        WHEN 'IN'           THEN quantity > 0 AND on_hand_delta = quantity  AND reserved_delta = 0
        WHEN 'TRANSFER_IN'  THEN quantity > 0 AND on_hand_delta = quantity  AND reserved_delta = 0 AND transfer_id IS NOT NULL
        WHEN 'OUT'          THEN quantity > 0 AND on_hand_delta = -quantity AND reserved_delta = 0
        WHEN 'TRANSFER_OUT' THEN quantity > 0 AND on_hand_delta = -quantity AND reserved_delta = 0 AND transfer_id IS NOT NULL
        WHEN 'RESERVE'      THEN quantity > 0 AND on_hand_delta = 0 AND reserved_delta = quantity
        WHEN 'UNRESERVE'    THEN quantity > 0 AND on_hand_delta = 0 AND reserved_delta = -quantity
        WHEN 'EXPIRE'       THEN quantity > 0 AND on_hand_delta = 0 AND reserved_delta = -quantity
        WHEN 'COMMIT'       THEN quantity > 0 AND on_hand_delta = -quantity AND reserved_delta = -quantity
        WHEN 'ADJUST'       THEN on_hand_delta = quantity AND reserved_delta = 0
        ELSE 0 END)
);
CREATE INDEX movements_product_seq ON movements(product_id, seq);

"#;

/// Reservations as records and idempotency keys (issue 7).
const V2: &str = r#"
-- Open reservations only: a closed one is deleted, and the ledger keeps its story.
CREATE TABLE reservations (
    id           TEXT NOT NULL UNIQUE,
    product_id   TEXT NOT NULL REFERENCES products(id),
    location_id  INTEGER NOT NULL REFERENCES locations(id),
    reference    TEXT NOT NULL,
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    expires_at   TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (product_id, location_id, reference)
) WITHOUT ROWID;
-- Only referenced reservations are looked up by reference; plain reserves skip this index.
CREATE INDEX reservations_reference ON reservations(reference) WHERE reference != '';
CREATE INDEX reservations_expiry ON reservations(expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX reservations_product_expiry ON reservations(product_id, expires_at) WHERE expires_at IS NOT NULL;

-- A rowid table: rows (request and outcome JSON) are too large for WITHOUT ROWID, and rowid
-- order is arrival order, so expired keys are a prefix of the table and need no age index.
CREATE TABLE idempotency_keys (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    request     TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
"#;

/// Reservations lose the index on their id: the id is a UUID v7 (unique by construction) that
/// nothing looks up, and the index cost every reservation opened or closed one more page in the
/// commit (one more WAL frame: a reserve/unreserve pair went from 6.3 to 5.3 frames).
const V3: &str = r#"
CREATE TABLE reservations_v3 (
    id           TEXT NOT NULL,
    product_id   TEXT NOT NULL REFERENCES products(id),
    location_id  INTEGER NOT NULL REFERENCES locations(id),
    reference    TEXT NOT NULL,
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    expires_at   TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (product_id, location_id, reference)
) WITHOUT ROWID;
INSERT INTO reservations_v3 SELECT id, product_id, location_id, reference, quantity, expires_at,
    created_at, updated_at FROM reservations;
DROP TABLE reservations;
ALTER TABLE reservations_v3 RENAME TO reservations;
CREATE INDEX reservations_reference ON reservations(reference) WHERE reference != '';
CREATE INDEX reservations_expiry ON reservations(expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX reservations_product_expiry ON reservations(product_id, expires_at) WHERE expires_at IS NOT NULL;
"#;

/// The history index keyed by a small product number instead of the 36-character product id.
/// A batch appends to the end of each product's range in that index, in the middle of the
/// B-tree, where SQLite splits and rebalances leaves; with entries of about 45 bytes a 25-product
/// basket dirtied 58 index pages per commit once the ledger was large. With 8-byte entries each
/// leaf holds five times as many and the rebalancing is that much rarer.
const V4: &str = r#"
ALTER TABLE products ADD COLUMN ordinal INTEGER NOT NULL DEFAULT 0;
UPDATE products SET ordinal = r.n
    FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM products) r
    WHERE r.id = products.id;
CREATE UNIQUE INDEX products_ordinal ON products(ordinal);

ALTER TABLE movements ADD COLUMN product_ordinal INTEGER NOT NULL DEFAULT 0;
UPDATE movements SET product_ordinal = p.ordinal FROM products p WHERE p.id = movements.product_id;
DROP INDEX movements_product_seq;
CREATE INDEX movements_product_seq ON movements(product_ordinal, seq);
"#;

/// Product totals are kept only while a product has a reorder point: they exist for the
/// low-stock index, which holds no other product, and keeping them cost every stock write of
/// every product one more page (the product's row) in its commit.
const V5: &str = r#"
UPDATE products SET on_hand_total = 0, reserved_total = 0 WHERE reorder_point IS NULL;
"#;

/// Who made each movement, and API keys (stored as the SHA-256 of their secret).
const V6: &str = r#"
ALTER TABLE movements ADD COLUMN actor TEXT CHECK (actor IS NULL OR length(actor) <= 255);

CREATE TABLE api_keys (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 255),
    scope          TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    -- a JSON array of location names, or NULL for any location
    locations      TEXT CHECK (locations IS NULL OR (json_valid(locations) AND json_type(locations) = 'array')),
    secret_sha256  TEXT NOT NULL UNIQUE CHECK (length(secret_sha256) = 64),
    created_at     TEXT NOT NULL,
    revoked_at     TEXT
) WITHOUT ROWID;
CREATE UNIQUE INDEX api_keys_live_name ON api_keys(name) WHERE revoked_at IS NULL;
"#;

/// Each product's catalogue revision: a number from one counter of the file (the largest so far,
/// plus one) given to a product whenever it is created, updated or archived, so that a mirror
/// of the catalogue (a till) can pull what changed after the last revision it saw. One writer
/// applies commands in order, so revisions are in commit order. Existing products get theirs in
/// order of their last change.
const V7: &str = r#"
ALTER TABLE products ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
UPDATE products SET revision = r.n
    FROM (SELECT id, row_number() OVER (ORDER BY updated_at, id) AS n FROM products) r
    WHERE r.id = products.id;
CREATE UNIQUE INDEX products_revision ON products(revision);
"#;

/// A receipt's `external_id`: the id of the document in another system that caused it. Only an
/// IN movement carries one.
const V8: &str = r#"
ALTER TABLE movements ADD COLUMN external_id TEXT
    CHECK (external_id IS NULL OR (kind = 'IN' AND length(external_id) <= 255));
"#;

/// Tills and who may act for them (docs/TILLS.md): the owner of each reservation (the name of
/// the key that opened it); each till id's registration (the key and the instance that first
/// synced under it); the conflicts tills reported, each counted once; and the database's
/// identity, whose generation `restore` changes so that tills see central was rewound.
const V9: &str = r#"
ALTER TABLE reservations ADD COLUMN owner TEXT CHECK (owner IS NULL OR length(owner) <= 255);

CREATE TABLE tills (
    id             TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),
    key_name       TEXT NOT NULL CHECK (length(key_name) <= 255),
    instance_id    TEXT NOT NULL CHECK (length(instance_id) BETWEEN 1 AND 255),
    location       TEXT NOT NULL CHECK (length(location) BETWEEN 1 AND 255),
    -- changed at every check-in: a copy of the till's files that synced before is left behind
    token          TEXT NOT NULL,
    registered_at  TEXT NOT NULL,
    last_sync_at   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE till_conflicts (
    reference    TEXT PRIMARY KEY CHECK (length(reference) BETWEEN 1 AND 255),
    till_id      TEXT NOT NULL,
    code         TEXT NOT NULL,
    reported_at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE database_identity (
    only_row    INTEGER PRIMARY KEY CHECK (only_row = 1),
    id          TEXT NOT NULL,
    generation  TEXT NOT NULL
);
INSERT INTO database_identity (only_row, id, generation)
    VALUES (1, lower(hex(randomblob(16))), lower(hex(randomblob(16))));
"#;

/// Webhook subscriptions (each with its cursor in the ledger, its backoff and its lease) and
/// the log of their delivery attempts.
const V10: &str = r#"
CREATE TABLE webhooks (
    id               TEXT PRIMARY KEY,
    url              TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    events           TEXT NOT NULL CHECK (json_valid(events) AND json_type(events) = 'array'),
    locations        TEXT CHECK (locations IS NULL OR (json_valid(locations) AND json_type(locations) = 'array')),
    product_ids      TEXT CHECK (product_ids IS NULL OR (json_valid(product_ids) AND json_type(product_ids) = 'array')),
    state            TEXT NOT NULL CHECK (state IN ('active', 'paused')),
    paused_reason    TEXT,
    after_seq        INTEGER NOT NULL CHECK (after_seq >= 0),
    failures         INTEGER NOT NULL CHECK (failures >= 0),
    failing_since    TEXT,
    next_attempt_at  TEXT,
    lease_owner      TEXT,
    lease_until      TEXT,
    created_at       TEXT NOT NULL,
    secret           TEXT NOT NULL CHECK (substr(secret, 1, 6) = 'whsec_')
) WITHOUT ROWID;

CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id  TEXT NOT NULL REFERENCES webhooks(id),
    first_seq   INTEGER NOT NULL,
    last_seq    INTEGER NOT NULL CHECK (last_seq >= first_seq),
    events      INTEGER NOT NULL CHECK (events >= 1),
    attempt     INTEGER NOT NULL CHECK (attempt >= 1),
    ok          INTEGER NOT NULL CHECK (ok IN (0, 1)),
    status      INTEGER,
    latency_ms  INTEGER NOT NULL CHECK (latency_ms >= 0),
    error       TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_of ON webhook_deliveries(webhook_id, id);
CREATE INDEX webhook_deliveries_at ON webhook_deliveries(at);
"#;

const MIGRATIONS: [&str; 10] = [V1, V2, V3, V4, V5, V6, V7, V8, V9, V10];

/// The schema version this build writes.
pub fn latest_version() -> usize {
    MIGRATIONS.len()
}

/// Refuses files this build must not touch, before anything writes to them: a file that is
/// not SQLite, a SQLite database of another application, or a newer inventory schema.
pub(crate) fn check_compatible(conn: &Connection) -> Result<()> {
    let not_ours = |why: String| Error::storage(format!("not an inventory database: {why}"));
    let app_id: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(|e| not_ours(e.to_string()))?;
    let user_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
    if app_id == APPLICATION_ID {
        if user_version > latest_version() as i64 {
            return Err(Error::storage(format!(
                "database schema version {user_version} is newer than this build supports ({}); upgrade inventory",
                latest_version()
            )));
        }
        return Ok(());
    }
    if app_id == 0 && user_version == 0 && tables == 0 {
        return Ok(()); // a new, empty file
    }
    Err(not_ours(format!(
        "application_id {app_id:#x}, user_version {user_version}, {tables} schema objects"
    )))
}

/// The schema version of a file.
pub(crate) fn user_version(conn: &Connection) -> Result<usize> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok(usize::try_from(v).unwrap_or(0))
}

/// Retries `f` while another connection holds a lock SQLite does not wait for (switching the
/// journal mode, or a write that found the file changed since its snapshot), until `timeout`.
fn retry_busy<T>(timeout: Duration, mut f: impl FnMut() -> Result<T>) -> Result<T> {
    let deadline = Instant::now() + timeout;
    loop {
        match f() {
            Err(e) if e.code == crate::ErrorCode::Busy && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Checks and migrates a freshly opened writer connection, then switches the file to WAL.
pub(crate) fn open(conn: &mut Connection, path: &Path, busy_timeout: Duration) -> Result<()> {
    retry_busy(busy_timeout, || migrate(conn))?;
    let mode: String = retry_busy(busy_timeout, || {
        Ok(conn.pragma_update_and_check(None, "journal_mode", "wal", |r| r.get(0))?)
    })?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::storage(format!(
            "cannot switch {} to WAL (journal_mode is {mode})",
            path.display()
        )));
    }
    Ok(())
}

/// Refuses a file that is not ours and applies the migrations it lacks, in one EXCLUSIVE
/// transaction; nothing is written to a refused file.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Exclusive)
        .map_err(|e| match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => {
                Error::storage(format!("not an inventory database: {e}"))
            }
            _ => Error::from(e),
        })?;
    check_compatible(&tx)?;
    let version = user_version(&tx)?;
    for (i, script) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(script).map_err(|e| {
            if is_busy(&e) {
                Error::from(e)
            } else {
                Error::storage(format!("migration to version {} failed: {e}", i + 1))
            }
        })?;
    }
    if version < latest_version() {
        tx.pragma_update(None, "user_version", latest_version() as i64)?;
    }
    tx.commit()?;
    Ok(())
}

/// Applies only the first `version` migrations, to build the files older builds left.
#[cfg(test)]
pub(crate) fn migrate_to(conn: &Connection, version: usize) {
    for script in &MIGRATIONS[..version] {
        conn.execute_batch(script).unwrap();
    }
    conn.pragma_update(None, "user_version", version as i64)
        .unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_version_matches_the_migration_list() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v as usize, latest_version());
    }

    /// Product 01900000-0000-7000-8000-000000000001 (price 1.50) with one stock level at location
    /// 1, as the version-1 schema stores them, with totals equal to the level.
    fn old_product(conn: &Connection, on_hand: i64, reserved: i64) {
        conn.execute_batch(&format!(
            "INSERT INTO locations (id, name, created_at) VALUES (1, 'A', '2029-12-31T00:00:00.000000Z');
             INSERT INTO products (id, name, description, sku, price, location_id, version, on_hand_total,
                                   reserved_total, created_at, updated_at)
             VALUES ('01900000-0000-7000-8000-000000000001', 'Old', '', 'OLD1', '1.50', 1, 1, {on_hand},
                     {reserved}, '2029-12-31T00:00:00.000000Z', '2029-12-31T00:00:00.000000Z');
             INSERT INTO stock_levels (id, product_id, location_id, on_hand, reserved, created_at, updated_at)
             VALUES ('01900000-0000-7000-8000-000000000002', '01900000-0000-7000-8000-000000000001', 1,
                     {on_hand}, {reserved}, '2029-12-31T00:00:00.000000Z', '2029-12-31T00:00:00.000000Z');"
        ))
        .unwrap();
    }

    /// A file left at version 1 by an older build gains the later tables and keeps its rows.
    #[test]
    fn version_one_file_is_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        {
            let conn = Connection::open(&path).unwrap();
            migrate_to(&conn, 1);
            old_product(&conn, 0, 0);
            assert!(conn.prepare("SELECT * FROM reservations").is_err());
        }
        let inv = crate::Inventory::open(&path).unwrap();
        let id = uuid::Uuid::parse_str("01900000-0000-7000-8000-000000000001").unwrap();
        inv.add_stock(crate::StockOp::add(id, 3)).unwrap();
        inv.reserve_stock(crate::StockOp::reserve(id, 2).reference("R"))
            .unwrap();
        assert_eq!(
            inv.get_product(id).unwrap().product.price.to_string(),
            "1.50"
        );
        assert_eq!(inv.list_reservations(id).unwrap().len(), 1);
        // Version 7 gave the old product its catalogue revision; the next change takes the next.
        let catalogue = inv.catalogue_changes(0, None).unwrap();
        assert_eq!(
            catalogue
                .products
                .iter()
                .map(|e| (e.product.id, e.revision))
                .collect::<Vec<_>>(),
            vec![(id, 1)]
        );
        let mut new = crate::NewProduct::new("New", "NEW1", crate::Price::parse("1").unwrap());
        new.location = Some("A".into());
        let new = inv.create_product(new).unwrap().product.id;
        let next = inv.catalogue_changes(1, None).unwrap();
        assert_eq!((next.products[0].product.id, next.next_after), (new, 2));
        assert!(inv.verify().unwrap().ok);
    }

    /// A version-2 file keeps its open reservations, its idempotency keys and its history
    /// through the moves to versions 3, 4 and 5.
    #[test]
    fn version_two_file_is_migrated() {
        use crate::{Command, Inventory, ManualClock, Options, Outcome};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.db");
        let id = uuid::Uuid::parse_str("01900000-0000-7000-8000-000000000001").unwrap();
        let delete = Command::DeleteProduct {
            id,
            expected_version: None,
        };
        {
            let conn = Connection::open(&path).unwrap();
            migrate_to(&conn, 2);
            old_product(&conn, 5, 2);
            conn.execute_batch(
                "INSERT INTO reservations (id, product_id, location_id, reference, quantity, expires_at,
                                           created_at, updated_at)
                 VALUES ('01900000-0000-7000-8000-000000000003', '01900000-0000-7000-8000-000000000001', 1,
                         'ORDER-1', 2, NULL, '2029-12-31T00:00:00.000000Z', '2029-12-31T00:00:00.000000Z');
                 INSERT INTO movements (id, product_id, location_id, kind, quantity, on_hand_delta,
                                        reserved_delta, on_hand_after, reserved_after, reference, created_at)
                 VALUES ('01900000-0000-7000-8000-000000000004', '01900000-0000-7000-8000-000000000001', 1,
                         'IN', 5, 5, 0, 5, 0, NULL, '2029-12-31T00:00:00.000000Z'),
                        ('01900000-0000-7000-8000-000000000005', '01900000-0000-7000-8000-000000000001', 1,
                         'RESERVE', 2, 0, 2, 5, 2, 'ORDER-1', '2029-12-31T00:00:00.000000Z');",
            )
            .unwrap();
            conn.execute(
                "INSERT INTO idempotency_keys (key, request, outcome, created_at) VALUES ('k', ?1, ?2, ?3)",
                rusqlite::params![
                    serde_json::to_string(&delete).unwrap(),
                    serde_json::to_string(&Outcome::ProductDeleted(id)).unwrap(),
                    "2029-12-31T23:00:00.000000Z"
                ],
            )
            .unwrap();
        }
        let options = Options {
            clock: std::sync::Arc::new(ManualClock::fixed()), // 2030-01-01T00:00Z: an hour on
            ..Options::default()
        };
        let inv = Inventory::open_with(&path, options).unwrap();
        let replay = inv.execute_with_key(delete, Some("k")).unwrap();
        assert!(replay.replayed, "the key survived the migration");
        assert!(
            inv.get_product(id).is_ok(),
            "and the replay applied nothing"
        );
        let history = inv
            .list_movements(id, &crate::MovementQuery::default())
            .unwrap();
        assert_eq!(
            history.len(),
            2,
            "old movements are filed under the product's number"
        );
        let held = inv.list_reservations(id).unwrap();
        assert_eq!(
            (held.len(), held[0].reference.as_str(), held[0].quantity),
            (1, "ORDER-1", 2)
        );
        assert!(inv.verify().unwrap().ok);
    }

    #[test]
    fn application_id_literal_matches() {
        assert!(super::V1.contains(&format!("application_id = {};", super::APPLICATION_ID)));
    }
}
