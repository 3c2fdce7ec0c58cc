//! The one statement of what each stock operation takes. Every surface derives its field lists
//! from this table (HTTP bodies and batch items, the OpenAPI schemas, Python's batch keys) or is
//! checked against it by a test (Python's keyword arguments and stub, the C struct), and the
//! engine refuses an operation that does not fit it, naming fields as the surfaces spell them.

use crate::command::{Expect, Expiry, OpKind, StockOp};
use crate::error::{Error, Result};
use crate::validate::{MAX_LOCATION, MAX_NOTES, MAX_QUANTITY, MAX_REFERENCE};

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

impl Field {
    /// Every field, in the order surfaces list them.
    pub const ALL: [Field; 13] = [
        Field::Quantity,
        Field::Counted,
        Field::Location,
        Field::FromLocation,
        Field::ToLocation,
        Field::Reference,
        Field::Reservation,
        Field::Notes,
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
            Field::Reference | Field::Reservation => FieldType::Text {
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
            Field::ExpiresInSeconds => "The reservation lapses this many seconds after it applies.",
            Field::ExpiresAt => {
                "The reservation lapses at this instant (in the future, within 366 days)."
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

/// The fields a [`StockOp`] gives, as the surfaces name them.
fn given(op: &StockOp) -> Vec<Field> {
    let shape = shape(op.kind);
    let mut fields = Vec::new();
    if op.quantity.is_some() {
        fields.push(shape.quantity_field());
    }
    if op.location.is_some() {
        fields.push(shape.location_field());
    }
    if op.to_location.is_some() {
        fields.push(Field::ToLocation);
    }
    if op.reference.is_some() {
        fields.push(Field::Reference);
    }
    if op.reservation.is_some() {
        fields.push(Field::Reservation);
    }
    if op.notes.is_some() {
        fields.push(Field::Notes);
    }
    match op.expires {
        Some(Expiry::In(_)) => fields.push(Field::ExpiresInSeconds),
        Some(Expiry::At(_)) => fields.push(Field::ExpiresAt),
        None => {}
    }
    match op.expect {
        Some(Expect::Available(_)) => fields.push(Field::ExpectedAvailable),
        Some(Expect::Quantity(_)) => fields.push(Field::ExpectedQuantity),
        None => {}
    }
    if op.release_remainder {
        fields.push(Field::ReleaseRemainder);
    }
    fields
}

/// Refuses an operation that gives a field its kind does not take, or lacks a required one,
/// so that nothing a caller sends is silently ignored.
pub(crate) fn check(op: &StockOp) -> Result<()> {
    let shape = shape(op.kind);
    let given = given(op);
    if let Some(field) = given.iter().find(|f| !shape.takes(**f)) {
        let name = field.name();
        return Err(Error::validation(
            name,
            format!("{name} does not apply to {}", op.kind.as_str()),
        ));
    }
    let missing = shape
        .fields
        .iter()
        .find(|(f, p)| *p == Presence::Required && !given.contains(f));
    if let Some((field, _)) = missing {
        let name = field.name();
        return Err(Error::validation(name, format!("{name} is required")));
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

/// Refuses two fields that exclude each other, both given: for surfaces that collect fields
/// separately before they build a [`StockOp`] (which holds only one of each pair).
pub fn check_exclusive(kind: OpKind, given: &[Field]) -> Result<()> {
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
