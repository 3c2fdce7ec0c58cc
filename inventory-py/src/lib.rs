//! `inventory._inventory`: the inventory engine as a Python extension module.
//!
//! This crate only translates: Python arguments into the engine's commands and queries, the
//! engine's results into immutable Python objects, and its errors into an exception
//! hierarchy keyed by error code. Every rule and every SQL statement lives in the engine.
//! The public Python package (`python/inventory/__init__.py`) re-exports what is here.

mod clock;
mod convert;
mod errors;
mod feed;
mod handle;
mod model;
mod ops;

use pyo3::prelude::*;

#[pymodule]
fn _inventory(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<handle::Inventory>()?;
    m.add_class::<feed::ChangeFeed>()?;
    m.add_class::<clock::ManualClock>()?;
    model::register(m)?;
    errors::register(m)?;
    m.add("DEFAULT_LOCATION", inventory::DEFAULT_LOCATION)?;
    m.add("IDEMPOTENCY_TTL_HOURS", inventory::IDEMPOTENCY_TTL_HOURS)?;
    Ok(())
}
