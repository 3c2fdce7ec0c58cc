//! The OpenAPI 3 document served at /openapi.json.
//!
//! What is stated elsewhere is generated from there: the stock-operation bodies and the batch
//! items from the engine's table (`inventory::shape`), with the limits of each field; the error
//! and movement-type enums from `ErrorCode::ALL` and `MovementKind::ALL`; page sizes, the price
//! limit, string lengths and the idempotency window from the engine's constants. The rest (the
//! routes' descriptions, the response objects of `json.rs`) is written here, and the tests below
//! hold it to the router, to the table and to what `json.rs` really writes.

use crate::auth::{Access, needed};
use crate::errors::SERVER_CODES;
use crate::input::ITEM_KEYS;
use inventory::shape::{self, Field, FieldType, Presence, Shape};
use inventory::{Decimal, ErrorCode, MovementKind, OpKind};
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

pub fn document_bytes() -> &'static [u8] {
    static DOC: OnceLock<Vec<u8>> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_vec(&document()).expect("the document serializes"))
}

/// Header values are printable ASCII (tiny_http closes a connection whose request headers hold
/// other bytes, without an answer), and not blank (HTTP trims the spaces around a value).
const ASCII_TOKEN: &str = "^[ -~]*[!-~][ -~]*$";
/// What If-Match takes: `*`, or an ETag the server sent (`"3"`, `W/"3"`, or a bare version).
const ETAG: &str = "^ *(\\*|(W/)?\"[0-9]{1,18}\"|[0-9]{1,18}) *$";
/// Text without NUL characters (the engine refuses them in every string).
const NO_NUL: &str = "^[^\\u0000]*$";
/// Text without NUL that is not blank: the engine trims names and refuses empty ones.
const NON_BLANK: &str = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$";

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn text(max: usize, non_empty: bool) -> Value {
    if non_empty {
        json!({ "type": "string", "minLength": 1, "maxLength": max, "pattern": NON_BLANK })
    } else {
        json!({ "type": "string", "maxLength": max, "pattern": NO_NUL })
    }
}

fn quantity(min: i64) -> Value {
    json!({ "type": "integer", "format": "int64", "minimum": min, "maximum": inventory::MAX_QUANTITY })
}

fn nullable_quantity() -> Value {
    let mut schema = quantity(0);
    schema["nullable"] = true.into();
    schema
}

/// A field of a stock operation, as the engine's table types and limits it.
fn field_schema(field: Field, presence: Presence) -> Value {
    let mut schema = match field.value_type() {
        FieldType::Integer { min, max } => {
            json!({ "type": "integer", "format": "int64", "minimum": min, "maximum": max })
        }
        FieldType::Text { max, non_empty } => text(max, non_empty),
        FieldType::Instant => json!({ "type": "string", "format": "date-time" }),
        FieldType::Flag => json!({ "type": "boolean" }),
    };
    schema["description"] = match presence {
        Presence::Required => field.doc().into(),
        Presence::Optional(absent) => format!("{} Left out: {absent}.", field.doc()).into(),
    };
    schema
}

/// The component name of a kind's body ("StockAdd") and of its batch item ("BatchAdd").
fn kind_name(kind: OpKind) -> String {
    let name = kind.as_str();
    name[..1].to_uppercase() + &name[1..]
}

fn stock_body_name(kind: OpKind) -> String {
    format!("Stock{}", kind_name(kind))
}

fn batch_item_name(kind: OpKind) -> String {
    format!("Batch{}", kind_name(kind))
}

/// An object of the kind's fields: the required ones required, and no two fields of an
/// exclusive pair together. `extra` are properties before them (a batch item's own).
fn shape_schema(shape: &Shape, extra: Vec<(&str, Value)>, description: String) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut order: Vec<&str> = extra.iter().map(|(name, _)| *name).collect();
    order.extend(shape.fields.iter().map(|(field, _)| field.name()));
    for (name, schema) in extra {
        properties.insert(name.to_owned(), schema);
        required.push(name.to_owned());
    }
    for (field, presence) in shape.fields {
        properties.insert(field.name().to_owned(), field_schema(*field, *presence));
        if *presence == Presence::Required {
            required.push(field.name().to_owned());
        }
    }
    let mut schema = json!({
        "type": "object",
        "additionalProperties": false,
        "description": description,
        "properties": properties,
        // The table's order, which the properties' map does not keep: a form lists fields so.
        "x-field-order": order,
    });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    let pairs: Vec<Value> = shape
        .exclusive
        .iter()
        .map(|(a, b)| json!({ "required": [a.name(), b.name()] }))
        .collect();
    if !pairs.is_empty() {
        schema["not"] = json!({ "anyOf": pairs });
    }
    let either: Vec<Value> = shape
        .one_of
        .iter()
        .map(|(a, b)| json!({ "anyOf": [{ "required": [a.name()] }, { "required": [b.name()] }] }))
        .collect();
    if !either.is_empty() {
        schema["allOf"] = json!(either);
    }
    schema
}

fn kind_summary(kind: OpKind) -> &'static str {
    match kind {
        OpKind::Add => "Receive stock",
        OpKind::Remove => "Remove available stock",
        OpKind::Reserve => "Reserve available stock, optionally expiring",
        OpKind::Unreserve => "Release reserved stock",
        OpKind::Commit => "Fulfil a reservation: on hand and reserved both drop",
        OpKind::Transfer => "Move stock between two locations atomically",
        OpKind::Count => "Set on hand at a location to a physical count",
        OpKind::Renew => "Give an open reservation a new expiry (a lease renewed), nothing else",
    }
}

fn stock_schemas(schemas: &mut Map<String, Value>) {
    for kind in OpKind::ALL {
        let shape = shape::shape(kind);
        let body = shape_schema(shape, Vec::new(), format!("{}.", kind_summary(kind)));
        schemas.insert(stock_body_name(kind), body);
        let [product_id, op] = ITEM_KEYS;
        let own = vec![
            (product_id, json!({ "type": "string", "format": "uuid" })),
            (op, json!({ "type": "string", "enum": [kind.as_str()] })),
        ];
        let item = shape_schema(
            shape,
            own,
            format!(
                "A {} operation of a batch: {}.",
                kind.as_str(),
                kind_summary(kind)
            ),
        );
        schemas.insert(batch_item_name(kind), item);
    }
    let mapping: Map<String, Value> = OpKind::ALL
        .iter()
        .map(|k| {
            let target = format!("#/components/schemas/{}", batch_item_name(*k));
            (k.as_str().to_owned(), Value::from(target))
        })
        .collect();
    let variants: Vec<Value> = OpKind::ALL
        .iter()
        .map(|k| r(&batch_item_name(*k)))
        .collect();
    schemas.insert(
        "BatchItem".into(),
        json!({
            "description": "One operation of a batch: `product_id`, `op`, and the fields of that operation's route.",
            "oneOf": variants,
            "discriminator": { "propertyName": "op", "mapping": mapping }
        }),
    );
    schemas.insert(
        "Batch".into(),
        json!({
            "type": "object", "additionalProperties": false, "required": ["operations"],
            "properties": { "operations": {
                "type": "array", "minItems": 1, "maxItems": inventory::MAX_BATCH, "items": r("BatchItem")
            } }
        }),
    );
}

/// The largest price, and its step: prices are below `PRICE_LIMIT` with at most
/// `MAX_PRICE_SCALE` decimal places, so every one survives a client that reads doubles.
fn price_bounds() -> (f64, f64) {
    let step = Decimal::new(1, inventory::MAX_PRICE_SCALE);
    let max = inventory::PRICE_LIMIT - step;
    let float = |d: Decimal| d.to_string().parse::<f64>().expect("a decimal is a number");
    (float(max), float(step))
}

fn price_number() -> Value {
    let (max, step) = price_bounds();
    json!({
        "type": "number", "format": "decimal", "minimum": 0, "maximum": max, "multipleOf": step,
        "description": format!("An exact decimal with at most {} decimal places, below {}: at most 15 significant digits, so a client that reads JSON numbers as doubles reads it exactly.", inventory::MAX_PRICE_SCALE, inventory::PRICE_LIMIT)
    })
}

