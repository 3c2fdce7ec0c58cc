//! The JSON the server writes: the seed's envelope and field names, with the engine's extra
//! fields alongside. Prices are written as the exact decimal number token ("1500.00" stays
//! 1500.00); nothing passes through f64.

use crate::errors::ApiError;
use chrono::{DateTime, SecondsFormat, Utc};
use inventory::{
    ApiKey, CatalogueEntry, CataloguePage, ChangePage, CreatedKey, Movement, Price, Product,
    ProductWithStock, StockLevel, StockSummary,
};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use uuid::Uuid;

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[derive(Serialize, JsonSchema)]
struct Success<'a, T> {
    data: &'a T,
    message: &'a str,
    #[schemars(with = "DateTime<Utc>")]
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

/// The error envelope.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Error")]
struct Failure<'a> {
    #[schemars(with = "crate::errors::CodeName")]
    error: &'a str,
    message: &'a str,
    /// The HTTP status.
    code: u16,
    #[schemars(with = "DateTime<Utc>")]
    timestamp: String,
    /// The offending input field, when known (`operations[2].quantity` in a batch).
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    /// The failing operation of a batch.
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

/// The schema of the success envelope around a `T`: what `success` writes.
pub fn envelope<T: JsonSchema + 'static>(generator: &mut SchemaGenerator) -> Schema {
    Success::<'static, T>::json_schema(generator)
}

/// The error envelope's schema (its component, `Error`).
pub fn failure_schema(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<Failure>()
}

/// The largest price, and its step: prices are below `PRICE_LIMIT` with at most
/// `MAX_PRICE_SCALE` decimal places, so every one survives a client that reads doubles.
pub fn price_bounds() -> (f64, f64) {
    let step = inventory::Decimal::new(1, inventory::MAX_PRICE_SCALE);
    let max = inventory::PRICE_LIMIT - step;
    let float =
        |d: inventory::Decimal| d.to_string().parse::<f64>().expect("a decimal is a number");
    (float(max), float(step))
}

/// A price as written: a JSON number, exact to its scale.
pub fn price_number_schema() -> serde_json::Value {
    let (max, step) = price_bounds();
    serde_json::json!({
        "type": "number", "format": "decimal", "minimum": 0, "maximum": max, "multipleOf": step,
        "description": format!("An exact decimal with at most {} decimal places, below {}: at most 15 significant digits, so a client that reads JSON numbers as doubles reads it exactly.", inventory::MAX_PRICE_SCALE, inventory::PRICE_LIMIT)
    })
}

fn price_schema(_: &mut SchemaGenerator) -> Schema {
    Schema::try_from(price_number_schema()).expect("a price's schema is an object")
}

/// The movement kinds' names, as `type` writes them.
pub struct MovementType;

impl JsonSchema for MovementType {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "MovementType".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let kinds: Vec<&str> = inventory::MovementKind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect();
        json_schema!({
            "type": "string", "enum": kinds,
            "description": "What a movement did to (on hand, reserved)."
        })
    }
}

/// The event types a webhook subscription may ask for, from the engine's list.
pub struct WebhookEventType;

impl JsonSchema for WebhookEventType {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "WebhookEventType".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string", "enum": inventory::webhooks::EVENT_TYPES,
            "description": "An event type a webhook delivers."
        })
    }
}

fn price_number<S: Serializer>(price: &Price, s: S) -> Result<S::Ok, S::Error> {
    // A validated Price prints as a plain decimal ("1500.00"), which is a valid JSON number.
    RawValue::from_string(price.to_string())
        .map_err(serde::ser::Error::custom)?
        .serialize(s)
}

/// A catalogue entry.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Product")]
pub struct ProductJson<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub description: &'a str,
    pub sku: &'a str,
    #[serde(serialize_with = "price_number")]
    #[schemars(schema_with = "price_schema")]
    pub price: Price,
    /// The product's own location.
    pub location: &'a str,
    pub reorder_point: Option<i64>,
    /// Also sent as the ETag.
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

