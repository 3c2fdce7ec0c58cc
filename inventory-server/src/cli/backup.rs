//! `backup --db PATH --to FILE`: the engine's consistent copy of a live SQLite file, made
//! without opening it for writing (nothing there is created, migrated or changed), verified,
//! synced and renamed into place.

use super::{Database, Failure, progress};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 when the copy is in place and verified, 1 when the backup \
                        failed (no copy is left under FILE's name), 2 for a PostgreSQL URL."
)]
pub struct Args {
    #[command(flatten)]
    db: Database,
    /// Where the copy goes; an existing file there is replaced once the copy has verified.
    #[arg(long, value_name = "FILE")]
    to: PathBuf,
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let db = args.db.file("backup")?;
    let bar = progress::bytes(0, format!("backing up {}", db.display()));
    let report = inventory::backup_file(&db, &args.to, &|written, total| {
        bar.set_length(total.max(written));
        bar.set_position(written);
    });
    bar.finish_and_clear();
    let report =
        report.map_err(|e| Failure::failed(format!("backup of {} failed: {e}", db.display())))?;
    println!(
        "backed up {} to {}: {} bytes, verified",
        db.display(),
        args.to.display(),
        report.bytes
    );
    Ok(())
}
