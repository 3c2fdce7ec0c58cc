//! Command-line flags and their environment variables. Every setting has a default, so
//! `cargo run --release -p inventory-server` serves `inventory.db` on 127.0.0.1:8080 as is.

use clap::{Parser, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// Default workers per core: with durable commits a worker mostly waits on the disk, and
/// the group commit shares each fsync among the writes in flight. Measured on 2 cores at 32
/// connections (docs/PERFORMANCE.md): 2 workers 4,650 reserve/s, 8 workers 9,367, 16 workers
/// 13,626, with GET unchanged.
const WORKERS_PER_CORE: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DurabilityArg {
    /// Sync the WAL at every commit: an acknowledged write survives power loss.
    Full,
    /// Survive a crash of the server, but maybe not of the machine.
    Normal,
}

impl From<DurabilityArg> for inventory::Durability {
    fn from(d: DurabilityArg) -> Self {
        match d {
            DurabilityArg::Full => inventory::Durability::Full,
            DurabilityArg::Normal => inventory::Durability::Normal,
        }
    }
}

/// The inventory HTTP server: the seed's REST API over an embedded SQLite inventory engine.
#[derive(Debug, Clone, Parser)]
#[command(name = "inventory-server", version, about)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port; the bound address is logged).
    #[arg(long, env = "INVENTORY_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: String,

    /// SQLite database file, created if missing, or a PostgreSQL URL (postgres://... or
    /// postgresql://...) shared with other servers. Falls back to DATABASE_URL (sqlite:PATH or
    /// a PostgreSQL URL), then to inventory.db in the working directory.
    #[arg(long, env = "INVENTORY_DB")]
    pub db: Option<PathBuf>,

    /// Worker threads handling requests (default: 8 per core). A worker waiting for its
    /// write's fsync uses no CPU, and more writers in flight make bigger commit groups.
    #[arg(long, env = "INVENTORY_WORKERS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub workers: Option<u16>,

    /// Access and error log format, written to stdout.
    #[arg(long, env = "INVENTORY_LOG_FORMAT", value_enum, default_value = "json")]
    pub log_format: LogFormat,

    /// How hard each commit is pushed to disk.
    #[arg(long, env = "INVENTORY_DURABILITY", value_enum, default_value = "full")]
    pub durability: DurabilityArg,

    /// Largest accepted request body, in bytes; larger ones get 413.
    #[arg(long, env = "INVENTORY_MAX_BODY", default_value_t = 1 << 20)]
    pub max_body_bytes: usize,

    /// Seconds a connection may sit idle or stall mid-read or mid-write before it is closed.
    #[arg(long, env = "INVENTORY_IO_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub io_timeout_secs: u64,

    /// Most concurrent Server-Sent Events subscribers; more get 503.
    #[arg(long, env = "INVENTORY_MAX_STREAMS", default_value_t = 64)]
    pub max_streams: usize,

    /// Most requests whose bodies (over 1 KiB, or chunked) are read on threads of their own;
    /// beyond this a worker reads them.
    #[arg(long, env = "INVENTORY_MAX_UPLOADS", default_value_t = 64)]
    pub max_uploads: usize,

    /// Seconds between sweeps that release expired reservations.
    #[arg(long, env = "INVENTORY_SWEEP_INTERVAL", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub sweep_interval_secs: u64,

    /// Longest wait, in seconds, for requests in flight when shutting down.
    #[arg(long, env = "INVENTORY_SHUTDOWN_GRACE", default_value_t = 10)]
    pub shutdown_grace_secs: u64,
}

impl Config {
    /// The database: `--db`/INVENTORY_DB, else DATABASE_URL (the seed's variable) when it is a
    /// `sqlite:` or PostgreSQL URL, else `inventory.db`. A DATABASE_URL for another database is
    /// ignored, with the reason returned so that it can be logged.
    pub fn db_path(&self) -> (PathBuf, Option<String>) {
        if let Some(db) = &self.db {
            return (db.clone(), None);
        }
        if let Ok(url) = std::env::var("DATABASE_URL") {
            if is_postgres_url(&url) {
                return (PathBuf::from(url), None);
            }
            match sqlite_path(&url) {
                Some(path) => return (PathBuf::from(path), None),
                None => {
                    return (
                        PathBuf::from("inventory.db"),
                        Some(
                            "DATABASE_URL is neither a sqlite: nor a postgres:// URL; using inventory.db"
                                .into(),
                        ),
                    );
                }
            }
        }
        (PathBuf::from("inventory.db"), None)
    }

    /// The worker count: `--workers`, or `WORKERS_PER_CORE` per core.
    pub fn workers(&self) -> usize {
        match self.workers {
            Some(n) => n.into(),
            None => WORKERS_PER_CORE * std::thread::available_parallelism().map_or(2, usize::from),
        }
    }

    pub fn io_timeout(&self) -> Duration {
        Duration::from_secs(self.io_timeout_secs)
    }
}

/// A URL the engine opens as a PostgreSQL database.
fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `sqlite:PATH`, `sqlite://PATH` or `sqlite:///ABSOLUTE`, with any `?query` dropped.
fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty()).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::{is_postgres_url, sqlite_path};

    #[test]
    fn database_url_forms() {
        assert_eq!(sqlite_path("sqlite:shop.db"), Some("shop.db"));
        assert_eq!(sqlite_path("sqlite://shop.db"), Some("shop.db"));
        assert_eq!(
            sqlite_path("sqlite:///tmp/x.db?mode=rwc"),
            Some("/tmp/x.db")
        );
        assert_eq!(sqlite_path("postgres://u@h/db"), None);
        assert_eq!(sqlite_path("sqlite:"), None);
        assert!(is_postgres_url("postgres://u@h/db"));
        assert!(is_postgres_url("postgresql://u@h/db"));
        assert!(!is_postgres_url("mysql://u@h/db"));
    }
}
