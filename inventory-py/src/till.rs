//! `Till`: a till that keeps selling offline (`inventory_till::Till`), and the values it hands
//! out. Every call that touches the till's files or central runs with the GIL released, a sync
//! above all (it waits on the network), so other Python threads go on selling meanwhile.

use crate::closable::Closable;
use crate::convert::{self, Int};
use crate::errors::OrRaise;
use crate::handle::Inventory;
use inventory::{DateTime, Utc};
use inventory_till::{Resolution, SaleOptions, TillOptions};
use pyo3::prelude::*;
use std::path::PathBuf;
use std::time::Duration;

/// One sale made at the till.
#[pyclass(frozen, get_all, eq, module = "inventory")]
#[derive(Clone, PartialEq)]
pub struct Sale {
    /// `sale:<till id>:<sale id>`: its movement's reference at the till and its COMMIT's at
    /// central.
    reference: String,
    product_id: String,
    quantity: i64,
    /// On the till's clock.
    sold_at: DateTime<Utc>,
    /// Its movement's sequence number in the till's ledger.
    seq: i64,
    notes: Option<String>,
    actor: Option<String>,
    /// It did not fit at central and waits for an operator (`Till.conflicts()`).
    conflict: bool,
}

impl From<inventory_till::Sale> for Sale {
    fn from(s: inventory_till::Sale) -> Self {
        Sale {
            reference: s.reference,
            product_id: s.product_id.to_string(),
            quantity: s.quantity,
            sold_at: s.sold_at,
            seq: s.seq,
            notes: s.notes,
            actor: s.actor,
            conflict: s.conflict,
        }
    }
}

#[pymethods]
impl Sale {
    fn __repr__(&self) -> String {
        format!(
            "Sale(reference={:?}, product_id={:?}, quantity={}, conflict={})",
            self.reference,
            self.product_id,
            self.quantity,
            if self.conflict { "True" } else { "False" }
        )
    }
}

/// The till's allotment of one product.
#[pyclass(frozen, get_all, eq, module = "inventory")]
#[derive(Clone, PartialEq)]
pub struct Allotment {
    product_id: String,
    /// What the till asks central to hold for it (`Till.set_target`).
    target: i64,
    /// What central held for the till at the last sync.
    held: i64,
    /// What the till may still sell: its own stock of the product, now.
    remaining: i64,
    /// Units sold and not yet acknowledged by central (sales in conflict excluded).
    pending: i64,
    /// When central releases the allotment unless a sync renews it, on central's clock.
    lease_expires_at: Option<DateTime<Utc>>,
}

impl From<inventory_till::Allotment> for Allotment {
    fn from(a: inventory_till::Allotment) -> Self {
        Allotment {
            product_id: a.product_id.to_string(),
            target: a.target,
            held: a.held,
            remaining: a.remaining,
            pending: a.pending,
            lease_expires_at: a.lease_expires_at,
        }
    }
}

#[pymethods]
impl Allotment {
    fn __repr__(&self) -> String {
        format!(
            "Allotment(product_id={:?}, target={}, held={}, remaining={}, pending={})",
            self.product_id, self.target, self.held, self.remaining, self.pending
        )
    }
}

/// A sale central refused: it stays in the outbox until an operator resolves it.
#[pyclass(frozen, get_all, eq, module = "inventory")]
#[derive(Clone, PartialEq)]
pub struct Conflict {
    sale: Sale,
    /// Central's error code (INSUFFICIENT_STOCK when the lease lapsed and the units were gone,
    /// NOT_FOUND when the product was archived).
    code: String,
    message: String,
    /// When central refused it, on central's clock.
    found_at: DateTime<Utc>,
    /// `"apply"` or `"discard"` once decided and not yet applied at central; else None.
    resolution: Option<&'static str>,
    reason: Option<String>,
    /// Why central refused the last decision (it was then cleared).
    resolution_error: Option<String>,
}

impl From<inventory_till::Conflict> for Conflict {
    fn from(c: inventory_till::Conflict) -> Self {
        Conflict {
            sale: c.sale.into(),
            code: c.code,
            message: c.message,
            found_at: c.found_at,
            resolution: c.resolution.map(Resolution::as_str),
            reason: c.reason,
            resolution_error: c.resolution_error,
        }
    }
}

#[pymethods]
impl Conflict {
    fn __repr__(&self) -> String {
        format!(
            "Conflict(reference={:?}, code={:?}, resolution={:?})",
            self.sale.reference, self.code, self.resolution
        )
    }
}

/// How a sync changed what the till may sell of one product.
#[pyclass(frozen, get_all, eq, module = "inventory")]
#[derive(Clone, PartialEq)]
pub struct AllotmentChange {
    product_id: String,
    /// The till's stock before the sync's rebalance, and after it.
    before: i64,
    after: i64,
    /// What central holds for the till now.
    held: i64,
}

