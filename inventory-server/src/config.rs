//! Command-line flags and their environment variables. Every setting has a default, so
//! `cargo run --release -p inventory-server` serves `inventory.db` on 127.0.0.1:8080 as is.

use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

/// Default workers per core: with durable commits a worker mostly waits on the disk, and
/// the group commit shares each fsync among the writes in flight. Measured on 2 cores at 32
/// connections (docs/PERFORMANCE.md): 2 workers 4,650 reserve/s, 8 workers 9,367, 16 workers
/// 13,626, with GET unchanged.
const WORKERS_PER_CORE: usize = 8;

/// Default connection threads per core. Measured on 2 cores with `/health` at 512 connections
/// (docs/perf/server.md): 8 threads 63-70k req/s at 20-22 us CPU each against 41-46k at
/// 24-28 us for 2 threads, in 3 of 4 alternated rounds; more threads also keep a read that
/// waits for the disk from holding up the other connections.
const IO_THREADS_PER_CORE: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}

/// Whether requests need an API key (`Authorization: Bearer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthArg {
    /// Required unless the server listens on loopback only.
    Auto,
    /// Every route but /health and the dashboard's files needs a key.
    Required,
    /// No key is asked for, and the Authorization header is not read.
    Off,
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
#[derive(Debug, Clone, Args)]
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

    /// Threads running connections and answering reads (default: 4 per core). A read never
    /// waits for the writer, but it can wait for the disk, and a thread blocked in a read
    /// holds up the connections queued on it; writes run on the workers.
    #[arg(long, env = "INVENTORY_IO_THREADS", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub io_threads: Option<u16>,

    /// Access and error log format, written to stdout.
    #[arg(long, env = "INVENTORY_LOG_FORMAT", value_enum, default_value = "json")]
    pub log_format: LogFormat,

    /// How hard each commit is pushed to disk.
    #[arg(long, env = "INVENTORY_DURABILITY", value_enum, default_value = "full")]
    pub durability: DurabilityArg,

    /// Largest accepted request body, in bytes; larger ones get 413.
    #[arg(long, env = "INVENTORY_MAX_BODY", default_value_t = 1 << 20)]
    pub max_body_bytes: usize,

    /// Seconds a connection may sit idle between requests, take over its request head (from
    /// its first byte to its blank line), take over its body, or stall a write, before it is
    /// closed (a body that is late gets 408).
    #[arg(long, env = "INVENTORY_IO_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub io_timeout_secs: u64,

    /// Seconds from a request head's first byte to its blank line before the connection is
    /// closed; at most `--io-timeout-secs` (the idle keep-alive timeout), and shorter by default,
    /// so that a client trickling a head a byte at a time cannot hold a connection long.
    #[arg(long, env = "INVENTORY_HEAD_TIMEOUT", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub head_timeout_secs: u64,

    /// Most connections open at once (as nginx's worker_connections). At the cap, an idle
    /// keep-alive connection (the longest idle), else the slowest unfinished head, is closed for
    /// a new client; when every connection is in a request, new ones wait in the listen queue.
    #[arg(long, env = "INVENTORY_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,

    /// Most connections one client address may hold open at once; further ones from it are
    /// closed as soon as they are accepted, so that one address (a client trickling bytes to
    /// hold connections) cannot take every slot. A till fleet behind one NAT can raise it.
    #[arg(long, env = "INVENTORY_MAX_CONNECTIONS_PER_IP", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections_per_ip: u32,

    /// Largest request head (request line and headers), in bytes; larger ones get 431. A
    /// request target over 8 KiB gets 414.
    #[arg(long, env = "INVENTORY_MAX_HEADER_BYTES", default_value_t = 16 * 1024, value_parser = clap::value_parser!(u32).range(1024..=1 << 20))]
    pub max_header_bytes: u32,

    /// An origin (`https://shop.example`) whose pages may call the API from scripts (CORS).
    /// Repeat the flag, or separate origins with commas. None by default.
    #[arg(
        long = "cors-origin",
        env = "INVENTORY_CORS_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,

    /// A host name accepted in the Host header besides loopback names and addresses, when the
    /// server listens on loopback only (the DNS-rebinding guard). Repeatable, or comma-separated.
    #[arg(
        long = "allowed-host",
        env = "INVENTORY_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,

    /// Most concurrent Server-Sent Events subscribers; more get 503.
    #[arg(long, env = "INVENTORY_MAX_STREAMS", default_value_t = 64)]
    pub max_streams: usize,

    /// Seconds between sweeps that release expired reservations.
    #[arg(long, env = "INVENTORY_SWEEP_INTERVAL", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub sweep_interval_secs: u64,

    /// For tests of the binary: the engine's clock runs ahead of the wall clock by the whole
    /// seconds written in this file (re-read at every "now"), so that a test lapses leases and
    /// reservation expiries by rewriting it rather than by waiting. Unset: the wall clock.
    #[arg(long, env = "INVENTORY_CLOCK_OFFSET_FILE")]
    pub clock_offset_file: Option<PathBuf>,

    /// Whether requests need an API key (`Authorization: Bearer <secret>`; keys are made with
    /// `inventory-server keys create`). `auto`: required unless the server listens on loopback
    /// only.
    #[arg(long, env = "INVENTORY_AUTH", value_enum, default_value = "auto")]
    pub auth: AuthArg,

    /// Requests per second each API key may make, with bursts up to twice that; clients
    /// without a key are limited per address. Beyond it: 429 with Retry-After. Off by default.
    #[arg(long, env = "INVENTORY_RATE_LIMIT", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate_limit: Option<u32>,

    /// Serve reads only: every POST, PUT and DELETE is refused with 503 READ_ONLY, expired
    /// reservations are not swept, and nothing is written at shutdown. Without it, a server
    /// that cannot write its database (a read-only file, a full disk) exits at start-up.
    #[arg(long, env = "INVENTORY_READ_ONLY")]
    pub read_only: bool,

    /// Longest wait, in seconds, for requests in flight when shutting down.
    #[arg(long, env = "INVENTORY_SHUTDOWN_GRACE", default_value_t = 10)]
    pub shutdown_grace_secs: u64,

    /// Allow webhook subscriptions to loopback, private and link-local addresses (refused by
    /// default, so that no subscription reaches into the operator's network).
    #[arg(long, env = "INVENTORY_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,

    /// Longest a webhook request may take, in seconds, before it counts as failed.
    #[arg(long, env = "INVENTORY_WEBHOOK_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub webhook_timeout_secs: u64,

    /// Most events one webhook request carries when a backlog builds.
    #[arg(long, env = "INVENTORY_WEBHOOK_MAX_BATCH", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub webhook_max_batch: u64,

    /// How long, in hours, a webhook's failures are retried (with backoff) before it pauses.
    #[arg(long, env = "INVENTORY_WEBHOOK_RETRY_HOURS", default_value_t = 24, value_parser = clap::value_parser!(u64).range(1..=720))]
    pub webhook_retry_hours: u64,

    /// How long, in days, the webhook delivery log keeps an attempt.
    #[arg(long, env = "INVENTORY_WEBHOOK_LOG_DAYS", default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub webhook_log_days: u64,
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

    /// The connection threads: `--io-threads`, or `IO_THREADS_PER_CORE` per core.
    pub fn io_threads(&self) -> usize {
        match self.io_threads {
            Some(n) => n.into(),
            None => {
                IO_THREADS_PER_CORE * std::thread::available_parallelism().map_or(2, usize::from)
            }
        }
    }

    pub fn io_timeout(&self) -> Duration {
        Duration::from_secs(self.io_timeout_secs)
    }

    /// `--head-timeout-secs`, never longer than the idle timeout that bounds it anyway.
    pub fn head_timeout(&self) -> Duration {
        Duration::from_secs(self.head_timeout_secs.min(self.io_timeout_secs))
    }
}

