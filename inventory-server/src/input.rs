//! What the server reads: JSON bodies (unknown fields rejected, every error naming its field),
//! prices as exact decimals from a number or a string, and query strings.

use crate::errors::{ApiError, CodeName};
use crate::params::NON_BLANK;
use inventory::shape;
use inventory::{NewProduct, OpKind, Price, ProductChanges, StockOp};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use uuid::Uuid;

/// Parses a JSON body. A body that is not an object (an array, say), a repeated key, a syntax
/// error, a wrong type, a missing or an unknown field is a 400 whose message and `field` name
/// the offending path.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    match crate::strict_json::check(body) {
        Ok(()) => {}
        Err(crate::strict_json::Strictness::NotAnObject) => {
            return Err(ApiError::validation(
                "body",
                "request body must be a JSON object",
            ));
        }
        Err(crate::strict_json::Strictness::DuplicateKey(path)) => {
            return Err(ApiError::validation(
                &path,
                format!("duplicate key `{path}` in the request body"),
            ));
        }
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(named)?;
    de.end()
        .map_err(|e| ApiError::validation("body", e.to_string()))?;
    Ok(value)
}

/// A 400 naming what failed to deserialize: `field` is the path (a body's `operations[1].quantity`,
/// a query's `limit`), a missing field named itself, and "body" where serde could not say.
pub fn named<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> ApiError {
    // "." is the top level; "?" a position serde could not name (a syntax error).
    let path = match e.path().to_string() {
        p if p == "?" => ".".to_owned(),
        p => p,
    };
    let message = e.into_inner().to_string();
    // serde reports a missing field at the enclosing path; name the field itself. (An
    // unknown field is already the path's last segment.)
    let field = backtick_name(&message)
        .filter(|_| message.starts_with("missing field"))
        .map(|name| {
            if path == "." {
                name.to_owned()
            } else {
                format!("{path}.{name}")
            }
        })
        .unwrap_or_else(|| {
            if path == "." {
                "body".to_owned()
            } else {
                path.clone()
            }
        });
    let message = if field == "body" || message.contains(&field) {
        message
    } else {
        format!("{field}: {message}")
    };
    ApiError::validation(&field, message)
}

fn backtick_name(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// A price given as a JSON number (`1500.00`, its scale kept) or a string (`"1500.00"`).
#[derive(Debug, Clone, Copy)]
pub struct PriceInput(pub Price);

impl<'de> Deserialize<'de> for PriceInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <Box<RawValue>>::deserialize(d)?;
        let text = raw.get();
        let decimal = if text.starts_with('"') {
            serde_json::from_str::<String>(text).map_err(serde::de::Error::custom)?
        } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            text.to_owned()
        } else {
            return Err(serde::de::Error::custom(
                "price must be a decimal number or a string holding one",
            ));
        };
        Price::parse(&decimal)
            .map(PriceInput)
            .map_err(|e| serde::de::Error::custom(e.message))
    }
}

impl JsonSchema for PriceInput {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PriceInput".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let digits = inventory::PRICE_LIMIT.to_string().len() - 1;
        let scale = inventory::MAX_PRICE_SCALE;
        json_schema!({
            "description": "A price as a JSON number (its scale kept) or a string.",
            "anyOf": [
                crate::json::price_number_schema(),
                {
                    "type": "string", "format": "decimal",
                    "pattern": format!("^[0-9]{{1,{digits}}}(\\.[0-9]{{1,{scale}}})?$"),
                    "description": "The same decimal as a string (\"19.99\")."
                }
            ]
        })
    }
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Text without NUL characters (the engine refuses them in every string).
pub const NO_NUL: &str = "^[^\\u0000]*$";

/// The reorder point's `title` in both product bodies. The dashboard builds its forms from these
/// schemas and labels a field with its title, or else with its name in words.
const REORDER_POINT: &str = "Reorder point (blank: none)";

