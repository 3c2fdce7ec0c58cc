//! What every handler shares: the engine handle and the server's own state and policy.

use crate::auth::Gate;
use crate::browser::Policy;
use crate::metrics::Metrics;
use crate::ratelimit::Limiter;
use inventory::Inventory;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

pub struct App {
    pub inv: Inventory,
    /// Set once SIGINT/SIGTERM arrives; streams and the sweep wind down when they see it.
    pub shutting_down: Arc<AtomicBool>,
    /// Server-Sent Events subscribers, each on its own thread.
    pub streams: Arc<Slots>,
    /// What web pages may do: CORS, the Origin and Host guards.
    pub browser: Policy,
    /// Whether reads are answered on the connection's own (runtime) thread: only from a local
    /// file, whose reads take microseconds; a PostgreSQL read is a network round trip, and its
    /// client may not block inside the runtime.
    pub inline_reads: bool,
    /// Whether requests need an API key.
    pub auth: Gate,
    /// `--rate-limit`, if given.
    pub limiter: Option<Limiter>,
    /// What `GET /metrics` exposes.
    pub metrics: Metrics,
    /// `--read-only`: writes are refused before they reach the engine.
    pub read_only: bool,
}

impl App {
    pub fn stopping(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }
}

/// A cap on threads of one kind (event streams), so that they cannot multiply without bound.
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