/// What `--version` prints after the program's name: the version with its commit, then the
/// commit, the engine's cargo features and the target on lines of their own, so that a binary
/// found on a machine says what it was built from.
pub fn long_version() -> &'static str {
    static TEXT: LazyLock<String> = LazyLock::new(|| {
        let features = match inventory::FEATURES {
            [] => "none".to_owned(),
            names => names.join(", "),
        };
        format!(
            "{}\ncommit: {}\nfeatures: {features}\ntarget: {}",
            inventory_version::FULL,
            inventory_version::COMMIT,
            inventory_version::TARGET,
        )
    });
    &TEXT
}

/// A URL the engine opens as a PostgreSQL database.
fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `sqlite:PATH`, `sqlite://PATH` or `sqlite:///ABSOLUTE`, with any `?query` dropped.
pub(crate) fn sqlite_path(url: &str) -> Option<&str> {
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

    /// The flags come from the parser, so a flag added to `Config` without its line in
    /// `--help` or in the README's table fails here.
    #[test]
    fn help_and_readme_list_every_flag() {
        let help = crate::cli::serve_command().render_long_help().to_string();
        let readme = include_str!("../README.md");
        let command = crate::cli::serve_command();
        let args: Vec<_> = command
            .get_arguments()
            .filter(|a| !["help", "version"].contains(&a.get_id().as_str()))
            .collect();
        assert!(args.len() >= 11, "{} flags", args.len());
        for arg in args {
            let flag = format!(
                "--{}",
                arg.get_long().expect("every setting has a long flag")
            );
            assert!(help.contains(&flag), "--help lacks {flag}");
            let env = arg.get_env().expect("every setting has a variable");
            let env = env.to_str().unwrap();
            assert!(help.contains(env), "--help lacks {env}");
            let row = format!("| `{flag}` | `{env}` |");
            assert!(readme.contains(&row), "the README's table lacks {row}");
        }
    }
}
