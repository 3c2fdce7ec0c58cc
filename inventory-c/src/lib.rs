//! # inventory-c
//!
//! The C ABI of the inventory engine. Each exported function translates its arguments into the
//! engine's values, calls the engine once inside a landing pad (`boundary::guard`), and
//! translates the result into caller-owned structs. No business rule lives here: validation,
//! SQL and invariants are the engine's; this crate only refuses what C can get wrong (NULL,
//! bad UTF-8, unbounded strings, unknown enum values) and maps error codes to [`InvStatus`].
//!
//! The generated header `include/inventory.h` is the API reference; its preamble (in
//! `cbindgen.toml`) states the ownership, lifetime and threading rules every function follows.
// Every exported function is `unsafe extern "C"`: its contract is stated for C callers in the
// header comment rather than in a Rust `# Safety` section.
#![allow(clippy::missing_safety_doc)]
// The doc comments are the C header's (cbindgen copies them): the brackets in a stock function's
// field list name `InvStockOp` members, as tests/shapes.rs requires, not Rust items.
#![allow(rustdoc::broken_intra_doc_links)]

mod boundary;
mod limits;
mod till;
mod types;

pub use boundary::{INV_MAX_STRING_BYTES, INV_UUID_LEN, InvStatus};
pub use limits::*;
pub use till::*;
pub use types::*;

use boundary::{Failure, Result, guard, non_null, opt_str, req_str, req_uuid};
use inventory::{Call, Clock, Inventory, ManualClock, OpKind, Options, StockOp, Write};
use std::ffi::c_char;
use std::sync::Arc;
use std::time::Duration;

/// An open inventory database, and the actor its writes record. Opaque: create with `inv_open`,
/// `inv_open_with` or `inv_with_actor`, release with `inv_close`.
///
/// Thread-safety: a handle may be used from any number of threads at once. Concurrent writes
/// are serialized by the engine (and share disk syncs); reads run in parallel on pooled
/// connections. Only `inv_close` needs exclusive use: no other call on the handle may be in
/// progress or follow it.
pub struct InvHandle {
    inventory: Inventory,
    /// Present when the handle was opened with a manual clock.
    clock: Option<Arc<ManualClock>>,
}

/// # Safety
/// `h` is NULL or a live handle from `inv_open`.
unsafe fn handle<'a>(h: *const InvHandle) -> Result<&'a InvHandle> {
    // SAFETY: non-NULL, and live as the caller guarantees.
    Ok(unsafe { &*non_null(h, "handle")? })
}

/// Applies a typed write under an optional idempotency key; the handle's actor is recorded.
///
/// # Safety
/// `key` is NULL or a valid C string.
unsafe fn write<T>(h: &InvHandle, write: Write<T>, key: *const c_char) -> Result<T> {
    let key = unsafe { opt_str(key, "idempotency_key") }?;
    let call = Call::default().idempotency_key(key.as_deref());
    Ok(h.inventory.write(write, &call)?.value)
}

// ---------------------------------------------------------------------------------------------
// Errors

/// The name of a status code: "OK", "NOT_FOUND", ..., "PANIC", or "UNKNOWN" for a value that is
/// not an `InvStatus`. The engine's codes have the same names as on every other surface.
///
/// Returns a static string: never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn inv_status_name(code: i32) -> *const c_char {
    InvStatus::name(code).as_ptr()
}

/// The message of the most recent failure on the calling thread ("" if none has failed yet):
/// the error's code and the engine's explanation, e.g.
/// "INSUFFICIENT_STOCK: only 3 available at Front store, 5 requested".
///
/// Returns a string owned by the library and valid until the next failing call on the same
/// thread: copy it to keep it; never free it. Each thread has its own last error.
#[unsafe(no_mangle)]
pub extern "C" fn inv_last_error_message() -> *const c_char {
    boundary::last_message()
}

/// The input field the most recent failure on the calling thread is about ("price",
/// "quantity", "version", "expected_available", "idempotency_key", ...), or NULL when it names
/// none. Same lifetime and ownership as `inv_last_error_message`.
#[unsafe(no_mangle)]
pub extern "C" fn inv_last_error_field() -> *const c_char {
    boundary::last_field()
}

/// For a failed `inv_batch`: the index of the operation that failed. -1 when the most recent
/// failure on the calling thread was not inside a batch. Thread-safe (per-thread).
#[unsafe(no_mangle)]
pub extern "C" fn inv_last_error_index() -> i64 {
    boundary::last_index()
}

/// The library's version and the commit it was built from, "0.1.0+1a2b3c4d5e6f" ("+unknown"
/// when built outside a git checkout). The part before '+' is the `INV_VERSION` this header
/// declares: a program may compare the two to catch a header and a library of different
/// releases.
///
/// Returns a static string: never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn inv_version() -> *const c_char {
    inventory_version::FULL_C.as_ptr()
}

// ---------------------------------------------------------------------------------------------
// Opening and closing

