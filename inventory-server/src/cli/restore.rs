//! `restore --from FILE --db PATH`: the engine checks FILE as `verify` does, then replaces PATH
//! with it atomically. It refuses while another process has PATH open, naming it, unless
//! `--force`: then that process keeps the file it had, which is no longer the one at PATH, and
//! refuses writes from then on.

use super::{Database, Failure};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 restored, 1 refused or failed (PATH is unchanged), 2 for a \
                        PostgreSQL URL."
)]
pub struct Args {
    /// The backup to restore: it must verify.
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
    #[command(flatten)]
    db: Database,
    /// Restore even while other processes have the database open. They keep the old file,
    /// refuse writes from then on (the path no longer leads to it), and must be restarted.
    #[arg(long)]
    force: bool,
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let db = args.db.file("restore")?;
    let holders = inventory::processes_using(&db);
    let report = inventory::restore(&args.from, &db, args.force).map_err(|e| {
        let hint = if e.code == inventory::ErrorCode::Conflict {
            " (--force restores anyway)"
        } else {
            ""
        };
        Failure::failed(format!("{} was not restored: {e}{hint}", db.display()))
    })?;
    println!(
        "restored {} from {}: {} bytes",
        db.display(),
        args.from.display(),
        report.bytes
    );
    // The copy has a new generation: each till sees it at its next sync (docs/TILLS.md).
    println!(
        "tills will push again, at their next sync, every sale central acknowledged after this \
         backup was taken (within their retention window, 30 days by default)"
    );
    if !holders.is_empty() {
        let pids: Vec<String> = holders.iter().map(u32::to_string).collect();
        eprintln!(
            "warning: pid {} had {} open and now holds the replaced file: restart it",
            pids.join(", "),
            db.display()
        );
    }
    Ok(())
}
