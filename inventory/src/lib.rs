#![warn(missing_docs)]
//! # inventory
//!
//! An embeddable inventory engine on SQLite (or, with the cargo feature `postgres`, on a
//! PostgreSQL database that many processes share): products, stock levels per location, and an
//! audit ledger of every movement. It never oversells (every write is one transaction that
//! checks and changes stock together), money is exact (`rust_decimal`),
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
//! Every write is a [`Command`], applied by one function inside one transaction whatever the
//! store. The convenience methods build one; [`Inventory::write`] applies a typed [`Write`] with
//! per-call options ([`Call`]: an idempotency key, so that a repeat returns the first outcome;
//! the actor recorded on its movements; the locations an API key is limited to) and returns the
//! typed value with its `replayed` flag. [`shape`] states which fields each stock operation
//! takes, once, for every surface.

mod auth;
mod clock;
mod command;
mod error;
mod model;
mod money;
mod observe;
mod reach;
mod reads;
mod rules;
pub mod shape;
mod store;
mod validate;
pub mod webhooks;
mod write;

pub use auth::REFRESH as KEY_REFRESH;
pub use clock::{Clock, ManualClock, SystemClock};
pub use command::{
    Command, CountImport, Expect, Expiry, NewProduct, OpKind, Outcome, ProductChanges,
    ProductImport, StockOp,
};
pub use error::{Error, ErrorCode, Result};
pub use model::{
    ApiKey, CatalogueEntry, CataloguePage, ChangePage, CheckIn, ConflictReport, CreatedKey,
    DatabaseIdentity, ImportSummary, LedgerPoint, Location, Movement, MovementKind, Product,
    ProductWithStock, Reservation, Scope, SeenPoint, StockLevel, StockSummary, TakeOver, Till,
    TillStatus, VerifyReport,
};
pub use money::{MAX_PRICE_SCALE, PRICE_LIMIT, Price};
pub use observe::{CommandEnd, Observer, Stats};
pub use reach::{Located, Reach};
pub use reads::{
    DEFAULT_CHANGES_PAGE, DEFAULT_PAGE, MAX_CHANGES_PAGE, MAX_PAGE, MovementQuery, ProductQuery,
};
pub use rules::IDEMPOTENCY_TTL_HOURS;
pub use rules::tills::MAX_INSTANCE_ID;
pub use rules::tills::{sale_prefix, till_reference};
pub use store::sqlite::latest_version as schema_version;
pub use store::sqlite::{BackupReport, Overwrite};
pub use store::{Durability, Options, StoreKind, redacted};
pub use validate::required as required_text;
pub use validate::{
    MAX_ACTOR, MAX_BATCH, MAX_DESCRIPTION, MAX_EXPIRY_SECONDS, MAX_IDEMPOTENCY_KEY, MAX_KEY_NAME,
    MAX_LOCATION, MAX_NAME, MAX_NOTES, MAX_QUANTITY, MAX_REFERENCE, MAX_SKU,
};
pub use write::{Applied, Call, Write};

pub use chrono::{DateTime, Utc};
pub use rust_decimal::Decimal;
pub use uuid::Uuid;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use store::Store;

/// The location a product gets when it is created without one.
pub const DEFAULT_LOCATION: &str = "default";

/// The cargo features this build of the engine was compiled with, for surfaces that report
/// what a binary can do (`inventory-server --version`).
pub const FEATURES: &[&str] = if cfg!(feature = "postgres") {
    &["postgres"]
} else {
    &[]
};

/// A command's result, and whether it was replayed from an idempotency key.
pub type Executed = Applied<Outcome>;

/// Checks the SQLite database at `path` without opening it for writing (nothing is migrated or
/// changed): what `verify()` would report. Fails when the file is not an inventory database
/// this build can read.
pub fn verify_file(path: impl AsRef<Path>) -> Result<VerifyReport> {
    let problems = store::sqlite::verify_file(path.as_ref())?;
    Ok(VerifyReport {
        ok: problems.is_empty(),
        problems,
    })
}

