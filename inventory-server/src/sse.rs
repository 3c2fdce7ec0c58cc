//! GET /api/events with `Accept: text/event-stream`: the change feed as Server-Sent Events.
//!
//! Each subscriber gets its own thread (not a worker), up to `--max-streams`; beyond that the
//! answer is 503, so streams can never starve the worker pool. A stream starts after
//! Last-Event-ID (or `?after=`), sends every committed movement as an event whose `id:` is its
//! sequence number, then waits on the engine for new commits. A comment line every few
//! seconds keeps proxies from timing the connection out, and a departed client is noticed
//! within a poll interval (the transport drops the body). Streams end when the server shuts
//! down, and when the key they were opened with is revoked (it is checked again at every poll,
//! from the engine's cached key list).

use crate::app::App;
use crate::auth::Secret;
use crate::errors::ApiError;
use crate::http::{self, Body, HeaderText, Headers, Reply, StreamSender};
use crate::input::Query;
use crate::json::MovementJson;
use crate::logging::access_log;
use crate::params::EventsQuery;
use crate::transport::STREAM_DEPTH;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PAGE: i64 = 500;
const HEARTBEAT: Duration = Duration::from_secs(10);
/// How often a waiting stream looks at the shutdown flag and at its client.
const POLL: Duration = Duration::from_millis(250);

/// Where the stream starts: Last-Event-ID (a reconnecting EventSource) wins over `?after=`.
fn start_after(headers: &Headers, query: &str) -> Result<i64, ApiError> {
    if let Some(id) = headers.text("Last-Event-ID") {
        return id
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                ApiError::validation("Last-Event-ID", "Last-Event-ID must be a sequence number")
            });
    }
    let EventsQuery { after, .. } = crate::params::read(Query::parse(query)?.pairs())?;
    let after = after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::validation("after", "after must not be negative"));
    }
    Ok(after)
}

/// The stream's reply; its events are written by a thread of its own.
pub fn subscribe(
    app: &Arc<App>,
    headers: &Headers,
    query: &str,
    rid: &str,
    started: Instant,
    key: Option<&inventory::ApiKey>,
) -> Result<Reply, ApiError> {
    let after = start_after(headers, query)?;
    let slot = app.streams.try_hold().ok_or_else(|| {
        ApiError::new(
            503,
            "SERVICE_UNAVAILABLE",
            "too many event-stream subscribers; retry later",
        )
    })?;
    let (tx, events) = http::stream(STREAM_DEPTH);
    // The slot goes with the thread's closure, so it is released however the stream ends,
    // even if the thread cannot be started.
    let (app, rid) = (Arc::clone(app), rid.to_owned());
    // What the key may read: the movements at its locations (a limited key's).
    let limited = key.cloned();
    let key = key.and_then(|key| Some((key.name.clone(), Secret::of(headers)?)));
    std::thread::Builder::new()
        .name("sse".into())
        .spawn(move || {
            let secret = key.as_ref().map(|(_, secret)| secret);
            let reach = inventory::Reach::of(limited.as_ref());
            stream(&app, &tx, &rid, after, secret, reach);
            let name = key.as_ref().map(|(name, _)| name.as_str());
            access_log(&rid, "GET", crate::routes::EVENTS_PATH, 200, started, name);
            drop(slot);
        })
        .map_err(|e| {
            ApiError::new(
                503,
                "SERVICE_UNAVAILABLE",
                format!("cannot start an event stream: {e}"),
            )
        })?;
    Ok(Reply {
        status: 200,
        content_type: "text/event-stream".into(),
        body: Body::Stream(events),
        headers: vec![("Cache-Control".into(), "no-cache".into())],
    })
}

fn stream(
    app: &App,
    out: &StreamSender,
    rid: &str,
    mut after: i64,
    key: Option<&Secret>,
    reach: inventory::Reach,
) {
    if !out.send(b"retry: 1000\n\n".to_vec()) {
        return;
    }
    let mut last_write = Instant::now();
    let live = || key.is_none_or(|secret| app.inv.authenticate(secret.expose()).is_ok());
    while !app.stopping() && live() {
        let page = match app.inv.changes(after, Some(PAGE)) {
            Ok(page) => page,
            Err(e) => {
                tracing::error!(request_id = %rid, error = %e.message, "event stream read failed");
                return;
            }
        };
        if page.movements.is_empty() {
            if out.is_closed() {
                return;
            }
            if last_write.elapsed() >= HEARTBEAT {
                if !out.send(b": keep-alive\n\n".to_vec()) {
                    return;
                }
                last_write = Instant::now();
            }
            app.inv.wait_for_changes(after, POLL);
            continue;
        }
        // Movements the key does not see are skipped, and the cursor moves past them.
        let page = reach.changes(page);
        if page.movements.is_empty() {
            after = page.next_after;
            continue;
        }
        let mut buf = Vec::with_capacity(page.movements.len() * 400);
        for m in &page.movements {
            let data =
                serde_json::to_string(&MovementJson::from(m)).expect("movements always serialize");
            let _ = write!(buf, "id: {}\nevent: movement\ndata: {data}\n\n", m.seq);
        }
        if !out.send(buf) {
            return;
        }
        last_write = Instant::now();
        after = page.next_after;
    }
}