/// What one sync did. `complete` is False when central could not be reached (or refused the
/// key): `error_code` and `error_message` say why, and the next sync goes on from there.
#[pyclass(frozen, get_all, module = "inventory")]
pub struct SyncReport {
    complete: bool,
    error_code: Option<String>,
    error_message: Option<String>,
    /// Sales central acknowledged in this sync.
    pushed: u64,
    /// Of those, sales central had already applied (an answer lost earlier): never twice.
    already_applied: u64,
    /// Of those, sales whose lease had lapsed but whose units central still had available.
    refitted: u64,
    /// Operators' resolutions central applied in this sync.
    resolved: u64,
    /// Central was found restored from a backup since the till's last sync.
    rewound: bool,
    /// Acknowledged sales central no longer had, pushed again (counted in `pushed` too).
    repushed: u64,
    conflicts: Vec<Conflict>,
    allotments: Vec<AllotmentChange>,
    catalogue_created: u64,
    catalogue_updated: u64,
    catalogue_archived: u64,
}

impl From<inventory_till::SyncReport> for SyncReport {
    fn from(r: inventory_till::SyncReport) -> Self {
        SyncReport {
            complete: r.complete,
            error_code: r.error.as_ref().map(|e| e.code.clone()),
            error_message: r.error.map(|e| e.message),
            pushed: r.pushed,
            already_applied: r.already_applied,
            refitted: r.refitted,
            resolved: r.resolved,
            rewound: r.rewound,
            repushed: r.repushed,
            conflicts: r.conflicts.into_iter().map(Conflict::from).collect(),
            allotments: r
                .allotments
                .into_iter()
                .map(|a| AllotmentChange {
                    product_id: a.product_id.to_string(),
                    before: a.before,
                    after: a.after,
                    held: a.held,
                })
                .collect(),
            catalogue_created: r.catalogue.created,
            catalogue_updated: r.catalogue.updated,
            catalogue_archived: r.catalogue.archived,
        }
    }
}

#[pymethods]
impl SyncReport {
    fn __repr__(&self) -> String {
        format!(
            "SyncReport(complete={}, pushed={}, conflicts={}, error_code={:?})",
            if self.complete { "True" } else { "False" },
            self.pushed,
            self.conflicts.len(),
            self.error_code
        )
    }
}

fn seconds(py: Python<'_>, field: &str, value: Option<f64>) -> PyResult<Option<Duration>> {
    value
        .map(|s| {
            Duration::try_from_secs_f64(s).map_err(|_| {
                crate::errors::invalid(
                    py,
                    field,
                    format!("{field} must be a non-negative number of seconds"),
                )
            })
        })
        .transpose()
}

/// A till selling offline from an allotment of central's stock (docs/TILLS.md): its own
/// database at `path` (and its state at `path + ".till"`), syncing with the inventory server
/// at `central_url` with `key`, a write key limited to `location`.
///
/// `lease` (seconds, default 7 days) is how long central holds the allotment without hearing
/// from the till; `timeout` (seconds, default 30) bounds each phase of a request to central;
/// `sync_interval` (seconds, default None) syncs in the background; `retention` (seconds,
/// default 30 days) is how far back acknowledged sales are pushed again when central turns out
/// to have been restored from a backup. Use it as a context
/// manager, or call `close()`. One object may be shared by many threads.
#[pyclass(frozen, module = "inventory")]
pub struct Till {
    till: Closable<inventory_till::Till>,
}

impl Till {
    fn get(&self, py: Python<'_>) -> PyResult<inventory_till::Till> {
        self.till.get(py)
    }

    /// Runs `f` on the till with the GIL released.
    fn call<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&inventory_till::Till) -> inventory::Result<T> + Send,
    ) -> PyResult<T> {
        self.till.call(py, f)
    }
}

