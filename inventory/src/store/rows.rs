//! The values the rules and the stores hand each other: what a rule asks a store to find, and
//! what it asks it to write. They carry no SQL and no rule.

use crate::clock::to_text;
use crate::model::{MovementKind, Scope, StockLevel};
use crate::money::Price;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// "Now" for one command: fixed for the whole command, and formatted once for the stores that
/// keep times as text (a batch would otherwise format it for every movement).
#[derive(Debug, Clone)]
pub(crate) struct Stamp {
    pub at: DateTime<Utc>,
    pub text: String,
}

impl Stamp {
    pub fn new(at: DateTime<Utc>) -> Stamp {
        Stamp {
            at,
            text: to_text(at),
        }
    }
}

/// What a stock operation needs to know of its live product, found in one look-up.
#[derive(Debug, Clone)]
pub(crate) struct StockTarget {
    /// The product's compact number, which keys the history index.
    pub ordinal: i64,
    /// The product's own location, where operations without a location act.
    pub home: String,
    pub home_id: i64,
    /// Whether the product keeps cached totals (only products with a reorder point do).
    pub keeps_totals: bool,
    /// The soonest expiry of its reservations: they are released first when it is due
    /// ([`crate::rules::expiry::is_due`]).
    pub earliest_expiry: Option<DateTime<Utc>>,
}

/// A stock level as stored.
#[derive(Debug, Clone)]
pub(crate) struct StoredLevel {
    pub id: Uuid,
    pub on_hand: i64,
    pub reserved: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A stock level as the write path holds it while changing it.
#[derive(Debug, Clone)]
pub(crate) struct Level {
    pub id: Uuid,
    pub product_id: Uuid,
    pub product_ordinal: i64,
    pub location_id: i64,
    pub location: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Level {
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }

    pub fn view(&self) -> StockLevel {
        StockLevel {
            id: self.id,
            product_id: self.product_id,
            location: self.location.clone(),
            on_hand: self.on_hand,
            reserved: self.reserved,
            available: self.available(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// Names one reservation: a product's quantity held for a reference at a location.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HoldKey<'a> {
    pub product: Uuid,
    pub location_id: i64,
    pub reference: &'a str,
}

/// A reservation as stored.
#[derive(Debug, Clone)]
pub(crate) struct StoredHold {
    pub quantity: i64,
    pub expires_at: Option<DateTime<Utc>>,
    /// The name of the key that opened it.
    pub owner: Option<String>,
}

/// A reservation's state to write.
#[derive(Debug, Clone)]
pub(crate) struct HoldRow {
    pub quantity: i64,
    pub expires_at: Option<DateTime<Utc>>,
    /// The name of the key that opened it (written when it is opened, never changed after).
    pub owner: Option<String>,
    /// When it last changed; for a new reservation also when it was opened.
    pub updated_at: DateTime<Utc>,
}

/// A reservation past its expiry.
#[derive(Debug, Clone)]
pub(crate) struct Due {
    pub product: Uuid,
    pub ordinal: i64,
    pub location_id: i64,
    pub location: String,
    pub reference: String,
    pub quantity: i64,
}

/// One movement to append to the ledger. The level holds its balances after the movement.
#[derive(Debug)]
pub(crate) struct NewMovement<'a> {
    pub id: Uuid,
    pub level: &'a Level,
    pub kind: MovementKind,
    pub quantity: i64,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub reference: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub external_id: Option<&'a str>,
    pub transfer_id: Option<Uuid>,
    pub actor: Option<&'a str>,
    pub at: &'a Stamp,
}

/// A command's request and outcome (both JSON), stored under its idempotency key.
#[derive(Debug)]
pub(crate) struct NewRequest<'a> {
    pub key: &'a str,
    pub request: &'a str,
    pub outcome: &'a str,
    pub at: &'a Stamp,
}

/// A conflict a till reported, to be counted once by its reference.
#[derive(Debug)]
pub(crate) struct NewTillConflict<'a> {
    pub reference: &'a str,
    pub till_id: &'a str,
    pub code: &'a str,
    pub at: &'a Stamp,
}

/// A new product's row.
#[derive(Debug)]
pub(crate) struct NewProductRow<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub description: &'a str,
    pub sku: &'a str,
    pub price: Price,
    pub location_id: i64,
    pub reorder_point: Option<i64>,
    pub at: &'a Stamp,
}

/// A product's new field values. Totals are recomputed from the levels when a reorder point is
/// set, and zeroed when it is cleared (they are kept only for products with one).
#[derive(Debug)]
pub(crate) struct ProductUpdate<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub price: Price,
    pub reorder_point: Option<i64>,
    pub at: &'a Stamp,
}

/// A new API key's row.
#[derive(Debug)]
pub(crate) struct NewKeyRow<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub scope: Scope,
    pub locations: Option<&'a [String]>,
    pub secret_sha256: &'a str,
    pub at: &'a Stamp,
}

/// One delivery attempt to log: the attempt, which failure in a row it is (1 when the last
/// one succeeded), when.
#[derive(Debug)]
pub(crate) struct NewDelivery<'a> {
    pub webhook: Uuid,
    pub attempt: &'a crate::webhooks::Attempt,
    pub number: i64,
    pub at: &'a Stamp,
}

/// A validated page of the product list.
#[derive(Debug)]
pub(crate) struct ProductFilter<'a> {
    pub q: Option<&'a str>,
    pub low_stock: bool,
    pub limit: i64,
    pub offset: i64,
}

/// A validated page of a product's history.
#[derive(Debug)]
pub(crate) struct HistoryFilter<'a> {
    pub after: i64,
    pub before: i64,
    pub location: Option<&'a str>,
    pub limit: i64,
    pub offset: i64,
}
