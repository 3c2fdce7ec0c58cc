//! What each open connection is doing, so that slow clients cannot hold the door:
//! - a request head has its own deadline (`--head-timeout-secs`), counted from its first byte
//!   and shorter than the idle keep-alive timeout, so a client trickling a head a byte at a
//!   time is closed after it;
//! - at the connection cap, an idle keep-alive connection (the longest idle first), else the
//!   slowest unfinished head (the oldest first), is closed for the new client, which would
//!   otherwise wait in the listen queue until some connection's timeout. A connection in a
//!   request (its handler running, or a response streamed: an event stream) is never shed.
//!
//! hyper's own header read timeout still bounds idle and head together (`--io-timeout-secs`).

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// How long a connection must have been idle, or its head arriving, before it is shed: a client
/// between two requests of its own, or in the middle of sending a head at full speed, is not
/// slow, and closing it would race its next request.
const SHED_AFTER_MS: u64 = 1000;

const IDLE: u8 = 0;
const HEAD: u8 = 1;
const BUSY: u8 = 2;

/// One connection's phase, since when, and the signal that sheds it.
pub struct Phase {
    base: Instant,
    phase: AtomicU8,
    /// Milliseconds after `base` when the phase began.
    since: AtomicU64,
    shed: Notify,
}

impl Phase {
    fn now(&self) -> u64 {
        self.base.elapsed().as_millis() as u64
    }

    fn enter(&self, phase: u8) {
        self.since.store(self.now(), Ordering::Relaxed);
        self.phase.store(phase, Ordering::Relaxed);
    }

    /// Bytes arrived: on an idle connection they begin a request head.
    fn bytes_read(&self) {
        if self.phase.load(Ordering::Relaxed) == IDLE {
            self.enter(HEAD);
        }
    }

    /// The head is in: the request is being handled.
    pub fn request_started(&self) {
        self.enter(BUSY);
    }

    /// The reply is handed over; a streamed one keeps the connection busy for good.
    pub fn request_done(&self, streamed: bool) {
        if !streamed {
            self.enter(IDLE);
        }
    }

    /// Resolves once a head has been arriving for longer than `timeout`.
    pub async fn head_expired(&self, timeout: Duration) {
        let tick = (timeout / 4).max(Duration::from_millis(50));
        let limit = timeout.as_millis() as u64;
        loop {
            tokio::time::sleep(tick).await;
            if self.phase.load(Ordering::Relaxed) == HEAD
                && self
                    .now()
                    .saturating_sub(self.since.load(Ordering::Relaxed))
                    >= limit
            {
                return;
            }
        }
    }

    /// Resolves when the connection is shed for a new one.
    pub async fn shed(&self) {
        self.shed.notified().await;
    }
}

/// Every open connection's phase.
pub struct Registry {
    base: Instant,
    next: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Phase>>>,
}

/// A registered connection; dropping it unregisters it.
pub struct Entry {
    registry: Arc<Registry>,
    id: u64,
    pub phase: Arc<Phase>,
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
    }
}

impl Registry {
    pub fn new() -> Arc<Registry> {
        Arc::new(Registry {
            base: Instant::now(),
            next: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Phase>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new connection, idle until bytes arrive.
    pub fn register(self: &Arc<Self>) -> Entry {
        let phase = Arc::new(Phase {
            base: self.base,
            phase: AtomicU8::new(IDLE),
            since: AtomicU64::new(self.base.elapsed().as_millis() as u64),
            shed: Notify::new(),
        });
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, Arc::clone(&phase));
        Entry {
            registry: Arc::clone(self),
            id,
            phase,
        }
    }

    /// Sheds the longest idle connection, else the oldest unfinished head, of those in that
    /// phase for `SHED_AFTER_MS` at least; false when there is none.
    pub fn shed_one(&self) -> bool {
        let open = self.lock();
        let now = self.base.elapsed().as_millis() as u64;
        let oldest = |wanted: u8| {
            open.values()
                .filter(|p| p.phase.load(Ordering::Relaxed) == wanted)
                .map(|p| (p.since.load(Ordering::Relaxed), p))
                .filter(|(since, _)| now.saturating_sub(*since) >= SHED_AFTER_MS)
                .min_by_key(|(since, _)| *since)
                .map(|(_, p)| p)
        };
        match oldest(IDLE).or_else(|| oldest(HEAD)) {
            Some(victim) => {
                // Counted as busy from now, so that it is not chosen twice.
                victim.phase.store(BUSY, Ordering::Relaxed);
                victim.shed.notify_one();
                true
            }
            None => false,
        }
    }
}

/// A connection's stream, noting when bytes arrive.
pub struct Watched<T> {
    pub inner: T,
    pub phase: Arc<Phase>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.phase.bytes_read();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_connections_are_shed_first_then_the_oldest_heads_never_busy_ones() {
        let registry = Arc::new(Registry {
            base: Instant::now() - Duration::from_secs(10),
            next: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
        });
        let busy = registry.register();
        busy.phase.request_started();
        let head = registry.register();
        head.phase.bytes_read();
        let idle = registry.register();
        assert!(
            !registry.shed_one(),
            "nothing has been idle or slow for long"
        );
        for p in [&busy.phase, &head.phase, &idle.phase] {
            p.since.fetch_sub(SHED_AFTER_MS, Ordering::Relaxed);
        }
        assert!(registry.shed_one());
        assert_eq!(
            idle.phase.phase.load(Ordering::Relaxed),
            BUSY,
            "the idle one first"
        );
        assert!(registry.shed_one());
        assert_eq!(
            head.phase.phase.load(Ordering::Relaxed),
            BUSY,
            "then the head"
        );
        assert!(
            !registry.shed_one(),
            "a connection in a request is never shed"
        );
        drop((busy, head, idle));
        assert!(registry.lock().is_empty());
    }
}