/// Opens (creating and migrating if needed) the database at `path`, with default options:
/// full durability and the wall clock. A file that is not an inventory database, or is from a
/// newer version, gives `INV_ERR_STORAGE_ERROR` and is left untouched.
///
/// On success `*out` receives a new handle, owned by the caller, to be released with
/// `inv_close`; on failure `*out` is set to NULL. `path` is borrowed for the call only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_open(path: *const c_char, out: *mut *mut InvHandle) -> InvStatus {
    unsafe { inv_open_with(path, std::ptr::null(), out) }
}

/// As `inv_open`, with options. `options` may be NULL (the defaults); it is borrowed for the
/// call only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_open_with(
    path: *const c_char,
    options: *const InvOptions,
    out: *mut *mut InvHandle,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", std::ptr::null_mut())?;
        let path = req_str(path, "path")?;
        let mut opts = Options::default();
        let mut clock = None;
        if let Some(o) = options.as_ref() {
            opts.durability = types::durability(o.durability)?;
            if o.readers != 0 {
                opts.readers = o.readers;
            }
            if o.busy_timeout_ms != 0 {
                opts.busy_timeout = Duration::from_millis(o.busy_timeout_ms.into());
            }
            if o.manual_clock {
                let start = inventory::DateTime::from_timestamp_micros(o.clock_start_us)
                    .ok_or_else(|| Failure::invalid("clock_start_us is out of range"))?;
                let manual = Arc::new(ManualClock::new(start));
                opts.clock = manual.clone();
                clock = Some(manual);
            }
        }
        let actor = match options.as_ref() {
            Some(o) => opt_str(o.actor, "actor")?,
            None => None,
        };
        let inventory = Inventory::open_with(path, opts)?;
        let inventory = match actor {
            Some(actor) => inventory.with_actor(actor),
            None => inventory,
        };
        *out = Box::into_raw(Box::new(InvHandle { inventory, clock }));
        Ok(())
    })
}

/// A new handle on the same open database whose writes record `actor` on their movements: a
/// cashier at a till, or one call made on someone's behalf. The handles share everything else
/// (connections, the manual clock); each is closed with its own `inv_close`, in any order, and
/// the database closes with the last. Cheap: no file is opened.
///
/// `actor` (required) is copied. On success `*out` receives the new handle, owned by the
/// caller; on failure it is set to NULL. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_with_actor(
    handle: *const InvHandle,
    actor: *const c_char,
    out: *mut *mut InvHandle,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", std::ptr::null_mut())?;
        let h = self::handle(handle)?;
        let inventory = h.inventory.with_actor(req_str(actor, "actor")?);
        *out = Box::into_raw(Box::new(InvHandle {
            inventory,
            clock: h.clock.clone(),
        }));
        Ok(())
    })
}

/// Closes the handle. With the last handle on the database (see `inv_with_actor`) the database
/// closes too: the write-ahead log is checkpointed and the file closed. NULL is ignored. No
/// other call on the handle may be in progress (on any thread) or follow: after this call the
/// handle is invalid. Other handles on the same database are unaffected.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_close(handle: *mut InvHandle) {
    guard(|| {
        if !handle.is_null() {
            // SAFETY: the handle came from `inv_open_with` and is released only here.
            drop(unsafe { Box::from_raw(handle) });
        }
        Ok(())
    });
}

/// Moves a manual clock (see `InvOptions.manual_clock`) forward by `seconds` (or back, if
/// negative). Reservations whose expiry is passed are released on the next read or write that
/// touches them, or by `inv_expire_reservations`. `INV_ERR_INVALID_ARGUMENT` on a handle with
/// the wall clock. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_clock_advance(handle: *const InvHandle, seconds: i64) -> InvStatus {
    guard(|| unsafe {
        let h = self::handle(handle)?;
        let clock = h
            .clock
            .as_ref()
            .ok_or_else(|| Failure::invalid("the handle was not opened with a manual clock"))?;
        let to = chrono::TimeDelta::try_seconds(seconds)
            .and_then(|by| clock.now().checked_add_signed(by))
            .ok_or_else(|| Failure::invalid("seconds moves the clock out of range"))?;
        clock.set(to);
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Products

/// Creates a product (and its initial stock, as an IN movement).
///
/// `product` and `idempotency_key` are borrowed for the call only. `idempotency_key` may be
/// NULL; with a key, a repeat of the same request returns the first result and changes nothing,
/// while the same key with a different request fails with `INV_ERR_CONFLICT` (field
/// "idempotency_key"). Keys are remembered for `INV_IDEMPOTENCY_TTL_HOURS`. Every write below
/// takes a key the same way, and records the handle's actor (`InvOptions.actor`,
/// `inv_with_actor`) on the movements it makes.
///
/// On success `*out` is filled and owned by the caller: release it with
/// `inv_product_with_stock_free`. On failure `*out` is zeroed (freeing it is harmless).
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_create_product(
    handle: *const InvHandle,
    product: *const InvNewProduct,
    idempotency_key: *const c_char,
    out: *mut InvProductWithStock,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", InvProductWithStock::empty())?;
        let h = self::handle(handle)?;
        let new = (*non_null(product, "product")?).to_engine()?;
        *out = write(h, Write::create_product(new), idempotency_key)?.into();
        Ok(())
    })
}