#[pymethods]
impl Till {
    #[new]
    #[pyo3(signature = (path, central_url, key, till_id, location, *, lease = None,
        timeout = None, sync_interval = None, retention = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        central_url: String,
        key: String,
        till_id: String,
        location: String,
        lease: Option<f64>,
        timeout: Option<f64>,
        sync_interval: Option<f64>,
        retention: Option<f64>,
    ) -> PyResult<Self> {
        let mut options = TillOptions::default();
        if let Some(lease) = seconds(py, "lease", lease)? {
            options.lease = lease;
        }
        if let Some(timeout) = seconds(py, "timeout", timeout)? {
            options.timeout = timeout;
        }
        options.sync_interval = seconds(py, "sync_interval", sync_interval)?;
        if let Some(retention) = seconds(py, "retention", retention)? {
            options.retention = retention;
        }
        let till = py
            .detach(|| {
                inventory_till::Till::open_with(
                    &path,
                    &central_url,
                    &key,
                    &till_id,
                    &location,
                    options,
                )
            })
            .or_raise(py)?;
        Ok(Till {
            till: Closable::new(till, path, "till"),
        })
    }

    /// Closes the till: its background sync ends and its files close (another process may
    /// then open them). Later calls raise StorageError; closing twice is harmless.
    fn close(&self, py: Python<'_>) {
        self.till.close(py);
    }

    #[getter]
    fn closed(&self) -> bool {
        self.till.is_closed()
    }

    #[getter]
    fn till_id(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.get(py)?.till_id().to_owned())
    }

    #[getter]
    fn location(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.get(py)?.location().to_owned())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let path = self.till.path().to_owned().into_pyobject(py)?.repr()?;
        Ok(match self.get(py) {
            Ok(t) => format!("<Till {:?} at {:?} {path}>", t.till_id(), t.location()),
            Err(_) => format!("<Till {path} closed>"),
        })
    }

    /// Sells `quantity` of `product_id` from the till's allotment: one durable local write,
    /// whether central is reachable or not. InsufficientStockError past what remains of the
    /// allotment; NotFoundError for a product the till does not know. `sale_id` is the POS's
    /// own id for the sale: selling again with it returns the first sale.
    #[pyo3(signature = (product_id, quantity, *, sale_id = None, notes = None, actor = None))]
    fn sell(
        &self,
        py: Python<'_>,
        product_id: &str,
        quantity: Int,
        sale_id: Option<String>,
        notes: Option<String>,
        actor: Option<String>,
    ) -> PyResult<Sale> {
        let product = convert::product_id(py, product_id)?;
        let options = SaleOptions {
            sale_id,
            notes,
            actor,
        };
        self.call(py, move |t| t.sell_with(product, quantity.0, &options))
            .map(Sale::from)
    }

    /// Syncs with central (with the GIL released): pushes the outbox, applies resolutions,
    /// mirrors the catalogue, rebalances the allotments. Central unreachable is not an
    /// exception: the report's `complete` is False.
    fn sync(&self, py: Python<'_>) -> PyResult<SyncReport> {
        self.call(py, |t| t.sync()).map(SyncReport::from)
    }

    /// The report of the last sync, called or in the background; None before the first.
    fn last_report(&self, py: Python<'_>) -> PyResult<Option<SyncReport>> {
        Ok(self.get(py)?.last_report().map(SyncReport::from))
    }

    /// Sales central has not acknowledged yet, oldest first (those in conflict included).
    fn pending(&self, py: Python<'_>) -> PyResult<Vec<Sale>> {
        self.call(py, |t| t.pending())
            .map(|v| v.into_iter().map(Sale::from).collect())
    }

    /// Every product the till has a target for or holds an allotment of, by product id.
    fn allotments(&self, py: Python<'_>) -> PyResult<Vec<Allotment>> {
        self.call(py, |t| t.allotments())
            .map(|v| v.into_iter().map(Allotment::from).collect())
    }

    /// How much of `product_id` the till asks central to hold for it (0: none). The next sync
    /// reserves up to it, as far as central has stock available, or releases the surplus.
    fn set_target(&self, py: Python<'_>, product_id: &str, target: Int) -> PyResult<()> {
        let product = convert::product_id(py, product_id)?;
        self.call(py, move |t| t.set_target(product, target.0))
    }

    /// Sales in conflict, oldest first.
    fn conflicts(&self, py: Python<'_>) -> PyResult<Vec<Conflict>> {
        self.call(py, |t| t.conflicts())
            .map(|v| v.into_iter().map(Conflict::from).collect())
    }

    /// An operator's decision on a sale in conflict: `"apply"` (central takes the units off
    /// its stock as a count adjustment) or `"discard"` (a count that changes nothing), with a
    /// reason central's ledger keeps. True when central applied it, False when it could not
    /// be reached (the next sync applies it).
    fn resolve(
        &self,
        py: Python<'_>,
        reference: String,
        resolution: &str,
        reason: String,
    ) -> PyResult<bool> {
        let resolution = Resolution::parse(resolution).ok_or_else(|| {
            crate::errors::invalid(
                py,
                "resolution",
                format!("resolution must be \"apply\" or \"discard\", not {resolution:?}"),
            )
        })?;
        self.call(py, move |t| t.resolve(&reference, resolution, &reason))
    }

    /// The till's own database: its mirrored catalogue, its stock and its ledger, to read.
    /// Write to it only through the till (its ledger is the outbox).
    #[getter]
    fn inventory(&self, py: Python<'_>) -> PyResult<Inventory> {
        let local = self.get(py)?.inventory().clone();
        Ok(Inventory::from_engine(local, self.till.path().to_owned()))
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Till>()?;
    m.add_class::<Sale>()?;
    m.add_class::<Allotment>()?;
    m.add_class::<Conflict>()?;
    m.add_class::<AllotmentChange>()?;
    m.add_class::<SyncReport>()?;
    m.add(
        "TILL_DEFAULT_LEASE_SECONDS",
        inventory_till::DEFAULT_LEASE.as_secs(),
    )?;
    Ok(())
}
