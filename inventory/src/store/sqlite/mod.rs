//! The SQLite store: one file, one writer connection with group commit, and a pool of WAL
//! readers, which never block the writer and are never blocked by it, so threads of one process
//! never see SQLITE_BUSY. Other processes on the same file wait up to the busy timeout.

mod backup;
mod checkpointer;
mod file;
mod read;
mod schema;
mod verify;
mod webhooks;
mod write;

pub use backup::{BackupReport, Overwrite};
pub(crate) use backup::{backup as backup_file, holders, restore};

/// The problems `verify()` finds in the file at `path`, read without opening it for writing.
pub(crate) fn verify_file(path: &Path) -> Result<Vec<String>> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::storage(format!("cannot open {}: {e}", path.display())))?;
    schema::check_compatible(&conn)?;
    if schema::user_version(&conn)? != latest_version() {
        return Err(Error::storage(format!(
            "{} is at schema version {}, this build checks version {}: open it once to migrate",
            path.display(),
            schema::user_version(&conn)?,
            latest_version()
        )));
    }
    verify::problems(&conn)
}
pub use schema::latest_version;

use super::Options;
use super::group::{self, Feed, GroupResult, GroupTx, Queue, Queued, lock, settle};
use super::tx::ReadTx;
use crate::clock::Clock;
use crate::command::{Command, Outcome};
use crate::error::{Error, ErrorCode, Result};
use crate::observe::Observer;
use crate::store::Durability;
use crate::write::{Applied, Call};
use checkpointer::Checkpointer;
use file::Identity;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A write that changes nothing but must reach the disk: the header's application id set to
/// itself dirties page 1, so the commit appends and syncs a WAL frame (a full disk or a
/// failing device refuses it).
fn probe(writer: &mut Connection) -> Result<()> {
    let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.pragma_update(None, "application_id", schema::APPLICATION_ID)?;
    tx.commit()?;
    Ok(())
}

/// Statements and queries on one connection, inside whatever transaction it is in.
pub(crate) struct Sql<'c>(pub &'c Connection);

impl Sql<'_> {
    fn run(&self, sql: &str) -> Result<()> {
        self.0.prepare_cached(sql)?.execute([])?;
        Ok(())
    }
}

impl GroupTx for Sql<'_> {
    fn begin_command(&mut self, _: &Command) -> Result<()> {
        self.run("SAVEPOINT command")
    }

    fn end_command(&mut self, undo: bool) -> Result<()> {
        if undo {
            self.run("ROLLBACK TO command")?;
        }
        self.run("RELEASE command")
    }

    fn go_on(&mut self, _: &Result<Applied<Outcome>>) -> Result<()> {
        Ok(())
    }

    fn finish(&mut self) -> Result<Option<i64>> {
        self.last_seq().map(Some)
    }

    fn commit(&mut self) -> Result<()> {
        self.run("COMMIT")
    }

    fn roll_back(&mut self) -> Result<()> {
        self.run("ROLLBACK")
    }
}

pub(crate) struct Db {
    // Field order is drop order: the checkpointer stops and readers close first, so the writer
    // closes last and checkpoints the WAL into the main file.
    checkpointer: Option<Checkpointer>,
    readers: r2d2::Pool<SqliteConnectionManager>,
    /// Dropped right after `readers`: waits for the housekeeping thread's job under way.
    _readers_closed: HousekeepingDone,
    queue: Queue,
    /// Shared with the checkpointer, which holds it to copy the last frames of a round.
    writer: Arc<Mutex<Connection>>,
    identity: Identity,
    /// The storage failure of the last write (disk full, a read-only file, an I/O error), kept
    /// until a write commits or a probe does: until then the store is not ready.
    write_fault: Mutex<Option<Error>>,
    pub feed: Feed,
    pub clock: Arc<dyn Clock>,
    observer: Option<Arc<dyn Observer>>,
}

