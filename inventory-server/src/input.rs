//! What the server reads: JSON bodies (unknown fields rejected, every error naming its field),
//! prices as exact decimals from a number or a string, and query strings.

use crate::errors::ApiError;
use chrono::{DateTime, Utc};
use inventory::{Expect, Expiry, NewProduct, OpKind, Price, ProductChanges, StockOp};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
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
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // "." is the top level; "?" a position serde could not name (a syntax error).
        let path = match e.path().to_string() {
            p if p == "?" => ".".to_owned(),
            p => p,
        };
        let inner = e.into_inner();
        let message = inner.to_string();
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
    })?;
    de.end()
        .map_err(|e| ApiError::validation("body", e.to_string()))?;
    Ok(value)
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

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateProductBody {
    pub name: String,
    pub sku: String,
    pub price: PriceInput,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub initial_quantity: Option<i64>,
    #[serde(default)]
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
        }
    }
}

/// A partial update: omitted fields stay; `"reorder_point": null` clears the reorder point.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateProductBody {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub price: Option<PriceInput>,
    #[serde(default, deserialize_with = "nullable")]
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationBody {
    pub name: String,
}

/// Every field any stock operation takes. Each route accepts the subset that its kind can
/// use (see `fields_for`); whether a combination makes sense is the engine's call.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockFields {
    #[serde(default)]
    pub quantity: Option<i64>,
    #[serde(default)]
    pub counted: Option<i64>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub from_location: Option<String>,
    #[serde(default)]
    pub to_location: Option<String>,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub expires_in_seconds: Option<i64>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub expected_available: Option<i64>,
    #[serde(default)]
    pub expected_quantity: Option<i64>,
    #[serde(default)]
    pub release_remainder: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    pub operations: Vec<serde_json::Value>,
}

/// The body fields a route accepts, by operation kind. Anything else is an unknown field.
pub fn fields_for(kind: OpKind) -> &'static [&'static str] {
    const CAS: [&str; 2] = ["expected_available", "expected_quantity"];
    match kind {
        OpKind::Add | OpKind::Remove => {
            &["quantity", "location", "reference", "notes", CAS[0], CAS[1]]
        }
        OpKind::Reserve => &[
            "quantity",
            "location",
            "reference",
            "notes",
            "expires_in_seconds",
            "expires_at",
            CAS[0],
            CAS[1],
        ],
        OpKind::Unreserve => &["quantity", "location", "reference", "notes", CAS[0], CAS[1]],
        OpKind::Commit => &[
            "quantity",
            "location",
            "reference",
            "notes",
            "release_remainder",
            CAS[0],
            CAS[1],
        ],
        OpKind::Transfer => &[
            "quantity",
            "from_location",
            "to_location",
            "reference",
            "notes",
            CAS[0],
            CAS[1],
        ],
        OpKind::Count => &["counted", "location", "reference", "notes", CAS[0], CAS[1]],
    }
}

/// Parses a stock body for `kind`, refusing fields that kind does not take.
pub fn parse_stock(body: &[u8], kind: OpKind) -> Result<StockFields, ApiError> {
    let object: serde_json::Map<String, serde_json::Value> = parse_body(body)?;
    stock_fields_from(object, kind, "")
}

fn stock_fields_from(
    object: serde_json::Map<String, serde_json::Value>,
    kind: OpKind,
    prefix: &str,
) -> Result<StockFields, ApiError> {
    let allowed = fields_for(kind);
    if let Some(key) = object.keys().find(|k| !allowed.contains(&k.as_str())) {
        let field = format!("{prefix}{key}");
        return Err(ApiError::validation(
            &field,
            format!(
                "unknown field `{field}` for a {} operation, expected one of {}",
                kind.as_str(),
                allowed.join(", ")
            ),
        ));
    }
    let text = serde_json::to_vec(&object).expect("a JSON map serializes");
    parse_body::<StockFields>(&text).map_err(|mut e| {
        if let Some(f) = &e.field {
            let named = format!("{prefix}{f}");
            e.message = e.message.replace(f.as_str(), &named);
            e.field = Some(named);
        }
        e
    })
}

