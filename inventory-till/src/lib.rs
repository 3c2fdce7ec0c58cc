//! # inventory-till
//!
//! A till that keeps selling when the network does not: a local inventory engine on the till's
//! own file holding an **allotment** of central's stock, an **outbox** of sales, and a sync with
//! central (an `inventory-server`) that applies each sale there exactly once.
//!
//! - For each product it sells, the till holds a reservation at central, at its location, under
//!   `till:<till id>`, with an expiry (the **lease**, renewed at every sync). Central's
//!   `available` excludes it, so nobody else can sell those units, online or not.
//! - The till's own stock of a product is what remains of its allotment. [`Till::sell`] is a
//!   local write: instant, durable, offline, refused (INSUFFICIENT_STOCK) when the allotment is
//!   used up. The sale's movement in the till's ledger *is* its outbox entry.
//! - [`Till::sync`] pushes every sale as a commit of the till's reservation carrying the sale's
//!   reference, with that reference as `Idempotency-Key`; rebalances each allotment towards its
//!   target; and mirrors central's catalogue. A sync interrupted anywhere is finished by the
//!   next one, and no sale is lost or applied twice.
//! - A sale that no longer fits at central (the lease lapsed and central gave the units to
//!   someone else) is never dropped: it stays in the outbox as a [`Conflict`] until an operator
//!   [resolves](Till::resolve) it.
//!
//! docs/TILLS.md states the guarantees and their limits.
//!
//! ```no_run
//! use inventory_till::Till;
//! # fn main() -> Result<(), inventory::Error> {
//! # let (key, product) = (String::new(), inventory::Uuid::nil());
//! let till = Till::open("till-3.db", "https://central.example", &key, "T3", "Shop 1")?;
//! till.set_target(product, 20)?;
//! till.sync()?;                       // reserves 20 at central for this till
//! let sale = till.sell(product, 2)?;  // offline or not
//! let report = till.sync()?;          // central commits the sale once
//! assert!(report.complete && till.pending()?.is_empty());
//! # Ok(()) }
//! ```

mod catalogue;
mod central;
mod model;
mod outbox;
mod state;
mod sync;
mod wire;

pub use model::{
    Allotment, AllotmentChange, CatalogueChanges, Conflict, DEFAULT_LEASE, DEFAULT_RETENTION,
    Resolution, Sale, SaleOptions, SyncError, SyncReport, TillOptions,
};

use central::{Central, Failure};
use inventory::{
    Call, DateTime, Error, ErrorCode, Inventory, MovementQuery, Result, StockOp, Utc, Uuid, Write,
};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Longest till id.
pub const MAX_TILL_ID: usize = 64;
/// Longest sale id a point of sale may give.
pub const MAX_SALE_ID: usize = 128;
/// Longest reason an operator may give for a resolution.
pub const MAX_REASON: usize = 2048;

/// A till: its ledger and state files, and its link to central. Cheap to clone, `Send + Sync`:
/// selling from several threads is safe, and a sync never blocks a sale.
#[derive(Clone)]
pub struct Till {
    inner: Arc<Inner>,
    /// Shared by the clones; the last one dropped stops the background sync and waits for it.
    _background: Option<Arc<Background>>,
}

/// The background sync's thread, stopped and joined when dropped: closing a till closes its
/// files before the drop returns, whatever the background sync was doing.
struct Background {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    inner: Arc<Inner>,
}

impl Drop for Background {
    fn drop(&mut self) {
        // A sync under way stops at its next request to central.
        self.inner.central.close();
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub(crate) struct Inner {
    pub local: Inventory,
    pub state: state::State,
    pub central: Central,
    pub till_id: String,
    pub location: String,
    /// `till:<till id>`: the reference of the till's reservations at central.
    pub reservation: String,
    /// `sale:<till id>:`: the reference prefix of its sales.
    pub prefix: String,
    pub options: TillOptions,
    /// One sync (or resolution) at a time.
    syncing: Mutex<()>,
    /// The last sync's report, whoever ran it.
    last: Mutex<Option<SyncReport>>,
}

impl Inner {
    pub fn lease_seconds(&self) -> i64 {
        i64::try_from(self.options.lease.as_secs()).unwrap_or(i64::MAX)
    }
}

impl std::fmt::Debug for Till {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Till")
            .field("till_id", &self.inner.till_id)
            .field("location", &self.inner.location)
            .finish_non_exhaustive()
    }
}

/// The state file beside a ledger: `<ledger>.till`.
pub fn state_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".till");
    PathBuf::from(name)
}

