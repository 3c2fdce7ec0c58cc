//! Python values out: immutable classes over the engine's own result structs. Each wraps the
//! engine value unchanged and converts a field only when it is read, so a result crosses into
//! Python cheaply (this keeps the GIL-held part of every call short).
//!
//! Ids are `str`, prices `decimal.Decimal`, timestamps timezone-aware `datetime` in UTC.

use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::types::PyList;

/// `repr()` of a value as Python writes it (quotes and escapes included).
fn r<'py, T: IntoPyObject<'py>>(py: Python<'py>, value: T) -> PyResult<String> {
    Ok(value.into_bound_py_any(py)?.repr()?.to_string())
}

/// A catalogue entry.
#[pyclass(frozen, eq, module = "inventory")]
#[derive(PartialEq)]
pub struct Product(pub(crate) inventory::Product);

#[pymethods]
impl Product {
    #[getter]
    fn id(&self) -> String {
        self.0.id.to_string()
    }
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }
    #[getter]
    fn description(&self) -> &str {
        &self.0.description
    }
    #[getter]
    fn sku(&self) -> &str {
        &self.0.sku
    }
    #[getter]
    fn price(&self) -> inventory::Decimal {
        self.0.price.value()
    }
    /// The product's own location: stock operations that name no location act here.
    #[getter]
    fn location(&self) -> &str {
        &self.0.location
    }
    #[getter]
    fn reorder_point(&self) -> Option<i64> {
        self.0.reorder_point
    }
    /// Bumped by every update; pass it as `expected_version` for a compare-and-set.
    #[getter]
    fn version(&self) -> i64 {
        self.0.version
    }
    #[getter]
    fn created_at(&self) -> inventory::DateTime<inventory::Utc> {
        self.0.created_at
    }
    #[getter]
    fn updated_at(&self) -> inventory::DateTime<inventory::Utc> {
        self.0.updated_at
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let p = &self.0;
        Ok(format!(
            "Product(id={}, sku={}, name={}, price={}, location={}, version={})",
            r(py, p.id.to_string())?,
            r(py, &p.sku)?,
            r(py, &p.name)?,
            r(py, p.price.value())?,
            r(py, &p.location)?,
            p.version
        ))
    }
}

/// The stock of one product at one location. `quantity` is on hand, as in the seed's API.
/// StockSummary extends it with the levels of every location.
#[pyclass(frozen, eq, subclass, module = "inventory")]
#[derive(PartialEq)]
pub struct StockLevel(pub(crate) inventory::StockLevel);

#[pymethods]
impl StockLevel {
    /// The level's own id (the seed's inventory id).
    #[getter]
    fn id(&self) -> String {
        self.0.id.to_string()
    }
    #[getter]
    fn product_id(&self) -> String {
        self.0.product_id.to_string()
    }
    #[getter]
    fn location(&self) -> &str {
        &self.0.location
    }
    /// On hand: the seed's name for it.
    #[getter]
    fn quantity(&self) -> i64 {
        self.0.on_hand
    }
    #[getter]
    fn on_hand(&self) -> i64 {
        self.0.on_hand
    }
    #[getter]
    fn reserved(&self) -> i64 {
        self.0.reserved
    }
    /// on_hand - reserved: what can still be removed or reserved.
    #[getter]
    fn available(&self) -> i64 {
        self.0.available
    }
    #[getter]
    fn created_at(&self) -> inventory::DateTime<inventory::Utc> {
        self.0.created_at
    }
    #[getter]
    fn updated_at(&self) -> inventory::DateTime<inventory::Utc> {
        self.0.updated_at
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let l = &self.0;
        Ok(format!(
            "StockLevel(product_id={}, location={}, on_hand={}, reserved={}, available={})",
            r(py, l.product_id.to_string())?,
            r(py, &l.location)?,
            l.on_hand,
            l.reserved,
            l.available
        ))
    }
}

/// A product's stock over all its locations: a StockLevel whose quantities are the totals
/// (its `id`, `location` and `created_at` are those of the product's own location), plus
/// `locations`, one StockLevel per location.
#[pyclass(frozen, extends = StockLevel, module = "inventory")]
pub struct StockSummary {
    locations: Vec<inventory::StockLevel>,
}

impl StockSummary {
    pub(crate) fn new(
        py: Python<'_>,
        summary: inventory::StockSummary,
    ) -> PyResult<Bound<'_, StockSummary>> {
        let init =
            PyClassInitializer::from(StockLevel(summary.totals)).add_subclass(StockSummary {
                locations: summary.locations,
            });
        Bound::new(py, init)
    }
}

