#![warn(missing_docs)]
//! # inventory
//!
//! An embeddable inventory engine on SQLite: products, stock levels per location, and an
//! audit ledger of every movement. It never oversells (every write is one IMMEDIATE
//! transaction that checks and changes stock together), money is exact (`rust_decimal`),
//! every write is safe to retry (idempotency keys) and to race (compare-and-set), and
//! [`Inventory::verify`] proves every cached balance against the ledger.
//!
//! ```
//! use inventory::{Inventory, NewProduct, Price, StockOp};
//!
//! # fn main() -> Result<(), inventory::Error> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("shop.db");
//! let inv = Inventory::open(&path)?;
//! let mut laptop = NewProduct::new("Laptop", "LAP001", Price::parse("1500.00")?);
//! laptop.location = Some("Warehouse A".into());
//! laptop.initial_quantity = 50;
//! let created = inv.create_product(laptop)?;
//! let id = created.product.id;
//!
//! let level = inv.reserve_stock(StockOp::reserve(id, 10).reference("ORDER-456"))?;
//! assert_eq!((level.on_hand, level.reserved, level.available), (50, 10, 40));
//!
//! // Selling the reservation takes it off the shelf.
//! let level = inv.commit_reservation(StockOp::commit(id, "ORDER-456"))?;
//! assert_eq!((level.on_hand, level.reserved), (40, 0));
//!
//! // Overselling is refused, atomically, with a stable code.
//! let err = inv.remove_stock(StockOp::remove(id, 41)).unwrap_err();
//! assert_eq!(err.code, inventory::ErrorCode::InsufficientStock);
//!
//! assert!(inv.verify()?.ok);
//! # Ok(()) }
//! ```
//!
//! Every write is a [`Command`]; the convenience methods build one and call
//! [`Inventory::execute`]. Commands that carry an idempotency key
//! ([`Inventory::execute_with_key`]) apply once: a repeat returns the first outcome.

mod apply;
mod clock;
mod command;
mod error;
mod ledger;
mod model;
mod money;
mod read;
mod schema;
mod store;
mod validate;
mod verify;

pub use apply::{Executed, IDEMPOTENCY_TTL_HOURS};
pub use clock::{Clock, ManualClock, SystemClock};
pub use command::{Command, Expect, Expiry, NewProduct, OpKind, Outcome, ProductChanges, StockOp};
pub use error::{Error, ErrorCode, Result};
pub use model::{
    ChangePage, Location, Movement, MovementKind, Product, ProductWithStock, Reservation,
    StockLevel, StockSummary, VerifyReport,
};
pub use money::{MAX_PRICE_SCALE, PRICE_LIMIT, Price};
pub use read::{
    DEFAULT_CHANGES_PAGE, DEFAULT_PAGE, MAX_CHANGES_PAGE, MAX_PAGE, MovementQuery, ProductQuery,
};
pub use schema::latest_version as schema_version;
pub use store::{Durability, Options};
pub use validate::{
    MAX_BATCH, MAX_DESCRIPTION, MAX_EXPIRY_SECONDS, MAX_IDEMPOTENCY_KEY, MAX_LOCATION, MAX_NAME,
    MAX_NOTES, MAX_QUANTITY, MAX_REFERENCE, MAX_SKU,
};

pub use chrono::{DateTime, Utc};
pub use rust_decimal::Decimal;
pub use uuid::Uuid;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use store::Store;

/// The location a product gets when it is created without one.
pub const DEFAULT_LOCATION: &str = "default";

/// A handle on one inventory database. Cheap to clone, `Send + Sync`: share it between threads.
/// The file closes (and its WAL is checkpointed) when the last clone is dropped.
#[derive(Clone)]
pub struct Inventory {
    store: Arc<Store>,
}

impl std::fmt::Debug for Inventory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inventory").finish_non_exhaustive()
    }
}

fn unexpected(outcome: Outcome) -> Error {
    Error::storage(format!("internal error: unexpected outcome {outcome:?}"))
}