/// Reads a live product and its stock. `INV_ERR_NOT_FOUND` if there is none (or it was deleted).
///
/// `id` is borrowed for the call only. `*out` as for `inv_create_product`: release with
/// `inv_product_with_stock_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_get_product(
    handle: *const InvHandle,
    id: *const c_char,
    out: *mut InvProductWithStock,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", InvProductWithStock::empty())?;
        let h = self::handle(handle)?;
        *out = h.inventory.get_product(req_uuid(id, "id")?)?.into();
        Ok(())
    })
}

/// Lists live products in creation order, one page at a time. `query` may be NULL (first page
/// of everything); it is borrowed for the call only.
///
/// On success `*out` holds the page (possibly empty: items NULL, len 0), owned by the caller:
/// release with `inv_product_list_free`. On failure `*out` is zeroed. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_list_products(
    handle: *const InvHandle,
    query: *const InvProductQuery,
    out: *mut InvProductList,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", InvProductList::empty())?;
        let h = self::handle(handle)?;
        let query = match query.as_ref() {
            Some(q) => q.to_engine()?,
            None => Default::default(),
        };
        *out = h.inventory.list_products(&query)?.into();
        Ok(())
    })
}

/// Changes the fields `changes` sets. With `expected_version` non-NULL the update is a
/// compare-and-set: it fails with `INV_ERR_CONFLICT` (field "version") unless the product's
/// version is `*expected_version`.
///
/// All pointer arguments but `out` are borrowed for the call only; `idempotency_key` and
/// `expected_version` may be NULL. On success `*out` holds the updated product, owned by the
/// caller: release with `inv_product_free`. On failure `*out` is zeroed. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_update_product(
    handle: *const InvHandle,
    id: *const c_char,
    changes: *const InvProductChanges,
    expected_version: *const i64,
    idempotency_key: *const c_char,
    out: *mut InvProduct,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", InvProduct::empty())?;
        let h = self::handle(handle)?;
        let update = Write::update_product(
            req_uuid(id, "id")?,
            (*non_null(changes, "changes")?).to_engine()?,
            expected_version.as_ref().copied(),
        );
        *out = write(h, update, idempotency_key)?.into();
        Ok(())
    })
}

/// Deletes (archives) a product: it disappears from reads and its SKU is free again, but its
/// ledger is kept. `expected_version` (may be NULL) makes it a compare-and-set as in
/// `inv_update_product`. Arguments are borrowed for the call only. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_delete_product(
    handle: *const InvHandle,
    id: *const c_char,
    expected_version: *const i64,
    idempotency_key: *const c_char,
) -> InvStatus {
    guard(|| unsafe {
        let h = self::handle(handle)?;
        let delete = Write::delete_product(req_uuid(id, "id")?, expected_version.as_ref().copied());
        write(h, delete, idempotency_key)?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Locations

/// Creates a location explicitly (stock operations also create one on first use).
/// `INV_ERR_CONFLICT` if it exists. `name` and `idempotency_key` are borrowed for the call
/// only. On success `*out` is owned by the caller: release with `inv_location_free`.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_create_location(
    handle: *const InvHandle,
    name: *const c_char,
    idempotency_key: *const c_char,
    out: *mut InvLocation,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", InvLocation::empty())?;
        let h = self::handle(handle)?;
        let create = Write::create_location(req_str(name, "name")?);
        *out = write(h, create, idempotency_key)?.into();
        Ok(())
    })
}

/// Lists every location with its totals, by name. `*out` is owned by the caller: release with
/// `inv_location_list_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_list_locations(
    handle: *const InvHandle,
    out: *mut InvLocationList,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", InvLocationList::empty())?;
        *out = self::handle(handle)?.inventory.list_locations()?.into();
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Stock operations

/// Fills `*op` with an operation of `kind` (an `InvOpKind`) on `product_id` for `quantity`
/// units, every other field empty. Nothing is copied: `op` keeps pointing at `product_id`,
/// which must outlive the calls `op` is passed to. Returns `INV_ERR_INVALID_ARGUMENT` only for
/// a NULL `op`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_stock_op_init(
    op: *mut InvStockOp,
    kind: i32,
    product_id: *const c_char,
    quantity: i64,
) -> InvStatus {
    guard(|| unsafe {
        let op = boundary::out(op, "op", InvStockOp::new(kind, quantity))?;
        op.product_id = product_id;
        Ok(())
    })
}

/// Applies one stock operation of the expected kind and fills `*out` with the level it changed.
///
/// # Safety
/// Pointers as the exported functions document.
unsafe fn one_level(
    handle: *const InvHandle,
    kind: OpKind,
    op: *const InvStockOp,
    idempotency_key: *const c_char,
    out: *mut InvLevel,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", InvLevel::empty())?;
        let h = self::handle(handle)?;
        let op = stock_op(op, Some(kind))?;
        *out = write(h, Write::level(op), idempotency_key)?.into();
        Ok(())
    })
}

