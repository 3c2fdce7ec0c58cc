//! The route tables: every path, its methods and their handlers. The router and the 405 Allow
//! header read both; the OpenAPI consistency test reads `ROUTES`, the API, and not `PAGES`,
//! the dashboard, which is no part of the API.

use crate::app::App;
use crate::errors::ApiError;
use crate::handlers::{
    catalogue, dashboard, events, keys, locations, products, stock, system, tills,
};
use crate::http::{Reply, Req};

pub type Handler = fn(&App, &mut Req) -> Result<Reply, ApiError>;

pub struct Route {
    pub path: &'static str,
    pub methods: &'static [(&'static str, Handler)],
}

/// The path whose GET also serves Server-Sent Events (`Accept: text/event-stream`).
pub const EVENTS_PATH: &str = "/api/events";

/// The readiness probe: its GET takes the database's write lock, which another process may
/// hold for up to the busy timeout, so it never runs on a connection thread.
pub const READY_PATH: &str = "/ready";

pub const ROUTES: &[Route] = &[
    Route {
        path: "/health",
        methods: &[("GET", system::health)],
    },
    Route {
        path: READY_PATH,
        methods: &[("GET", system::ready)],
    },
    Route {
        path: "/metrics",
        methods: &[("GET", system::metrics)],
    },
    Route {
        path: "/openapi.json",
        methods: &[("GET", system::openapi)],
    },
    Route {
        path: "/api/products",
        methods: &[("GET", products::list), ("POST", products::create)],
    },
    Route {
        path: "/api/products/{id}",
        methods: &[
            ("GET", products::get),
            ("PUT", products::update),
            ("DELETE", products::delete),
        ],
    },
    Route {
        path: "/api/products/{id}/inventory",
        methods: &[("GET", products::inventory)],
    },
    Route {
        path: "/api/products/{id}/transactions",
        methods: &[("GET", products::transactions)],
    },
    Route {
        path: "/api/products/{id}/reservations",
        methods: &[("GET", products::reservations)],
    },
    Route {
        path: "/api/products/{id}/stock/add",
        methods: &[("POST", stock::add)],
    },
    Route {
        path: "/api/products/{id}/stock/remove",
        methods: &[("POST", stock::remove)],
    },
    Route {
        path: "/api/products/{id}/stock/reserve",
        methods: &[("POST", stock::reserve)],
    },
    Route {
        path: "/api/products/{id}/stock/unreserve",
        methods: &[("POST", stock::unreserve)],
    },
    Route {
        path: "/api/products/{id}/stock/commit",
        methods: &[("POST", stock::commit)],
    },
    Route {
        path: "/api/products/{id}/stock/transfer",
        methods: &[("POST", stock::transfer)],
    },
    Route {
        path: "/api/products/{id}/stock/count",
        methods: &[("POST", stock::count)],
    },
    Route {
        path: "/api/products/{id}/stock/renew",
        methods: &[("POST", stock::renew)],
    },
    Route {
        path: "/api/stock/batch",
        methods: &[("POST", stock::batch)],
    },
    Route {
        path: "/api/locations",
        methods: &[("GET", locations::list), ("POST", locations::create)],
    },
    Route {
        path: "/api/reservations",
        methods: &[("GET", locations::by_reference)],
    },
    Route {
        path: "/api/reservations/expiring",
        methods: &[("GET", locations::expiring)],
    },
    Route {
        path: EVENTS_PATH,
        methods: &[("GET", events::page)],
    },
    Route {
        path: "/api/catalogue",
        methods: &[("GET", catalogue::page)],
    },
    Route {
        path: "/api/keys",
        methods: &[("GET", keys::list), ("POST", keys::create)],
    },
    Route {
        path: "/api/keys/{name}",
        methods: &[("DELETE", keys::revoke)],
    },
    Route {
        path: "/api/tills",
        methods: &[("GET", tills::list)],
    },
    Route {
        path: "/api/tills/conflicts",
        methods: &[("POST", tills::conflict)],
    },
    Route {
        path: "/api/tills/{id}/check-in",
        methods: &[("POST", tills::check_in)],
    },
    Route {
        path: "/api/tills/{id}/take-over",
        methods: &[("POST", tills::take_over)],
    },
];

/// The dashboard: its page and its assets.
pub const PAGES: &[Route] = &[
    Route {
        path: "/",
        methods: &[("GET", dashboard::index)],
    },
    Route {
        path: "/dashboard/{file}",
        methods: &[("GET", dashboard::asset)],
    },
];

pub struct Router(matchit::Router<&'static Route>);

pub enum Found {
    Handler {
        route: &'static Route,
        handler: Handler,
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
        let mut methods: Vec<&str> = self.methods.iter().map(|(m, _)| *m).collect();
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
        match route.methods.iter().find(|(m, _)| *m == wanted) {
            Some((_, handler)) => Found::Handler {
                route,
                handler: *handler,
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
