//! Webhooks: subscriptions that the ledger's movements are delivered to, signed by the Standard
//! Webhooks specification. The ledger is the outbox: a subscription keeps only a cursor (the
//! last `seq` delivered), so an event is never copied, never merged with the next, and nothing
//! committed before a crash is missed after it; a delivery that was in flight is sent again.
//!
//! What a subscription is and how its state changes are commands (`rules::webhooks`); the
//! sending is [`Deliverer`], off the write path, over `ureq`.

mod deliver;
mod guard;
mod handle;
mod retry;
mod sign;

pub use deliver::{Deliverer, DeliveryConfig, DeliveryObserver, Encoder, Tick};
pub use guard::{check_target, is_refused_address};
pub use retry::RetryPolicy;
pub(crate) use sign::new_secret;
pub use sign::{SECRET_PREFIX, sign, signature_header};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The event type of a ledger movement, the only kind of event delivered so far.
pub const MOVEMENT_CREATED: &str = "movement.created";
/// Every event type a subscription may ask for.
pub const EVENT_TYPES: &[&str] = &[MOVEMENT_CREATED];
/// Longest subscription URL, in characters.
pub const MAX_WEBHOOK_URL: usize = 2048;
/// Most locations, or products, one subscription's filter may name.
pub const MAX_WEBHOOK_FILTER: usize = 1000;
/// Most delivery attempts one query of the log returns.
pub const MAX_DELIVERIES_PAGE: i64 = 1000;

/// Whether a subscription is being delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(transform = crate::model::names_only))]
#[serde(rename_all = "lowercase")]
pub enum WebhookState {
    /// Delivered (or waiting for its next attempt).
    Active,
    /// Not delivered until resumed; its cursor stays where it stopped.
    Paused,
}

impl WebhookState {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookState::Active => "active",
            WebhookState::Paused => "paused",
        }
    }

    /// The state named by [`WebhookState::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [WebhookState::Active, WebhookState::Paused]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A subscription, as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Webhook {
    /// UUID v7.
    pub id: Uuid,
    /// Where events are POSTed.
    pub url: String,
    /// The event types delivered.
    pub events: Vec<String>,
    /// Only movements at these locations; `None`: every location.
    pub locations: Option<Vec<String>>,
    /// Only movements of these products; `None`: every product.
    pub product_ids: Option<Vec<Uuid>>,
    /// Delivered or paused.
    pub state: WebhookState,
    /// Why it paused: the operator, or the failure that lasted past the retry window.
    pub paused_reason: Option<String>,
    /// The cursor: every event with a `seq` up to this one has been delivered (or skipped by
    /// the filters).
    pub after: i64,
    /// Failed attempts since the last success.
    pub failures: i64,
    /// When the current run of failures began.
    pub failing_since: Option<DateTime<Utc>>,
    /// No attempt before this time (the backoff after a failure).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The delivering process holding the subscription's lease.
    pub lease_owner: Option<String>,
    /// Until when it holds it.
    pub lease_until: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl Webhook {
    /// Whether this subscription is sent `movement`: its event type asked for, and the filters
    /// (locations, products) passed.
    pub fn wants(&self, movement: &crate::Movement) -> bool {
        self.events.iter().any(|e| e == MOVEMENT_CREATED)
            && self
                .locations
                .as_ref()
                .is_none_or(|l| l.contains(&movement.location))
            && self
                .product_ids
                .as_ref()
                .is_none_or(|p| p.contains(&movement.product_id))
    }
}

/// A new subscription's fields, as every surface takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewWebhook {
    /// `http://` or `https://`; a host that resolves to a loopback, private or link-local
    /// address is refused unless the handle allows private targets.
    pub url: String,
    /// The event types; `None`: all of [`EVENT_TYPES`].
    pub events: Option<Vec<String>>,
    /// Only movements at these locations.
    pub locations: Option<Vec<String>>,
    /// Only movements of these products.
    pub product_ids: Option<Vec<Uuid>>,
}

/// A new subscription with its signing secret, which is shown this once.
#[derive(Clone, PartialEq, Eq)]
pub struct CreatedWebhook {
    /// The subscription.
    pub webhook: Webhook,
    /// `whsec_` and the base64 of 32 random bytes: the receiver's key for checking signatures.
    pub secret: String,
}

impl std::fmt::Debug for CreatedWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedWebhook")
            .field("webhook", &self.webhook)
            .finish_non_exhaustive()
    }
}

/// What an operator does to a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WebhookChange {
    /// Stops delivering it; the cursor stays.
    Pause,
    /// Delivers it again from where it stopped, with its failures forgotten.
    Resume,
    /// Moves the cursor back (or forward) to this `seq`: the events after it are delivered
    /// (again). Its failures are forgotten; a paused subscription stays paused.
    Rewind(i64),
    /// Removes it and its delivery log.
    Delete,
}

/// A subscription a deliverer holds the lease of, with the secret it signs with.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The subscription.
    pub webhook: Webhook,
    /// Its signing secret (`whsec_...`).
    pub secret: String,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("webhook", &self.webhook)
            .finish_non_exhaustive()
    }
}

/// One attempt to deliver, as the delivery log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Delivery {
    /// Increasing with each attempt recorded.
    pub id: i64,
    /// The subscription.
    pub webhook_id: Uuid,
    /// The first event (`seq`) the request carried.
    pub first_seq: i64,
    /// The last event it carried.
    pub last_seq: i64,
    /// How many events it carried.
    pub events: i64,
    /// The how-manieth failure in a row this was (1 for a first attempt or one after a success).
    pub attempt: i64,
    /// Whether the receiver answered 2xx in time.
    pub ok: bool,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<i64>,
    /// From sending to the end of the answer, in milliseconds.
    pub latency_ms: i64,
    /// Why it failed (a refused connection, a timeout, a status).
    pub error: Option<String>,
    /// When it was made.
    pub at: DateTime<Utc>,
}

/// An attempt as a deliverer reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// The first event it carried.
    pub first_seq: i64,
    /// The last event it carried.
    pub last_seq: i64,
    /// How many events it carried.
    pub events: i64,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<i64>,
    /// Milliseconds from sending to the end of the answer.
    pub latency_ms: i64,
    /// Why it failed; `None`: delivered.
    pub error: Option<String>,
}

/// What a deliverer did with a subscription, applied as one command: the attempt logged and
/// the cursor or the backoff moved, only while the deliverer still holds the lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryReport {
    /// The subscription.
    pub webhook: Uuid,
    /// The deliverer that holds its lease.
    pub owner: String,
    /// The cursor the delivery started from: a rewind since then wins over this report.
    pub from: i64,
    /// The request made, if any (none when every event scanned was filtered out).
    pub attempt: Option<Attempt>,
    /// What follows.
    pub result: DeliveryResult,
    /// The lease is renewed for this many seconds.
    pub lease_seconds: i64,
    /// Attempts logged before this time are forgotten.
    pub forget_before: Option<DateTime<Utc>>,
}

/// What a delivery leads to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryResult {
    /// Every event up to this `seq` is delivered (or filtered out).
    Advanced(i64),
    /// It failed; the next attempt is not before this time.
    Retry(DateTime<Utc>),
    /// It failed past the retry window: the subscription pauses, for this reason.
    Pause(String),
}
