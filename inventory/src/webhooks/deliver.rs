//! The delivering side: a `Deliverer` holds leases on subscriptions (so that of several
//! processes on one database exactly one delivers a subscription at a time), reads the
//! ledger after each one's cursor, POSTs the events it wants in `seq` order, signed, and
//! records each attempt with what follows (the cursor advanced, a backoff, a pause) in one
//! command that only applies while it still holds the lease. It runs on threads of its own:
//! no write waits for a receiver.

use super::RetryPolicy;
use super::guard::GuardedResolver;
use super::retry::jitter;
use super::{Attempt, DeliveryReport, DeliveryResult, Lease, MOVEMENT_CREATED, Webhook};
use crate::Inventory;
use crate::error::{ErrorCode, Result};
use crate::model::Movement;
use crate::reads::MAX_CHANGES_PAGE;
use chrono::Utc;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Writes a movement as an event's `data`: a surface passes its own wire form of a movement
/// (the HTTP server's is the one `/api/events` shows), so a receiver reads the same object.
pub type Encoder = Arc<dyn Fn(&Movement) -> serde_json::Value + Send + Sync>;

/// Told what deliveries do, for metrics and logs (the engine keeps neither itself).
pub trait DeliveryObserver: Send + Sync {
    /// A request was made: delivered or not, how long it took, how many events it carried.
    fn attempted(&self, webhook: Uuid, ok: bool, latency: Duration, events: usize);
    /// A subscription paused after failing past the retry window.
    fn paused(&self, webhook: Uuid, reason: &str);
}

/// How a deliverer sends.
#[derive(Clone)]
pub struct DeliveryConfig {
    /// The longest a request may take, from connecting to the end of the answer (10 s).
    pub timeout: Duration,
    /// The most events one request carries when a backlog builds (100).
    pub max_batch: usize,
    /// The backoff and the retry window.
    pub retry: RetryPolicy,
    /// How long a lease lasts unless renewed (30 s): the time another process takes over in
    /// when the one delivering dies. Must exceed `timeout`, so that a request in flight ends
    /// before its lease can pass to another process.
    pub lease: Duration,
    /// How long the delivery log keeps an attempt (7 days).
    pub keep_log: chrono::Duration,
    /// Connects to loopback, private and link-local addresses (tests, a trusted network).
    pub allow_private: bool,
    /// An event's `data`; `None`: the engine's [`Movement`] as serde writes it.
    pub encode: Option<Encoder>,
    /// Told about attempts and pauses.
    pub observer: Option<Arc<dyn DeliveryObserver>>,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            timeout: Duration::from_secs(10),
            max_batch: 100,
            retry: RetryPolicy::default(),
            lease: Duration::from_secs(30),
            keep_log: chrono::Duration::days(7),
            allow_private: false,
            encode: None,
            observer: None,
        }
    }
}

impl std::fmt::Debug for DeliveryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryConfig")
            .field("timeout", &self.timeout)
            .field("max_batch", &self.max_batch)
            .field("retry", &self.retry)
            .field("lease", &self.lease)
            .field("allow_private", &self.allow_private)
            .finish_non_exhaustive()
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tick {
    /// Requests made.
    pub attempts: u64,
    /// Requests that failed.
    pub failures: u64,
    /// Events delivered.
    pub delivered: u64,
    /// Whether a subscription has more to send at once (a full batch was sent).
    pub more: bool,
}

impl Tick {
    fn add(&mut self, other: Tick) {
        self.attempts += other.attempts;
        self.failures += other.failures;
        self.delivered += other.delivered;
        self.more |= other.more;
    }
}

/// Delivers the subscriptions of one database. One per process; [`Deliverer::run`] drives it
/// on threads of its own, [`Deliverer::tick`] does one pass (what tests with a manual clock
/// call).
pub struct Deliverer {
    inv: Inventory,
    config: DeliveryConfig,
    owner: String,
    agent: ureq::Agent,
    in_flight: Mutex<HashSet<Uuid>>,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer")
            .field("owner", &self.owner)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Deliverer {
    /// A deliverer with a new owner id (a UUID), on `inv`.
    pub fn new(inv: Inventory, config: DeliveryConfig) -> Self {
        let agent_config = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent(concat!("inventory-webhooks/", env!("CARGO_PKG_VERSION")))
            .build();
        let agent = ureq::Agent::with_parts(
            agent_config,
            ureq::unversioned::transport::DefaultConnector::default(),
            GuardedResolver::new(config.allow_private),
        );
        Deliverer {
            inv,
            config,
            owner: Uuid::now_v7().to_string(),
            agent,
            in_flight: Mutex::new(HashSet::new()),
        }
    }

    /// The id this deliverer holds leases under.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    fn lease_seconds(&self) -> i64 {
        i64::try_from(self.config.lease.as_secs().max(1)).unwrap_or(i64::MAX)
    }

