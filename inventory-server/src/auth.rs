//! Who is calling, and whether they may: the `Authorization: Bearer` secret, checked by the
//! engine (`Inventory::authenticate`: a cached, constant-time lookup), and the scope each route
//! needs.
//!
//! The scope each route needs is the route table's (`routes.rs`, each endpoint's `access`),
//! whose constructors make a read (GET, HEAD) need `read` and anything else `write` unless an
//! entry says otherwise: `/health` and the dashboard are open (the page asks for a key itself
//! when the API answers 401), key management and taking a till over need `admin`. OPTIONS is
//! open: a browser's preflight never carries credentials (Fetch standard, CORS-preflight fetch),
//! and its answer only lists methods.
//!
//! A secret is never written anywhere: not in a log line (the access log names the key), not
//! in an error message, not in a `Debug` form (`Secret` redacts itself).

use crate::errors::ApiError;
use crate::http::{HeaderText, Headers, Reply};
use inventory::{ApiKey, ErrorCode, Inventory, Scope};

/// What a route needs of its caller (each endpoint of `routes.rs` says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Open,
    Needs(Scope),
}

/// A bearer secret, kept to check it again later (a long-lived event stream) and never shown.
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Secret {
    /// The request's bearer secret, if it has one.
    pub fn of(headers: &Headers) -> Option<Secret> {
        bearer(headers.raw("Authorization")?).map(|s| Secret(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The caller of one request, as its Authorization header says.
#[derive(Debug)]
pub enum Caller {
    /// No Authorization header, or authentication is off.
    Anonymous,
    Key(ApiKey),
    /// A credential that is not a live key: why (never the credential itself).
    Refused(&'static str),
}

impl Caller {
    /// The key's name, for the access log and the rate limiter.
    pub fn key_name(&self) -> Option<&str> {
        match self {
            Caller::Key(key) => Some(&key.name),
            _ => None,
        }
    }
}

/// `Bearer <token>`: the scheme is case-insensitive (RFC 9110 §11.1); anything else is no
/// bearer token.
fn bearer(value: &[u8]) -> Option<&str> {
    let value = std::str::from_utf8(value).ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim_start();
    (scheme.eq_ignore_ascii_case("Bearer") && !token.is_empty() && !token.contains(' '))
        .then_some(token)
}

/// Whether requests need a key, resolved from `--auth` and the listening address.
pub struct Gate {
    required: bool,
}

impl Gate {
    pub fn new(required: bool) -> Gate {
        Gate { required }
    }

    /// Reads the Authorization header (only when keys are required). A failure is the store's
    /// (reloading the key list), never the credential's.
    pub fn identify(&self, inv: &Inventory, headers: &Headers) -> Result<Caller, ApiError> {
        if !self.required {
            return Ok(Caller::Anonymous);
        }
        let Some(raw) = headers.raw("Authorization") else {
            return Ok(Caller::Anonymous);
        };
        let Some(secret) = bearer(raw) else {
            return Ok(Caller::Refused(
                "the Authorization header must be `Bearer <key>`",
            ));
        };
        match inv.authenticate(secret) {
            Ok(key) => Ok(Caller::Key(key)),
            Err(e) if e.code == ErrorCode::Unauthorized => Ok(Caller::Refused(
                "the API key is unknown or has been revoked",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether `caller` may call `method` on the route `path`, which needs `access`: the key
    /// the call is made with (none for an open route or when keys are not required), or the 401
    /// or 403 answer.
    pub fn admit<'c>(
        &self,
        caller: &'c Caller,
        access: Access,
        method: &str,
        path: &str,
    ) -> Result<Option<&'c ApiKey>, Reply> {
        let Access::Needs(scope) = access else {
            return Ok(None);
        };
        if !self.required {
            return Ok(None);
        }
        match caller {
            Caller::Anonymous => Err(unauthorized(
                "this server requires an API key: send `Authorization: Bearer <key>`",
                "Bearer",
            )),
            Caller::Refused(why) => Err(unauthorized(why, "Bearer error=\"invalid_token\"")),
            Caller::Key(key) if key.scope.allows(scope) => Ok(Some(key)),
            Caller::Key(key) => {
                let e = ApiError::from(inventory::Error::new(
                    ErrorCode::Forbidden,
                    format!(
                        "the key {:?} has scope {}; {method} {path} needs {}",
                        key.name,
                        key.scope.as_str(),
                        scope.as_str()
                    ),
                ));
                Err(Reply::error(&e)
                    .with_header("WWW-Authenticate", "Bearer error=\"insufficient_scope\""))
            }
        }
    }
}

fn unauthorized(message: &str, challenge: &'static str) -> Reply {
    let e = ApiError::from(inventory::Error::new(ErrorCode::Unauthorized, message));
    Reply::error(&e).with_header("WWW-Authenticate", challenge)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::{PAGES, ROUTES};

    #[test]
    fn bearer_tokens() {
        assert_eq!(bearer(b"Bearer inv_abc"), Some("inv_abc"));
        assert_eq!(bearer(b"bearer  inv_abc "), Some("inv_abc"));
        assert_eq!(bearer(b"Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer(b"Bearer"), None);
        assert_eq!(bearer(b"Bearer "), None);
        assert_eq!(bearer(b"Bearer a b"), None);
        assert_eq!(bearer(b"Bearer \xff"), None);
    }

    /// What the route table says each method needs: reads `read`, other methods `write`, key
    /// management and taking a till over `admin`; `/health` and the dashboard are open.
    #[test]
    fn the_scope_table() {
        let needed = |method: &str, path: &str| {
            let route = ROUTES
                .iter()
                .chain(PAGES)
                .find(|r| r.path == path)
                .unwrap_or_else(|| panic!("{path} is a route"));
            route
                .methods
                .iter()
                .find(|e| e.method == method)
                .unwrap_or_else(|| panic!("{method} {path}"))
                .access
        };
        let read = Access::Needs(Scope::Read);
        let write = Access::Needs(Scope::Write);
        let admin = Access::Needs(Scope::Admin);
        assert_eq!(needed("GET", "/health"), Access::Open);
        assert_eq!(needed("GET", "/"), Access::Open);
        assert_eq!(needed("GET", "/dashboard/{file}"), Access::Open);
        assert_eq!(needed("GET", "/openapi.json"), read);
        assert_eq!(needed("GET", "/metrics"), read);
        assert_eq!(needed("GET", "/api/products/{id}"), read);
        assert_eq!(needed("GET", "/api/events"), read);
        assert_eq!(needed("GET", "/api/tills"), read);
        assert_eq!(needed("PUT", "/api/products/{id}"), write);
        assert_eq!(needed("DELETE", "/api/products/{id}"), write);
        assert_eq!(needed("POST", "/api/stock/batch"), write);
        assert_eq!(needed("POST", "/api/locations"), write);
        assert_eq!(needed("POST", "/api/tills/{id}/check-in"), write);
        assert_eq!(needed("GET", "/api/keys"), admin);
        assert_eq!(needed("POST", "/api/keys"), admin);
        assert_eq!(needed("DELETE", "/api/keys/{name}"), admin);
        assert_eq!(needed("POST", "/api/tills/{id}/take-over"), admin);
        for path in [
            "/api/webhooks",
            "/api/webhooks/{id}",
            "/api/webhooks/{id}/pause",
            "/api/webhooks/{id}/resume",
            "/api/webhooks/{id}/rewind",
            "/api/webhooks/{id}/deliveries",
        ] {
            let route = ROUTES.iter().find(|r| r.path == path).unwrap();
            assert!(route.methods.iter().all(|e| e.access == admin), "{path}");
        }
        // Beside the listed exceptions, a read needs `read` and anything else `write`.
        let exceptions = [
            "/health",
            "/api/keys",
            "/api/keys/{name}",
            "/api/tills/{id}/take-over",
            "/api/webhooks",
            "/api/webhooks/{id}",
            "/api/webhooks/{id}/pause",
            "/api/webhooks/{id}/resume",
            "/api/webhooks/{id}/rewind",
            "/api/webhooks/{id}/deliveries",
        ];
        for route in ROUTES.iter().filter(|r| !exceptions.contains(&r.path)) {
            for e in route.methods {
                let expected = if e.method == "GET" { read } else { write };
                assert_eq!(e.access, expected, "{} {}", e.method, route.path);
            }
        }
    }

    #[test]
    fn secrets_do_not_debug() {
        let mut headers = Headers::default();
        headers.insert("Authorization", "Bearer inv_0123456789".parse().unwrap());
        let secret = Secret::of(&headers).unwrap();
        assert_eq!(secret.expose(), "inv_0123456789");
        assert!(!format!("{secret:?}").contains("0123456789"));
    }
}