/// The stock of a product at one location.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "StockLevel")]
pub struct LevelJson<'a> {
    pub id: Uuid,
    pub product_id: Uuid,
    pub location: &'a str,
    /// On hand (the seed's name).
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
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Inventory")]
pub struct SummaryJson<'a> {
    #[serde(flatten)]
    pub totals: LevelJson<'a>,
    pub locations: Vec<LevelJson<'a>>,
    /// The product has a reorder point and its available total is at or below it (the
    /// `low_stock` filter's predicate).
    pub low_stock: bool,
}

/// A product's inventory: its totals, or with `?location=` that one level.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub enum SummaryOrLevel<'a> {
    Summary(SummaryJson<'a>),
    Level(LevelJson<'a>),
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

/// A product and its stock.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "ProductWithStock")]
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
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Transaction", description = "A ledger movement.")]
pub struct MovementJson<'a> {
    pub id: Uuid,
    pub seq: i64,
    pub inventory_id: Uuid,
    pub product_id: Uuid,
    pub location: &'a str,
    #[serde(rename = "type")]
    #[schemars(with = "MovementType")]
    pub kind: &'static str,
    pub quantity: i64,
    pub on_hand_after: i64,
    pub quantity_after: i64,
    pub reserved_after: i64,
    pub reference: Option<&'a str>,
    pub notes: Option<&'a str>,
    /// A receipt's id in the system that caused it; null when none was given.
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

/// A page of the change feed.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "EventPage")]
pub struct ChangePageJson<'a> {
    pub movements: Vec<MovementJson<'a>>,
    /// Pass as `after` for the next page.
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
#[derive(Serialize, JsonSchema)]
#[schemars(
    rename = "CatalogueEntry",
    description = "A product as it is now, archived or not, with the revision of its last change."
)]
pub struct CatalogueEntryJson<'a> {
    #[serde(flatten)]
    pub product: ProductJson<'a>,
    /// When it was archived; null while it is live.
    pub archived_at: Option<DateTime<Utc>>,
    /// The catalogue revision of its last change.
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

/// A page of the catalogue feed, in revision (commit) order.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "CataloguePage")]
pub struct CataloguePageJson<'a> {
    pub products: Vec<CatalogueEntryJson<'a>>,
    /// Pass as `after` for the next page.
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
#[derive(Serialize, JsonSchema)]
#[schemars(
    rename = "CreatedApiKey",
    description = "A key just created, with its secret."
)]
pub struct CreatedKeyJson<'a> {
    #[serde(flatten)]
    pub key: &'a ApiKey,
    /// The bearer secret: shown this once, stored only as its SHA-256.
    pub secret: &'a str,
}

/// A webhook subscription just created, with its signing secret.
#[derive(Serialize, JsonSchema)]
#[schemars(
    rename = "CreatedWebhook",
    description = "A subscription just created, with its signing secret."
)]
pub struct CreatedWebhookJson<'a> {
    #[serde(flatten)]
    pub webhook: &'a inventory::webhooks::Webhook,
    /// `whsec_` and base64: the key a receiver checks `webhook-signature` with (Standard
    /// Webhooks). Shown this once.
    pub secret: &'a str,
}

impl<'a> From<&'a inventory::webhooks::CreatedWebhook> for CreatedWebhookJson<'a> {
    fn from(c: &'a inventory::webhooks::CreatedWebhook) -> Self {
        CreatedWebhookJson {
            webhook: &c.webhook,
            secret: &c.secret,
        }
    }
}

/// Service health, and the build answering.
#[derive(Serialize, JsonSchema)]
pub struct Health {
    pub status: &'static str,
    pub database: &'static str,
    /// The build: Cargo's version, `+`, and the commit (`0.1.0+1a2b3c4d5e6f`; `+unknown` when
    /// built outside a git checkout).
    pub version: &'static str,
    /// The commit built, 12 hex digits, or `unknown`.
    pub commit: &'static str,
}

/// Ready for writes (or, on a server started with `--read-only`, for reads).
#[derive(Serialize, JsonSchema)]
pub struct Ready {
    pub status: &'static str,
    pub database: &'static str,
}

/// The archived product's id.
#[derive(Serialize, JsonSchema)]
pub struct Deleted {
    pub id: Uuid,
}

impl<'a> From<&'a CreatedKey> for CreatedKeyJson<'a> {
    fn from(c: &'a CreatedKey) -> Self {
        CreatedKeyJson {
            key: &c.key,
            secret: &c.secret,
        }
    }
}
