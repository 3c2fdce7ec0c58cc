//! The listening socket and the worker pool.
//!
//! tiny_http reads each connection on a thread of its own and has no read timeout, so idle or
//! stalled clients would pin threads forever. On Linux an accepted socket inherits
//! SO_RCVTIMEO/SO_SNDTIMEO from the listening socket, so the listener is built here with both
//! set: every connection then drops after `--io-timeout` seconds idle or stalled, which bounds
//! the threads and memory that idle sockets can hold (tests/http checks this with hundreds of
//! idle sockets). Request bodies up to 1 KiB are read on the connection's thread, so a slow
//! client stalls only its own connection, not a worker.

use crate::app::App;
use crate::dispatch;
use crate::routes::Router;
use socket2::{Domain, Socket, Type};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;
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

fn work(server: &tiny_http::Server, app: &Arc<App>, router: &Router, grace: Duration) {
    let mut deadline: Option<Instant> = None;
    loop {
        if app.stopping() {
            let deadline = *deadline.get_or_insert_with(|| Instant::now() + grace);
            if Instant::now() >= deadline {
                return;
            }
        }
        match server.recv_timeout(POLL) {
            Ok(Some(request)) => dispatch::handle(app, router, request),
            Ok(None) if app.stopping() => return,
            Ok(None) => {}
            Err(e) if !app.stopping() => {
                // tiny_http stops accepting after reporting this; there is nothing to retry.
                tracing::error!(error = %e, "the listener failed; no new connections");
            }
            Err(_) => {}
        }
    }
}