fn check_till_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= MAX_TILL_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::validation(
            "till_id",
            format!("till_id must be 1 to {MAX_TILL_ID} letters, digits, '-', '_' or '.'"),
        ))
    }
}

fn check_text(field: &str, value: &str, max: usize) -> Result<()> {
    inventory::required_text(field, value, max).map(|_| ())
}

impl Till {
    /// Opens (creating if missing) the till's ledger at `path` and its state beside it
    /// ([`state_path`]), for till `till_id` selling at `location`, syncing with the server at
    /// `central_url` with the API key `key` (a `write` key limited to `location`). Nothing is
    /// sent until the first sync. Opening a till's files for another till id or location is
    /// VALIDATION_ERROR; opening them while another process has them open is BUSY.
    pub fn open(
        path: impl AsRef<Path>,
        central_url: &str,
        key: &str,
        till_id: &str,
        location: &str,
    ) -> Result<Till> {
        Till::open_with(
            path,
            central_url,
            key,
            till_id,
            location,
            TillOptions::default(),
        )
    }

    /// As [`Till::open`], with explicit options.
    pub fn open_with(
        path: impl AsRef<Path>,
        central_url: &str,
        key: &str,
        till_id: &str,
        location: &str,
        options: TillOptions,
    ) -> Result<Till> {
        check_till_id(till_id)?;
        check_text("location", location, inventory::MAX_LOCATION)?;
        if !(central_url.starts_with("http://") || central_url.starts_with("https://")) {
            return Err(Error::validation(
                "central_url",
                "central_url must be an http:// or https:// URL",
            ));
        }
        let lease = options.lease.as_secs();
        if lease < 1 || lease > inventory::MAX_EXPIRY_SECONDS as u64 {
            return Err(Error::validation(
                "lease",
                format!(
                    "lease must be 1 second to {} days",
                    inventory::MAX_EXPIRY_SECONDS / 86_400
                ),
            ));
        }
        if key.contains(['\r', '\n', '\0']) {
            return Err(Error::validation("key", "key must be one line of text"));
        }
        let path = path.as_ref();
        let location = location.trim().to_owned();
        if options.sync_interval.is_some_and(|i| i.is_zero()) {
            return Err(Error::validation(
                "sync_interval",
                "sync_interval must be longer than zero",
            ));
        }
        let state = state::State::open(&state_path(path), till_id, &location)?;
        let local = Inventory::open(path)?;
        let interval = options.sync_interval;
        let inner = Arc::new(Inner {
            local,
            state,
            central: Central::new(central_url, key, options.timeout),
            reservation: format!("till:{till_id}"),
            prefix: outbox::prefix(till_id),
            till_id: till_id.to_owned(),
            location,
            options,
            syncing: Mutex::new(()),
            last: Mutex::new(None),
        });
        let background = match interval {
            None => None,
            Some(every) => {
                let (stop, stopped) = channel();
                let till = inner.clone();
                let thread = std::thread::Builder::new()
                    .name(format!("till {till_id} sync"))
                    .spawn(move || background(&till, every, stopped))
                    .map_err(|e| Error::storage(format!("cannot start the sync thread: {e}")))?;
                Some(Arc::new(Background {
                    stop: Some(stop),
                    thread: Some(thread),
                    inner: inner.clone(),
                }))
            }
        };
        Ok(Till {
            inner,
            _background: background,
        })
    }

    /// The till's id.
    pub fn till_id(&self) -> &str {
        &self.inner.till_id
    }

    /// Where the till sells.
    pub fn location(&self) -> &str {
        &self.inner.location
    }

    /// The till's own inventory: its mirrored catalogue, its stock (what remains of each
    /// allotment) and its ledger (every sale, and every allotment change as an ADJUST). Read
    /// it freely; write to it only through the till, whose outbox it is.
    pub fn inventory(&self) -> &Inventory {
        &self.inner.local
    }

    /// Sells `quantity` of `product` from the till's allotment. See [`Till::sell_with`].
    pub fn sell(&self, product: Uuid, quantity: i64) -> Result<Sale> {
        self.sell_with(product, quantity, &SaleOptions::default())
    }

