//! The OpenAPI 3 document served at /openapi.json. It is written out here, beside the route
//! table, and a test below requires that both list exactly the same paths and methods; the
//! schemas are checked against real responses by the black-box suite (schemathesis).

use serde_json::{Value, json};
use std::sync::OnceLock;

pub fn document_bytes() -> &'static [u8] {
    static DOC: OnceLock<Vec<u8>> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_vec(&document()).expect("the document serializes"))
}

/// Header values are printable ASCII: tiny_http closes a connection whose request headers
/// hold other bytes, without an answer.
const ASCII: &str = "^[ -~]*$";

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The success envelope around `data`.
fn ok(description: &str, data: Value) -> Value {
    json!({
        "description": description,
        "headers": { "X-Request-ID": { "$ref": "#/components/headers/RequestId" } },
        "content": { "application/json": { "schema": {
            "type": "object",
            "required": ["data", "message", "timestamp"],
            "properties": {
                "data": data,
                "message": { "type": "string" },
                "timestamp": { "type": "string", "format": "date-time" }
            }
        } } }
    })
}

fn err(description: &str) -> Value {
    json!({
        "description": description,
        "headers": { "X-Request-ID": { "$ref": "#/components/headers/RequestId" } },
        "content": { "application/json": { "schema": r("Error") } }
    })
}

/// Responses every operation can give, plus its own.
fn responses(mut own: Vec<(&str, Value)>, errors: &[&str]) -> Value {
    let mut map = serde_json::Map::new();
    for code in errors {
        let text = match *code {
            "400" => {
                "malformed JSON, a wrong type, a failed validation or an unknown field; `field` names it"
            }
            "404" => "unknown product (or route)",
            "409" => {
                "insufficient stock or reserved quantity, duplicate SKU, stale expected value, or an Idempotency-Key reused for a different request"
            }
            "412" => "If-Match names a version that is no longer current",
            "413" => "request body too large",
            "503" => "unavailable",
            _ => "error",
        };
        map.insert((*code).to_owned(), err(text));
    }
    map.insert(
        "500".into(),
        err("server fault, logged with the request id"),
    );
    for (code, value) in own.drain(..) {
        map.insert(code.to_owned(), value);
    }
    Value::Object(map)
}

fn id_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true,
            "description": "Product id (a UUID); anything else is an unknown product (404).",
            "schema": { "type": "string" } })
}

fn query(name: &str, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "schema": schema, "description": description })
}

fn write_headers() -> Value {
    json!({ "$ref": "#/components/parameters/IdempotencyKey" })
}

fn body(schema: Value) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

fn page_params() -> Vec<Value> {
    vec![
        query(
            "limit",
            json!({ "type": "integer", "minimum": 1, "maximum": inventory::MAX_PAGE, "default": inventory::DEFAULT_PAGE }),
            "page size",
        ),
        query(
            "offset",
            json!({ "type": "integer", "minimum": 0, "default": 0 }),
            "rows to skip",
        ),
    ]
}

fn stock_op(summary: &str, request: &str, data: Value) -> Value {
    json!({ "post": {
        "summary": summary,
        "parameters": [id_param(), write_headers()],
        "requestBody": body(r(request)),
        "responses": responses(vec![("200", ok("the stock after the operation", data))], &["400", "404", "409", "413"])
    } })
}

fn nullable(t: &str) -> Value {
    json!({ "type": t, "nullable": true })
}

