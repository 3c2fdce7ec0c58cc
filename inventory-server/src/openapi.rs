//! The OpenAPI 3 document served at /openapi.json, generated from what states each part once:
//! the operations from the route table (`routes.rs`: ids, summaries, scopes, parameters, bodies,
//! answers); every request and response object from its Rust type (`schemars` derives on the
//! types the server reads and writes, `json.rs`, `input.rs`, `params.rs` and the engine's
//! models); the stock-operation bodies and batch items from the engine's table
//! (`inventory::shape`), with the limits of each field. What is written here is what no type
//! holds: the statuses every request can meet, the shared headers and the document's prose.
//! The tests below hold the result to the router, to the table and to what `json.rs` writes.

use crate::auth::Access;
use crate::input::ITEM_KEYS;
use crate::routes::{Answer, Body, Endpoint, ROUTES, Route, kind_summary};
use inventory::OpKind;
use inventory::shape::{self, Field, FieldType, Presence, Shape};
use schemars::SchemaGenerator;
use schemars::generate::{Contract, SchemaSettings};
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

pub fn document_bytes() -> &'static [u8] {
    static DOC: OnceLock<Vec<u8>> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_vec(&document()).expect("the document serializes"))
}

/// Header values are printable ASCII, and not blank (HTTP trims the spaces around a value).
const ASCII_TOKEN: &str = "^[ -~]*[!-~][ -~]*$";
/// What If-Match takes: `*`, or an ETag the server sent (`"3"`, `W/"3"`, or a bare version).
const ETAG: &str = "^ *(\\*|(W/)?\"[0-9]{1,18}\"|[0-9]{1,18}) *$";

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn text(max: usize, non_empty: bool) -> Value {
    if non_empty {
        json!({ "type": "string", "minLength": 1, "maxLength": max, "pattern": crate::params::NON_BLANK })
    } else {
        json!({ "type": "string", "maxLength": max, "pattern": crate::input::NO_NUL })
    }
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

/// A generator of OpenAPI 3.0 schemas, for what the server writes (`Contract::Serialize`) or
/// reads (`Contract::Deserialize`): a field with a default is optional only when read.
fn generator(contract: Contract) -> SchemaGenerator {
    let mut settings = SchemaSettings::openapi3();
    settings.contract = contract;
    settings.into_generator()
}

/// The schema behind `schema` (a `$ref` to a definition, which is taken out of the generator, or
/// an inline schema).
fn resolve(generator: &mut SchemaGenerator, schema: schemars::Schema) -> Value {
    let value = schema.to_value();
    let Some(name) = value["$ref"].as_str().and_then(|r| r.rsplit('/').next()) else {
        return value;
    };
    generator
        .definitions_mut()
        .remove(name)
        .unwrap_or_else(|| panic!("{name} is defined"))
}

/// The parameters `schema` (a struct's object schema, from `params.rs`) describes, `in` the path
/// or the query: one per property, its doc comment as the description.
fn parameters(object: &Value, location: &str) -> Vec<Value> {
    let required = object["required"].as_array().cloned().unwrap_or_default();
    let properties = object["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    properties
        .into_iter()
        .map(|(name, mut schema)| {
            let schema_map = schema.as_object_mut().expect("a property is an object");
            let description = schema_map.remove("description");
            // A parameter is absent or a string; it is never null.
            schema_map.remove("nullable");
            if schema_map.get("default") == Some(&Value::Null) {
                schema_map.remove("default");
            }
            let mut param = json!({
                "name": name,
                "in": location,
                "required": location == "path" || required.contains(&Value::from(name.as_str())),
                "schema": schema,
            });
            if let Some(description) = description {
                param["description"] = description;
            }
            param
        })
        .collect()
}

/// One operation of the table, as the document states it. Response envelopes are added to
/// `schemas` under their names.
fn operation(
    e: &Endpoint,
    input: &mut SchemaGenerator,
    output: &mut SchemaGenerator,
    schemas: &mut Map<String, Value>,
) -> Value {
    let mut params = Vec::new();
    if let Some(path) = e.path {
        let schema = path(input);
        let object = resolve(input, schema);
        params.extend(parameters(&object, "path"));
    }
    if let Some(query) = e.query {
        let schema = query(input);
        let object = resolve(input, schema);
        params.extend(parameters(&object, "query"));
    }
    if e.conditional {
        params.push(json!({ "$ref": "#/components/parameters/IfMatch" }));
    }
    if e.idempotent {
        params.push(json!({ "$ref": "#/components/parameters/IdempotencyKey" }));
    }
    let mut headers = json!({ "X-Request-ID": { "$ref": "#/components/headers/RequestId" } });
    if e.idempotent {
        headers["Idempotent-Replayed"] =
            json!({ "$ref": "#/components/headers/IdempotentReplayed" });
    }
    if e.etag {
        headers["ETag"] = json!({ "$ref": "#/components/headers/ETag" });
    }
    let (status, content) = match e.answer {
        Answer::Json {
            status,
            envelope,
            schema,
        } => {
            schemas.insert(envelope.to_owned(), schema(output).to_value());
            (
                status,
                json!({ "application/json": { "schema": r(envelope) } }),
            )
        }
        Answer::Metrics => (
            200,
            json!({
                "text/plain": { "schema": {
                    "type": "string",
                    "description": "the Prometheus text format, version 0.0.4 (`text/plain; version=0.0.4`)"
                } },
                "application/openmetrics-text": { "schema": {
                    "type": "string",
                    "description": "OpenMetrics 1.0 text, for a scraper whose Accept names it"
                } }
            }),
        ),
        Answer::Document => (
            200,
            json!({ "application/json": { "schema": r("OpenApiDocument") } }),
        ),
        Answer::Page => unreachable!("the dashboard's pages are not in the document"),
    };
    let mut responses = Map::new();
    responses.insert(
        status.to_string(),
        json!({ "description": "success", "headers": headers, "content": content }),
    );
    let mut codes: Vec<u16> = e.errors.to_vec();
    codes.extend(EVERY_OPERATION);
    let body = match e.body {
        Body::None => None,
        Body::Json(schema) => Some(schema(input).to_value()),
        Body::Stock(kind) => Some(r(&stock_body_name(kind))),
    };
    if body.is_some() {
        codes.extend([400, 408, 413]);
    }
    codes.extend(access_codes(e.access));
    codes.sort_unstable();
    codes.dedup();
    for code in codes {
        responses.insert(code.to_string(), error_response(code));
    }
    let mut op = json!({
        "operationId": e.id,
        "tags": [e.tag],
        "summary": e.summary,
        "responses": responses,
    });
    access(e.access, &mut op);
    if !params.is_empty() {
        op["parameters"] = params.into();
    }
    if let Some(body) = body {
        op["requestBody"] =
            json!({ "required": true, "content": { "application/json": { "schema": body } } });
    }
    op
}

/// The answers an operation's access adds: 401 and 403 where a key is needed; 429 everywhere,
/// since every request counts against a limit.
fn access_codes(access: Access) -> Vec<u16> {
    match access {
        Access::Open => vec![429],
        Access::Needs(_) => vec![401, 403, 429],
    }
}

/// `security` (none for an open route) and `x-required-scope`, from the table's access.
fn access(access: Access, op: &mut Value) {
    match access {
        Access::Open => op["security"] = json!([]),
        Access::Needs(scope) => op["x-required-scope"] = scope.as_str().into(),
    }
}

fn path_item(
    route: &Route,
    input: &mut SchemaGenerator,
    output: &mut SchemaGenerator,
    schemas: &mut Map<String, Value>,
) -> Value {
    let mut methods = Map::new();
    for e in route.methods {
        let mut op = operation(e, input, output, schemas);
        if route.path == crate::routes::EVENTS_PATH {
            op["responses"]["200"]["content"]["text/event-stream"] = json!({ "schema": {
                "type": "string",
                "description": "`id: <seq>`, `event: movement`, `data: <Transaction JSON>` per movement"
            } });
        }
        methods.insert(e.method.to_ascii_lowercase(), op);
    }
    if let Some(get) = methods.get("get") {
        let head = head_of(get);
        methods.insert("head".into(), head);
    }
    let options = options_of(route.path, &methods);
    methods.insert("options".into(), options);
    Value::Object(methods)
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
    for code in access_codes(Access::Open) {
        responses.insert(code.to_string(), error_response(code));
    }
    let mut op = json!({
        "operationId": format!("options{}", name.trim_end_matches('_').replace("__", "_")),
        "tags": first["tags"].clone(),
        "summary": "the methods this path serves (Allow); a CORS preflight from an allowed origin is answered too",
        "responses": responses,
    });
    access(Access::Open, &mut op);
    if !params.is_empty() {
        op["parameters"] = params.into();
    }
    op
}

pub fn document() -> Value {
    let mut input = generator(Contract::Deserialize);
    let mut output = generator(Contract::Serialize);
    let mut schemas = Map::new();
    let mut paths = Map::new();
    for route in ROUTES {
        let item = path_item(route, &mut input, &mut output, &mut schemas);
        paths.insert(route.path.to_owned(), item);
    }
    // Every error answer refers to the envelope's component, `Error`.
    crate::json::failure_schema(&mut output);
    for (name, schema) in output
        .take_definitions(true)
        .into_iter()
        .chain(input.take_definitions(true))
    {
        schemas.insert(name, schema);
    }
    stock_schemas(&mut schemas);
    schemas.insert(
        "OpenApiDocument".into(),
        json!({ "type": "object", "description": "An OpenAPI 3 document.", "additionalProperties": true }),
    );
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
            { "name": "webhooks", "description": "webhook subscriptions to the ledger's events (admin scope; docs/WEBHOOKS.md)" },
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
    use inventory::{
        CatalogueEntry, CataloguePage, ChangePage, Location, Movement, Price, Product,
        ProductWithStock, Reservation, StockLevel, StockSummary, Utc, Uuid,
    };
    use inventory::{Decimal, MovementKind};
    use schemars::JsonSchema;
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
                // Every write takes an Idempotency-Key, but key and webhook management (whose
                // replay could not show a secret again) and tills' (a check-in or a report
                // repeated is recorded once).
                let keyed = !path.starts_with("/api/keys")
                    && !path.starts_with("/api/tills")
                    && !path.starts_with("/api/webhooks");
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
            match table_access(&method, &path) {
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

    /// What the route table says `method` on `path` needs; OPTIONS is always open, HEAD is GET's.
    fn table_access(method: &str, path: &str) -> Access {
        if method == "OPTIONS" {
            return Access::Open;
        }
        let wanted = if method == "HEAD" { "GET" } else { method };
        let route = ROUTES.iter().find(|r| r.path == path).expect("a route");
        let endpoint = route.methods.iter().find(|e| e.method == wanted);
        endpoint.expect("an endpoint").access
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

    /// The fields serde's derive reads for `T`, in the order its refusal of an unknown field
    /// lists them ("expected one of `name`, `sku`, …"): the struct's own order, found without
    /// the introspection the document uses.
    fn serde_fields<T: serde::de::DeserializeOwned>() -> Vec<String> {
        let refused = serde_json::from_str::<T>(r#"{"\u0001":0}"#).err();
        let message = refused.expect("an unknown field is refused").to_string();
        let expected = &message[message.find("expected").expect(&message)..];
        expected
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    }

    fn assert_field_order<T: JsonSchema + serde::de::DeserializeOwned>(schemas: &Value) {
        let name = T::schema_name();
        let order = strings(&schemas[name.as_ref()]["x-field-order"]);
        assert_eq!(order, serde_fields::<T>(), "{name}");
    }

    #[test]
    fn request_bodies_list_the_structs_fields_in_its_order() {
        use crate::input::{
            BatchBody, CheckInBody, CreateProductBody, KeyBody, LocationBody, TakeOverBody,
            TillConflictBody, UpdateProductBody,
        };
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        // Every body the document names lists each of its properties once.
        for (path, method, op) in operations_of(&doc) {
            let Some(body) =
                op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
            else {
                continue;
            };
            let schema = &schemas[body.rsplit('/').next().unwrap()];
            let order = strings(&schema["x-field-order"]);
            let listed: BTreeSet<String> = order.iter().cloned().collect();
            assert_eq!(listed.len(), order.len(), "{method} {path}: {order:?}");
            assert_eq!(listed, keys(&schema["properties"]), "{method} {path}");
        }
        // The dashboard's product and location forms are laid out in this order.
        assert_field_order::<CreateProductBody>(schemas);
        assert_field_order::<UpdateProductBody>(schemas);
        assert_field_order::<LocationBody>(schemas);
        assert_field_order::<KeyBody>(schemas);
        assert_field_order::<BatchBody>(schemas);
        assert_field_order::<TillConflictBody>(schemas);
        assert_field_order::<CheckInBody>(schemas);
        assert_field_order::<TakeOverBody>(schemas);
        // An order the properties do not give: theirs is sorted, the struct's is not.
        let sorted: Vec<String> = keys(&schemas["NewProduct"]["properties"])
            .into_iter()
            .collect();
        assert_ne!(strings(&schemas["NewProduct"]["x-field-order"]), sorted);
    }

    #[test]
    fn the_price_limit_survives_a_double() {
        let (max, step) = crate::json::price_bounds();
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
            owner: Some("shop".into()),
            created_at: Utc::now(),
            updated_at: Utc::now(),
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
            point: Some(inventory::LedgerPoint {
                seq: 9,
                movement_id: inventory::Uuid::now_v7(),
            }),
            seen_held: Some(false),
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
        let envelopes = ROUTES
            .iter()
            .flat_map(|r| r.methods)
            .filter_map(|e| match e.answer {
                Answer::Json { envelope, .. } => Some(envelope),
                _ => None,
            });
        for name in envelopes {
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