    /// Sells `quantity` of `product` at the till's location: one durable local write, made
    /// whether central is reachable or not, and the sale's entry in the outbox. Refused with
    /// INSUFFICIENT_STOCK when what remains of the allotment is less, NOT_FOUND for a product
    /// the till does not know (or that central archived).
    pub fn sell_with(&self, product: Uuid, quantity: i64, options: &SaleOptions) -> Result<Sale> {
        let inner = &self.inner;
        let id = match &options.sale_id {
            Some(id) => {
                check_text("sale_id", id, MAX_SALE_ID)?;
                id.clone()
            }
            None => Uuid::now_v7().to_string(),
        };
        let reference = format!("{}{id}", inner.prefix);
        let mut op = StockOp::remove(product, quantity)
            .at(inner.location.clone())
            .reference(reference.clone());
        if let Some(notes) = &options.notes {
            op = op.notes(notes.clone());
        }
        let call = Call {
            // With the POS's own id, selling again is a replay of the first sale.
            idempotency_key: options.sale_id.as_ref().map(|_| reference.clone()),
            actor: options.actor.clone(),
            ..Call::default()
        };
        inner.local.write(Write::level(op), &call)?;
        self.find_sale(product, &reference)
    }

    /// The sale movement with this reference, newest first (it is usually the newest).
    fn find_sale(&self, product: Uuid, reference: &str) -> Result<Sale> {
        let inner = &self.inner;
        let mut before = None;
        loop {
            let query = MovementQuery {
                limit: Some(inventory::MAX_PAGE),
                before,
                location: Some(inner.location.clone()),
                ..MovementQuery::default()
            };
            let page = inner.local.list_movements(product, &query)?;
            if let Some(m) = page
                .iter()
                .find(|m| m.reference.as_deref() == Some(reference))
            {
                return Ok(Sale {
                    reference: reference.to_owned(),
                    product_id: product,
                    quantity: m.quantity,
                    sold_at: m.created_at,
                    seq: m.seq,
                    notes: m.notes.clone(),
                    actor: m.actor.clone(),
                    conflict: false,
                });
            }
            match page.last() {
                Some(last) => before = Some(last.seq),
                None => {
                    return Err(Error::storage(format!(
                        "sale {reference} was written but is not in the ledger"
                    )));
                }
            }
        }
    }

    /// Pushes the outbox, applies decided resolutions, mirrors the catalogue and rebalances
    /// the allotments, in that order. Central being unreachable (or refusing the key) is not
    /// an error: the report says how far the sync got (`complete`, `error`), and the next sync
    /// goes on from there. Errors are the till's own files failing. One sync runs at a time;
    /// sales go on meanwhile.
    pub fn sync(&self) -> Result<SyncReport> {
        sync_now(&self.inner)
    }

    /// The report of the last sync that ran, called or in the background ([`TillOptions`]'s
    /// `sync_interval`); `None` before the first since the till was opened.
    pub fn last_report(&self) -> Option<SyncReport> {
        self.inner
            .last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Sales not yet acknowledged by central, oldest first: those waiting to be pushed and
    /// those in conflict (`conflict: true`).
    pub fn pending(&self) -> Result<Vec<Sale>> {
        let inner = &self.inner;
        let cursor = inner.state.cursor()?;
        let mut sales = outbox::sales_after(
            &inner.local,
            cursor.acked_upto,
            &inner.prefix,
            &inner.location,
        )?;
        sales.extend(inner.state.conflicts()?.into_iter().map(|c| c.sale));
        sales.sort_by_key(|s| s.seq);
        Ok(sales)
    }

    /// Sales in conflict, oldest first, with what central said and any decision taken.
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        self.inner.state.conflicts()
    }