/// POST /api/products: a new product and its initial stock (at its own location).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "NewProduct")]
pub struct CreateProductBody {
    #[schemars(length(min = 1, max = inventory::MAX_NAME), regex(pattern = NON_BLANK))]
    pub name: String,
    #[schemars(title = "SKU", length(min = 1, max = inventory::MAX_SKU), regex(pattern = NON_BLANK))]
    pub sku: String,
    pub price: PriceInput,
    #[serde(default)]
    #[schemars(length(max = inventory::MAX_DESCRIPTION), regex(pattern = NO_NUL))]
    pub description: Option<String>,
    /// The product's own location; left out: the default location.
    #[serde(default)]
    #[schemars(title = "Location (blank: the default)")]
    #[schemars(length(min = 1, max = inventory::MAX_LOCATION), regex(pattern = NON_BLANK))]
    pub location: Option<String>,
    #[serde(default)]
    #[schemars(range(min = 0, max = inventory::MAX_QUANTITY))]
    pub initial_quantity: Option<i64>,
    /// Low on stock when the available quantity is at or below this; left out: never.
    #[serde(default)]
    #[schemars(title = REORDER_POINT, range(min = 0, max = inventory::MAX_QUANTITY))]
    pub reorder_point: Option<i64>,
}

impl From<CreateProductBody> for NewProduct {
    fn from(b: CreateProductBody) -> Self {
        NewProduct {
            name: b.name,
            sku: b.sku,
            price: b.price.0,
            description: b.description.unwrap_or_default(),
            location: b.location,
            initial_quantity: b.initial_quantity.unwrap_or(0),
            reorder_point: b.reorder_point,
            // Ids are the engine's to hand out over HTTP; choosing one is for mirrors (a till's
            // own file), which create products through the engine.
            id: None,
        }
    }
}

/// A partial update: omitted fields stay; `"reorder_point": null` clears the reorder point.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ProductChanges")]
pub struct UpdateProductBody {
    #[serde(default)]
    #[schemars(length(min = 1, max = inventory::MAX_NAME), regex(pattern = NON_BLANK))]
    pub name: Option<String>,
    #[serde(default)]
    #[schemars(length(max = inventory::MAX_DESCRIPTION), regex(pattern = NO_NUL))]
    pub description: Option<String>,
    #[serde(default)]
    pub price: Option<PriceInput>,
    /// Low on stock when the available quantity is at or below this; null clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schemars(with = "Option<i64>", title = REORDER_POINT)]
    #[schemars(range(min = 0, max = inventory::MAX_QUANTITY))]
    pub reorder_point: Option<Option<i64>>,
}