#[pymethods]
impl StockSummary {
    /// One level per location the product has stocked, ordered by location name.
    #[getter]
    fn locations<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.locations.iter().cloned().map(StockLevel))
    }

    /// Equal to another summary with the same totals and levels; never to a single level.
    fn __richcmp__(
        slf: &Bound<'_, Self>,
        other: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let equal = match other.cast::<StockSummary>() {
            Ok(other) => {
                slf.as_super().get().0 == other.as_super().get().0
                    && slf.get().locations == other.get().locations
            }
            Err(_) if other.is_instance_of::<StockLevel>() => false,
            Err(_) => return Ok(py.NotImplemented()),
        };
        match op {
            CompareOp::Eq => equal.into_py_any(py),
            CompareOp::Ne => (!equal).into_py_any(py),
            _ => Ok(py.NotImplemented()),
        }
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let py = slf.py();
        let t = &slf.as_super().get().0;
        let locations: Vec<&str> = slf
            .get()
            .locations
            .iter()
            .map(|l| l.location.as_str())
            .collect();
        Ok(format!(
            "StockSummary(product_id={}, on_hand={}, reserved={}, available={}, locations={})",
            r(py, t.product_id.to_string())?,
            t.on_hand,
            t.reserved,
            t.available,
            r(py, locations)?
        ))
    }
}

/// What `get_product` returns: the product and its stock, as the HTTP API's
/// `{"product": ..., "inventory": ...}`.
#[pyclass(frozen, eq, module = "inventory")]
#[derive(PartialEq)]
pub struct ProductWithStock(pub(crate) inventory::ProductWithStock);

#[pymethods]
impl ProductWithStock {
    #[getter]
    fn product(&self) -> Product {
        Product(self.0.product.clone())
    }
    #[getter]
    fn inventory<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, StockSummary>> {
        StockSummary::new(py, self.0.inventory.clone())
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "ProductWithStock(product={}, inventory={})",
            self.product().__repr__(py)?,
            StockSummary::__repr__(&self.inventory(py)?)?
        ))
    }
}

/// One ledger entry. `type` is IN, OUT, RESERVE, UNRESERVE, COMMIT, EXPIRE, TRANSFER_OUT,
/// TRANSFER_IN or ADJUST; `seq` is global and strictly increasing.
#[pyclass(frozen, eq, module = "inventory")]
#[derive(PartialEq)]
pub struct Movement(pub(crate) inventory::Movement);

#[pymethods]
impl Movement {
    #[getter]
    fn seq(&self) -> i64 {
        self.0.seq
    }
    #[getter]
    fn id(&self) -> String {
        self.0.id.to_string()
    }
    /// The stock level's id (the seed's inventory_id).
    #[getter]
    fn inventory_id(&self) -> String {
        self.0.inventory_id.to_string()
    }
    #[getter]
    fn product_id(&self) -> String {
        self.0.product_id.to_string()
    }
    #[getter]
    fn location(&self) -> &str {
        &self.0.location
    }
    #[getter]
    fn r#type(&self) -> &'static str {
        self.0.kind.as_str()
    }
    /// Units moved; for ADJUST, the signed change a count made to on_hand.
    #[getter]
    fn quantity(&self) -> i64 {
        self.0.quantity
    }
    #[getter]
    fn on_hand_after(&self) -> i64 {
        self.0.on_hand_after
    }
    #[getter]
    fn reserved_after(&self) -> i64 {
        self.0.reserved_after
    }
    #[getter]
    fn reference(&self) -> Option<&str> {
        self.0.reference.as_deref()
    }
    #[getter]
    fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    /// A receipt's id in the system that caused it (`add_stock(external_id=...)`); None if none.
    #[getter]
    fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }
    /// Shared by the TRANSFER_OUT and TRANSFER_IN halves of one transfer.
    #[getter]
    fn transfer_id(&self) -> Option<String> {
        self.0.transfer_id.map(|t| t.to_string())
    }
    /// Who made it: the API key's name over HTTP, or the actor given to the handle or the
    /// call; None if unknown.
    #[getter]
    fn actor(&self) -> Option<&str> {
        self.0.actor.as_deref()
    }
    #[getter]
    fn created_at(&self) -> inventory::DateTime<inventory::Utc> {
        self.0.created_at
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let m = &self.0;
        Ok(format!(
            "Movement(seq={}, type={}, quantity={}, location={}, reference={}, on_hand_after={}, reserved_after={}, actor={})",
            m.seq,
            r(py, m.kind.as_str())?,
            m.quantity,
            r(py, &m.location)?,
            r(py, m.reference.as_deref())?,
            m.on_hand_after,
            m.reserved_after,
            r(py, m.actor.as_deref())?
        ))
    }
}