    /// An operator's decision on the sale in conflict whose reference this is: recorded at
    /// once, then applied at central (as a count at the till's location carrying the sale's
    /// reference and `reason`, see [`Resolution`]). Returns true when central applied it (the
    /// sale leaves the outbox), false when central could not be reached (the next sync applies
    /// it). Central refusing it (the product archived, fewer units on hand than the sale) is
    /// an error, and clears the decision. NOT_FOUND for a reference not in conflict.
    pub fn resolve(&self, reference: &str, resolution: Resolution, reason: &str) -> Result<bool> {
        check_text("reason", reason, MAX_REASON)?;
        let inner = &self.inner;
        let _one = inner.syncing.lock().unwrap_or_else(|p| p.into_inner());
        inner.state.decide(reference, resolution, reason)?;
        let conflict = inner
            .state
            .conflicts()?
            .into_iter()
            .find(|c| c.sale.reference == reference)
            .ok_or_else(|| Error::not_found(format!("sale {reference:?} in conflict")))?;
        match sync::resolve(inner, &conflict, resolution) {
            Ok(sync::Resolved::Applied) => Ok(true),
            Ok(sync::Resolved::Refused(f)) => Err(engine_error(f)),
            Err(sync::Stop::Central(Failure::Unreachable(_))) => Ok(false),
            Err(sync::Stop::Central(f)) => match engine_error(f) {
                e if matches!(e.code, ErrorCode::Unauthorized | ErrorCode::Forbidden) => Err(e),
                _ => Ok(false),
            },
            Err(sync::Stop::Local(e)) => Err(e),
        }
    }

    /// Sets how much of `product` the till asks central to hold for it (0 to stop holding any).
    /// The next sync reserves up to it (as far as central has stock available) or releases the
    /// surplus.
    pub fn set_target(&self, product: Uuid, target: i64) -> Result<()> {
        if !(0..=inventory::MAX_QUANTITY).contains(&target) {
            return Err(Error::validation(
                "target",
                format!("target must be 0 to {}", inventory::MAX_QUANTITY),
            ));
        }
        self.inner.state.set_target(product, target)
    }

    /// Every product the till has a target for or holds an allotment of, by id.
    pub fn allotments(&self) -> Result<Vec<Allotment>> {
        let inner = &self.inner;
        let rows = inner.state.rows()?;
        let acked = inner.state.cursor()?.acked_upto;
        let pending = outbox::by_product(&outbox::sales_after(
            &inner.local,
            acked,
            &inner.prefix,
            &inner.location,
        )?);
        let mut out = Vec::with_capacity(rows.len());
        let mut ids: Vec<Uuid> = rows.keys().copied().collect();
        ids.sort();
        for product in ids {
            let row = rows[&product];
            let remaining = match inner.local.get_stock_level(product, &inner.location) {
                Ok(level) => level.on_hand,
                Err(e) if e.code == ErrorCode::NotFound => 0,
                Err(e) => return Err(e),
            };
            out.push(Allotment {
                product_id: product,
                target: row.target,
                held: row.held,
                remaining,
                pending: pending.get(&product).copied().unwrap_or(0),
                lease_expires_at: row.lease_expires_at,
            });
        }
        Ok(out)
    }

    /// Central's clock at the end of the last complete sync, if any.
    pub fn last_sync(&self) -> Result<Option<DateTime<Utc>>> {
        self.inner.state.synced_at()
    }
}

fn sync_now(inner: &Inner) -> Result<SyncReport> {
    let _one = inner.syncing.lock().unwrap_or_else(|p| p.into_inner());
    let mut report = SyncReport::default();
    match sync::run(inner, &mut report) {
        Ok(()) => report.complete = true,
        Err(sync::Stop::Central(f)) => {
            report.error = Some(SyncError {
                code: f.code().to_owned(),
                message: f.message(),
            })
        }
        Err(sync::Stop::Local(e)) => return Err(e),
    }
    *inner.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(report.clone());
    Ok(report)
}

/// The background sync: one every `every`, until the last handle on the till is dropped
/// ([`Background`]). A failure of the till's own files is reported by the next called sync or
/// sale; the loop tries again at its next turn.
fn background(till: &Inner, every: Duration, stopped: Receiver<()>) {
    loop {
        match stopped.recv_timeout(every) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        let _ = sync_now(till);
    }
}

