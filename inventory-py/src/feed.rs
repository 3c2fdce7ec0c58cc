//! The change feed as a Python iterator: pages of `changes()` fetched on demand and, when
//! following, a wait for new commits that holds neither the GIL nor the interpreter's
//! attention (it wakes every few hundred milliseconds to let Ctrl-C through).

use crate::errors::{OrRaise, invalid};
use crate::handle::Inventory;
use crate::model::Movement;
use pyo3::prelude::*;
use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Longest a follow-mode wait runs before checking for signals.
const WAIT_SLICE: Duration = Duration::from_millis(200);

struct Cursor {
    /// The `seq` of the last movement handed out.
    after: i64,
    buffered: VecDeque<inventory::Movement>,
}

enum Step {
    Item(Box<inventory::Movement>),
    Done,
    Again,
}

/// Iterator returned by `Inventory.iter_changes()`. Yields Movement objects, oldest first.
/// `.after` is the `seq` of the last movement yielded: pass it to resume later.
#[pyclass(frozen, module = "inventory")]
pub struct ChangeFeed {
    inventory: Py<Inventory>,
    limit: i64,
    follow: bool,
    timeout: Option<Duration>,
    // Locked only with the GIL released, so a thread waiting for it never blocks one that
    // needs the GIL to finish.
    cursor: Mutex<Cursor>,
}

impl ChangeFeed {
    pub(crate) fn new(
        inventory: Py<Inventory>,
        after: i64,
        limit: i64,
        follow: bool,
        timeout: Option<f64>,
    ) -> PyResult<Self> {
        let timeout = match timeout {
            None => None,
            Some(t) => Some(Duration::try_from_secs_f64(t).map_err(|_| {
                Python::attach(|py| {
                    invalid(
                        py,
                        "timeout",
                        "timeout must be a non-negative number of seconds",
                    )
                })
            })?),
        };
        Ok(ChangeFeed {
            inventory,
            limit,
            follow,
            timeout,
            cursor: Mutex::new(Cursor {
                after,
                buffered: VecDeque::new(),
            }),
        })
    }

    fn step(
        &self,
        engine: &inventory::Inventory,
        deadline: Option<Instant>,
    ) -> inventory::Result<Step> {
        let mut cursor = self.cursor.lock().unwrap_or_else(PoisonError::into_inner);
        if cursor.buffered.is_empty() {
            let page = engine.changes(cursor.after, Some(self.limit))?;
            cursor.buffered.extend(page.movements);
        }
        if let Some(m) = cursor.buffered.pop_front() {
            cursor.after = m.seq;
            return Ok(Step::Item(Box::new(m)));
        }
        if !self.follow {
            return Ok(Step::Done);
        }
        let slice = match deadline {
            None => WAIT_SLICE,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(Step::Done);
                }
                left.min(WAIT_SLICE)
            }
        };
        engine.wait_for_changes(cursor.after, slice);
        Ok(Step::Again)
    }
}

#[pymethods]
impl ChangeFeed {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Movement>> {
        let engine = self.inventory.get().engine(py)?;
        let deadline = self.timeout.map(|t| Instant::now() + t);
        loop {
            match py.detach(|| self.step(&engine, deadline)).or_raise(py)? {
                Step::Item(m) => return Ok(Some(Movement(*m))),
                Step::Done => return Ok(None),
                Step::Again => py.check_signals()?,
            }
        }
    }

    /// The `seq` of the last movement yielded (the starting `after` before the first).
    #[getter]
    fn after(&self, py: Python<'_>) -> i64 {
        py.detach(|| {
            self.cursor
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .after
        })
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "ChangeFeed(after={}, follow={})",
            self.after(py),
            if self.follow { "True" } else { "False" }
        )
    }
}
