//! What web pages may do with this server. curl and server-side clients send no `Origin` and
//! are never affected; browsers are held to three rules:
//! - CORS: only origins given with `--cors-origin` may read answers from scripts on other
//!   origins (and send the headers a write needs), through preflights and
//!   `Access-Control-Allow-Origin`.
//! - CSRF: a write whose `Origin` is neither this server's own origin nor an allowed one is
//!   403, so a page on another site cannot change stock through a "simple" request (a
//!   `text/plain` POST needs no preflight). A write without `Origin` but with the Fetch
//!   Metadata header `Sec-Fetch-Site: cross-site` is refused alike: the browser says what the
//!   request is even where it leaves `Origin` out.
//! - DNS rebinding: when the server listens only on loopback, a `Host` that is not a loopback
//!   name or address (or one given with `--allowed-host`) is 403: a page whose name was rebound
//!   to 127.0.0.1 is same-origin with itself and could otherwise read and write. An
//!   absolute-form target's authority (`GET http://evil.example/...`) is the request's host
//!   (RFC 9112, 3.2.2), so it is held to the same rule.

use crate::errors::ApiError;
use crate::http::{HeaderText, Headers};

/// Request headers a cross-origin script may send (answered in preflights).
const ALLOW_HEADERS: &str = "Content-Type, Idempotency-Key, If-Match, If-None-Match, Authorization, X-Request-ID, Last-Event-ID";
/// Response headers a cross-origin script may read.
const EXPOSE_HEADERS: &str =
    "ETag, Idempotent-Replayed, X-Request-ID, Retry-After, WWW-Authenticate";
/// How long a browser may cache a preflight answer, in seconds.
const MAX_AGE: &str = "600";

pub struct Policy {
    /// `--cors-origin`, as browsers write an origin (`scheme://host[:port]`, no trailing slash).
    cors_origins: Vec<String>,
    /// The listener is on a loopback address only: check `Host`.
    loopback_only: bool,
    /// `--allowed-host`: names accepted in `Host` besides loopback ones, lower case, no port.
    allowed_hosts: Vec<String>,
}

impl Policy {
    pub fn new(cors_origins: &[String], loopback_only: bool, allowed_hosts: &[String]) -> Policy {
        Policy {
            cors_origins: cors_origins
                .iter()
                .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
                .collect(),
            loopback_only,
            allowed_hosts: allowed_hosts
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
        }
    }

