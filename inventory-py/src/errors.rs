//! The exception hierarchy. The class is chosen from the engine's stable `ErrorCode`, never
//! from the message; every instance carries `code`, `message`, `field` and `index` so that a
//! caller can react to the exact input that failed (the field name, the batch position).

use inventory::{Error, ErrorCode};
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

pyo3::create_exception!(
    inventory,
    InventoryError,
    PyException,
    "Base class of every error the engine reports. `.code` is the engine's code string."
);
pyo3::create_exception!(
    inventory,
    NotFoundError,
    InventoryError,
    "The product, stock level or reservation does not exist (code NOT_FOUND)."
);
pyo3::create_exception!(
    inventory,
    InsufficientStockError,
    InventoryError,
    "Not enough available stock for the operation (code INSUFFICIENT_STOCK)."
);
pyo3::create_exception!(
    inventory,
    InsufficientReservedError,
    InsufficientStockError,
    "Releasing or committing more than is reserved (code INSUFFICIENT_RESERVED)."
);
pyo3::create_exception!(
    inventory,
    DuplicateSkuError,
    InventoryError,
    "Another live product already has this SKU (code DUPLICATE_SKU)."
);
pyo3::create_exception!(
    inventory,
    ConflictError,
    InventoryError,
    "A stale expected value or version, or an idempotency key reused for a different \
     request (code CONFLICT). `.field` names which."
);
pyo3::create_exception!(
    inventory,
    StorageError,
    InventoryError,
    "The database failed, the file is not an inventory database, or the Inventory is \
     closed (code STORAGE_ERROR)."
);

pyo3::create_exception!(
    inventory,
    BusyError,
    StorageError,
    "Another process held the database's write lock past the busy timeout; retry later \
     (code BUSY). A StorageError, so code that catches those keeps working."
);
pyo3::create_exception!(
    inventory,
    UnauthorizedError,
    InventoryError,
    "The API key is unknown or revoked (code UNAUTHORIZED)."
);
pyo3::create_exception!(
    inventory,
    ForbiddenError,
    InventoryError,
    "The key may not do this: its scope, or the locations it is limited to (code FORBIDDEN)."
);

/// `ValidationError` derives from both `InventoryError` and `ValueError`, so code that
/// catches `ValueError` for bad input keeps working. `create_exception!` takes one base only,
/// so this class is built once, at import, with both.
static VALIDATION_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

pub(crate) fn validation_error_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    VALIDATION_ERROR
        .get_or_try_init(py, || {
            let bases = PyTuple::new(
                py,
                [
                    py.get_type::<InventoryError>(),
                    py.get_type::<PyValueError>(),
                ],
            )?;
            let namespace = PyDict::new(py);
            namespace.set_item("__module__", "inventory")?;
            namespace.set_item(
                "__doc__",
                "The input is invalid (code VALIDATION_ERROR). `.field` names the argument. \
                 Also a ValueError.",
            )?;
            namespace.set_item("code", ErrorCode::ValidationError.as_str())?;
            let class = py
                .get_type::<PyType>()
                .call1(("ValidationError", bases, namespace))?;
            Ok(class.cast_into::<PyType>()?.unbind())
        })
        .map(|t| t.bind(py))
}

/// The class for an engine code.
fn class_of(py: Python<'_>, code: ErrorCode) -> PyResult<Bound<'_, PyType>> {
    Ok(match code {
        ErrorCode::NotFound => py.get_type::<NotFoundError>(),
        ErrorCode::ValidationError => validation_error_type(py)?.clone(),
        ErrorCode::InsufficientStock => py.get_type::<InsufficientStockError>(),
        ErrorCode::InsufficientReserved => py.get_type::<InsufficientReservedError>(),
        ErrorCode::DuplicateSku => py.get_type::<DuplicateSkuError>(),
        ErrorCode::Conflict => py.get_type::<ConflictError>(),
        ErrorCode::StorageError => py.get_type::<StorageError>(),
        ErrorCode::Busy => py.get_type::<BusyError>(),
        ErrorCode::Unauthorized => py.get_type::<UnauthorizedError>(),
        ErrorCode::Forbidden => py.get_type::<ForbiddenError>(),
    })
}

/// Registers the classes on the module, each with a class-level `code` so that
/// `NotFoundError.code == "NOT_FOUND"` holds before any instance exists.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let base = py.get_type::<InventoryError>();
    base.setattr("code", py.None())?;
    m.add("InventoryError", &base)?;
    for code in ErrorCode::ALL {
        let class = class_of(py, code)?;
        if code != ErrorCode::ValidationError {
            class.setattr("code", code.as_str())?;
        }
        m.add(class.name()?.to_cow()?.as_ref(), class)?;
    }
    for attr in ["message", "field", "index"] {
        base.setattr(attr, py.None())?;
    }
    Ok(())
}

/// The engine error as a Python exception instance of the matching class.
pub(crate) fn to_py(py: Python<'_>, e: Error) -> PyErr {
    match build(py, &e) {
        Ok(err) => err,
        Err(failed) => failed,
    }
}

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let class = class_of(py, e.code)?;
    let value = class.call1((e.message.as_str(),))?;
    value.setattr("code", e.code.as_str())?;
    value.setattr("message", e.message.as_str())?;
    value.setattr("field", e.field.as_deref())?;
    value.setattr("index", e.index)?;
    Ok(PyErr::from_value(value))
}

/// A validation error raised by this layer, for input the engine's types cannot even hold
/// (an int too large for i64, two mutually exclusive keywords).
pub(crate) fn invalid(py: Python<'_>, field: &str, message: impl Into<String>) -> PyErr {
    to_py(py, Error::validation(field, message))
}

/// Results of engine calls, turned into Python exceptions at the boundary.
pub(crate) trait OrRaise<T> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrRaise<T> for Result<T, Error> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, e))
    }
}
