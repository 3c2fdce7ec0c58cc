//! A consistent copy of a live database. `VACUUM INTO` copies one read snapshot (every write
//! committed before it began, none after) without blocking the writer, into a compact file of
//! its own: no WAL beside it. The copy is written under a temporary name, checked as `verify()`
//! checks a database, synced, and only then renamed into place, so a crash or a failed check
//! never leaves a half copy under the target name.
//!
//! Only a regular file or a new path is ever replaced: a rename over a device, a FIFO or a
//! socket would swap the node itself for a file (as root, `/dev/full` became a regular file),
//! and a rename over a database another process holds open leaves that process writing to a
//! file no path leads to.

use super::{file::file_id, schema, verify};
use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What a backup made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// The copy's size.
    pub bytes: u64,
}

fn temporary_name(target: &Path) -> Result<PathBuf> {
    let name = target
        .file_name()
        .ok_or_else(|| Error::validation("to", "the backup target names no file"))?;
    Ok(target.with_file_name(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

/// Whether a backup may replace a file already at its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// An older backup there is replaced once the new copy has verified.
    Allowed,
    /// Any file there refuses the backup (CONFLICT), for scripts that never replace one.
    Refused,
}

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

fn is_sqlite(path: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .is_ok_and(|()| &header == SQLITE_HEADER)
}

fn same_file(a: &Path, b: &Path) -> bool {
    matches!((file_id(a), file_id(b)), (Ok(x), Ok(y)) if x == y)
}

fn not_regular(field: &str, path: &Path) -> Error {
    Error::validation(
        field,
        format!(
            "{} is not a regular file (a directory, device, FIFO or socket is never read or \
             replaced)",
            path.display()
        ),
    )
}

/// Refuses, before anything is opened, a source that is not a regular file (a FIFO would block
/// the open, a device would be read as a database). A missing source is the open's to report.
fn check_source(source: &Path, field: &str) -> Result<()> {
    match std::fs::metadata(source) {
        Ok(meta) if !meta.is_file() => Err(not_regular(field, source)),
        _ => Ok(()),
    }
}

/// Refuses a target that must not be replaced: anything but a regular file or a new path, the
/// source itself, and (`overwrite` refused) any existing file. Whether another process holds
/// it is the caller's question, since a restore may be forced past it.
fn check_target(source: &Path, target: &Path, field: &str, overwrite: Overwrite) -> Result<()> {
    let meta = match std::fs::metadata(target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(Error::storage(format!(
                "cannot stat {}: {e}",
                target.display()
            )));
        }
        Ok(meta) => meta,
    };
    if !meta.is_file() {
        return Err(not_regular(field, target));
    }
    if same_file(source, target) {
        return Err(Error::validation(
            field,
            format!("{} is the database itself", target.display()),
        ));
    }
    if overwrite == Overwrite::Refused {
        return Err(Error::conflict(format!(
            "{} already exists, and this backup replaces no file",
            target.display()
        )));
    }
    Ok(())
}

fn pid_list(pids: &[u32]) -> String {
    pids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Copies the database at `source` to `target`, calling `progress(written, total)` as the copy
/// grows (`total` is the source's size, an upper bound). A live database is never a target:
/// a SQLite file that another process holds open is refused (CONFLICT).
pub(crate) fn backup(
    source: &Path,
    target: &Path,
    overwrite: Overwrite,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<BackupReport> {
    check_source(source, "db")?;
    check_target(source, target, "to", overwrite)?;
    if is_sqlite(target) {
        let holders = holders(target);
        if !holders.is_empty() {
            return Err(Error::conflict(format!(
                "{} is a database open in another process (pid {}): a live database is \
                 never a backup target",
                target.display(),
                pid_list(&holders)
            )));
        }
    }
    let tmp = temporary_name(target)?;
    let _ = std::fs::remove_file(&tmp);
    let total = std::fs::metadata(source).map_or(0, |m| m.len());
    let reader = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::storage(format!("cannot open {}: {e}", source.display())))?;
    reader.busy_timeout(Duration::from_secs(5))?;
    let copying = AtomicBool::new(true);
    let copied = std::thread::scope(|scope| {
        scope.spawn(|| {
            while copying.load(Ordering::Relaxed) {
                progress(std::fs::metadata(&tmp).map_or(0, |m| m.len()), total);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let done = reader.execute("VACUUM INTO ?1", [tmp.to_string_lossy()]);
        copying.store(false, Ordering::Relaxed);
        done
    });
    let checked = copied
        .map_err(Error::from)
        .and_then(|_| check_copy(&tmp))
        .and_then(|()| sync_and_rename(&tmp, target));
    if checked.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    checked?;
    let bytes = std::fs::metadata(target).map_or(0, |m| m.len());
    progress(bytes, bytes);
    Ok(BackupReport { bytes })
}

/// Fails unless `path` is an inventory database this build reads, and every check of
/// `verify()` passes on it.
pub(crate) fn check_copy(path: &Path) -> Result<()> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    schema::check_compatible(&conn)?;
    let app_id: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    if app_id != schema::APPLICATION_ID {
        return Err(Error::storage(format!(
            "{} is not an inventory database",
            path.display()
        )));
    }
    let problems = verify::problems(&conn)?;
    if !problems.is_empty() {
        return Err(Error::storage(format!(
            "{} does not verify: {}",
            path.display(),
            problems.join("; ")
        )));
    }
    Ok(())
}

/// Gives a restored copy a new generation, so that every till sees at its next sync that
/// central was rewound and pushes again what it no longer holds (docs/TILLS.md). A copy from
/// before generations existed gets its first one when it is migrated, which differs too. The
/// tills' tokens are the backup's, older than what each till holds: they are cleared, and each
/// till's next check-in leaves a new one.
fn new_generation(copy: &Path) -> Result<()> {
    let conn = Connection::open(copy)?;
    let has_identity: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'database_identity')",
        [],
        |r| r.get(0),
    )?;
    if has_identity {
        conn.execute_batch(
            "UPDATE database_identity SET generation = lower(hex(randomblob(16)));
             UPDATE tills SET token = '';",
        )?;
    }
    Ok(())
}

fn sync_and_rename(tmp: &Path, target: &Path) -> Result<()> {
    let io = |what: &str, e: std::io::Error| Error::storage(format!("{what}: {e}"));
    std::fs::File::open(tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("cannot sync the copy", e))?;
    std::fs::rename(tmp, target).map_err(|e| io("cannot move the copy into place", e))?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io("cannot sync the target directory", e))?;
    }
    Ok(())
}

