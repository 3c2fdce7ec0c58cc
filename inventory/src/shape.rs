//! The one statement of what each stock operation takes. Every surface derives its field lists
//! from this table (HTTP bodies and batch items, the OpenAPI schemas, Python's batch keys) or is
//! checked against it by a test (Python's keyword arguments and stub, the C struct), and the
//! engine refuses an operation that does not fit it, naming fields as the surfaces spell them.
//!
//! It also owns an operation's wire form: a surface reads each (name, value) pair it was given
//! into a [`Value`] of the field's type ([`Field::read_json`] for JSON surfaces), and
//! [`StockOp::from_fields`] builds the operation; [`StockOp::fields`] lists one back, which is
//! how a client (the till) writes requests. A field is placed into or read out of `StockOp` in
//! exactly one place each (`Value::place`, [`StockOp::fields`]), and limits are checked here
//! ([`Field::check`]), so a new field is an edit of this table and of the rule that uses it.

use crate::command::{Expect, Expiry, OpKind, StockOp};
use crate::error::{Error, Result};
use crate::validate::{self, MAX_LOCATION, MAX_NOTES, MAX_QUANTITY, MAX_REFERENCE};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A field of a stock operation, named as every surface spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Units the operation moves.
    Quantity,
    /// A count's counted on-hand quantity.
    Counted,
    /// The location the operation acts at.
    Location,
    /// A transfer's source.
    FromLocation,
    /// A transfer's destination.
    ToLocation,
    /// Free reference; names the reservation of reserve, unreserve, commit and renew.
    Reference,
    /// The reservation a commit takes from, when its movement carries another reference.
    Reservation,
    /// Free notes, stored in the ledger.
    Notes,
    /// The id of the document in another system that caused a receipt.
    ExternalId,
    /// A reservation's lifetime in seconds.
    ExpiresInSeconds,
    /// A reservation's expiry instant.
    ExpiresAt,
    /// Compare-and-set on the target's available quantity.
    ExpectedAvailable,
    /// Compare-and-set on the target's on-hand quantity.
    ExpectedQuantity,
    /// A commit releases what it leaves of the reservation.
    ReleaseRemainder,
}

/// The kind of value a field holds, with the limits the engine enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// A whole number in `min..=max`.
    Integer {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// Text of at most `max` characters, without NUL; `non_empty`: not blank once trimmed.
    Text {
        /// Longest accepted length, in characters.
        max: usize,
        /// Whether blank text is refused.
        non_empty: bool,
    },
    /// An RFC 3339 instant (UTC).
    Instant,
    /// True or false.
    Flag,
}

impl FieldType {
    /// What a value of this type is, for messages: "an integer", "a string", ...
    pub fn expected(self) -> &'static str {
        match self {
            FieldType::Integer { .. } => "an integer",
            FieldType::Text { .. } => "a string",
            FieldType::Instant => "an RFC 3339 date-time",
            FieldType::Flag => "true or false",
        }
    }
}

/// A field's value, of the field's [`FieldType`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// For [`FieldType::Integer`].
    Integer(i64),
    /// For [`FieldType::Text`].
    Text(String),
    /// For [`FieldType::Instant`].
    Instant(DateTime<Utc>),
    /// For [`FieldType::Flag`].
    Flag(bool),
}

impl Value {
    fn fits(&self, t: FieldType) -> bool {
        matches!(
            (self, t),
            (Value::Integer(_), FieldType::Integer { .. })
                | (Value::Text(_), FieldType::Text { .. })
                | (Value::Instant(_), FieldType::Instant)
                | (Value::Flag(_), FieldType::Flag)
        )
    }

