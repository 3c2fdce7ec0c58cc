//! The file a database path leads to. A database file that is deleted or replaced while open
//! keeps working for the process that holds it, and every write to it is lost when that process
//! closes it. So the store remembers which file it opened and, before each commit, checks that
//! the path still leads to it: if not, it refuses the write rather than acknowledge one that
//! cannot survive.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

pub(crate) struct Identity {
    path: PathBuf,
    /// (device, inode) of the file opened.
    id: (u64, u64),
}

/// (device, inode) of the file `path` leads to.
#[cfg(unix)]
pub(crate) fn file_id(path: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)?;
    Ok((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
pub(crate) fn file_id(path: &Path) -> std::io::Result<(u64, u64)> {
    // Without inode numbers, only a deleted file can be told apart.
    std::fs::metadata(path).map(|_| (0, 0))
}

impl Identity {
    /// The file at `path` now; call right after opening it.
    pub fn of(path: &Path) -> Result<Identity> {
        let id = file_id(path)
            .map_err(|e| Error::storage(format!("cannot stat {}: {e}", path.display())))?;
        Ok(Identity {
            path: path.to_owned(),
            id,
        })
    }

    /// Fails when the path no longer leads to the file this store opened.
    pub fn check(&self) -> Result<()> {
        match file_id(&self.path) {
            Ok(id) if id == self.id => Ok(()),
            Ok(_) => Err(self.lost("was replaced by another file")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(self.lost("was deleted")),
            Err(e) => Err(Error::storage(format!(
                "cannot stat {}: {e}",
                self.path.display()
            ))),
        }
    }

    fn lost(&self, what: &str) -> Error {
        Error::storage(format!(
            "the database file {} {what} while open: writes are refused, since none would \
             survive a restart; restart the process on the right file",
            self.path.display()
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}