    /// The DNS-rebinding guard, on `Host` and on an absolute-form target's `authority`. A
    /// request without either (HTTP/1.0) has nothing to check; the transport already refused
    /// an HTTP/1.1 request without `Host`.
    pub fn check_host(&self, headers: &Headers, authority: Option<&str>) -> Result<(), ApiError> {
        if !self.loopback_only {
            return Ok(());
        }
        for (what, host) in [
            ("Host", headers.text("Host")),
            ("the request target's host", authority),
        ] {
            let Some(host) = host else { continue };
            let name = host_name(host).to_ascii_lowercase();
            if !is_loopback_name(&name) && !self.allowed_hosts.contains(&name) {
                return Err(ApiError::new(
                    403,
                    "FORBIDDEN",
                    format!(
                        "{what} {host} is not a loopback name; this server listens on loopback only (start it with --allowed-host to accept that name)"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The CSRF guard, for methods that change state. The server's own origin is `http://`
    /// plus the request's host: an absolute-form target's `authority`, else `Host`.
    pub fn check_origin(
        &self,
        method: &str,
        headers: &Headers,
        authority: Option<&str>,
    ) -> Result<(), ApiError> {
        if matches!(method, "GET" | "HEAD" | "OPTIONS") {
            return Ok(());
        }
        let Some(origin) = headers.raw("Origin") else {
            return match headers.text("Sec-Fetch-Site") {
                Some(site) if site.trim().eq_ignore_ascii_case("cross-site") => Err(ApiError::new(
                    403,
                    "FORBIDDEN",
                    "a write with Sec-Fetch-Site: cross-site is refused: a page on another \
                         site sent it (a page of an origin given with --cors-origin sends its \
                         Origin)",
                )),
                _ => Ok(()),
            };
        };
        let origin = std::str::from_utf8(origin).unwrap_or("");
        if self.is_allowed(origin) || same_origin(origin, authority.or(headers.text("Host"))) {
            return Ok(());
        }
        Err(ApiError::new(
            403,
            "FORBIDDEN",
            format!(
                "a write from origin {origin:?} is refused: it is neither this server's origin nor one given with --cors-origin"
            ),
        ))
    }

    fn is_allowed(&self, origin: &str) -> bool {
        self.cors_origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin))
    }

    /// `Access-Control-*` headers for an answer to an allowed origin (none otherwise).
    /// `preflight` carries the path's Allow list when answering one.
    pub fn cors_headers(
        &self,
        headers: &Headers,
        preflight: Option<&str>,
    ) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let Some(origin) = headers.text("Origin").filter(|o| self.is_allowed(o)) else {
            return out;
        };
        out.push(("Access-Control-Allow-Origin", origin.to_owned()));
        out.push(("Vary", "Origin".to_owned()));
        match preflight {
            Some(allow) => {
                out.push(("Access-Control-Allow-Methods", allow.to_owned()));
                out.push(("Access-Control-Allow-Headers", ALLOW_HEADERS.to_owned()));
                out.push(("Access-Control-Max-Age", MAX_AGE.to_owned()));
            }
            None => out.push(("Access-Control-Expose-Headers", EXPOSE_HEADERS.to_owned())),
        }
        out
    }
}

/// `Origin` names this server itself: `http://` plus the Host the browser sent.
fn same_origin(origin: &str, host: Option<&str>) -> bool {
    let Some(host) = host else {
        return false;
    };
    origin
        .strip_prefix("http://")
        .is_some_and(|rest| rest.eq_ignore_ascii_case(host))
}

/// The name or address of a Host value, without its port: `[::1]:8080` → `[::1]`.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// `localhost`, a name under `.localhost` (RFC 6761: always loopback), 127.0.0.0/8, `[::1]`.
fn is_loopback_name(name: &str) -> bool {
    if name == "localhost" || name.ends_with(".localhost") || name == "[::1]" {
        return true;
    }
    name.parse::<std::net::Ipv4Addr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        let mut h = Headers::default();
        for (k, v) in pairs {
            h.append(
                hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn host_guard_on_loopback() {
        let p = Policy::new(&[], true, &["inventory.internal".into()]);
        for ok in [
            "localhost:8080",
            "127.0.0.1:1",
            "127.9.9.9",
            "[::1]:80",
            "app.localhost",
            "Inventory.Internal:8080",
        ] {
            assert!(
                p.check_host(&headers(&[("Host", ok)]), None).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "evil.example:8080",
            "127.0.0.1.evil.example",
            "[::2]:80",
            "localhost.evil",
        ] {
            let e = p.check_host(&headers(&[("Host", bad)]), None).unwrap_err();
            assert_eq!(e.status, 403, "{bad}");
        }
        assert!(p.check_host(&headers(&[]), None).is_ok());
        // An absolute-form target's authority is the request's host: both are checked.
        let local = headers(&[("Host", "127.0.0.1:8080")]);
        assert!(p.check_host(&local, Some("localhost:8080")).is_ok());
        for bad in [
            "evil.example",
            "evil.example:8080",
            "127.0.0.1.evil.example",
        ] {
            let e = p.check_host(&local, Some(bad)).unwrap_err();
            assert_eq!(e.status, 403, "{bad}");
        }
        let open = Policy::new(&[], false, &[]);
        assert!(
            open.check_host(&headers(&[("Host", "evil.example")]), None)
                .is_ok()
        );
    }

    #[test]
    fn origin_guard_for_writes() {
        let p = Policy::new(&["https://shop.example/".into()], true, &[]);
        let host = ("Host", "127.0.0.1:8080");
        assert!(p.check_origin("POST", &headers(&[host]), None).is_ok());
        assert!(
            p.check_origin(
                "POST",
                &headers(&[host, ("Origin", "http://127.0.0.1:8080")]),
                None
            )
            .is_ok()
        );
        assert!(
            p.check_origin(
                "PUT",
                &headers(&[host, ("Origin", "https://shop.example")]),
                None
            )
            .is_ok()
        );
        for bad in ["https://evil.example", "null", "http://127.0.0.1:9999"] {
            let e = p
                .check_origin("DELETE", &headers(&[host, ("Origin", bad)]), None)
                .unwrap_err();
            assert_eq!(e.status, 403, "{bad}");
        }
        assert!(
            p.check_origin(
                "GET",
                &headers(&[host, ("Origin", "https://evil.example")]),
                None
            )
            .is_ok()
        );
    }

    #[test]
    fn cross_site_fetch_metadata_refuses_a_write_without_origin() {
        let p = Policy::new(&["https://shop.example".into()], true, &[]);
        let host = ("Host", "127.0.0.1:8080");
        let cross = ("Sec-Fetch-Site", "cross-site");
        let e = p
            .check_origin("POST", &headers(&[host, cross]), None)
            .unwrap_err();
        assert_eq!(e.status, 403);
        for fine in ["same-origin", "same-site", "none"] {
            let h = headers(&[host, ("Sec-Fetch-Site", fine)]);
            assert!(p.check_origin("POST", &h, None).is_ok(), "{fine}");
        }
        assert!(
            p.check_origin("GET", &headers(&[host, cross]), None)
                .is_ok()
        );
        // An allowed origin's page is cross-site by nature, and says who it is.
        let allowed = headers(&[host, cross, ("Origin", "https://shop.example")]);
        assert!(p.check_origin("POST", &allowed, None).is_ok());
        // The server's own origin follows an absolute-form target's authority.
        let own = headers(&[host, ("Origin", "http://localhost:8080")]);
        assert!(p.check_origin("POST", &own, Some("localhost:8080")).is_ok());
        assert!(p.check_origin("POST", &own, None).is_err());
    }

    #[test]
    fn cors_headers_only_for_allowed_origins() {
        let p = Policy::new(&["https://shop.example".into()], false, &[]);
        assert!(
            p.cors_headers(&headers(&[("Origin", "https://evil.example")]), None)
                .is_empty()
        );
        let h = p.cors_headers(&headers(&[("Origin", "https://shop.example")]), Some("GET"));
        assert!(h.contains(&("Access-Control-Allow-Origin", "https://shop.example".into())));
        assert!(h.iter().any(|(k, v)| *k == "Access-Control-Allow-Headers"
            && v.contains("Idempotency-Key")
            && v.contains("If-Match")
            && v.contains("Authorization")));
    }
}