    /// The value as JSON, as the HTTP API spells it.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Integer(n) => serde_json::Value::from(*n),
            Value::Text(s) => serde_json::Value::from(s.as_str()),
            Value::Instant(t) => serde_json::Value::from(t.to_rfc3339()),
            Value::Flag(b) => serde_json::Value::from(*b),
        }
    }

    /// Puts the value where `StockOp` carries `field`: the one place each field is filled. The
    /// match names every field, so a field added to the table does not compile until it has
    /// its place here and in [`StockOp::fields`].
    fn place(self, field: Field, op: &mut StockOp) {
        use Value::{Flag, Instant, Integer, Text};
        match (field, self) {
            (Field::Quantity | Field::Counted, Integer(n)) => op.quantity = Some(n),
            (Field::Location | Field::FromLocation, Text(s)) => op.location = Some(s),
            (Field::ToLocation, Text(s)) => op.to_location = Some(s),
            (Field::Reference, Text(s)) => op.reference = Some(s),
            (Field::Reservation, Text(s)) => op.reservation = Some(s),
            (Field::Notes, Text(s)) => op.notes = Some(s),
            (Field::ExternalId, Text(s)) => op.external_id = Some(s),
            (Field::ExpiresInSeconds, Integer(n)) => op.expires = Some(Expiry::In(n)),
            (Field::ExpiresAt, Instant(at)) => op.expires = Some(Expiry::At(at)),
            (Field::ExpectedAvailable, Integer(n)) => op.expect = Some(Expect::Available(n)),
            (Field::ExpectedQuantity, Integer(n)) => op.expect = Some(Expect::Quantity(n)),
            (Field::ReleaseRemainder, Flag(b)) => op.release_remainder = b,
            (field, value) => unreachable!("{field:?} checked to hold {value:?}"),
        }
    }
}

impl Field {
    /// Every field, in the order surfaces list them.
    pub const ALL: [Field; 14] = [
        Field::Quantity,
        Field::Counted,
        Field::Location,
        Field::FromLocation,
        Field::ToLocation,
        Field::Reference,
        Field::Reservation,
        Field::Notes,
        Field::ExternalId,
        Field::ExpiresInSeconds,
        Field::ExpiresAt,
        Field::ExpectedAvailable,
        Field::ExpectedQuantity,
        Field::ReleaseRemainder,
    ];