fn price_string() -> Value {
    let digits = inventory::PRICE_LIMIT.to_string().len() - 1;
    let scale = inventory::MAX_PRICE_SCALE;
    json!({
        "type": "string", "format": "decimal",
        "pattern": format!("^[0-9]{{1,{digits}}}(\\.[0-9]{{1,{scale}}})?$"),
        "description": "The same decimal as a string (\"19.99\")."
    })
}

fn response_schemas(schemas: &mut Map<String, Value>) {
    let ts = json!({ "type": "string", "format": "date-time" });
    let uuid = json!({ "type": "string", "format": "uuid" });
    let int = json!({ "type": "integer", "format": "int64" });
    let string = json!({ "type": "string" });
    let nullable = |t: &str, format: Option<&str>| {
        let mut v = json!({ "type": t, "nullable": true });
        if let Some(f) = format {
            v["format"] = f.into();
        }
        v
    };
    let object = |properties: Value, description: &str| {
        let required: Vec<&String> = properties.as_object().unwrap().keys().collect();
        json!({ "type": "object", "description": description, "required": required, "properties": properties })
    };
    let level = json!({
        "id": uuid, "product_id": uuid, "location": string,
        "quantity": { "type": "integer", "format": "int64", "description": "on hand (the seed's name)" },
        "on_hand": int, "reserved": int, "available": int,
        "created_at": ts, "updated_at": ts
    });
    let mut summary = level.clone();
    summary["locations"] = json!({ "type": "array", "items": r("StockLevel") });
    summary["low_stock"] = json!({
        "type": "boolean",
        "description": "the product has a reorder point and its available total is at or below it (the `low_stock` filter's predicate)"
    });
    let mut codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    codes.extend(SERVER_CODES);
    let kinds: Vec<&str> = MovementKind::ALL.iter().map(|k| k.as_str()).collect();
    let entries = [
        (
            "ErrorCode",
            json!({
                "type": "string", "enum": codes,
                "description": "A stable machine code: the engine's, or the server's own for failures around it."
            }),
        ),
        (
            "MovementType",
            json!({
                "type": "string", "enum": kinds,
                "description": "What a movement did to (on hand, reserved)."
            }),
        ),
        (
            "Error",
            json!({
                "type": "object",
                "description": "The error envelope.",
                "required": ["error", "message", "code", "timestamp"],
                "properties": {
                    "error": r("ErrorCode"),
                    "message": string,
                    "code": { "type": "integer", "description": "the HTTP status" },
                    "timestamp": ts,
                    "field": { "type": "string", "description": "the offending input field, when known (`operations[2].quantity` in a batch)" },
                    "index": { "type": "integer", "description": "the failing operation of a batch" }
                }
            }),
        ),
        (
            "Product",
            object(
                json!({
                    "id": uuid, "name": string, "description": string, "sku": string,
                    "price": price_number(),
                    "location": { "type": "string", "description": "the product's own location" },
                    "reorder_point": nullable("integer", Some("int64")),
                    "version": { "type": "integer", "format": "int64", "description": "also sent as the ETag" },
                    "created_at": ts, "updated_at": ts
                }),
                "A catalogue entry.",
            ),
        ),
        (
            "StockLevel",
            object(level, "The stock of a product at one location."),
        ),
        (
            "Inventory",
            object(
                summary,
                "Totals over every location in the shape of one level (whose `location` is the product's own), and one level per location.",
            ),
        ),
        (
            "ProductWithStock",
            object(
                json!({ "product": r("Product"), "inventory": r("Inventory") }),
                "A product and its stock.",
            ),
        ),
        (
            "Transaction",
            object(
                json!({
                    "id": uuid, "seq": int, "inventory_id": uuid, "product_id": uuid, "location": string,
                    "type": r("MovementType"),
                    "quantity": int, "on_hand_after": int, "quantity_after": int, "reserved_after": int,
                    "reference": nullable("string", None), "notes": nullable("string", None),
                    "external_id": { "type": "string", "nullable": true, "description": "a receipt's id in the system that caused it; null when none was given" },
                    "transfer_id": nullable("string", Some("uuid")),
                    "actor": { "type": "string", "nullable": true, "description": "who made it; null when unknown" },
                    "created_at": ts
                }),
                "A ledger movement.",
            ),
        ),
        (
            "Location",
            object(
                json!({
                    "name": string, "on_hand": int, "reserved": int, "available": int,
                    "products": int, "created_at": ts
                }),
                "A location with its totals over live products.",
            ),
        ),
        (
            "Reservation",
            object(
                json!({
                    "id": uuid, "product_id": uuid, "location": string, "reference": string,
                    "quantity": int, "expires_at": nullable("string", Some("date-time")),
                    "created_at": ts, "updated_at": ts,
                    "owner": { "type": "string", "nullable": true, "description": "the name of the key that opened it, which may change it (docs/TILLS.md); null: opened without a key" }
                }),
                "An open reservation; an unreferenced one is held under the empty reference.",
            ),
        ),
        (
            "EventPage",
            object(
                json!({
                    "movements": { "type": "array", "items": r("Transaction") },
                    "next_after": { "type": "integer", "format": "int64", "description": "pass as `after` for the next page" }
                }),
                "A page of the change feed.",
            ),
        ),
        ("CatalogueEntry", {
            let mut properties = json!({
                "id": uuid, "name": string, "description": string, "sku": string,
                "price": price_number(),
                "location": { "type": "string", "description": "the product's own location" },
                "reorder_point": nullable("integer", Some("int64")),
                "version": { "type": "integer", "format": "int64" },
                "created_at": ts, "updated_at": ts
            });
            properties["archived_at"] = json!({ "type": "string", "format": "date-time", "nullable": true, "description": "when it was archived; null while it is live" });
            properties["revision"] = json!({ "type": "integer", "format": "int64", "description": "the catalogue revision of its last change" });
            object(
                properties,
                "A product as it is now, archived or not, with the revision of its last change.",
            )
        }),
        (
            "CataloguePage",
            object(
                json!({
                    "products": { "type": "array", "items": r("CatalogueEntry") },
                    "next_after": { "type": "integer", "format": "int64", "description": "pass as `after` for the next page" }
                }),
                "A page of the catalogue feed, in revision (commit) order.",
            ),
        ),
        (
            "Transfer",
            object(
                json!({ "from": r("StockLevel"), "to": r("StockLevel") }),
                "Both levels of a transfer.",
            ),
        ),
        (
            "BatchResult",
            object(
                json!({
                    "results": { "type": "array", "items": { "type": "array", "items": r("StockLevel") } }
                }),
                "Every operation's levels, in order.",
            ),
        ),
        (
            "Health",
            object(
                json!({
                    "status": string,
                    "database": string,
                    "version": { "type": "string", "description": "the build: Cargo's version, `+`, and the commit (`0.1.0+1a2b3c4d5e6f`; `+unknown` when built outside a git checkout)" },
                    "commit": { "type": "string", "description": "the commit built, 12 hex digits, or `unknown`" }
                }),
                "Service health, and the build answering.",
            ),
        ),
        (
            "Ready",
            object(
                json!({ "status": string, "database": string }),
                "Ready for writes.",
            ),
        ),
        (
            "Deleted",
            object(json!({ "id": uuid }), "The archived product's id."),
        ),
        (
            "PriceInput",
            json!({
                "description": "A price as a JSON number (its scale kept) or a string.",
                "anyOf": [price_number(), price_string()]
            }),
        ),
        (
            "NewProduct",
            json!({
                "type": "object", "additionalProperties": false,
                "required": ["name", "sku", "price"],
                "properties": {
                    "name": text(inventory::MAX_NAME, true),
                    "description": text(inventory::MAX_DESCRIPTION, false),
                    "sku": text(inventory::MAX_SKU, true),
                    "price": r("PriceInput"),
                    "location": text(inventory::MAX_LOCATION, true),
                    "initial_quantity": quantity(0),
                    "reorder_point": nullable_quantity()
                }
            }),
        ),
        (
            "ProductChanges",
            json!({
                "type": "object", "additionalProperties": false,
                "description": "A partial update: omitted fields stay as they are; reorder_point null clears it.",
                "properties": {
                    "name": text(inventory::MAX_NAME, true),
                    "description": text(inventory::MAX_DESCRIPTION, false),
                    "price": r("PriceInput"),
                    "reorder_point": nullable_quantity()
                }
            }),
        ),
        (
            "Scope",
            json!({
                "type": "string",
                "enum": inventory::Scope::ALL.map(inventory::Scope::as_str),
                "description": "What a key may do; each scope includes the ones before it."
            }),
        ),
        (
            "Till",
            object(
                json!({
                    "id": string,
                    "key": { "type": "string", "description": "the name of the key it registered with" },
                    "instance_id": { "type": "string", "description": "the instance (the till's own files) that registered it" },
                    "location": string, "registered_at": ts, "last_sync_at": ts
                }),
                "A till registered at central: only its key and instance may sync under its id.",
            ),
        ),
        (
            "DatabaseIdentity",
            object(
                json!({
                    "id": string,
                    "generation": { "type": "string", "description": "changed by every restore of the database" }
                }),
                "Which database central is, and which generation of it.",
            ),
        ),
        (
            "CheckIn",
            object(
                json!({
                    "till": r("Till"), "database": r("DatabaseIdentity"),
                    "high_water": { "type": "integer", "format": "int64", "description": "the ledger's latest sequence number" }
                }),
                "A till's registration, and what it compares to notice that central was restored.",
            ),
        ),
        (
            "TillStatus",
            object(
                json!({
                    "till": r("Till"),
                    "allotments": { "type": "array", "items": r("Reservation") },
                    "lag_seconds": { "type": "integer", "format": "int64", "description": "seconds since its latest sync" }
                }),
                "A till with its allotments and how long since it synced.",
            ),
        ),
        (
            "TakeOver",
            object(
                json!({
                    "till": r("Till"),
                    "released": { "type": "integer", "format": "int64", "description": "units of its allotments released" },
                    "transferred": { "type": "integer", "format": "int64", "description": "units kept for its next instance" }
                }),
                "What taking a till over did.",
            ),
        ),
        (
            "TillConflictReport",
            object(
                json!({
                    "reference": string, "till_id": string, "code": r("ErrorCode"),
                    "first": { "type": "boolean", "description": "false when this sale was reported before: it is counted once" }
                }),
                "A till's conflict, as central recorded it.",
            ),
        ),
        (
            "ApiKey",
            object(
                json!({
                    "name": string, "scope": r("Scope"),
                    "locations": { "type": "array", "items": string, "nullable": true,
                                   "description": "the only locations it may move stock at; null: any" },
                    "created_at": ts,
                    "revoked_at": nullable("string", Some("date-time"))
                }),
                "An API key, never its secret.",
            ),
        ),
        (
            "CreatedApiKey",
            object(
                json!({
                    "name": string, "scope": r("Scope"),
                    "locations": { "type": "array", "items": string, "nullable": true },
                    "created_at": ts,
                    "revoked_at": nullable("string", Some("date-time")),
                    "secret": { "type": "string", "description": "the bearer secret: shown this once, stored only as its SHA-256" }
                }),
                "A key just created, with its secret.",
            ),
        ),
        (
            "NewApiKey",
            json!({
                "type": "object", "additionalProperties": false, "required": ["name", "scope"],
                "properties": {
                    "name": text(inventory::MAX_KEY_NAME, true),
                    "scope": r("Scope"),
                    "locations": {
                        "type": "array", "minItems": 1, "nullable": true,
                        "items": text(inventory::MAX_LOCATION, true),
                        "description": "the only locations the key may move stock at; left out or null: any"
                    }
                }
            }),
        ),
        (
            "NewLocation",
            json!({
                "type": "object", "additionalProperties": false, "required": ["name"],
                "properties": { "name": text(inventory::MAX_LOCATION, true) }
            }),
        ),
        (
            "TillCheckIn",
            json!({
                "type": "object", "additionalProperties": false,
                "required": ["instance_id", "location", "next_token"],
                "properties": {
                    "instance_id": text(255, true),
                    "location": text(inventory::MAX_LOCATION, true),
                    "token": { "type": "string", "nullable": true, "description": "what the till's previous check-in left; null before its first" },
                    "next_token": text(255, true)
                }
            }),
        ),
        (
            "TakeOverRequest",
            json!({
                "type": "object", "additionalProperties": false, "required": ["release"],
                "properties": {
                    "release": { "type": "boolean", "description": "true: release its allotments; false: keep them for the till's next instance" }
                }
            }),
        ),
        (
            "TillConflict",
            json!({
                "type": "object", "additionalProperties": false, "required": ["reference", "code"],
                "properties": {
                    "reference": text(inventory::MAX_REFERENCE, true),
                    "code": r("ErrorCode")
                }
            }),
        ),
    ];
    for (name, schema) in entries {
        schemas.insert(name.to_owned(), schema);
    }
}

