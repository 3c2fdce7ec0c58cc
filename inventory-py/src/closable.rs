//! What a Python object that holds an engine handle (an `Inventory`, a `Till`) keeps until
//! `close()`. Calls clone the handle out of the lock and release the lock at once, so `close()`
//! never waits for (or breaks) a call already running: that call finishes on its clone, and the
//! files close when the last clone is dropped.

use crate::errors::OrRaise;
use pyo3::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock};

pub struct Closable<T> {
    /// `None` once closed.
    handle: RwLock<Option<T>>,
    path: PathBuf,
    /// What the error calls it: "the inventory at … is closed".
    what: &'static str,
}

impl<T: Clone + Send> Closable<T> {
    pub fn new(handle: T, path: PathBuf, what: &'static str) -> Self {
        Closable {
            handle: RwLock::new(Some(handle)),
            path,
            what,
        }
    }

    /// A clone of the handle, or StorageError once closed.
    pub fn get(&self, py: Python<'_>) -> PyResult<T> {
        self.handle
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| {
                crate::errors::to_py(
                    py,
                    inventory::Error::storage(format!(
                        "the {} at {} is closed",
                        self.what,
                        inventory::redacted(&self.path)
                    )),
                )
            })
    }

    /// Runs `f` on a clone of the handle with the GIL released.
    pub fn call<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&T) -> inventory::Result<R> + Send,
    ) -> PyResult<R>
    where
        T: Sync,
    {
        let handle = self.get(py)?;
        py.detach(|| f(&handle)).or_raise(py)
    }

    /// Drops this object's handle; closing twice is harmless. Dropping the last clone
    /// checkpoints the files (and a till's joins its background sync): without the GIL.
    pub fn close(&self, py: Python<'_>) {
        let taken = self
            .handle
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        py.detach(move || drop(taken));
    }

    pub fn is_closed(&self) -> bool {
        self.handle
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}