    /// The field's name on every surface: `"expected_quantity"`, `"to_location"`, ...
    pub fn name(self) -> &'static str {
        match self {
            Field::Quantity => "quantity",
            Field::Counted => "counted",
            Field::Location => "location",
            Field::FromLocation => "from_location",
            Field::ToLocation => "to_location",
            Field::Reference => "reference",
            Field::Reservation => "reservation",
            Field::Notes => "notes",
            Field::ExternalId => "external_id",
            Field::ExpiresInSeconds => "expires_in_seconds",
            Field::ExpiresAt => "expires_at",
            Field::ExpectedAvailable => "expected_available",
            Field::ExpectedQuantity => "expected_quantity",
            Field::ReleaseRemainder => "release_remainder",
        }
    }

    /// The field named `name`, if any.
    pub fn parse(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    /// What the field holds and its limits.
    pub fn value_type(self) -> FieldType {
        let location = FieldType::Text {
            max: MAX_LOCATION,
            non_empty: true,
        };
        match self {
            Field::Quantity => FieldType::Integer {
                min: 1,
                max: MAX_QUANTITY,
            },
            Field::Counted | Field::ExpectedAvailable | Field::ExpectedQuantity => {
                FieldType::Integer {
                    min: 0,
                    max: MAX_QUANTITY,
                }
            }
            Field::Location | Field::FromLocation | Field::ToLocation => location,
            Field::Reference | Field::Reservation | Field::ExternalId => FieldType::Text {
                max: MAX_REFERENCE,
                non_empty: false,
            },
            Field::Notes => FieldType::Text {
                max: MAX_NOTES,
                non_empty: false,
            },
            Field::ExpiresInSeconds => FieldType::Integer {
                min: 1,
                max: crate::validate::MAX_EXPIRY_SECONDS,
            },
            Field::ExpiresAt => FieldType::Instant,
            Field::ReleaseRemainder => FieldType::Flag,
        }
    }

    /// One line on what the field means, for generated documentation.
    pub fn doc(self) -> &'static str {
        match self {
            Field::Quantity => "Units to move.",
            Field::Counted => "The on-hand quantity counted at the location.",
            Field::Location => "The location the operation acts at.",
            Field::FromLocation => "Where the transfer takes stock from.",
            Field::ToLocation => "Where the transfer puts stock; must differ from the source.",
            Field::Reference => "Free reference (an order, a purchase order).",
            Field::Reservation => {
                "The reservation to commit from, when the movement carries another reference \
                 (a till's sale, committed from the till's allotment)."
            }
            Field::Notes => "Free notes, stored in the ledger.",
            Field::ExternalId => {
                "The id of the document in another system that caused the receipt (a supplier's \
                 delivery note, an ERP's receipt), stored in the ledger."
            }
            Field::ExpiresInSeconds => "The reservation lapses this many seconds after it applies.",
            Field::ExpiresAt => {
                "The reservation lapses at this instant: in the future, and no further off than the \
                 longest expires_in_seconds."
            }
            Field::ExpectedAvailable => {
                "Apply only if the target's available quantity is still this (else CONFLICT)."
            }
            Field::ExpectedQuantity => {
                "Apply only if the target's on-hand quantity is still this (else CONFLICT)."
            }
            Field::ReleaseRemainder => "Release what the commit leaves of the reservation.",
        }
    }

    /// Refuses a value of another type than the field's, or outside its limits, naming the
    /// field: the one statement of every stock field's limits.
    pub fn check(self, value: &Value) -> Result<()> {
        let name = self.name();
        let t = self.value_type();
        if !value.fits(t) {
            return Err(Error::validation(
                name,
                format!("{name} must be {}", t.expected()),
            ));
        }
        match (t, value) {
            (FieldType::Integer { min, max }, Value::Integer(n)) => {
                validate::integer(name, *n, min, max).map(|_| ())
            }
            (FieldType::Text { max, non_empty }, Value::Text(s)) if non_empty => {
                validate::required(name, s, max).map(|_| ())
            }
            (FieldType::Text { max, .. }, Value::Text(s)) => validate::limit(name, s, max),
            _ => Ok(()),
        }
    }

    /// Reads a JSON value as the field holds it: VALIDATION_ERROR naming the field on a value
    /// of another type. Limits are [`Field::check`]'s.
    pub fn read_json(self, value: serde_json::Value) -> Result<Value> {
        let read = match self.value_type() {
            FieldType::Integer { .. } => value.as_i64().map(Value::Integer),
            FieldType::Text { .. } => match value {
                serde_json::Value::String(s) => Some(Value::Text(s)),
                _ => None,
            },
            FieldType::Instant => serde_json::from_value(value).ok().map(Value::Instant),
            FieldType::Flag => value.as_bool().map(Value::Flag),
        };
        read.ok_or_else(|| {
            let name = self.name();
            Error::validation(
                name,
                format!("{name} must be {}", self.value_type().expected()),
            )
        })
    }
}

/// Whether an operation requires a field, and what its absence means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// The operation is refused without it.
    Required,
    /// Optional; the text says what leaving it out means.
    Optional(&'static str),
}

/// What one kind of stock operation takes.
#[derive(Debug)]
pub struct Shape {
    /// The kind.
    pub kind: OpKind,
    /// Its fields, each with its presence.
    pub fields: &'static [(Field, Presence)],
    /// Pairs of fields of which at most one may be given.
    pub exclusive: &'static [(Field, Field)],
    /// Pairs of fields of which at least one must be given: the first is required without the
    /// second.
    pub one_of: &'static [(Field, Field)],
}

const HOME: Presence = Presence::Optional("the product's own location");
const NONE: Presence = Presence::Optional("none");
const UNGUARDED: Presence = Presence::Optional("no compare-and-set");
const GUARDS: (Field, Field) = (Field::ExpectedAvailable, Field::ExpectedQuantity);

