//! The periodic sweep that releases expired reservations (each with an EXPIRE movement) and
//! forgets old idempotency keys. Reads and writes release a product's expired reservations
//! themselves; the sweep keeps products nobody touches tidy too.

use crate::app::App;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub fn start(app: Arc<App>, every: Duration) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("sweep".into())
        .spawn(move || {
            let mut next = Instant::now() + every;
            while !app.stopping() {
                let now = Instant::now();
                if now < next {
                    // Unparked at shutdown.
                    std::thread::park_timeout(next - now);
                    continue;
                }
                next = now + every;
                match app.inv.expire_reservations() {
                    Ok(0) => {}
                    Ok(n) => {
                        app.metrics.swept(n);
                        tracing::info!(released = n, "expired reservations released");
                    }
                    Err(e) => tracing::error!(error = %e.message, "reservation sweep failed"),
                }
            }
        })
        .expect("cannot start the sweep thread")
}