impl StockFields {
    /// The engine operation. Translation only: which fields a kind needs, and their limits,
    /// are checked by the engine.
    pub fn into_op(self, kind: OpKind, product_id: Uuid) -> Result<StockOp, ApiError> {
        let expires = match (self.expires_in_seconds, self.expires_at) {
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(
                    "expires_at",
                    "give expires_in_seconds or expires_at, not both",
                ));
            }
            (Some(s), None) => Some(Expiry::In(s)),
            (None, Some(at)) => Some(Expiry::At(at)),
            (None, None) => None,
        };
        let expect = match (self.expected_available, self.expected_quantity) {
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(
                    "expected_quantity",
                    "give expected_available or expected_quantity, not both",
                ));
            }
            (Some(a), None) => Some(Expect::Available(a)),
            (None, Some(q)) => Some(Expect::Quantity(q)),
            (None, None) => None,
        };
        let quantity = match kind {
            OpKind::Count => Some(
                self.counted
                    .ok_or_else(|| ApiError::validation("counted", "missing field `counted`"))?,
            ),
            _ => self.quantity,
        };
        let location = match kind {
            OpKind::Transfer => Some(self.from_location.ok_or_else(|| {
                ApiError::validation("from_location", "missing field `from_location`")
            })?),
            _ => self.location,
        };
        let to_location = match kind {
            OpKind::Transfer => Some(self.to_location.ok_or_else(|| {
                ApiError::validation("to_location", "missing field `to_location`")
            })?),
            _ => None,
        };
        Ok(StockOp {
            kind,
            product_id,
            location,
            to_location,
            quantity,
            reference: self.reference,
            notes: self.notes,
            expires,
            release_remainder: self.release_remainder.unwrap_or(false),
            expect,
        })
    }
}

/// The operations of a batch body, each translated like the single-operation routes.
/// Errors name the item: `operations[2].quantity`.
pub fn parse_batch(body: &[u8]) -> Result<Vec<StockOp>, ApiError> {
    let batch: BatchBody = parse_body(body)?;
    let mut ops = Vec::with_capacity(batch.operations.len());
    for (i, item) in batch.operations.into_iter().enumerate() {
        let at = |e: ApiError| ApiError {
            index: Some(i),
            ..e
        };
        let prefix = format!("operations[{i}].");
        let serde_json::Value::Object(mut object) = item else {
            return Err(at(ApiError::validation(
                &format!("operations[{i}]"),
                format!("operations[{i}] must be an object"),
            )));
        };
        let product_id = match object.remove("product_id") {
            Some(serde_json::Value::String(s)) => Uuid::parse_str(&s).map_err(|_| {
                at(ApiError::validation(
                    &format!("{prefix}product_id"),
                    format!("{prefix}product_id is not a UUID"),
                ))
            })?,
            _ => {
                return Err(at(ApiError::validation(
                    &format!("{prefix}product_id"),
                    format!("{prefix}product_id must be a product id string"),
                )));
            }
        };
        let kind = match object.remove("op") {
            Some(serde_json::Value::String(s)) => OpKind::parse(&s),
            _ => None,
        }
        .ok_or_else(|| {
            at(ApiError::validation(
                &format!("{prefix}op"),
                format!(
                    "{prefix}op must be one of add, remove, reserve, unreserve, commit, transfer, count"
                ),
            ))
        })?;
        let fields = stock_fields_from(object, kind, &prefix).map_err(at)?;
        ops.push(fields.into_op(kind, product_id).map_err(|e| {
            let field = e.field.as_deref().map(|f| format!("{prefix}{f}"));
            at(ApiError { field, ..e })
        })?);
    }
    Ok(ops)
}

/// A decoded query string. Repeated keys keep their last value.
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

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.get(key)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| ApiError::validation(key, format!("{key} must be an integer")))
            })
            .transpose()
    }

    pub fn bool(&self, key: &str) -> Result<bool, ApiError> {
        match self.get(key) {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") | Some("") => Ok(true),
            Some(_) => Err(ApiError::validation(
                key,
                format!("{key} must be true or false"),
            )),
        }
    }
}

/// Percent-decoding, with `+` as a space (form encoding, as browsers and curl send).
fn decode(s: &str) -> Result<String, ApiError> {
    let bad = || ApiError::validation("query", "query string is not valid percent-encoded UTF-8");
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
                let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn stock_routes_refuse_fields_of_other_kinds() {
        let e = parse_stock(br#"{"quantity":1,"expires_in_seconds":5}"#, OpKind::Add).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("expires_in_seconds"));
        let f = parse_stock(br#"{"quantity":1,"expires_in_seconds":5}"#, OpKind::Reserve).unwrap();
        assert_eq!(f.expires_in_seconds, Some(5));
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
    }

    #[test]
    fn query_decoding() {
        let q = Query::parse("q=Gaming+L%61p&limit=5&low_stock=true").unwrap();
        assert_eq!(q.get("q"), Some("Gaming Lap"));
        assert_eq!(q.int("limit").unwrap(), Some(5));
        assert!(q.bool("low_stock").unwrap());
        assert!(Query::parse("q=%zz").is_err());
    }
}