/// A named place that holds stock, with its totals over live products.
#[pyclass(frozen, eq, module = "inventory")]
#[derive(PartialEq)]
pub struct Location(pub(crate) inventory::Location);

#[pymethods]
impl Location {
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }
    #[getter]
    fn on_hand(&self) -> i64 {
        self.0.on_hand
    }
    #[getter]
    fn reserved(&self) -> i64 {
        self.0.reserved
    }
    #[getter]
    fn available(&self) -> i64 {
        self.0.available
    }
    /// Live products with a stock level here.
    #[getter]
    fn products(&self) -> i64 {
        self.0.products
    }
    #[getter]
    fn created_at(&self) -> inventory::DateTime<inventory::Utc> {
        self.0.created_at
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let l = &self.0;
        Ok(format!(
            "Location(name={}, on_hand={}, reserved={}, available={}, products={})",
            r(py, &l.name)?,
            l.on_hand,
            l.reserved,
            l.available,
            l.products
        ))
    }
}

/// An open reservation: quantity held for `reference` at one product and location. An
/// unreferenced reserve is held under the empty reference `""`.
#[pyclass(frozen, eq, module = "inventory")]
#[derive(PartialEq)]
pub struct Reservation(pub(crate) inventory::Reservation);

#[pymethods]
impl Reservation {
    #[getter]
    fn id(&self) -> String {
        self.0.id.to_string()
    }
    #[getter]
    fn product_id(&self) -> String {
        self.0.product_id.to_string()
    }
    #[getter]
    fn location(&self) -> &str {
        &self.0.location
    }
    #[getter]
    fn reference(&self) -> &str {
        &self.0.reference
    }
    #[getter]
    fn quantity(&self) -> i64 {
        self.0.quantity
    }
    #[getter]
    fn expires_at(&self) -> Option<inventory::DateTime<inventory::Utc>> {
        self.0.expires_at
    }
    #[getter]
    fn created_at(&self) -> inventory::DateTime<inventory::Utc> {
        self.0.created_at
    }
    #[getter]
    fn updated_at(&self) -> inventory::DateTime<inventory::Utc> {
        self.0.updated_at
    }
    /// The name of the API key that opened it; None: opened without a key.
    #[getter]
    fn owner(&self) -> Option<&str> {
        self.0.owner.as_deref()
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let v = &self.0;
        Ok(format!(
            "Reservation(reference={}, product_id={}, location={}, quantity={}, expires_at={})",
            r(py, &v.reference)?,
            r(py, v.product_id.to_string())?,
            r(py, &v.location)?,
            v.quantity,
            r(py, v.expires_at)?
        ))
    }
}

/// The result of `verify()`: `ok` is True when every cached balance matches the ledger.
#[pyclass(frozen, eq, module = "inventory")]
#[derive(PartialEq)]
pub struct VerifyReport(pub(crate) inventory::VerifyReport);

#[pymethods]
impl VerifyReport {
    #[getter]
    fn ok(&self) -> bool {
        self.0.ok
    }
    #[getter]
    fn problems(&self) -> Vec<String> {
        self.0.problems.clone()
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "VerifyReport(ok={}, problems={})",
            if self.0.ok { "True" } else { "False" },
            r(py, &self.0.problems)?
        ))
    }
}

/// A page of the change feed. Pass `next_after` as `after` to continue.
#[pyclass(frozen, eq, module = "inventory")]
#[derive(PartialEq)]
pub struct ChangePage(pub(crate) inventory::ChangePage);

#[pymethods]
impl ChangePage {
    /// Movements of every product, oldest first.
    #[getter]
    fn movements<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.0.movements.iter().cloned().map(Movement))
    }
    #[getter]
    fn next_after(&self) -> i64 {
        self.0.next_after
    }
    fn __repr__(&self) -> String {
        format!(
            "ChangePage(movements=<{} movements>, next_after={})",
            self.0.movements.len(),
            self.0.next_after
        )
    }
}

/// An API key as listed: its name (the actor of the movements it makes), scope ("read",
/// "write" or "admin"), the locations it may move stock at (None: any), and when it was
/// created and revoked. Never its secret.
#[pyclass(frozen, eq, module = "inventory")]
#[derive(PartialEq)]
pub struct ApiKey(pub(crate) inventory::ApiKey);

