//! The HTTP/1.1 transport: hyper's server connection on a small tokio runtime. Connections are
//! tasks, not threads, so an idle or slow client costs a few KiB of memory and no thread; each
//! request is read in full here (head and body, within their limits and deadline) before a
//! handler sees it. Writes are handed to a bounded pool of blocking threads that runs the
//! synchronous handlers and engine; reads run on the runtime's own threads (see
//! `respond`). docs/perf/server.md has the measurements behind these choices.
//!
//! Limits, all per connection:
//! - at most `--max-connections` open; further connections wait in the listen queue;
//! - at most `--max-connections-per-ip` from one client address; further ones from it are
//!   closed once accepted, so one address cannot hold every slot (`PerAddress`);
//! - the request head within `--max-header-bytes` (431) and its target within 8 KiB (414);
//! - the whole head within `--head-timeout-secs` of its first byte, and an idle keep-alive
//!   connection open at most `--io-timeout-secs` (hyper's header read timeout bounds both
//!   together; `phases` times the head on its own);
//! - at the cap, an idle or slow connection is closed for a new one (`phases`);
//! - the body within `--max-body-bytes` (413) and `--io-timeout-secs` (408);
//! - every write within `--io-timeout-secs`, so a client that stops reading is dropped.
//!
//! Framing is hyper's (RFC 9112): differing Content-Lengths, a Transfer-Encoding whose last
//! coding is not chunked and malformed chunks are 400; Transfer-Encoding together with
//! Content-Length is read as chunked and the connection closed after the answer. This module
//! adds what hyper leaves to the application: exactly one Host in HTTP/1.1 (400), no coding but
//! `chunked` (501), an answer (505) to an HTTP/2 preface, and accept errors that never end the
//! server.

use crate::app::App;
use crate::dispatch;
use crate::errors::ApiError;
use crate::http::{self, Incoming, Reply};
use crate::phases::{Phase, Registry, Watched};
use crate::routes::{READY_PATH, Router};
use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::{Body, Frame};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, Version};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use socket2::{Domain, Socket, Type};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_io_timeout::TimeoutStream;

/// Longest request target (path and query); longer ones get 414.
pub const MAX_TARGET_BYTES: usize = 8 * 1024;
/// The pause after a failed accept: EMFILE and its kind persist until a connection closes, and
/// retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// Chunks of a streamed body that may wait unwritten.
pub const STREAM_DEPTH: usize = 16;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub max_header_bytes: usize,
    pub max_body: usize,
    pub io_timeout: Duration,
    /// From a request head's first byte to its end (`--head-timeout-secs`).
    pub head_timeout: Duration,
}

/// A listening socket on `addr` (port 0 picks one). Accepted sockets get TCP_NODELAY.
pub fn listen(addr: &str) -> std::io::Result<std::net::TcpListener> {
    let addr: SocketAddr = addr.to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{addr} resolves to nothing"),
        )
    })?;
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// Connections open per client address.
#[derive(Default)]
struct PerAddress(std::sync::Mutex<std::collections::HashMap<IpAddr, usize>>);

/// One connection counted against its address; dropping it uncounts it.
struct Counted(Arc<PerAddress>, IpAddr);

impl PerAddress {
    /// Counts a connection from `ip`, unless that address already holds `max`.
    fn admit(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<Counted> {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Counted(Arc::clone(self), ip))
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut open = (self.0).0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.1);
            }
        }
    }
}

struct Shared {
    app: Arc<App>,
    router: Router,
    limits: Limits,
    builder: http1::Builder,
    registry: Arc<Registry>,
}

/// Accepts and serves connections until `stop` turns true; then stops accepting, lets every
/// connection finish the request it is on (at most `grace`), and returns the number of
/// failed accepts.
pub async fn serve(
    listener: std::net::TcpListener,
    app: Arc<App>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
) -> std::io::Result<u64> {
    let listener = TcpListener::from_std(listener)?;
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.io_timeout)
        .max_header_size(limits.max_header_bytes)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .title_case_headers(true)
        .keep_alive(true);
    let shared = Arc::new(Shared {
        app,
        router: Router::new(),
        limits,
        builder,
        registry: Registry::new(),
    });
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_address = Arc::new(PerAddress::default());
    let graceful = GracefulShutdown::new();
    let mut accept_errors = 0u64;
    let metrics = &shared.app.metrics;
    loop {
        let (stream, peer) = tokio::select! {
            biased;
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_errors += 1;
                    metrics.accept_error();
                    tracing::error!(error = %e, accept_errors, "accept failed; retrying");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        // Over its address's share: closed at once, its slot free for another client.
        let Some(counted) = per_address.admit(peer.ip(), limits.max_connections_per_ip) else {
            metrics.per_address_refused();
            drop(stream);
            continue;
        };
        // At the cap, a new client takes the place of an idle or slow connection (`phases`);
        // when every connection is in a request, it waits for one to finish.
        let permit = match Arc::clone(&slots).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                metrics.cap_reached();
                shared.registry.shed_one();
                tokio::select! {
                    biased;
                    _ = stop.changed() => break,
                    permit = Arc::clone(&slots).acquire_owned() => permit.expect("the semaphore is never closed"),
                }
            }
        };
        let watcher = graceful.watcher();
        let open = metrics.connection();
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            connection(stream, peer.ip(), shared, watcher).await;
            drop((open, permit, counted));
        });
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period are dropped");
    }
    Ok(accept_errors)
}