/// Central's refusal as an engine error, with central's code where it is one of the engine's.
fn engine_error(f: Failure) -> Error {
    let code = ErrorCode::ALL
        .into_iter()
        .find(|c| c.as_str() == f.code())
        .unwrap_or(ErrorCode::StorageError);
    let field = match &f {
        Failure::Refused { field, .. } => field.clone(),
        Failure::Unreachable(_) => None,
    };
    Error {
        code,
        message: f.message(),
        field,
        index: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_till_is_send_sync_and_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<Till>();
    }

    #[test]
    fn ids_urls_and_leases_are_checked_before_anything_is_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("till.db");
        let open = |url: &str, id: &str, location: &str, lease: u64| {
            let options = TillOptions {
                lease: std::time::Duration::from_secs(lease),
                ..TillOptions::default()
            };
            Till::open_with(&path, url, "k", id, location, options).unwrap_err()
        };
        let url = "http://127.0.0.1:1";
        assert_eq!(
            open(url, "T 1", "Shop", 60).field.as_deref(),
            Some("till_id")
        );
        assert_eq!(open(url, "", "Shop", 60).field.as_deref(), Some("till_id"));
        assert_eq!(
            open(url, &"t".repeat(65), "Shop", 60).field.as_deref(),
            Some("till_id")
        );
        assert_eq!(open(url, "T1", " ", 60).field.as_deref(), Some("location"));
        assert_eq!(
            open("ftp://x", "T1", "Shop", 60).field.as_deref(),
            Some("central_url")
        );
        assert_eq!(open(url, "T1", "Shop", 0).field.as_deref(), Some("lease"));
        assert!(!path.exists(), "nothing was created");
    }

    #[test]
    fn a_tills_files_belong_to_one_till_and_one_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("till.db");
        let url = "http://127.0.0.1:1";
        let till = Till::open(&path, url, "k", "T1", "Shop").unwrap();
        let e = Till::open(&path, url, "k", "T1", "Shop").unwrap_err();
        assert_eq!(e.code, ErrorCode::Busy, "{e}");
        drop(till);
        let e = Till::open(&path, url, "k", "T2", "Shop").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("till_id"), "{e}");
        let e = Till::open(&path, url, "k", "T1", "Shop 2").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("till_id"), "{e}");
        Till::open(&path, url, "k", "T1", "Shop").unwrap();
    }

    #[test]
    fn selling_offline_fills_the_outbox_and_refuses_beyond_the_allotment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("till.db");
        let till = Till::open(&path, "http://127.0.0.1:1", "k", "T1", "Shop").unwrap();
        // An allotment as a sync leaves it: the product mirrored, 5 units counted in.
        let mut new =
            inventory::NewProduct::new("Mug", "MUG", inventory::Price::parse("4").unwrap());
        new.location = Some("Shop".into());
        let id = till.inventory().create_product(new).unwrap().product.id;
        till.inventory()
            .count_stock(StockOp::count(id, "Shop", 5))
            .unwrap();
        let sale = till.sell(id, 2).unwrap();
        assert!(sale.reference.starts_with("sale:T1:"));
        assert_eq!(
            (sale.product_id, sale.quantity, sale.conflict),
            (id, 2, false)
        );
        let e = till.sell(id, 4).unwrap_err();
        assert_eq!(e.code, ErrorCode::InsufficientStock);
        // A POS id makes a repeat of the same sale a replay, not a second sale.
        let options = SaleOptions {
            sale_id: Some("R-17".into()),
            notes: Some("receipt 17".into()),
            actor: Some("cashier-2".into()),
        };
        let first = till.sell_with(id, 1, &options).unwrap();
        let again = till.sell_with(id, 1, &options).unwrap();
        assert_eq!(first, again);
        assert_eq!(first.reference, "sale:T1:R-17");
        assert_eq!(first.actor.as_deref(), Some("cashier-2"));
        let pending = till.pending().unwrap();
        assert_eq!(
            pending.iter().map(|s| s.quantity).collect::<Vec<_>>(),
            vec![2, 1]
        );
        assert_eq!(
            till.inventory()
                .get_stock_level(id, "Shop")
                .unwrap()
                .on_hand,
            2
        );
        // Central is not there: the sync says so and loses nothing.
        let report = till.sync().unwrap();
        assert!(!report.complete);
        assert_eq!(report.error.as_ref().unwrap().code, "UNREACHABLE");
        assert_eq!(till.pending().unwrap(), pending);
        // And the outbox survives the process.
        drop(till);
        let till = Till::open(&path, "http://127.0.0.1:1", "k", "T1", "Shop").unwrap();
        assert_eq!(till.pending().unwrap(), pending);
        assert!(till.inventory().verify().unwrap().ok);
    }
}
