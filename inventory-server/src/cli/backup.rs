//! `backup --db PATH --to FILE`: the engine's consistent copy of a live SQLite file, made
//! without opening it for writing (nothing there is created, migrated or changed), verified,
//! synced and renamed into place.

use super::{Database, Failure, progress};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 when the copy is in place and verified, 1 when the backup \
                        failed or was refused (no copy is left under FILE's name, and a file already \
                        there is untouched), 2 for a PostgreSQL URL."
)]
pub struct Args {
    #[command(flatten)]
    db: Database,
    /// Where the copy goes: a new path, or an older backup, replaced once the copy has verified.
    /// Never a directory, device, FIFO or socket, the database itself, or a database another
    /// process has open.
    #[arg(long, value_name = "FILE")]
    to: PathBuf,
    /// Refuse any existing file at FILE rather than replace it.
    #[arg(long)]
    no_clobber: bool,
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let db = args.db.file("backup")?;
    let bar = progress::bytes(0, format!("backing up {}", db.display()));
    let overwrite = if args.no_clobber {
        inventory::Overwrite::Refused
    } else {
        inventory::Overwrite::Allowed
    };
    let report = inventory::backup_file(&db, &args.to, overwrite, &|written, total| {
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
