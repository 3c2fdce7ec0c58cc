//! One request from arrival to response: request id, routing, the handler (a panic becomes a
//! 500, never a dead worker), the envelope, and one access-log line.

use crate::app::App;
use crate::errors::ApiError;
use crate::http::{Req, make_header};
use crate::input::Query;
use crate::routes::{EVENTS_PATH, Found, Router};
use crate::{json, sse};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;
use tiny_http::{Request, Response};

/// The client's X-Request-ID when it is a sane token (printable ASCII, at most 128
/// characters, so it is safe to echo and log); otherwise a fresh one.
fn request_id(request: &Request) -> String {
    match crate::http::header(request, "X-Request-ID") {
        Some(id)
            if !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            id.to_owned()
        }
        _ => uuid::Uuid::now_v7().to_string(),
    }
}

fn wants_event_stream(request: &Request) -> bool {
    crate::http::header(request, "Accept").is_some_and(|a| a.contains("text/event-stream"))
}

pub fn handle(app: &Arc<App>, router: &Router, mut request: Request) {
    let started = Instant::now();
    let rid = request_id(&request);
    let method = request.method().as_str().to_owned();
    let url = request.url().to_owned();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));

    let outcome = match router.find(&method, path) {
        Found::Missing => Err(ApiError::not_found(format!("no route for {path}"))),
        Found::WrongMethod(allow) => Err(ApiError::method_not_allowed(allow)),
        Found::Handler {
            route,
            handler,
            params,
        } => {
            if route.path == EVENTS_PATH && wants_event_stream(&request) {
                // The stream answers (and logs) on its own thread.
                return sse::subscribe(app, request, rid, query, started);
            }
            Query::parse(query).and_then(|query| {
                let mut req = Req {
                    request: &mut request,
                    params,
                    query,
                    max_body: app.max_body,
                    body_timeout: app.io_timeout,
                };
                catch_unwind(AssertUnwindSafe(|| handler(app, &mut req))).unwrap_or_else(|_| {
                    Err(ApiError::new(500, "INTERNAL_ERROR", "the handler panicked"))
                })
            })
        }
    };

    let (status, body, content_type, mut headers) = match outcome {
        Ok(reply) => (reply.status, reply.body, reply.content_type, reply.headers),
        Err(e) => {
            let mut headers = Vec::new();
            if let Some(allow) = &e.allow {
                headers.push(make_header("Allow", allow));
            }
            if e.status >= 500 {
                tracing::error!(request_id = %rid, code = e.code, message = %e.message, "request failed");
            }
            (e.status, json::failure(&e), "application/json", headers)
        }
    };
    headers.push(make_header("Content-Type", content_type));
    headers.push(make_header("X-Request-ID", &rid));
    let len = body.len();
    let response = Response::new(status.into(), headers, body.as_slice(), Some(len), None);
    // A client that hung up is not the server's fault; the log line still records the request.
    let _ = request.respond(response);
    access_log(&rid, &method, path, status, started);
}

pub fn access_log(rid: &str, method: &str, path: &str, status: u16, started: Instant) {
    tracing::info!(
        target: "access",
        request_id = %rid,
        method,
        path,
        status,
        duration_us = started.elapsed().as_micros() as u64,
    );
}
