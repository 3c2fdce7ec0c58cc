//! `keys create|list|revoke`: API keys made and revoked by the operator, on the database a
//! server may be using. A running server sees the change within `inventory::KEY_REFRESH`
//! (it reads the key list again at most that long after it last did).

use super::{Database, Failure};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use inventory::{ApiKey, Scope};
use std::io::Write;

#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// Create a key and print its secret, and nothing else, on stdout: it is shown this once
    /// and stored only as its SHA-256. A missing SQLite file is created.
    Create(CreateArgs),
    /// List every key, revoked ones too, never a secret.
    List(ListArgs),
    /// Revoke a live key: every request with it is refused from then on.
    Revoke(RevokeArgs),
}

fn scope_parser() -> impl TypedValueParser<Value = Scope> {
    PossibleValuesParser::new(Scope::ALL.map(Scope::as_str))
        .map(|s| Scope::parse(&s).expect("one of the possible values"))
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The key's name, unique among live keys; recorded as the actor of the movements made
    /// with it.
    #[arg(long)]
    name: String,
    /// read: every GET; write: read plus every change of stock and catalogue; admin: write
    /// plus managing keys.
    #[arg(long, value_parser = scope_parser())]
    scope: Scope,
    /// A location the key may move stock at (repeat for several); without any, every location.
    #[arg(long = "location", value_name = "LOCATION")]
    locations: Vec<String>,
    #[command(flatten)]
    db: Database,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// Aligned columns, for a person.
    Text,
    /// One JSON object per key, for scripts.
    Jsonl,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[arg(long, value_enum, default_value = "text")]
    format: ListFormat,
    #[command(flatten)]
    db: Database,
}

#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// The name of the live key to revoke.
    name: String,
    #[command(flatten)]
    db: Database,
}

pub fn run(what: &What) -> Result<(), Failure> {
    match what {
        What::Create(args) => create(args),
        What::List(args) => list(args),
        What::Revoke(args) => revoke(args),
    }
}

fn create(args: &CreateArgs) -> Result<(), Failure> {
    let inv = args.db.open(false)?;
    let locations = (!args.locations.is_empty()).then(|| args.locations.clone());
    let created = inv
        .create_key(&args.name, args.scope, locations)
        .map_err(|e| Failure::failed(e.message))?;
    println!("{}", created.secret);
    Ok(())
}

fn list(args: &ListArgs) -> Result<(), Failure> {
    let inv = args.db.open(true)?;
    let keys = inv.list_keys().map_err(|e| Failure::failed(e.message))?;
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        ListFormat::Jsonl => keys.iter().try_for_each(|key| {
            let line = serde_json::to_string(key).expect("keys serialize");
            writeln!(out, "{line}")
        }),
        ListFormat::Text => write!(out, "{}", table(&keys)),
    };
    written.map_err(|e| Failure::failed(format!("cannot write the list: {e}")))
}

/// Aligned columns: name, scope, locations (`*` for any), created, revoked (`-` for live).
fn table(keys: &[ApiKey]) -> String {
    let time = |t: &inventory::DateTime<inventory::Utc>| {
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let mut rows = vec![[
        "NAME".to_owned(),
        "SCOPE".to_owned(),
        "LOCATIONS".to_owned(),
        "CREATED".to_owned(),
        "REVOKED".to_owned(),
    ]];
    for key in keys {
        rows.push([
            key.name.clone(),
            key.scope.as_str().to_owned(),
            key.locations
                .as_ref()
                .map_or_else(|| "*".to_owned(), |l| l.join(", ")),
            time(&key.created_at),
            key.revoked_at.as_ref().map_or_else(|| "-".to_owned(), time),
        ]);
    }
    let mut widths = [0usize; 5];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}

fn revoke(args: &RevokeArgs) -> Result<(), Failure> {
    let inv = args.db.open(true)?;
    let key = inv
        .revoke_key(&args.name)
        .map_err(|e| Failure::failed(e.message))?;
    println!("revoked {}", key.name);
    Ok(())
}
