//! What the till sends central, built from typed values through one serializer each: a stock
//! operation is the engine's own [`StockOp`], written under the names of the engine's field
//! table ([`Field::name`](inventory::shape::Field::name)) and kind ([`OpKind::as_str`](inventory::OpKind::as_str)), so no
//! field name is spelled here; a till's check-in and conflict report are serde structs, which
//! central reads with unknown fields refused.

use inventory::StockOp;
use serde::Serialize;
use serde_json::{Map, Value};

/// The keys a batch item has beside its operation's fields: the server's own (its
/// `input::ITEM_KEYS`), checked by the server's tests and by central refusing anything else.
const ITEM_PRODUCT: &str = "product_id";
const ITEM_KIND: &str = "op";

/// The body of `POST /api/products/{id}/stock/{kind}`: every field the operation sets, as the
/// engine lists it ([`StockOp::fields`]) under the engine's name for it.
pub(crate) fn body(op: &StockOp) -> Value {
    let fields: Map<String, Value> = op
        .fields()
        .into_iter()
        .map(|(field, value)| (field.name().to_owned(), value.to_json()))
        .collect();
    Value::Object(fields)
}

/// The same operation as an item of `POST /api/stock/batch`.
pub(crate) fn item(op: &StockOp) -> Value {
    let mut value = body(op);
    if let Value::Object(fields) = &mut value {
        fields.insert(ITEM_PRODUCT.to_owned(), op.product_id.to_string().into());
        fields.insert(ITEM_KIND.to_owned(), op.kind.as_str().into());
    }
    value
}

/// The body of `POST /api/stock/batch`.
#[derive(Debug, Serialize)]
pub(crate) struct Batch {
    pub operations: Vec<Value>,
}

/// The body of `POST /api/tills/{id}/check-in`.
#[derive(Debug, Serialize)]
pub(crate) struct CheckIn<'a> {
    pub instance_id: &'a str,
    pub location: &'a str,
    pub token: Option<&'a str>,
    pub next_token: &'a str,
    pub seen: Option<inventory::SeenPoint>,
}

/// The body of `POST /api/tills/conflicts`.
#[derive(Debug, Serialize)]
pub(crate) struct ConflictReport<'a> {
    pub reference: &'a str,
    pub code: &'a str,
}

/// Central's answer to a check-in (the engine's `CheckIn`, as far as the till reads it).
#[derive(Debug, serde::Deserialize)]
pub(crate) struct CheckedIn {
    pub till: Registration,
    pub database: Database,
    pub high_water: i64,
    pub point: Option<inventory::LedgerPoint>,
    pub seen_held: Option<bool>,
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct Registration {
    pub last_sync_at: inventory::DateTime<inventory::Utc>,
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct Database {
    pub id: String,
    pub generation: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use inventory::shape::{self, Field};
    use inventory::{DateTime, Expect, Expiry, Utc, Uuid};

    /// Every name an operation's body can carry is one the engine's table states, and each
    /// field of a full operation is written once, under its own name.
    #[test]
    fn an_operations_body_uses_only_the_engines_field_names() {
        let p = Uuid::now_v7();
        let at: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let ops = [
            StockOp::commit(p, "sale:t:1")
                .from_reservation("till:t")
                .at("Shop")
                .notes("n")
                .quantity(Some(2))
                .release_remainder(true),
            StockOp::reserve(p, 3)
                .at("Shop")
                .reference("till:t")
                .expires(Expiry::In(60))
                .expect(Expect::Available(5)),
            StockOp::renew(p, "till:t", Expiry::At(at)).at("Shop"),
            StockOp::count(p, "Shop", 4).expect(Expect::Quantity(6)),
            StockOp::transfer(p, "A", "B", 1),
        ];
        let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
        for op in &ops {
            let body = body(op);
            for key in body.as_object().unwrap().keys() {
                assert!(names.contains(&key.as_str()), "{key} is not the engine's");
                let field = Field::parse(key).unwrap();
                assert!(
                    shape::shape(op.kind).takes(field),
                    "{key} for {:?}",
                    op.kind
                );
            }
        }
        let count = body(&ops[3]);
        assert_eq!(count[Field::Counted.name()], 4);
        assert_eq!(count[Field::ExpectedQuantity.name()], 6);
        let commit = item(&ops[0]);
        assert_eq!(commit[Field::Reservation.name()], "till:t");
        assert_eq!(commit[Field::Reference.name()], "sale:t:1");
        assert_eq!(commit[ITEM_KIND], "commit");
        assert_eq!(commit[ITEM_PRODUCT], p.to_string());
        assert_eq!(body(&ops[2])[Field::ExpiresAt.name()], at.to_rfc3339());
    }
}
