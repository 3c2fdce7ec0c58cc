//! The `Inventory` class: one open database. Every engine call runs with the GIL released
//! (`Python::detach`), so threads sharing one object read and write in parallel; the engine
//! handle inside is `Send + Sync` and serializes writes itself. Writes go through the engine's
//! typed [`Write`]s with a [`Call`] (idempotency key, actor), so the result needs no matching.

use crate::clock::ManualClock;
use crate::closable::Closable;
use crate::convert::{self, Int, Money};
use crate::errors::{InventoryError, OrRaise};
use crate::feed::ChangeFeed;
use crate::model::{
    ApiKey, ChangePage, CreatedKey, Location, Movement, Product, ProductWithStock, Reservation,
    StockLevel, StockSummary, TakeOver, TillStatus, VerifyReport,
};
use crate::ops;
use crate::webhooks::{CreatedWebhook, Delivery, Webhook};
use inventory::webhooks::WebhookChange;
use inventory::{
    Call, Durability, MovementQuery, NewProduct, OpKind, Options, ProductChanges, ProductQuery,
    Scope, Write,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::path::PathBuf;
use std::time::Duration;

/// `update_product(reorder_point=...)`: left out keeps the value, `None` clears it.
pub(crate) enum ReorderPoint {
    Keep,
    Set(Option<i64>),
}

impl<'a, 'py> FromPyObject<'a, 'py> for ReorderPoint {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if value.is_none() {
            Ok(ReorderPoint::Set(None))
        } else {
            Ok(ReorderPoint::Set(Some(value.extract::<Int>()?.0)))
        }
    }
}

/// The per-call options every write method takes.
fn call(idempotency_key: Option<String>, actor: Option<String>) -> Call {
    Call {
        idempotency_key,
        actor,
        ..Call::default()
    }
}

/// An inventory database, opened (and created or migrated) at `path`.
///
/// Use it as a context manager, or call `close()`. One object may be shared by many threads.
#[pyclass(frozen, module = "inventory")]
pub struct Inventory {
    engine: Closable<inventory::Inventory>,
}

impl Inventory {
    /// An object on an engine handle opened elsewhere (a till's own database).
    pub(crate) fn from_engine(engine: inventory::Inventory, path: PathBuf) -> Inventory {
        Inventory {
            engine: Closable::new(engine, path, "inventory"),
        }
    }

    pub(crate) fn engine(&self, py: Python<'_>) -> PyResult<inventory::Inventory> {
        self.engine.get(py)
    }

    /// Runs `f` on the engine with the GIL released.
    fn call<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&inventory::Inventory) -> inventory::Result<T> + Send,
    ) -> PyResult<T> {
        self.engine.call(py, f)
    }

    /// Applies a typed write with its per-call options, with the GIL released.
    fn write<T: Send>(&self, py: Python<'_>, write: Write<T>, call: Call) -> PyResult<T> {
        self.call(py, move |e| e.write(write, &call).map(|done| done.value))
    }

    /// Applies a stock operation that changes one level.
    fn level(&self, py: Python<'_>, op: inventory::StockOp, call: Call) -> PyResult<StockLevel> {
        self.write(py, Write::level(op), call).map(StockLevel)
    }
}