/// The writer's own inline checkpoint is only a cap on WAL growth, for when the checkpointer
/// thread cannot keep up: this many times the durability's threshold.
const INLINE_CHECKPOINT_FACTOR: u32 = 4;

/// One thread for every read pool's housekeeping (opening idle connections, reaping), shared by
/// every handle of the process. r2d2 otherwise starts three threads per pool and, when the pool
/// is dropped, signals them without joining, so each open handle left threads behind it.
fn housekeeping() -> Arc<scheduled_thread_pool::ScheduledThreadPool> {
    static POOL: std::sync::OnceLock<Arc<scheduled_thread_pool::ScheduledThreadPool>> =
        std::sync::OnceLock::new();
    Arc::clone(POOL.get_or_init(|| {
        Arc::new(
            scheduled_thread_pool::ScheduledThreadPool::builder()
                .num_threads(1)
                .thread_name_pattern("inventory-pool-{}")
                .build(),
        )
    }))
}

/// Waits, when dropped, for the housekeeping thread to finish the job it is on. r2d2 opens a
/// spare reader there after a checkout leaves fewer than `min_idle` idle, holding the pool
/// while it does; a handle closed during that job would otherwise return while the thread still
/// held its pool, and a program exiting then leaves its memory unfreed (valgrind caught a C
/// till doing so). The thread runs jobs in order, so a job queued now runs after that one.
struct HousekeepingDone;

