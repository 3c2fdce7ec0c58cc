//! Stock operations from keyword arguments or from batch dicts, both read through the engine's
//! table of shapes (`inventory::shape`): a field is accepted only if the operation's kind takes
//! it, a batch value is typed by the field's type, and exclusive pairs are the table's.

use crate::convert::{self, Int};
use crate::errors::{OrRaise, invalid};
use inventory::shape::{self, Field, FieldType};
use inventory::{DateTime, Expect, Expiry, OpKind, StockOp, Utc, Uuid};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};

/// A field's value, as the table types it ([`Field::value_type`]).
pub(crate) enum Value {
    Int(i64),
    Text(String),
    Instant(DateTime<Utc>),
    Flag(bool),
}

/// An argument of a stock method, as the value of its field: absent (`None`) or typed.
pub(crate) trait FieldValue {
    fn value(self) -> Option<Value>;
}

impl FieldValue for Int {
    fn value(self) -> Option<Value> {
        Some(Value::Int(self.0))
    }
}

impl FieldValue for Option<Int> {
    fn value(self) -> Option<Value> {
        self.map(|i| Value::Int(i.0))
    }
}

impl FieldValue for Option<String> {
    fn value(self) -> Option<Value> {
        self.map(Value::Text)
    }
}

impl FieldValue for String {
    fn value(self) -> Option<Value> {
        Some(Value::Text(self))
    }
}

impl FieldValue for Option<DateTime<Utc>> {
    fn value(self) -> Option<Value> {
        self.map(Value::Instant)
    }
}

/// A flag is given only when set: `release_remainder=False` is the table's default.
impl FieldValue for bool {
    fn value(self) -> Option<Value> {
        self.then_some(Value::Flag(true))
    }
}

/// One argument of a stock method under its field's name.
pub(crate) fn given(name: &'static str, value: impl FieldValue) -> (Field, Option<Value>) {
    let field = Field::parse(name)
        .unwrap_or_else(|| panic!("stock method parameter {name:?} is not a field of the table"));
    (field, value.value())
}

/// The fields a stock method was given, each parameter under its own name, so that a method's
/// keywords are its fields (a test compares both with the engine's table).
macro_rules! fields {
    ($($name:ident),* $(,)?) => {
        vec![$($crate::ops::given(stringify!($name), $name)),*]
    };
}
pub(crate) use fields;

impl Value {
    fn int(self, field: Field) -> PyResult<i64> {
        match self {
            Value::Int(n) => Ok(n),
            _ => Err(wrong_type(field)),
        }
    }
    fn text(self, field: Field) -> PyResult<String> {
        match self {
            Value::Text(s) => Ok(s),
            _ => Err(wrong_type(field)),
        }
    }
    fn instant(self, field: Field) -> PyResult<DateTime<Utc>> {
        match self {
            Value::Instant(t) => Ok(t),
            _ => Err(wrong_type(field)),
        }
    }
    fn flag(self, field: Field) -> PyResult<bool> {
        match self {
            Value::Flag(b) => Ok(b),
            _ => Err(wrong_type(field)),
        }
    }
}

fn wrong_type(field: Field) -> PyErr {
    PyTypeError::new_err(format!(
        "{} must be {}",
        field.name(),
        type_name(field.value_type())
    ))
}

fn type_name(t: FieldType) -> &'static str {
    match t {
        FieldType::Integer { .. } => "an int",
        FieldType::Text { .. } => "a str",
        FieldType::Instant => "a timezone-aware datetime",
        FieldType::Flag => "a bool",
    }
}

