//! The route table: every path and, for each of its methods, the whole HTTP contract of that
//! operation (operationId, tag, summary, the scope it needs, its typed path and query
//! parameters, its request body and its answer, the statuses it adds). The router, the 405
//! Allow header, the scope check, the metrics labels and the OpenAPI document (`openapi.rs`) all
//! read it; the document's schemas come from the types named here. `PAGES`, the dashboard, is
//! routed the same way but is no part of the API, so the document leaves it out.

use crate::app::App;
use crate::auth::Access;
use crate::errors::ApiError;
use crate::handlers::{
    catalogue, dashboard, events, keys, locations, products, stock, system, tills, webhooks,
};
use crate::http::{Reply, Req};
use crate::input::{
    BatchBody, CheckInBody, CreateProductBody, KeyBody, LocationBody, RewindBody, TakeOverBody,
    TillConflictBody, UpdateProductBody, WebhookBody,
};
use crate::json::{
    CataloguePageJson, ChangePageJson, CreatedKeyJson, CreatedWebhookJson, Deleted, Health,
    LevelJson, MovementJson, ProductJson, ProductWithStockJson, Ready, SummaryOrLevel,
};
use crate::params::{
    CatalogueQuery, DeliveriesQuery, EventsQuery, ExpiringQuery, FilePath, InventoryQuery, KeyPath,
    MovementQuery, ProductListQuery, ProductPath, ReferenceQuery, TillPath, WebhookPath,
};
use inventory::webhooks::{Delivery, Webhook};
use inventory::{
    ApiKey, CheckIn, ConflictReport, Location, OpKind, Reservation, Scope, TakeOver, TillStatus,
};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde_json::Value;

pub type Handler = fn(&App, &mut Req) -> Result<Reply, ApiError>;

/// A type's schema (a `$ref` to its component, which the generator collects).
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

pub fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// A request body's schema: `T`'s component, with `x-field-order` naming its fields in the order
/// serde reads them, the struct's own (`properties` is a JSON object, whose keys keep no order:
/// the document's are sorted). The dashboard lays its forms out in that order.
pub fn body<T: JsonSchema + DeserializeOwned>(generator: &mut SchemaGenerator) -> Schema {
    let reference = generator.subschema_for::<T>();
    let order = serde_aux::serde_introspection::serde_introspect::<T>();
    generator
        .definitions_mut()
        .get_mut(T::schema_name().as_ref())
        .and_then(Value::as_object_mut)
        .expect("a body is a named object")
        .insert("x-field-order".into(), order.into());
    reference
}

/// What an operation reads from its body.
#[derive(Clone, Copy)]
pub enum Body {
    None,
    /// A JSON object, its schema from `body`.
    Json(SchemaFn),
    /// A stock operation: the fields the engine's table gives the kind.
    Stock(OpKind),
}

/// What an operation answers on success.
#[derive(Clone, Copy)]
pub enum Answer {
    /// The envelope `{data, message, timestamp}`, with this status; `envelope` names its
    /// component, and `schema` is its schema (`json::envelope` of the data's type).
    Json {
        status: u16,
        envelope: &'static str,
        schema: SchemaFn,
    },
    /// The metrics' text formats.
    Metrics,
    /// The OpenAPI document itself.
    Document,
    /// A dashboard file.
    Page,
}

/// One method of a path: its handler and its contract.
pub struct Endpoint {
    pub method: &'static str,
    pub handler: Handler,
    pub id: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    /// What the caller needs: a read needs `read` and any other method `write` unless said
    /// otherwise, so that a route added later is covered without a word.
    pub access: Access,
    /// The path parameters, as one struct.
    pub path: Option<SchemaFn>,
    pub query: Option<SchemaFn>,
    pub body: Body,
    pub answer: Answer,
    /// Client errors it can give, beside those every operation can.
    pub errors: &'static [u16],
    /// Answers with the product's version as its ETag.
    pub etag: bool,
    /// Takes If-Match (a compare-and-set on the product's version).
    pub conditional: bool,
    /// Takes an Idempotency-Key.
    pub idempotent: bool,
}

const READ: Access = Access::Needs(Scope::Read);
const WRITE: Access = Access::Needs(Scope::Write);
const ADMIN: Access = Access::Needs(Scope::Admin);

const fn json<T: JsonSchema + DeserializeOwned>() -> Body {
    Body::Json(body::<T>)
}