/// The success envelope around each kind of `data`, as named components: (component, data).
fn envelopes() -> Vec<(&'static str, Value)> {
    let list = |item: &str| json!({ "type": "array", "items": r(item) });
    vec![
        ("HealthResponse", r("Health")),
        ("ReadyResponse", r("Ready")),
        ("ProductListResponse", list("Product")),
        ("ProductResponse", r("Product")),
        ("ProductWithStockResponse", r("ProductWithStock")),
        ("DeletedResponse", r("Deleted")),
        (
            "InventoryResponse",
            json!({ "anyOf": [r("Inventory"), r("StockLevel")] }),
        ),
        ("TransactionListResponse", list("Transaction")),
        ("ReservationListResponse", list("Reservation")),
        ("StockLevelResponse", r("StockLevel")),
        ("TransferResponse", r("Transfer")),
        ("BatchResultResponse", r("BatchResult")),
        ("LocationListResponse", list("Location")),
        ("LocationResponse", r("Location")),
        ("EventPageResponse", r("EventPage")),
        ("CataloguePageResponse", r("CataloguePage")),
        ("TillConflictResponse", r("TillConflictReport")),
        ("CheckInResponse", r("CheckIn")),
        ("TillListResponse", list("TillStatus")),
        ("TakeOverResponse", r("TakeOver")),
        ("ApiKeyListResponse", list("ApiKey")),
        ("ApiKeyResponse", r("ApiKey")),
        ("CreatedApiKeyResponse", r("CreatedApiKey")),
    ]
}

fn envelope(data: Value) -> Value {
    json!({
        "type": "object",
        "required": ["data", "message", "timestamp"],
        "properties": {
            "data": data,
            "message": { "type": "string" },
            "timestamp": { "type": "string", "format": "date-time" }
        }
    })
}

/// How an operation is answered and documented.
struct Op {
    method: &'static str,
    id: String,
    tag: &'static str,
    summary: String,
    params: Vec<Value>,
    body: Option<String>,
    status: u16,
    /// The success envelope's component.
    data: &'static str,
    /// Client errors it can give, beside those every operation can.
    errors: &'static [u16],
    etag: bool,
    /// Takes an Idempotency-Key (every write but key management's).
    idempotent: bool,
    /// The success response's content when it is not the JSON envelope around `data`.
    content: Option<Value>,
}

/// What any request can meet before or around its handler: the framing and size checks of the
/// front door (400, 414, 431, 501, 505), the browser guards (403), a method the path does not
/// serve (405), a fault of the server (500) and a store that cannot serve it (503).
const EVERY_OPERATION: [u16; 9] = [400, 403, 405, 414, 431, 500, 501, 503, 505];

fn error_text(code: u16) -> &'static str {
    match code {
        400 => {
            "malformed JSON, a wrong type, a failed validation or an unknown field (`field` names it); or a malformed request (not exactly one Host in HTTP/1.1, a malformed chunked body; framing errors hyper refuses itself get a bare 400 without a body)"
        }
        401 => {
            "no API key, or one that is unknown or revoked, where keys are required (`WWW-Authenticate: Bearer`)"
        }
        403 => {
            "the key's scope does not allow this route, or its locations this stock operation (`field` names the location); or a browser's write whose Origin is neither the server's own nor an allowed one; or, on a loopback listener, a Host that is neither a loopback name nor an allowed host"
        }
        429 => {
            "over `--rate-limit` requests per second for this key (or address); `Retry-After` says when to retry"
        }
        404 => "unknown product, level or route",
        405 => "a method the path does not serve; `Allow` lists those it does",
        408 => "the request body did not arrive in time",
        409 => {
            "insufficient stock or reserved quantity, duplicate SKU or location, stale expected value, or an Idempotency-Key reused for a different request"
        }
        412 => "If-Match names a version that is no longer current",
        413 => "request body too large",
        414 => "the request target (path and query) is over 8 KiB",
        431 => {
            "the request head is over --max-header-bytes; answered without a body, and the connection closed"
        }
        500 => "a fault of the server itself (INTERNAL_ERROR), logged with the request id",
        501 => "a transfer coding other than chunked",
        503 => {
            "the store cannot serve the request: BUSY (another process holds the write lock past the busy timeout; retry after Retry-After), STORAGE_ERROR (the database failed, or its file was deleted or replaced while the server runs: writes are refused until it is restarted on the right file), SERVICE_UNAVAILABLE (too many event streams; retry after Retry-After), or READ_ONLY (a write to a server started with --read-only)"
        }
        505 => "an HTTP/2 connection preface: the server speaks HTTP/1.1",
        _ => "error",
    }
}

