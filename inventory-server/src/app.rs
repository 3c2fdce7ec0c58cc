//! What every handler shares: the engine handle and the server's own limits and state.

use inventory::Inventory;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

pub struct App {
    pub inv: Inventory,
    pub max_body: usize,
    /// Set once SIGINT/SIGTERM arrives; streams and workers wind down when they see it.
    pub shutting_down: Arc<AtomicBool>,
    pub streams: StreamSlots,
}

impl App {
    pub fn stopping(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }
}

/// Caps concurrent event-stream subscribers, so that streams cannot take every thread.
pub struct StreamSlots {
    open: AtomicUsize,
    max: usize,
}

impl StreamSlots {
    pub fn new(max: usize) -> Self {
        StreamSlots {
            open: AtomicUsize::new(0),
            max,
        }
    }

    /// Takes a slot if one is free. The caller must `release` it when its stream ends.
    pub fn try_take(&self) -> bool {
        self.open
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok()
    }

    pub fn release(&self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }

    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }
}