#[pymethods]
impl Inventory {
    /// Opens the database at `path`, creating it if missing. `durability="full"` (the default)
    /// syncs every commit to disk; `"normal"` survives an application crash but may lose the
    /// last commits on power loss. `clock` (a ManualClock) replaces the wall clock, for
    /// deterministic tests of expiry. `actor` is recorded on the movements of every write that
    /// names no actor of its own. `busy_timeout` (seconds; None: the engine's default) bounds
    /// how long a write waits for another process holding the file (then BusyError). A file
    /// that is not an inventory database raises StorageError and is left untouched.
    #[new]
    #[pyo3(signature = (path, *, durability = "full", clock = None, actor = None,
        busy_timeout = None))]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        durability: &str,
        clock: Option<PyRef<'_, ManualClock>>,
        actor: Option<String>,
        busy_timeout: Option<f64>,
    ) -> PyResult<Self> {
        let durability = match durability {
            "full" => Durability::Full,
            "normal" => Durability::Normal,
            other => {
                return Err(crate::errors::invalid(
                    py,
                    "durability",
                    format!("durability must be \"full\" or \"normal\", not {other:?}"),
                ));
            }
        };
        let mut options = Options {
            durability,
            ..Options::default()
        };
        if let Some(clock) = clock {
            options.clock = clock.0.clone();
        }
        if let Some(seconds) = busy_timeout {
            options.busy_timeout = Duration::try_from_secs_f64(seconds).map_err(|_| {
                crate::errors::invalid(
                    py,
                    "busy_timeout",
                    "busy_timeout must be a non-negative number of seconds",
                )
            })?;
        }
        let opened = py
            .detach(|| inventory::Inventory::open_with(&path, options))
            .or_raise(py)?;
        let opened = match actor {
            Some(actor) => opened.with_actor(actor),
            None => opened,
        };
        Ok(Inventory::from_engine(opened, path))
    }

    /// Closes the database. Later calls raise StorageError; closing twice is harmless.
    fn close(&self, py: Python<'_>) {
        self.engine.close(py);
    }

    /// True once `close()` has run.
    #[getter]
    fn closed(&self) -> bool {
        self.engine.is_closed()
    }

    /// The path the database was opened at.
    #[getter]
    fn path(&self) -> String {
        self.engine.path().to_string_lossy().into_owned()
    }

    /// The actor recorded on writes that name none (`Inventory(..., actor=...)`), or None.
    #[getter]
    fn actor(&self, py: Python<'_>) -> PyResult<Option<String>> {
        Ok(self.engine(py)?.actor().map(str::to_owned))
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
        let state = if self.closed() { " closed" } else { "" };
        let path = self.path().into_pyobject(py)?.repr()?;
        Ok(format!("<Inventory {path}{state}>"))
    }

    // ---- products -------------------------------------------------------------------

    /// Creates a product with `initial_quantity` on hand at `location` (its own location;
    /// default "default"), recorded as an IN movement by `actor`. Returns the Product. Raises
    /// DuplicateSkuError if a live product has the SKU.
    #[pyo3(signature = (*, name, sku, price, description = String::new(), location = None,
        initial_quantity = Int(0), reorder_point = None, idempotency_key = None, actor = None),
        text_signature = "($self, *, name, sku, price, description='', location=None, initial_quantity=0, reorder_point=None, idempotency_key=None, actor=None)")]
    #[allow(clippy::too_many_arguments)]
    fn create_product(
        &self,
        py: Python<'_>,
        name: String,
        sku: String,
        price: Money,
        description: String,
        location: Option<String>,
        initial_quantity: Int,
        reorder_point: Option<Int>,
        idempotency_key: Option<String>,
        actor: Option<String>,
    ) -> PyResult<Product> {
        let new = NewProduct {
            name,
            sku,
            price: price.0,
            description,
            location,
            initial_quantity: initial_quantity.0,
            reorder_point: convert::opt(reorder_point),
            id: None,
        };
        let created = self.write(py, Write::create_product(new), call(idempotency_key, actor))?;
        Ok(Product(created.product))
    }

    /// The product with its stock: `.product` (a Product) and `.inventory` (a StockSummary),
    /// the shape of the HTTP API's GET /api/products/{id}.
    fn get_product(&self, py: Python<'_>, id: &str) -> PyResult<ProductWithStock> {
        let id = convert::product_id(py, id)?;
        self.call(py, |e| e.get_product(id)).map(ProductWithStock)
    }

    /// A page of live products in creation order (`limit` up to MAX_PAGE). `low_stock=True`
    /// keeps those whose available total is at or below their reorder point; `q` keeps those
    /// whose SKU starts with it (exactly) or whose name does (ignoring ASCII case).
    #[pyo3(signature = (limit = Int(inventory::DEFAULT_PAGE), offset = Int(0), *,
        low_stock = false, q = None),
        text_signature = "($self, limit=inventory.DEFAULT_PAGE, offset=0, *, low_stock=False, q=None)")]
    fn list_products(
        &self,
        py: Python<'_>,
        limit: Int,
        offset: Int,
        low_stock: bool,
        q: Option<String>,
    ) -> PyResult<Vec<Product>> {
        let query = ProductQuery {
            limit: Some(limit.0),
            offset: Some(offset.0),
            low_stock,
            q,
        };
        let products = self.call(py, |e| e.list_products(&query))?;
        Ok(products.into_iter().map(Product).collect())
    }

    /// Changes only the fields given; `reorder_point=None` clears it. With `expected_version`
    /// the update applies only if the product's version still matches (else ConflictError
    /// with `.field == "version"`). Returns the updated Product.
    #[pyo3(signature = (id, *, name = None, description = None, price = None,
        reorder_point = ReorderPoint::Keep, expected_version = None, idempotency_key = None))]
    #[allow(clippy::too_many_arguments)]
    fn update_product(
        &self,
        py: Python<'_>,
        id: &str,
        name: Option<String>,
        description: Option<String>,
        price: Option<Money>,
        reorder_point: ReorderPoint,
        expected_version: Option<Int>,
        idempotency_key: Option<String>,
    ) -> PyResult<Product> {
        let changes = ProductChanges {
            name,
            description,
            price: price.map(|p| p.0),
            reorder_point: match reorder_point {
                ReorderPoint::Keep => None,
                ReorderPoint::Set(v) => Some(v),
            },
        };
        let write = Write::update_product(
            convert::product_id(py, id)?,
            changes,
            convert::opt(expected_version),
        );
        self.write(py, write, call(idempotency_key, None))
            .map(Product)
    }

    /// Archives the product: it disappears from reads and its SKU is free again; its ledger
    /// is kept. `expected_version` makes it a compare-and-set.
    #[pyo3(signature = (id, *, expected_version = None, idempotency_key = None))]
    fn delete_product(
        &self,
        py: Python<'_>,
        id: &str,
        expected_version: Option<Int>,
        idempotency_key: Option<String>,
    ) -> PyResult<()> {
        let write =
            Write::delete_product(convert::product_id(py, id)?, convert::opt(expected_version));
        self.write(py, write, call(idempotency_key, None)).map(drop)
    }

    // ---- locations ------------------------------------------------------------------

    /// Creates an empty location explicitly (stock operations also create one on first use).
    /// ConflictError if it exists.
    #[pyo3(signature = (name, *, idempotency_key = None))]
    fn create_location(
        &self,
        py: Python<'_>,
        name: String,
        idempotency_key: Option<String>,
    ) -> PyResult<Location> {
        self.write(
            py,
            Write::create_location(name),
            call(idempotency_key, None),
        )
        .map(Location)
    }

    /// Every location with its totals over live products, by name.
    fn list_locations(&self, py: Python<'_>) -> PyResult<Vec<Location>> {
        let locations = self.call(py, |e| e.list_locations())?;
        Ok(locations.into_iter().map(Location).collect())
    }

    // ---- stock ----------------------------------------------------------------------
    //
    // Each method's keywords are the fields the engine's table gives its kind (see
    // `stock_fields`; the stub states them, and a test checks it against the table), read by
    // `ops::from_call`, plus `idempotency_key` and `actor`, the call's options: the recorded
    // actor of the movements it makes (default: the handle's).

    /// Adds `quantity` on hand at `location` (default: the product's own location).
    #[pyo3(signature = (id, quantity, *, idempotency_key = None, actor = None, **fields))]
    fn add_stock(
        &self,
        py: Python<'_>,
        id: &str,
        quantity: &Bound<'_, PyAny>,
        idempotency_key: Option<String>,
        actor: Option<String>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<StockLevel> {
        let op = ops::from_call(py, OpKind::Add, id, ("quantity", Some(quantity)), fields)?;
        self.level(py, op, call(idempotency_key, actor))
    }

    /// Removes `quantity` from what is available; InsufficientStockError if there is less.
    #[pyo3(signature = (id, quantity, *, idempotency_key = None, actor = None, **fields))]
    fn remove_stock(
        &self,
        py: Python<'_>,
        id: &str,
        quantity: &Bound<'_, PyAny>,
        idempotency_key: Option<String>,
        actor: Option<String>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<StockLevel> {
        let op = ops::from_call(py, OpKind::Remove, id, ("quantity", Some(quantity)), fields)?;
        self.level(py, op, call(idempotency_key, actor))
    }

    /// Holds `quantity` for `reference` (reserving again under one reference adds to it).
    /// An expiry (`expires_in_seconds` or an aware `expires_at`) releases it automatically.
    #[pyo3(signature = (id, quantity, *, idempotency_key = None, actor = None, **fields))]
    fn reserve_stock(
        &self,
        py: Python<'_>,
        id: &str,
        quantity: &Bound<'_, PyAny>,
        idempotency_key: Option<String>,
        actor: Option<String>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<StockLevel> {
        let op = ops::from_call(
            py,
            OpKind::Reserve,
            id,
            ("quantity", Some(quantity)),
            fields,
        )?;
        self.level(py, op, call(idempotency_key, actor))
    }

    /// Releases reserved stock: from the reservation named by `reference` (all of it when
    /// `quantity` is None), or unreferenced reserved stock when there is no reference.
    /// InsufficientReservedError if less is reserved.
    #[pyo3(signature = (id, quantity = None, *, idempotency_key = None, actor = None,
        **fields))]
    fn unreserve_stock(
        &self,
        py: Python<'_>,
        id: &str,
        quantity: Option<&Bound<'_, PyAny>>,
        idempotency_key: Option<String>,
        actor: Option<String>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<StockLevel> {
        let op = ops::from_call(py, OpKind::Unreserve, id, ("quantity", quantity), fields)?;
        self.level(py, op, call(idempotency_key, actor))
    }

    /// Fulfils the reservation held for `reference` (default: the unreferenced reservation):
    /// on_hand and reserved both drop by `quantity` (default: the whole reservation).
    /// `release_remainder=True` releases what a partial commit leaves. With `reservation`,
    /// takes from the reservation of that name while the movements carry `reference` (a
    /// till's sale committed from its allotment).
    #[pyo3(signature = (id, reference = None, *, idempotency_key = None, actor = None,
        **fields))]
    fn commit_reservation(
        &self,
        py: Python<'_>,
        id: &str,
        reference: Option<&Bound<'_, PyAny>>,
        idempotency_key: Option<String>,
        actor: Option<String>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<StockLevel> {
        let op = ops::from_call(py, OpKind::Commit, id, ("reference", reference), fields)?;
        self.level(py, op, call(idempotency_key, actor))
    }

    /// Gives the open reservation held for `reference` (default: the unreferenced one) a new
    /// expiry, `expires_in_seconds` from now or at an aware `expires_at`, changing nothing else
    /// and writing no movement: a lease renewed. InsufficientReservedError if none is open.
    #[pyo3(signature = (id, reference = None, *, idempotency_key = None, actor = None,
        **fields))]
    fn renew_reservation(
        &self,
        py: Python<'_>,
        id: &str,
        reference: Option<&Bound<'_, PyAny>>,
        idempotency_key: Option<String>,
        actor: Option<String>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<StockLevel> {
        let op = ops::from_call(py, OpKind::Renew, id, ("reference", reference), fields)?;
        self.level(py, op, call(idempotency_key, actor))
    }

    /// Moves `quantity` from `from_location` (default: the product's own location) to
    /// `to_location` in one atomic step, writing TRANSFER_OUT and TRANSFER_IN movements.
    /// Returns the (source, destination) levels.
    #[pyo3(signature = (id, quantity, *, idempotency_key = None, actor = None, **fields))]
    fn transfer_stock(
        &self,
        py: Python<'_>,
        id: &str,
        quantity: &Bound<'_, PyAny>,
        idempotency_key: Option<String>,
        actor: Option<String>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<(StockLevel, StockLevel)> {
        let op = ops::from_call(
            py,
            OpKind::Transfer,
            id,
            ("quantity", Some(quantity)),
            fields,
        )?;
        let (from, to) = self.write(py, Write::transfer(op), call(idempotency_key, actor))?;
        Ok((StockLevel(from), StockLevel(to)))
    }

    /// A physical count: sets on_hand at `location` (default: the product's own) to
    /// `counted`, recorded as an ADJUST movement of the difference. Refused if `counted` is
    /// below what is reserved there. With `expected_quantity` (or `expected_available`) the
    /// count applies only if the level still holds what the counter last saw (else
    /// ConflictError naming that field).
    #[pyo3(signature = (id, counted, *, idempotency_key = None, actor = None, **fields))]
    fn count_stock(
        &self,
        py: Python<'_>,
        id: &str,
        counted: &Bound<'_, PyAny>,
        idempotency_key: Option<String>,
        actor: Option<String>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<StockLevel> {
        let op = ops::from_call(py, OpKind::Count, id, ("counted", Some(counted)), fields)?;
        self.level(py, op, call(idempotency_key, actor))
    }

    /// Applies a list of stock operations all or nothing, each a dict with `op` (one of
    /// STOCK_OPS), `product_id` and the fields of that op (`stock_fields(op)`, the keywords
    /// of the matching method). Returns the levels each operation changed. On failure nothing
    /// is applied and the error's `.index` names the failing operation.
    #[pyo3(signature = (operations, *, idempotency_key = None, actor = None))]
    fn batch<'py>(
        &self,
        py: Python<'py>,
        operations: &Bound<'py, PyAny>,
        idempotency_key: Option<String>,
        actor: Option<String>,
    ) -> PyResult<Bound<'py, PyList>> {
        if operations.is_instance_of::<pyo3::types::PyString>()
            || operations.is_instance_of::<pyo3::types::PyDict>()
        {
            return Err(PyTypeError::new_err("operations must be a list of dicts"));
        }
        let mut ops = Vec::new();
        for (index, item) in operations.try_iter()?.enumerate() {
            let item = item?;
            ops.push(ops::from_dict(&item, index).inspect_err(|e| {
                if e.is_instance_of::<InventoryError>(py) {
                    let _ = e.value(py).setattr("index", index);
                }
            })?);
        }
        let all = self.write(py, Write::batch(ops), call(idempotency_key, actor))?;
        PyList::new(
            py,
            all.into_iter()
                .map(|levels| levels.into_iter().map(StockLevel).collect::<Vec<_>>()),
        )
    }

    /// Releases every reservation past its expiry (each with an EXPIRE movement, which has
    /// no actor: time released it) and forgets old idempotency keys. Returns how many
    /// reservations were released. Reads and writes already release a product's expired
    /// reservations before touching it.
    fn expire_reservations(&self, py: Python<'_>) -> PyResult<u64> {
        self.write(py, Write::sweep(), Call::default())
    }

    // ---- webhooks -------------------------------------------------------------------

    /// Subscribes `url` to the ledger's events (`events`: event types, default all; only
    /// movements at `locations` or of `product_ids` when given), delivered by a server on
    /// this database from the next movement on. A URL leading to a loopback, private or
    /// link-local address is a ValidationError on `url`. Returns a CreatedWebhook: its
    /// `.secret` is shown this once and never appears in a repr.
    #[pyo3(signature = (url, events = None, locations = None, product_ids = None))]
    fn create_webhook(
        &self,
        py: Python<'_>,
        url: String,
        events: Option<Vec<String>>,
        locations: Option<Vec<String>>,
        product_ids: Option<Vec<String>>,
    ) -> PyResult<CreatedWebhook> {
        let product_ids = product_ids
            .map(|ids| {
                ids.iter()
                    .map(|id| {
                        inventory::Uuid::parse_str(id).map_err(|_| {
                            crate::errors::invalid(
                                py,
                                "product_ids",
                                format!("product_ids holds {id:?}, which is not a UUID"),
                            )
                        })
                    })
                    .collect::<PyResult<Vec<_>>>()
            })
            .transpose()?;
        let new = inventory::webhooks::NewWebhook {
            url,
            events,
            locations,
            product_ids,
        };
        self.call(py, |e| e.create_webhook(new)).map(CreatedWebhook)
    }

    /// Every subscription, in creation order (never a secret).
    fn webhooks(&self, py: Python<'_>) -> PyResult<Vec<Webhook>> {
        let all = self.call(py, |e| e.webhooks())?;
        Ok(all.into_iter().map(Webhook).collect())
    }

    /// One subscription; NotFoundError when there is none.
    fn webhook(&self, py: Python<'_>, id: &str) -> PyResult<Webhook> {
        let id = webhook_id(py, id)?;
        self.call(py, |e| e.webhook(id)).map(Webhook)
    }

    /// Stops delivering a subscription; its cursor stays.
    fn pause_webhook(&self, py: Python<'_>, id: &str) -> PyResult<Webhook> {
        self.change_webhook(py, id, WebhookChange::Pause)
    }

    /// Delivers a paused subscription again from where it stopped, its failures forgotten.
    fn resume_webhook(&self, py: Python<'_>, id: &str) -> PyResult<Webhook> {
        self.change_webhook(py, id, WebhookChange::Resume)
    }

    /// Moves a subscription's cursor to `after`, any seq the ledger holds: the events after
    /// it are delivered (again).
    fn rewind_webhook(&self, py: Python<'_>, id: &str, after: convert::Int) -> PyResult<Webhook> {
        self.change_webhook(py, id, WebhookChange::Rewind(after.0))
    }

    /// Deletes a subscription and its delivery log; returns it as it was.
    fn delete_webhook(&self, py: Python<'_>, id: &str) -> PyResult<Webhook> {
        self.change_webhook(py, id, WebhookChange::Delete)
    }

    /// A subscription's delivery log, newest first: up to `limit` attempts, only those that
    /// carried the event `event` (a seq) when given.
    #[pyo3(signature = (id, event = None, limit = None))]
    fn webhook_deliveries(
        &self,
        py: Python<'_>,
        id: &str,
        event: Option<convert::Int>,
        limit: Option<convert::Int>,
    ) -> PyResult<Vec<Delivery>> {
        let id = webhook_id(py, id)?;
        let (event, limit) = (convert::opt(event), convert::opt(limit));
        let log = self.call(py, |e| e.webhook_deliveries(id, event, limit))?;
        Ok(log.into_iter().map(Delivery).collect())
    }

    // ---- API keys -------------------------------------------------------------------

    /// Creates an API key named `name` with `scope` ("read", "write" or "admin"), limited to
    /// moving stock at `locations` when given. Returns a CreatedKey: its `.secret` is shown
    /// this once (only its SHA-256 is stored) and never appears in a repr.
    #[pyo3(signature = (name, scope, locations = None))]
    fn create_key(
        &self,
        py: Python<'_>,
        name: String,
        scope: &str,
        locations: Option<Vec<String>>,
    ) -> PyResult<CreatedKey> {
        let scope = Scope::parse(scope).ok_or_else(|| {
            let scopes: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
            crate::errors::invalid(
                py,
                "scope",
                format!("scope must be one of {}", scopes.join(", ")),
            )
        })?;
        self.call(py, |e| e.create_key(&name, scope, locations))
            .map(CreatedKey)
    }

    /// Every key, revoked ones included (never a secret).
    fn list_keys(&self, py: Python<'_>) -> PyResult<Vec<ApiKey>> {
        let keys = self.call(py, |e| e.list_keys())?;
        Ok(keys.into_iter().map(ApiKey).collect())
    }

    /// Revokes the live key named `name` and returns it; NotFoundError if there is none.
    fn revoke_key(&self, py: Python<'_>, name: String) -> PyResult<ApiKey> {
        self.call(py, |e| e.revoke_key(&name)).map(ApiKey)
    }

    /// The live key whose secret this is; UnauthorizedError for an unknown or revoked one.
    fn authenticate(&self, py: Python<'_>, secret: String) -> PyResult<ApiKey> {
        self.call(py, |e| e.authenticate(&secret)).map(ApiKey)
    }

    // ---- reads ----------------------------------------------------------------------

    /// The product's stock: a StockSummary (totals over all locations, with `.locations`),
    /// or with `location` the StockLevel there (NotFoundError if it never had stock there).
    #[pyo3(signature = (id, location = None))]
    fn get_inventory<'py>(
        &self,
        py: Python<'py>,
        id: &str,
        location: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = convert::product_id(py, id)?;
        match location {
            Some(at) => {
                let level = self.call(py, |e| e.get_stock_level(id, &at))?;
                Ok(Bound::new(py, StockLevel(level))?.into_any())
            }
            None => {
                let summary = self.call(py, |e| e.get_inventory(id))?;
                Ok(StockSummary::new(py, summary)?.into_any())
            }
        }
    }

    /// The product's movements, newest first: a page by `limit` (up to MAX_PAGE) and
    /// `offset`, optionally only at `location`, or only with `seq` above `after` / below
    /// `before`.
    #[pyo3(signature = (id, limit = Int(inventory::DEFAULT_PAGE), offset = Int(0), *,
        location = None, after = None, before = None),
        text_signature = "($self, id, limit=inventory.DEFAULT_PAGE, offset=0, *, location=None, after=None, before=None)")]
    #[allow(clippy::too_many_arguments)]
    fn list_transactions(
        &self,
        py: Python<'_>,
        id: &str,
        limit: Int,
        offset: Int,
        location: Option<String>,
        after: Option<Int>,
        before: Option<Int>,
    ) -> PyResult<Vec<Movement>> {
        let id = convert::product_id(py, id)?;
        let query = MovementQuery {
            limit: Some(limit.0),
            offset: Some(offset.0),
            after: convert::opt(after),
            before: convert::opt(before),
            location,
        };
        let movements = self.call(py, |e| e.list_movements(id, &query))?;
        Ok(movements.into_iter().map(Movement).collect())
    }

    /// Open reservations of a product, by location then reference.
    fn list_reservations(&self, py: Python<'_>, id: &str) -> PyResult<Vec<Reservation>> {
        let id = convert::product_id(py, id)?;
        let found = self.call(py, |e| e.list_reservations(id))?;
        Ok(found.into_iter().map(Reservation).collect())
    }

    /// Open reservations held under `reference`, across products.
    fn reservations_by_reference(
        &self,
        py: Python<'_>,
        reference: String,
    ) -> PyResult<Vec<Reservation>> {
        let found = self.call(py, |e| e.reservations_by_reference(&reference))?;
        Ok(found.into_iter().map(Reservation).collect())
    }

    /// Every till registered at this database, with its allotments and lag (docs/TILLS.md).
    fn tills(&self, py: Python<'_>) -> PyResult<Vec<TillStatus>> {
        let tills = self.call(py, |e| e.tills())?;
        Ok(tills.into_iter().map(TillStatus).collect())
    }

    /// Ends till `till_id`'s registration (a replaced device), releasing its allotments or,
    /// with `release=False`, keeping them for the next instance that syncs under the id;
    /// recorded in the ledger either way. Whoever holds the database acts as an admin here, as
    /// on a server with authentication off.
    #[pyo3(signature = (till_id, *, release))]
    fn take_over_till(&self, py: Python<'_>, till_id: String, release: bool) -> PyResult<TakeOver> {
        let call = Call {
            admin: true,
            ..Call::default()
        };
        self.call(py, move |e| e.take_over_till(&till_id, release, &call))
            .map(TakeOver)
    }

    /// One page of the change feed: movements of every product with `seq` above `after`,
    /// oldest first (at most `limit`, up to MAX_CHANGES_PAGE), and the cursor for the next page.
    #[pyo3(signature = (after = Int(0), limit = Int(inventory::DEFAULT_CHANGES_PAGE)),
        text_signature = "($self, after=0, limit=inventory.DEFAULT_CHANGES_PAGE)")]
    fn changes(&self, py: Python<'_>, after: Int, limit: Int) -> PyResult<ChangePage> {
        self.call(py, |e| e.changes(after.0, Some(limit.0)))
            .map(ChangePage)
    }

    /// An iterator over the change feed from `after`, fetching `limit` movements per page.
    /// It stops when it has caught up, unless `follow=True`: then it waits for new movements
    /// (without holding the GIL) and stops only after `timeout` seconds with nothing new
    /// (never, when `timeout` is None). Its `.after` is the cursor to resume from.
    #[pyo3(signature = (after = Int(0), *, limit = Int(inventory::DEFAULT_CHANGES_PAGE),
        follow = false, timeout = None),
        text_signature = "($self, after=0, *, limit=inventory.DEFAULT_CHANGES_PAGE, follow=False, timeout=None)")]
    fn iter_changes(
        slf: Py<Self>,
        after: Int,
        limit: Int,
        follow: bool,
        timeout: Option<f64>,
    ) -> PyResult<ChangeFeed> {
        ChangeFeed::new(slf, after.0, limit.0, follow, timeout)
    }

    /// Proves every cached balance and reservation against the ledger, and the file's
    /// integrity. Returns a VerifyReport (`.ok`, `.problems`).
    fn verify(&self, py: Python<'_>) -> PyResult<VerifyReport> {
        self.call(py, |e| e.verify()).map(VerifyReport)
    }

    /// Raises StorageError unless the database answers a query.
    fn health(&self, py: Python<'_>) -> PyResult<()> {
        self.call(py, |e| e.health())
    }

    /// Copies the write-ahead log into the main database file and truncates it.
    fn checkpoint(&self, py: Python<'_>) -> PyResult<()> {
        self.call(py, |e| e.checkpoint())
    }

    /// The engine's clock (UTC): what "now" means for reservation expiry.
    fn now(&self, py: Python<'_>) -> PyResult<inventory::DateTime<inventory::Utc>> {
        Ok(self.engine(py)?.now())
    }
}

impl Inventory {
    fn change_webhook(&self, py: Python<'_>, id: &str, change: WebhookChange) -> PyResult<Webhook> {
        let id = webhook_id(py, id)?;
        self.call(py, |e| e.change_webhook(id, change)).map(Webhook)
    }
}

/// A subscription id. A string that is not a UUID names no subscription: NotFoundError, as a
/// well-formed id that does not exist.
fn webhook_id(py: Python<'_>, id: &str) -> PyResult<inventory::Uuid> {
    use crate::errors::OrRaise;
    inventory::Uuid::parse_str(id)
        .map_err(|_| inventory::Error::not_found(format!("webhook {id:?}")))
        .or_raise(py)
}
