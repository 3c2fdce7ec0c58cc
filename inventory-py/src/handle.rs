//! The `Inventory` class: one open database. Every engine call runs with the GIL released
//! (`Python::detach`), so threads sharing one object read and write in parallel; the engine
//! handle inside is `Send + Sync` and serializes writes itself.

use crate::clock::ManualClock;
use crate::convert::{self, Int, Money};
use crate::errors::{InventoryError, OrRaise};
use crate::feed::ChangeFeed;
use crate::model::{
    ChangePage, Location, Movement, Product, ProductWithStock, Reservation, StockLevel,
    StockSummary, VerifyReport,
};
use crate::ops::{self, Extras};
use inventory::{
    Command, Durability, MovementQuery, NewProduct, OpKind, Options, Outcome, ProductChanges,
    ProductQuery, StockOp,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyList;
use std::path::PathBuf;
use std::sync::{PoisonError, RwLock};

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

/// An inventory database, opened (and created or migrated) at `path`.
///
/// Use it as a context manager, or call `close()`. One object may be shared by many threads.
#[pyclass(frozen, module = "inventory")]
pub struct Inventory {
    /// `None` once closed. Calls clone the engine handle out of the lock and release it at
    /// once, so `close()` never waits for (or breaks) a call already running: that call
    /// finishes on its clone, and the file closes when the last clone is dropped.
    engine: RwLock<Option<inventory::Inventory>>,
    path: PathBuf,
}

impl Inventory {
    pub(crate) fn engine(&self, py: Python<'_>) -> PyResult<inventory::Inventory> {
        self.engine
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| {
                crate::errors::to_py(
                    py,
                    inventory::Error::storage(format!(
                        "the inventory at {} is closed",
                        inventory::redacted(&self.path)
                    )),
                )
            })
    }

    /// Runs `f` on the engine with the GIL released.
    fn call<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&inventory::Inventory) -> inventory::Result<T> + Send,
    ) -> PyResult<T> {
        let engine = self.engine(py)?;
        py.detach(|| f(&engine)).or_raise(py)
    }

    /// Applies one write, once per idempotency key when one is given.
    fn execute(&self, py: Python<'_>, command: Command, key: Option<String>) -> PyResult<Outcome> {
        self.call(py, move |e| {
            e.execute_with_key(command, key.as_deref())
                .map(|done| done.value)
        })
    }

    fn levels(
        &self,
        py: Python<'_>,
        op: StockOp,
        key: Option<String>,
    ) -> PyResult<Vec<StockLevel>> {
        match self.execute(py, Command::Stock(op), key)? {
            Outcome::Levels(levels) => Ok(levels.into_iter().map(StockLevel).collect()),
            other => Err(unexpected(other)),
        }
    }

    fn one_level(&self, py: Python<'_>, op: StockOp, key: Option<String>) -> PyResult<StockLevel> {
        self.levels(py, op, key)?
            .pop()
            .ok_or_else(|| unexpected(Outcome::Levels(Vec::new())))
    }
}

/// An outcome that does not match the command: a bug, reported as a StorageError.
fn unexpected(outcome: Outcome) -> PyErr {
    Python::attach(|py| {
        crate::errors::to_py(
            py,
            inventory::Error::storage(format!("internal error: unexpected outcome {outcome:?}")),
        )
    })
}

