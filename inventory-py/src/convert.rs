//! Python values in. Each function checks the Python type (a wrong type is a TypeError) and
//! hands the value to the engine's own parser or constructor, where its rules live.

use crate::errors::{OrRaise, invalid, to_py};
use inventory::{Decimal, Expect, Expiry, Price, Utc, Uuid};
use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDateTime, PyFloat, PyInt, PyString, PyType};

static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static TIMEZONE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// A product id. A string that is not a UUID names no product, so it is NOT_FOUND, exactly as
/// a well-formed id that does not exist.
pub(crate) fn product_id(py: Python<'_>, id: &str) -> PyResult<Uuid> {
    Uuid::parse_str(id)
        .map_err(|_| inventory::Error::not_found(format!("product {id:?}")))
        .or_raise(py)
}

/// An integer argument: a real `int`, not a bool (which Python counts as an int) and not a
/// float. A value beyond i64 is a validation error, since the engine's limits are far below.
pub(crate) struct Int(pub(crate) i64);

impl<'a, 'py> FromPyObject<'a, 'py> for Int {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = value.py();
        if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
            return Err(PyTypeError::new_err(format!(
                "expected an int, not {}",
                value.get_type().name()?
            )));
        }
        value.extract::<i64>().map(Int).map_err(|e| {
            if e.is_instance_of::<PyOverflowError>(py) {
                to_py(
                    py,
                    inventory::Error::new(
                        inventory::ErrorCode::ValidationError,
                        format!(
                            "{} is out of range",
                            value.repr().map(|r| r.to_string()).unwrap_or_default()
                        ),
                    ),
                )
            } else {
                e
            }
        })
    }
}

pub(crate) fn opt(value: Option<Int>) -> Option<i64> {
    value.map(|i| i.0)
}

/// Money in: `decimal.Decimal`, `int` or a numeric `str`. A float is refused because it
/// cannot hold most prices exactly.
pub(crate) struct Money(pub(crate) Price);

impl<'a, 'py> FromPyObject<'a, 'py> for Money {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = value.py();
        let decimal = DECIMAL.import(py, "decimal", "Decimal")?;
        let price = if value.is_instance(decimal)? {
            let d: Decimal = value.extract().map_err(|_| {
                let shown = value.repr().map(|r| r.to_string()).unwrap_or_default();
                invalid(
                    py,
                    "price",
                    format!("price {shown} is not a finite decimal"),
                )
            })?;
            Price::new(d)
        } else if value.is_instance_of::<PyString>() {
            Price::parse(&value.extract::<PyBackedStr>()?)
        } else if value.is_instance_of::<PyInt>() && !value.is_instance_of::<PyBool>() {
            let whole = value.extract::<i64>().map_err(|_| {
                invalid(
                    py,
                    "price",
                    format!("price must be below {}", inventory::PRICE_LIMIT),
                )
            })?;
            Price::new(Decimal::from(whole))
        } else {
            let hint = if value.is_instance_of::<PyFloat>() {
                " (a float cannot hold money exactly: use Decimal or str)"
            } else {
                ""
            };
            return Err(PyTypeError::new_err(format!(
                "price must be a Decimal, int or str, not {}{hint}",
                value.get_type().name()?
            )));
        };
        price.map(Money).or_raise(py)
    }
}

/// A timezone-aware datetime, converted to UTC. A naive datetime is refused: guessing its
/// zone would move an expiry by hours.
pub(crate) fn instant(value: &Bound<'_, PyAny>, field: &str) -> PyResult<inventory::DateTime<Utc>> {
    let py = value.py();
    if !value.is_instance_of::<PyDateTime>() {
        return Err(PyTypeError::new_err(format!(
            "{field} must be a datetime, not {}",
            value.get_type().name()?
        )));
    }
    if value.call_method0("utcoffset")?.is_none() {
        return Err(invalid(
            py,
            field,
            format!("{field} must be a timezone-aware datetime"),
        ));
    }
    let utc = TIMEZONE
        .import(py, "datetime", "timezone")?
        .getattr("utc")?;
    value.call_method1("astimezone", (utc,))?.extract()
}

/// At most one compare-and-set guard: the engine checks one expected value per operation.
pub(crate) fn expect(
    py: Python<'_>,
    expected_available: Option<i64>,
    expected_quantity: Option<i64>,
) -> PyResult<Option<Expect>> {
    match (expected_available, expected_quantity) {
        (Some(_), Some(_)) => Err(invalid(
            py,
            "expected_available",
            "give expected_available or expected_quantity, not both",
        )),
        (Some(a), None) => Ok(Some(Expect::Available(a))),
        (None, Some(q)) => Ok(Some(Expect::Quantity(q))),
        (None, None) => Ok(None),
    }
}

/// At most one expiry: relative or absolute.
pub(crate) fn expiry(
    py: Python<'_>,
    expires_in_seconds: Option<i64>,
    expires_at: Option<inventory::DateTime<Utc>>,
) -> PyResult<Option<Expiry>> {
    match (expires_in_seconds, expires_at) {
        (Some(_), Some(_)) => Err(invalid(
            py,
            "expires_at",
            "give expires_in_seconds or expires_at, not both",
        )),
        (Some(s), None) => Ok(Some(Expiry::In(s))),
        (None, Some(t)) => Ok(Some(Expiry::At(t))),
        (None, None) => Ok(None),
    }
}