const fn data<T: JsonSchema + 'static>(status: u16, envelope: &'static str) -> Answer {
    Answer::Json {
        status,
        envelope,
        schema: crate::json::envelope::<T>,
    }
}

impl Endpoint {
    const fn new(
        method: &'static str,
        id: &'static str,
        tag: &'static str,
        handler: Handler,
    ) -> Endpoint {
        let is_read = matches!(method.as_bytes(), b"GET");
        Endpoint {
            method,
            handler,
            id,
            tag,
            summary: "",
            access: if is_read { READ } else { WRITE },
            path: None,
            query: None,
            body: Body::None,
            answer: Answer::Page,
            errors: &[],
            etag: false,
            conditional: false,
            idempotent: !is_read,
        }
    }

    const fn get(id: &'static str, tag: &'static str, handler: Handler) -> Endpoint {
        Endpoint::new("GET", id, tag, handler)
    }

    const fn post(id: &'static str, tag: &'static str, handler: Handler) -> Endpoint {
        Endpoint::new("POST", id, tag, handler)
    }

    const fn stock(kind: OpKind, id: &'static str, handler: Handler) -> Endpoint {
        Endpoint {
            summary: kind_summary(kind),
            path: Some(schema::<ProductPath>),
            body: Body::Stock(kind),
            answer: match kind {
                OpKind::Transfer => data::<stock::Transfer>(200, "TransferResponse"),
                _ => data::<LevelJson>(200, "StockLevelResponse"),
            },
            errors: &[404, 409],
            ..Endpoint::post(id, "stock", handler)
        }
    }
}

/// What a stock operation does, in a line.
pub const fn kind_summary(kind: OpKind) -> &'static str {
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

pub struct Route {
    pub path: &'static str,
    pub methods: &'static [Endpoint],
}

/// The path whose GET also serves Server-Sent Events (`Accept: text/event-stream`).
pub const EVENTS_PATH: &str = "/api/events";

/// The readiness probe: its GET takes the database's write lock, which another process may
/// hold for up to the busy timeout, so it never runs on a connection thread.
pub const READY_PATH: &str = "/ready";