/// # Safety
/// `op` is NULL or points to an `InvStockOp` whose strings are NULL or valid.
unsafe fn stock_op(op: *const InvStockOp, kind: Option<OpKind>) -> Result<StockOp> {
    let op = unsafe { (*non_null(op, "op")?).to_engine() }?;
    match kind {
        Some(kind) if op.kind != kind => Err(Failure::invalid(format!(
            "this function applies {} operations, not {}",
            kind.as_str(),
            op.kind.as_str()
        ))),
        _ => Ok(op),
    }
}

/// Receives stock: `op->kind` must be `INV_OP_ADD`. Fills `*out` with the level after the
/// operation.
///
/// This and every stock function below: `op` and `idempotency_key` (may be NULL) are
/// borrowed for the call only; a kind other than the function's gives
/// `INV_ERR_INVALID_ARGUMENT`. On success `*out` is owned by the caller: release with
/// `inv_level_free`; on failure it is zeroed. A stale `expect_kind` guard gives
/// `INV_ERR_CONFLICT`. Thread-safe, and atomic: a failed operation changes nothing.
///
/// Fields, as the engine's table states them (`InvStockOp` members in brackets):
/// - `quantity` [quantity]: required.
/// - `location` [location]: optional; left out: the product's own location.
/// - `reference` [reference]: optional; left out: none.
/// - `notes` [notes]: optional; left out: none.
/// - `external_id` [external_id]: optional; left out: none.
/// - `expected_available` [expect_kind INV_EXPECT_AVAILABLE with expected]: optional; left out: no
///   compare-and-set.
/// - `expected_quantity` [expect_kind INV_EXPECT_QUANTITY with expected]: optional; left out: no
///   compare-and-set.
/// - `expected_available` or `expected_quantity`, not both.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_add_stock(
    handle: *const InvHandle,
    op: *const InvStockOp,
    idempotency_key: *const c_char,
    out: *mut InvLevel,
) -> InvStatus {
    unsafe { one_level(handle, OpKind::Add, op, idempotency_key, out) }
}

/// Takes available stock off the shelf (`INV_OP_REMOVE`); `INV_ERR_INSUFFICIENT_STOCK` if
/// available is short. As `inv_add_stock` otherwise.
///
/// Fields, as the engine's table states them (`InvStockOp` members in brackets):
/// - `quantity` [quantity]: required.
/// - `location` [location]: optional; left out: the product's own location.
/// - `reference` [reference]: optional; left out: none.
/// - `notes` [notes]: optional; left out: none.
/// - `expected_available` [expect_kind INV_EXPECT_AVAILABLE with expected]: optional; left out: no
///   compare-and-set.
/// - `expected_quantity` [expect_kind INV_EXPECT_QUANTITY with expected]: optional; left out: no
///   compare-and-set.
/// - `expected_available` or `expected_quantity`, not both.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_remove_stock(
    handle: *const InvHandle,
    op: *const InvStockOp,
    idempotency_key: *const c_char,
    out: *mut InvLevel,
) -> InvStatus {
    unsafe { one_level(handle, OpKind::Remove, op, idempotency_key, out) }
}

/// Reserves available stock (`INV_OP_RESERVE`) for `op->reference`, adding to that
/// reservation if it exists, optionally with an expiry (`expires_kind`).
/// `INV_ERR_INSUFFICIENT_STOCK` if available is short. As `inv_add_stock` otherwise.
///
/// Fields, as the engine's table states them (`InvStockOp` members in brackets):
/// - `quantity` [quantity]: required.
/// - `location` [location]: optional; left out: the product's own location.
/// - `reference` [reference]: optional; left out: held unreferenced (under the empty reference).
/// - `notes` [notes]: optional; left out: none.
/// - `expires_in_seconds` [expires_kind INV_EXPIRES_IN_SECONDS with expires_value]: optional; left
///   out: no expiry (a reservation reopened keeps its old one).
/// - `expires_at` [expires_kind INV_EXPIRES_AT_UNIX with expires_value, or INV_EXPIRES_AT_RFC3339
///   with expires_at]: optional; left out: no expiry.
/// - `expected_available` [expect_kind INV_EXPECT_AVAILABLE with expected]: optional; left out: no
///   compare-and-set.
/// - `expected_quantity` [expect_kind INV_EXPECT_QUANTITY with expected]: optional; left out: no
///   compare-and-set.
/// - `expected_available` or `expected_quantity`, not both.
/// - `expires_in_seconds` or `expires_at`, not both.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_reserve_stock(
    handle: *const InvHandle,
    op: *const InvStockOp,
    idempotency_key: *const c_char,
    out: *mut InvLevel,
) -> InvStatus {
    unsafe { one_level(handle, OpKind::Reserve, op, idempotency_key, out) }
}