fn error_response(code: u16) -> Value {
    let mut headers = json!({ "X-Request-ID": { "$ref": "#/components/headers/RequestId" } });
    match code {
        401 => {
            headers["WWW-Authenticate"] = json!({ "$ref": "#/components/headers/WwwAuthenticate" })
        }
        429 | 503 => headers["Retry-After"] = json!({ "$ref": "#/components/headers/RetryAfter" }),
        // hyper answers it while reading the head, before the server sees the request.
        431 => return json!({ "description": error_text(code) }),
        _ => {}
    }
    json!({
        "description": error_text(code),
        "headers": headers,
        "content": { "application/json": { "schema": r("Error") } }
    })
}

/// What an operation needs of its caller, from the server's own scope table (`auth::needed`):
/// `security` (none for an open route), `x-required-scope`, and the answers it adds (401 and
/// 403 where a key is needed; 429 everywhere, since every request counts against a limit).
fn access(method: &str, path: &str, op: &mut Value) {
    let mut codes = vec![429];
    match needed(&method.to_ascii_uppercase(), path) {
        Access::Open => op["security"] = json!([]),
        Access::Needs(scope) => {
            op["x-required-scope"] = scope.as_str().into();
            codes.extend([401, 403]);
        }
    }
    let responses = op["responses"]
        .as_object_mut()
        .expect("responses is an object");
    for code in codes {
        responses.insert(code.to_string(), error_response(code));
    }
}

impl Op {
    fn new(method: &'static str, id: &str, tag: &'static str, summary: &str) -> Op {
        Op {
            method,
            id: id.to_owned(),
            tag,
            summary: summary.to_owned(),
            params: Vec::new(),
            body: None,
            status: 200,
            data: "",
            errors: &[],
            etag: false,
            idempotent: method != "get",
            content: None,
        }
    }

    fn to_json(&self) -> Value {
        let mut params = self.params.clone();
        if self.idempotent {
            params.push(json!({ "$ref": "#/components/parameters/IdempotencyKey" }));
        }
        let mut headers = json!({ "X-Request-ID": { "$ref": "#/components/headers/RequestId" } });
        if self.idempotent {
            headers["Idempotent-Replayed"] =
                json!({ "$ref": "#/components/headers/IdempotentReplayed" });
        }
        if self.etag {
            headers["ETag"] = json!({ "$ref": "#/components/headers/ETag" });
        }
        let mut responses = Map::new();
        let content = self
            .content
            .clone()
            .unwrap_or_else(|| json!({ "application/json": { "schema": r(self.data) } }));
        let success = json!({ "description": "success", "headers": headers, "content": content });
        responses.insert(self.status.to_string(), success);
        let mut codes: Vec<u16> = self.errors.to_vec();
        codes.extend(EVERY_OPERATION);
        if self.body.is_some() {
            codes.extend([400, 408, 413]);
        }
        codes.sort_unstable();
        codes.dedup();
        for code in codes {
            responses.insert(code.to_string(), error_response(code));
        }
        let mut op = json!({
            "operationId": self.id,
            "tags": [self.tag],
            "summary": self.summary,
            "responses": responses,
        });
        if !params.is_empty() {
            op["parameters"] = params.into();
        }
        if let Some(body) = &self.body {
            op["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": r(body) } } });
        }
        op
    }
}

fn id_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true,
            "description": "Product id (a UUID); anything else is an unknown product (404).",
            "schema": { "type": "string" } })
}

fn query(name: &str, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "schema": schema, "description": description })
}

/// A query integer: the server reads 64-bit integers. `default` is what leaving it out means.
fn int64(minimum: i64, default: i64) -> Value {
    json!({ "type": "integer", "format": "int64", "minimum": minimum, "maximum": i64::MAX, "default": default })
}

fn page_params() -> Vec<Value> {
    vec![
        query(
            "limit",
            json!({ "type": "integer", "minimum": 1, "maximum": inventory::MAX_PAGE, "default": inventory::DEFAULT_PAGE }),
            "page size",
        ),
        query("offset", int64(0, 0), "rows to skip"),
    ]
}

/// HEAD of a GET: the same parameters, statuses and headers, no body.
fn head_of(get: &Value) -> Value {
    let mut head = get.clone();
    head["operationId"] =
        format!("head_{}", get["operationId"].as_str().unwrap_or_default()).into();
    head["summary"] = format!(
        "the status and headers of GET ({}), without a body",
        get["summary"].as_str().unwrap_or_default()
    )
    .into();
    for response in head["responses"].as_object_mut().unwrap().values_mut() {
        if let Some(response) = response.as_object_mut() {
            response.remove("content");
        }
    }
    head
}

/// OPTIONS, which every path answers from the route table (and, for an allowed origin, as a
/// CORS preflight) without running a handler.
fn options_of(path: &str, methods: &Map<String, Value>) -> Value {
    let first = methods.values().next().expect("a path has an operation");
    let params: Vec<Value> = first["parameters"]
        .as_array()
        .map(|ps| ps.iter().filter(|p| p["in"] == "path").cloned().collect())
        .unwrap_or_default();
    let name: String = path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut responses = Map::new();
    responses.insert(
        "204".into(),
        json!({
            "description": "the methods this path serves, in Allow",
            "headers": {
                "Allow": { "$ref": "#/components/headers/Allow" },
                "X-Request-ID": { "$ref": "#/components/headers/RequestId" }
            }
        }),
    );
    for code in EVERY_OPERATION
        .into_iter()
        .filter(|c| ![405, 500, 503].contains(c))
    {
        responses.insert(code.to_string(), error_response(code));
    }
    let mut op = json!({
        "operationId": format!("options{}", name.trim_end_matches('_').replace("__", "_")),
        "tags": first["tags"].clone(),
        "summary": "the methods this path serves (Allow); a CORS preflight from an allowed origin is answered too",
        "responses": responses,
    });
    if !params.is_empty() {
        op["parameters"] = params.into();
    }
    op
}