pub const ROUTES: &[Route] = &[
    Route {
        path: "/health",
        methods: &[Endpoint {
            summary: "200 when the database answers, 503 when it does not (or its file was deleted or replaced while the server runs)",
            access: Access::Open,
            answer: data::<Health>(200, "HealthResponse"),
            ..Endpoint::get("health", "system", system::health)
        }],
    },
    Route {
        path: READY_PATH,
        methods: &[Endpoint {
            summary: "200 only when the database would take a write now: open, its write lock free to take, and for a file the path still leading to the file the server holds; else 503 (BUSY, with Retry-After, or STORAGE_ERROR)",
            answer: data::<Ready>(200, "ReadyResponse"),
            ..Endpoint::get("ready", "system", system::ready)
        }],
    },
    Route {
        path: "/metrics",
        methods: &[Endpoint {
            summary: "metrics for Prometheus: requests by route template and status, latency, connections, the engine's commands, commits and checkpoints, reservations, file sizes, event streams, memory and threads",
            answer: Answer::Metrics,
            ..Endpoint::get("metrics", "system", system::metrics)
        }],
    },
    Route {
        path: "/openapi.json",
        methods: &[Endpoint {
            summary: "this document",
            answer: Answer::Document,
            ..Endpoint::get("get_openapi", "system", system::openapi)
        }],
    },
    Route {
        path: "/api/products",
        methods: &[
            Endpoint {
                summary: "list products in creation order",
                query: Some(schema::<ProductListQuery>),
                answer: data::<Vec<ProductJson>>(200, "ProductListResponse"),
                errors: &[400],
                ..Endpoint::get("list_products", "products", products::list)
            },
            Endpoint {
                summary: "create a product with its initial stock",
                body: json::<CreateProductBody>(),
                answer: data::<ProductWithStockJson>(201, "ProductWithStockResponse"),
                errors: &[409],
                etag: true,
                ..Endpoint::post("create_product", "products", products::create)
            },
        ],
    },
    Route {
        path: "/api/products/{id}",
        methods: &[
            Endpoint {
                summary: "a product with its inventory",
                path: Some(schema::<ProductPath>),
                answer: data::<ProductWithStockJson>(200, "ProductWithStockResponse"),
                errors: &[404],
                etag: true,
                ..Endpoint::get("get_product", "products", products::get)
            },
            Endpoint {
                summary: "partial update; If-Match makes it a compare-and-set",
                path: Some(schema::<ProductPath>),
                body: json::<UpdateProductBody>(),
                answer: data::<ProductJson>(200, "ProductResponse"),
                errors: &[404, 409, 412],
                etag: true,
                conditional: true,
                ..Endpoint::new("PUT", "update_product", "products", products::update)
            },
            Endpoint {
                summary: "archive a product (its ledger is kept); If-Match makes it conditional",
                path: Some(schema::<ProductPath>),
                answer: data::<Deleted>(200, "DeletedResponse"),
                errors: &[400, 404, 409, 412],
                conditional: true,
                ..Endpoint::new("DELETE", "delete_product", "products", products::delete)
            },
        ],
    },
    Route {
        path: "/api/products/{id}/inventory",
        methods: &[Endpoint {
            summary: "stock totals over every location, or with ?location= one level",
            path: Some(schema::<ProductPath>),
            query: Some(schema::<InventoryQuery>),
            answer: data::<SummaryOrLevel>(200, "InventoryResponse"),
            errors: &[400, 404],
            ..Endpoint::get("get_inventory", "products", products::inventory)
        }],
    },
    Route {
        path: "/api/products/{id}/transactions",
        methods: &[Endpoint {
            summary: "the product's movements, newest first",
            path: Some(schema::<ProductPath>),
            query: Some(schema::<MovementQuery>),
            answer: data::<Vec<MovementJson>>(200, "TransactionListResponse"),
            errors: &[400, 404],
            ..Endpoint::get("list_transactions", "products", products::transactions)
        }],
    },
    Route {
        path: "/api/products/{id}/reservations",
        methods: &[Endpoint {
            summary: "open reservations of a product",
            path: Some(schema::<ProductPath>),
            answer: data::<Vec<Reservation>>(200, "ReservationListResponse"),
            errors: &[404],
            ..Endpoint::get(
                "list_product_reservations",
                "reservations",
                products::reservations,
            )
        }],
    },
    Route {
        path: "/api/products/{id}/stock/add",
        methods: &[Endpoint::stock(OpKind::Add, "add_stock", stock::add)],
    },
    Route {
        path: "/api/products/{id}/stock/remove",
        methods: &[Endpoint::stock(
            OpKind::Remove,
            "remove_stock",
            stock::remove,
        )],
    },
    Route {
        path: "/api/products/{id}/stock/reserve",
        methods: &[Endpoint::stock(
            OpKind::Reserve,
            "reserve_stock",
            stock::reserve,
        )],
    },
    Route {
        path: "/api/products/{id}/stock/unreserve",
        methods: &[Endpoint::stock(
            OpKind::Unreserve,
            "unreserve_stock",
            stock::unreserve,
        )],
    },
    Route {
        path: "/api/products/{id}/stock/commit",
        methods: &[Endpoint::stock(
            OpKind::Commit,
            "commit_stock",
            stock::commit,
        )],
    },
    Route {
        path: "/api/products/{id}/stock/transfer",
        methods: &[Endpoint::stock(
            OpKind::Transfer,
            "transfer_stock",
            stock::transfer,
        )],
    },
    Route {
        path: "/api/products/{id}/stock/count",
        methods: &[Endpoint::stock(OpKind::Count, "count_stock", stock::count)],
    },
    Route {
        path: "/api/products/{id}/stock/renew",
        methods: &[Endpoint::stock(OpKind::Renew, "renew_stock", stock::renew)],
    },
    Route {
        path: "/api/stock/batch",
        methods: &[Endpoint {
            summary: "apply stock operations all or nothing; a failure names the operation's index",
            body: json::<BatchBody>(),
            answer: data::<stock::BatchResult>(200, "BatchResultResponse"),
            errors: &[404, 409],
            ..Endpoint::post("apply_batch", "stock", stock::batch)
        }],
    },
    Route {
        path: "/api/locations",
        methods: &[
            Endpoint {
                summary: "locations with their totals",
                answer: data::<Vec<Location>>(200, "LocationListResponse"),
                ..Endpoint::get("list_locations", "locations", locations::list)
            },
            Endpoint {
                summary: "create a location",
                body: json::<LocationBody>(),
                answer: data::<Location>(201, "LocationResponse"),
                errors: &[409],
                ..Endpoint::post("create_location", "locations", locations::create)
            },
        ],
    },
    Route {
        path: "/api/reservations",
        methods: &[Endpoint {
            summary: "open reservations held under a reference, across products",
            query: Some(schema::<ReferenceQuery>),
            answer: data::<Vec<Reservation>>(200, "ReservationListResponse"),
            errors: &[400],
            ..Endpoint::get("list_reservations", "reservations", locations::by_reference)
        }],
    },
    Route {
        path: "/api/reservations/expiring",
        methods: &[Endpoint {
            summary: "open reservations of live products lapsing soon, soonest first",
            query: Some(schema::<ExpiringQuery>),
            answer: data::<Vec<Reservation>>(200, "ReservationListResponse"),
            errors: &[400],
            ..Endpoint::get(
                "list_expiring_reservations",
                "reservations",
                locations::expiring,
            )
        }],
    },
    Route {
        path: EVENTS_PATH,
        methods: &[Endpoint {
            summary: "the change feed: movements after a sequence number, oldest first. With Accept: text/event-stream, Server-Sent Events (id: = seq, event: movement, data: a Transaction; resume with Last-Event-ID); 503 when the subscriber cap is reached",
            query: Some(schema::<EventsQuery>),
            answer: data::<ChangePageJson>(200, "EventPageResponse"),
            errors: &[400],
            ..Endpoint::get("get_events", "events", events::page)
        }],
    },
    Route {
        path: "/api/catalogue",
        methods: &[Endpoint {
            summary: "the catalogue feed: products created, updated or archived after a revision, archived ones included, each once as it is now, in commit order (what a till mirrors)",
            query: Some(schema::<CatalogueQuery>),
            answer: data::<CataloguePageJson>(200, "CataloguePageResponse"),
            errors: &[400],
            ..Endpoint::get("get_catalogue", "products", catalogue::page)
        }],
    },
    Route {
        path: "/api/keys",
        methods: &[
            Endpoint {
                summary: "every API key, revoked ones included, never a secret",
                access: ADMIN,
                answer: data::<Vec<ApiKey>>(200, "ApiKeyListResponse"),
                ..Endpoint::get("list_keys", "keys", keys::list)
            },
            Endpoint {
                summary: "create an API key; its secret is in this answer and nowhere else (no Idempotency-Key: a repeat is 409)",
                access: ADMIN,
                body: json::<KeyBody>(),
                answer: data::<CreatedKeyJson>(201, "CreatedApiKeyResponse"),
                errors: &[409],
                idempotent: false,
                ..Endpoint::post("create_key", "keys", keys::create)
            },
        ],
    },
    Route {
        path: "/api/keys/{name}",
        methods: &[Endpoint {
            summary: "revoke a key: refused from then on (by other servers on the database within a second); no Idempotency-Key (a repeat is 404)",
            access: ADMIN,
            path: Some(schema::<KeyPath>),
            answer: data::<ApiKey>(200, "ApiKeyResponse"),
            errors: &[400, 404],
            idempotent: false,
            ..Endpoint::new("DELETE", "revoke_key", "keys", keys::revoke)
        }],
    },
    Route {
        path: "/api/tills",
        methods: &[Endpoint {
            summary: "registered tills, with their last sync, allotments and lag",
            answer: data::<Vec<TillStatus>>(200, "TillListResponse"),
            ..Endpoint::get("list_tills", "tills", tills::list)
        }],
    },
    Route {
        path: "/api/tills/conflicts",
        methods: &[Endpoint {
            summary: "a till reports a sale of its own that central refused (its lease lapsed and the units were sold elsewhere, or the product was archived): only a sale of a till registered to the key (403 otherwise), recorded and counted once in inventory_till_conflicts_total by code, and logged with the key; the sale waits at the till for an operator. No Idempotency-Key: a repeat is recorded once",
            body: json::<TillConflictBody>(),
            answer: data::<ConflictReport>(202, "TillConflictResponse"),
            errors: &[403],
            idempotent: false,
            ..Endpoint::post("report_till_conflict", "tills", tills::conflict)
        }],
    },
    Route {
        path: "/api/tills/{id}/check-in",
        methods: &[Endpoint {
            summary: "a till's first call of every sync: registers the till id with the key and the till's instance the first time; another key is 403, another instance 409 (nothing of the registered till changes). Answers central's database identity, generation, high-water sequence and the movement there (point), and whether central still holds the point the till sent as seen (seen_held: false after a rewind, even one that kept the generation); a till whose seen check-in is later than the registration's last is accepted with its newer token. No Idempotency-Key",
            path: Some(schema::<TillPath>),
            body: json::<CheckInBody>(),
            answer: data::<CheckIn>(200, "CheckInResponse"),
            errors: &[403, 409],
            idempotent: false,
            ..Endpoint::post("check_in_till", "tills", tills::check_in)
        }],
    },
    Route {
        path: "/api/tills/{id}/take-over",
        methods: &[Endpoint {
            summary: "an admin ends a till's registration (a replaced device): its allotments are released, or kept for the next instance to register under the id, either way recorded in the ledger. No Idempotency-Key (a repeat is 404)",
            access: ADMIN,
            path: Some(schema::<TillPath>),
            body: json::<TakeOverBody>(),
            answer: data::<TakeOver>(200, "TakeOverResponse"),
            errors: &[404],
            idempotent: false,
            ..Endpoint::post("take_over_till", "tills", tills::take_over)
        }],
    },
    Route {
        path: "/api/webhooks",
        methods: &[
            Endpoint {
                summary: "every webhook subscription with its cursor (`after`), failures, backoff and lease; never a secret",
                access: ADMIN,
                answer: data::<Vec<Webhook>>(200, "WebhookListResponse"),
                ..Endpoint::get("list_webhooks", "webhooks", webhooks::list)
            },
            Endpoint {
                summary: "subscribe a URL to the ledger's events (`movement.created`), optionally only some locations or products; delivered from the next movement on, signed by the Standard Webhooks scheme with the secret in this answer, shown this once. A URL leading to a loopback, private or link-local address is 400 unless the server runs with --webhook-allow-private. No Idempotency-Key",
                access: ADMIN,
                body: json::<WebhookBody>(),
                answer: data::<CreatedWebhookJson>(201, "CreatedWebhookResponse"),
                idempotent: false,
                ..Endpoint::post("create_webhook", "webhooks", webhooks::create)
            },
        ],
    },
    Route {
        path: "/api/webhooks/{id}",
        methods: &[
            Endpoint {
                summary: "one webhook subscription",
                access: ADMIN,
                path: Some(schema::<WebhookPath>),
                answer: data::<Webhook>(200, "WebhookResponse"),
                errors: &[404],
                ..Endpoint::get("get_webhook", "webhooks", webhooks::get)
            },
            Endpoint {
                summary: "delete a subscription and its delivery log (the subscription as it was). No Idempotency-Key (a repeat is 404)",
                access: ADMIN,
                path: Some(schema::<WebhookPath>),
                answer: data::<Webhook>(200, "WebhookResponse"),
                errors: &[404],
                idempotent: false,
                ..Endpoint::new("DELETE", "delete_webhook", "webhooks", webhooks::delete)
            },
        ],
    },
    Route {
        path: "/api/webhooks/{id}/pause",
        methods: &[Endpoint {
            summary: "stop delivering a subscription; its cursor stays. No Idempotency-Key",
            access: ADMIN,
            path: Some(schema::<WebhookPath>),
            answer: data::<Webhook>(200, "WebhookResponse"),
            errors: &[404],
            idempotent: false,
            ..Endpoint::post("pause_webhook", "webhooks", webhooks::pause)
        }],
    },
    Route {
        path: "/api/webhooks/{id}/resume",
        methods: &[Endpoint {
            summary: "deliver a paused subscription again from where it stopped, its failures forgotten. No Idempotency-Key",
            access: ADMIN,
            path: Some(schema::<WebhookPath>),
            answer: data::<Webhook>(200, "WebhookResponse"),
            errors: &[404],
            idempotent: false,
            ..Endpoint::post("resume_webhook", "webhooks", webhooks::resume)
        }],
    },
    Route {
        path: "/api/webhooks/{id}/rewind",
        methods: &[Endpoint {
            summary: "move a subscription's cursor to `after`, any seq the ledger holds: the events after it are delivered (again). No Idempotency-Key",
            access: ADMIN,
            path: Some(schema::<WebhookPath>),
            body: json::<RewindBody>(),
            answer: data::<Webhook>(200, "WebhookResponse"),
            errors: &[404],
            idempotent: false,
            ..Endpoint::post("rewind_webhook", "webhooks", webhooks::rewind)
        }],
    },
    Route {
        path: "/api/webhooks/{id}/deliveries",
        methods: &[Endpoint {
            summary: "a subscription's delivery log, newest first: each attempt with the events it carried, its status, latency and error; `event` keeps the attempts that carried that seq",
            access: ADMIN,
            path: Some(schema::<WebhookPath>),
            query: Some(schema::<DeliveriesQuery>),
            answer: data::<Vec<Delivery>>(200, "DeliveryListResponse"),
            errors: &[400, 404],
            ..Endpoint::get("list_webhook_deliveries", "webhooks", webhooks::deliveries)
        }],
    },
];