/// Releases reserved stock (`INV_OP_UNRESERVE`): the reservation `op->reference` names (all of
/// it without a quantity), or unreferenced reserved stock when the reference is NULL.
/// `INV_ERR_INSUFFICIENT_RESERVED` if less is reserved. As `inv_add_stock` otherwise.
///
/// Fields, as the engine's table states them (`InvStockOp` members in brackets):
/// - `quantity` [quantity]: optional; left out: the whole reservation; required without a
///   reference.
/// - `location` [location]: optional; left out: the product's own location.
/// - `reference` [reference]: optional; left out: unreferenced reserved quantity.
/// - `notes` [notes]: optional; left out: none.
/// - `expected_available` [expect_kind INV_EXPECT_AVAILABLE with expected]: optional; left out: no
///   compare-and-set.
/// - `expected_quantity` [expect_kind INV_EXPECT_QUANTITY with expected]: optional; left out: no
///   compare-and-set.
/// - `expected_available` or `expected_quantity`, not both.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_unreserve_stock(
    handle: *const InvHandle,
    op: *const InvStockOp,
    idempotency_key: *const c_char,
    out: *mut InvLevel,
) -> InvStatus {
    unsafe { one_level(handle, OpKind::Unreserve, op, idempotency_key, out) }
}

/// Fulfils the reservation `op->reference` names (`INV_OP_COMMIT`; NULL: the unreferenced
/// reservation): on_hand and reserved both fall by the quantity (the whole reservation without
/// one). With `release_remainder` the
/// rest of the reservation is released too. As `inv_add_stock` otherwise.
///
/// Fields, as the engine's table states them (`InvStockOp` members in brackets):
/// - `quantity` [quantity]: optional; left out: the whole reservation.
/// - `location` [location]: optional; left out: the product's own location.
/// - `reference` [reference]: optional; left out: the unreferenced reservation.
/// - `reservation` [reservation]: optional; left out: the reservation named by reference.
/// - `notes` [notes]: optional; left out: none.
/// - `release_remainder` [release_remainder]: optional; left out: false.
/// - `expected_available` [expect_kind INV_EXPECT_AVAILABLE with expected]: optional; left out: no
///   compare-and-set.
/// - `expected_quantity` [expect_kind INV_EXPECT_QUANTITY with expected]: optional; left out: no
///   compare-and-set.
/// - `expected_available` or `expected_quantity`, not both.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_commit_reservation(
    handle: *const InvHandle,
    op: *const InvStockOp,
    idempotency_key: *const c_char,
    out: *mut InvLevel,
) -> InvStatus {
    unsafe { one_level(handle, OpKind::Commit, op, idempotency_key, out) }
}

/// Gives the open reservation `op->reference` names (`INV_OP_RENEW`; NULL: the unreferenced
/// one) a new expiry, changing nothing else and writing no movement: a lease renewed.
/// `INV_ERR_INSUFFICIENT_RESERVED` if no such reservation is open. As `inv_add_stock`
/// otherwise.
///
/// Fields, as the engine's table states them (`InvStockOp` members in brackets):
/// - `location` [location]: optional; left out: the product's own location.
/// - `reference` [reference]: optional; left out: the unreferenced reservation.
/// - `expires_in_seconds` [expires_kind INV_EXPIRES_IN_SECONDS with expires_value]: optional;
///   left out: required without expires_at.
/// - `expires_at` [expires_kind INV_EXPIRES_AT_UNIX with expires_value, or INV_EXPIRES_AT_RFC3339
///   with expires_at]: optional; left out: required without expires_in_seconds.
/// - `expires_in_seconds` or `expires_at`, not both.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_renew_reservation(
    handle: *const InvHandle,
    op: *const InvStockOp,
    idempotency_key: *const c_char,
    out: *mut InvLevel,
) -> InvStatus {
    unsafe { one_level(handle, OpKind::Renew, op, idempotency_key, out) }
}

/// Records a physical count (`INV_OP_COUNT`): on_hand at `op->location` becomes
/// `op->quantity`, written as an ADJUST movement of the difference. A count below what is
/// reserved there is refused. As `inv_add_stock` otherwise.
///
/// Fields, as the engine's table states them (`InvStockOp` members in brackets):
/// - `counted` [quantity]: required.
/// - `location` [location]: optional; left out: the product's own location.
/// - `reference` [reference]: optional; left out: none.
/// - `notes` [notes]: optional; left out: none.
/// - `expected_available` [expect_kind INV_EXPECT_AVAILABLE with expected]: optional; left out: no
///   compare-and-set.
/// - `expected_quantity` [expect_kind INV_EXPECT_QUANTITY with expected]: optional; left out: no
///   compare-and-set.
/// - `expected_available` or `expected_quantity`, not both.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_count_stock(
    handle: *const InvHandle,
    op: *const InvStockOp,
    idempotency_key: *const c_char,
    out: *mut InvLevel,
) -> InvStatus {
    unsafe { one_level(handle, OpKind::Count, op, idempotency_key, out) }
}

