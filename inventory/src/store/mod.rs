//! Where the data lives. A store is a module of its own SQL behind the interface in [`tx`]; the
//! rules (in `rules` and `reads`) are written once and run on any store. SQLite, a file owned by
//! one process, is the default; PostgreSQL (cargo feature `postgres`) is a database that many
//! processes share. [`Store::open`] picks the store from the target it is given: a
//! `postgres://` or `postgresql://` URL, else a file path.

pub(crate) mod group;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
pub(crate) mod rows;
pub(crate) mod sql;
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
    /// SQLite `synchronous=FULL`: the WAL is synced at every commit, so an acknowledged write
    /// survives power loss. Group commit shares each sync among concurrent writers. On
    /// PostgreSQL, `synchronous_commit=on`: a commit waits for its WAL flush (and for the
    /// synchronous standbys the server names).
    #[default]
    Full,
    /// SQLite `synchronous=NORMAL`: survives a crash of the application, but the last commits
    /// may be lost if the machine loses power. On PostgreSQL, `synchronous_commit=off`: the
    /// last commits may be lost if the database server crashes.
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
    /// How long to wait for another process holding the database's write lock (on
    /// PostgreSQL, for any lock: `lock_timeout`). Past it a write fails with BUSY.
    pub busy_timeout: Duration,
    /// Told about commands, commits and checkpoints, for metrics.
    pub observer: Option<Arc<dyn Observer>>,
    /// Webhook subscriptions may lead to loopback, private and link-local addresses (the
    /// server's `--webhook-allow-private`); refused by default, so that no subscription
    /// reaches into the operator's network.
    pub allow_private_webhooks: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            clock: Arc::new(crate::clock::SystemClock),
            durability: Durability::default(),
            readers: 8,
            busy_timeout: Duration::from_secs(5),
            observer: None,
            allow_private_webhooks: false,
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

/// Which store a handle is open on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// A SQLite file on this machine: reads take microseconds and never wait on a network.
    Sqlite,
    /// A PostgreSQL database: every statement is a round trip to the server.
    Postgres,
}

/// An open store. One lives behind each handle's `Arc` for as long as the database is open, so
/// the difference in size between its variants costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Store {
    Sqlite(sqlite::Db),
    #[cfg(feature = "postgres")]
    Postgres(postgres::Db),
}

/// The target as a PostgreSQL URL, if it is one.
fn postgres_url(target: &Path) -> Option<&str> {
    let text = target.to_str()?;
    (text.starts_with("postgres://") || text.starts_with("postgresql://")).then_some(text)
}

/// A database target (a file path or a PostgreSQL URL) as it may be shown in a log or an error:
/// a URL loses its password.
pub fn redacted(target: &Path) -> String {
    match postgres_url(target) {
        Some(url) => redact_url(url),
        None => target.display().to_string(),
    }
}

/// `scheme://user:secret@host/db?password=secret` without either secret. Everything before the
/// last `@` (ahead of the query) is taken as the user part, so an unencoded `@` or `/` in a
/// password is still hidden.
fn redact_url(url: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((main, query)) => (main, Some(query)),
        None => (url, None),
    };
    let scheme_end = main.find("://").map_or(0, |i| i + 3);
    let (scheme, rest) = main.split_at(scheme_end);
    let mut shown = match rest.rfind('@') {
        Some(at) => {
            let (user, host) = rest.split_at(at);
            match user.split_once(':') {
                Some((name, _)) => format!("{scheme}{name}:***{host}"),
                None => main.to_owned(),
            }
        }
        None => main.to_owned(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        shown = format!("{shown}?{}", pairs.join("&"));
    }
    shown
}

/// "Now" for a command, at the microsecond precision every store keeps timestamps with, so a
/// result returned by a write equals the same record read back.
pub(crate) fn command_time(clock: &dyn Clock) -> chrono::DateTime<chrono::Utc> {
    chrono::SubsecRound::trunc_subsecs(clock.now(), 6)
}

/// The smallest string greater than every string that starts with `prefix`, if any: a prefix
/// search is the index range `prefix <= column < prefix_end(prefix)`.
pub(crate) fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

impl Store {
    pub fn open(target: &Path, options: Options) -> Result<Store> {
        if let Some(url) = postgres_url(target) {
            #[cfg(feature = "postgres")]
            return Ok(Store::Postgres(postgres::Db::open(url, options)?));
            #[cfg(not(feature = "postgres"))]
            return Err(crate::error::Error::storage(format!(
                "{} is a PostgreSQL URL, and this build of inventory has no PostgreSQL support \
                 (build the inventory crate with its cargo feature `postgres`)",
                redact_url(url)
            )));
        }
        Ok(Store::Sqlite(sqlite::Db::open(target, options)?))
    }

    /// Runs `f` in one read transaction, so every statement in it sees the same snapshot.
    pub fn read<T>(&self, f: impl Fn(&mut dyn ReadTx) -> Result<T>) -> Result<T> {
        match self {
            Store::Sqlite(db) => db.read(f),
            #[cfg(feature = "postgres")]
            Store::Postgres(db) => db.read(f),
        }
    }