impl From<UpdateProductBody> for ProductChanges {
    fn from(b: UpdateProductBody) -> Self {
        ProductChanges {
            name: b.name,
            description: b.description,
            price: b.price.map(|p| p.0),
            reorder_point: b.reorder_point,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "NewLocation")]
pub struct LocationBody {
    #[schemars(length(min = 1, max = inventory::MAX_LOCATION), regex(pattern = NON_BLANK))]
    pub name: String,
}

/// POST /api/tills/conflicts: a till reporting a sale of its own that central refused.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TillConflict")]
pub struct TillConflictBody {
    /// The sale's reference (`sale:<till id>:<sale id>`).
    #[schemars(length(min = 1, max = inventory::MAX_REFERENCE), regex(pattern = NON_BLANK))]
    pub reference: String,
    /// The engine's code central refused the sale with.
    #[schemars(with = "CodeName")]
    pub code: String,
}

/// POST /api/tills/{id}/check-in: the instance a till generated for its files, and where it
/// sells.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TillCheckIn")]
pub struct CheckInBody {
    #[schemars(length(min = 1, max = inventory::MAX_INSTANCE_ID), regex(pattern = NON_BLANK))]
    pub instance_id: String,
    #[schemars(length(min = 1, max = inventory::MAX_LOCATION), regex(pattern = NON_BLANK))]
    pub location: String,
    /// What the till's previous check-in left; null before its first.
    pub token: Option<String>,
    /// What this one leaves.
    #[schemars(length(min = 1, max = inventory::MAX_INSTANCE_ID), regex(pattern = NON_BLANK))]
    pub next_token: String,
    /// The point the till's last check-in answered, and central's clock then; left out or
    /// null before its first.
    #[serde(default)]
    pub seen: Option<inventory::SeenPoint>,
}

/// POST /api/tills/{id}/take-over: release the till's allotments, or keep them for its next
/// instance.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TakeOverRequest")]
pub struct TakeOverBody {
    /// true: release its allotments; false: keep them for the till's next instance.
    pub release: bool,
}

/// The form of a webhook URL the document states: `http://` or `https://` and a host. The
/// engine parses it fully (RFC 3986) and checks where its host leads.
const WEBHOOK_URL: &str = "^https?://[^\\s/?#]+([/?#]\\S*)?$";

/// POST /api/webhooks: a subscription. Left out or null, `events` is every event type and
/// `locations` and `product_ids` every location and product.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "NewWebhook")]
pub struct WebhookBody {
    /// `http://` or `https://`; a host resolving to a loopback, private or link-local address
    /// is refused unless the server runs with `--webhook-allow-private`.
    #[schemars(length(min = 1, max = inventory::webhooks::MAX_WEBHOOK_URL), regex(pattern = WEBHOOK_URL))]
    pub url: String,
    /// Event types to deliver (`movement.created`).
    #[serde(default)]
    #[schemars(with = "Option<Vec<crate::json::WebhookEventType>>", length(min = 1, max = inventory::webhooks::MAX_WEBHOOK_FILTER))]
    pub events: Option<Vec<String>>,
    /// Only movements at these locations.
    #[serde(default)]
    #[schemars(length(min = 1, max = inventory::webhooks::MAX_WEBHOOK_FILTER), inner(length(min = 1, max = inventory::MAX_LOCATION), regex(pattern = NON_BLANK)))]
    pub locations: Option<Vec<String>>,
    /// Only movements of these products.
    #[serde(default)]
    #[schemars(length(min = 1, max = inventory::webhooks::MAX_WEBHOOK_FILTER))]
    pub product_ids: Option<Vec<uuid::Uuid>>,
}

/// POST /api/webhooks/{id}/rewind: the events after `after` are delivered (again).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "WebhookRewind")]
pub struct RewindBody {
    /// A `seq` of the ledger (0: from its start).
    #[schemars(range(min = 0))]
    pub after: i64,
}

/// POST /api/keys. `locations` left out or null: the key may move stock anywhere.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "NewApiKey")]
pub struct KeyBody {
    #[schemars(length(min = 1, max = inventory::MAX_KEY_NAME), regex(pattern = NON_BLANK))]
    pub name: String,
    pub scope: inventory::Scope,
    /// The only locations the key may move stock at; left out or null: any.
    #[serde(default)]
    #[schemars(length(min = 1), inner(length(min = 1, max = inventory::MAX_LOCATION), regex(pattern = NON_BLANK)))]
    pub locations: Option<Vec<String>>,
}

/// POST /api/stock/batch: stock operations applied all or nothing.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Batch")]
pub struct BatchBody {
    /// Each a `BatchItem`: read by the engine's table, kind by kind (`parse_batch`).
    #[schemars(schema_with = "batch_operations")]
    pub operations: Vec<serde_json::Value>,
}

fn batch_operations(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array", "minItems": 1, "maxItems": inventory::MAX_BATCH,
        "items": { "$ref": "#/components/schemas/BatchItem" }
    })
}

/// A batch item's own keys, beside the fields of its operation.
pub const ITEM_KEYS: [&str; 2] = ["product_id", "op"];

/// Parses a stock route's body. Its keys are the fields the engine's table gives `kind`, each
/// read as its type says (`Field::read_json`); `null` is the same as leaving the field out. The
/// engine refuses a field the kind does not take, a value outside its limits and two fields that
/// exclude each other (`StockOp::from_fields`), naming the field; required fields are checked
/// when it applies.
pub fn parse_stock(body: &[u8], kind: OpKind, product_id: Uuid) -> Result<StockOp, ApiError> {
    let object: Map<String, Value> = parse_body(body)?;
    stock_op(kind, product_id, object)
}

