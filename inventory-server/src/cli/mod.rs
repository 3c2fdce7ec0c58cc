//! The operator's command line: `serve` (the default) and the commands beside it, which back up,
//! restore and verify a SQLite file, move products, levels and movements in and out as CSV or
//! JSON Lines, and manage API keys. Each command translates files and flags into engine calls; every rule (what an
//! import may change, what a backup must hold) is the engine's.
//!
//! Results go to stdout (an export's data, or a one-line summary); errors, and the progress bars
//! of long jobs, go to stderr, so an export to stdout carries nothing but its records.

mod backup;
mod export;
pub(crate) mod formula;
pub(crate) mod import;
mod keys;
mod progress;
mod restore;
pub(crate) mod rows;
mod verify;

use crate::config::Config;
use clap::{Args, Parser, Subcommand};
use inventory::Inventory;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The inventory HTTP server and its operator commands. With no command it serves, taking the
/// flags of `serve`.
#[derive(Debug, Parser)]
#[command(
    name = "inventory-server",
    version = inventory_version::FULL,
    long_version = crate::config::long_version(),
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: Config,
}

/// The `serve` command as clap builds it, for tests that read its flags.
#[cfg(test)]
pub(crate) fn serve_command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command()
        .find_subcommand("serve")
        .expect("serve is a command")
        .clone()
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API (what `inventory-server` does with no command).
    Serve(Config),
    /// Write a consistent, verified copy of a SQLite database, even while a server writes to it.
    Backup(backup::Args),
    /// Replace a SQLite database with a verified backup, atomically.
    Restore(restore::Args),
    /// Check a SQLite database: every cached balance against the ledger, and SQLite's integrity.
    #[command(
        after_help = "Exit status: 0 when clean, 1 when problems are found, 2 when the \
                            file cannot be opened as an inventory database."
    )]
    Verify(verify::Args),
    /// Create or update products, or apply stock counts, from CSV or JSON Lines: all or nothing.
    #[command(subcommand)]
    Import(import::What),
    /// Write products, stock levels or movements as CSV or JSON Lines, in constant memory.
    #[command(subcommand, after_help = EXPORT_HELP)]
    Export(export::What),
    /// Create, list and revoke API keys, even while a server uses the database (it sees the
    /// change within a second).
    #[command(subcommand, after_help = "Exit status: 0 done, 1 failed or refused.")]
    Keys(keys::What),
}

const EXPORT_HELP: &str = "Each page of records is read in its own transaction, so an export of \
a database that is being written to is not one snapshot of it (export a backup for that). Exit \
status: 0 written, 1 failed (with --out, FILE is left as it was).";

/// Parses the command line and runs what it asks for: `serve` (given the flags) with no command
/// or with `serve`, else the operator command. Exit status of an operator command: 0 done, 1
/// failed or refused (verify: problems found), 2 a usage error (clap's own, or a SQLite-only
/// command given a PostgreSQL URL; verify: the file cannot be opened).
pub fn main(serve: impl FnOnce(Config) -> ExitCode) -> ExitCode {
    let cli = Cli::parse();
    let done = match cli.command {
        None => return serve(cli.serve),
        Some(Command::Serve(config)) => return serve(config),
        Some(Command::Backup(args)) => backup::run(&args),
        Some(Command::Restore(args)) => restore::run(&args),
        Some(Command::Verify(args)) => verify::run(&args),
        Some(Command::Import(what)) => import::run(&what),
        Some(Command::Export(what)) => export::run(&what),
        Some(Command::Keys(what)) => keys::run(&what),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.status)
        }
    }
}

/// Why a command failed, and the exit status that says so.
#[derive(Debug)]
pub struct Failure {
    status: u8,
    /// Printed after `error: `, after any report of the command's own (an import's bad rows).
    message: String,
}

impl Failure {
    /// The command ran and failed, or refused.
    pub fn failed(message: impl Into<String>) -> Self {
        Failure {
            status: 1,
            message: message.into(),
        }
    }

    /// The command cannot run as asked: a PostgreSQL URL for a SQLite-only command, or (for
    /// verify) a file that cannot be opened as an inventory database.
    pub fn cannot_run(message: impl Into<String>) -> Self {
        Failure {
            status: 2,
            message: message.into(),
        }
    }
}

/// Where the database is, found as `serve` finds it.
#[derive(Debug, Clone, Args)]
pub struct Database {
    /// The database: a SQLite file, or a postgres:// URL where the build has the PostgreSQL
    /// store. Falls back to DATABASE_URL (sqlite:PATH or postgres://...), then to inventory.db.
    #[arg(long, env = "INVENTORY_DB")]
    db: Option<PathBuf>,
}

/// A database named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    File(PathBuf),
    /// A PostgreSQL URL: never printed, since it may hold a password.
    Postgres(PathBuf),
}

fn is_postgres_url(target: &Path) -> bool {
    target
        .to_str()
        .is_some_and(|t| t.starts_with("postgres://") || t.starts_with("postgresql://"))
}

impl Database {
    fn target(&self) -> Result<Target, Failure> {
        self.target_from(std::env::var("DATABASE_URL").ok())
    }