impl Drop for HousekeepingDone {
    fn drop(&mut self) {
        // A mutex and a condition variable, not a channel: a channel's receive gives the
        // calling thread a handle of its own that a C program's main thread never frees.
        let done = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let signal = Arc::clone(&done);
        housekeeping().execute(move || {
            *lock(&signal.0) = true;
            signal.1.notify_all();
        });
        // Bounded: a reader's open waits out the busy timeout at worst.
        let (flag, ran) = &*done;
        let _ = ran
            .wait_timeout_while(lock(flag), std::time::Duration::from_secs(30), |ran| !*ran)
            .unwrap_or_else(|e| e.into_inner());
    }
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
            options.durability.wal_autocheckpoint_pages() * INLINE_CHECKPOINT_FACTOR,
        )?;
        let identity = Identity::of(path)?;

        let busy = options.busy_timeout;
        // Readers and the checkpointer open the file the writer made, never create one: the
        // pool opens connections as load grows and as old ones are retired, and one opened
        // after the file was deleted would leave an empty database at the path.
        let existing = flags.difference(OpenFlags::SQLITE_OPEN_CREATE);
        let manager = SqliteConnectionManager::file(path)
            .with_flags(existing)
            .with_init(move |c| {
                configure(c, busy)?;
                c.pragma_update(None, "query_only", true)
            });
        let readers = r2d2::Pool::builder()
            .thread_pool(housekeeping())
            .max_size(options.readers.max(1))
            .min_idle(Some(1))
            // r2d2's default runs a query on every checkout; a local file has no connection to lose.
            .test_on_check_out(false)
            .build(manager)?;
        let last_seq = Sql(&writer).last_seq()?;
        let writer = Arc::new(Mutex::new(writer));
        let background = Connection::open_with_flags(path, existing)?;
        configure(&background, options.busy_timeout)?;
        let file = std::fs::File::open(path)
            .map_err(|e| Error::storage(format!("cannot open {}: {e}", path.display())))?;
        let checkpointer = Checkpointer::start(
            background,
            file,
            Arc::clone(&writer),
            options.observer.clone(),
        )
        .map_err(|e| Error::storage(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Db {
            checkpointer: Some(checkpointer),
            identity,
            write_fault: Mutex::new(None),
            readers,
            _readers_closed: HousekeepingDone,
            queue: Queue::new(options.observer.clone()),
            observer: options.observer,
            writer,
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
        let applied = self
            .identity
            .check()
            .and_then(|()| self.apply_group(conn, group));
        let fault = match &applied {
            Err(e) => Some(e),
            Ok((results, _)) => results.iter().find_map(|r| r.as_ref().err()),
        }
        .filter(|e| e.code == ErrorCode::StorageError);
        match (fault, &applied) {
            (Some(e), _) => *lock(&self.write_fault) = Some(e.clone()),
            (None, Ok((_, Some(_)))) => *lock(&self.write_fault) = None,
            _ => {}
        }
        settle(group, &self.feed, applied);
    }

    /// Applies a group in one transaction. Returns each command's result and, when something
    /// was committed, the latest sequence number: read inside the transaction, because read
    /// after it, on its own, it would take and drop a WAL read lock (two `fcntl` calls).
    fn apply_group(&self, conn: &mut Connection, group: &[Arc<Queued>]) -> GroupResult {
        // Whatever `apply` leaves open (it failed) rolls back when `tx` drops.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let applied = group::apply(
            &mut Sql(&tx),
            group,
            self.clock.as_ref(),
            self.observer.as_deref(),
        );
        if let (Ok((_, Some(_))), Some(checkpointer)) = (&applied, &self.checkpointer) {
            checkpointer.signal().committed();
        }
        applied
    }

    /// Fails unless the path still leads to the file this store opened, the file is writable
    /// for this process, and the writer can take the write lock; and, after a write failed in
    /// storage, unless a probe write now commits.
    pub fn ready(&self) -> Result<()> {
        self.identity.check()?;
        let mut writer = lock(&self.writer);
        self.check_read_only(&writer)?;
        let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.rollback()?;
        let fault = lock(&self.write_fault).clone();
        if let Some(fault) = fault {
            probe(&mut writer).map_err(|e| {
                Error::storage(format!(
                    "a write failed ({}), and a probe write fails too: {}",
                    fault.message, e.message
                ))
            })?;
            *lock(&self.write_fault) = None;
        }
        Ok(())
    }

    /// Fails unless a write commits now: the path leads to the file opened, the file is
    /// writable, and a probe write (which changes nothing) commits and syncs.
    pub fn probe_write(&self) -> Result<()> {
        self.identity.check()?;
        let mut writer = lock(&self.writer);
        self.check_read_only(&writer)?;
        probe(&mut writer)?;
        *lock(&self.write_fault) = None;
        Ok(())
    }

    fn check_read_only(&self, writer: &Connection) -> Result<()> {
        if writer.is_readonly(rusqlite::MAIN_DB)? {
            return Err(Error::storage(format!(
                "{} is read-only for this process: no write can be applied",
                self.identity.path().display()
            )));
        }
        Ok(())
    }

    /// Each connection (the writer, every pooled reader, the checkpointer's) holds the file
    /// and its WAL, the process one shared-memory file per database, counted per connection
    /// to stay on the safe side; the checkpointer also holds the file for its syncs.
    pub fn max_descriptors(&self) -> u64 {
        let connections = u64::from(self.readers.max_size()) + 2;
        connections * 3 + 1
    }

    /// Fails when the path no longer leads to the file this store opened.
    pub fn check_file(&self) -> Result<()> {
        self.identity.check()
    }

    /// Sizes of the database file and its WAL.
    pub fn file_sizes(&self) -> (Option<u64>, Option<u64>) {
        let path = self.identity.path();
        let mut wal = path.to_path_buf().into_os_string();
        wal.push("-wal");
        let size = |p: &Path| std::fs::metadata(p).ok().map(|m| m.len());
        (size(path), size(Path::new(&wal)))
    }

    /// A consistent, verified copy of the database at `target`.
    pub fn backup_to(
        &self,
        target: &Path,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<BackupReport> {
        self.identity.check()?;
        backup::backup(self.identity.path(), target, Overwrite::Allowed, progress)
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
        drop(self.checkpointer.take());
        // A failure loses nothing: the WAL still holds the commits, and the next open replays it.
        let _ = self.checkpoint();
    }
}