fn stock_op(
    kind: OpKind,
    product_id: Uuid,
    object: Map<String, Value>,
) -> Result<StockOp, ApiError> {
    let shape = shape::shape(kind);
    let mut fields = Vec::with_capacity(object.len());
    for (key, value) in object {
        let field = shape.field(&key)?;
        if !value.is_null() {
            fields.push((field, field.read_json(value)?));
        }
    }
    Ok(StockOp::from_fields(kind, product_id, fields)?)
}

/// Names an error of batch item `index` as the request spells it: `operations[2].quantity`,
/// with `index` set. Engine errors come with their index and the field's own name.
pub fn in_item(e: ApiError, index: usize) -> ApiError {
    ApiError {
        field: e.field.map(|f| format!("operations[{index}].{f}")),
        index: Some(index),
        ..e
    }
}

/// The operations of a batch body: each item is `product_id`, `op` and the fields of that
/// kind, read like the single-operation routes. Errors name the item: `operations[2].quantity`.
pub fn parse_batch(body: &[u8]) -> Result<Vec<StockOp>, ApiError> {
    let batch: BatchBody = parse_body(body)?;
    let mut ops = Vec::with_capacity(batch.operations.len());
    for (i, item) in batch.operations.into_iter().enumerate() {
        let Value::Object(object) = item else {
            let e = ApiError::validation(
                &format!("operations[{i}]"),
                format!("operations[{i}] must be an object"),
            );
            return Err(ApiError {
                index: Some(i),
                ..e
            });
        };
        ops.push(batch_item(object).map_err(|e| {
            let message = format!("operation {i}: {}", e.message);
            in_item(ApiError { message, ..e }, i)
        })?);
    }
    Ok(ops)
}

fn batch_item(mut object: Map<String, Value>) -> Result<StockOp, ApiError> {
    let product_id = match object.remove(ITEM_KEYS[0]) {
        Some(Value::String(s)) => Uuid::parse_str(&s)
            .map_err(|_| ApiError::validation("product_id", "product_id is not a UUID"))?,
        _ => {
            return Err(ApiError::validation(
                "product_id",
                "product_id must be a product id string",
            ));
        }
    };
    let kinds: Vec<&str> = OpKind::ALL.iter().map(|k| k.as_str()).collect();
    let kind = match object.remove(ITEM_KEYS[1]) {
        Some(Value::String(s)) => OpKind::parse(&s),
        _ => None,
    }
    .ok_or_else(|| ApiError::validation("op", format!("op must be one of {}", kinds.join(", "))))?;
    stock_op(kind, product_id, object)
}

/// A decoded query string: its (name, value) pairs, as sent. `params::read` types them.
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(raw: &str) -> Result<Query, ApiError> {
        let mut pairs = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((decode(k)?, decode(v)?));
        }
        Ok(Query(pairs))
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

/// Percent-decoding, with `+` as a space (form encoding, as browsers and curl send).
fn decode(s: &str) -> Result<String, ApiError> {
    percent_decode(s, true).ok_or_else(|| {
        ApiError::validation("query", "query string is not valid percent-encoded UTF-8")
    })
}

/// A path parameter (`/api/keys/{name}`), percent-decoded; `+` is itself in a path.
pub fn path_param(raw: &str, name: &str) -> Result<String, ApiError> {
    percent_decode(raw, false).ok_or_else(|| {
        ApiError::validation(name, format!("{name} is not valid percent-encoded UTF-8"))
    })
}

