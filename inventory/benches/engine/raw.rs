//! The baseline: the least work a stock write can be. One IMMEDIATE transaction that updates
//! one stock level and appends one movement, through plain rusqlite with cached statements.
//! It runs on a file the engine created (same schema, indexes, CHECKs and foreign keys) with
//! the engine's pragmas, so the gap to the engine is the engine's own work: its extra reads
//! and checks, the product totals, the savepoint and the group-commit queue.

use inventory::{Durability, Uuid};
use rusqlite::{Connection, TransactionBehavior, params};
use std::path::Path;

pub struct Raw {
    conn: Connection,
    product: String,
    location: i64,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl Raw {
    /// Opens `path` (already holding `product`, created by the engine, which has been closed).
    pub fn open(path: &Path, durability: Durability, product: Uuid) -> Raw {
        let conn = Connection::open(path).expect("open raw");
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .expect("busy_timeout");
        conn.pragma_update(None, "foreign_keys", true)
            .expect("foreign_keys");
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "wal", |r| r.get(0))
            .expect("wal");
        assert_eq!(mode, "wal");
        let sync = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", sync)
            .expect("synchronous");
        conn.pragma_update(
            None,
            "wal_autocheckpoint",
            durability.wal_autocheckpoint_pages(),
        )
        .expect("wal_autocheckpoint");
        let product = product.to_string();
        let location = conn
            .query_row(
                "SELECT location_id FROM stock_levels WHERE product_id = ?1",
                [&product],
                |r| r.get(0),
            )
            .expect("the product's level");
        Raw {
            conn,
            product,
            location,
        }
    }

    /// Adds one unit: update the level, append the IN movement with the balances after.
    pub fn add_one(&mut self, expiry_probe: bool) {
        let now = now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .expect("begin");
        if expiry_probe {
            // The engine's expiry check (ledger::expire_due), run before every stock operation
            // since issue 7: this variant prices it.
            let mut stmt = tx
                .prepare_cached(
                    "SELECT product_id, location_id, reference, quantity FROM reservations
                     WHERE expires_at IS NOT NULL AND expires_at <= ?2 AND (?1 IS NULL OR product_id = ?1)",
                )
                .expect("prepare probe");
            let due = stmt
                .query_map(params![self.product, now], |_| Ok(()))
                .expect("probe")
                .count();
            assert_eq!(due, 0);
        }
        let (on_hand, reserved): (i64, i64) = tx
            .prepare_cached(
                "UPDATE stock_levels SET on_hand = on_hand + 1, updated_at = ?1
                 WHERE product_id = ?2 AND location_id = ?3 RETURNING on_hand, reserved",
            )
            .expect("prepare update")
            .query_row(params![now, self.product, self.location], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("update");
        tx.prepare_cached(
            "INSERT INTO movements (id, product_id, location_id, kind, quantity, on_hand_delta,
                                    reserved_delta, on_hand_after, reserved_after, created_at)
             VALUES (?1, ?2, ?3, 'IN', 1, 1, 0, ?4, ?5, ?6)",
        )
        .expect("prepare insert")
        .execute(params![
            Uuid::now_v7().to_string(),
            self.product,
            self.location,
            on_hand,
            reserved,
            now
        ])
        .expect("insert");
        tx.commit().expect("commit");
    }
}