fn schemas() -> Value {
    let ts = json!({ "type": "string", "format": "date-time" });
    let uuid = json!({ "type": "string", "format": "uuid" });
    let int = json!({ "type": "integer" });
    let level_props = json!({
        "id": uuid, "product_id": uuid, "location": { "type": "string" },
        "quantity": { "type": "integer", "description": "on hand (the seed's name)" },
        "on_hand": int, "reserved": int, "available": int,
        "created_at": ts, "updated_at": ts
    });
    let mut summary_props = level_props.clone();
    summary_props["locations"] = json!({ "type": "array", "items": r("StockLevel") });
    let level_required = json!([
        "id",
        "product_id",
        "location",
        "quantity",
        "on_hand",
        "reserved",
        "available",
        "created_at",
        "updated_at"
    ]);
    let mut summary_required = level_required.clone();
    summary_required
        .as_array_mut()
        .unwrap()
        .push(json!("locations"));
    let cas = json!({
        "expected_available": { "type": "integer", "description": "compare-and-set: fail with 409 unless available at the target location equals this" },
        "expected_quantity": { "type": "integer", "description": "compare-and-set on on-hand quantity" }
    });
    let common = |extra: Value| {
        let mut props = json!({
            "location": { "type": "string", "description": "default: the product's own location" },
            "reference": { "type": "string" },
            "notes": { "type": "string" }
        });
        for (k, v) in cas
            .as_object()
            .unwrap()
            .iter()
            .chain(extra.as_object().unwrap())
        {
            props[k] = v.clone();
        }
        props
    };
    let quantity = json!({ "type": "integer", "minimum": 1 });
    json!({
        "Error": {
            "type": "object",
            "required": ["error", "message", "code", "timestamp"],
            "properties": {
                "error": { "type": "string", "enum": [
                    "NOT_FOUND", "VALIDATION_ERROR", "INSUFFICIENT_STOCK", "INSUFFICIENT_RESERVED",
                    "DUPLICATE_SKU", "CONFLICT", "STORAGE_ERROR", "METHOD_NOT_ALLOWED",
                    "PAYLOAD_TOO_LARGE", "REQUEST_TIMEOUT", "SERVICE_UNAVAILABLE", "INTERNAL_ERROR"] },
                "message": { "type": "string" },
                "code": { "type": "integer", "description": "the HTTP status" },
                "timestamp": ts,
                "field": { "type": "string", "description": "the offending input field, when known" },
                "index": { "type": "integer", "description": "the failing operation of a batch" }
            }
        },
        "Product": {
            "type": "object",
            "required": ["id", "name", "description", "sku", "price", "location", "reorder_point", "version", "created_at", "updated_at"],
            "properties": {
                "id": uuid, "name": { "type": "string" }, "description": { "type": "string" },
                "sku": { "type": "string" },
                "price": { "type": "number", "description": "exact decimal, written with its scale (1500.00)" },
                "location": { "type": "string", "description": "the product's own location" },
                "reorder_point": nullable("integer"),
                "version": { "type": "integer", "description": "also sent as the ETag" },
                "created_at": ts, "updated_at": ts
            }
        },
        "StockLevel": { "type": "object", "required": level_required, "properties": level_props },
        "Inventory": {
            "type": "object", "required": summary_required, "properties": summary_props,
            "description": "totals over every location; `location` is the product's own"
        },
        "ProductWithStock": {
            "type": "object", "required": ["product", "inventory"],
            "properties": { "product": r("Product"), "inventory": r("Inventory") }
        },
        "Transaction": {
            "type": "object",
            "required": ["id", "seq", "inventory_id", "product_id", "location", "type", "quantity", "on_hand_after", "quantity_after", "reserved_after", "reference", "notes", "transfer_id", "created_at"],
            "properties": {
                "id": uuid, "seq": int, "inventory_id": uuid, "product_id": uuid,
                "location": { "type": "string" },
                "type": { "type": "string", "enum": ["IN", "OUT", "RESERVE", "UNRESERVE", "COMMIT", "EXPIRE", "TRANSFER_OUT", "TRANSFER_IN", "ADJUST"] },
                "quantity": int, "on_hand_after": int, "quantity_after": int, "reserved_after": int,
                "reference": nullable("string"), "notes": nullable("string"),
                "transfer_id": { "type": "string", "format": "uuid", "nullable": true },
                "created_at": ts
            }
        },
        "Location": {
            "type": "object",
            "required": ["name", "on_hand", "reserved", "available", "products", "created_at"],
            "properties": {
                "name": { "type": "string" }, "on_hand": int, "reserved": int, "available": int,
                "products": int, "created_at": ts
            }
        },
        "Reservation": {
            "type": "object",
            "required": ["id", "product_id", "location", "reference", "quantity", "expires_at", "created_at", "updated_at"],
            "properties": {
                "id": uuid, "product_id": uuid, "location": { "type": "string" },
                "reference": { "type": "string" }, "quantity": int,
                "expires_at": { "type": "string", "format": "date-time", "nullable": true },
                "created_at": ts, "updated_at": ts
            }
        },
        "EventPage": {
            "type": "object", "required": ["movements", "next_after"],
            "properties": {
                "movements": { "type": "array", "items": r("Transaction") },
                "next_after": { "type": "integer", "description": "pass as `after` for the next page" }
            }
        },
        "Transfer": {
            "type": "object", "required": ["from", "to"],
            "properties": { "from": r("StockLevel"), "to": r("StockLevel") }
        },
        "BatchResult": {
            "type": "object", "required": ["results"],
            "properties": { "results": { "type": "array", "items": { "type": "array", "items": r("StockLevel") } } }
        },
        "PriceInput": {
            "description": "a decimal as a JSON number (scale kept) or a string; >= 0, at most 4 decimal places",
            "anyOf": [{ "type": "number", "minimum": 0 }, { "type": "string" }]
        },
        "NewProduct": {
            "type": "object", "additionalProperties": false,
            "required": ["name", "sku", "price"],
            "properties": {
                "name": { "type": "string" }, "description": { "type": "string" },
                "sku": { "type": "string" }, "price": r("PriceInput"),
                "location": { "type": "string" },
                "initial_quantity": { "type": "integer", "minimum": 0 },
                "reorder_point": { "type": "integer", "minimum": 0, "nullable": true }
            }
        },
        "ProductChanges": {
            "type": "object", "additionalProperties": false,
            "description": "a partial update: omitted fields stay as they are; reorder_point null clears it",
            "properties": {
                "name": { "type": "string" }, "description": { "type": "string" },
                "price": r("PriceInput"),
                "reorder_point": { "type": "integer", "minimum": 0, "nullable": true }
            }
        },
        "NewLocation": {
            "type": "object", "additionalProperties": false, "required": ["name"],
            "properties": { "name": { "type": "string" } }
        },
        "StockChange": {
            "type": "object", "additionalProperties": false, "required": ["quantity"],
            "properties": common(json!({ "quantity": quantity }))
        },
        "Reserve": {
            "type": "object", "additionalProperties": false, "required": ["quantity"],
            "properties": common(json!({
                "quantity": quantity,
                "expires_in_seconds": { "type": "integer", "minimum": 1 },
                "expires_at": ts
            }))
        },
        "Unreserve": {
            "type": "object", "additionalProperties": false,
            "description": "with a reference: releases that reservation (all of it when quantity is omitted); without: unreferenced reserved quantity",
            "properties": common(json!({ "quantity": quantity }))
        },
        "Commit": {
            "type": "object", "additionalProperties": false, "required": ["reference"],
            "properties": common(json!({
                "quantity": { "type": "integer", "minimum": 1, "description": "default: the whole reservation" },
                "release_remainder": { "type": "boolean" }
            }))
        },
        "TransferRequest": {
            "type": "object", "additionalProperties": false,
            "required": ["from_location", "to_location", "quantity"],
            "properties": {
                "from_location": { "type": "string" }, "to_location": { "type": "string" },
                "quantity": quantity, "reference": { "type": "string" }, "notes": { "type": "string" },
                "expected_available": cas["expected_available"], "expected_quantity": cas["expected_quantity"]
            }
        },
        "Count": {
            "type": "object", "additionalProperties": false, "required": ["counted"],
            "properties": common(json!({ "counted": { "type": "integer", "minimum": 0 } }))
        },
        "Batch": {
            "type": "object", "additionalProperties": false, "required": ["operations"],
            "properties": { "operations": { "type": "array", "items": {
                "type": "object", "required": ["product_id", "op"],
                "description": "the fields of the single-operation route of the same kind, plus product_id and op",
                "properties": {
                    "product_id": uuid,
                    "op": { "type": "string", "enum": ["add", "remove", "reserve", "unreserve", "commit", "transfer", "count"] },
                    "quantity": int, "counted": int, "location": { "type": "string" },
                    "from_location": { "type": "string" }, "to_location": { "type": "string" },
                    "reference": { "type": "string" }, "notes": { "type": "string" },
                    "expires_in_seconds": int, "expires_at": ts, "release_remainder": { "type": "boolean" },
                    "expected_available": int, "expected_quantity": int
                }
            } } }
        }
    })
}