fn percent_decode(s: &str, plus_is_space: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' => {
                // Two hexadecimal digits, nothing else: `u8::from_str_radix` would also take a
                // sign, reading `%+1` as byte 1 (found by fuzz/query_path).
                let digit = |j: usize| bytes.get(j).and_then(|b| char::from(*b).to_digit(16));
                out.push((digit(i + 1)? * 16 + digit(i + 2)?) as u8);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use inventory::shape::{Field, FieldType};
    use inventory::{Expect, Expiry};

    #[test]
    fn price_from_number_or_string_keeps_scale() {
        let b: CreateProductBody =
            parse_body(br#"{"name":"L","sku":"S","price":1500.00}"#).unwrap();
        assert_eq!(b.price.0.to_string(), "1500.00");
        let b: CreateProductBody =
            parse_body(br#"{"name":"L","sku":"S","price":"19.99"}"#).unwrap();
        assert_eq!(b.price.0.to_string(), "19.99");
        let e =
            parse_body::<CreateProductBody>(br#"{"name":"L","sku":"S","price":true}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("price"));
        let e =
            parse_body::<CreateProductBody>(br#"{"name":"L","sku":"S","price":1e3}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("price"));
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse_body::<CreateProductBody>(br#"{"name":"L","price":1}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("sku"));
        let e = parse_body::<CreateProductBody>(br#"{"name":"L","sku":"S","price":1,"x":1}"#)
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("x"));
        let e = parse_body::<CreateProductBody>(
            br#"{"name":"L","sku":"S","price":1,"initial_quantity":"5"}"#,
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("initial_quantity"));
        assert!(e.message.contains("initial_quantity"), "{}", e.message);
        let e = parse_body::<CreateProductBody>(b"{").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("body"));
    }

    /// A value of the field's type, within its limits.
    fn sample(field: Field) -> Value {
        match field.value_type() {
            FieldType::Integer { min, .. } => Value::from(min),
            FieldType::Text { .. } => Value::from("Shelf 1"),
            FieldType::Instant => Value::from("2030-01-01T00:00:00Z"),
            FieldType::Flag => Value::from(true),
        }
    }

    #[test]
    fn every_field_of_the_table_is_accepted_and_read() {
        let id = Uuid::nil();
        for kind in OpKind::ALL {
            let empty = parse_stock(b"{}", kind, id).unwrap();
            for (field, _) in shape::shape(kind).fields {
                let body = serde_json::json!({ field.name(): sample(*field) }).to_string();
                let op = parse_stock(body.as_bytes(), kind, id)
                    .unwrap_or_else(|e| panic!("{kind:?} refuses {field:?}: {}", e.message));
                assert_ne!(op, empty, "{kind:?} ignores {field:?}");
            }
            // The whole table at once, less the second of each exclusive pair.
            let shape = shape::shape(kind);
            let all: Map<String, Value> = shape
                .fields
                .iter()
                .filter(|(f, _)| !shape.exclusive.iter().any(|(_, second)| second == f))
                .map(|(f, _)| (f.name().to_owned(), sample(*f)))
                .collect();
            let op = parse_stock(Value::Object(all).to_string().as_bytes(), kind, id).unwrap();
            assert_eq!((op.kind, op.product_id), (kind, id));
        }
    }

    #[test]
    fn fields_outside_the_table_are_refused_by_name() {
        let id = Uuid::nil();
        for kind in OpKind::ALL {
            for field in Field::ALL
                .into_iter()
                .filter(|f| !shape::shape(kind).takes(*f))
            {
                let body = serde_json::json!({ field.name(): sample(field) }).to_string();
                let e = parse_stock(body.as_bytes(), kind, id).unwrap_err();
                assert_eq!(e.field.as_deref(), Some(field.name()), "{kind:?}");
            }
        }
        let e = parse_stock(br#"{"quantity":1,"colour":"red"}"#, OpKind::Add, id).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("colour"));
    }

    #[test]
    fn values_are_read_by_type_and_pairs_exclude_each_other() {
        let id = Uuid::nil();
        let op = parse_stock(
            br#"{"quantity":2,"expires_in_seconds":5,"reference":null}"#,
            OpKind::Reserve,
            id,
        )
        .unwrap();
        assert_eq!(
            (op.quantity, op.expires, op.reference),
            (Some(2), Some(Expiry::In(5)), None)
        );
        for (body, field) in [
            (&br#"{"quantity":1.5}"#[..], "quantity"),
            (br#"{"quantity":"1"}"#, "quantity"),
            (br#"{"quantity":1,"notes":3}"#, "notes"),
            (br#"{"quantity":1,"expires_at":"tomorrow"}"#, "expires_at"),
        ] {
            let e = parse_stock(body, OpKind::Reserve, id).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field));
            assert!(e.message.contains(field), "{}", e.message);
        }
        let e = parse_stock(
            br#"{"quantity":1,"expires_in_seconds":5,"expires_at":"2030-01-01T00:00:00Z"}"#,
            OpKind::Reserve,
            id,
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("expires_at"));
        let e = parse_stock(
            br#"{"counted":1,"expected_available":1,"expected_quantity":1}"#,
            OpKind::Count,
            id,
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("expected_quantity"));
        // A count guarded by what the counter saw, and a transfer from the product's location.
        let op = parse_stock(br#"{"counted":3,"expected_quantity":2}"#, OpKind::Count, id).unwrap();
        assert_eq!(
            (op.quantity, op.expect),
            (Some(3), Some(Expect::Quantity(2)))
        );
        let op = parse_stock(br#"{"quantity":1,"to_location":"B"}"#, OpKind::Transfer, id).unwrap();
        assert_eq!((op.location, op.to_location), (None, Some("B".to_owned())));
    }

    #[test]
    fn batch_errors_carry_the_index() {
        let id = Uuid::nil();
        let body = format!(
            r#"{{"operations":[{{"product_id":"{id}","op":"add","quantity":1}},{{"product_id":"{id}","op":"reserve","quantity":"x"}}]}}"#
        );
        let e = parse_batch(body.as_bytes()).unwrap_err();
        assert_eq!(e.index, Some(1));
        assert_eq!(e.field.as_deref(), Some("operations[1].quantity"));
        for (item, field) in [
            (
                format!(r#"{{"product_id":"{id}","op":"fly"}}"#),
                "operations[0].op",
            ),
            (
                r#"{"op":"add","quantity":1}"#.to_owned(),
                "operations[0].product_id",
            ),
            (
                format!(r#"{{"product_id":"{id}","op":"add","counted":1}}"#),
                "operations[0].counted",
            ),
            ("[1]".to_owned(), "operations[0]"),
        ] {
            let e = parse_batch(format!(r#"{{"operations":[{item}]}}"#).as_bytes()).unwrap_err();
            assert_eq!(
                (e.field.as_deref(), e.index),
                (Some(field), Some(0)),
                "{item}"
            );
        }
        let body = format!(
            r#"{{"operations":[{{"product_id":"{id}","op":"count","counted":4,"expected_quantity":3}}]}}"#
        );
        let ops = parse_batch(body.as_bytes()).unwrap();
        assert_eq!(ops[0].expect, Some(Expect::Quantity(3)));
    }

    #[test]
    fn query_decoding() {
        let q = Query::parse("q=Gaming+L%61p&limit=5&low_stock").unwrap();
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(
            q.pairs(),
            [
                pair("q", "Gaming Lap"),
                pair("limit", "5"),
                pair("low_stock", "")
            ]
        );
        assert!(Query::parse("q=%zz").is_err());
        assert!(Query::parse("q=%ff").is_err());
    }

    /// fuzz/query_path found `%+1` decoded as byte 1: an escape is `%` and two hex digits.
    #[test]
    fn an_escape_is_two_hex_digits_without_a_sign() {
        for raw in ["%+1", "%+f", "a%-1", "%1", "%", "%+"] {
            assert!(Query::parse(&format!("q={raw}")).is_err(), "{raw}");
            assert!(path_param(raw, "name").is_err(), "{raw}");
        }
        assert_eq!(path_param("%2B%2b%41+", "name").unwrap(), "++A+");
        assert_eq!(Query::parse("q=%2B+").unwrap().pairs()[0].1, "+ ");
    }
}