#[pymethods]
impl Inventory {
    /// Opens the database at `path`, creating it if missing. `durability="full"` (the default)
    /// syncs every commit to disk; `"normal"` survives an application crash but may lose the
    /// last commits on power loss. `clock` (a ManualClock) replaces the wall clock, for
    /// deterministic tests of expiry. A file that is not an inventory database raises
    /// StorageError and is left untouched.
    #[new]
    #[pyo3(signature = (path, *, durability = "full", clock = None))]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        durability: &str,
        clock: Option<PyRef<'_, ManualClock>>,
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
        let opened = py
            .detach(|| inventory::Inventory::open_with(&path, options))
            .or_raise(py)?;
        Ok(Inventory {
            engine: RwLock::new(Some(opened)),
            path,
        })
    }

    /// Closes the database. Later calls raise StorageError; closing twice is harmless.
    fn close(&self, py: Python<'_>) {
        let taken = self
            .engine
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // Dropping the last handle checkpoints the WAL: file I/O, so without the GIL.
        py.detach(move || drop(taken));
    }

    /// True once `close()` has run.
    #[getter]
    fn closed(&self) -> bool {
        self.engine
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }

    /// The path the database was opened at.
    #[getter]
    fn path(&self) -> String {
        self.path.to_string_lossy().into_owned()
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
    /// default "default"). Returns the Product. Raises DuplicateSkuError if a live product
    /// has the SKU.
    #[pyo3(signature = (*, name, sku, price, description = String::new(), location = None,
        initial_quantity = Int(0), reorder_point = None, idempotency_key = None),
        text_signature = "($self, *, name, sku, price, description='', location=None, initial_quantity=0, reorder_point=None, idempotency_key=None)")]
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
    ) -> PyResult<Product> {
        let new = NewProduct {
            name,
            sku,
            price: price.0,
            description,
            location,
            initial_quantity: initial_quantity.0,
            reorder_point: convert::opt(reorder_point),
        };
        match self.execute(py, Command::CreateProduct(new), idempotency_key)? {
            Outcome::ProductCreated(created) => Ok(Product(created.product)),
            other => Err(unexpected(other)),
        }
    }

    /// The product with its stock: `.product` (a Product) and `.inventory` (a StockSummary),
    /// the shape of the HTTP API's GET /api/products/{id}.
    fn get_product(&self, py: Python<'_>, id: &str) -> PyResult<ProductWithStock> {
        let id = convert::product_id(py, id)?;
        self.call(py, |e| e.get_product(id)).map(ProductWithStock)
    }

    /// A page of live products in creation order. `low_stock=True` keeps those whose
    /// available total is at or below their reorder point; `q` keeps those whose SKU starts
    /// with it (exactly) or whose name does (ignoring ASCII case).
    #[pyo3(signature = (limit = Int(10), offset = Int(0), *, low_stock = false, q = None),
        text_signature = "($self, limit=10, offset=0, *, low_stock=False, q=None)")]
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
        let command = Command::UpdateProduct {
            id: convert::product_id(py, id)?,
            changes: ProductChanges {
                name,
                description,
                price: price.map(|p| p.0),
                reorder_point: match reorder_point {
                    ReorderPoint::Keep => None,
                    ReorderPoint::Set(v) => Some(v),
                },
            },
            expected_version: convert::opt(expected_version),
        };
        match self.execute(py, command, idempotency_key)? {
            Outcome::ProductUpdated(p) => Ok(Product(*p)),
            other => Err(unexpected(other)),
        }
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
        let command = Command::DeleteProduct {
            id: convert::product_id(py, id)?,
            expected_version: convert::opt(expected_version),
        };
        match self.execute(py, command, idempotency_key)? {
            Outcome::ProductDeleted(_) => Ok(()),
            other => Err(unexpected(other)),
        }
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
        match self.execute(py, Command::CreateLocation { name }, idempotency_key)? {
            Outcome::LocationCreated(l) => Ok(Location(l)),
            other => Err(unexpected(other)),
        }
    }

    /// Every location with its totals over live products, by name.
    fn list_locations(&self, py: Python<'_>) -> PyResult<Vec<Location>> {
        let locations = self.call(py, |e| e.list_locations())?;
        Ok(locations.into_iter().map(Location).collect())
    }

    // ---- stock ----------------------------------------------------------------------

    /// Adds `quantity` on hand at `location` (default: the product's own location).
    #[pyo3(signature = (id, quantity, *, reference = None, notes = None, location = None,
        expected_available = None, expected_quantity = None, idempotency_key = None))]
    #[allow(clippy::too_many_arguments)]
    fn add_stock(
        &self,
        py: Python<'_>,
        id: &str,
        quantity: Int,
        reference: Option<String>,
        notes: Option<String>,
        location: Option<String>,
        expected_available: Option<Int>,
        expected_quantity: Option<Int>,
        idempotency_key: Option<String>,
    ) -> PyResult<StockLevel> {
        let extras = Extras {
            location,
            reference,
            notes,
            expected_available: convert::opt(expected_available),
            expected_quantity: convert::opt(expected_quantity),
            ..Extras::default()
        };
        let op = ops::build(
            py,
            OpKind::Add,
            convert::product_id(py, id)?,
            Some(quantity.0),
            extras,
        )?;
        self.one_level(py, op, idempotency_key)
    }

    /// Removes `quantity` from what is available; InsufficientStockError if there is less.
    #[pyo3(signature = (id, quantity, *, reference = None, notes = None, location = None,
        expected_available = None, expected_quantity = None, idempotency_key = None))]
    #[allow(clippy::too_many_arguments)]
    fn remove_stock(
        &self,
        py: Python<'_>,
        id: &str,
        quantity: Int,
        reference: Option<String>,
        notes: Option<String>,
        location: Option<String>,
        expected_available: Option<Int>,
        expected_quantity: Option<Int>,
        idempotency_key: Option<String>,
    ) -> PyResult<StockLevel> {
        let extras = Extras {
            location,
            reference,
            notes,
            expected_available: convert::opt(expected_available),
            expected_quantity: convert::opt(expected_quantity),
            ..Extras::default()
        };
        let op = ops::build(
            py,
            OpKind::Remove,
            convert::product_id(py, id)?,
            Some(quantity.0),
            extras,
        )?;
        self.one_level(py, op, idempotency_key)
    }

    /// Holds `quantity` for `reference` (reserving again under one reference adds to it).
    /// An expiry (`expires_in_seconds` or an aware `expires_at`) releases it automatically.
    #[pyo3(signature = (id, quantity, *, reference = None, notes = None, location = None,
        expires_in_seconds = None, expires_at = None, expected_available = None,
        expected_quantity = None, idempotency_key = None))]
    #[allow(clippy::too_many_arguments)]
    fn reserve_stock(
        &self,
        py: Python<'_>,
        id: &str,
        quantity: Int,
        reference: Option<String>,
        notes: Option<String>,
        location: Option<String>,
        expires_in_seconds: Option<Int>,
        expires_at: Option<&Bound<'_, PyAny>>,
        expected_available: Option<Int>,
        expected_quantity: Option<Int>,
        idempotency_key: Option<String>,
    ) -> PyResult<StockLevel> {
        let extras = Extras {
            location,
            reference,
            notes,
            expires_in_seconds: convert::opt(expires_in_seconds),
            expires_at: expires_at
                .filter(|t| !t.is_none())
                .map(|t| convert::instant(t, "expires_at"))
                .transpose()?,
            expected_available: convert::opt(expected_available),
            expected_quantity: convert::opt(expected_quantity),
            ..Extras::default()
        };
        let op = ops::build(
            py,
            OpKind::Reserve,
            convert::product_id(py, id)?,
            Some(quantity.0),
            extras,
        )?;
        self.one_level(py, op, idempotency_key)
    }

    /// Releases reserved stock: from the reservation named by `reference` (all of it when
    /// `quantity` is None), or unreferenced reserved stock when there is no reference.
    /// InsufficientReservedError if less is reserved.
    #[pyo3(signature = (id, quantity = None, *, reference = None, notes = None, location = None,
        expected_available = None, expected_quantity = None, idempotency_key = None))]
    #[allow(clippy::too_many_arguments)]
    fn unreserve_stock(
        &self,
        py: Python<'_>,
        id: &str,
        quantity: Option<Int>,
        reference: Option<String>,
        notes: Option<String>,
        location: Option<String>,
        expected_available: Option<Int>,
        expected_quantity: Option<Int>,
        idempotency_key: Option<String>,
    ) -> PyResult<StockLevel> {
        let extras = Extras {
            location,
            reference,
            notes,
            expected_available: convert::opt(expected_available),
            expected_quantity: convert::opt(expected_quantity),
            ..Extras::default()
        };
        let op = ops::build(
            py,
            OpKind::Unreserve,
            convert::product_id(py, id)?,
            convert::opt(quantity),
            extras,
        )?;
        self.one_level(py, op, idempotency_key)
    }

    /// Fulfils the reservation held for `reference`: on_hand and reserved both drop by
    /// `quantity` (default: the whole reservation). `release_remainder=True` releases what a
    /// partial commit leaves.
    #[pyo3(signature = (id, reference, *, quantity = None, location = None,
        release_remainder = false, notes = None, expected_available = None,
        expected_quantity = None, idempotency_key = None))]
    #[allow(clippy::too_many_arguments)]
    fn commit_reservation(
        &self,
        py: Python<'_>,
        id: &str,
        reference: String,
        quantity: Option<Int>,
        location: Option<String>,
        release_remainder: bool,
        notes: Option<String>,
        expected_available: Option<Int>,
        expected_quantity: Option<Int>,
        idempotency_key: Option<String>,
    ) -> PyResult<StockLevel> {
        let extras = Extras {
            location,
            reference: Some(reference),
            notes,
            release_remainder,
            expected_available: convert::opt(expected_available),
            expected_quantity: convert::opt(expected_quantity),
            ..Extras::default()
        };
        let op = ops::build(
            py,
            OpKind::Commit,
            convert::product_id(py, id)?,
            convert::opt(quantity),
            extras,
        )?;
        self.one_level(py, op, idempotency_key)
    }

    /// Moves `quantity` from `from_location` (default: the product's own location) to
    /// `to_location` in one atomic step, writing TRANSFER_OUT and TRANSFER_IN movements.
    /// Returns the (source, destination) levels.
    #[pyo3(signature = (id, quantity, *, to_location, from_location = None, reference = None,
        notes = None, expected_available = None, expected_quantity = None,
        idempotency_key = None))]
    #[allow(clippy::too_many_arguments)]
    fn transfer_stock(
        &self,
        py: Python<'_>,
        id: &str,
        quantity: Int,
        to_location: String,
        from_location: Option<String>,
        reference: Option<String>,
        notes: Option<String>,
        expected_available: Option<Int>,
        expected_quantity: Option<Int>,
        idempotency_key: Option<String>,
    ) -> PyResult<(StockLevel, StockLevel)> {
        let extras = Extras {
            location: from_location,
            to_location: Some(to_location),
            reference,
            notes,
            expected_available: convert::opt(expected_available),
            expected_quantity: convert::opt(expected_quantity),
            ..Extras::default()
        };
        let op = ops::build(
            py,
            OpKind::Transfer,
            convert::product_id(py, id)?,
            Some(quantity.0),
            extras,
        )?;
        let mut levels = self.levels(py, op, idempotency_key)?.into_iter();
        match (levels.next(), levels.next()) {
            (Some(from), Some(to)) => Ok((from, to)),
            _ => Err(unexpected(Outcome::Levels(Vec::new()))),
        }
    }

    /// A physical count: sets on_hand at `location` (default: the product's own) to
    /// `counted`, recorded as an ADJUST movement of the difference. Refused if `counted` is
    /// below what is reserved there.
    #[pyo3(signature = (id, counted, *, location = None, reference = None, notes = None,
        expected_available = None, expected_quantity = None, idempotency_key = None))]
    #[allow(clippy::too_many_arguments)]
    fn count_stock(
        &self,
        py: Python<'_>,
        id: &str,
        counted: Int,
        location: Option<String>,
        reference: Option<String>,
        notes: Option<String>,
        expected_available: Option<Int>,
        expected_quantity: Option<Int>,
        idempotency_key: Option<String>,
    ) -> PyResult<StockLevel> {
        let extras = Extras {
            location,
            reference,
            notes,
            expected_available: convert::opt(expected_available),
            expected_quantity: convert::opt(expected_quantity),
            ..Extras::default()
        };
        let op = ops::build(
            py,
            OpKind::Count,
            convert::product_id(py, id)?,
            Some(counted.0),
            extras,
        )?;
        self.one_level(py, op, idempotency_key)
    }

    /// Applies a list of stock operations all or nothing, each a dict with `op` (add, remove,
    /// reserve, unreserve, commit, transfer, count), `product_id` and the keywords of the
    /// matching method. Returns the levels each operation changed. On failure nothing is
    /// applied and the error's `.index` names the failing operation.
    #[pyo3(signature = (operations, *, idempotency_key = None))]
    fn batch<'py>(
        &self,
        py: Python<'py>,
        operations: &Bound<'py, PyAny>,
        idempotency_key: Option<String>,
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
        match self.execute(py, Command::Batch(ops), idempotency_key)? {
            Outcome::Batch(all) => PyList::new(
                py,
                all.into_iter()
                    .map(|levels| levels.into_iter().map(StockLevel).collect::<Vec<_>>()),
            ),
            other => Err(unexpected(other)),
        }
    }

    /// Releases every reservation past its expiry (each with an EXPIRE movement) and forgets
    /// old idempotency keys. Returns how many reservations were released. Reads and writes
    /// already release a product's expired reservations before touching it.
    fn expire_reservations(&self, py: Python<'_>) -> PyResult<u64> {
        match self.execute(py, Command::Sweep, None)? {
            Outcome::Swept(n) => Ok(n),
            other => Err(unexpected(other)),
        }
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
                Ok(Bound::new(py, StockSummary(summary))?.into_any())
            }
        }
    }

    /// The product's movements, newest first: a page by `limit`/`offset`, optionally only at
    /// `location`, or only with `seq` above `after` / below `before`.
    #[pyo3(signature = (id, limit = Int(10), offset = Int(0), *, location = None, after = None,
        before = None),
        text_signature = "($self, id, limit=10, offset=0, *, location=None, after=None, before=None)")]
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

    /// One page of the change feed: movements of every product with `seq` above `after`,
    /// oldest first, and the cursor for the next page.
    #[pyo3(signature = (after = Int(0), limit = Int(100)),
        text_signature = "($self, after=0, limit=100)")]
    fn changes(&self, py: Python<'_>, after: Int, limit: Int) -> PyResult<ChangePage> {
        self.call(py, |e| e.changes(after.0, Some(limit.0)))
            .map(ChangePage)
    }

    /// An iterator over the change feed from `after`, fetching `limit` movements per page.
    /// It stops when it has caught up, unless `follow=True`: then it waits for new movements
    /// (without holding the GIL) and stops only after `timeout` seconds with nothing new
    /// (never, when `timeout` is None). Its `.after` is the cursor to resume from.
    #[pyo3(signature = (after = Int(0), *, limit = Int(100), follow = false, timeout = None),
        text_signature = "($self, after=0, *, limit=100, follow=False, timeout=None)")]
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