#[pymethods]
impl ApiKey {
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }
    #[getter]
    fn scope(&self) -> &'static str {
        self.0.scope.as_str()
    }
    #[getter]
    fn locations(&self) -> Option<Vec<String>> {
        self.0.locations.clone()
    }
    #[getter]
    fn created_at(&self) -> inventory::DateTime<inventory::Utc> {
        self.0.created_at
    }
    #[getter]
    fn revoked_at(&self) -> Option<inventory::DateTime<inventory::Utc>> {
        self.0.revoked_at
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let k = &self.0;
        Ok(format!(
            "ApiKey(name={}, scope={}, locations={}, revoked={})",
            r(py, &k.name)?,
            r(py, k.scope.as_str())?,
            r(py, k.locations.clone())?,
            if k.revoked_at.is_some() {
                "True"
            } else {
                "False"
            }
        ))
    }
}

/// A key just made by `create_key`: `.key` (its ApiKey) and `.secret`, the bearer secret,
/// shown this once. The secret is in no repr or str, so that it cannot reach a log by accident.
#[pyclass(frozen, module = "inventory")]
pub struct CreatedKey(pub(crate) inventory::CreatedKey);

#[pymethods]
impl CreatedKey {
    #[getter]
    fn key(&self) -> ApiKey {
        ApiKey(self.0.key.clone())
    }
    #[getter]
    fn secret(&self) -> &str {
        &self.0.secret
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "CreatedKey(key={}, secret=<hidden>)",
            self.key().__repr__(py)?
        ))
    }
}

/// A till registered at this database (docs/TILLS.md): its id, the key it registered with, the
/// instance (its own files) that did, where it sells, and its first and latest sync.
#[pyclass(frozen, eq, module = "inventory")]
#[derive(PartialEq)]
pub struct TillRegistration(pub(crate) inventory::Till);

#[pymethods]
impl TillRegistration {
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }
    #[getter]
    fn key(&self) -> &str {
        &self.0.key
    }
    #[getter]
    fn instance_id(&self) -> &str {
        &self.0.instance_id
    }
    #[getter]
    fn location(&self) -> &str {
        &self.0.location
    }
    #[getter]
    fn registered_at(&self) -> inventory::DateTime<inventory::Utc> {
        self.0.registered_at
    }
    #[getter]
    fn last_sync_at(&self) -> inventory::DateTime<inventory::Utc> {
        self.0.last_sync_at
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let v = &self.0;
        Ok(format!(
            "TillRegistration(id={}, key={}, location={}, last_sync_at={})",
            r(py, &v.id)?,
            r(py, &v.key)?,
            r(py, &v.location)?,
            r(py, v.last_sync_at)?
        ))
    }
}

/// A registered till with what it holds (its `till:<id>` reservations) and the seconds since
/// it last synced, on this database's clock.
#[pyclass(frozen, eq, module = "inventory")]
#[derive(PartialEq)]
pub struct TillStatus(pub(crate) inventory::TillStatus);

#[pymethods]
impl TillStatus {
    #[getter]
    fn till(&self) -> TillRegistration {
        TillRegistration(self.0.till.clone())
    }
    #[getter]
    fn allotments<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.0.allotments.iter().cloned().map(Reservation))
    }
    #[getter]
    fn lag_seconds(&self) -> i64 {
        self.0.lag_seconds
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "TillStatus(till={}, allotments=<{} reservations>, lag_seconds={})",
            self.till().__repr__(py)?,
            self.0.allotments.len(),
            self.0.lag_seconds
        ))
    }
}

/// What taking a till over did: the registration it ended, and the units of its allotments
/// released or kept for the till's next instance.
#[pyclass(frozen, eq, module = "inventory")]
#[derive(PartialEq)]
pub struct TakeOver(pub(crate) inventory::TakeOver);

#[pymethods]
impl TakeOver {
    #[getter]
    fn till(&self) -> TillRegistration {
        TillRegistration(self.0.till.clone())
    }
    #[getter]
    fn released(&self) -> i64 {
        self.0.released
    }
    #[getter]
    fn transferred(&self) -> i64 {
        self.0.transferred
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "TakeOver(till={}, released={}, transferred={})",
            self.till().__repr__(py)?,
            self.0.released,
            self.0.transferred
        ))
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Product>()?;
    m.add_class::<StockLevel>()?;
    m.add_class::<StockSummary>()?;
    m.add_class::<ProductWithStock>()?;
    m.add_class::<Movement>()?;
    m.add_class::<Location>()?;
    m.add_class::<Reservation>()?;
    m.add_class::<VerifyReport>()?;
    m.add_class::<ChangePage>()?;
    m.add_class::<ApiKey>()?;
    m.add_class::<CreatedKey>()?;
    m.add_class::<TillRegistration>()?;
    m.add_class::<TillStatus>()?;
    m.add_class::<TakeOver>()?;
    Ok(())
}