async fn connection(
    stream: TcpStream,
    peer: IpAddr,
    shared: Arc<Shared>,
    watcher: hyper_util::server::graceful::Watcher,
) {
    let _ = stream.set_nodelay(true);
    let limits = shared.limits;
    // Registered before its first byte: a connection that sends nothing is idle, and shed first.
    let entry = shared.registry.register();
    let serve = serve_http1(stream, peer, &shared, watcher, &entry.phase);
    tokio::select! {
        () = serve => {}
        () = entry.phase.head_expired(limits.head_timeout) => {}
        () = entry.phase.shed() => {}
    }
}

async fn serve_http1(
    stream: TcpStream,
    peer: IpAddr,
    shared: &Arc<Shared>,
    watcher: hyper_util::server::graceful::Watcher,
    phase: &Arc<Phase>,
) {
    let limits = shared.limits;
    match http2_preface(&stream, limits.io_timeout).await {
        Preface::Http1 => {}
        Preface::Idle => return,
        Preface::Http2 => return refuse_http2(stream, &shared.app).await,
    }
    let mut io = TimeoutStream::new(stream);
    io.set_write_timeout(Some(limits.io_timeout));
    let io = TokioIo::new(Watched {
        inner: Box::pin(io),
        phase: Arc::clone(phase),
    });
    let service = {
        let shared = Arc::clone(shared);
        let phase = Arc::clone(phase);
        service_fn(move |request| respond(Arc::clone(&shared), request, peer, Arc::clone(&phase)))
    };
    let conn = shared.builder.serve_connection(io, service);
    // A failed connection (a parse error hyper already answered, a reset, a timeout) concerns
    // only its client; one whose head is late, or that is shed at the cap, is closed as it is
    // (`connection`).
    let _ = watcher.watch(conn).await;
}

enum Preface {
    Http1,
    Http2,
    /// Nothing arrived within the timeout.
    Idle,
}

/// HTTP/2's connection preface starts `PRI * HTTP/2.0`. hyper closes such a connection
/// without a word, so it is recognised here, by peeking at the first bytes.
async fn http2_preface(stream: &TcpStream, timeout: Duration) -> Preface {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0";
    let look = async {
        let mut buf = [0u8; PREFACE.len()];
        loop {
            match stream.peek(&mut buf).await {
                Ok(0) | Err(_) => return Preface::Http1,
                Ok(n) if n == PREFACE.len() || !PREFACE.starts_with(&buf[..n]) => {
                    return if buf[..n] == *PREFACE {
                        Preface::Http2
                    } else {
                        Preface::Http1
                    };
                }
                // A prefix of the preface: wait for more (peek returns at once while data
                // is queued).
                Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    };
    tokio::time::timeout(timeout, look)
        .await
        .unwrap_or(Preface::Idle)
}

async fn refuse_http2(mut stream: TcpStream, app: &App) {
    let started = Instant::now();
    let e = ApiError::new(
        505,
        "HTTP_VERSION_NOT_SUPPORTED",
        "this server speaks HTTP/1.1 only",
    );
    let body = crate::json::failure(&e);
    let mut out = format!(
        "HTTP/1.1 505 HTTP Version Not Supported\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(&out).await;
        let _ = stream.shutdown().await;
    })
    .await;
    let rid = uuid::Uuid::now_v7().to_string();
    crate::logging::access_log(&rid, "PRI", "*", 505, started, None);
    app.metrics
        .request("PRI", crate::metrics::UNMATCHED, 505, started.elapsed());
}

type ResponseBody = Either<Full<Bytes>, Streamed>;

async fn respond(
    shared: Arc<Shared>,
    request: Request<hyper::body::Incoming>,
    peer: IpAddr,
    phase: Arc<Phase>,
) -> Result<Response<ResponseBody>, Infallible> {
    phase.request_started();
    let _in_flight = shared.app.metrics.in_flight();
    let (parts, body) = request.into_parts();
    let head_only = parts.method == hyper::Method::HEAD;
    let body = match framing(&parts) {
        Ok(()) => read_body(body, &parts.headers, &shared.limits).await,
        Err(e) => Err(e),
    };
    // A request that could not be read leaves the connection in an unknown state.
    let close = body.is_err();
    let incoming = Incoming {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        authority: parts.uri.authority().map(|a| a.as_str().to_owned()),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers: parts.headers,
        peer,
        body,
    };
    // Reads of a SQLite file are answered on this thread: a WAL read never waits for the writer
    // and takes microseconds, and handing it to another thread cost more than the read itself
    // (two thread wake-ups; docs/perf/server.md). Writes wait for their commit's fsync, and
    // PostgreSQL reads for the network, so they go to the blocking pool (at most `--workers`
    // threads), where many can wait at once (and writes share one commit).
    // The readiness probe takes the write lock, which can wait for the busy timeout.
    let read = matches!(incoming.method.as_str(), "GET" | "HEAD" | "OPTIONS")
        && incoming.path != READY_PATH;
    let reply = if read && shared.app.inline_reads {
        dispatch::handle(&shared.app, &shared.router, incoming)
    } else {
        let shared = Arc::clone(&shared);
        tokio::task::spawn_blocking(move || dispatch::handle(&shared.app, &shared.router, incoming))
            .await
            .unwrap_or_else(|_| {
                Reply::error(&ApiError::new(
                    500,
                    "INTERNAL_ERROR",
                    "the request could not be handled",
                ))
            })
    };
    let response = response(reply, head_only, close);
    phase.request_done(matches!(response.body(), Either::Right(_)));
    Ok(response)
}

/// What RFC 9112 asks of a server beyond what hyper checks.
fn framing(parts: &hyper::http::request::Parts) -> Result<(), ApiError> {
    let hosts = parts.headers.get_all(hyper::header::HOST).iter().count();
    if hosts > 1 || (hosts == 0 && parts.version == Version::HTTP_11) {
        return Err(ApiError::new(
            400,
            "BAD_REQUEST",
            "an HTTP/1.1 request carries exactly one Host header",
        ));
    }
    let target = parts.uri.path_and_query().map_or(0, |p| p.as_str().len());
    if target > MAX_TARGET_BYTES {
        return Err(ApiError::new(
            414,
            "URI_TOO_LONG",
            format!("the request target exceeds {MAX_TARGET_BYTES} bytes"),
        ));
    }
    // hyper has refused a Transfer-Encoding whose last coding is not chunked; any other
    // coding before it is one this server does not implement.
    let codings: Vec<&[u8]> = parts
        .headers
        .get_all(hyper::header::TRANSFER_ENCODING)
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b','))
        .map(|c| c.trim_ascii())
        .collect();
    if !codings.is_empty() && (codings.len() > 1 || !codings[0].eq_ignore_ascii_case(b"chunked")) {
        return Err(ApiError::new(
            501,
            "NOT_IMPLEMENTED",
            "the only transfer coding accepted is chunked",
        ));
    }
    Ok(())
}

