//! Writes as values. Every write the engine performs is one `Command`, applied by
//! `apply::apply` inside one IMMEDIATE transaction; batches, idempotent replays and group commit
//! all go through that single path. Commands are serializable so that an idempotency key can
//! be checked against the exact request it was first used with.

use crate::model::{Location, Product, ProductWithStock, StockLevel};
use crate::money::Price;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    CreateProduct(NewProduct),
    UpdateProduct {
        id: Uuid,
        changes: ProductChanges,
        expected_version: Option<i64>,
    },
    DeleteProduct {
        id: Uuid,
        expected_version: Option<i64>,
    },
    CreateLocation {
        name: String,
    },
    Stock(StockOp),
    /// All or nothing: the first failing operation rolls the whole batch back.
    Batch(Vec<StockOp>),
    /// Releases every reservation whose expiry has passed, and forgets old idempotency keys.
    Sweep,
}

/// The fields of a new product. `location` defaults to [`DEFAULT_LOCATION`](crate::DEFAULT_LOCATION).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProduct {
    pub name: String,
    pub sku: String,
    pub price: Price,
    pub description: String,
    pub location: Option<String>,
    pub initial_quantity: i64,
    pub reorder_point: Option<i64>,
}

impl NewProduct {
    pub fn new(name: impl Into<String>, sku: impl Into<String>, price: Price) -> Self {
        NewProduct {
            name: name.into(),
            sku: sku.into(),
            price,
            description: String::new(),
            location: None,
            initial_quantity: 0,
            reorder_point: None,
        }
    }
}

/// A partial update: `None` leaves a field as it is. `reorder_point: Some(None)` clears it.
/// The SKU is immutable and so is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<Price>,
    pub reorder_point: Option<Option<i64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    Add,
    Remove,
    Reserve,
    /// Releases reserved quantity: the reservation named by `reference`, or unreferenced
    /// reserved quantity when there is no reference.
    Unreserve,
    /// Fulfils a reservation: on_hand and reserved both drop.
    Commit,
    /// Moves `quantity` from `location` to `to_location`.
    Transfer,
    /// A physical count: sets on_hand at `location` to `quantity`.
    Count,
}

impl OpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Remove => "remove",
            OpKind::Reserve => "reserve",
            OpKind::Unreserve => "unreserve",
            OpKind::Commit => "commit",
            OpKind::Transfer => "transfer",
            OpKind::Count => "count",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "add" => OpKind::Add,
            "remove" => OpKind::Remove,
            "reserve" => OpKind::Reserve,
            "unreserve" => OpKind::Unreserve,
            "commit" => OpKind::Commit,
            "transfer" => OpKind::Transfer,
            "count" => OpKind::Count,
            _ => return None,
        })
    }
}

/// When a reservation lapses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expiry {
    /// Seconds from the moment the reservation is applied.
    In(i64),
    At(DateTime<Utc>),
}

/// A compare-and-set guard on the target level, checked before the operation applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expect {
    Available(i64),
    /// On hand.
    Quantity(i64),
}

/// One stock operation. One flat shape serves every kind so that each surface (HTTP bodies,
/// batch items, Python keywords, the C struct) fills the same fields; a field that does not
/// apply to the kind is a validation error, not silently ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockOp {
    pub kind: OpKind,
    pub product_id: Uuid,
    /// The target location; the source of a transfer. `None`: the product's own location.
    pub location: Option<String>,
    /// Transfer destination.
    pub to_location: Option<String>,
    /// Units to move; the counted on_hand for `Count`. Optional only for `Unreserve` with a
    /// reference and for `Commit`, where `None` means the whole reservation.
    pub quantity: Option<i64>,
    pub reference: Option<String>,
    pub notes: Option<String>,
    pub expires: Option<Expiry>,
    /// Commit only: release what the commit leaves of the reservation.
    pub release_remainder: bool,
    pub expect: Option<Expect>,
}

impl StockOp {
    pub fn new(kind: OpKind, product_id: Uuid, quantity: i64) -> Self {
        StockOp {
            kind,
            product_id,
            location: None,
            to_location: None,
            quantity: Some(quantity),
            reference: None,
            notes: None,
            expires: None,
            release_remainder: false,
            expect: None,
        }
    }

    pub fn add(product_id: Uuid, quantity: i64) -> Self {
        StockOp::new(OpKind::Add, product_id, quantity)
    }
    pub fn remove(product_id: Uuid, quantity: i64) -> Self {
        StockOp::new(OpKind::Remove, product_id, quantity)
    }
    pub fn reserve(product_id: Uuid, quantity: i64) -> Self {
        StockOp::new(OpKind::Reserve, product_id, quantity)
    }
    pub fn unreserve(product_id: Uuid, quantity: i64) -> Self {
        StockOp::new(OpKind::Unreserve, product_id, quantity)
    }
    /// Commits the whole reservation held for `reference`.
    pub fn commit(product_id: Uuid, reference: impl Into<String>) -> Self {
        StockOp {
            quantity: None,
            ..StockOp::new(OpKind::Commit, product_id, 0)
        }
        .reference(reference)
    }
    pub fn transfer(
        product_id: Uuid,
        from: impl Into<String>,
        to: impl Into<String>,
        quantity: i64,
    ) -> Self {
        StockOp {
            to_location: Some(to.into()),
            ..StockOp::new(OpKind::Transfer, product_id, quantity)
        }
        .at(from)
    }
    pub fn count(product_id: Uuid, location: impl Into<String>, counted: i64) -> Self {
        StockOp::new(OpKind::Count, product_id, counted).at(location)
    }

    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }
    pub fn notes(mut self, notes: impl Into<String>) -> Self {
        self.notes = Some(notes.into());
        self
    }
    pub fn quantity(mut self, quantity: Option<i64>) -> Self {
        self.quantity = quantity;
        self
    }
    pub fn expires(mut self, expiry: Expiry) -> Self {
        self.expires = Some(expiry);
        self
    }
    pub fn expect(mut self, expect: Expect) -> Self {
        self.expect = Some(expect);
        self
    }
    pub fn release_remainder(mut self, yes: bool) -> Self {
        self.release_remainder = yes;
        self
    }
}

/// What a command produced. Stored as JSON beside its idempotency key, so a replay returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    ProductCreated(Box<ProductWithStock>),
    ProductUpdated(Box<Product>),
    ProductDeleted(Uuid),
    LocationCreated(Location),
    /// The levels a stock operation changed: one, or for a transfer [source, destination].
    Levels(Vec<StockLevel>),
    Batch(Vec<Vec<StockLevel>>),
    /// Reservations released by a sweep.
    Swept(u64),
}
