//! The JSON the server writes: the seed's envelope and field names, with the engine's extra
//! fields alongside. Prices are written as the exact decimal number token ("1500.00" stays
//! 1500.00); nothing passes through f64.

use crate::errors::ApiError;
use chrono::{DateTime, SecondsFormat, Utc};
use inventory::{
    ApiKey, CatalogueEntry, CataloguePage, ChangePage, CreatedKey, Movement, Price, Product,
    ProductWithStock, StockLevel, StockSummary,
};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use uuid::Uuid;

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[derive(Serialize)]
struct Success<'a, T: Serialize> {
    data: &'a T,
    message: &'a str,
    timestamp: String,
}

/// `{"data", "message", "timestamp"}`.
pub fn success<T: Serialize>(data: &T, message: &str) -> Vec<u8> {
    serde_json::to_vec(&Success {
        data,
        message,
        timestamp: now(),
    })
    .expect("response values always serialize")
}

#[derive(Serialize)]
struct Failure<'a> {
    error: &'a str,
    message: &'a str,
    code: u16,
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<usize>,
}

/// `{"error", "message", "code", "timestamp"}`, plus `field` and `index` when known.
pub fn failure(e: &ApiError) -> Vec<u8> {
    serde_json::to_vec(&Failure {
        error: e.code,
        message: &e.message,
        code: e.status,
        timestamp: now(),
        field: e.field.as_deref(),
        index: e.index,
    })
    .expect("error values always serialize")
}

fn price_number<S: Serializer>(price: &Price, s: S) -> Result<S::Ok, S::Error> {
    // A validated Price prints as a plain decimal ("1500.00"), which is a valid JSON number.
    RawValue::from_string(price.to_string())
        .map_err(serde::ser::Error::custom)?
        .serialize(s)
}

#[derive(Serialize)]
pub struct ProductJson<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub description: &'a str,
    pub sku: &'a str,
    #[serde(serialize_with = "price_number")]
    pub price: Price,
    pub location: &'a str,
    pub reorder_point: Option<i64>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl<'a> From<&'a Product> for ProductJson<'a> {
    fn from(p: &'a Product) -> Self {
        ProductJson {
            id: p.id,
            name: &p.name,
            description: &p.description,
            sku: &p.sku,
            price: p.price,
            location: &p.location,
            reorder_point: p.reorder_point,
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A stock level in the seed's inventory shape: `quantity` is on hand.
#[derive(Serialize)]
pub struct LevelJson<'a> {
    pub id: Uuid,
    pub product_id: Uuid,
    pub location: &'a str,
    pub quantity: i64,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl<'a> From<&'a StockLevel> for LevelJson<'a> {
    fn from(l: &'a StockLevel) -> Self {
        LevelJson {
            id: l.id,
            product_id: l.product_id,
            location: &l.location,
            quantity: l.on_hand,
            on_hand: l.on_hand,
            reserved: l.reserved,
            available: l.available,
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

/// Totals over every location in the shape of one level (whose `location` is the product's
/// own), and one level per location.
#[derive(Serialize)]
pub struct SummaryJson<'a> {
    #[serde(flatten)]
    pub totals: LevelJson<'a>,
    pub locations: Vec<LevelJson<'a>>,
    pub low_stock: bool,
}

impl<'a> From<&'a StockSummary> for SummaryJson<'a> {
    fn from(s: &'a StockSummary) -> Self {
        SummaryJson {
            totals: (&s.totals).into(),
            locations: s.locations.iter().map(LevelJson::from).collect(),
            low_stock: s.low_stock,
        }
    }
}

#[derive(Serialize)]
pub struct ProductWithStockJson<'a> {
    pub product: ProductJson<'a>,
    pub inventory: SummaryJson<'a>,
}

impl<'a> From<&'a ProductWithStock> for ProductWithStockJson<'a> {
    fn from(p: &'a ProductWithStock) -> Self {
        ProductWithStockJson {
            product: (&p.product).into(),
            inventory: (&p.inventory).into(),
        }
    }
}