    /// Takes (or renews) the leases of the active subscriptions no other live deliverer
    /// holds, and returns those whose next attempt is due. Skips the write when every
    /// active subscription is held, by another deliverer or by this one for more than half
    /// a lease yet.
    fn due(&self) -> Result<Vec<Lease>> {
        let now = self.inv.now();
        let half = chrono::Duration::seconds(self.lease_seconds() / 2);
        let needs_claim = self.inv.webhooks()?.iter().any(|w| {
            w.state == super::WebhookState::Active
                && match (&w.lease_owner, w.lease_until) {
                    (Some(o), Some(until)) if *o == self.owner => until - now < half,
                    (Some(_), Some(until)) => until < now,
                    _ => true,
                }
        });
        let leases = if needs_claim {
            self.inv.claim_webhooks(&self.owner, self.lease_seconds())?
        } else {
            self.inv.held_webhooks(&self.owner)?
        };
        Ok(leases
            .into_iter()
            .filter(|l| l.webhook.next_attempt_at.is_none_or(|t| t <= now))
            .collect())
    }

    /// One pass: every due subscription is sent one request (at most `max_batch` events),
    /// all at once, and this returns when they have ended.
    pub fn tick(&self) -> Result<Tick> {
        let due = self.due()?;
        let mut total = Tick::default();
        std::thread::scope(|s| {
            let handles: Vec<_> = due
                .iter()
                .map(|lease| s.spawn(move || self.deliver(lease)))
                .collect();
            for h in handles {
                match h.join() {
                    Ok(Ok(t)) => total.add(t),
                    Ok(Err(e))
                        if e.code == ErrorCode::Conflict || e.code == ErrorCode::NotFound => {}
                    Ok(Err(e)) => return Err(e),
                    Err(_) => {}
                }
            }
            Ok(())
        })?;
        Ok(total)
    }

