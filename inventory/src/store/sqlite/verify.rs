//! The SQLite checks of `verify()`: the proofs of the caches against the ledger that both stores
//! run (`store::sql::PROOFS`), and SQLite's own integrity and foreign-key checks.

use crate::error::Result;
use crate::store::sql::{MAX_PROBLEMS_PER_CHECK, PROOFS};
use rusqlite::Connection;

pub(crate) fn problems(conn: &Connection) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for (title, sql) in PROOFS {
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
