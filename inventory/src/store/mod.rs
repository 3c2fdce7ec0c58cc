//! Where the data lives. A store is a module of its own SQL behind the interface in [`tx`]; the
//! rules (in `rules` and `reads`) are written once and run on any store. SQLite, a file owned by
//! one process, is the default; [`Store::open`] picks the store from the target it is given.

pub(crate) mod group;
pub(crate) mod rows;
pub(crate) mod sqlite;
pub(crate) mod tx;

use crate::clock::Clock;
use crate::command::{Command, Outcome};
use crate::error::Result;
use crate::observe::Observer;
use crate::write::{Applied, Call};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tx::ReadTx;

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
    /// database file (`PRAGMA wal_autocheckpoint`). `Normal` checkpoints ten times less often
    /// than SQLite's default of 1,000 pages, because under `Normal` the checkpoint's sync is the
    /// only one a write waits for; `Full` keeps the default, because a WAL that grows past its
    /// old size makes each commit's sync dearer. (Measurements: docs/perf/engine.md.)
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
    /// How long to wait for another process holding the database's write lock.
    pub busy_timeout: Duration,
    /// Told about commands, commits and checkpoints, for metrics.
    pub observer: Option<Arc<dyn Observer>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            clock: Arc::new(crate::clock::SystemClock),
            durability: Durability::default(),
            readers: 8,
            busy_timeout: Duration::from_secs(5),
            observer: None,
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

/// An open store.
pub(crate) enum Store {
    Sqlite(sqlite::Db),
}

impl Store {
    pub fn open(target: &Path, options: Options) -> Result<Store> {
        Ok(Store::Sqlite(sqlite::Db::open(target, options)?))
    }

    /// Runs `f` in one read transaction, so every statement in it sees the same snapshot.
    pub fn read<T>(&self, f: impl FnOnce(&mut dyn ReadTx) -> Result<T>) -> Result<T> {
        match self {
            Store::Sqlite(db) => db.read(f),
        }
    }

    /// Applies a command through the store's group commit.
    pub fn submit(&self, command: Command, call: Call) -> Result<Applied<Outcome>> {
        match self {
            Store::Sqlite(db) => db.submit(command, call),
        }
    }

    /// Blocks until a movement after `after` has committed, or `timeout` passes; returns the
    /// latest committed sequence number.
    pub fn wait_for_change(&self, after: i64, timeout: Duration) -> i64 {
        match self {
            Store::Sqlite(db) => db.feed.wait(after, timeout),
        }
    }

    /// Moves what the store keeps beside its main file back into it (SQLite's WAL).
    pub fn checkpoint(&self) -> Result<()> {
        match self {
            Store::Sqlite(db) => db.checkpoint(),
        }
    }

    /// Fails when the store is no longer the one opened (a deleted or replaced file).
    pub fn check_file(&self) -> Result<()> {
        match self {
            Store::Sqlite(db) => db.check_file(),
        }
    }

    /// Fails unless the store can take writes.
    pub fn ready(&self) -> Result<()> {
        match self {
            Store::Sqlite(db) => db.ready(),
        }
    }

    /// Sizes of the database and WAL files, for stores that keep files.
    pub fn file_sizes(&self) -> (Option<u64>, Option<u64>) {
        match self {
            Store::Sqlite(db) => db.file_sizes(),
        }
    }

    pub fn backup_to(
        &self,
        target: &Path,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<sqlite::BackupReport> {
        match self {
            Store::Sqlite(db) => db.backup_to(target, progress),
        }
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        match self {
            Store::Sqlite(db) => &db.clock,
        }
    }
}