/// A ledger movement in the seed's transaction shape: `type` is the movement kind and
/// `quantity_after` repeats `on_hand_after` under the seed's quantity name.
#[derive(Serialize)]
pub struct MovementJson<'a> {
    pub id: Uuid,
    pub seq: i64,
    pub inventory_id: Uuid,
    pub product_id: Uuid,
    pub location: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub quantity: i64,
    pub on_hand_after: i64,
    pub quantity_after: i64,
    pub reserved_after: i64,
    pub reference: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub external_id: Option<&'a str>,
    pub transfer_id: Option<Uuid>,
    /// Who made it (an API key's name, or the actor a caller set); null when unknown.
    pub actor: Option<&'a str>,
    pub created_at: DateTime<Utc>,
}

impl<'a> From<&'a Movement> for MovementJson<'a> {
    fn from(m: &'a Movement) -> Self {
        MovementJson {
            id: m.id,
            seq: m.seq,
            inventory_id: m.inventory_id,
            product_id: m.product_id,
            location: &m.location,
            kind: m.kind.as_str(),
            quantity: m.quantity,
            on_hand_after: m.on_hand_after,
            quantity_after: m.on_hand_after,
            reserved_after: m.reserved_after,
            reference: m.reference.as_deref(),
            notes: m.notes.as_deref(),
            external_id: m.external_id.as_deref(),
            transfer_id: m.transfer_id,
            actor: m.actor.as_deref(),
            created_at: m.created_at,
        }
    }
}

#[derive(Serialize)]
pub struct ChangePageJson<'a> {
    pub movements: Vec<MovementJson<'a>>,
    pub next_after: i64,
}

impl<'a> From<&'a ChangePage> for ChangePageJson<'a> {
    fn from(p: &'a ChangePage) -> Self {
        ChangePageJson {
            movements: p.movements.iter().map(MovementJson::from).collect(),
            next_after: p.next_after,
        }
    }
}

/// A product of the catalogue feed: its fields, when it was archived (null while live) and the
/// revision at which it last changed.
#[derive(Serialize)]
pub struct CatalogueEntryJson<'a> {
    #[serde(flatten)]
    pub product: ProductJson<'a>,
    pub archived_at: Option<DateTime<Utc>>,
    pub revision: i64,
}

impl<'a> From<&'a CatalogueEntry> for CatalogueEntryJson<'a> {
    fn from(e: &'a CatalogueEntry) -> Self {
        CatalogueEntryJson {
            product: (&e.product).into(),
            archived_at: e.archived_at,
            revision: e.revision,
        }
    }
}

#[derive(Serialize)]
pub struct CataloguePageJson<'a> {
    pub products: Vec<CatalogueEntryJson<'a>>,
    pub next_after: i64,
}

impl<'a> From<&'a CataloguePage> for CataloguePageJson<'a> {
    fn from(p: &'a CataloguePage) -> Self {
        CataloguePageJson {
            products: p.products.iter().map(CatalogueEntryJson::from).collect(),
            next_after: p.next_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_keeps_its_scale_as_a_number() {
        #[derive(Serialize)]
        struct P {
            #[serde(serialize_with = "price_number")]
            price: Price,
        }
        let text = serde_json::to_string(&P {
            price: Price::parse("1500.00").unwrap(),
        })
        .unwrap();
        assert_eq!(text, r#"{"price":1500.00}"#);
    }
}

/// A key just created: its fields and, this once, its secret.
#[derive(Serialize)]
pub struct CreatedKeyJson<'a> {
    #[serde(flatten)]
    pub key: &'a ApiKey,
    pub secret: &'a str,
}

impl<'a> From<&'a CreatedKey> for CreatedKeyJson<'a> {
    fn from(c: &'a CreatedKey) -> Self {
        CreatedKeyJson {
            key: &c.key,
            secret: &c.secret,
        }
    }
}