    /// Delivers until `stop` is set: each due subscription on a thread of its own (a receiver
    /// that hangs holds only its own), woken by new movements and at least every second.
    pub fn run(self: Arc<Self>, stop: &AtomicBool) {
        let mut seen = 0;
        while !stop.load(Ordering::Relaxed) {
            let mut more = false;
            match self.due() {
                Ok(due) => {
                    for lease in due {
                        let id = lease.webhook.id;
                        if !self.lock_in_flight().insert(id) {
                            continue;
                        }
                        more = true;
                        let me = Arc::clone(&self);
                        std::thread::spawn(move || {
                            let _ = me.deliver(&lease);
                            me.lock_in_flight().remove(&id);
                        });
                    }
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
            // A thread that just finished a full batch is due again at once; otherwise wait
            // for a movement (or a second, for backoffs and leases).
            let timeout = if more && !self.lock_in_flight().is_empty() {
                Duration::from_millis(5)
            } else {
                Duration::from_secs(1)
            };
            seen = self.inv.wait_for_changes(seen, timeout);
        }
    }

    fn lock_in_flight(&self) -> std::sync::MutexGuard<'_, HashSet<Uuid>> {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends one subscription its next request and records what came of it.
    fn deliver(&self, lease: &Lease) -> Result<Tick> {
        // Read again rather than trust the pass's snapshot: the delivery before this one may
        // have recorded its advance since (it left `in_flight` only after its record
        // committed), and sending from the older cursor would send its events twice.
        let now = self.inv.now();
        let w = &self.inv.webhook(lease.webhook.id)?;
        let still_ours = w.state == super::WebhookState::Active
            && w.lease_owner.as_deref() == Some(self.owner.as_str())
            && w.next_attempt_at.is_none_or(|t| t <= now);
        if !still_ours {
            return Ok(Tick::default());
        }
        let (events, through) = self.pending(w)?;
        let forget_before = Some(self.inv.now() - self.config.keep_log);
        let report = |attempt, result| DeliveryReport {
            webhook: w.id,
            owner: self.owner.clone(),
            from: w.after,
            attempt,
            result,
            lease_seconds: self.lease_seconds(),
            forget_before,
        };
        if events.is_empty() {
            if through > w.after {
                self.inv
                    .record_delivery(report(None, DeliveryResult::Advanced(through)))?;
            }
            return Ok(Tick::default());
        }
        // A request may take `timeout`: start it only if the lease outlasts it, so that no
        // other deliverer can hold the subscription while it is in flight.
        let margin = chrono::Duration::from_std(self.config.timeout).unwrap_or_default()
            + chrono::Duration::seconds(1);
        if w.lease_until
            .is_none_or(|until| until - self.inv.now() < margin)
        {
            return Ok(Tick::default());
        }
        let (first, last) = (events[0].seq, events[events.len() - 1].seq);
        let body = self.body(&events)?;
        let msg_id = if first == last {
            first.to_string()
        } else {
            format!("{first}-{last}")
        };
        let timestamp = Utc::now().timestamp();
        let signature = super::signature_header(&lease.secret, &msg_id, timestamp, &body)?;
        let started = Instant::now();
        let sent = self
            .agent
            .post(&w.url)
            .header("content-type", "application/json")
            .header("webhook-id", &msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", &signature)
            .send(&body[..]);
        let (status, error) = match sent {
            Ok(mut answer) => {
                let status = answer.status().as_u16();
                // The answer's end is part of the delivery (and of its timeout).
                let _ = answer.body_mut().with_config().limit(65_536).read_to_vec();
                let ok = (200..300).contains(&status);
                (
                    Some(i64::from(status)),
                    (!ok).then(|| format!("the receiver answered {status}")),
                )
            }
            Err(e) => (None, Some(e.to_string())),
        };
        let latency = started.elapsed();
        let ok = error.is_none();
        if let Some(o) = &self.config.observer {
            o.attempted(w.id, ok, latency, events.len());
        }
        let attempt = Attempt {
            first_seq: first,
            last_seq: last,
            events: events.len() as i64,
            status,
            latency_ms: i64::try_from(latency.as_millis()).unwrap_or(i64::MAX),
            error: error.clone(),
        };
        let result = match &error {
            None => DeliveryResult::Advanced(through),
            Some(why) => {
                let now = self.inv.now();
                let since = w.failing_since.unwrap_or(now);
                match self
                    .config
                    .retry
                    .next_attempt(w.failures + 1, since, now, jitter())
                {
                    Some(at) => DeliveryResult::Retry(at),
                    None => {
                        let reason = format!("failing since {since}: {why}");
                        if let Some(o) = &self.config.observer {
                            o.paused(w.id, &reason);
                        }
                        DeliveryResult::Pause(reason)
                    }
                }
            }
        };
        self.inv.record_delivery(report(Some(attempt), result))?;
        Ok(Tick {
            attempts: 1,
            failures: u64::from(!ok),
            delivered: if ok { events.len() as u64 } else { 0 },
            more: ok && events.len() == self.config.max_batch,
        })
    }

    /// The next events the subscription wants, at most `max_batch`, and the `seq` its cursor
    /// moves to once they are delivered (past the movements its filters leave out).
    fn pending(&self, w: &Webhook) -> Result<(Vec<Movement>, i64)> {
        let max = self.config.max_batch.max(1);
        let mut events = Vec::new();
        let mut through = w.after;
        loop {
            let page = self.inv.changes(through, Some(MAX_CHANGES_PAGE))?;
            let full = page.movements.len() as i64 == MAX_CHANGES_PAGE;
            for m in page.movements {
                through = m.seq;
                if w.wants(&m) {
                    events.push(m);
                    if events.len() == max {
                        return Ok((events, through));
                    }
                }
            }
            if !full {
                return Ok((events, through));
            }
        }
    }

    /// The request's body: one event as an object, several as an array, each
    /// `{id, type, timestamp, data}` as the Standard Webhooks payload has it, with the
    /// movement's `seq` as its id.
    fn body(&self, events: &[Movement]) -> Result<Vec<u8>> {
        let encode = |m: &Movement| -> Result<serde_json::Value> {
            let data = match &self.config.encode {
                Some(f) => f(m),
                None => serde_json::to_value(m)?,
            };
            Ok(serde_json::json!({
                "id": m.seq,
                "type": MOVEMENT_CREATED,
                "timestamp": m.created_at,
                "data": data,
            }))
        };
        let value = if events.len() == 1 {
            encode(&events[0])?
        } else {
            serde_json::Value::Array(events.iter().map(encode).collect::<Result<_>>()?)
        };
        Ok(serde_json::to_vec(&value)?)
    }
}
