//! Stock operations from keyword arguments or from batch dicts. Both are read through the
//! engine's table (`inventory::shape`): each key names a field the operation's kind takes (the
//! engine refuses any other, with the one message every surface gives), its Python value is
//! extracted as the field's type says, and the engine builds the `StockOp`. So a field added to
//! the table is a keyword of its method and a key of its batch items with no edit here.

use crate::convert::{self, Int};
use crate::errors::{OrRaise, invalid};
use inventory::shape::{self, Field, FieldType, Value};
use inventory::{OpKind, StockOp, Uuid};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};

/// A Python value as the field's type holds it; a value of another Python type is a TypeError.
fn extract(field: Field, value: &Bound<'_, PyAny>) -> PyResult<Value> {
    Ok(match field.value_type() {
        FieldType::Integer { .. } => Value::Integer(value.extract::<Int>()?.0),
        FieldType::Text { .. } => Value::Text(value.extract::<String>()?),
        FieldType::Instant => Value::Instant(convert::instant(value, field.name())?),
        FieldType::Flag => Value::Flag(value.extract::<bool>()?),
    })
}

/// Adds a note naming where a value came from, to an error raised while reading it.
fn noted(py: Python<'_>, e: PyErr, at: &str) -> PyErr {
    let _ = e
        .value(py)
        .call_method1("add_note", (format!("while processing {at}"),));
    e
}

/// One (name, value) pair of a stock operation of `kind`; `None` is the field left out.
fn field_value(
    kind: OpKind,
    name: &str,
    value: &Bound<'_, PyAny>,
) -> PyResult<Option<(Field, Value)>> {
    let py = value.py();
    let field = shape::shape(kind).field(name).or_raise(py)?;
    if value.is_none() {
        return Ok(None);
    }
    Ok(Some((field, extract(field, value)?)))
}

/// A stock method's operation: its positional fields (the product's quantity, a count's
/// `counted`, a commit's `reference`; `None` when an optional one is left out, while a required
/// one given as None is a TypeError, as for any required argument) and its keyword arguments,
/// every one a field of the table.
pub(crate) fn from_call(
    py: Python<'_>,
    kind: OpKind,
    id: &str,
    positional: (&str, Option<&Bound<'_, PyAny>>),
    keywords: Option<&Bound<'_, PyDict>>,
) -> PyResult<StockOp> {
    let product_id = convert::product_id(py, id)?;
    let mut fields = Vec::new();
    if let (name, Some(value)) = positional {
        let field = shape::shape(kind).field(name).or_raise(py)?;
        fields.push((
            field,
            extract(field, value).map_err(|e| noted(py, e, name))?,
        ));
    }
    for (key, value) in keywords.into_iter().flatten() {
        let name = key.cast::<PyString>()?.to_cow()?;
        if Field::parse(&name).is_none() {
            // A keyword that names no field at all is what Python calls an unexpected keyword
            // argument: a TypeError, with the engine's message. One that names another
            // operation's field is the engine's ValidationError, as on every surface.
            let refused = shape::shape(kind).field(&name).unwrap_err();
            return Err(PyTypeError::new_err(refused.message));
        }
        fields.extend(field_value(kind, &name, &value).map_err(|e| noted(py, e, &name))?);
    }
    build(py, kind, product_id, fields)
}

fn build(
    py: Python<'_>,
    kind: OpKind,
    product_id: Uuid,
    fields: Vec<(Field, Value)>,
) -> PyResult<StockOp> {
    StockOp::from_fields(kind, product_id, fields).or_raise(py)
}

/// One batch item, a dict such as `{"op": "reserve", "product_id": id, "quantity": 2,
/// "reference": "ORDER-1"}`: `op`, `product_id`, and the fields the op's kind takes, named as
/// in the table (so, as the matching method's keywords). A `None` value is the field left out.
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
    let at = |key: &str| format!("operations[{index}][{key:?}]");
    let text = |key: &str| -> PyResult<String> {
        let value = dict
            .get_item(key)?
            .filter(|v| !v.is_none())
            .ok_or_else(|| invalid(py, key, format!("operations[{index}]: {key} is required")))?;
        value
            .extract::<String>()
            .map_err(|e| noted(py, e, &at(key)))
    };
    let kind = kind_of(py, &text("op")?)?;
    let product_id = convert::product_id(py, &text("product_id")?)?;
    let mut fields = Vec::new();
    for (key, value) in dict.iter() {
        let name = key.cast::<PyString>().map_err(|_| {
            invalid(
                py,
                "operations",
                format!("operations[{index}]: keys must be strings"),
            )
        })?;
        let name = name.to_cow()?;
        if matches!(name.as_ref(), "op" | "product_id") {
            continue;
        }
        fields.extend(field_value(kind, &name, &value).map_err(|e| noted(py, e, &at(&name)))?);
    }
    build(py, kind, product_id, fields)
}

fn kind_of(py: Python<'_>, op: &str) -> PyResult<OpKind> {
    OpKind::parse(op).ok_or_else(|| {
        let kinds: Vec<&str> = OpKind::ALL.iter().map(|k| k.as_str()).collect();
        invalid(
            py,
            "op",
            format!("unknown op {op:?} ({})", kinds.join(", ")),
        )
    })
}

/// The fields a kind of stock operation takes, in the engine's order: the keywords of its
/// method and the keys of its batch items (besides `op` and `product_id`).
#[pyfunction]
pub(crate) fn stock_fields<'py>(py: Python<'py>, op: &str) -> PyResult<Bound<'py, PyTuple>> {
    let shape = shape::shape(kind_of(py, op)?);
    PyTuple::new(py, shape.fields.iter().map(|(f, _)| f.name()))
}

/// The fields a kind of stock operation cannot do without.
#[pyfunction]
pub(crate) fn required_stock_fields<'py>(
    py: Python<'py>,
    op: &str,
) -> PyResult<Bound<'py, PyTuple>> {
    let shape = shape::shape(kind_of(py, op)?);
    let required: Vec<&str> = shape
        .fields
        .iter()
        .filter(|(_, p)| *p == shape::Presence::Required)
        .map(|(f, _)| f.name())
        .collect();
    PyTuple::new(py, required)
}
