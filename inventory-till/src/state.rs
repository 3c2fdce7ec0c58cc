//! The till's own state, kept durably beside its ledger in a small SQLite file
//! (`<ledger>.till`): how far the outbox has been acknowledged and attempted, the sales found in
//! conflict and their resolutions, the catalogue cursor, and each product's target and last
//! known allotment. The sales themselves are not here: the outbox is the ledger (a sale is one
//! movement, written in one transaction), so nothing has to be made atomic with a sale.
//!
//! The file is opened in exclusive locking mode: while a till has it open, no other process can
//! (opening fails with BUSY), so two processes never sync one till at once.

use crate::model::{Conflict, Resolution, Sale};
use chrono::{DateTime, SecondsFormat, Utc};
use inventory::{Error, LedgerPoint, Result, SeenPoint, Uuid};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS till (
    only_row         INTEGER PRIMARY KEY CHECK (only_row = 1),
    till_id          TEXT NOT NULL,
    location         TEXT NOT NULL,
    -- every sale at or below this sequence number of the ledger is acknowledged or in conflict
    acked_upto       INTEGER NOT NULL CHECK (acked_upto >= 0),
    -- sales up to here may have reached central
    attempted_upto   INTEGER NOT NULL CHECK (attempted_upto >= 0),
    -- central's clock at the earliest attempt not yet acknowledged
    attempted_at     TEXT,
    catalogue_after  INTEGER NOT NULL CHECK (catalogue_after >= 0),
    synced_at        TEXT
);

CREATE TABLE IF NOT EXISTS allotments (
    product_id        TEXT PRIMARY KEY,
    target            INTEGER NOT NULL CHECK (target >= 0),
    held              INTEGER NOT NULL CHECK (held >= 0),
    lease_expires_at  TEXT
);
CREATE TABLE IF NOT EXISTS conflicts (
    reference        TEXT PRIMARY KEY,
    seq              INTEGER NOT NULL,
    product_id       TEXT NOT NULL,
    quantity         INTEGER NOT NULL,
    sold_at          TEXT NOT NULL,
    notes            TEXT,
    actor            TEXT,
    code             TEXT NOT NULL,
    message          TEXT NOT NULL,
    found_at         TEXT NOT NULL,
    resolution       TEXT CHECK (resolution IN ('apply', 'discard')),
    reason           TEXT,
    -- central's clock at the first attempt to apply the resolution
    attempted_at     TEXT,
    resolution_error TEXT,
    resolved_at      TEXT,
    -- when central acknowledged the till's report of the conflict (POST /api/tills/conflicts)
    reported_at      TEXT
);
"#;

/// Columns added to `till` since its first version: who this till is to central, and what it
/// last saw of central.
const TILL_COLUMNS: [(&str, &str); 9] = [
    // generated once for these files: central tells two sets of files under one till id apart
    ("instance_id", "TEXT"),
    // what the last check-in at central left, and the one a check-in under way leaves
    ("token", "TEXT"),
    ("next_token", "TEXT"),
    // central's database identity, generation and ledger high-water at the last complete check
    ("central_id", "TEXT"),
    ("central_generation", "TEXT"),
    ("central_high_water", "INTEGER"),
    // the movement at that high-water, and central's clock at that check-in
    ("central_point", "TEXT"),
    ("central_checked_at", "TEXT"),
    // every acknowledged sale up to this sequence of the till's ledger was at central before
    // that point
    ("central_covers", "INTEGER"),
];

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn time(s: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
        })
}

fn opt_time(s: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    s.as_deref().map(time).transpose()
}

fn uuid(s: &str) -> rusqlite::Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })
}

/// Where the outbox stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub acked_upto: i64,
    pub attempted_upto: i64,
    pub attempted_at: Option<DateTime<Utc>>,
    pub catalogue_after: i64,
}

/// A product's row: its target, and what central held at the last sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Row {
    pub target: i64,
    pub held: i64,
    pub lease_expires_at: Option<DateTime<Utc>>,
}

/// What the till's files are to central.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub instance_id: String,
    pub token: Option<String>,
    pub next_token: Option<String>,
    pub central: Option<SeenCentral>,
}