/// Moves `op->quantity` units from `op->location` (NULL: the product's own) to
/// `op->to_location` (`INV_OP_TRANSFER`) in one atomic step, written as TRANSFER_OUT and
/// TRANSFER_IN movements sharing a transfer id. Availability is checked at the source.
/// Fills `*from` and `*to` with both levels after the move: each owned by the caller, release
/// each with `inv_level_free` (both are zeroed on failure). As `inv_add_stock` otherwise.
///
/// Fields, as the engine's table states them (`InvStockOp` members in brackets):
/// - `quantity` [quantity]: required.
/// - `from_location` [location]: optional; left out: the product's own location.
/// - `to_location` [to_location]: required.
/// - `reference` [reference]: optional; left out: none.
/// - `notes` [notes]: optional; left out: none.
/// - `expected_available` [expect_kind INV_EXPECT_AVAILABLE with expected]: optional; left out: no
///   compare-and-set.
/// - `expected_quantity` [expect_kind INV_EXPECT_QUANTITY with expected]: optional; left out: no
///   compare-and-set.
/// - `expected_available` or `expected_quantity`, not both.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_transfer_stock(
    handle: *const InvHandle,
    op: *const InvStockOp,
    idempotency_key: *const c_char,
    from: *mut InvLevel,
    to: *mut InvLevel,
) -> InvStatus {
    guard(|| unsafe {
        let from = boundary::out(from, "from", InvLevel::empty())?;
        let to = boundary::out(to, "to", InvLevel::empty())?;
        let h = self::handle(handle)?;
        let op = stock_op(op, Some(OpKind::Transfer))?;
        let (f, t) = write(h, Write::transfer(op), idempotency_key)?;
        *from = f.into();
        *to = t.into();
        Ok(())
    })
}

/// Applies an operation of any kind. Fills `*out` with the levels it changed: one, or for a
/// transfer the source then the destination. `*out` is owned by the caller: release with
/// `inv_level_list_free`. Otherwise as `inv_add_stock`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_stock(
    handle: *const InvHandle,
    op: *const InvStockOp,
    idempotency_key: *const c_char,
    out: *mut InvLevelList,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", InvLevelList::empty())?;
        let h = self::handle(handle)?;
        let op = stock_op(op, None)?;
        *out = write(h, Write::stock(op), idempotency_key)?.into();
        Ok(())
    })
}

/// Applies `count` operations of any kinds and products all or nothing, in one transaction:
/// a basket at checkout. At most `INV_MAX_BATCH` operations.
///
/// On success `*out` holds one level list per operation, in order, owned by the caller:
/// release with `inv_batch_result_free`. On failure nothing was applied, `*out` is zeroed and
/// `inv_last_error_index()` gives the index of the failing operation (-1 if the batch as a
/// whole was refused). `ops` (an array of `count`) and `idempotency_key` are borrowed for the
/// call only; `ops` may be NULL only when `count` is 0. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_batch(
    handle: *const InvHandle,
    ops: *const InvStockOp,
    count: usize,
    idempotency_key: *const c_char,
    out: *mut InvBatchResult,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", InvBatchResult::empty())?;
        let h = self::handle(handle)?;
        let ops = if count == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(non_null(ops, "ops")?, count)
        };
        let ops = ops
            .iter()
            .enumerate()
            .map(|(i, op)| op.to_engine().map_err(|f| f.at_index(i)))
            .collect::<Result<Vec<_>>>()?;
        *out = write(h, Write::batch(ops), idempotency_key)?.into();
        Ok(())
    })
}

/// Releases every reservation past its expiry (each with an EXPIRE movement) and forgets
/// idempotency keys older than `INV_IDEMPOTENCY_TTL_HOURS`. Expiry movements have no actor
/// (time released them). Reads and writes already release a product's expired
/// reservations before they touch it; this sweep tidies the rest. `released` may be NULL;
/// otherwise it receives how many reservations were released. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_expire_reservations(
    handle: *const InvHandle,
    released: *mut u64,
) -> InvStatus {
    guard(|| unsafe {
        let n = self::handle(handle)?.inventory.expire_reservations()?;
        if let Some(r) = released.as_mut() {
            *r = n;
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Reads

/// A product's stock: totals over all locations plus one level per location. `id` is borrowed
/// for the call only. `*out` is owned by the caller: release with `inv_stock_summary_free`.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_get_inventory(
    handle: *const InvHandle,
    id: *const c_char,
    out: *mut InvStockSummary,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", InvStockSummary::empty())?;
        let h = self::handle(handle)?;
        *out = h.inventory.get_inventory(req_uuid(id, "id")?)?.into();
        Ok(())
    })
}

/// A product's stock at one location; `INV_ERR_NOT_FOUND` if it never had stock there.
/// Arguments are borrowed for the call only. `*out` is owned by the caller: release with
/// `inv_level_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_get_stock_level(
    handle: *const InvHandle,
    id: *const c_char,
    location: *const c_char,
    out: *mut InvLevel,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", InvLevel::empty())?;
        let h = self::handle(handle)?;
        let id = req_uuid(id, "id")?;
        *out = h
            .inventory
            .get_stock_level(id, &req_str(location, "location")?)?
            .into();
        Ok(())
    })
}