/// Every documented operation, by path.
fn operations() -> Vec<(String, Op)> {
    let if_match = json!({ "$ref": "#/components/parameters/IfMatch" });
    let mut ops = Vec::new();
    let mut add = |path: &str, op: Op| ops.push((path.to_owned(), op));

    add(
        "/health",
        Op {
            data: "HealthResponse",
            ..Op::new(
                "get",
                "health",
                "system",
                "200 when the database answers, 503 when it does not (or its file was deleted or replaced while the server runs)",
            )
        },
    );
    add(
        crate::routes::READY_PATH,
        Op {
            data: "ReadyResponse",
            ..Op::new(
                "get",
                "ready",
                "system",
                "200 only when the database would take a write now: open, its write lock free to take, and for a file the path still leading to the file the server holds; else 503 (BUSY, with Retry-After, or STORAGE_ERROR)",
            )
        },
    );
    add(
        "/metrics",
        Op {
            content: Some(json!({
                "text/plain": { "schema": {
                    "type": "string",
                    "description": "the Prometheus text format, version 0.0.4 (`text/plain; version=0.0.4`)"
                } },
                "application/openmetrics-text": { "schema": {
                    "type": "string",
                    "description": "OpenMetrics 1.0 text, for a scraper whose Accept names it"
                } }
            })),
            ..Op::new(
                "get",
                "metrics",
                "system",
                "metrics for Prometheus: requests by route template and status, latency, connections, the engine's commands, commits and checkpoints, reservations, file sizes, event streams, memory and threads",
            )
        },
    );
    add(
        "/openapi.json",
        Op {
            content: Some(json!({ "application/json": { "schema": r("OpenApiDocument") } })),
            ..Op::new("get", "get_openapi", "system", "this document")
        },
    );
    add(
        "/api/products",
        Op {
            params: [
                query(
                    "low_stock",
                    json!({ "type": "boolean" }),
                    "only products whose available total is at or below their reorder point",
                ),
                query(
                    "q",
                    text(inventory::MAX_NAME, true),
                    "SKU prefix (exact) or name prefix (ASCII case-insensitive)",
                ),
            ]
            .into_iter()
            .chain(page_params())
            .collect(),
            data: "ProductListResponse",
            errors: &[400],
            ..Op::new(
                "get",
                "list_products",
                "products",
                "list products in creation order",
            )
        },
    );
    add(
        "/api/products",
        Op {
            body: Some("NewProduct".into()),
            status: 201,
            data: "ProductWithStockResponse",
            errors: &[409],
            etag: true,
            ..Op::new(
                "post",
                "create_product",
                "products",
                "create a product with its initial stock",
            )
        },
    );
    add(
        "/api/products/{id}",
        Op {
            params: vec![id_param()],
            data: "ProductWithStockResponse",
            errors: &[404],
            etag: true,
            ..Op::new(
                "get",
                "get_product",
                "products",
                "a product with its inventory",
            )
        },
    );
    add(
        "/api/products/{id}",
        Op {
            params: vec![id_param(), if_match.clone()],
            body: Some("ProductChanges".into()),
            data: "ProductResponse",
            errors: &[404, 409, 412],
            etag: true,
            ..Op::new(
                "put",
                "update_product",
                "products",
                "partial update; If-Match makes it a compare-and-set",
            )
        },
    );
    add(
        "/api/products/{id}",
        Op {
            params: vec![id_param(), if_match],
            data: "DeletedResponse",
            errors: &[400, 404, 409, 412],
            ..Op::new(
                "delete",
                "delete_product",
                "products",
                "archive a product (its ledger is kept); If-Match makes it conditional",
            )
        },
    );
    add(
        "/api/products/{id}/inventory",
        Op {
            params: vec![
                id_param(),
                query(
                    "location",
                    json!({ "type": "string" }),
                    "one location's level",
                ),
            ],
            data: "InventoryResponse",
            errors: &[400, 404],
            ..Op::new(
                "get",
                "get_inventory",
                "products",
                "stock totals over every location, or with ?location= one level",
            )
        },
    );
    let mut movement_params = vec![id_param()];
    movement_params.extend(page_params());
    movement_params.extend([
        query(
            "location",
            json!({ "type": "string" }),
            "only movements at this location",
        ),
        query("after", int64(0, 0), "only movements with a larger seq"),
        query(
            "before",
            int64(i64::MIN, i64::MAX),
            "only movements with a smaller seq (cursor paging)",
        ),
    ]);
    add(
        "/api/products/{id}/transactions",
        Op {
            params: movement_params,
            data: "TransactionListResponse",
            errors: &[400, 404],
            ..Op::new(
                "get",
                "list_transactions",
                "products",
                "the product's movements, newest first",
            )
        },
    );
    add(
        "/api/products/{id}/reservations",
        Op {
            params: vec![id_param()],
            data: "ReservationListResponse",
            errors: &[404],
            ..Op::new(
                "get",
                "list_product_reservations",
                "reservations",
                "open reservations of a product",
            )
        },
    );
    for kind in OpKind::ALL {
        let data = match kind {
            OpKind::Transfer => "TransferResponse",
            _ => "StockLevelResponse",
        };
        add(
            &format!("/api/products/{{id}}/stock/{}", kind.as_str()),
            Op {
                params: vec![id_param()],
                body: Some(stock_body_name(kind)),
                data,
                errors: &[404, 409],
                ..Op::new(
                    "post",
                    &format!("{}_stock", kind.as_str()),
                    "stock",
                    kind_summary(kind),
                )
            },
        );
    }
    add(
        "/api/stock/batch",
        Op {
            body: Some("Batch".into()),
            data: "BatchResultResponse",
            errors: &[404, 409],
            ..Op::new(
                "post",
                "apply_batch",
                "stock",
                "apply stock operations all or nothing; a failure names the operation's index",
            )
        },
    );
    add(
        "/api/locations",
        Op {
            data: "LocationListResponse",
            ..Op::new(
                "get",
                "list_locations",
                "locations",
                "locations with their totals",
            )
        },
    );
    add(
        "/api/tills/conflicts",
        Op {
            body: Some("TillConflict".into()),
            status: 202,
            data: "TillConflictResponse",
            errors: &[403],
            idempotent: false,
            ..Op::new(
                "post",
                "report_till_conflict",
                "tills",
                "a till reports a sale of its own that central refused (its lease lapsed and the units were sold elsewhere, or the product was archived): only a sale of a till registered to the key (403 otherwise), recorded and counted once in inventory_till_conflicts_total by code, and logged with the key; the sale waits at the till for an operator. No Idempotency-Key: a repeat is recorded once",
            )
        },
    );
    add(
        "/api/tills",
        Op {
            data: "TillListResponse",
            ..Op::new(
                "get",
                "list_tills",
                "tills",
                "registered tills, with their last sync, allotments and lag",
            )
        },
    );
    add(
        "/api/tills/{id}/check-in",
        Op {
            params: vec![json!({ "name": "id", "in": "path", "required": true,
                                 "description": "the till's id, percent-encoded",
                                 "schema": { "type": "string", "minLength": 1 } })],
            body: Some("TillCheckIn".into()),
            data: "CheckInResponse",
            errors: &[403, 409],
            idempotent: false,
            ..Op::new(
                "post",
                "check_in_till",
                "tills",
                "a till's first call of every sync: registers the till id with the key and the till's instance the first time; another key is 403, another instance 409 (nothing of the registered till changes). Answers central's database identity, generation and high-water sequence. No Idempotency-Key",
            )
        },
    );
    add(
        "/api/tills/{id}/take-over",
        Op {
            params: vec![json!({ "name": "id", "in": "path", "required": true,
                                 "description": "the till's id, percent-encoded",
                                 "schema": { "type": "string", "minLength": 1 } })],
            body: Some("TakeOverRequest".into()),
            data: "TakeOverResponse",
            errors: &[404],
            idempotent: false,
            ..Op::new(
                "post",
                "take_over_till",
                "tills",
                "an admin ends a till's registration (a replaced device): its allotments are released, or kept for the next instance to register under the id, either way recorded in the ledger. No Idempotency-Key (a repeat is 404)",
            )
        },
    );
    add(
        "/api/locations",
        Op {
            body: Some("NewLocation".into()),
            status: 201,
            data: "LocationResponse",
            errors: &[409],
            ..Op::new("post", "create_location", "locations", "create a location")
        },
    );
    add(
        "/api/reservations",
        Op {
            params: vec![
                json!({ "name": "reference", "in": "query", "required": true,
                                 "schema": { "type": "string", "minLength": 1 } }),
            ],
            data: "ReservationListResponse",
            errors: &[400],
            ..Op::new(
                "get",
                "list_reservations",
                "reservations",
                "open reservations held under a reference, across products",
            )
        },
    );
    add(
        "/api/reservations/expiring",
        Op {
            params: vec![
                json!({ "name": "within", "in": "query", "required": true,
                        "description": "seconds from now: reservations lapsing before then",
                        "schema": { "type": "integer", "format": "int64", "minimum": 1, "maximum": inventory::MAX_EXPIRY_SECONDS } }),
                query(
                    "limit",
                    json!({ "type": "integer", "minimum": 1, "maximum": inventory::MAX_PAGE, "default": inventory::DEFAULT_PAGE }),
                    "page size",
                ),
            ],
            data: "ReservationListResponse",
            errors: &[400],
            ..Op::new(
                "get",
                "list_expiring_reservations",
                "reservations",
                "open reservations of live products lapsing soon, soonest first",
            )
        },
    );
    add(
        crate::routes::EVENTS_PATH,
        Op {
            params: vec![
                query("after", int64(0, 0), "sequence number to start after"),
                query(
                    "limit",
                    json!({ "type": "integer", "minimum": 1, "maximum": inventory::MAX_CHANGES_PAGE, "default": inventory::DEFAULT_CHANGES_PAGE }),
                    "page size (JSON pages only)",
                ),
            ],
            data: "EventPageResponse",
            errors: &[400],
            ..Op::new(
                "get",
                "get_events",
                "events",
                "the change feed: movements after a sequence number, oldest first. With Accept: text/event-stream, Server-Sent Events (id: = seq, event: movement, data: a Transaction; resume with Last-Event-ID); 503 when the subscriber cap is reached",
            )
        },
    );
    add(
        "/api/catalogue",
        Op {
            params: vec![
                query(
                    "after",
                    int64(0, 0),
                    "catalogue revision to start after (0: the whole catalogue)",
                ),
                query(
                    "limit",
                    json!({ "type": "integer", "minimum": 1, "maximum": inventory::MAX_CHANGES_PAGE, "default": inventory::DEFAULT_CHANGES_PAGE }),
                    "page size",
                ),
            ],
            data: "CataloguePageResponse",
            errors: &[400],
            ..Op::new(
                "get",
                "get_catalogue",
                "products",
                "the catalogue feed: products created, updated or archived after a revision, archived ones included, each once as it is now, in commit order (what a till mirrors)",
            )
        },
    );
    add(
        "/api/keys",
        Op {
            data: "ApiKeyListResponse",
            ..Op::new(
                "get",
                "list_keys",
                "keys",
                "every API key, revoked ones included, never a secret",
            )
        },
    );
    add(
        "/api/keys",
        Op {
            body: Some("NewApiKey".into()),
            status: 201,
            data: "CreatedApiKeyResponse",
            errors: &[409],
            idempotent: false,
            ..Op::new(
                "post",
                "create_key",
                "keys",
                "create an API key; its secret is in this answer and nowhere else (no Idempotency-Key: a repeat is 409)",
            )
        },
    );
    add(
        "/api/keys/{name}",
        Op {
            params: vec![json!({ "name": "name", "in": "path", "required": true,
                                 "description": "the key's name, percent-encoded",
                                 "schema": { "type": "string", "minLength": 1 } })],
            data: "ApiKeyResponse",
            errors: &[400, 404],
            idempotent: false,
            ..Op::new(
                "delete",
                "revoke_key",
                "keys",
                "revoke a key: refused from then on (by other servers on the database within a second); no Idempotency-Key (a repeat is 404)",
            )
        },
    );
    ops
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for (path, op) in operations() {
        let mut json = op.to_json();
        access(op.method, &path, &mut json);
        if path == crate::routes::EVENTS_PATH {
            json["responses"]["200"]["content"]["text/event-stream"] = json!({ "schema": {
                "type": "string",
                "description": "`id: <seq>`, `event: movement`, `data: <Transaction JSON>` per movement"
            } });
        }
        let entry = paths.entry(path).or_insert_with(|| json!({}));
        entry[op.method] = json;
    }
    for (path, methods) in paths.iter_mut() {
        let methods = methods.as_object_mut().expect("a path item is an object");
        if let Some(get) = methods.get("get") {
            let head = head_of(get);
            methods.insert("head".into(), head);
        }
        let mut options = options_of(path, methods);
        access("options", path, &mut options);
        methods.insert("options".into(), options);
    }
    let mut schemas = Map::new();
    response_schemas(&mut schemas);
    stock_schemas(&mut schemas);
    schemas.insert(
        "OpenApiDocument".into(),
        json!({ "type": "object", "description": "An OpenAPI 3 document.", "additionalProperties": true }),
    );
    for (name, data) in envelopes() {
        schemas.insert(name.to_owned(), envelope(data));
    }
    let ttl = inventory::IDEMPOTENCY_TTL_HOURS;
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "inventory-server",
            "version": inventory_version::FULL,
            "description": format!("Products, stock per location and an audit ledger. Every response uses the envelope {{data, message, timestamp}} or {{error, message, code, timestamp}}. Every POST, PUT and DELETE takes an Idempotency-Key header: a repeat with the same key and request returns the first status and body with `Idempotent-Replayed: true`; the same key with a different request is 409 CONFLICT. Idempotency keys are kept {ttl} hours (key management and till reports take none). Unless the server runs with authentication off (the default on a loopback-only address), every route but /health needs an API key sent as `Authorization: Bearer <secret>`, whose scope (read, write or admin, each including the one before) covers the route's `x-required-scope`; a key limited to locations may move stock only there. With `--rate-limit`, a key (or an address without one) over its requests per second gets 429 with Retry-After.")
        },
        "tags": [
            { "name": "products", "description": "the catalogue and each product's stock and ledger" },
            { "name": "stock", "description": "stock operations, one at a time or in atomic batches" },
            { "name": "reservations", "description": "open reservations" },
            { "name": "locations", "description": "places that hold stock" },
            { "name": "events", "description": "the change feed" },
            { "name": "keys", "description": "API keys (admin scope)" },
            { "name": "tills", "description": "what tills selling offline report to central (docs/TILLS.md)" },
            { "name": "system", "description": "probes (health, readiness), metrics and this document" }
        ],
        "paths": paths,
        "security": [{ "bearer": [] }],
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer",
                    "description": "an API key's secret (`inventory-server keys create`, or POST /api/keys)" }
            },
            "schemas": schemas,
            "headers": {
                "RequestId": { "description": "the request's X-Request-ID, or one the server made", "schema": { "type": "string" } },
                "IdempotentReplayed": { "description": "present (`true`) when an Idempotency-Key replayed the first response and nothing was applied", "schema": { "type": "string", "enum": ["true"] } },
                "ETag": { "description": "the product version, quoted", "schema": { "type": "string" } },
                "WwwAuthenticate": { "description": "`Bearer`, with `error=\"invalid_token\"` for a key that was refused", "schema": { "type": "string" } },
                "Allow": { "description": "the methods the path serves, HEAD wherever GET is, and OPTIONS", "schema": { "type": "string" } },
                "RetryAfter": { "description": format!("seconds to wait before retrying: on a 429, until a request would be allowed; on a 503 that a retry may cure (BUSY, SERVICE_UNAVAILABLE), {}", crate::errors::RETRY_AFTER_SECS), "schema": { "type": "integer", "minimum": 0 } }
            },
            "parameters": {
                "IdempotencyKey": { "name": "Idempotency-Key", "in": "header", "required": false,
                    "description": format!("apply this write once; repeats return the first response (kept {ttl} h)."),
                    "schema": { "type": "string", "minLength": 1, "maxLength": inventory::MAX_IDEMPOTENCY_KEY, "pattern": ASCII_TOKEN } },
                "IfMatch": { "name": "If-Match", "in": "header", "required": false,
                    "description": "the ETag of the version this change expects; 412 when stale",
                    "schema": { "type": "string", "pattern": ETAG } }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::ApiError;
    use crate::json::{
        CatalogueEntryJson, CataloguePageJson, ChangePageJson, LevelJson, MovementJson,
        ProductJson, ProductWithStockJson, SummaryJson,
    };
    use crate::routes::ROUTES;
    use inventory::{
        CatalogueEntry, CataloguePage, ChangePage, Location, Movement, Price, Product,
        ProductWithStock, Reservation, StockLevel, StockSummary, Utc, Uuid,
    };
    use std::collections::BTreeSet;

    fn operations_of(doc: &Value) -> Vec<(String, String, &Value)> {
        let mut ops = Vec::new();
        for (path, methods) in doc["paths"].as_object().unwrap() {
            for (method, op) in methods.as_object().unwrap() {
                ops.push((path.clone(), method.to_uppercase(), op));
            }
        }
        ops
    }

    fn keys(v: &Value) -> BTreeSet<String> {
        v.as_object()
            .unwrap_or_else(|| panic!("not an object: {v}"))
            .keys()
            .cloned()
            .collect()
    }

    fn strings(v: &Value) -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn document_lists_exactly_the_routes() {
        let doc = document();
        let documented: BTreeSet<(String, String)> = operations_of(&doc)
            .into_iter()
            .map(|(path, method, _)| (path, method))
            .collect();
        // What the router answers: the table's methods, HEAD wherever GET is, OPTIONS everywhere.
        let served: BTreeSet<(String, String)> = ROUTES
            .iter()
            .flat_map(|r| {
                r.allow()
                    .split(", ")
                    .map(|m| (r.path.to_owned(), m.to_owned()))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(documented, served);
        assert!(served.contains(&("/metrics".to_owned(), "GET".to_owned())));
        assert!(served.contains(&("/ready".to_owned(), "HEAD".to_owned())));
    }

    #[test]
    fn every_operation_is_named_tagged_and_refers_to_components() {
        let doc = document();
        let tags: BTreeSet<String> = doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect();
        let mut ids = BTreeSet::new();
        for (path, method, op) in operations_of(&doc) {
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(!id.is_empty(), "{method} {path} has no operationId");
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            let op_tags = strings(&op["tags"]);
            assert!(!op_tags.is_empty(), "{id} has no tags");
            assert!(op_tags.iter().all(|t| tags.contains(t)), "{id}");
            let body = &op["requestBody"]["content"]["application/json"]["schema"];
            assert!(
                body.is_null() || body["$ref"].is_string(),
                "{id}: inline body"
            );
            let bodiless = |status: &str| method == "HEAD" || ["204", "431"].contains(&status);
            for (status, response) in op["responses"].as_object().unwrap() {
                if bodiless(status) {
                    assert!(response["content"].is_null(), "{id} {status}: a body");
                    continue;
                }
                let content = response["content"].as_object().unwrap();
                for (media, body) in content {
                    let schema = &body["schema"];
                    if media == "application/json" {
                        assert!(schema["$ref"].is_string(), "{id} {status}: inline response");
                    } else {
                        assert_eq!(schema["type"], "string", "{id} {status} {media}");
                    }
                }
            }
            // What the front door, the browser guards and the store can answer on any route.
            let statuses = keys(&op["responses"]);
            for code in EVERY_OPERATION {
                let handled = method != "OPTIONS" || ![405, 500, 503].contains(&code);
                assert_eq!(statuses.contains(&code.to_string()), handled, "{id} {code}");
            }
            if let Some(unavailable) = op["responses"].get("503") {
                assert!(unavailable["headers"]["Retry-After"].is_object(), "{id}");
            }
            if method == "OPTIONS" {
                assert!(
                    op["responses"]["204"]["headers"]["Allow"].is_object(),
                    "{id}"
                );
            }
            if method == "HEAD" {
                let get = &doc["paths"][&path]["get"];
                assert_eq!(keys(&op["responses"]), keys(&get["responses"]), "{id}");
                assert_eq!(op["parameters"], get["parameters"], "{id}");
            }
            if !["GET", "HEAD", "OPTIONS"].contains(&method.as_str()) {
                let statuses = keys(&op["responses"]);
                for code in ["400", "405", "408", "413", "500", "503"] {
                    let needs_body = !["400", "408", "413"].contains(&code);
                    if needs_body || !op["requestBody"].is_null() {
                        assert!(statuses.contains(code), "{id} lacks {code}");
                    }
                }
                let ok = op["responses"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .find(|(s, _)| s.starts_with('2'))
                    .unwrap()
                    .1;
                // Every write takes an Idempotency-Key, but key management (whose replay could
                // not show a secret again) and tills' (a check-in or a report repeated is recorded once).
                let keyed = !path.starts_with("/api/keys") && !path.starts_with("/api/tills");
                assert_eq!(
                    ok["headers"]["Idempotent-Replayed"].is_object(),
                    keyed,
                    "{id}"
                );
                let takes_key = op["parameters"].as_array().is_some_and(|p| {
                    p.iter()
                        .any(|p| p["$ref"] == "#/components/parameters/IdempotencyKey")
                });
                assert_eq!(takes_key, keyed, "{id}");
            }
        }
        let events = &doc["paths"][crate::routes::EVENTS_PATH]["get"]["responses"]["200"];
        assert!(events["content"]["text/event-stream"].is_object());
        let metrics = &doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"];
        assert_eq!(
            keys(metrics),
            BTreeSet::from(["application/openmetrics-text".into(), "text/plain".into()])
        );
    }

    /// Each operation's security is the server's scope table, and its answers say what a
    /// refusal looks like.
    #[test]
    fn security_is_the_scope_table() {
        let doc = document();
        assert_eq!(doc["security"], json!([{ "bearer": [] }]));
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        let mut scopes = BTreeSet::new();
        for (path, method, op) in operations_of(&doc) {
            let id = op["operationId"].as_str().unwrap();
            let statuses = keys(&op["responses"]);
            assert!(statuses.contains("429"), "{id}");
            assert!(
                op["responses"]["429"]["headers"]["Retry-After"].is_object(),
                "{id}"
            );
            match needed(&method, &path) {
                Access::Open => {
                    assert_eq!(op["security"], json!([]), "{id}");
                    assert!(!statuses.contains("401"), "{id}");
                }
                Access::Needs(scope) => {
                    assert!(op["security"].is_null(), "{id}: the document's default");
                    assert_eq!(op["x-required-scope"], scope.as_str(), "{id}");
                    assert!(statuses.contains("401") && statuses.contains("403"), "{id}");
                    assert!(
                        op["responses"]["401"]["headers"]["WWW-Authenticate"].is_object(),
                        "{id}"
                    );
                    scopes.insert(scope.as_str());
                }
            }
        }
        assert_eq!(scopes.len(), inventory::Scope::ALL.len(), "{scopes:?}");
        assert_eq!(doc["paths"]["/health"]["get"]["security"], json!([]));
    }

    /// What a field's documented schema must say, from its type in the engine's table.
    fn assert_field(field: Field, schema: &Value, context: &str) {
        let at = format!("{context}.{}", field.name());
        match field.value_type() {
            FieldType::Integer { min, max } => {
                assert_eq!(schema["type"], "integer", "{at}");
                assert_eq!(schema["minimum"], min, "{at}");
                assert_eq!(schema["maximum"], max, "{at}");
            }
            FieldType::Text { max, non_empty } => {
                assert_eq!(schema["type"], "string", "{at}");
                assert_eq!(schema["maxLength"], max, "{at}");
                assert_eq!(
                    schema["minLength"].as_u64().unwrap_or(0) > 0,
                    non_empty,
                    "{at}"
                );
            }
            FieldType::Instant => assert_eq!(schema["format"], "date-time", "{at}"),
            FieldType::Flag => assert_eq!(schema["type"], "boolean", "{at}"),
        }
    }

    fn assert_shape(schema: &Value, shape: &Shape, own: &[&str], context: &str) {
        let fields: Vec<String> = own
            .iter()
            .map(|s| (*s).to_owned())
            .chain(shape.fields.iter().map(|(f, _)| f.name().to_owned()))
            .collect();
        let documented: Vec<String> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(
            documented.iter().collect::<BTreeSet<_>>(),
            fields.iter().collect::<BTreeSet<_>>(),
            "{context}: properties"
        );
        assert_eq!(
            strings(&schema["x-field-order"]),
            fields,
            "{context}: x-field-order"
        );
        let required: BTreeSet<String> = own
            .iter()
            .map(|s| (*s).to_owned())
            .chain(
                shape
                    .fields
                    .iter()
                    .filter(|(_, p)| *p == Presence::Required)
                    .map(|(f, _)| f.name().to_owned()),
            )
            .collect();
        let documented: BTreeSet<String> = strings(&schema["required"]).into_iter().collect();
        assert_eq!(documented, required, "{context}: required");
        for (field, _) in shape.fields {
            assert_field(*field, &schema["properties"][field.name()], context);
        }
        let pairs: BTreeSet<Vec<String>> = schema["not"]["anyOf"]
            .as_array()
            .map(|a| a.iter().map(|p| strings(&p["required"])).collect())
            .unwrap_or_default();
        let exclusive: BTreeSet<Vec<String>> = shape
            .exclusive
            .iter()
            .map(|(a, b)| vec![a.name().to_owned(), b.name().to_owned()])
            .collect();
        assert_eq!(pairs, exclusive, "{context}: exclusive pairs");
        let either: BTreeSet<Vec<String>> = schema["allOf"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        e["anyOf"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .flat_map(|r| strings(&r["required"]))
                            .collect()
                    })
                    .collect()
            })
            .unwrap_or_default();
        let one_of: BTreeSet<Vec<String>> = shape
            .one_of
            .iter()
            .map(|(a, b)| vec![a.name().to_owned(), b.name().to_owned()])
            .collect();
        assert_eq!(either, one_of, "{context}: one of");
        assert_eq!(schema["additionalProperties"], false, "{context}");
    }

    #[test]
    fn stock_bodies_and_batch_items_are_the_engine_table() {
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        let item = &schemas["BatchItem"];
        let variants: Vec<String> = item["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["$ref"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(variants.len(), OpKind::ALL.len());
        assert_eq!(item["discriminator"]["propertyName"], "op");
        for kind in OpKind::ALL {
            let shape = shape::shape(kind);
            let path = format!("/api/products/{{id}}/stock/{}", kind.as_str());
            let body = &doc["paths"][&path]["post"]["requestBody"]["content"]["application/json"]["schema"]
                ["$ref"];
            let name = body.as_str().unwrap().rsplit('/').next().unwrap();
            assert_shape(&schemas[name], shape, &[], &path);

            let target = item["discriminator"]["mapping"][kind.as_str()]
                .as_str()
                .unwrap_or_else(|| panic!("no batch variant for {kind:?}"));
            assert!(variants.iter().any(|v| v == target));
            let variant = &schemas[target.rsplit('/').next().unwrap()];
            assert_shape(variant, shape, &ITEM_KEYS, target);
            assert_eq!(
                strings(&variant["properties"]["op"]["enum"]),
                [kind.as_str()]
            );
        }
        let operations = &schemas["Batch"]["properties"]["operations"];
        assert_eq!(operations["maxItems"], inventory::MAX_BATCH);
    }

    #[test]
    fn the_price_limit_survives_a_double() {
        let (max, step) = price_bounds();
        let back: Decimal = max.to_string().parse().unwrap();
        assert_eq!(
            back + Decimal::new(1, inventory::MAX_PRICE_SCALE),
            inventory::PRICE_LIMIT
        );
        assert_eq!(step.to_string(), "0.0001");
        let doc = document();
        let price = &doc["components"]["schemas"]["Product"]["properties"]["price"];
        assert_eq!(
            (price["format"].as_str(), price["maximum"].as_f64()),
            (Some("decimal"), Some(max))
        );
    }

    fn level(location: &str) -> StockLevel {
        StockLevel {
            id: Uuid::nil(),
            product_id: Uuid::nil(),
            location: location.into(),
            on_hand: 3,
            reserved: 1,
            available: 2,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn assert_object(schemas: &Value, name: &str, written: Value) {
        let schema = &schemas[name];
        let required: BTreeSet<String> = strings(&schema["required"]).into_iter().collect();
        assert_eq!(
            keys(&schema["properties"]),
            keys(&written),
            "{name}: properties"
        );
        assert_eq!(required, keys(&written), "{name}: required");
    }

    #[test]
    fn response_objects_are_what_the_server_writes() {
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        let product = Product {
            id: Uuid::nil(),
            name: "Laptop".into(),
            description: String::new(),
            sku: "LAP".into(),
            price: Price::parse("19.99").unwrap(),
            location: "default".into(),
            reorder_point: None,
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let summary = StockSummary {
            totals: level("default"),
            locations: vec![level("default")],
            low_stock: false,
        };
        let with_stock = ProductWithStock {
            product: product.clone(),
            inventory: summary.clone(),
        };
        let movement = Movement {
            seq: 1,
            id: Uuid::nil(),
            inventory_id: Uuid::nil(),
            product_id: Uuid::nil(),
            location: "default".into(),
            kind: MovementKind::In,
            quantity: 3,
            on_hand_after: 3,
            reserved_after: 0,
            reference: None,
            notes: None,
            external_id: Some("ERP-REC-1".into()),
            transfer_id: None,
            actor: Some("till-1".into()),
            created_at: Utc::now(),
        };
        let page = ChangePage {
            movements: vec![movement.clone()],
            next_after: 1,
        };
        let location = Location {
            name: "default".into(),
            on_hand: 3,
            reserved: 1,
            available: 2,
            products: 1,
            created_at: Utc::now(),
        };
        let reservation = Reservation {
            id: Uuid::nil(),
            product_id: Uuid::nil(),
            location: "default".into(),
            reference: "O-1".into(),
            quantity: 1,
            expires_at: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            owner: Some("shop-front".into()),
        };
        let v = |x: Result<Value, serde_json::Error>| x.unwrap();
        use serde_json::to_value;
        assert_object(schemas, "Product", v(to_value(ProductJson::from(&product))));
        assert_object(
            schemas,
            "StockLevel",
            v(to_value(LevelJson::from(&summary.totals))),
        );
        assert_object(
            schemas,
            "Inventory",
            v(to_value(SummaryJson::from(&summary))),
        );
        let with_stock = v(to_value(ProductWithStockJson::from(&with_stock)));
        assert_object(schemas, "ProductWithStock", with_stock);
        assert_object(
            schemas,
            "Transaction",
            v(to_value(MovementJson::from(&movement))),
        );
        assert_object(
            schemas,
            "EventPage",
            v(to_value(ChangePageJson::from(&page))),
        );
        assert_object(schemas, "Location", v(to_value(&location)));
        let created = inventory::CreatedKey {
            key: inventory::ApiKey {
                name: "till-1".into(),
                scope: inventory::Scope::Write,
                locations: Some(vec!["Shop".into()]),
                created_at: Utc::now(),
                revoked_at: None,
            },
            secret: "inv_x".into(),
        };
        assert_object(schemas, "ApiKey", v(to_value(&created.key)));
        assert_object(
            schemas,
            "CreatedApiKey",
            v(to_value(crate::json::CreatedKeyJson::from(&created))),
        );
        let scope = v(to_value(inventory::Scope::Admin));
        assert!(
            schemas["Scope"]["enum"]
                .as_array()
                .unwrap()
                .contains(&scope)
        );
        assert_object(schemas, "Reservation", v(to_value(&reservation)));
        let till = inventory::Till {
            id: "T1".into(),
            key: "till-1".into(),
            instance_id: "i".into(),
            location: "Shop".into(),
            registered_at: Utc::now(),
            last_sync_at: Utc::now(),
        };
        assert_object(schemas, "Till", v(to_value(&till)));
        let database = inventory::DatabaseIdentity {
            id: "a".into(),
            generation: "b".into(),
        };
        assert_object(schemas, "DatabaseIdentity", v(to_value(&database)));
        let check_in = inventory::CheckIn {
            till: till.clone(),
            database,
            high_water: 9,
        };
        assert_object(schemas, "CheckIn", v(to_value(&check_in)));
        let status = inventory::TillStatus {
            till: till.clone(),
            allotments: vec![reservation.clone()],
            lag_seconds: 3,
        };
        assert_object(schemas, "TillStatus", v(to_value(&status)));
        let taken = inventory::TakeOver {
            till,
            released: 1,
            transferred: 0,
        };
        assert_object(schemas, "TakeOver", v(to_value(&taken)));
        let report = inventory::ConflictReport {
            reference: "sale:T1:1".into(),
            till_id: "T1".into(),
            code: "CONFLICT".into(),
            first: true,
        };
        assert_object(schemas, "TillConflictReport", v(to_value(&report)));
        let catalogue = CataloguePage {
            products: vec![CatalogueEntry {
                product: product.clone(),
                archived_at: Some(Utc::now()),
                revision: 4,
            }],
            next_after: 4,
        };
        assert_object(
            schemas,
            "CatalogueEntry",
            v(to_value(CatalogueEntryJson::from(&catalogue.products[0]))),
        );
        assert_object(
            schemas,
            "CataloguePage",
            v(to_value(CataloguePageJson::from(&catalogue))),
        );
        let error = ApiError {
            field: Some("quantity".into()),
            index: Some(0),
            ..ApiError::validation("quantity", "x")
        };
        let written: Value = serde_json::from_slice(&crate::json::failure(&error)).unwrap();
        assert_eq!(
            keys(&doc["components"]["schemas"]["Error"]["properties"]),
            keys(&written)
        );
        let written: Value = serde_json::from_slice(&crate::json::success(&1, "m")).unwrap();
        for (name, _) in envelopes() {
            assert_eq!(keys(&schemas[name]["properties"]), keys(&written), "{name}");
        }
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
