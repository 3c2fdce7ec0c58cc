//! The values the engine hands out. Every read and every write result is one of these plain,
//! owned, serializable structs, so that each surface can translate them field by field.

use crate::money::Price;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A catalogue entry. `location` is the product's own location: stock operations that name
/// no location act there, as the seed's single-location API did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// UUID v7.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Stock keeping unit, unique among live products.
    pub sku: String,
    /// Unit price, exact.
    pub price: Price,
    /// The product's own location.
    pub location: String,
    /// Low-stock threshold on the available total.
    pub reorder_point: Option<i64>,
    /// Bumped by every update; the basis of compare-and-set (HTTP ETag / If-Match).
    pub version: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The stock of one product at one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    /// The level's own id (the seed's `inventory.id`).
    pub id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// The location's name.
    pub location: String,
    /// Units physically held.
    pub on_hand: i64,
    /// Units held for reservations.
    pub reserved: i64,
    /// on_hand - reserved.
    pub available: i64,
    /// When the level was first stocked.
    pub created_at: DateTime<Utc>,
    /// When the level last changed.
    pub updated_at: DateTime<Utc>,
}

/// A product's stock over all its locations. The totals are sums over `locations`;
/// `id`, `location` and the timestamps are those of the product's own location, as in the seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockSummary {
    /// The own location's level id (the seed's `inventory.id`).
    pub id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// The product's own location.
    pub location: String,
    /// On hand over all locations.
    pub on_hand: i64,
    /// Reserved over all locations.
    pub reserved: i64,
    /// Available over all locations.
    pub available: i64,
    /// When the own location's level was created.
    pub created_at: DateTime<Utc>,
    /// When any of the levels last changed.
    pub updated_at: DateTime<Utc>,
    /// One level per location the product has ever stocked, ordered by location name.
    pub locations: Vec<StockLevel>,
}

/// A product together with its stock, as `get_product` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductWithStock {
    /// The product.
    pub product: Product,
    /// Its stock.
    pub inventory: StockSummary,
}

/// What a movement did. The string forms are stored in the ledger and shown on every surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MovementKind {
    /// Stock received.
    In,
    /// Stock removed.
    Out,
    /// Stock reserved.
    Reserve,
    /// A reservation released.
    Unreserve,
    /// A reservation fulfilled: on_hand and reserved both drop.
    Commit,
    /// A reservation released by its expiry.
    Expire,
    /// The source half of a transfer.
    TransferOut,
    /// The destination half of a transfer.
    TransferIn,
    /// A physical count; `quantity` is the signed change it made to on_hand.
    Adjust,
}

impl MovementKind {
    /// The ledger's name for the kind, e.g. `"TRANSFER_IN"`.
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::In => "IN",
            MovementKind::Out => "OUT",
            MovementKind::Reserve => "RESERVE",
            MovementKind::Unreserve => "UNRESERVE",
            MovementKind::Commit => "COMMIT",
            MovementKind::Expire => "EXPIRE",
            MovementKind::TransferOut => "TRANSFER_OUT",
            MovementKind::TransferIn => "TRANSFER_IN",
            MovementKind::Adjust => "ADJUST",
        }
    }

    /// The kind named by [`MovementKind::as_str`], if any.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "IN" => MovementKind::In,
            "OUT" => MovementKind::Out,
            "RESERVE" => MovementKind::Reserve,
            "UNRESERVE" => MovementKind::Unreserve,
            "COMMIT" => MovementKind::Commit,
            "EXPIRE" => MovementKind::Expire,
            "TRANSFER_OUT" => MovementKind::TransferOut,
            "TRANSFER_IN" => MovementKind::TransferIn,
            "ADJUST" => MovementKind::Adjust,
            _ => return None,
        })
    }

    /// The change this kind of movement makes to (on_hand, reserved) for a given quantity.
    pub fn deltas(self, quantity: i64) -> (i64, i64) {
        match self {
            MovementKind::In | MovementKind::TransferIn | MovementKind::Adjust => (quantity, 0),
            MovementKind::Out | MovementKind::TransferOut => (-quantity, 0),
            MovementKind::Reserve => (0, quantity),
            MovementKind::Unreserve | MovementKind::Expire => (0, -quantity),
            MovementKind::Commit => (-quantity, -quantity),
        }
    }
}

/// One ledger entry. `seq` is global and strictly increasing; `on_hand_after` and
/// `reserved_after` are the level's balances once this movement applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    /// Global sequence number: strictly increasing across all products.
    pub seq: i64,
    /// UUID v7.
    pub id: Uuid,
    /// The stock level's id (the seed's `inventory_id`).
    pub inventory_id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// The location's name.
    pub location: String,
    /// What happened.
    pub kind: MovementKind,
    /// Units moved: positive, except an ADJUST's signed difference.
    pub quantity: i64,
    /// The level's on_hand after this movement.
    pub on_hand_after: i64,
    /// The level's reserved after this movement.
    pub reserved_after: i64,
    /// The reference given with the operation.
    pub reference: Option<String>,
    /// The notes given with the operation.
    pub notes: Option<String>,
    /// Shared by the two halves of a transfer.
    pub transfer_id: Option<Uuid>,
    /// When it was applied.
    pub created_at: DateTime<Utc>,
}

/// A named place that holds stock, with its totals over live products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The location's name.
    pub name: String,
    /// On hand over live products.
    pub on_hand: i64,
    /// Reserved over live products.
    pub reserved: i64,
    /// Available over live products.
    pub available: i64,
    /// Live products with a stock level here.
    pub products: i64,
    /// When the location was created.
    pub created_at: DateTime<Utc>,
}

/// An open reservation: quantity held for `reference` at one product and location.
/// An unreferenced reserve is held under the empty reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// UUID v7.
    pub id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// The location's name.
    pub location: String,
    /// The reference it is held for; empty for unreferenced reserves.
    pub reference: String,
    /// Units held.
    pub quantity: i64,
    /// When it lapses, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The result of `verify()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// True when no problem was found.
    pub ok: bool,
    /// One line per problem found.
    pub problems: Vec<String>,
}

/// A page of the change feed and the cursor to ask for the next one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePage {
    /// Movements after the cursor, oldest first.
    pub movements: Vec<Movement>,
    /// Pass as `after` to continue; equal to the request's `after` when nothing was new.
    pub next_after: i64,
}