/// A page of a product's movements, newest first. `query` may be NULL (the newest `INV_DEFAULT_PAGE`); it and
/// `id` are borrowed for the call only. `*out` is owned by the caller: release with
/// `inv_movement_list_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_list_movements(
    handle: *const InvHandle,
    id: *const c_char,
    query: *const InvMovementQuery,
    out: *mut InvMovementList,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", InvMovementList::empty())?;
        let h = self::handle(handle)?;
        let id = req_uuid(id, "id")?;
        let query = match query.as_ref() {
            Some(q) => q.to_engine()?,
            None => Default::default(),
        };
        *out = h.inventory.list_movements(id, &query)?.into();
        Ok(())
    })
}

/// The change feed: movements of every product with a sequence number above `after`, oldest
/// first, at most `limit` (1 to `INV_MAX_CHANGES_PAGE`; 0 means `INV_DEFAULT_CHANGES_PAGE`).
/// Start from `after = 0`, then pass the page's `next_after`. `*out` is owned by the caller: release with `inv_change_page_free`.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_changes(
    handle: *const InvHandle,
    after: i64,
    limit: i64,
    out: *mut InvChangePage,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", InvChangePage::empty())?;
        let h = self::handle(handle)?;
        *out = h
            .inventory
            .changes(after, (limit != 0).then_some(limit))?
            .into();
        Ok(())
    })
}

/// Blocks until a movement with a sequence number above `after` has committed, or
/// `timeout_ms` passes; `*latest` (required) receives the latest committed sequence number.
/// Pair with `inv_changes` to follow the feed without polling. Thread-safe; other threads'
/// calls on the handle proceed meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_wait_for_changes(
    handle: *const InvHandle,
    after: i64,
    timeout_ms: u32,
    latest: *mut i64,
) -> InvStatus {
    guard(|| unsafe {
        let latest = boundary::out(latest, "latest", 0)?;
        let h = self::handle(handle)?;
        *latest = h
            .inventory
            .wait_for_changes(after, Duration::from_millis(timeout_ms.into()));
        Ok(())
    })
}

/// Open reservations of a product. `id` is borrowed for the call only. `*out` is owned by the
/// caller: release with `inv_reservation_list_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_list_reservations(
    handle: *const InvHandle,
    id: *const c_char,
    out: *mut InvReservationList,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", InvReservationList::empty())?;
        let h = self::handle(handle)?;
        *out = h.inventory.list_reservations(req_uuid(id, "id")?)?.into();
        Ok(())
    })
}

/// Open reservations held under `reference`, across products. `reference` is borrowed for the
/// call only. `*out` is owned by the caller: release with `inv_reservation_list_free`.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_reservations_by_reference(
    handle: *const InvHandle,
    reference: *const c_char,
    out: *mut InvReservationList,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", InvReservationList::empty())?;
        let h = self::handle(handle)?;
        *out = h
            .inventory
            .reservations_by_reference(&req_str(reference, "reference")?)?
            .into();
        Ok(())
    })
}

/// Every till registered at this database, with its allotments and lag (docs/TILLS.md).
/// `*out` is owned by the caller: release with `inv_till_status_list_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_tills(
    handle: *const InvHandle,
    out: *mut InvTillStatusList,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", InvTillStatusList::empty())?;
        let h = self::handle(handle)?;
        *out = h.inventory.tills()?.into();
        Ok(())
    })
}

/// Ends till `till_id`'s registration (a replaced device): its allotments are released when
/// `release` is true, or kept for the next instance that syncs under the id; recorded in the
/// ledger either way. The handle's owner acts as an admin here, as on a server with
/// authentication off. INV_ERR_NOT_FOUND when no till is registered under the id. `till_id`
/// is borrowed for the call only; `*out` is owned by the caller: release with
/// `inv_take_over_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_take_over_till(
    handle: *const InvHandle,
    till_id: *const c_char,
    release: bool,
    out: *mut InvTakeOver,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", InvTakeOver::empty())?;
        let h = self::handle(handle)?;
        let call = Call {
            admin: true,
            ..Call::default()
        };
        *out = h
            .inventory
            .take_over_till(&req_str(till_id, "till_id")?, release, &call)?
            .into();
        Ok(())
    })
}

/// Proves every cached balance and reservation against the ledger and checks the file's
/// integrity. The call succeeds when the check ran; `out->ok` says whether it passed. `*out`
/// is owned by the caller: release with `inv_verify_report_free`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_verify(
    handle: *const InvHandle,
    out: *mut InvVerifyReport,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", InvVerifyReport::empty())?;
        *out = self::handle(handle)?.inventory.verify()?.into();
        Ok(())
    })
}

/// `INV_OK` when the database answers a query. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_health(handle: *const InvHandle) -> InvStatus {
    guard(|| unsafe { Ok(self::handle(handle)?.inventory.health()?) })
}

/// Copies the write-ahead log into the main database file and truncates it. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_checkpoint(handle: *const InvHandle) -> InvStatus {
    guard(|| unsafe { Ok(self::handle(handle)?.inventory.checkpoint()?) })
}

// ---------------------------------------------------------------------------------------------
// API keys. Keys are made, listed and revoked by the operator (`inventory-server keys ...`, or
// the Python package); a till only needs to find out what the key it was given is.

