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
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub sku: String,
    pub price: Price,
    pub location: String,
    pub reorder_point: Option<i64>,
    /// Bumped by every update; the basis of compare-and-set (HTTP ETag / If-Match).
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The stock of one product at one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    /// The level's own id (the seed's `inventory.id`).
    pub id: Uuid,
    pub product_id: Uuid,
    pub location: String,
    pub on_hand: i64,
    pub reserved: i64,
    /// on_hand - reserved.
    pub available: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A product's stock over all its locations. The totals are sums over `locations`;
/// `id`, `location` and the timestamps are those of the product's own location, as in the seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockSummary {
    pub id: Uuid,
    pub product_id: Uuid,
    pub location: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// One level per location the product has ever stocked, ordered by location name.
    pub locations: Vec<StockLevel>,
}

/// A product together with its stock, as `get_product` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductWithStock {
    pub product: Product,
    pub inventory: StockSummary,
}

/// What a movement did. The string forms are stored in the ledger and shown on every surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MovementKind {
    In,
    Out,
    Reserve,
    Unreserve,
    /// A reservation fulfilled: on_hand and reserved both drop.
    Commit,
    /// A reservation released by its expiry.
    Expire,
    TransferOut,
    TransferIn,
    /// A physical count; `quantity` is the signed change it made to on_hand.
    Adjust,
}

impl MovementKind {
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
    pub seq: i64,
    pub id: Uuid,
    /// The stock level's id (the seed's `inventory_id`).
    pub inventory_id: Uuid,
    pub product_id: Uuid,
    pub location: String,
    pub kind: MovementKind,
    pub quantity: i64,
    pub on_hand_after: i64,
    pub reserved_after: i64,
    pub reference: Option<String>,
    pub notes: Option<String>,
    /// Shared by the two halves of a transfer.
    pub transfer_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// A named place that holds stock, with its totals over live products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub name: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    /// Live products with a stock level here.
    pub products: i64,
    pub created_at: DateTime<Utc>,
}

/// An open reservation: quantity held for `reference` at one product and location.
/// An unreferenced reserve is held under the empty reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    pub id: Uuid,
    pub product_id: Uuid,
    pub location: String,
    pub reference: String,
    pub quantity: i64,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The result of `verify()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub ok: bool,
    pub problems: Vec<String>,
}

/// A page of the change feed and the cursor to ask for the next one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePage {
    pub movements: Vec<Movement>,
    /// Pass as `after` to continue; equal to the request's `after` when nothing was new.
    pub next_after: i64,
}