/// Central's database as a till last checked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeenCentral {
    pub id: String,
    pub generation: String,
    pub high_water: i64,
    /// The movement at the high-water and when central answered; none from files written
    /// before points were kept, or while central's ledger was empty.
    pub point: Option<SeenPoint>,
    /// Every acknowledged sale up to this sequence of the till's ledger was at central before
    /// the point, so holding the point means holding them.
    pub covers: i64,
}

pub(crate) struct State {
    conn: Mutex<Connection>,
}

impl State {
    pub fn open(path: &Path, till_id: &str, location: &str) -> Result<State> {
        let conn = Connection::open(path)
            .map_err(|e| Error::storage(format!("cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_millis(100))?;
        // Exclusive: one process per till. The lock is taken by the first write below.
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                    Error::new(
                        inventory::ErrorCode::Busy,
                        format!(
                            "{} is open in another process: one process per till",
                            path.display()
                        ),
                    )
                }
                _ => Error::from(e),
            })?;
        conn.execute(
            "INSERT INTO till (only_row, till_id, location, acked_upto, attempted_upto, catalogue_after)
             VALUES (1, ?1, ?2, 0, 0, 0) ON CONFLICT (only_row) DO NOTHING",
            params![till_id, location],
        )?;
        let present: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('till')")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for (column, kind) in TILL_COLUMNS {
            if !present.iter().any(|p| p == column) {
                conn.execute_batch(&format!("ALTER TABLE till ADD COLUMN {column} {kind}"))?;
            }
        }
        conn.execute(
            "UPDATE till SET instance_id = ?1 WHERE instance_id IS NULL",
            [Uuid::now_v7().to_string()],
        )?;
        let (id, at): (String, String) =
            conn.query_row("SELECT till_id, location FROM till", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        if id != till_id || at != location {
            return Err(Error::validation(
                "till_id",
                format!(
                    "{} belongs to till {id:?} at {at:?}, not {till_id:?} at {location:?}",
                    path.display()
                ),
            ));
        }
        Ok(State {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn cursor(&self) -> Result<Cursor> {
        let conn = self.conn();
        Ok(conn.query_row(
            "SELECT acked_upto, attempted_upto, attempted_at, catalogue_after FROM till",
            [],
            |r| {
                Ok(Cursor {
                    acked_upto: r.get(0)?,
                    attempted_upto: r.get(1)?,
                    attempted_at: opt_time(r.get(2)?)?,
                    catalogue_after: r.get(3)?,
                })
            },
        )?)
    }

    /// Records, durably and before anything is sent, that the sales up to `upto` may reach
    /// central from now on, and the earliest such attempt still unanswered.
    pub fn attempting(&self, upto: i64, since: DateTime<Utc>) -> Result<()> {
        self.conn().execute(
            "UPDATE till SET attempted_upto = max(attempted_upto, ?1), attempted_at = ?2",
            params![upto, text(since)],
        )?;
        Ok(())
    }

    /// Every sale up to `upto` is acknowledged (or in conflict).
    pub fn acknowledged(&self, upto: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE till SET acked_upto = max(acked_upto, ?1),
                    attempted_at = CASE WHEN max(acked_upto, ?1) >= attempted_upto THEN NULL
                                        ELSE attempted_at END",
            params![upto],
        )?;
        Ok(())
    }

    /// Records a sale in conflict and moves the cursor past it, in one transaction.
    pub fn conflict(&self, conflict: &Conflict) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let s = &conflict.sale;
        tx.execute(
            "INSERT INTO conflicts (reference, seq, product_id, quantity, sold_at, notes, actor, code,
                                    message, found_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (reference) DO UPDATE SET code = ?8, message = ?9, found_at = ?10",
            params![
                s.reference,
                s.seq,
                s.product_id.to_string(),
                s.quantity,
                text(s.sold_at),
                s.notes,
                s.actor,
                conflict.code,
                conflict.message,
                text(conflict.found_at)
            ],
        )?;
        tx.execute(
            "UPDATE till SET acked_upto = max(acked_upto, ?1),
                    attempted_at = CASE WHEN max(acked_upto, ?1) >= attempted_upto THEN NULL
                                        ELSE attempted_at END",
            params![s.seq],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Conflicts central has not acknowledged a report of: (reference, code), oldest first.
    pub fn unreported(&self) -> Result<Vec<(String, String)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT reference, code FROM conflicts WHERE reported_at IS NULL ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Central acknowledged the report of this conflict.
    pub fn reported(&self, reference: &str, at: DateTime<Utc>) -> Result<()> {
        self.conn().execute(
            "UPDATE conflicts SET reported_at = ?2 WHERE reference = ?1",
            params![reference, text(at)],
        )?;
        Ok(())
    }

    /// Conflicts not yet resolved at central, oldest first.
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT reference, seq, product_id, quantity, sold_at, notes, actor, code, message,
                    found_at, resolution, reason, resolution_error
             FROM conflicts WHERE resolved_at IS NULL ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            let resolution: Option<String> = r.get(10)?;
            Ok(Conflict {
                sale: Sale {
                    reference: r.get(0)?,
                    seq: r.get(1)?,
                    product_id: uuid(&r.get::<_, String>(2)?)?,
                    quantity: r.get(3)?,
                    sold_at: time(&r.get::<_, String>(4)?)?,
                    notes: r.get(5)?,
                    actor: r.get(6)?,
                    conflict: true,
                },
                code: r.get(7)?,
                message: r.get(8)?,
                found_at: time(&r.get::<_, String>(9)?)?,
                resolution: resolution.as_deref().and_then(Resolution::parse),
                reason: r.get(11)?,
                resolution_error: r.get(12)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records an operator's decision (replacing an earlier one not yet applied).
    pub fn decide(&self, reference: &str, resolution: Resolution, reason: &str) -> Result<()> {
        let changed = self.conn().execute(
            "UPDATE conflicts SET resolution = ?2, reason = ?3, resolution_error = NULL
             WHERE reference = ?1 AND resolved_at IS NULL",
            params![reference, resolution.as_str(), reason],
        )?;
        if changed == 0 {
            return Err(Error::not_found(format!("sale {reference:?} in conflict")));
        }
        Ok(())
    }

    /// The first time a decision is sent to central (on central's clock); returns the first.
    pub fn resolution_attempt(
        &self,
        reference: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        let conn = self.conn();
        let first: Option<String> = conn
            .query_row(
                "SELECT attempted_at FROM conflicts WHERE reference = ?1",
                [reference],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        if first.is_none() {
            conn.execute(
                "UPDATE conflicts SET attempted_at = ?2 WHERE reference = ?1",
                params![reference, text(at)],
            )?;
        }
        Ok(opt_time(first)?)
    }

    /// Central applied the decision: the sale leaves the outbox.
    pub fn resolved(&self, reference: &str, at: DateTime<Utc>) -> Result<()> {
        self.conn().execute(
            "UPDATE conflicts SET resolved_at = ?2 WHERE reference = ?1",
            params![reference, text(at)],
        )?;
        Ok(())
    }

    /// Central refused the decision: it is cleared, with the reason, for the operator to decide
    /// again.
    pub fn refused(&self, reference: &str, why: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE conflicts SET resolution = NULL, reason = NULL, attempted_at = NULL,
                    resolution_error = ?2
             WHERE reference = ?1",
            params![reference, why],
        )?;
        Ok(())
    }

    /// Who these files are to central, and what they last saw of it.
    pub fn identity(&self) -> Result<Identity> {
        let conn = self.conn();
        Ok(conn.query_row(
            "SELECT instance_id, token, next_token, central_id, central_generation,
                    central_high_water, central_point, central_checked_at, central_covers
             FROM till",
            [],
            |r| {
                let point = match (
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ) {
                    (Some(id), Some(at)) => Some(SeenPoint {
                        point: LedgerPoint {
                            seq: r.get(5)?,
                            movement_id: uuid(&id)?,
                        },
                        checked_in_at: time(&at)?,
                    }),
                    _ => None,
                };
                let central = match (r.get(3)?, r.get(4)?, r.get(5)?) {
                    (Some(id), Some(generation), Some(high_water)) => Some(SeenCentral {
                        id,
                        generation,
                        high_water,
                        point,
                        // Files from before points were kept checked every sale by the
                        // high-water alone.
                        covers: r.get::<_, Option<i64>>(8)?.unwrap_or(i64::MAX),
                    }),
                    _ => None,
                };
                Ok(Identity {
                    instance_id: r.get(0)?,
                    token: r.get(1)?,
                    next_token: r.get(2)?,
                    central,
                })
            },
        )?)
    }

    /// The token the next check-in leaves: made and stored before it is sent, so that a
    /// check-in whose answer was lost is sent again as it was.
    pub fn next_token(&self) -> Result<String> {
        let conn = self.conn();
        let pending: Option<String> =
            conn.query_row("SELECT next_token FROM till", [], |r| r.get(0))?;
        if let Some(token) = pending {
            return Ok(token);
        }
        let token = Uuid::now_v7().to_string();
        conn.execute("UPDATE till SET next_token = ?1", [&token])?;
        Ok(token)
    }

    /// Central accepted the check-in that leaves `token`.
    pub fn checked_in(&self, token: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE till SET token = ?1, next_token = NULL WHERE next_token = ?1",
            [token],
        )?;
        Ok(())
    }

    /// What the till has now checked of central: the point its next check-in sends, and how
    /// far its acknowledged sales are known to be before it.
    pub fn saw_central(&self, seen: &SeenCentral) -> Result<()> {
        self.conn().execute(
            "UPDATE till SET central_id = ?1, central_generation = ?2, central_high_water = ?3,
                    central_point = ?4, central_checked_at = ?5, central_covers = ?6",
            params![
                seen.id,
                seen.generation,
                seen.high_water,
                seen.point.map(|p| p.point.movement_id.to_string()),
                seen.point.map(|p| text(p.checked_in_at)),
                seen.covers
            ],
        )?;
        Ok(())
    }

    /// Conflicts ever recorded, resolved ones included: their sales are not pushed again.
    pub fn conflict_references(&self) -> Result<std::collections::HashSet<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT reference FROM conflicts")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn set_catalogue_after(&self, after: i64) -> Result<()> {
        self.conn()
            .execute("UPDATE till SET catalogue_after = ?1", [after])?;
        Ok(())
    }

    pub fn synced(&self, at: DateTime<Utc>) -> Result<()> {
        self.conn()
            .execute("UPDATE till SET synced_at = ?1", [text(at)])?;
        Ok(())
    }

    /// Central's clock at the end of the last complete sync.
    pub fn synced_at(&self) -> Result<Option<DateTime<Utc>>> {
        let at: Option<String> = self
            .conn()
            .query_row("SELECT synced_at FROM till", [], |r| r.get(0))?;
        Ok(opt_time(at)?)
    }

    pub fn set_target(&self, product: Uuid, target: i64) -> Result<()> {
        self.conn().execute(
            "INSERT INTO allotments (product_id, target, held) VALUES (?1, ?2, 0)
             ON CONFLICT (product_id) DO UPDATE SET target = ?2",
            params![product.to_string(), target],
        )?;
        Ok(())
    }

    /// What central held for the till of each product after a sync.
    pub fn held(&self, rows: &[(Uuid, i64, Option<DateTime<Utc>>)]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for (product, held, lease) in rows {
            tx.execute(
                "INSERT INTO allotments (product_id, target, held, lease_expires_at) VALUES (?1, 0, ?2, ?3)
                 ON CONFLICT (product_id) DO UPDATE SET held = ?2, lease_expires_at = ?3",
                params![product.to_string(), held, lease.map(text)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every product the till has a target for or was ever allotted.
    pub fn rows(&self) -> Result<HashMap<Uuid, Row>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT product_id, target, held, lease_expires_at FROM allotments ORDER BY product_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                uuid(&r.get::<_, String>(0)?)?,
                Row {
                    target: r.get(1)?,
                    held: r.get(2)?,
                    lease_expires_at: opt_time(r.get(3)?)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