const SHAPES: [Shape; 8] = [
    Shape {
        kind: OpKind::Add,
        fields: &[
            (Field::Quantity, Presence::Required),
            (Field::Location, HOME),
            (Field::Reference, NONE),
            (Field::Notes, NONE),
            (Field::ExternalId, NONE),
            (Field::ExpectedAvailable, UNGUARDED),
            (Field::ExpectedQuantity, UNGUARDED),
        ],
        exclusive: &[GUARDS],
        one_of: &[],
    },
    Shape {
        kind: OpKind::Remove,
        fields: &[
            (Field::Quantity, Presence::Required),
            (Field::Location, HOME),
            (Field::Reference, NONE),
            (Field::Notes, NONE),
            (Field::ExpectedAvailable, UNGUARDED),
            (Field::ExpectedQuantity, UNGUARDED),
        ],
        exclusive: &[GUARDS],
        one_of: &[],
    },
    Shape {
        kind: OpKind::Reserve,
        fields: &[
            (Field::Quantity, Presence::Required),
            (Field::Location, HOME),
            (
                Field::Reference,
                Presence::Optional("held unreferenced (under the empty reference)"),
            ),
            (Field::Notes, NONE),
            (
                Field::ExpiresInSeconds,
                Presence::Optional("no expiry (a reservation reopened keeps its old one)"),
            ),
            (Field::ExpiresAt, Presence::Optional("no expiry")),
            (Field::ExpectedAvailable, UNGUARDED),
            (Field::ExpectedQuantity, UNGUARDED),
        ],
        exclusive: &[GUARDS, (Field::ExpiresInSeconds, Field::ExpiresAt)],
        one_of: &[],
    },
    Shape {
        kind: OpKind::Unreserve,
        fields: &[
            (
                Field::Quantity,
                Presence::Optional("the whole reservation; required without a reference"),
            ),
            (Field::Location, HOME),
            (
                Field::Reference,
                Presence::Optional("unreferenced reserved quantity"),
            ),
            (Field::Notes, NONE),
            (Field::ExpectedAvailable, UNGUARDED),
            (Field::ExpectedQuantity, UNGUARDED),
        ],
        exclusive: &[GUARDS],
        one_of: &[(Field::Quantity, Field::Reference)],
    },
    Shape {
        kind: OpKind::Commit,
        fields: &[
            (Field::Quantity, Presence::Optional("the whole reservation")),
            (Field::Location, HOME),
            (
                Field::Reference,
                Presence::Optional("the unreferenced reservation"),
            ),
            (
                Field::Reservation,
                Presence::Optional("the reservation named by reference"),
            ),
            (Field::Notes, NONE),
            (Field::ReleaseRemainder, Presence::Optional("false")),
            (Field::ExpectedAvailable, UNGUARDED),
            (Field::ExpectedQuantity, UNGUARDED),
        ],
        exclusive: &[GUARDS],
        one_of: &[],
    },
    Shape {
        kind: OpKind::Transfer,
        fields: &[
            (Field::Quantity, Presence::Required),
            (Field::FromLocation, HOME),
            (Field::ToLocation, Presence::Required),
            (Field::Reference, NONE),
            (Field::Notes, NONE),
            (Field::ExpectedAvailable, UNGUARDED),
            (Field::ExpectedQuantity, UNGUARDED),
        ],
        exclusive: &[GUARDS],
        one_of: &[],
    },
    Shape {
        kind: OpKind::Count,
        fields: &[
            (Field::Counted, Presence::Required),
            (Field::Location, HOME),
            (Field::Reference, NONE),
            (Field::Notes, NONE),
            (Field::ExpectedAvailable, UNGUARDED),
            (Field::ExpectedQuantity, UNGUARDED),
        ],
        exclusive: &[GUARDS],
        one_of: &[],
    },
    Shape {
        kind: OpKind::Renew,
        fields: &[
            (Field::Location, HOME),
            (
                Field::Reference,
                Presence::Optional("the unreferenced reservation"),
            ),
            (
                Field::ExpiresInSeconds,
                Presence::Optional("required without expires_at"),
            ),
            (
                Field::ExpiresAt,
                Presence::Optional("required without expires_in_seconds"),
            ),
        ],
        exclusive: &[(Field::ExpiresInSeconds, Field::ExpiresAt)],
        one_of: &[(Field::ExpiresInSeconds, Field::ExpiresAt)],
    },
];

