//! Connections. One writer connection applies every command, with leader-based group commit:
//! a caller queues its command and, if no leader is at work, becomes the leader and applies
//! every queued command in one IMMEDIATE transaction (each in its own savepoint, so a failure
//! rolls back alone) with one COMMIT, while the others wait for their results. Alone, a caller
//! commits just its own command; under contention, one fsync serves many. Readers use a pool
//! of WAL connections, which never block the writer and are never blocked by it, so
//! concurrency never surfaces as SQLITE_BUSY.

use crate::apply::{self, Executed};
use crate::clock::Clock;
use crate::command::Command;
use crate::error::{Error, Result};
use crate::read;
use crate::schema;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How hard a commit is pushed to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=FULL`: the WAL is synced at every commit, so an acknowledged write
    /// survives power loss. Group commit shares each sync among concurrent writers.
    #[default]
    Full,
    /// `synchronous=NORMAL`: survives a crash of the application, but the last commits
    /// may be lost if the machine loses power.
    Normal,
}

impl Durability {
    /// How many WAL pages the writer lets accumulate before it copies them back into the
    /// database file (`PRAGMA wal_autocheckpoint`).
    ///
    /// A checkpoint costs about the same whatever its size (it copies each distinct page once
    /// and syncs the database file), and the writer pays it inline. Under `Normal` that sync is
    /// the only one a write ever waits for, and at SQLite's default of 1,000 pages checkpoints
    /// were the largest cost of a single write, so `Normal` checkpoints every 10,000 pages
    /// (the WAL grows to about 40 MiB). Under `Full` every commit syncs anyway, so checkpoints
    /// are a small share, while a WAL that grows past its old size makes each commit's sync
    /// also allocate blocks and write the inode: `Full` keeps the default. Measurements in
    /// docs/perf/engine.md.
    pub fn wal_autocheckpoint_pages(self) -> u32 {
        match self {
            Durability::Full => 1_000,
            Durability::Normal => 10_000,
        }
    }
}

/// How to open a database.
#[derive(Clone)]
pub struct Options {
    /// The engine's notion of now (inject a [`ManualClock`](crate::ManualClock) in tests).
    pub clock: Arc<dyn Clock>,
    /// How hard commits are pushed to disk.
    pub durability: Durability,
    /// Most pooled read connections.
    pub readers: u32,
    /// How long to wait for another process holding the file's write lock.
    pub busy_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            clock: Arc::new(crate::clock::SystemClock),
            durability: Durability::default(),
            readers: 8,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("durability", &self.durability)
            .field("readers", &self.readers)
            .field("busy_timeout", &self.busy_timeout)
            .finish_non_exhaustive()
    }
}

struct Queued {
    command: Command,
    key: Option<String>,
    result: Mutex<Option<Result<Executed>>>,
}

/// The latest committed sequence number, for change-feed subscribers to wait on.
struct Feed {
    last_seq: Mutex<i64>,
    changed: Condvar,
}

/// Commands waiting for a leader, and whether a leader is applying a group now.
#[derive(Default)]
struct Queue {
    waiting: Vec<Arc<Queued>>,
    leading: bool,
}

pub(crate) struct Store {
    // Field order is drop order: readers close first, so the writer closes last and
    // checkpoints the WAL into the main file.
    readers: r2d2::Pool<SqliteConnectionManager>,
    queue: Mutex<Queue>,
    /// Signalled (with `queue`) when a leader has finished a group.
    applied: Condvar,
    writer: Mutex<Connection>,
    feed: Feed,
    pub(crate) clock: Arc<dyn Clock>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while applying a command is caught and its transaction rolled back, so the data
    // behind a poisoned lock is consistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn configure(conn: &Connection, busy_timeout: Duration) -> rusqlite::Result<()> {
    conn.busy_timeout(busy_timeout)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

impl Store {
    pub(crate) fn open(path: &Path, options: Options) -> Result<Store> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut writer = Connection::open_with_flags(path, flags)
            .map_err(|e| Error::storage(format!("cannot open {}: {e}", path.display())))?;
        configure(&writer, options.busy_timeout)?;
        schema::check_compatible(&writer)?;
        let mode: String =
            writer.pragma_update_and_check(None, "journal_mode", "wal", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::storage(format!(
                "cannot switch {} to WAL (journal_mode is {mode})",
                path.display()
            )));
        }
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
        schema::migrate(&mut writer)?;

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
        let last_seq = read::last_seq(&writer)?;
        Ok(Store {
            readers,
            queue: Mutex::new(Queue::default()),
            applied: Condvar::new(),
            writer: Mutex::new(writer),
            feed: Feed {
                last_seq: Mutex::new(last_seq),
                changed: Condvar::new(),
            },
            clock: options.clock,
        })
    }

    /// Runs `f` in one read transaction, so every statement in it sees the same snapshot
    /// (a product and its levels agree) and SQLite takes its WAL read lock once, not once per
    /// statement.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.readers.get()?;
        let snapshot = conn.transaction()?;
        f(&snapshot)
    }

    /// Applies a command through the group-commit queue. Whoever finds no leader at work
    /// becomes the leader and applies everything queued; the others wait on `applied`, not on
    /// the writer, so a finished follower returns at once instead of queueing behind the next
    /// group's commit (which would leave each commit with one or two commands).
    pub(crate) fn submit(&self, command: Command, key: Option<String>) -> Result<Executed> {
        let mine = Arc::new(Queued {
            command,
            key,
            result: Mutex::new(None),
        });
        let mut queue = lock(&self.queue);
        queue.waiting.push(Arc::clone(&mine));
        loop {
            if let Some(done) = lock(&mine.result).take() {
                return done; // a leader applied it
            }
            if queue.leading {
                queue = self.applied.wait(queue).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            queue.leading = true;
            let group = std::mem::take(&mut queue.waiting);
            drop(queue);
            let mut writer = lock(&self.writer);
            if catch_unwind(AssertUnwindSafe(|| self.commit_group(&mut writer, &group))).is_err() {
                for p in &group {
                    lock(&p.result).get_or_insert_with(|| {
                        Err(Error::storage("internal error while applying a command"))
                    });
                }
            }
            drop(writer);
            queue = lock(&self.queue);
            queue.leading = false;
            self.applied.notify_all();
        }
    }

    fn commit_group(&self, conn: &mut Connection, group: &[Arc<Queued>]) {
        let results = match self.apply_group(conn, group) {
            Ok((results, Some(seq))) => {
                let mut last = lock(&self.feed.last_seq);
                if seq > *last {
                    *last = seq;
                    self.feed.changed.notify_all();
                }
                results
            }
            Ok((results, None)) => results,
            Err(e) => group.iter().map(|_| Err(e.clone())).collect(),
        };
        for (p, r) in group.iter().zip(results) {
            *lock(&p.result) = Some(r);
        }
    }

    /// Applies a group in one transaction. Returns each command's result and, when something
    /// was committed, the latest sequence number: read inside the transaction, because read
    /// after it, on its own, it would take and drop a WAL read lock (two `fcntl` calls).
    fn apply_group(
        &self,
        conn: &mut Connection,
        group: &[Arc<Queued>],
    ) -> Result<(Vec<Result<Executed>>, Option<i64>)> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let [only] = group {
            // Alone in its transaction, a command needs no savepoint: on failure the whole
            // transaction rolls back (when `tx` drops).
            let result =
                apply::execute(&tx, &only.command, only.key.as_deref(), self.command_time());
            let mut seq = None;
            if result.is_ok() {
                seq = Some(read::last_seq(&tx)?);
                tx.commit()?;
            }
            return Ok((vec![result], seq));
        }
        let mut results = Vec::with_capacity(group.len());
        for p in group {
            let now = self.command_time();
            let run = |sql: &str| tx.prepare_cached(sql).and_then(|mut s| s.execute([]));
            run("SAVEPOINT command")?;
            let result = apply::execute(&tx, &p.command, p.key.as_deref(), now);
            if result.is_err() {
                run("ROLLBACK TO command")?;
            }
            run("RELEASE command")?;
            results.push(result);
        }
        let seq = Some(read::last_seq(&tx)?);
        tx.commit()?;
        Ok((results, seq))
    }

    /// "Now" for a command, at the microsecond precision timestamps are stored with, so a
    /// result returned by a write equals the same record read back.
    fn command_time(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::SubsecRound::trunc_subsecs(self.clock.now(), 6)
    }

    /// Blocks until a movement after `after` has committed or `timeout` passes; returns the
    /// latest committed sequence number.
    pub(crate) fn wait_for_change(&self, after: i64, timeout: Duration) -> i64 {
        let last = lock(&self.feed.last_seq);
        let (last, _) = self
            .feed
            .changed
            .wait_timeout_while(last, timeout, |seq| *seq <= after)
            .unwrap_or_else(|e| e.into_inner());
        *last
    }

    /// Copies the WAL into the main file and truncates it.
    pub(crate) fn checkpoint(&self) -> Result<()> {
        let writer = lock(&self.writer);
        writer.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

impl Drop for Store {
    /// Leaves every committed write in the main database file even if a pooled reader (which
    /// r2d2 may still be opening on its own thread) outlives the writer and so closes last.
    fn drop(&mut self) {
        // A failure loses nothing: the WAL still holds the commits, and the next open replays it.
        let _ = self.checkpoint();
    }
}
