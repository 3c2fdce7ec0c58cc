//! One request from arrival to reply, on a pool thread: request id, the browser guards, the
//! caller's key and rate limit, routing (HEAD and OPTIONS included), the route's scope, the
//! handler (a panic becomes a 500, never a dead thread), conditional GET, the envelope, CORS
//! headers, one access-log line and the request metrics (by route template).

use crate::app::App;
use crate::auth::Caller;
use crate::errors::ApiError;
use crate::http::{Body, HeaderText, Headers, Incoming, Reply, Req, none_match};
use crate::input::Query;
use crate::metrics::UNMATCHED;
use crate::routes::{EVENTS_PATH, Found, Router};
use crate::sse;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

/// The client's X-Request-ID when it is a sane token (printable ASCII, at most 128
/// characters, so it is safe to echo and log); otherwise a fresh one.
fn request_id(headers: &Headers) -> String {
    match headers.text("X-Request-ID") {
        Some(id)
            if !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            id.to_owned()
        }
        _ => uuid::Uuid::now_v7().to_string(),
    }
}

/// Headers whose value the server acts on must be text: a key or a tag with other bytes
/// cannot be compared, and silently ignoring it would apply a write unconditionally.
const INTERPRETED: [&str; 6] = [
    "Host",
    "Origin",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "Last-Event-ID",
];

fn check_interpreted(headers: &Headers) -> Result<(), ApiError> {
    for name in INTERPRETED {
        if let Some(value) = headers.raw(name) {
            if !value
                .iter()
                .all(|b| *b == b'\t' || (b' '..=b'~').contains(b))
            {
                return Err(ApiError::validation(
                    name,
                    format!("{name} must be printable ASCII"),
                ));
            }
        }
    }
    Ok(())
}

fn wants_event_stream(headers: &Headers) -> bool {
    headers
        .text("Accept")
        .is_some_and(|a| a.contains("text/event-stream"))
}

/// Every method some route takes, for `OPTIONS *`.
const ALL_METHODS: &str = "GET, HEAD, POST, PUT, DELETE, OPTIONS";

pub fn handle(app: &Arc<App>, router: &Router, incoming: Incoming) -> Reply {
    let started = Instant::now();
    let Incoming {
        method,
        path,
        authority,
        query,
        headers,
        peer,
        body,
    } = incoming;
    let rid = request_id(&headers);
    let mut preflight = None;
    let caller = app.auth.identify(&app.inv, &headers);
    let mut template = None;
    let outcome = (|| {
        let body = body?;
        check_interpreted(&headers)?;
        app.browser.check_host(&headers, authority.as_deref())?;
        let caller = caller.as_ref().map_err(ApiError::clone)?;
        if let Some(limiter) = &app.limiter {
            if let Err(refused) = limiter.admit(caller.key_name(), peer) {
                return Ok(refused);
            }
        }
        if method == "OPTIONS" && path == "*" {
            return Ok(Reply::empty(204).with_header("Allow", ALL_METHODS));
        }
        match router.find(&method, &path) {
            Found::Missing => Err(ApiError::not_found(format!("no route for {path}"))),
            Found::WrongMethod(allow) => Err(ApiError::method_not_allowed(allow)),
            Found::Options(allow) => {
                let reply = Reply::empty(204).with_header("Allow", allow.clone());
                preflight = Some(allow);
                Ok(reply)
            }
            Found::Handler {
                route,
                endpoint,
                params,
            } => {
                template = Some(route.path);
                app.browser
                    .check_origin(&method, &headers, authority.as_deref())?;
                let key = match app.auth.admit(caller, endpoint.access, &method, route.path) {
                    Ok(key) => key,
                    Err(refused) => return Ok(refused),
                };
                if app.read_only && !matches!(method.as_str(), "GET" | "HEAD") {
                    return Err(ApiError::new(
                        503,
                        "READ_ONLY",
                        "this server was started with --read-only: it serves reads and applies no write",
                    ));
                }
                if method == "GET" && route.path == EVENTS_PATH && wants_event_stream(&headers) {
                    return sse::subscribe(app, &headers, &query, &rid, started, key);
                }
                let mut req = Req {
                    path_pairs: params,
                    query_pairs: Query::parse(&query)?,
                    headers: &headers,
                    body: &body,
                    key,
                };
                let reply = catch_unwind(AssertUnwindSafe(|| (endpoint.handler)(app, &mut req)))
                    .unwrap_or_else(|_| {
                        Err(ApiError::new(500, "INTERNAL_ERROR", "the handler panicked"))
                    })?;
                Ok(not_modified(&method, &headers, reply))
            }
        }
    })();

    let mut reply = match outcome {
        Ok(reply) => reply,
        Err(e) => {
            if e.status >= 500 {
                tracing::error!(request_id = %rid, code = e.code, error = %e.message, "request failed");
            }
            Reply::error(&e)
        }
    };
    for (name, value) in app.browser.cors_headers(&headers, preflight.as_deref()) {
        reply.headers.push((name.into(), value));
    }
    reply.headers.push(("X-Request-ID".into(), rid.clone()));
    // A stream logs its line when it ends.
    if !matches!(reply.body, Body::Stream(_)) {
        let key = caller.as_ref().ok().and_then(Caller::key_name);
        crate::logging::access_log(&rid, &method, &path, reply.status, started, key);
    }
    let route = template
        .or_else(|| match (method.as_str(), path.as_str()) {
            ("OPTIONS", "*") => Some("*"),
            _ => router.template(&path),
        })
        .unwrap_or(UNMATCHED);
    app.metrics
        .request(&method, route, reply.status, started.elapsed());
    reply
}

/// A GET whose If-None-Match names the reply's ETag: 304 with the ETag and no body.
fn not_modified(method: &str, headers: &Headers, reply: Reply) -> Reply {
    if !matches!(method, "GET" | "HEAD") || reply.status != 200 {
        return reply;
    }
    let (Some(condition), Some(etag)) = (headers.text("If-None-Match"), reply.header("ETag"))
    else {
        return reply;
    };
    if !none_match(condition, etag) {
        return reply;
    }
    let etag = etag.to_owned();
    Reply::empty(304).with_header("ETag", etag)
}
