//! The SQLite store: one file, one writer connection with group commit, and a pool of WAL
//! readers, which never block the writer and are never blocked by it, so threads of one process
//! never see SQLITE_BUSY. Other processes on the same file wait up to the busy timeout.

mod read;
mod schema;
mod verify;
mod write;

pub use schema::latest_version;

use super::Options;
use super::group::{Feed, Queue, Queued, lock};
use super::tx::ReadTx;
use crate::clock::Clock;
use crate::command::{Command, Outcome};
use crate::error::{Error, Result};
use crate::rules;
use crate::store::Durability;
use crate::write::{Applied, Call};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Statements and queries on one connection, inside whatever transaction it is in.
pub(crate) struct Sql<'c>(pub &'c Connection);

pub(crate) struct Db {
    // Field order is drop order: readers close first, so the writer closes last and
    // checkpoints the WAL into the main file.
    readers: r2d2::Pool<SqliteConnectionManager>,
    queue: Queue,
    writer: Mutex<Connection>,
    pub feed: Feed,
    pub clock: Arc<dyn Clock>,
}

fn configure(conn: &Connection, busy_timeout: Duration) -> rusqlite::Result<()> {
    conn.busy_timeout(busy_timeout)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

impl Db {
    pub fn open(path: &Path, options: Options) -> Result<Db> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut writer = Connection::open_with_flags(path, flags)
            .map_err(|e| Error::storage(format!("cannot open {}: {e}", path.display())))?;
        configure(&writer, options.busy_timeout)?;
        schema::open(&mut writer, path, options.busy_timeout)?;
        let sync = match options.durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        writer.pragma_update(None, "synchronous", sync)?;
        // Each command runs in a savepoint, whose sub-journal otherwise spills to a temp file
        // past 64 KiB: a batch then pays a pwrite per page it touches.
        writer.pragma_update(None, "temp_store", "MEMORY")?;
        writer.pragma_update(
            None,
            "wal_autocheckpoint",
            options.durability.wal_autocheckpoint_pages(),
        )?;

        let busy = options.busy_timeout;
        let manager = SqliteConnectionManager::file(path)
            .with_flags(flags)
            .with_init(move |c| {
                configure(c, busy)?;
                c.pragma_update(None, "query_only", true)
            });
        let readers = r2d2::Pool::builder()
            .max_size(options.readers.max(1))
            .min_idle(Some(1))
            // r2d2's default runs a query on every checkout; a local file has no connection to lose.
            .test_on_check_out(false)
            .build(manager)?;
        let last_seq = Sql(&writer).last_seq()?;
        Ok(Db {
            readers,
            queue: Queue::default(),
            writer: Mutex::new(writer),
            feed: Feed::new(last_seq),
            clock: options.clock,
        })
    }

    /// Runs `f` in one read transaction, so every statement in it sees the same snapshot
    /// (a product and its levels agree) and SQLite takes its WAL read lock once, not once per
    /// statement.
    pub fn read<T>(&self, f: impl FnOnce(&mut dyn ReadTx) -> Result<T>) -> Result<T> {
        let mut conn = self.readers.get()?;
        let snapshot = conn.transaction()?;
        f(&mut Sql(&snapshot))
    }

    pub fn submit(&self, command: Command, call: Call) -> Result<Applied<Outcome>> {
        self.queue.submit(command, call, |group| {
            let mut writer = lock(&self.writer);
            self.commit_group(&mut writer, group);
        })
    }

    fn commit_group(&self, conn: &mut Connection, group: &[Arc<Queued>]) {
        match self.apply_group(conn, group) {
            Ok((results, seq)) => {
                if let Some(seq) = seq {
                    self.feed.advance(seq);
                }
                for (q, r) in group.iter().zip(results) {
                    q.done(r);
                }
            }
            Err(e) => {
                for q in group {
                    q.done(Err(e.clone()));
                }
            }
        }
    }

    /// Applies a group in one transaction. Returns each command's result and, when something
    /// was committed, the latest sequence number: read inside the transaction, because read
    /// after it, on its own, it would take and drop a WAL read lock (two `fcntl` calls).
    #[allow(clippy::type_complexity)]
    fn apply_group(
        &self,
        conn: &mut Connection,
        group: &[Arc<Queued>],
    ) -> Result<(Vec<Result<Applied<Outcome>>>, Option<i64>)> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut sql = Sql(&tx);
        if let [only] = group {
            // Alone in its transaction, a command needs no savepoint: on failure the whole
            // transaction rolls back (when `tx` drops).
            let result = rules::execute(
                &mut sql,
                &only.command,
                &only.call,
                super::command_time(self.clock.as_ref()),
            );
            let mut seq = None;
            if result.is_ok() {
                seq = Some(sql.last_seq()?);
                tx.commit()?;
            }
            return Ok((vec![result], seq));
        }
        let mut results = Vec::with_capacity(group.len());
        for q in group {
            let now = super::command_time(self.clock.as_ref());
            let run = |sql: &str| tx.prepare_cached(sql).and_then(|mut s| s.execute([]));
            run("SAVEPOINT command")?;
            let result = rules::execute(&mut sql, &q.command, &q.call, now);
            if result.is_err() {
                run("ROLLBACK TO command")?;
            }
            run("RELEASE command")?;
            results.push(result);
        }
        let seq = Some(sql.last_seq()?);
        tx.commit()?;
        Ok((results, seq))
    }

    /// Copies the WAL into the main file and truncates it.
    pub fn checkpoint(&self) -> Result<()> {
        let writer = lock(&self.writer);
        writer.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

impl Drop for Db {
    /// Leaves every committed write in the main database file even if a pooled reader (which
    /// r2d2 may still be opening on its own thread) outlives the writer and so closes last.
    fn drop(&mut self) {
        // A failure loses nothing: the WAL still holds the commits, and the next open replays it.
        let _ = self.checkpoint();
    }
}