    /// Applies a command through the store's group commit.
    pub fn submit(&self, command: Command, call: Call) -> Result<Applied<Outcome>> {
        match self {
            Store::Sqlite(db) => db.submit(command, call),
            #[cfg(feature = "postgres")]
            Store::Postgres(db) => db.submit(command, call),
        }
    }

    /// Blocks until a movement after `after` has committed, or `timeout` passes; returns the
    /// latest committed sequence number.
    pub fn wait_for_change(&self, after: i64, timeout: Duration) -> i64 {
        match self {
            Store::Sqlite(db) => db.feed.wait(after, timeout),
            #[cfg(feature = "postgres")]
            Store::Postgres(db) => db.wait_for_change(after, timeout),
        }
    }

    /// Moves what the store keeps beside its main file back into it (SQLite's WAL). PostgreSQL
    /// manages its own WAL and checkpoints: nothing to do.
    pub fn checkpoint(&self) -> Result<()> {
        match self {
            Store::Sqlite(db) => db.checkpoint(),
            #[cfg(feature = "postgres")]
            Store::Postgres(_) => Ok(()),
        }
    }

    /// Fails when the store is no longer the one opened (a deleted or replaced file).
    pub fn check_file(&self) -> Result<()> {
        match self {
            Store::Sqlite(db) => db.check_file(),
            #[cfg(feature = "postgres")]
            Store::Postgres(_) => Ok(()),
        }
    }

    /// Fails unless the store can take writes.
    pub fn ready(&self) -> Result<()> {
        match self {
            Store::Sqlite(db) => db.ready(),
            #[cfg(feature = "postgres")]
            Store::Postgres(db) => db.ready(),
        }
    }

    /// Fails unless a write commits now.
    pub fn probe_write(&self) -> Result<()> {
        match self {
            Store::Sqlite(db) => db.probe_write(),
            #[cfg(feature = "postgres")]
            Store::Postgres(db) => db.ready(),
        }
    }

    /// The most file descriptors the store's connections hold at once.
    pub fn max_descriptors(&self) -> u64 {
        match self {
            Store::Sqlite(db) => db.max_descriptors(),
            #[cfg(feature = "postgres")]
            Store::Postgres(db) => db.max_descriptors(),
        }
    }

    /// Sizes of the database and WAL files, for stores that keep files.
    pub fn file_sizes(&self) -> (Option<u64>, Option<u64>) {
        match self {
            Store::Sqlite(db) => db.file_sizes(),
            #[cfg(feature = "postgres")]
            Store::Postgres(_) => (None, None),
        }
    }

    pub fn backup_to(
        &self,
        target: &Path,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<sqlite::BackupReport> {
        match self {
            Store::Sqlite(db) => db.backup_to(target, progress),
            #[cfg(feature = "postgres")]
            Store::Postgres(_) => {
                let _ = (target, progress);
                Err(crate::Error::validation(
                    "to",
                    "a PostgreSQL database is backed up with its own tools (pg_dump, base \
                     backups; docs/DEPLOYMENT.md), not by the engine",
                ))
            }
        }
    }

    pub fn kind(&self) -> StoreKind {
        match self {
            Store::Sqlite(_) => StoreKind::Sqlite,
            #[cfg(feature = "postgres")]
            Store::Postgres(_) => StoreKind::Postgres,
        }
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        match self {
            Store::Sqlite(db) => &db.clock,
            #[cfg(feature = "postgres")]
            Store::Postgres(db) => &db.clock,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_the_next_string() {
        assert_eq!(prefix_end("LAP").as_deref(), Some("LAQ"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
        assert_eq!(prefix_end("\u{D7FF}").as_deref(), Some("\u{E000}"));
    }

    #[test]
    fn a_url_is_shown_without_its_password() {
        let shown = |t: &str| redacted(Path::new(t));
        assert_eq!(
            shown("postgres://shop:s3cret@db.example:5432/inv"),
            "postgres://shop:***@db.example:5432/inv"
        );
        assert_eq!(
            shown("postgresql://shop@db/inv?sslmode=disable&password=s3cret"),
            "postgresql://shop@db/inv?sslmode=disable&password=***"
        );
        assert_eq!(shown("postgres://u:p@h"), "postgres://u:***@h");
        assert_eq!(shown("shop.db"), "shop.db");
        assert!(!shown("postgres://a:b%40c@h/d").contains("b%40c"));
        assert!(!shown("postgres://a:b/c@d@h/db").contains("b/c"));
    }

    #[cfg(not(feature = "postgres"))]
    #[test]
    fn a_postgres_url_without_the_feature_is_a_storage_error() {
        let e = match Store::open(Path::new("postgres://u:secret@h/db"), Options::default()) {
            Err(e) => e,
            Ok(_) => panic!("opened a PostgreSQL URL without PostgreSQL support"),
        };
        assert_eq!(e.code, crate::ErrorCode::StorageError);
        assert!(e.message.contains("feature `postgres`"), "{}", e.message);
        assert!(!e.message.contains("secret"), "{}", e.message);
    }
}
