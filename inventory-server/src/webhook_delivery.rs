//! Runs the engine's webhook `Deliverer` beside the server, on threads of its own, configured
//! from the `--webhook-*` flags; each event's `data` is the movement as `/api/events` shows it.
//! Attempts and pauses go to the metrics, and a pause to the log.

use crate::app::App;
use crate::config::Config;
use crate::json::MovementJson;
use inventory::webhooks::{Deliverer, DeliveryConfig, RetryPolicy};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

pub struct Running {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Running {
    /// Ends the loop (it wakes within a second); requests in flight end on their own threads
    /// within the timeout, and whatever they delivered unrecorded is sent again next time.
    pub fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.thread.join();
    }
}

pub fn start(app: &Arc<App>, config: &Config) -> Running {
    let retry = RetryPolicy {
        window: chrono::Duration::hours(config.webhook_retry_hours as i64),
        ..RetryPolicy::default()
    };
    let deliverer = Arc::new(Deliverer::new(
        app.inv.clone(),
        DeliveryConfig {
            timeout: Duration::from_secs(config.webhook_timeout_secs),
            max_batch: config.webhook_max_batch as usize,
            retry,
            keep_log: chrono::Duration::days(config.webhook_log_days as i64),
            allow_private: config.webhook_allow_private,
            encode: Some(Arc::new(|m| {
                serde_json::to_value(MovementJson::from(m)).unwrap_or_default()
            })),
            observer: Some(app.metrics.webhooks()),
            // Long enough that a request in flight ends before its lease can pass on, short
            // enough that another server takes a dead one's subscriptions over within seconds.
            lease: Duration::from_secs(config.webhook_timeout_secs + 5),
        },
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("webhooks".into())
        .spawn(move || deliverer.run(&flag))
        .expect("cannot start the webhook thread");
    Running { stop, thread }
}