/// The live API key whose secret this is: its name, scope and the locations it may move stock
/// at. `INV_ERR_UNAUTHORIZED` for an unknown or revoked key (a key revoked by another process
/// is refused within the engine's key refresh interval, at once when revoked through this
/// database's handles). The secret is compared in constant time and never copied into an error
/// message.
///
/// `secret` is borrowed for the call only. On success `*out` is owned by the caller: release
/// with `inv_api_key_free`; on failure it is zeroed. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_authenticate(
    handle: *const InvHandle,
    secret: *const c_char,
    out: *mut InvApiKey,
) -> InvStatus {
    guard(|| unsafe {
        let out = boundary::out(out, "out", InvApiKey::empty())?;
        let h = self::handle(handle)?;
        *out = h
            .inventory
            .authenticate(&req_str(secret, "secret")?)?
            .into();
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Releasing outputs. Each frees what the struct owns (not the struct itself, which is the
// caller's storage) and zeroes it, so freeing twice, or freeing a zeroed struct, is harmless.
// NULL is ignored. A struct must not be freed while another thread reads it.

/// Releases what a level owns.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_level_free(level: *mut InvLevel) {
    unsafe { release(level, InvLevel::empty) }
}

/// Releases a level list and every level in it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_level_list_free(list: *mut InvLevelList) {
    unsafe { release(list, InvLevelList::empty) }
}

/// Releases a batch result and every level in it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_batch_result_free(result: *mut InvBatchResult) {
    unsafe { release(result, InvBatchResult::empty) }
}

/// Releases what a product owns.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_product_free(product: *mut InvProduct) {
    unsafe { release(product, InvProduct::empty) }
}

/// Releases a product list and every product in it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_product_list_free(list: *mut InvProductList) {
    unsafe { release(list, InvProductList::empty) }
}

/// Releases what a product-with-stock owns (its product and its stock summary).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_product_with_stock_free(product: *mut InvProductWithStock) {
    unsafe { release(product, InvProductWithStock::empty) }
}

/// Releases what a stock summary owns, its per-location levels included.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_stock_summary_free(summary: *mut InvStockSummary) {
    unsafe { release(summary, InvStockSummary::empty) }
}

/// Releases a movement list and every movement in it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_movement_list_free(list: *mut InvMovementList) {
    unsafe { release(list, InvMovementList::empty) }
}

/// Releases a change-feed page and every movement in it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_change_page_free(page: *mut InvChangePage) {
    unsafe { release(page, InvChangePage::empty) }
}

/// Releases what a location owns.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_location_free(location: *mut InvLocation) {
    unsafe { release(location, InvLocation::empty) }
}

/// Releases a location list and every location in it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_location_list_free(list: *mut InvLocationList) {
    unsafe { release(list, InvLocationList::empty) }
}

/// Releases a reservation list and every reservation in it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_reservation_list_free(list: *mut InvReservationList) {
    unsafe { release(list, InvReservationList::empty) }
}

/// Releases a till list, and every till and allotment in it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_till_status_list_free(list: *mut InvTillStatusList) {
    unsafe { release(list, InvTillStatusList::empty) }
}

/// Releases what a take-over owns (its till's strings).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_take_over_free(take_over: *mut InvTakeOver) {
    unsafe { release(take_over, InvTakeOver::empty) }
}

/// Releases what an API key owns (its name and locations).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_api_key_free(key: *mut InvApiKey) {
    unsafe { release(key, InvApiKey::empty) }
}

/// Releases the problems a verify report holds.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_verify_report_free(report: *mut InvVerifyReport) {
    unsafe { release(report, InvVerifyReport::empty) }
}

/// Drops what `*p` owns and leaves it empty.
///
/// # Safety
/// `p` is NULL or points to a struct filled by this library (or zeroed).
unsafe fn release<T>(p: *mut T, empty: fn() -> T) {
    guard(|| {
        // SAFETY: as the caller guarantees; the old value is dropped exactly once.
        if let Some(p) = unsafe { p.as_mut() } {
            drop(std::mem::replace(p, empty()));
        }
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    /// The checked-in header must be what cbindgen makes of the current source. Set
    /// INVENTORY_C_BLESS=1 to rewrite it instead.
    #[test]
    fn header_is_up_to_date() {
        let crate_dir = env!("CARGO_MANIFEST_DIR");
        let mut config = cbindgen::Config::from_root_or_default(crate_dir);
        // Cargo's version, so that the header states the release it belongs to.
        config.after_includes = Some(format!(
            "\n/** The release this header belongs to; inv_version() names the library's. */\n#define INV_VERSION \"{}\"",
            env!("CARGO_PKG_VERSION")
        ));
        let mut generated = Vec::new();
        cbindgen::Builder::new()
            .with_crate(crate_dir)
            .with_config(config)
            .generate()
            .expect("cbindgen failed")
            .write(&mut generated);
        let path = std::path::Path::new(crate_dir).join("include/inventory.h");
        if std::env::var_os("INVENTORY_C_BLESS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let checked_in = std::fs::read(&path).unwrap_or_default();
        assert!(
            checked_in == generated,
            "include/inventory.h is stale: run INVENTORY_C_BLESS=1 cargo test -p inventory-c header"
        );
    }
}