/// The one way a stock operation is made: the fields given (absent ones skipped) are checked
/// against the kind's shape, then each fills the member of the engine's `StockOp` that carries it.
pub(crate) fn build(
    py: Python<'_>,
    kind: OpKind,
    product_id: Uuid,
    fields: Vec<(Field, Option<Value>)>,
) -> PyResult<StockOp> {
    let shape = shape::shape(kind);
    let fields: Vec<(Field, Value)> = fields
        .into_iter()
        .filter_map(|(f, v)| Some((f, v?)))
        .collect();
    if let Some((field, _)) = fields.iter().find(|(f, _)| !shape.takes(*f)) {
        let name = field.name();
        return Err(invalid(
            py,
            name,
            format!("{name} does not apply to {}", kind.as_str()),
        ));
    }
    let names: Vec<Field> = fields.iter().map(|(f, _)| *f).collect();
    shape::check_exclusive(kind, &names).or_raise(py)?;
    let mut op = StockOp::new(kind, product_id, 0).quantity(None);
    for (field, value) in fields {
        match field {
            Field::Quantity | Field::Counted => op.quantity = Some(value.int(field)?),
            Field::Location | Field::FromLocation => op.location = Some(value.text(field)?),
            Field::ToLocation => op.to_location = Some(value.text(field)?),
            Field::Reference => op.reference = Some(value.text(field)?),
            Field::Reservation => op.reservation = Some(value.text(field)?),
            Field::Notes => op.notes = Some(value.text(field)?),
            Field::ExpiresInSeconds => op.expires = Some(Expiry::In(value.int(field)?)),
            Field::ExpiresAt => op.expires = Some(Expiry::At(value.instant(field)?)),
            Field::ExpectedAvailable => op.expect = Some(Expect::Available(value.int(field)?)),
            Field::ExpectedQuantity => op.expect = Some(Expect::Quantity(value.int(field)?)),
            Field::ReleaseRemainder => op.release_remainder = value.flag(field)?,
        }
    }
    Ok(op)
}

/// A batch value, typed by its field's type in the table.
fn extract(field: Field, value: &Bound<'_, PyAny>) -> PyResult<Value> {
    Ok(match field.value_type() {
        FieldType::Integer { .. } => Value::Int(value.extract::<Int>()?.0),
        FieldType::Text { .. } => Value::Text(value.extract::<String>()?),
        FieldType::Instant => Value::Instant(convert::instant(value, field.name())?),
        FieldType::Flag => Value::Flag(value.extract::<bool>()?),
    })
}

/// One batch item, a dict such as `{"op": "reserve", "product_id": id, "quantity": 2,
/// "reference": "ORDER-1"}`: `op`, `product_id`, and the fields the op's kind takes, named as
/// in the table (so, as the matching method's keywords). A key the kind does not take is
/// refused, so that a typo or a field of another kind is not silently ignored. A `None` value
/// is the field left out.
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
    let noted = |e: PyErr, key: &str| {
        let _ = e.value(py).call_method1(
            "add_note",
            (format!("while processing operations[{index}][{key:?}]"),),
        );
        e
    };
    let text = |key: &str| -> PyResult<String> {
        let value = dict
            .get_item(key)?
            .filter(|v| !v.is_none())
            .ok_or_else(|| invalid(py, key, format!("operations[{index}]: {key} is required")))?;
        value.extract::<String>().map_err(|e| noted(e, key))
    };
    let kind_name = text("op")?;
    let kind = OpKind::parse(&kind_name).ok_or_else(|| {
        let kinds: Vec<&str> = OpKind::ALL.iter().map(|k| k.as_str()).collect();
        invalid(
            py,
            "op",
            format!(
                "operations[{index}]: unknown op {kind_name:?} ({})",
                kinds.join(", ")
            ),
        )
    })?;
    let product_id = convert::product_id(py, &text("product_id")?)?;
    let shape = shape::shape(kind);
    let mut fields = Vec::new();
    for (key, value) in dict.iter() {
        let name = key
            .cast::<PyString>()
            .ok()
            .and_then(|k| k.to_cow().ok().map(|k| k.into_owned()));
        if matches!(name.as_deref(), Some("op" | "product_id")) {
            continue;
        }
        let Some(field) = name.as_deref().and_then(Field::parse) else {
            return Err(invalid(
                py,
                "operations",
                format!("operations[{index}]: unknown key {}", key.repr()?),
            ));
        };
        if !shape.takes(field) {
            let name = field.name();
            return Err(invalid(
                py,
                name,
                format!("operations[{index}]: {name} does not apply to {kind_name}"),
            ));
        }
        let value = if value.is_none() {
            None
        } else {
            Some(extract(field, &value).map_err(|e| noted(e, field.name()))?)
        };
        fields.push((field, value));
    }
    build(py, kind, product_id, fields)
}

fn kind_of(py: Python<'_>, op: &str) -> PyResult<OpKind> {
    OpKind::parse(op).ok_or_else(|| invalid(py, "op", format!("unknown op {op:?}")))
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
