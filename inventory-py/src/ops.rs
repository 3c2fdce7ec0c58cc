//! Stock operations from keyword arguments or from batch dicts. Both fill the engine's one flat
//! `StockOp`; which fields a kind accepts is the engine's rule, checked when it applies.

use crate::convert::{self, Int};
use crate::errors::invalid;
use inventory::{OpKind, StockOp, Uuid};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

/// The optional fields every stock operation may carry.
#[derive(Default)]
pub(crate) struct Extras {
    pub(crate) location: Option<String>,
    pub(crate) to_location: Option<String>,
    pub(crate) reference: Option<String>,
    pub(crate) notes: Option<String>,
    pub(crate) expires_in_seconds: Option<i64>,
    pub(crate) expires_at: Option<inventory::DateTime<inventory::Utc>>,
    pub(crate) release_remainder: bool,
    pub(crate) expected_available: Option<i64>,
    pub(crate) expected_quantity: Option<i64>,
}

pub(crate) fn build(
    py: Python<'_>,
    kind: OpKind,
    product_id: Uuid,
    quantity: Option<i64>,
    extras: Extras,
) -> PyResult<StockOp> {
    let mut op = StockOp::new(kind, product_id, 0).quantity(quantity);
    op.location = extras.location;
    op.to_location = extras.to_location;
    op.reference = extras.reference;
    op.notes = extras.notes;
    op.expires = convert::expiry(py, extras.expires_in_seconds, extras.expires_at)?;
    op.release_remainder = extras.release_remainder;
    op.expect = convert::expect(py, extras.expected_available, extras.expected_quantity)?;
    Ok(op)
}

/// Keys a batch item may hold: the keyword names of the single-operation methods, plus
/// `op` and `product_id`, so an item reads like the call it replaces. `from_location` and
/// `location` name the same field (a transfer's source); `counted` is a count's `quantity`.
const BATCH_KEYS: &[&str] = &[
    "op",
    "product_id",
    "quantity",
    "counted",
    "location",
    "from_location",
    "to_location",
    "reference",
    "notes",
    "expires_in_seconds",
    "expires_at",
    "release_remainder",
    "expected_available",
    "expected_quantity",
];

/// One batch item, a dict such as `{"op": "reserve", "product_id": id, "quantity": 2,
/// "reference": "ORDER-1"}`. Unknown keys are refused so that a typo is not silently ignored.
pub(crate) fn from_dict(item: &Bound<'_, PyAny>, index: usize) -> PyResult<StockOp> {
    let py = item.py();
    let dict = item.cast::<PyDict>().map_err(|_| {
        PyTypeError::new_err(format!(
            "operations[{index}] must be a dict, not {}",
            item.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    for key in dict.keys() {
        let known = key
            .cast::<PyString>()
            .ok()
            .and_then(|k| k.to_cow().ok().map(|k| BATCH_KEYS.contains(&k.as_ref())))
            .unwrap_or(false);
        if !known {
            return Err(invalid(
                py,
                "operations",
                format!("operations[{index}]: unknown key {key}"),
            ));
        }
    }
    let get = |key: &str| -> PyResult<Option<Bound<'_, PyAny>>> {
        Ok(dict.get_item(key)?.filter(|v| !v.is_none()))
    };
    fn typed<'py, T: for<'a> FromPyObject<'a, 'py>>(
        value: Option<Bound<'py, PyAny>>,
        index: usize,
        key: &str,
    ) -> PyResult<Option<T>> {
        value
            .map(|v| {
                v.extract::<T>().map_err(|e| {
                    let e: PyErr = e.into();
                    let _ = e.value(v.py()).call_method1(
                        "add_note",
                        (format!("while processing operations[{index}][{key:?}]"),),
                    );
                    e
                })
            })
            .transpose()
    }

    let kind_name: String = typed(get("op")?, index, "op")?
        .ok_or_else(|| invalid(py, "op", format!("operations[{index}]: op is required")))?;
    let kind = OpKind::parse(&kind_name).ok_or_else(|| {
        invalid(
            py,
            "op",
            format!(
                "operations[{index}]: unknown op {kind_name:?} (add, remove, reserve, unreserve, commit, transfer, count)"
            ),
        )
    })?;
    let id: String = typed(get("product_id")?, index, "product_id")?.ok_or_else(|| {
        invalid(
            py,
            "product_id",
            format!("operations[{index}]: product_id is required"),
        )
    })?;
    let product_id = convert::product_id(py, &id)?;

    let one_of = |a: &str, b: &str| -> PyResult<Option<Bound<'_, PyAny>>> {
        match (get(a)?, get(b)?) {
            (Some(_), Some(_)) => Err(invalid(
                py,
                b,
                format!("operations[{index}]: give {a} or {b}, not both"),
            )),
            (x, y) => Ok(x.or(y)),
        }
    };
    let quantity: Option<Int> = typed(one_of("quantity", "counted")?, index, "quantity")?;
    let extras = Extras {
        location: typed(one_of("location", "from_location")?, index, "location")?,
        to_location: typed(get("to_location")?, index, "to_location")?,
        reference: typed(get("reference")?, index, "reference")?,
        notes: typed(get("notes")?, index, "notes")?,
        expires_in_seconds: convert::opt(typed(
            get("expires_in_seconds")?,
            index,
            "expires_in_seconds",
        )?),
        expires_at: get("expires_at")?
            .map(|t| convert::instant(&t, "expires_at"))
            .transpose()?,
        release_remainder: typed(get("release_remainder")?, index, "release_remainder")?
            .unwrap_or(false),
        expected_available: convert::opt(typed(
            get("expected_available")?,
            index,
            "expected_available",
        )?),
        expected_quantity: convert::opt(typed(
            get("expected_quantity")?,
            index,
            "expected_quantity",
        )?),
    };
    build(py, kind, product_id, convert::opt(quantity), extras)
}