/// The table entry of `kind`.
pub fn shape(kind: OpKind) -> &'static Shape {
    SHAPES
        .iter()
        .find(|s| s.kind == kind)
        .expect("every kind has a shape")
}

impl Shape {
    /// Whether the kind takes `field`.
    pub fn takes(&self, field: Field) -> bool {
        self.presence(field).is_some()
    }

    /// The field's presence for this kind, or `None` if the kind does not take it.
    pub fn presence(&self, field: Field) -> Option<Presence> {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, p)| *p)
    }

    /// The field `name` names, if this kind takes it. Anything else (a field of another kind, a
    /// typo) is this one refusal, on every surface.
    pub fn field(&self, name: &str) -> Result<Field> {
        Field::parse(name)
            .filter(|f| self.takes(*f))
            .ok_or_else(|| self.refuse(name))
    }

    fn refuse(&self, name: &str) -> Error {
        let takes: Vec<&str> = self.fields.iter().map(|(f, _)| f.name()).collect();
        let kind = self.kind.as_str();
        let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        Error::validation(
            name,
            format!(
                "{name} does not apply to {article} {kind} operation, which takes {}",
                takes.join(", ")
            ),
        )
    }

    /// The field the kind fills `quantity` of a [`StockOp`] with: `counted` for a count.
    pub fn quantity_field(&self) -> Field {
        if self.takes(Field::Counted) {
            Field::Counted
        } else {
            Field::Quantity
        }
    }

    /// The field the kind fills `location` of a [`StockOp`] with: `from_location` for a transfer.
    pub fn location_field(&self) -> Field {
        if self.takes(Field::FromLocation) {
            Field::FromLocation
        } else {
            Field::Location
        }
    }
}

impl StockOp {
    /// Builds an operation of `kind` from the fields a surface was given, each under its name
    /// in the table: a field the kind does not take is refused ([`Shape::field`]), and so are
    /// two that exclude each other. Required fields and limits are checked when it applies.
    pub fn from_fields(
        kind: OpKind,
        product_id: Uuid,
        fields: impl IntoIterator<Item = (Field, Value)>,
    ) -> Result<StockOp> {
        let shape = shape(kind);
        let mut op = StockOp::new(kind, product_id, 0).quantity(None);
        let mut given = Vec::new();
        for (field, value) in fields {
            if !shape.takes(field) {
                return Err(shape.refuse(field.name()));
            }
            field.check(&value)?;
            value.place(field, &mut op);
            given.push(field);
        }
        check_exclusive(kind, &given)?;
        Ok(op)
    }

    /// The fields the operation gives, with their values, named as the surfaces name them
    /// (`counted` for a count's quantity, `from_location` for a transfer's source): the wire
    /// form a client sends.
    pub fn fields(&self) -> Vec<(Field, Value)> {
        let shape = shape(self.kind);
        let mut fields = Vec::new();
        let text = |s: &Option<String>| s.clone().map(Value::Text);
        let mut push = |field: Field, value: Option<Value>| {
            if let Some(v) = value {
                fields.push((field, v));
            }
        };
        push(shape.quantity_field(), self.quantity.map(Value::Integer));
        push(shape.location_field(), text(&self.location));
        push(Field::ToLocation, text(&self.to_location));
        push(Field::Reference, text(&self.reference));
        push(Field::Reservation, text(&self.reservation));
        push(Field::Notes, text(&self.notes));
        push(Field::ExternalId, text(&self.external_id));
        match self.expires {
            Some(Expiry::In(s)) => push(Field::ExpiresInSeconds, Some(Value::Integer(s))),
            Some(Expiry::At(t)) => push(Field::ExpiresAt, Some(Value::Instant(t))),
            None => {}
        }
        match self.expect {
            Some(Expect::Available(n)) => push(Field::ExpectedAvailable, Some(Value::Integer(n))),
            Some(Expect::Quantity(n)) => push(Field::ExpectedQuantity, Some(Value::Integer(n))),
            None => {}
        }
        if self.release_remainder {
            push(Field::ReleaseRemainder, Some(Value::Flag(true)));
        }
        fields
    }
}