pub fn document() -> Value {
    let list = |item: &str| json!({ "type": "array", "items": r(item) });
    let mut product_params = vec![
        query(
            "low_stock",
            json!({ "type": "boolean" }),
            "only products whose available total is at or below their reorder point",
        ),
        query(
            "q",
            json!({ "type": "string", "minLength": 1 }),
            "SKU prefix (exact) or name prefix (ASCII case-insensitive)",
        ),
    ];
    product_params.extend(page_params());
    let mut tx_params = vec![id_param()];
    tx_params.extend(page_params());
    tx_params.push(query(
        "location",
        json!({ "type": "string" }),
        "only movements at this location",
    ));
    tx_params.push(query(
        "after",
        json!({ "type": "integer", "minimum": 0 }),
        "only movements with a larger seq",
    ));
    tx_params.push(query(
        "before",
        json!({ "type": "integer" }),
        "only movements with a smaller seq (cursor paging)",
    ));
    let if_match = json!({ "$ref": "#/components/parameters/IfMatch" });
    let etag = json!({ "ETag": { "description": "the product version, quoted", "schema": { "type": "string" } } });
    let with_etag = |mut v: Value| {
        v["headers"]["ETag"] = etag["ETag"].clone();
        v
    };
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "inventory-server",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Products, stock per location and an audit ledger. Every response uses the envelope {data, message, timestamp} or {error, message, code, timestamp}. Every POST, PUT and DELETE takes an Idempotency-Key header: a repeat with the same key and request returns the first status and body with `Idempotent-Replayed: true`; the same key with a different request is 409 CONFLICT. Keys are kept 24 hours."
        },
        "paths": {
            "/health": { "get": {
                "summary": "200 when the database answers, 503 when it does not",
                "responses": responses(vec![("200", ok("healthy", json!({ "type": "object", "required": ["status"], "properties": { "status": { "type": "string" }, "database": { "type": "string" } } })))], &["503"])
            } },
            "/openapi.json": { "get": {
                "summary": "this document",
                "responses": { "200": { "description": "OpenAPI 3 document", "content": { "application/json": { "schema": { "type": "object" } } } } }
            } },
            "/api/products": {
                "get": {
                    "summary": "list products in creation order",
                    "parameters": product_params,
                    "responses": responses(vec![("200", ok("a page of products, [] when empty", list("Product")))], &["400"])
                },
                "post": {
                    "summary": "create a product with its initial stock",
                    "parameters": [write_headers()],
                    "requestBody": body(r("NewProduct")),
                    "responses": responses(vec![("201", with_etag(ok("created", r("ProductWithStock"))))], &["400", "409", "413"])
                }
            },
            "/api/products/{id}": {
                "get": {
                    "summary": "a product with its inventory",
                    "parameters": [id_param()],
                    "responses": responses(vec![("200", with_etag(ok("the product", r("ProductWithStock"))))], &["404"])
                },
                "put": {
                    "summary": "partial update; If-Match makes it a compare-and-set",
                    "parameters": [id_param(), if_match.clone(), write_headers()],
                    "requestBody": body(r("ProductChanges")),
                    "responses": responses(vec![("200", with_etag(ok("the updated product", r("Product"))))], &["400", "404", "409", "412", "413"])
                },
                "delete": {
                    "summary": "archive a product (its ledger is kept); If-Match makes it conditional",
                    "parameters": [id_param(), if_match, write_headers()],
                    "responses": responses(vec![("200", ok("deleted", json!({ "type": "object", "required": ["id"], "properties": { "id": uuid_schema() } })))], &["400", "404", "409", "412"])
                }
            },
            "/api/products/{id}/inventory": { "get": {
                "summary": "stock totals over every location, or with ?location= one level",
                "parameters": [id_param(), query("location", json!({ "type": "string" }), "one location's level")],
                "responses": responses(vec![("200", ok("the stock", json!({ "anyOf": [r("Inventory"), r("StockLevel")] })))], &["400", "404"])
            } },
            "/api/products/{id}/transactions": { "get": {
                "summary": "the product's movements, newest first",
                "parameters": tx_params,
                "responses": responses(vec![("200", ok("movements, [] when none", list("Transaction")))], &["400", "404"])
            } },
            "/api/products/{id}/reservations": { "get": {
                "summary": "open reservations of a product",
                "parameters": [id_param()],
                "responses": responses(vec![("200", ok("reservations", list("Reservation")))], &["404"])
            } },
            "/api/products/{id}/stock/add": stock_op("receive stock", "StockChange", r("StockLevel")),
            "/api/products/{id}/stock/remove": stock_op("remove stock (never below reserved)", "StockChange", r("StockLevel")),
            "/api/products/{id}/stock/reserve": stock_op("reserve stock, optionally expiring", "Reserve", r("StockLevel")),
            "/api/products/{id}/stock/unreserve": stock_op("release reserved stock", "Unreserve", r("StockLevel")),
            "/api/products/{id}/stock/commit": stock_op("fulfil a reservation: on hand and reserved both drop", "Commit", r("StockLevel")),
            "/api/products/{id}/stock/transfer": stock_op("move stock between two locations atomically", "TransferRequest", r("Transfer")),
            "/api/products/{id}/stock/count": stock_op("set on hand at a location to a physical count", "Count", r("StockLevel")),
            "/api/stock/batch": { "post": {
                "summary": "apply stock operations all or nothing; a failure names the operation's index",
                "parameters": [write_headers()],
                "requestBody": body(r("Batch")),
                "responses": responses(vec![("200", ok("every operation's levels, in order", r("BatchResult")))], &["400", "404", "409", "413"])
            } },
            "/api/locations": {
                "get": {
                    "summary": "locations with their totals",
                    "responses": responses(vec![("200", ok("locations", list("Location")))], &[])
                },
                "post": {
                    "summary": "create a location",
                    "parameters": [write_headers()],
                    "requestBody": body(r("NewLocation")),
                    "responses": responses(vec![("201", ok("created", r("Location")))], &["400", "409", "413"])
                }
            },
            "/api/reservations": { "get": {
                "summary": "open reservations held under a reference, across products",
                "parameters": [{ "name": "reference", "in": "query", "required": true, "schema": { "type": "string" } }],
                "responses": responses(vec![("200", ok("reservations", list("Reservation")))], &["400"])
            } },
            "/api/events": { "get": {
                "summary": "the change feed: movements after a sequence number, oldest first. With Accept: text/event-stream, Server-Sent Events (id: = seq; resume with Last-Event-ID); 503 when the subscriber cap is reached",
                "parameters": [
                    query("after", json!({ "type": "integer", "minimum": 0, "default": 0 }), "sequence number to start after"),
                    query("limit", json!({ "type": "integer", "minimum": 1, "maximum": inventory::MAX_CHANGES_PAGE, "default": inventory::DEFAULT_CHANGES_PAGE }), "page size")
                ],
                "responses": responses(vec![("200", {
                    let mut v = ok("a page of movements and the next cursor", r("EventPage"));
                    v["content"]["text/event-stream"] = json!({ "schema": { "type": "string" } });
                    v
                })], &["400", "503"])
            } }
        },
        "components": {
            "schemas": schemas(),
            "headers": {
                "RequestId": { "description": "the request's X-Request-ID, or one the server made", "schema": { "type": "string" } }
            },
            "parameters": {
                "IdempotencyKey": { "name": "Idempotency-Key", "in": "header", "required": false,
                    "description": "apply this write once; repeats return the first response (kept 24 h).",
                    "schema": { "type": "string", "maxLength": inventory::MAX_IDEMPOTENCY_KEY, "pattern": ASCII } },
                "IfMatch": { "name": "If-Match", "in": "header", "required": false,
                    "description": "the ETag of the version this change expects; 412 when stale",
                    "schema": { "type": "string", "pattern": ASCII } }
            }
        }
    })
}

fn uuid_schema() -> Value {
    json!({ "type": "string", "format": "uuid" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::ROUTES;
    use std::collections::BTreeSet;

    #[test]
    fn document_lists_exactly_the_routes() {
        let doc = document();
        let documented: BTreeSet<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, ops)| {
                ops.as_object()
                    .unwrap()
                    .keys()
                    .map(move |m| (path.clone(), m.to_uppercase()))
            })
            .collect();
        let served: BTreeSet<(String, String)> = ROUTES
            .iter()
            .flat_map(|r| {
                r.methods
                    .iter()
                    .map(|(m, _)| (r.path.to_owned(), (*m).to_owned()))
            })
            .collect();
        assert_eq!(documented, served);
    }

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        for piece in text.split("\"$ref\":\"#/components/").skip(1) {
            let target = &piece[..piece.find('"').unwrap()];
            let mut node = &doc["components"];
            for part in target.split('/') {
                node = &node[part];
            }
            assert!(!node.is_null(), "dangling $ref {target}");
        }
    }
}