async fn read_body(
    body: hyper::body::Incoming,
    headers: &hyper::HeaderMap,
    limits: &Limits,
) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::new(
            413,
            "PAYLOAD_TOO_LARGE",
            format!("request body exceeds {} bytes", limits.max_body),
        )
    };
    let declared = headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body as u64) {
        return Err(too_large());
    }
    match tokio::time::timeout(
        limits.io_timeout,
        Limited::new(body, limits.max_body).collect(),
    )
    .await
    {
        Ok(Ok(collected)) => Ok(collected.to_bytes().into()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err(ApiError::new(
            400,
            "BAD_REQUEST",
            format!("the request body is malformed or incomplete: {e}"),
        )),
        Err(_) => Err(ApiError::new(
            408,
            "REQUEST_TIMEOUT",
            "the body took too long to arrive",
        )),
    }
}

fn response(reply: Reply, head_only: bool, close: bool) -> Response<ResponseBody> {
    let mut builder = Response::builder().status(reply.status);
    if !reply.content_type.is_empty() {
        builder = builder.header(hyper::header::CONTENT_TYPE, reply.content_type.as_ref());
    }
    for (name, value) in &reply.headers {
        builder = builder.header(name.as_ref(), value.as_str());
    }
    if close {
        builder = builder.header(hyper::header::CONNECTION, "close");
    }
    let body = match reply.body {
        http::Body::Bytes(bytes) => {
            if head_only && !matches!(reply.status, 204 | 304) {
                // The same headers as GET, Content-Length included, without the body.
                builder = builder.header(hyper::header::CONTENT_LENGTH, bytes.len());
                Either::Left(Full::new(Bytes::new()))
            } else {
                Either::Left(Full::new(match bytes {
                    std::borrow::Cow::Borrowed(b) => Bytes::from_static(b),
                    std::borrow::Cow::Owned(v) => Bytes::from(v),
                }))
            }
        }
        http::Body::Stream(stream) => Either::Right(Streamed(stream.0)),
    };
    builder.body(body).unwrap_or_else(|e| {
        tracing::error!(error = %e, "a reply header is not valid HTTP");
        let mut r = Response::new(Either::Left(Full::new(Bytes::new())));
        *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

/// A body written chunk by chunk as a thread sends them (`http::StreamSender`); it ends when
/// the sender is dropped. (tokio's receiver is not a `Stream`, so it is polled directly.)
pub struct Streamed(tokio::sync::mpsc::Receiver<Vec<u8>>);

impl Body for Streamed {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|c| Ok(Frame::data(Bytes::from(c)))))
    }
}
