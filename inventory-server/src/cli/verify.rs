//! `verify --db PATH`: what the engine's `verify()` finds in a SQLite file, read without opening
//! it for writing, so it can check a file a server is using, or a backup.

use super::{Database, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    db: Database,
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let db = args.db.file("verify")?;
    let report = inventory::verify_file(&db)
        .map_err(|e| Failure::cannot_run(format!("cannot verify {}: {e}", db.display())))?;
    if report.ok {
        println!("{}: ok", db.display());
        return Ok(());
    }
    for problem in &report.problems {
        println!("{problem}");
    }
    let n = report.problems.len();
    Err(Failure::failed(format!(
        "{}: {n} problem{} found",
        db.display(),
        if n == 1 { "" } else { "s" }
    )))
}
