//! What every handler shares: the engine handle and the server's own limits and state.

use inventory::Inventory;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

pub struct App {
    pub inv: Inventory,
    pub max_body: usize,
    /// The socket timeout, also the most a request body may take to arrive in full.
    pub io_timeout: Duration,
    /// Set once SIGINT/SIGTERM arrives; streams and workers wind down when they see it.
    pub shutting_down: Arc<AtomicBool>,
    /// tiny_http's accept loop ended on its own: the process exits non-zero after shutdown.
    pub listener_failed: AtomicBool,
    /// Server-Sent Events subscribers, each on its own thread.
    pub streams: Arc<Slots>,
    /// Requests whose body is still on the wire (over 1 KiB or chunked), handled on their own
    /// thread so that a client trickling its body cannot hold a worker.
    pub uploads: Arc<Slots>,
}

impl App {
    pub fn stopping(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }
}

/// A cap on threads of one kind (event streams, slow uploads), so that they cannot multiply
/// without bound or take the workers' place.
pub struct Slots {
    open: AtomicUsize,
    max: usize,
}

/// One taken slot; dropping it frees the slot, however the thread holding it ends.
pub struct Held(Arc<Slots>);

impl Slots {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Slots {
            open: AtomicUsize::new(0),
            max,
        })
    }

    pub fn try_hold(self: &Arc<Self>) -> Option<Held> {
        self.open
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| Held(Arc::clone(self)))
    }

    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}