/// A consistent, verified copy of the SQLite database at `source` (which a server may be writing
/// to) at `target`, as [`Inventory::backup_with_progress`] makes it, but without opening
/// `source` for writing: nothing is created, migrated or changed there.
///
/// Refused, with nothing touched: a target that is neither a regular file nor a new path (a
/// directory, device, FIFO or socket: VALIDATION_ERROR), the source itself (VALIDATION_ERROR),
/// a SQLite database another process holds open (CONFLICT: a live database is never a backup
/// target), and with [`Overwrite::Refused`] any existing file (CONFLICT).
pub fn backup_file(
    source: impl AsRef<Path>,
    target: impl AsRef<Path>,
    overwrite: Overwrite,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<BackupReport> {
    store::sqlite::backup_file(source.as_ref(), target.as_ref(), overwrite, progress)
}

/// Replaces the SQLite database at `target` with a verified copy of `source`, atomically.
/// Refused (CONFLICT) while another process has `target` open, unless `force`; refused always
/// when `source` is not a regular file or is held open by another process (a live file), and
/// when `target` is neither a regular file nor a new path, or is `source` itself.
pub fn restore(
    source: impl AsRef<Path>,
    target: impl AsRef<Path>,
    force: bool,
) -> Result<BackupReport> {
    store::sqlite::restore(source.as_ref(), target.as_ref(), force)
}

/// The other processes on this machine that have the SQLite database at `path` open.
pub fn processes_using(path: impl AsRef<Path>) -> Vec<u32> {
    store::sqlite::holders(path.as_ref())
}

/// A handle on one inventory database. Cheap to clone, `Send + Sync`: share it between threads.
/// The database closes (a SQLite file's WAL is checkpointed) when the last clone is dropped.
#[derive(Clone)]
pub struct Inventory {
    shared: Arc<Shared>,
    /// Recorded on the movements of calls that name no actor of their own.
    actor: Option<String>,
}

struct Shared {
    store: Store,
    keys: auth::KeyRing,
    /// Webhook subscriptions may lead to loopback, private and link-local addresses.
    allow_private_webhooks: bool,
}

impl std::fmt::Debug for Inventory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inventory")
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

impl Inventory {
    /// Opens (creating if missing) and migrates the database at `path`, with default options.
    /// A file that is not an inventory database, or one from a newer version, is refused
    /// with a STORAGE_ERROR and left untouched. A `postgres://` or `postgresql://` URL opens
    /// that PostgreSQL database instead (with the cargo feature `postgres`; without it, a
    /// STORAGE_ERROR), creating the engine's tables in it if it has none.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, Options::default())
    }

    /// Opens with explicit [`Options`]: an injected clock, durability, pool size, busy timeout.
    pub fn open_with(path: impl AsRef<Path>, options: Options) -> Result<Self> {
        Ok(Inventory {
            shared: Arc::new(Shared {
                allow_private_webhooks: options.allow_private_webhooks,
                store: Store::open(path.as_ref(), options)?,
                keys: auth::KeyRing::default(),
            }),
            actor: None,
        })
    }

    /// The same database, recording `actor` on the movements of every write made through the
    /// returned handle that names no actor of its own (see [`Call::actor`]).
    pub fn with_actor(&self, actor: impl Into<String>) -> Inventory {
        Inventory {
            shared: Arc::clone(&self.shared),
            actor: Some(actor.into()),
        }
    }

    /// The actor this handle records, if any.
    pub fn actor(&self) -> Option<&str> {
        self.actor.as_deref()
    }

    fn store(&self) -> &Store {
        &self.shared.store
    }

    /// Applies a typed write with per-call options: an idempotency key, an actor, locations.
    /// Returns its typed result and whether it was replayed.
    pub fn write<T>(&self, write: Write<T>, call: &Call) -> Result<Applied<T>> {
        let (command, typed) = write.into_parts()?;
        let mut call = call.clone();
        if call.actor.is_none() {
            call.actor.clone_from(&self.actor);
        }
        let key_change = matches!(
            command,
            Command::CreateKey { .. } | Command::RevokeKey { .. }
        );
        let applied = self.store().submit(command, call);
        if key_change {
            self.shared.keys.invalidate();
        }
        let applied = applied?;
        let replayed = applied.replayed;
        Ok(Applied {
            value: typed.value(applied.value)?,
            replayed,
        })
    }

    fn run<T>(&self, write: Write<T>) -> Result<T> {
        self.write(write, &Call::default()).map(|a| a.value)
    }

    /// Applies one command in its own transaction (shared with concurrent commands by group commit).
    pub fn execute(&self, command: Command) -> Result<Outcome> {
        self.run(Write::any(command))
    }

    /// Applies a command once per `key`: a repeat of the same command with the same key
    /// returns the first outcome (`replayed: true`) and changes nothing; the same key with a
    /// different command is a CONFLICT. Only successful outcomes are remembered, so a failed
    /// attempt can be retried. Keys are kept for [`IDEMPOTENCY_TTL_HOURS`].
    pub fn execute_with_key(&self, command: Command, key: Option<&str>) -> Result<Executed> {
        self.write(Write::any(command), &Call::default().idempotency_key(key))
    }

    /// Creates a product; its initial quantity becomes an IN movement.
    pub fn create_product(&self, new: NewProduct) -> Result<ProductWithStock> {
        self.run(Write::create_product(new))
    }

    /// Changes only the fields given. `expected_version` turns it into a compare-and-set. An
    /// update that changes nothing writes nothing and keeps the version.
    pub fn update_product(
        &self,
        id: Uuid,
        changes: ProductChanges,
        expected_version: Option<i64>,
    ) -> Result<Product> {
        self.run(Write::update_product(id, changes, expected_version))
    }

    /// Archives the product: it disappears from reads and its SKU is free again, but its
    /// ledger is kept.
    pub fn delete_product(&self, id: Uuid, expected_version: Option<i64>) -> Result<()> {
        self.run(Write::delete_product(id, expected_version))
            .map(drop)
    }

    /// Creates a location explicitly (locations are also created on first use).
    pub fn create_location(&self, name: &str) -> Result<Location> {
        self.run(Write::create_location(name))
    }

    /// Applies any stock operation. Returns the levels it changed: one, or for a transfer
    /// the source then the destination.
    pub fn stock(&self, op: StockOp) -> Result<Vec<StockLevel>> {
        self.run(Write::stock(op))
    }

    fn one_level(&self, kind: OpKind, op: StockOp) -> Result<StockLevel> {
        if op.kind != kind {
            return Err(Error::validation(
                "kind",
                format!("expected a {} operation", kind.as_str()),
            ));
        }
        self.run(Write::level(op))
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
        self.run(Write::transfer(op))
    }

    /// Applies every operation or none. On failure the error's `index` names the operation.
    pub fn batch(&self, ops: Vec<StockOp>) -> Result<Vec<Vec<StockLevel>>> {
        self.run(Write::batch(ops))
    }

    /// Releases every reservation past its expiry (each with an EXPIRE movement) and forgets
    /// idempotency keys older than [`IDEMPOTENCY_TTL_HOURS`]. Returns how many reservations
    /// were released. Reads and writes already release a product's expired reservations
    /// before they touch it; this sweep keeps the rest tidy.
    pub fn expire_reservations(&self) -> Result<u64> {
        self.run(Write::sweep())
    }

    /// Runs a read that must see no expired reservation of `product` (or, for `None`, of any
    /// product). The check and the read share one read transaction; if something is due, it
    /// is released through the write path first and the read runs again.
    fn read_fresh<T>(
        &self,
        product: Option<Uuid>,
        read: impl Fn(&mut dyn store::tx::ReadTx) -> Result<T>,
    ) -> Result<T> {
        let now = store::rows::Stamp::new(self.now());
        let first = self.store().read(|tx| match tx.any_due(product, &now)? {
            true => Ok(None),
            false => read(tx).map(Some),
        })?;
        match first {
            Some(value) => Ok(value),
            None => {
                self.expire_reservations()?;
                self.store().read(read)
            }
        }
    }

    /// A live product with its stock; NOT_FOUND for unknown or archived ids.
    pub fn get_product(&self, id: Uuid) -> Result<ProductWithStock> {
        self.read_fresh(Some(id), |tx| reads::product_with_stock(tx, id))
    }

    /// A page of live products, filtered by `query`.
    pub fn list_products(&self, query: &ProductQuery) -> Result<Vec<Product>> {
        if query.low_stock {
            self.read_fresh(None, |tx| reads::list_products(tx, query))
        } else {
            self.store().read(|tx| reads::list_products(tx, query))
        }
    }

    /// Up to `limit` live products (1 to [`MAX_PAGE`], default [`DEFAULT_PAGE`]) with their
    /// stock, in id (creation) order after the product `after` (from the first, for `None`):
    /// pass the last id of a page to get the next. Each page is one read; a whole walk is not
    /// one snapshot of a database that is being written to.
    pub fn products_after(
        &self,
        after: Option<Uuid>,
        limit: Option<i64>,
    ) -> Result<Vec<ProductWithStock>> {
        self.read_fresh(None, |tx| reads::products_after(tx, after, limit))
    }

    /// The product's stock: totals over all locations, plus one level per location.
    pub fn get_inventory(&self, id: Uuid) -> Result<StockSummary> {
        self.read_fresh(Some(id), |tx| reads::stock_summary(tx, id))
    }

    /// The product's stock at one location; NOT_FOUND if it never had stock there.
    pub fn get_stock_level(&self, id: Uuid, location: &str) -> Result<StockLevel> {
        self.read_fresh(Some(id), |tx| reads::stock_level(tx, id, location))
    }

    /// A product's movements, newest first.
    pub fn list_movements(&self, id: Uuid, query: &MovementQuery) -> Result<Vec<Movement>> {
        self.store().read(|tx| reads::movements(tx, id, query))
    }

    /// Movements of every product with a sequence number above `after`, oldest first.
    pub fn changes(&self, after: i64, limit: Option<i64>) -> Result<ChangePage> {
        self.store().read(|tx| reads::changes(tx, after, limit))
    }

    /// Products created, updated or archived after catalogue revision `after` (0: the whole
    /// catalogue), archived ones included, oldest change first, each once as it is now; up to
    /// `limit` (1 to [`MAX_CHANGES_PAGE`], default [`DEFAULT_CHANGES_PAGE`]). Revisions are
    /// handed out in commit order, so a reader that passes `next_after` back never misses a
    /// change: what a mirror of the catalogue (a till) pulls.
    pub fn catalogue_changes(&self, after: i64, limit: Option<i64>) -> Result<CataloguePage> {
        self.store().read(|tx| reads::catalogue(tx, after, limit))
    }

    /// Blocks until a movement with a sequence number above `after` has committed, or
    /// `timeout` passes. Returns the latest committed sequence number.
    pub fn wait_for_changes(&self, after: i64, timeout: Duration) -> i64 {
        self.store().wait_for_change(after, timeout)
    }

    /// Every location with its totals over live products, by name.
    pub fn list_locations(&self) -> Result<Vec<Location>> {
        self.read_fresh(None, |tx| tx.locations())
    }

    /// Open reservations of a product.
    pub fn list_reservations(&self, id: Uuid) -> Result<Vec<Reservation>> {
        self.read_fresh(Some(id), |tx| reads::reservations_of(tx, id))
    }

    /// Open reservations held under `reference`, across products.
    pub fn reservations_by_reference(&self, reference: &str) -> Result<Vec<Reservation>> {
        self.read_fresh(None, |tx| reads::reservations_by_reference(tx, reference))
    }

    /// Open reservations of live products that lapse within `within_seconds` from now (1 to
    /// 366 days' worth), soonest first, up to `limit` (1 to [`MAX_PAGE`], default
    /// [`DEFAULT_PAGE`]). Reservations already due are released first, so none is listed.
    pub fn reservations_expiring(
        &self,
        within_seconds: i64,
        limit: Option<i64>,
    ) -> Result<Vec<Reservation>> {
        let now = self.now();
        self.read_fresh(None, |tx| {
            reads::reservations_expiring(tx, now, within_seconds, limit)
        })
    }

    /// Every registered till with its allotments and how long since it synced (docs/TILLS.md).
    pub fn tills(&self) -> Result<Vec<TillStatus>> {
        let now = self.now();
        self.read_fresh(None, |tx| {
            tx.tills()?
                .into_iter()
                .map(|till| {
                    let allotments =
                        reads::reservations_by_reference(tx, &till_reference(&till.id))?;
                    let lag_seconds = (now - till.last_sync_at).num_seconds().max(0);
                    Ok(TillStatus {
                        till,
                        allotments,
                        lag_seconds,
                    })
                })
                .collect()
        })
    }

    /// Ends a till id's registration (an admin's call: see [`Write::take_over_till`]).
    pub fn take_over_till(&self, till_id: &str, release: bool, call: &Call) -> Result<TakeOver> {
        Ok(self
            .write(Write::take_over_till(till_id, release), call)?
            .value)
    }

    /// This database's identity, and its generation (which [`restore`] changes).
    pub fn identity(&self) -> Result<DatabaseIdentity> {
        self.store().read(|tx| tx.identity())
    }

    /// Creates an API key. Its secret is in the result, and nowhere else: only its SHA-256 is
    /// stored.
    pub fn create_key(
        &self,
        name: &str,
        scope: Scope,
        locations: Option<Vec<String>>,
    ) -> Result<CreatedKey> {
        let secret = auth::new_secret()?;
        let command = Command::CreateKey {
            name: name.to_owned(),
            scope,
            locations,
            secret_sha256: auth::hex(&auth::digest(&secret)),
        };
        match self.execute(command)? {
            Outcome::KeyCreated(key) => Ok(CreatedKey { key, secret }),
            other => Err(Error::storage(format!(
                "internal error: unexpected outcome {other:?}"
            ))),
        }
    }

    /// Every key, revoked ones included, without secrets.
    pub fn list_keys(&self) -> Result<Vec<ApiKey>> {
        let keys = self.store().read(|tx| tx.api_keys())?;
        Ok(keys.into_iter().map(|(key, _)| key).collect())
    }

    /// Revokes the live key named `name`: it is refused from then on (by other processes within
    /// [`KEY_REFRESH`]). NOT_FOUND if there is none.
    pub fn revoke_key(&self, name: &str) -> Result<ApiKey> {
        match self.execute(Command::RevokeKey {
            name: name.to_owned(),
        })? {
            Outcome::KeyRevoked(key) => Ok(key),
            other => Err(Error::storage(format!(
                "internal error: unexpected outcome {other:?}"
            ))),
        }
    }

    /// The live key whose secret this is; UNAUTHORIZED for an unknown or revoked one.
    pub fn authenticate(&self, secret: &str) -> Result<ApiKey> {
        self.shared
            .keys
            .authenticate(secret, || self.store().read(|tx| tx.api_keys()))
    }

    /// Proves the caches against the ledger and checks the store's integrity.
    pub fn verify(&self) -> Result<VerifyReport> {
        let problems = self.store().read(|tx| tx.verify())?;
        Ok(VerifyReport {
            ok: problems.is_empty(),
            problems,
        })
    }

    /// Succeeds when the database answers a query and is still the one this handle opened.
    pub fn health(&self) -> Result<()> {
        self.store().check_file()?;
        self.store().read(|tx| tx.last_seq().map(drop))
    }

    /// Succeeds only when the database is open, writable (its write lock can be taken, and a
    /// SQLite file is not read-only for this process) and, for a file, still the file at the
    /// path this handle opened: what a load balancer should ask before sending writes. After a
    /// write failed with STORAGE_ERROR (a full disk, an I/O error), it fails until a write
    /// commits again or its own probe write does.
    pub fn ready(&self) -> Result<()> {
        self.store().ready()
    }

    /// Succeeds only when a write commits now: for a SQLite file, a probe write that changes
    /// nothing is committed and synced (a read-only file or a full disk refuses it); for
    /// PostgreSQL, the server is a primary. A server asks this at start-up.
    pub fn probe_write(&self) -> Result<()> {
        self.store().probe_write()
    }

    /// Gauges for metrics: open reservations, file sizes.
    pub fn stats(&self) -> Result<Stats> {
        let open_reservations = self.store().read(|tx| tx.open_reservations())?;
        let (database_bytes, wal_bytes) = self.store().file_sizes();
        Ok(Stats {
            open_reservations,
            database_bytes,
            wal_bytes,
        })
    }

    /// A consistent copy of the live database at `target`, holding every write acknowledged
    /// before the call: written under a temporary name, verified, synced and renamed into
    /// place. SQLite only (back PostgreSQL up with its own tools).
    pub fn backup_to(&self, target: impl AsRef<Path>) -> Result<BackupReport> {
        self.backup_with_progress(target, &|_, _| {})
    }

    /// As [`Inventory::backup_to`], calling `progress(bytes written, bytes of the source)`
    /// from a helper thread as the copy grows.
    pub fn backup_with_progress(
        &self,
        target: impl AsRef<Path>,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<BackupReport> {
        self.store().backup_to(target.as_ref(), progress)
    }

    /// Creates or updates products by SKU in one transaction, all or nothing (the error's
    /// `index` names the row); with `dry_run` every row is checked and nothing changes.
    pub fn import_products(
        &self,
        rows: Vec<ProductImport>,
        dry_run: bool,
    ) -> Result<ImportSummary> {
        let call = Call {
            dry_run,
            ..Call::default()
        };
        Ok(self.write(Write::import_products(rows), &call)?.value)
    }

    /// Applies physical counts by SKU in one transaction, all or nothing, each ADJUST movement
    /// carrying `reference`; a count that matches what is on hand records nothing.
    pub fn import_counts(
        &self,
        reference: &str,
        rows: Vec<CountImport>,
        dry_run: bool,
    ) -> Result<ImportSummary> {
        let call = Call {
            dry_run,
            ..Call::default()
        };
        Ok(self
            .write(Write::import_counts(reference, rows), &call)?
            .value)
    }

    /// Copies the WAL into the main database file and truncates it. On PostgreSQL, which
    /// manages its own WAL, it does nothing.
    pub fn checkpoint(&self) -> Result<()> {
        self.store().checkpoint()
    }

    /// The most file descriptors the handle's database connections hold at once (every pooled
    /// connection open): what a process sharing its descriptor limit with connections of its
    /// own must leave free.
    pub fn max_descriptors(&self) -> u64 {
        self.store().max_descriptors()
    }

    /// Which store the handle is open on.
    pub fn store_kind(&self) -> StoreKind {
        self.store().kind()
    }

    /// The engine's clock: what "now" means for expiry.
    pub fn now(&self) -> DateTime<Utc> {
        self.store().clock().now()
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