    fn target_from(&self, database_url: Option<String>) -> Result<Target, Failure> {
        let named = match (&self.db, database_url) {
            (Some(db), _) => db.clone(),
            (None, Some(url)) => match crate::config::sqlite_path(&url) {
                Some(path) => PathBuf::from(path),
                None if is_postgres_url(Path::new(&url)) => PathBuf::from(url),
                // Unlike `serve`, which falls back to inventory.db, an operator command never
                // guesses which database to back up, restore or import into.
                None => {
                    return Err(Failure::cannot_run(
                        "DATABASE_URL is neither a sqlite: nor a postgres:// URL: name the \
                         database with --db",
                    ));
                }
            },
            (None, None) => PathBuf::from("inventory.db"),
        };
        Ok(if is_postgres_url(&named) {
            Target::Postgres(named)
        } else {
            Target::File(named)
        })
    }

    /// The SQLite file, for the commands that work on a file and nothing else.
    pub fn file(&self, command: &str) -> Result<PathBuf, Failure> {
        match self.target()? {
            Target::File(path) => Ok(path),
            Target::Postgres(_) => Err(Failure::cannot_run(format!(
                "{command} works on a SQLite file, and the database given is a PostgreSQL URL: \
                 use PostgreSQL's own tools (pg_dump, pg_restore, amcheck) for that"
            ))),
        }
    }

    /// Opens the database through the engine, whatever its store. `existing`: a SQLite file
    /// must already be there (an export of a mistyped path would otherwise create it).
    pub fn open(&self, existing: bool) -> Result<Inventory, Failure> {
        let (target, shown) = match self.target()? {
            Target::File(path) => {
                if existing && !path.exists() {
                    return Err(Failure::failed(format!(
                        "no database at {}",
                        path.display()
                    )));
                }
                let shown = path.display().to_string();
                (path, shown)
            }
            Target::Postgres(url) => (url, "the PostgreSQL database".to_owned()),
        };
        Inventory::open(&target).map_err(|e| Failure::failed(format!("cannot open {shown}: {e}")))
    }
}

/// The record formats of imports and exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// RFC 4180 CSV with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// `--format` if given, else by the file's extension: `.jsonl` or `.ndjson` is JSON Lines,
    /// anything else CSV.
    pub fn pick(given: Option<Format>, file: Option<&Path>) -> Format {
        given.unwrap_or_else(|| {
            match file
                .and_then(Path::extension)
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("jsonl" | "ndjson") => Format::Jsonl,
                _ => Format::Csv,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn db(given: Option<&str>) -> Database {
        Database {
            db: given.map(PathBuf::from),
        }
    }

    #[test]
    fn the_database_is_found_as_serve_finds_it() {
        let file = |p: &str| Target::File(PathBuf::from(p));
        let target =
            |given, url: Option<&str>| db(given).target_from(url.map(String::from)).unwrap();
        assert_eq!(target(Some("a.db"), None), file("a.db"));
        assert_eq!(target(Some("a.db"), Some("sqlite:b.db")), file("a.db"));
        assert_eq!(target(None, Some("sqlite:///tmp/b.db")), file("/tmp/b.db"));
        assert_eq!(target(None, None), file("inventory.db"));
        let url = "postgres://u:secret@h/db";
        assert_eq!(
            target(None, Some(url)),
            Target::Postgres(PathBuf::from(url))
        );
        assert_eq!(
            target(Some("postgresql://h/db"), None),
            Target::Postgres(PathBuf::from("postgresql://h/db"))
        );
        // Another kind of URL is refused, not taken for a file name or replaced by inventory.db.
        let e = db(None)
            .target_from(Some("mysql://u:secret@h/db".into()))
            .unwrap_err();
        assert_eq!(e.status, 2);
        assert!(!e.message.contains("secret"), "{}", e.message);
        assert_eq!(target(Some("x.db"), Some("mysql://h/db")), file("x.db"));
    }

    #[test]
    fn file_commands_refuse_a_postgres_url_without_printing_it() {
        let e = db(Some("postgres://u:secret@h/db"))
            .file("backup")
            .unwrap_err();
        assert_eq!(e.status, 2);
        assert!(
            e.message.contains("backup works on a SQLite file"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("secret"), "{}", e.message);
    }

    #[test]
    fn formats_follow_the_flag_then_the_extension() {
        let pick = |given, file: &str| Format::pick(given, Some(Path::new(file)));
        assert_eq!(pick(None, "p.csv"), Format::Csv);
        assert_eq!(pick(None, "p.JSONL"), Format::Jsonl);
        assert_eq!(pick(None, "p.ndjson"), Format::Jsonl);
        assert_eq!(pick(None, "p.txt"), Format::Csv);
        assert_eq!(pick(Some(Format::Jsonl), "p.csv"), Format::Jsonl);
        assert_eq!(Format::pick(None, None), Format::Csv);
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    fn parse_from(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("inventory-server").chain(args.iter().copied()))
    }

    #[test]
    fn serve_flags_work_with_and_without_the_subcommand() {
        let bare = parse_from(&["--addr", "127.0.0.1:0", "--db", "x.db"]).unwrap();
        assert!(bare.command.is_none());
        assert_eq!(bare.serve.addr, "127.0.0.1:0");
        let serve = parse_from(&["serve", "--addr", "127.0.0.1:0", "--db", "x.db"]).unwrap();
        match serve.command {
            Some(Command::Serve(config)) => assert_eq!(config.addr, "127.0.0.1:0"),
            other => panic!("{other:?}"),
        }
        // A server flag before an operator command is a mistake, not something to ignore.
        assert!(parse_from(&["--addr", "127.0.0.1:0", "verify"]).is_err());
        let verify = parse_from(&["verify", "--db", "x.db"]).unwrap();
        assert!(matches!(verify.command, Some(Command::Verify(_))));
    }
}
