//! The path and query parameters of each route, as types: a handler reads its parameters as
//! one struct (`Req::path`, `Req::query`), never by string name, and the OpenAPI document lists
//! them from the same types (`routes.rs` names them). Limits are the engine's constants.

use crate::errors::ApiError;
use crate::input::named;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// Text without NUL that is not blank: the engine trims names and refuses empty ones.
pub const NON_BLANK: &str = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$";

/// Reads decoded (name, value) pairs into `T`; of a repeated name the last value counts. A
/// value of the wrong type or a missing required parameter is a 400 naming it.
pub fn read<T: DeserializeOwned>(pairs: &[(String, String)]) -> Result<T, ApiError> {
    let mut last: Vec<(&str, &str)> = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        match last.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = value,
            None => last.push((name, value)),
        }
    }
    // serde_urlencoded reads from the encoded form only; the pairs were decoded (strictly) first.
    let encoded = serde_urlencoded::to_string(&last).expect("pairs of strings encode");
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(encoded.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(named)
}

/// A query flag: `true`, `1` or the bare name turn it on; `false` or `0` off.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match String::deserialize(d)?.as_str() {
        "true" | "1" | "" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(serde::de::Error::custom("must be true or false")),
    }
}

/// `{id}` of a product's routes.
#[derive(Deserialize, JsonSchema)]
pub struct ProductPath {
    /// Product id (a UUID); anything else is an unknown product (404).
    pub id: String,
}

/// `{name}` of a key's route.
#[derive(Deserialize, JsonSchema)]
pub struct KeyPath {
    /// The key's name, percent-encoded.
    #[schemars(length(min = 1))]
    pub name: String,
}

/// `{id}` of a webhook's routes.
#[derive(Deserialize, JsonSchema)]
pub struct WebhookPath {
    /// The subscription's id (a UUID); anything else is an unknown subscription (404).
    pub id: String,
}

/// GET /api/webhooks/{id}/deliveries.
#[derive(Deserialize, JsonSchema)]
pub struct DeliveriesQuery {
    /// Only the attempts whose request carried this event (its `seq`).
    #[schemars(range(min = 1))]
    pub event: Option<i64>,
    /// Page size, newest first.
    #[schemars(range(min = 1, max = inventory::webhooks::MAX_DELIVERIES_PAGE), extend("default" = inventory::DEFAULT_PAGE))]
    pub limit: Option<i64>,
}

/// `{id}` of a till's routes.
#[derive(Deserialize, JsonSchema)]
pub struct TillPath {
    /// The till's id, percent-encoded.
    #[schemars(length(min = 1))]
    pub id: String,
}

/// `{file}` of a dashboard asset.
#[derive(Deserialize, JsonSchema)]
pub struct FilePath {
    /// The asset's file name.
    pub file: String,
}

/// GET /api/products.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ProductListQuery {
    /// Only products whose available total is at or below their reorder point.
    #[serde(default, deserialize_with = "flag")]
    pub low_stock: bool,
    /// SKU prefix (exact) or name prefix (ASCII case-insensitive).
    #[schemars(length(min = 1, max = inventory::MAX_NAME), regex(pattern = NON_BLANK))]
    pub q: Option<String>,
    /// Page size.
    #[schemars(range(min = 1, max = inventory::MAX_PAGE), extend("default" = inventory::DEFAULT_PAGE))]
    pub limit: Option<i64>,
    /// Rows to skip.
    #[schemars(range(min = 0), extend("default" = 0))]
    pub offset: Option<i64>,
}

/// GET /api/products/{id}/inventory.
#[derive(Deserialize, JsonSchema)]
pub struct InventoryQuery {
    /// One location's level.
    pub location: Option<String>,
}

/// GET /api/products/{id}/transactions.
#[derive(Deserialize, JsonSchema)]
pub struct MovementQuery {
    /// Page size.
    #[schemars(range(min = 1, max = inventory::MAX_PAGE), extend("default" = inventory::DEFAULT_PAGE))]
    pub limit: Option<i64>,
    /// Rows to skip.
    #[schemars(range(min = 0), extend("default" = 0))]
    pub offset: Option<i64>,
    /// Only movements at this location.
    pub location: Option<String>,
    /// Only movements with a larger seq.
    #[schemars(range(min = 0), extend("default" = 0))]
    pub after: Option<i64>,
    /// Only movements with a smaller seq (cursor paging).
    #[schemars(extend("default" = i64::MAX))]
    pub before: Option<i64>,
}

/// GET /api/reservations.
#[derive(Deserialize, JsonSchema)]
pub struct ReferenceQuery {
    /// The reference the reservations are held under.
    #[schemars(length(min = 1))]
    pub reference: String,
}

/// GET /api/reservations/expiring.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ExpiringQuery {
    /// Seconds from now: reservations lapsing before then.
    #[schemars(range(min = 1, max = inventory::MAX_EXPIRY_SECONDS))]
    pub within: i64,
    /// Page size.
    #[schemars(range(min = 1, max = inventory::MAX_PAGE), extend("default" = inventory::DEFAULT_PAGE))]
    pub limit: Option<i64>,
}

/// GET /api/events (a JSON page; the event stream reads `after` too).
#[derive(Deserialize, JsonSchema)]
pub struct EventsQuery {
    /// Sequence number to start after.
    #[schemars(range(min = 0), extend("default" = 0))]
    pub after: Option<i64>,
    /// Page size (JSON pages only).
    #[schemars(range(min = 1, max = inventory::MAX_CHANGES_PAGE), extend("default" = inventory::DEFAULT_CHANGES_PAGE))]
    pub limit: Option<i64>,
}

/// GET /api/catalogue.
#[derive(Deserialize, JsonSchema)]
pub struct CatalogueQuery {
    /// Catalogue revision to start after (0: the whole catalogue).
    #[schemars(range(min = 0), extend("default" = 0))]
    pub after: Option<i64>,
    /// Page size.
    #[schemars(range(min = 1, max = inventory::MAX_CHANGES_PAGE), extend("default" = inventory::DEFAULT_CHANGES_PAGE))]
    pub limit: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(raw: &[(&str, &str)]) -> Vec<(String, String)> {
        raw.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parameters_are_read_by_type_and_the_last_value_counts() {
        let q: ProductListQuery = read(&pairs(&[
            ("q", "Gaming Lap"),
            ("limit", "5"),
            ("limit", "7"),
            ("low_stock", ""),
        ]))
        .unwrap();
        assert_eq!(
            (q.q.as_deref(), q.limit, q.low_stock),
            (Some("Gaming Lap"), Some(7), true)
        );
        let q: ProductListQuery = read(&pairs(&[("low_stock", "0"), ("other", "x")])).unwrap();
        assert!(!q.low_stock);
        for (name, value) in [("limit", "abc"), ("low_stock", "maybe"), ("offset", "1.5")] {
            let e = read::<ProductListQuery>(&pairs(&[(name, value)])).unwrap_err();
            assert_eq!(
                (e.status, e.field.as_deref()),
                (400, Some(name)),
                "{name}={value}"
            );
            assert!(e.message.contains(name), "{}", e.message);
        }
    }

    #[test]
    fn a_missing_required_parameter_is_named() {
        let e = read::<ExpiringQuery>(&pairs(&[("limit", "3")])).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("within"));
        let q: ExpiringQuery = read(&pairs(&[("within", "60")])).unwrap();
        assert_eq!((q.within, q.limit), (60, None));
    }
}