/// The dashboard: its page and its assets, open to anyone (the page asks for a key itself when
/// the API answers 401).
pub const PAGES: &[Route] = &[
    Route {
        path: "/",
        methods: &[Endpoint {
            access: Access::Open,
            ..Endpoint::get("dashboard", "dashboard", dashboard::index)
        }],
    },
    Route {
        path: "/dashboard/{file}",
        methods: &[Endpoint {
            access: Access::Open,
            path: Some(schema::<FilePath>),
            ..Endpoint::get("dashboard_asset", "dashboard", dashboard::asset)
        }],
    },
];

pub struct Router(matchit::Router<&'static Route>);

pub enum Found {
    Handler {
        route: &'static Route,
        endpoint: &'static Endpoint,
        params: Vec<(String, String)>,
    },
    /// OPTIONS on a known path: what it allows.
    Options(String),
    WrongMethod(String),
    Missing,
}

impl Route {
    /// The Allow header (RFC 9110 §10.2.1): the table's methods, HEAD wherever GET is, and
    /// OPTIONS everywhere.
    pub fn allow(&self) -> String {
        let mut methods: Vec<&str> = self.methods.iter().map(|e| e.method).collect();
        if methods.contains(&"GET") {
            methods.push("HEAD");
        }
        methods.push("OPTIONS");
        methods.join(", ")
    }
}

impl Router {
    pub fn new() -> Router {
        let mut router = matchit::Router::new();
        for route in ROUTES.iter().chain(PAGES) {
            router
                .insert(route.path, route)
                .expect("route paths are distinct and well formed");
        }
        Router(router)
    }

    /// The template of the route `path` falls under (`/api/products/{id}`): what metrics label
    /// a request with, never the raw path, so that the labels stay few.
    pub fn template(&self, path: &str) -> Option<&'static str> {
        self.0.at(path).ok().map(|m| m.value.path)
    }

    /// The route for `method` on `path`. HEAD runs the GET handler (the transport sends no
    /// body); OPTIONS is answered from the table.
    pub fn find(&self, method: &str, path: &str) -> Found {
        let Ok(matched) = self.0.at(path) else {
            return Found::Missing;
        };
        let route: &'static Route = matched.value;
        if method == "OPTIONS" {
            return Found::Options(route.allow());
        }
        let wanted = if method == "HEAD" { "GET" } else { method };
        match route.methods.iter().find(|e| e.method == wanted) {
            Some(endpoint) => Found::Handler {
                route,
                endpoint,
                params: matched
                    .params
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            },
            None => Found::WrongMethod(route.allow()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_options_and_allow() {
        let router = Router::new();
        assert!(matches!(
            router.find("HEAD", "/health"),
            Found::Handler { .. }
        ));
        match router.find("OPTIONS", "/api/products/{id}") {
            Found::Options(allow) => assert_eq!(allow, "GET, PUT, DELETE, HEAD, OPTIONS"),
            _ => panic!("OPTIONS is answered"),
        }
        match router.find("PATCH", "/api/stock/batch") {
            Found::WrongMethod(allow) => assert_eq!(allow, "POST, OPTIONS"),
            _ => panic!("PATCH is not served"),
        }
        assert!(matches!(router.find("GET", "/nowhere"), Found::Missing));
    }

    #[test]
    fn metrics_label_requests_with_the_route_template() {
        let router = Router::new();
        let id = "0193a5f0-0000-7000-8000-000000000000";
        assert_eq!(
            router.template(&format!("/api/products/{id}/stock/add")),
            Some("/api/products/{id}/stock/add")
        );
        assert_eq!(
            router.template("/dashboard/app.js"),
            Some("/dashboard/{file}")
        );
        assert_eq!(router.template("/health"), Some("/health"));
        assert_eq!(router.template("/api/products/x/nowhere"), None);
    }
}
