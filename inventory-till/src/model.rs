//! The values a till hands out and takes: plain, owned structs, so that the Python and C
//! surfaces translate them field by field.

use chrono::{DateTime, Utc};
use std::time::Duration;
use uuid::Uuid;

/// How long central holds a till's allotment without hearing from it, unless
/// [`TillOptions::lease`] says otherwise: a week, so that a till offline over a long weekend
/// still sells what it holds.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(7 * 24 * 3600);

/// How a till behaves. `Default` is what [`Till::open`](crate::Till::open) uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TillOptions {
    /// How long central holds the till's allotment without hearing from it: the expiry given
    /// to its reservations, renewed at every sync. Default 7 days; 1 second to 366 days.
    pub lease: Duration,
    /// How long each phase of a request to central may take (connecting, at most 10 s;
    /// sending; waiting for the answer; reading it). Default 30 seconds. Looking central's
    /// name up is bounded by the system resolver's own timeouts.
    pub timeout: Duration,
    /// How long after sending a sale the till trusts central's idempotency key to still be
    /// there: a sale sent, unanswered, and sent again later than this is first looked up in
    /// central's ledger. Default one hour less than central's
    /// [`IDEMPOTENCY_TTL_HOURS`](inventory::IDEMPOTENCY_TTL_HOURS); measured on central's clock.
    pub key_window: Duration,
    /// Sync in the background this often (`None`, the default: only when
    /// [`Till::sync`](crate::Till::sync) is called). A background sync takes no lock a sale
    /// needs: selling goes on while it waits on central. Its outcome is read as a called
    /// sync's would be: [`Till::last_report`](crate::Till::last_report), `pending()`,
    /// `conflicts()`.
    pub sync_interval: Option<Duration>,
    /// How long the till keeps acknowledged sales ready to push again: when central turns out
    /// to have been restored from a backup, every sale acknowledged within this window that
    /// central no longer has is pushed again. Default [`DEFAULT_RETENTION`] (30 days).
    pub retention: Duration,
}

/// How far back a till pushes acknowledged sales again after central was restored, unless
/// [`TillOptions::retention`] says otherwise.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

impl Default for TillOptions {
    fn default() -> Self {
        TillOptions {
            lease: DEFAULT_LEASE,
            timeout: Duration::from_secs(30),
            key_window: Duration::from_secs((inventory::IDEMPOTENCY_TTL_HOURS as u64 - 1) * 3600),
            sync_interval: None,
            retention: DEFAULT_RETENTION,
        }
    }
}

/// What [`Till::sell_with`](crate::Till::sell_with) takes besides the product and quantity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaleOptions {
    /// The point of sale's own id for the sale (a receipt line): selling again with the same
    /// id returns the first sale and sells nothing more, so a POS that crashed before it saw
    /// the answer can simply sell again. `None`: a new id. 1 to 128 characters.
    pub sale_id: Option<String>,
    /// Free notes, kept in the till's ledger and in central's.
    pub notes: Option<String>,
    /// Who sold it (a cashier), recorded on the till's own movement.
    pub actor: Option<String>,
}

/// One sale made at the till.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sale {
    /// The sale's reference, `sale:<till id>:<sale id>`: the reference of its movement at the
    /// till and of its COMMIT at central, and its idempotency key there.
    pub reference: String,
    pub product_id: Uuid,
    pub quantity: i64,
    /// When it was sold, on the till's clock.
    pub sold_at: DateTime<Utc>,
    /// Its movement's sequence number in the till's ledger.
    pub seq: i64,
    pub notes: Option<String>,
    pub actor: Option<String>,
    /// It did not fit at central and waits for an operator (see [`Conflict`]).
    pub conflict: bool,
}

/// What an operator decides about a sale in conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// The units did leave the shop: take them off central's stock at the till's location, as
    /// a count adjustment (an ADJUST of minus the quantity) carrying the sale's reference.
    Apply,
    /// The sale did not happen (or is settled elsewhere): record that at central as a count
    /// that changes nothing (an ADJUST of 0) carrying the sale's reference and the reason.
    Discard,
}

impl Resolution {
    /// `"apply"` or `"discard"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Apply => "apply",
            Resolution::Discard => "discard",
        }
    }

    /// The resolution named by [`Resolution::as_str`].
    pub fn parse(s: &str) -> Option<Resolution> {
        [Resolution::Apply, Resolution::Discard]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// A sale central refused: it stays in the outbox until an operator resolves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub sale: Sale,
    /// Central's error code for the last refusal (INSUFFICIENT_STOCK when the lease had lapsed
    /// and the units were gone; NOT_FOUND when the product was archived).
    pub code: String,
    pub message: String,
    /// When central refused it, on central's clock.
    pub found_at: DateTime<Utc>,
    /// The operator's decision, once made.
    pub resolution: Option<Resolution>,
    pub reason: Option<String>,
    /// Why central refused the decision, when it did (the decision is then cleared).
    pub resolution_error: Option<String>,
}

/// The till's allotment of one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allotment {
    pub product_id: Uuid,
    /// What the till asks central to hold for it (set with `set_target`).
    pub target: i64,
    /// What central held for the till at the last sync (its reservation).
    pub held: i64,
    /// What the till may still sell: its own stock of the product, now.
    pub remaining: i64,
    /// Units sold and not yet acknowledged by central (in conflict ones excluded).
    pub pending: i64,
    /// When central releases the allotment unless a sync renews it, on central's clock.
    pub lease_expires_at: Option<DateTime<Utc>>,
}

/// How a sync changed what the till may sell of one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllotmentChange {
    pub product_id: Uuid,
    /// The till's stock before the sync's rebalance.
    pub before: i64,
    /// And after it.
    pub after: i64,
    /// What central holds for the till now.
    pub held: i64,
}

/// Catalogue changes a sync mirrored from central.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatalogueChanges {
    pub created: u64,
    pub updated: u64,
    pub archived: u64,
}

/// Why a sync stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncError {
    /// Central's error code (`UNAUTHORIZED`, `FORBIDDEN`, `BUSY`, `RATE_LIMITED`...), or
    /// `UNREACHABLE` when central did not answer.
    pub code: String,
    pub message: String,
}

/// What one sync did. A sync that could not finish (central unreachable) still reports what
/// it did before it stopped; running it again continues safely.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Sales central acknowledged in this sync: they left the outbox.
    pub pushed: u64,
    /// Of those, sales central had already applied (a replayed idempotency key, or found in
    /// its ledger after the key's window): never applied twice.
    pub already_applied: u64,
    /// Of those, sales whose allotment had lapsed but whose units central still had available:
    /// reserved again and committed at once.
    pub refitted: u64,
    /// Sales found in conflict in this sync.
    pub conflicts: Vec<Conflict>,
    /// Operators' resolutions central applied in this sync.
    pub resolved: u64,
    /// Central was found rewound (restored from a backup) since the till's last sync.
    pub rewound: bool,
    /// Acknowledged sales central no longer had, pushed again (each applied once, or in
    /// `conflicts`); counted in `pushed` too.
    pub repushed: u64,
    /// Products whose local stock or central holding changed.
    pub allotments: Vec<AllotmentChange>,
    pub catalogue: CatalogueChanges,
    /// Every step ran to its end.
    pub complete: bool,
    /// Why it stopped, when it did.
    pub error: Option<SyncError>,
}