/// The processes on this machine (other than this one) that hold `path`, or its WAL or shared
/// memory file, open: read from `/proc`, as `fuser` does. Empty where `/proc` is not available.
pub(crate) fn holders(path: &Path) -> Vec<u32> {
    let Ok(canonical) = std::fs::canonicalize(path) else {
        return Vec::new();
    };
    let mut names = vec![canonical.clone()];
    for suffix in ["-wal", "-shm"] {
        let mut name = canonical.clone().into_os_string();
        name.push(suffix);
        names.push(PathBuf::from(name));
    }
    let me = std::process::id();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        if fds
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .any(|target| names.contains(&target))
        {
            found.push(pid);
        }
    }
    found
}

/// Replaces the database at `target` with a verified copy of `source`, atomically: the copy is
/// checked, written beside the target, synced and renamed over it. The target's old WAL and
/// shared-memory files are removed first (replayed onto the new file they would corrupt it),
/// which is only safe while no process has the target open: unless `force`, the restore is
/// refused, naming the processes that do.
///
/// The source must be a regular file that no other process holds open (a live database's file
/// without its WAL is not a consistent copy: back it up, and restore the backup), and the
/// target a regular file or a new path other than the source.
pub(crate) fn restore(source: &Path, target: &Path, force: bool) -> Result<BackupReport> {
    check_source(source, "from")?;
    check_target(source, target, "db", Overwrite::Allowed)?;
    let live = holders(source);
    if !live.is_empty() {
        return Err(Error::conflict(format!(
            "{} is a database open in another process (pid {}): restore a backup of it, never \
             the live file",
            source.display(),
            pid_list(&live)
        )));
    }
    check_copy(source)?;
    let holders = holders(target);
    if !holders.is_empty() && !force {
        return Err(Error::conflict(format!(
            "{} is open in another process (pid {}); stop it first, or force the restore",
            target.display(),
            pid_list(&holders)
        )));
    }
    let tmp = temporary_name(target)?;
    let copied = std::fs::copy(source, &tmp)
        .map_err(|e| Error::storage(format!("cannot copy {}: {e}", source.display())));
    let done = copied.and_then(|bytes| {
        new_generation(&tmp)?;
        for suffix in ["-wal", "-shm"] {
            let mut name = target.to_path_buf().into_os_string();
            name.push(suffix);
            match std::fs::remove_file(PathBuf::from(name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Error::storage(format!(
                        "cannot remove the old {suffix} file: {e}"
                    )));
                }
                _ => {}
            }
        }
        sync_and_rename(&tmp, target).map(|()| BackupReport { bytes })
    });
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}