impl Inventory {
    /// Opens (creating if missing) and migrates the database at `path`, with default options.
    /// A file that is not an inventory database, or one from a newer version, is refused
    /// with a STORAGE_ERROR and left untouched.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, Options::default())
    }

    /// Opens with explicit [`Options`]: an injected clock, durability, pool size, busy timeout.
    pub fn open_with(path: impl AsRef<Path>, options: Options) -> Result<Self> {
        Ok(Inventory {
            store: Arc::new(Store::open(path.as_ref(), options)?),
        })
    }

    /// Applies one command in its own transaction (shared with concurrent commands by group commit).
    pub fn execute(&self, command: Command) -> Result<Outcome> {
        self.store.submit(command, None).map(|e| e.outcome)
    }

    /// Applies a command once per `key`: a repeat of the same command with the same key
    /// returns the first outcome (`replayed: true`) and changes nothing; the same key with a
    /// different command is a CONFLICT. Only successful outcomes are remembered, so a failed
    /// attempt can be retried. Keys are kept for [`IDEMPOTENCY_TTL_HOURS`].
    pub fn execute_with_key(&self, command: Command, key: Option<&str>) -> Result<Executed> {
        self.store.submit(command, key.map(str::to_owned))
    }

    /// Creates a product; its initial quantity becomes an IN movement.
    pub fn create_product(&self, new: NewProduct) -> Result<ProductWithStock> {
        match self.execute(Command::CreateProduct(new))? {
            Outcome::ProductCreated(p) => Ok(*p),
            other => Err(unexpected(other)),
        }
    }

    /// Changes only the fields given. `expected_version` turns it into a compare-and-set.
    pub fn update_product(
        &self,
        id: Uuid,
        changes: ProductChanges,
        expected_version: Option<i64>,
    ) -> Result<Product> {
        match self.execute(Command::UpdateProduct {
            id,
            changes,
            expected_version,
        })? {
            Outcome::ProductUpdated(p) => Ok(*p),
            other => Err(unexpected(other)),
        }
    }

    /// Archives the product: it disappears from reads and its SKU is free again, but its
    /// ledger is kept.
    pub fn delete_product(&self, id: Uuid, expected_version: Option<i64>) -> Result<()> {
        self.execute(Command::DeleteProduct {
            id,
            expected_version,
        })
        .map(drop)
    }

    /// Creates a location explicitly (locations are also created on first use).
    pub fn create_location(&self, name: &str) -> Result<Location> {
        match self.execute(Command::CreateLocation {
            name: name.to_owned(),
        })? {
            Outcome::LocationCreated(l) => Ok(l),
            other => Err(unexpected(other)),
        }
    }

    /// Applies any stock operation. Returns the levels it changed: one, or for a transfer
    /// the source then the destination.
    pub fn stock(&self, op: StockOp) -> Result<Vec<StockLevel>> {
        match self.execute(Command::Stock(op))? {
            Outcome::Levels(levels) => Ok(levels),
            other => Err(unexpected(other)),
        }
    }

    fn one_level(&self, kind: OpKind, op: StockOp) -> Result<StockLevel> {
        if op.kind != kind {
            return Err(Error::validation(
                "kind",
                format!("expected a {} operation", kind.as_str()),
            ));
        }
        self.stock(op)?
            .pop()
            .ok_or_else(|| Error::storage("internal error: no level returned"))
    }

    /// Puts units on hand. `op` must be an add.
    pub fn add_stock(&self, op: StockOp) -> Result<StockLevel> {
        self.one_level(OpKind::Add, op)
    }
    /// Takes available units off hand. `op` must be a remove.
    pub fn remove_stock(&self, op: StockOp) -> Result<StockLevel> {
        self.one_level(OpKind::Remove, op)
    }
    /// Holds available units, for `op.reference` if given. `op` must be a reserve.
    pub fn reserve_stock(&self, op: StockOp) -> Result<StockLevel> {
        self.one_level(OpKind::Reserve, op)
    }
    /// Releases reserved units. `op` must be an unreserve.
    pub fn unreserve_stock(&self, op: StockOp) -> Result<StockLevel> {
        self.one_level(OpKind::Unreserve, op)
    }
    /// Fulfils a reservation: on_hand and reserved both drop. `op` must be a commit.
    pub fn commit_reservation(&self, op: StockOp) -> Result<StockLevel> {
        self.one_level(OpKind::Commit, op)
    }
    /// Sets on_hand at a location to a counted value. `op` must be a count.
    pub fn count_stock(&self, op: StockOp) -> Result<StockLevel> {
        self.one_level(OpKind::Count, op)
    }

    /// Moves stock between two locations of a product; returns (source, destination).
    pub fn transfer_stock(&self, op: StockOp) -> Result<(StockLevel, StockLevel)> {
        if op.kind != OpKind::Transfer {
            return Err(Error::validation("kind", "expected a transfer operation"));
        }
        let mut levels = self.stock(op)?.into_iter();
        match (levels.next(), levels.next()) {
            (Some(from), Some(to)) => Ok((from, to)),
            _ => Err(Error::storage(
                "internal error: a transfer returned fewer than two levels",
            )),
        }
    }

    /// Applies every operation or none. On failure the error's `index` names the operation.
    pub fn batch(&self, ops: Vec<StockOp>) -> Result<Vec<Vec<StockLevel>>> {
        match self.execute(Command::Batch(ops))? {
            Outcome::Batch(levels) => Ok(levels),
            other => Err(unexpected(other)),
        }
    }

    /// Releases every reservation past its expiry (each with an EXPIRE movement) and forgets
    /// idempotency keys older than [`IDEMPOTENCY_TTL_HOURS`]. Returns how many reservations
    /// were released. Reads and writes already release a product's expired reservations
    /// before they touch it; this sweep keeps the rest tidy.
    pub fn expire_reservations(&self) -> Result<u64> {
        match self.execute(Command::Sweep)? {
            Outcome::Swept(n) => Ok(n),
            other => Err(unexpected(other)),
        }
    }

    /// Runs a read that must see no expired reservation of `product` (or, for `None`, of any
    /// product). The check and the read share one pooled connection; if something is due, it
    /// is released through the write path first and the read runs again.
    fn read_fresh<T>(
        &self,
        product: Option<Uuid>,
        read: impl Fn(&rusqlite::Connection) -> Result<T>,
    ) -> Result<T> {
        let now = self.store.clock.now();
        let first = self
            .store
            .read(|c| match ledger::any_due(c, product, now)? {
                true => Ok(None),
                false => read(c).map(Some),
            })?;
        match first {
            Some(value) => Ok(value),
            None => {
                self.expire_reservations()?;
                self.store.read(read)
            }
        }
    }

    /// A live product with its stock; NOT_FOUND for unknown or archived ids.
    pub fn get_product(&self, id: Uuid) -> Result<ProductWithStock> {
        self.read_fresh(Some(id), |c| read::product_with_stock(c, id))
    }

    /// A page of live products, filtered by `query`.
    pub fn list_products(&self, query: &ProductQuery) -> Result<Vec<Product>> {
        if query.low_stock {
            self.read_fresh(None, |c| read::list_products(c, query))
        } else {
            self.store.read(|c| read::list_products(c, query))
        }
    }

    /// The product's stock: totals over all locations, plus one level per location.
    pub fn get_inventory(&self, id: Uuid) -> Result<StockSummary> {
        self.read_fresh(Some(id), |c| read::stock_summary(c, id))
    }

    /// The product's stock at one location; NOT_FOUND if it never had stock there.
    pub fn get_stock_level(&self, id: Uuid, location: &str) -> Result<StockLevel> {
        self.read_fresh(Some(id), |c| read::stock_level(c, id, location))
    }

    /// A product's movements, newest first.
    pub fn list_movements(&self, id: Uuid, query: &MovementQuery) -> Result<Vec<Movement>> {
        self.store.read(|c| read::movements(c, id, query))
    }

    /// Movements of every product with a sequence number above `after`, oldest first.
    pub fn changes(&self, after: i64, limit: Option<i64>) -> Result<ChangePage> {
        self.store.read(|c| read::changes(c, after, limit))
    }

    /// Blocks until a movement with a sequence number above `after` has committed, or
    /// `timeout` passes. Returns the latest committed sequence number.
    pub fn wait_for_changes(&self, after: i64, timeout: Duration) -> i64 {
        self.store.wait_for_change(after, timeout)
    }

    /// Every location with its totals over live products, by name.
    pub fn list_locations(&self) -> Result<Vec<Location>> {
        self.read_fresh(None, read::locations)
    }

    /// Open reservations of a product.
    pub fn list_reservations(&self, id: Uuid) -> Result<Vec<Reservation>> {
        self.read_fresh(Some(id), |c| read::reservations_of_product(c, id))
    }

    /// Open reservations held under `reference`, across products.
    pub fn reservations_by_reference(&self, reference: &str) -> Result<Vec<Reservation>> {
        self.read_fresh(None, |c| read::reservations_by_reference(c, reference))
    }

    /// Proves the caches against the ledger and checks the file's integrity.
    pub fn verify(&self) -> Result<VerifyReport> {
        self.store.read(verify::verify)
    }

    /// Succeeds when the database answers a query.
    pub fn health(&self) -> Result<()> {
        self.store
            .read(|c| Ok(c.query_row("SELECT count(*) FROM products", [], |_| Ok(()))?))
    }

    /// Copies the WAL into the main database file and truncates it.
    pub fn checkpoint(&self) -> Result<()> {
        self.store.checkpoint()
    }

    /// The engine's clock: what "now" means for expiry.
    pub fn now(&self) -> DateTime<Utc> {
        self.store.clock.now()
    }
}

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync + Clone>() {}

    #[test]
    fn handle_is_send_sync_and_clone() {
        assert_send_sync::<super::Inventory>();
    }
}
