//! A clock that Python code moves by hand, for deterministic tests of reservation expiry.
//! It is the engine's own `ManualClock`; Python only holds a shared reference to it.

use crate::errors::invalid;
use inventory::{DateTime, Utc};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDelta, PyFloat, PyInt};
use std::sync::Arc;

/// A clock that stands still until moved: pass it as `Inventory(path, clock=...)` and expiry
/// happens exactly when the test says. Starts at `start` (an aware datetime; default
/// 2030-01-01T00:00:00Z).
#[pyclass(frozen, module = "inventory")]
pub struct ManualClock(pub(crate) Arc<inventory::ManualClock>);

#[pymethods]
impl ManualClock {
    #[new]
    #[pyo3(signature = (start = None))]
    fn new(start: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        Ok(ManualClock(Arc::new(match start {
            Some(t) => inventory::ManualClock::new(crate::convert::instant(t, "start")?),
            None => inventory::ManualClock::fixed(),
        })))
    }

    /// The clock's current time (UTC).
    fn now(&self) -> DateTime<Utc> {
        inventory::Clock::now(&*self.0)
    }

    /// Moves the clock forward (or back) by a `timedelta` or a number of seconds.
    fn advance(&self, by: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = by.py();
        let step = if by.is_instance_of::<PyDelta>() {
            by.extract::<chrono::Duration>()?
        } else if (by.is_instance_of::<PyInt>() || by.is_instance_of::<PyFloat>())
            && !by.is_instance_of::<PyBool>()
        {
            let seconds: f64 = by.extract()?;
            if !seconds.is_finite() || seconds.abs() > 1e12 {
                return Err(invalid(py, "by", "by must be a finite number of seconds"));
            }
            chrono::Duration::microseconds((seconds * 1e6).round() as i64)
        } else {
            return Err(PyTypeError::new_err(format!(
                "by must be a timedelta or a number of seconds, not {}",
                by.get_type().name()?
            )));
        };
        self.0.advance(step);
        Ok(())
    }

    /// Sets the clock to an aware datetime.
    fn set(&self, to: &Bound<'_, PyAny>) -> PyResult<()> {
        self.0.set(crate::convert::instant(to, "to")?);
        Ok(())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let now = self.now().into_pyobject(py)?.repr()?;
        Ok(format!("ManualClock({now})"))
    }
}