/// Refuses an operation that gives a field its kind does not take, a value outside a field's
/// limits, or that lacks a required field, so that nothing a caller sends is silently ignored.
pub(crate) fn check(op: &StockOp) -> Result<()> {
    let shape = shape(op.kind);
    let fields = op.fields();
    for (field, value) in &fields {
        if !shape.takes(*field) {
            return Err(shape.refuse(field.name()));
        }
        field.check(value)?;
    }
    let given: Vec<Field> = fields.iter().map(|(f, _)| *f).collect();
    let missing = shape
        .fields
        .iter()
        .find(|(f, p)| *p == Presence::Required && !given.contains(f));
    if let Some((field, _)) = missing {
        return Err(missing_field(*field));
    }
    let neither = shape
        .one_of
        .iter()
        .find(|(a, b)| !given.contains(a) && !given.contains(b));
    if let Some((a, b)) = neither {
        return Err(Error::validation(
            a.name(),
            format!("{} is required without a {}", a.name(), b.name()),
        ));
    }
    Ok(())
}

/// A required field left out. The rules read required fields through this after [`check`], so
/// that the message is this one.
pub(crate) fn missing_field(field: Field) -> Error {
    let name = field.name();
    Error::validation(name, format!("{name} is required"))
}

/// Refuses two fields that exclude each other, both given (a [`StockOp`] holds only one of each
/// pair, so this is checked while it is built).
fn check_exclusive(kind: OpKind, given: &[Field]) -> Result<()> {
    for (a, b) in shape(kind).exclusive {
        if given.contains(a) && given.contains(b) {
            return Err(Error::validation(
                b.name(),
                format!("give {} or {}, not both", a.name(), b.name()),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn every_kind_has_one_shape_and_names_round_trip() {
        for kind in OpKind::ALL {
            assert_eq!(shape(kind).kind, kind);
        }
        for field in Field::ALL {
            assert_eq!(Field::parse(field.name()), Some(field));
        }
    }

    #[test]
    fn errors_name_surface_fields() {
        let id = Uuid::nil();
        let mut count = StockOp::count(id, "A", 3);
        count.to_location = Some("B".into());
        assert_eq!(
            check(&count).unwrap_err().field.as_deref(),
            Some("to_location")
        );
        let mut count = StockOp::count(id, "A", 3);
        count.quantity = None;
        assert_eq!(check(&count).unwrap_err().field.as_deref(), Some("counted"));
        let transfer = StockOp::transfer(id, "A", "B", 1).quantity(None);
        assert_eq!(
            check(&transfer).unwrap_err().field.as_deref(),
            Some("quantity")
        );
        let add = StockOp::add(id, 1).expires(Expiry::In(5));
        assert_eq!(
            check(&add).unwrap_err().field.as_deref(),
            Some("expires_in_seconds")
        );
        // A count guarded by what the counter last saw is a valid operation.
        assert!(check(&StockOp::count(id, "A", 3).expect(Expect::Quantity(2))).is_ok());
        // An unreserve names its reservation, or how much unreferenced stock to release.
        let unreserve = StockOp::unreserve(id, 1).quantity(None);
        assert_eq!(
            check(&unreserve).unwrap_err().field.as_deref(),
            Some("quantity")
        );
        assert!(check(&unreserve.reference("O-1")).is_ok());
        // A transfer's source defaults to the product's location.
        let mut transfer = StockOp::transfer(id, "A", "B", 1);
        transfer.location = None;
        assert!(check(&transfer).is_ok());
    }

    /// A sample value of each field's type, within its limits.
    fn sample(field: Field) -> Value {
        match field.value_type() {
            FieldType::Integer { min, .. } => Value::Integer(min + 1),
            FieldType::Text { .. } => Value::Text("Shelf 1".into()),
            FieldType::Instant => Value::Instant("2030-01-01T00:00:00Z".parse().unwrap()),
            FieldType::Flag => Value::Flag(true),
        }
    }

    #[test]
    fn from_fields_and_fields_are_inverse_for_every_field_of_every_kind() {
        let id = Uuid::nil();
        for kind in OpKind::ALL {
            let shape = shape(kind);
            for (field, _) in shape.fields {
                let given = vec![(*field, sample(*field))];
                let op = StockOp::from_fields(kind, id, given.clone()).unwrap();
                assert_eq!(op.fields(), given, "{kind:?} {field:?}");
            }
            let all: Vec<(Field, Value)> = shape
                .fields
                .iter()
                .filter(|(f, _)| !shape.exclusive.iter().any(|(_, second)| second == f))
                .map(|(f, _)| (*f, sample(*f)))
                .collect();
            let op = StockOp::from_fields(kind, id, all.clone()).unwrap();
            let mut listed = op.fields();
            let order = |f: &Field| Field::ALL.iter().position(|g| g == f);
            listed.sort_by_key(|(f, _)| order(f));
            let mut all = all;
            all.sort_by_key(|(f, _)| order(f));
            assert_eq!(listed, all, "{kind:?}");
            assert!(check(&op).is_ok(), "{kind:?}");
        }
    }

    #[test]
    fn one_refusal_for_a_field_the_kind_does_not_take() {
        let id = Uuid::nil();
        for kind in OpKind::ALL {
            let shape = shape(kind);
            for field in Field::ALL.into_iter().filter(|f| !shape.takes(*f)) {
                let built = StockOp::from_fields(kind, id, [(field, sample(field))]).unwrap_err();
                let named = shape.field(field.name()).unwrap_err();
                assert_eq!(built, named, "{kind:?} {field:?}");
                assert_eq!(built.field.as_deref(), Some(field.name()));
            }
        }
        let e = shape(OpKind::Add).field("colour").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("colour"));
        assert!(e.message.contains("quantity, location"), "{}", e.message);
    }

    #[test]
    fn values_are_checked_against_type_and_limits() {
        let cases = [
            (
                Field::Quantity,
                Value::Integer(0),
                "quantity must be a positive integer",
            ),
            (
                Field::Counted,
                Value::Integer(-1),
                "counted must not be negative",
            ),
            (
                Field::Quantity,
                Value::Integer(MAX_QUANTITY + 1),
                "quantity must be at most 1000000000000",
            ),
            (
                Field::Quantity,
                Value::Text("1".into()),
                "quantity must be an integer",
            ),
            (
                Field::Location,
                Value::Text("  ".into()),
                "location must not be empty",
            ),
            (
                Field::Notes,
                Value::Text("x".repeat(MAX_NOTES + 1)),
                "notes must be at most 4096 characters",
            ),
            (
                Field::Reference,
                Value::Text("a\0b".into()),
                "reference must not contain NUL characters",
            ),
            (
                Field::ReleaseRemainder,
                Value::Integer(1),
                "release_remainder must be true or false",
            ),
        ];
        for (field, value, message) in cases {
            let e = field.check(&value).unwrap_err();
            assert_eq!(
                (e.field.as_deref(), e.message.as_str()),
                (Some(field.name()), message)
            );
        }
        let e = Field::ExpiresAt
            .read_json(serde_json::json!("tomorrow"))
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("expires_at"));
        assert_eq!(
            Field::ExpiresInSeconds
                .read_json(serde_json::json!(5))
                .unwrap(),
            Value::Integer(5)
        );
        // A JSON client gets each value back as it sent it.
        for field in Field::ALL {
            let value = sample(field);
            assert_eq!(
                field.read_json(value.to_json()).unwrap(),
                value,
                "{field:?}"
            );
        }
    }

    #[test]
    fn exclusive_pairs_name_the_second() {
        let e = check_exclusive(
            OpKind::Reserve,
            &[Field::ExpiresInSeconds, Field::ExpiresAt],
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("expires_at"));
        assert!(check_exclusive(OpKind::Add, &[Field::ExpectedAvailable]).is_ok());
    }
}
