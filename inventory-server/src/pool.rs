//! The listening socket and the worker pool.
//!
//! tiny_http reads each connection on a thread of its own and has no read timeout, so idle or
//! stalled clients would pin threads forever. On Linux an accepted socket inherits
//! SO_RCVTIMEO/SO_SNDTIMEO from the listening socket, so the listener is built here with both
//! set: every connection then drops after `--io-timeout` seconds idle or stalled, which bounds
//! the threads and memory that idle sockets can hold (tests/http checks this with hundreds of
//! idle sockets).
//!
//! The catch: SO_RCVTIMEO on a listening socket also bounds `accept`, and tiny_http's accept
//! loop stops for good on its first error. So a waker thread connects to the listener several
//! times per timeout period, and `accept` never waits long enough to time out. Should the
//! accept loop stop anyway, the workers see its error and the server shuts down gracefully and
//! exits non-zero, rather than linger without accepting.

use crate::app::App;
use crate::dispatch;
use crate::routes::Router;
use socket2::{Domain, Socket, Type};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The listener plus a second handle on the same socket, used to stop accepting at shutdown.
pub struct Listener {
    pub listener: TcpListener,
    pub control: Socket,
    pub addr: SocketAddr,
}

pub fn listen(addr: &str, io_timeout: Duration) -> std::io::Result<Listener> {
    let addr = addr.to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{addr} resolves to nothing"),
        )
    })?;
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_read_timeout(Some(io_timeout))?;
    socket.set_write_timeout(Some(io_timeout))?;
    socket.set_tcp_nodelay(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    let control = socket.try_clone()?;
    let listener: TcpListener = socket.into();
    let addr = listener.local_addr()?;
    Ok(Listener {
        listener,
        control,
        addr,
    })
}

/// Keeps tiny_http's accept loop from timing out (see the module comment): connects and
/// hangs up at a quarter of the timeout, so a stall of three quarters of it is tolerated.
pub fn start_accept_waker(addr: SocketAddr, io_timeout: Duration, app: Arc<App>) -> JoinHandle<()> {
    let mut target = addr;
    if target.ip().is_unspecified() {
        target.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let every = io_timeout / 4;
    std::thread::Builder::new()
        .name("accept-waker".into())
        .spawn(move || {
            while !app.stopping() {
                if let Err(e) = std::net::TcpStream::connect_timeout(&target, every) {
                    tracing::warn!(error = %e, "accept waker cannot connect");
                }
                std::thread::park_timeout(every);
            }
        })
        .expect("cannot start the accept waker")
}

/// How long an idle worker waits for a request before it looks at the shutdown flag again.
const POLL: Duration = Duration::from_millis(100);

/// Starts `n` workers over one tiny_http server. After shutdown begins, each worker keeps
/// answering what is already queued and stops once the queue is empty or `grace` has passed.
pub fn start_workers(
    n: usize,
    server: &Arc<tiny_http::Server>,
    app: &Arc<App>,
    grace: Duration,
) -> Vec<JoinHandle<()>> {
    let router = Arc::new(Router::new());
    (0..n)
        .map(|i| {
            let (server, app, router) = (Arc::clone(server), Arc::clone(app), Arc::clone(&router));
            std::thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || work(&server, &app, &router, grace))
                .expect("cannot start a worker thread")
        })
        .collect()
}

/// tiny_http reads bodies of up to 1 KiB before it hands the request over; a larger or
/// chunked body is read by whoever handles the request. Such requests get a thread of their
/// own (up to `--max-uploads`), so a client trickling its body holds that thread, not a worker.
/// (tiny_http also drains an unread body when the request is dropped, which is another read
/// a slow client controls.)
fn body_on_the_wire(request: &tiny_http::Request) -> bool {
    match request.body_length() {
        Some(n) => n > 1024,
        None => crate::http::header(request, "Transfer-Encoding").is_some(),
    }
}

fn dispatch_request(app: &Arc<App>, router: &Arc<Router>, request: tiny_http::Request) {
    if body_on_the_wire(&request) {
        if let Some(slot) = app.uploads.try_hold() {
            let (app, router) = (Arc::clone(app), Arc::clone(router));
            let spawned = std::thread::Builder::new()
                .name("upload".into())
                .spawn(move || {
                    dispatch::handle(&app, &router, request);
                    drop(slot);
                });
            // If the thread cannot start, the dropped request answers 500 on its own.
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start an upload thread");
            }
            return;
        }
    }
    dispatch::handle(app, router, request);
}

fn work(server: &tiny_http::Server, app: &Arc<App>, router: &Arc<Router>, grace: Duration) {
    let mut deadline: Option<Instant> = None;
    loop {
        if app.stopping() {
            let deadline = *deadline.get_or_insert_with(|| Instant::now() + grace);
            if Instant::now() >= deadline {
                return;
            }
        }
        match server.recv_timeout(POLL) {
            Ok(Some(request)) => dispatch_request(app, router, request),
            Ok(None) if app.stopping() => return,
            Ok(None) => {}
            Err(e) if !app.stopping() => {
                // tiny_http stops accepting after reporting this: shut down rather than linger.
                tracing::error!(error = %e, "the listener failed; shutting down");
                app.listener_failed.store(true, Ordering::SeqCst);
                let _ = signal_hook::low_level::raise(signal_hook::consts::SIGTERM);
            }
            Err(_) => {}
        }
    }
}
