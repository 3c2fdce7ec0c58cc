//! `inventory._inventory`: the inventory engine as a Python extension module.
//!
//! This crate only translates: Python arguments into the engine's commands and queries, the
//! engine's results into immutable Python objects, and its errors into an exception
//! hierarchy keyed by error code. Every rule and every SQL statement lives in the engine.
//! The public Python package (`python/inventory/__init__.py`) re-exports what is here.

mod clock;
mod closable;
mod convert;
mod errors;
mod feed;
mod handle;
mod model;
mod ops;
mod till;
mod webhooks;

use pyo3::prelude::*;

#[pymodule]
fn _inventory(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<handle::Inventory>()?;
    m.add_class::<feed::ChangeFeed>()?;
    m.add_class::<clock::ManualClock>()?;
    model::register(m)?;
    till::register(m)?;
    webhooks::register(m)?;
    errors::register(m)?;
    m.add_function(wrap_pyfunction!(ops::stock_fields, m)?)?;
    m.add_function(wrap_pyfunction!(ops::required_stock_fields, m)?)?;
    // The engine's own defaults and limits, so that no Python code or document restates them.
    let kinds: Vec<&str> = inventory::OpKind::ALL.iter().map(|k| k.as_str()).collect();
    m.add("STOCK_OPS", pyo3::types::PyTuple::new(m.py(), kinds)?)?;
    // The build, `0.1.0+1a2b3c4d5e6f` (a PEP 440 local version): the package's version and
    // the commit it was compiled from, or `+unknown` from an sdist.
    m.add("__version__", inventory_version::FULL)?;
    m.add("DEFAULT_LOCATION", inventory::DEFAULT_LOCATION)?;
    m.add("IDEMPOTENCY_TTL_HOURS", inventory::IDEMPOTENCY_TTL_HOURS)?;
    m.add("DEFAULT_PAGE", inventory::DEFAULT_PAGE)?;
    m.add("MAX_PAGE", inventory::MAX_PAGE)?;
    m.add("DEFAULT_CHANGES_PAGE", inventory::DEFAULT_CHANGES_PAGE)?;
    m.add("MAX_CHANGES_PAGE", inventory::MAX_CHANGES_PAGE)?;
    m.add("MAX_BATCH", inventory::MAX_BATCH)?;
    Ok(())
}
