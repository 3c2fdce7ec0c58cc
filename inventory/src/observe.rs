//! What the engine tells an operator's metrics while it works. The engine keeps no metrics of its
//! own: a surface (the server's Prometheus endpoint) installs an [`Observer`] with
//! [`Options::observer`](crate::Options) and records what it is told.

use crate::error::ErrorCode;
use std::time::Duration;

/// How one command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandEnd {
    /// It was applied.
    Applied,
    /// Its idempotency key matched an earlier identical request: nothing was applied.
    Replayed,
    /// It failed with this code (and changed nothing).
    Failed(ErrorCode),
}

/// Called from the engine's writer and background threads: keep each call short.
pub trait Observer: Send + Sync + 'static {
    /// A command ended. `kind` is [`Command::kind_name`](crate::Command::kind_name).
    fn command(&self, kind: &'static str, end: CommandEnd) {
        let _ = (kind, end);
    }

    /// A group of `commands` was committed in one transaction; `commit` is how long the commit
    /// itself took (for a durable store, the sync to disk).
    fn group(&self, commands: usize, commit: Duration) {
        let _ = (commands, commit);
    }

    /// A checkpoint copied the write-ahead log back into the database file.
    fn checkpoint(&self, took: Duration) {
        let _ = took;
    }
}

/// A gauge reading of the store, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Open reservations.
    pub open_reservations: i64,
    /// Size of the database file, for stores that have one.
    pub database_bytes: Option<u64>,
    /// Size of the write-ahead log file, for stores that have one.
    pub wal_bytes: Option<u64>,
}
