//! A consistent copy of a live database. `VACUUM INTO` copies one read snapshot (every write
//! committed before it began, none after) without blocking the writer, into a compact file of
//! its own: no WAL beside it. The copy is written under a temporary name, checked as `verify()`
//! checks a database, synced, and only then renamed into place, so a crash or a failed check
//! never leaves a half copy under the target name.

use super::{schema, verify};
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

/// Copies the database at `source` to `target`, calling `progress(written, total)` as the copy
/// grows (`total` is the source's size, an upper bound).
pub(crate) fn backup(
    source: &Path,
    target: &Path,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<BackupReport> {
    if let (Ok(from), Ok(to)) = (std::fs::canonicalize(source), std::fs::canonicalize(target)) {
        if from == to {
            return Err(Error::validation(
                "to",
                format!("{} is the database itself", target.display()),
            ));
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
pub(crate) fn restore(source: &Path, target: &Path, force: bool) -> Result<BackupReport> {
    check_copy(source)?;
    let holders = holders(target);
    if !holders.is_empty() && !force {
        let pids: Vec<String> = holders.iter().map(u32::to_string).collect();
        return Err(Error::conflict(format!(
            "{} is open in another process (pid {}); stop it first, or force the restore",
            target.display(),
            pids.join(", ")
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
