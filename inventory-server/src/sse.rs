//! GET /api/events with `Accept: text/event-stream`: the change feed as Server-Sent Events.
//!
//! Each subscriber gets its own thread (not a worker), up to `--max-streams`; beyond that the
//! answer is 503, so streams can never starve the worker pool. A stream starts after
//! Last-Event-ID (or `?after=`), sends every committed movement as an event whose `id:` is its
//! sequence number, then waits on the engine for new commits. A comment line every few
//! seconds detects clients that went away. Streams end when the server shuts down.

use crate::app::App;
use crate::dispatch::access_log;
use crate::errors::ApiError;
use crate::http::make_header;
use crate::input::Query;
use crate::json::{self, MovementJson};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tiny_http::{Request, Response};

const PAGE: i64 = 500;
const HEARTBEAT: Duration = Duration::from_secs(10);
/// How often a waiting stream looks at the shutdown flag.
const POLL: Duration = Duration::from_millis(250);

fn refuse(request: Request, rid: &str, e: &ApiError, started: Instant) {
    let body = json::failure(e);
    let len = body.len();
    let headers = vec![
        make_header("Content-Type", "application/json"),
        make_header("X-Request-ID", rid),
    ];
    let _ = request.respond(Response::new(
        e.status.into(),
        headers,
        body.as_slice(),
        Some(len),
        None,
    ));
    access_log(rid, "GET", crate::routes::EVENTS_PATH, e.status, started);
}

/// Where the stream starts: Last-Event-ID (a reconnecting EventSource) wins over `?after=`.
fn start_after(request: &Request, query: &str) -> Result<i64, ApiError> {
    if let Some(id) = crate::http::header(request, "Last-Event-ID") {
        return id
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                ApiError::validation("Last-Event-ID", "Last-Event-ID must be a sequence number")
            });
    }
    let after = Query::parse(query)?.int("after")?.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::validation("after", "after must not be negative"));
    }
    Ok(after)
}

pub fn subscribe(app: &Arc<App>, request: Request, rid: String, query: &str, started: Instant) {
    let after = match start_after(&request, query) {
        Ok(after) => after,
        Err(e) => return refuse(request, &rid, &e, started),
    };
    let Some(slot) = app.streams.try_hold() else {
        let e = ApiError::new(
            503,
            "SERVICE_UNAVAILABLE",
            "too many event-stream subscribers; retry later",
        );
        return refuse(request, &rid, &e, started);
    };
    // The slot goes with the thread's closure, so it is released however the stream ends,
    // even if the thread cannot be started.
    let app = Arc::clone(app);
    let spawned = std::thread::Builder::new()
        .name("sse".into())
        .spawn(move || {
            stream(&app, request, &rid, after);
            access_log(&rid, "GET", crate::routes::EVENTS_PATH, 200, started);
            drop(slot);
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start an event-stream thread");
    }
}

fn stream(app: &App, request: Request, rid: &str, mut after: i64) {
    let response = Response::empty(200)
        .with_header(make_header("Content-Type", "text/event-stream"))
        .with_header(make_header("Cache-Control", "no-cache"))
        .with_header(make_header("X-Request-ID", rid));
    // Upgrading hands over the raw connection, so each event can be flushed as it is
    // written (tiny_http's chunked writer would hold small events back in an 8 KiB buffer).
    // The body is delimited by closing the connection.
    let mut out = request.upgrade("text/event-stream", response);
    if out
        .write_all(b"retry: 1000\n\n")
        .and_then(|()| out.flush())
        .is_err()
    {
        return;
    }
    let mut last_write = Instant::now();
    while !app.stopping() {
        let page = match app.inv.changes(after, Some(PAGE)) {
            Ok(page) => page,
            Err(e) => {
                tracing::error!(request_id = %rid, message = %e.message, "event stream read failed");
                return;
            }
        };
        if page.movements.is_empty() {
            if last_write.elapsed() >= HEARTBEAT {
                if out
                    .write_all(b": keep-alive\n\n")
                    .and_then(|()| out.flush())
                    .is_err()
                {
                    return;
                }
                last_write = Instant::now();
            }
            app.inv.wait_for_changes(after, POLL);
            continue;
        }
        let mut buf = Vec::with_capacity(page.movements.len() * 400);
        for m in &page.movements {
            let data =
                serde_json::to_string(&MovementJson::from(m)).expect("movements always serialize");
            let _ = write!(buf, "id: {}\nevent: movement\ndata: {data}\n\n", m.seq);
        }
        if out.write_all(&buf).and_then(|()| out.flush()).is_err() {
            return;
        }
        last_write = Instant::now();
        after = page.next_after;
    }
}
