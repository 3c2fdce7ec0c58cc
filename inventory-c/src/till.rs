//! The till (`inventory-till`) in C: a handle, the structs its answers cross in, and their
//! translation. No rule of the till lives here: selling, the outbox and the sync are
//! `inventory_till::Till`'s; this module refuses what C can get wrong and copies values out.

use crate::boundary::{
    Failure, INV_UUID_LEN, Result, free_string, free_vec, give_opt_string, give_string, give_vec,
    guard, non_null, opt_str, req_str, req_uuid, uuid_buf,
};
use crate::{InvHandle, InvStatus};
use inventory::{DateTime, Utc};
use inventory_till::{
    Allotment, AllotmentChange, Conflict, Resolution, Sale, SaleOptions, SyncReport, Till,
    TillOptions,
};
use std::ffi::c_char;
use std::ptr::null_mut;
use std::time::Duration;

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A till: its own database file (its catalogue, its stock, which is what remains of each
/// allotment, and its ledger, which is its outbox), its state file beside it, and its link to
/// central. Opaque: open with `inv_till_open` or `inv_till_open_with`, release with
/// `inv_till_close`.
///
/// Thread-safety: a till may be used from any number of threads at once; a sync (called, or in
/// the background) never blocks a sale. Only `inv_till_close` needs exclusive use. One process
/// at a time may have a till's files open.
pub struct InvTill {
    till: Till,
}

/// What an operator decides about a sale in conflict (`inv_till_resolve`), and what a conflict
/// records (`InvConflict.resolution`).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvResolution {
    /// No decision yet (only in `InvConflict.resolution`).
    INV_RESOLUTION_NONE = 0,
    /// The units did leave the shop: central takes them off its stock at the till's location
    /// as a count adjustment (an ADJUST of minus the quantity) carrying the sale's reference.
    INV_RESOLUTION_APPLY = 1,
    /// The sale did not happen: central records a count that changes nothing (an ADJUST of 0)
    /// carrying the sale's reference and the reason.
    INV_RESOLUTION_DISCARD = 2,
}

fn resolution_out(r: Option<Resolution>) -> i32 {
    (match r {
        None => InvResolution::INV_RESOLUTION_NONE,
        Some(Resolution::Apply) => InvResolution::INV_RESOLUTION_APPLY,
        Some(Resolution::Discard) => InvResolution::INV_RESOLUTION_DISCARD,
    }) as i32
}

fn resolution_in(raw: i32) -> Result<Resolution> {
    if raw == InvResolution::INV_RESOLUTION_APPLY as i32 {
        Ok(Resolution::Apply)
    } else if raw == InvResolution::INV_RESOLUTION_DISCARD as i32 {
        Ok(Resolution::Discard)
    } else {
        Err(Failure::invalid(format!(
            "resolution {raw} is not INV_RESOLUTION_APPLY or INV_RESOLUTION_DISCARD"
        )))
    }
}

/// Options for `inv_till_open_with`. A zeroed struct means the defaults.
#[repr(C)]
#[derive(Debug)]
pub struct InvTillOptions {
    /// How long central holds the till's allotment without hearing from it (the lease, renewed
    /// at every sync), in seconds; 0 means `INV_TILL_DEFAULT_LEASE_SECONDS`.
    pub lease_seconds: i64,
    /// How long one request to central may take, in milliseconds; 0 means the default (30 s).
    pub timeout_ms: i64,
    /// Sync in the background this often, in milliseconds; 0 means never (only
    /// `inv_till_sync`).
    pub sync_interval_ms: i64,
    /// How far back, in seconds, acknowledged sales are pushed again when central turns out to
    /// have been restored from a backup; 0 means the default (30 days).
    pub retention_seconds: i64,
}

fn millis(value: i64, field: &str) -> Result<Option<Duration>> {
    match u64::try_from(value) {
        Ok(0) => Ok(None),
        Ok(ms) => Ok(Some(Duration::from_millis(ms))),
        Err(_) => Err(Failure::invalid(format!("{field} must not be negative"))),
    }
}

impl InvTillOptions {
    fn read(&self) -> Result<TillOptions> {
        let mut options = TillOptions::default();
        match u64::try_from(self.lease_seconds) {
            Ok(0) => {}
            Ok(s) => options.lease = Duration::from_secs(s),
            Err(_) => return Err(Failure::invalid("lease_seconds must not be negative")),
        }
        if let Some(t) = millis(self.timeout_ms, "timeout_ms")? {
            options.timeout = t;
        }
        options.sync_interval = millis(self.sync_interval_ms, "sync_interval_ms")?;
        match u64::try_from(self.retention_seconds) {
            Ok(0) => {}
            Ok(s) => options.retention = Duration::from_secs(s),
            Err(_) => return Err(Failure::invalid("retention_seconds must not be negative")),
        }
        Ok(options)
    }
}

/// What `inv_till_sell` takes besides the product and quantity. A zeroed struct (or NULL)
/// means none of them. Strings are borrowed for the call only.
#[repr(C)]
#[derive(Debug)]
pub struct InvSaleOptions {
    /// The point of sale's own id for the sale (a receipt line), or NULL for a new one: selling
    /// again with the same id returns the first sale and sells nothing more.
    pub sale_id: *const c_char,
    /// Free notes, kept in the till's ledger and in central's; NULL for none.
    pub notes: *const c_char,
    /// Who sold it (a cashier), recorded on the till's own movement; NULL for none.
    pub actor: *const c_char,
}

impl InvSaleOptions {
    /// # Safety
    /// Each string is NULL or a valid C string.
    unsafe fn read(&self) -> Result<SaleOptions> {
        Ok(SaleOptions {
            sale_id: unsafe { opt_str(self.sale_id, "sale_id") }?,
            notes: unsafe { opt_str(self.notes, "notes") }?,
            actor: unsafe { opt_str(self.actor, "actor") }?,
        })
    }
}

/// One sale made at the till. Release with `inv_sale_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvSale {
    /// `sale:<till id>:<sale id>`: its movement's reference at the till and its COMMIT's at
    /// central. Owned by the struct, like `notes` and `actor`.
    pub reference: *mut c_char,
    pub product_id: [c_char; INV_UUID_LEN],
    pub quantity: i64,
    /// On the till's clock.
    pub sold_at_us: i64,
    /// Its movement's sequence number in the till's ledger.
    pub seq: i64,
    /// NULL when absent.
    pub notes: *mut c_char,
    /// NULL when absent.
    pub actor: *mut c_char,
    /// It did not fit at central and waits for an operator (see `inv_till_conflicts`).
    pub conflict: bool,
}

impl InvSale {
    pub(crate) fn empty() -> Self {
        InvSale {
            reference: null_mut(),
            product_id: [0; INV_UUID_LEN],
            quantity: 0,
            sold_at_us: 0,
            seq: 0,
            notes: null_mut(),
            actor: null_mut(),
            conflict: false,
        }
    }
}

impl From<Sale> for InvSale {
    fn from(s: Sale) -> Self {
        InvSale {
            reference: give_string(&s.reference),
            product_id: uuid_buf(s.product_id),
            quantity: s.quantity,
            sold_at_us: micros(s.sold_at),
            seq: s.seq,
            notes: give_opt_string(s.notes.as_deref()),
            actor: give_opt_string(s.actor.as_deref()),
            conflict: s.conflict,
        }
    }
}

impl Drop for InvSale {
    fn drop(&mut self) {
        free_string(&mut self.reference);
        free_string(&mut self.notes);
        free_string(&mut self.actor);
    }
}

/// An array of sales, oldest first. Release with `inv_sale_list_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvSaleList {
    pub items: *mut InvSale,
    pub len: usize,
}

impl InvSaleList {
    pub(crate) fn empty() -> Self {
        InvSaleList {
            items: null_mut(),
            len: 0,
        }
    }
}

impl Drop for InvSaleList {
    fn drop(&mut self) {
        free_vec(&mut self.items, &mut self.len);
    }
}

/// The till's allotment of one product.
#[repr(C)]
#[derive(Debug)]
pub struct InvAllotment {
    pub product_id: [c_char; INV_UUID_LEN],
    /// What the till asks central to hold for it (`inv_till_set_target`).
    pub target: i64,
    /// What central held for the till at the last sync (its reservation there).
    pub held: i64,
    /// What the till may still sell: its own stock of the product, now.
    pub remaining: i64,
    /// Units sold and not yet acknowledged by central (sales in conflict excluded).
    pub pending: i64,
    pub has_lease: bool,
    /// When central releases the allotment unless a sync renews it, on central's clock;
    /// 0 when `has_lease` is false.
    pub lease_expires_at_us: i64,
}

impl From<Allotment> for InvAllotment {
    fn from(a: Allotment) -> Self {
        InvAllotment {
            product_id: uuid_buf(a.product_id),
            target: a.target,
            held: a.held,
            remaining: a.remaining,
            pending: a.pending,
            has_lease: a.lease_expires_at.is_some(),
            lease_expires_at_us: a.lease_expires_at.map_or(0, micros),
        }
    }
}

/// An array of allotments, by product id. Release with `inv_allotment_list_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvAllotmentList {
    pub items: *mut InvAllotment,
    pub len: usize,
}

impl InvAllotmentList {
    pub(crate) fn empty() -> Self {
        InvAllotmentList {
            items: null_mut(),
            len: 0,
        }
    }
}

impl Drop for InvAllotmentList {
    fn drop(&mut self) {
        free_vec(&mut self.items, &mut self.len);
    }
}

/// A sale central refused: it stays in the outbox until an operator resolves it.
#[repr(C)]
#[derive(Debug)]
pub struct InvConflict {
    /// The sale (its `conflict` is true).
    pub sale: InvSale,
    /// Central's error code for its refusal (INSUFFICIENT_STOCK when the lease had lapsed and
    /// the units were gone, NOT_FOUND when the product was archived). Owned by the struct,
    /// like every string here.
    pub code: *mut c_char,
    pub message: *mut c_char,
    /// When central refused it, on central's clock.
    pub found_at_us: i64,
    /// An `InvResolution`: the decision taken and not yet applied at central, or
    /// `INV_RESOLUTION_NONE`.
    pub resolution: i32,
    /// The decision's reason; NULL when none.
    pub reason: *mut c_char,
    /// Why central refused the last decision (it was then cleared); NULL when it did not.
    pub resolution_error: *mut c_char,
}

impl From<Conflict> for InvConflict {
    fn from(c: Conflict) -> Self {
        InvConflict {
            sale: c.sale.into(),
            code: give_string(&c.code),
            message: give_string(&c.message),
            found_at_us: micros(c.found_at),
            resolution: resolution_out(c.resolution),
            reason: give_opt_string(c.reason.as_deref()),
            resolution_error: give_opt_string(c.resolution_error.as_deref()),
        }
    }
}

impl Drop for InvConflict {
    fn drop(&mut self) {
        free_string(&mut self.code);
        free_string(&mut self.message);
        free_string(&mut self.reason);
        free_string(&mut self.resolution_error);
    }
}

/// An array of conflicts, oldest first. Release with `inv_conflict_list_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvConflictList {
    pub items: *mut InvConflict,
    pub len: usize,
}

impl InvConflictList {
    pub(crate) fn empty() -> Self {
        InvConflictList {
            items: null_mut(),
            len: 0,
        }
    }
}

impl From<Vec<Conflict>> for InvConflictList {
    fn from(conflicts: Vec<Conflict>) -> Self {
        let (items, len) = give_vec(conflicts.into_iter().map(InvConflict::from).collect());
        InvConflictList { items, len }
    }
}

impl Drop for InvConflictList {
    fn drop(&mut self) {
        free_vec(&mut self.items, &mut self.len);
    }
}

/// How a sync changed what the till may sell of one product.
#[repr(C)]
#[derive(Debug)]
pub struct InvAllotmentChange {
    pub product_id: [c_char; INV_UUID_LEN],
    /// The till's stock before the sync's rebalance, and after it.
    pub before: i64,
    pub after: i64,
    /// What central holds for the till now.
    pub held: i64,
}

impl From<AllotmentChange> for InvAllotmentChange {
    fn from(a: AllotmentChange) -> Self {
        InvAllotmentChange {
            product_id: uuid_buf(a.product_id),
            before: a.before,
            after: a.after,
            held: a.held,
        }
    }
}

/// What one sync did. Release with `inv_sync_report_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvSyncReport {
    /// Every step ran to its end. When false, `error_code` says why it stopped; running the
    /// sync again continues safely.
    pub complete: bool,
    /// Central's error code (UNAUTHORIZED, FORBIDDEN, BUSY, ...) or UNREACHABLE when central
    /// did not answer; NULL for a complete sync. Owned by the struct, like `error_message`.
    pub error_code: *mut c_char,
    pub error_message: *mut c_char,
    /// Sales central acknowledged in this sync: they left the outbox.
    pub pushed: u64,
    /// Of those, sales central had already applied (an answer lost earlier): never twice.
    pub already_applied: u64,
    /// Of those, sales whose lease had lapsed but whose units central still had available.
    pub refitted: u64,
    /// Operators' resolutions central applied in this sync.
    pub resolved: u64,
    /// Central was found restored from a backup since the till's last sync.
    pub rewound: bool,
    /// Acknowledged sales central no longer had, pushed again (counted in `pushed` too).
    pub repushed: u64,
    /// Sales found in conflict in this sync.
    pub conflicts: InvConflictList,
    /// Products whose local stock or central holding changed.
    pub allotments: *mut InvAllotmentChange,
    pub allotments_len: usize,
    /// Catalogue changes mirrored from central.
    pub catalogue_created: u64,
    pub catalogue_updated: u64,
    pub catalogue_archived: u64,
}

impl InvSyncReport {
    pub(crate) fn empty() -> Self {
        InvSyncReport {
            complete: false,
            error_code: null_mut(),
            error_message: null_mut(),
            pushed: 0,
            already_applied: 0,
            refitted: 0,
            resolved: 0,
            rewound: false,
            repushed: 0,
            conflicts: InvConflictList::empty(),
            allotments: null_mut(),
            allotments_len: 0,
            catalogue_created: 0,
            catalogue_updated: 0,
            catalogue_archived: 0,
        }
    }
}

impl From<SyncReport> for InvSyncReport {
    fn from(r: SyncReport) -> Self {
        let (allotments, allotments_len) =
            give_vec(r.allotments.into_iter().map(Into::into).collect());
        InvSyncReport {
            complete: r.complete,
            error_code: give_opt_string(r.error.as_ref().map(|e| e.code.as_str())),
            error_message: give_opt_string(r.error.as_ref().map(|e| e.message.as_str())),
            pushed: r.pushed,
            already_applied: r.already_applied,
            refitted: r.refitted,
            resolved: r.resolved,
            rewound: r.rewound,
            repushed: r.repushed,
            conflicts: r.conflicts.into(),
            allotments,
            allotments_len,
            catalogue_created: r.catalogue.created,
            catalogue_updated: r.catalogue.updated,
            catalogue_archived: r.catalogue.archived,
        }
    }
}

impl Drop for InvSyncReport {
    fn drop(&mut self) {
        free_string(&mut self.error_code);
        free_string(&mut self.error_message);
        free_vec(&mut self.allotments, &mut self.allotments_len);
    }
}

/// # Safety
/// `t` is NULL or a live till from `inv_till_open`.
unsafe fn till<'a>(t: *const InvTill) -> Result<&'a Till> {
    // SAFETY: non-NULL, and live as the caller guarantees.
    Ok(unsafe { &(*non_null(t, "till")?).till })
}

// ---------------------------------------------------------------------------------------------
// The till's functions

/// Opens (creating if missing) the till's database at `path` and its state file beside it
/// (`<path>.till`), for till `till_id` (1 to 64 letters, digits, '-', '_' or '.') selling at
/// `location`, syncing with the inventory server at `central_url` ("http://host:port") with
/// the API key `key` (a `write` key limited to `location`). Nothing is sent until the first
/// sync. Default options: a 7-day lease, no background sync. Files of another till id or
/// location give `INV_ERR_VALIDATION_ERROR` (field "till_id"); files another process has open
/// give `INV_ERR_BUSY`.
///
/// On success `*out` receives a new till, owned by the caller, to be released with
/// `inv_till_close`; on failure `*out` is set to NULL. Strings are borrowed for the call only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_till_open(
    path: *const c_char,
    central_url: *const c_char,
    key: *const c_char,
    till_id: *const c_char,
    location: *const c_char,
    out: *mut *mut InvTill,
) -> InvStatus {
    unsafe {
        inv_till_open_with(
            path,
            central_url,
            key,
            till_id,
            location,
            std::ptr::null(),
            out,
        )
    }
}

/// As `inv_till_open`, with options. `options` may be NULL (the defaults); it is borrowed for
/// the call only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_till_open_with(
    path: *const c_char,
    central_url: *const c_char,
    key: *const c_char,
    till_id: *const c_char,
    location: *const c_char,
    options: *const InvTillOptions,
    out: *mut *mut InvTill,
) -> InvStatus {
    guard(|| unsafe {
        let out = crate::boundary::out(out, "out", null_mut())?;
        let options = match options.as_ref() {
            Some(o) => o.read()?,
            None => TillOptions::default(),
        };
        let till = Till::open_with(
            req_str(path, "path")?,
            &req_str(central_url, "central_url")?,
            &req_str(key, "key")?,
            &req_str(till_id, "till_id")?,
            &req_str(location, "location")?,
            options,
        )?;
        *out = Box::into_raw(Box::new(InvTill { till }));
        Ok(())
    })
}

/// Closes the till: its background sync (if any) ends and its files close, so that another
/// process may open them. NULL is ignored. No other call on the till may be in progress (on
/// any thread) or follow. A sync running in the background at that moment finishes its
/// current request first (at most the request timeout).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_till_close(till: *mut InvTill) {
    guard(|| {
        if !till.is_null() {
            // SAFETY: the till came from `inv_till_open_with` and is released only here.
            drop(unsafe { Box::from_raw(till) });
        }
        Ok(())
    });
}

/// Sells `quantity` of `product_id` from the till's allotment: one durable local write, made
/// whether central is reachable or not, and the sale's entry in the outbox.
/// `INV_ERR_INSUFFICIENT_STOCK` when less than `quantity` remains of the allotment,
/// `INV_ERR_NOT_FOUND` for a product the till does not know (or that central archived).
/// `options` may be NULL. On success `*out` holds the sale (release with `inv_sale_free`); on
/// failure it is zeroed. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_till_sell(
    till: *const InvTill,
    product_id: *const c_char,
    quantity: i64,
    options: *const InvSaleOptions,
    out: *mut InvSale,
) -> InvStatus {
    guard(|| unsafe {
        let out = crate::boundary::out(out, "out", InvSale::empty())?;
        let t = self::till(till)?;
        let options = match options.as_ref() {
            Some(o) => o.read()?,
            None => SaleOptions::default(),
        };
        *out = t
            .sell_with(req_uuid(product_id, "product_id")?, quantity, &options)?
            .into();
        Ok(())
    })
}

/// Syncs with central: pushes every sale in the outbox (each applied at central exactly once,
/// however often a sync is interrupted), applies operators' resolutions, mirrors central's
/// catalogue and moves each allotment towards its target, renewing the lease. Central being
/// unreachable is not a failure: `INV_OK` with `out->complete` false and `out->error_code`
/// saying why; the next sync goes on from there. A failure status means the till's own files
/// failed. Sales on other threads go on meanwhile. On success `*out` holds the report
/// (release with `inv_sync_report_free`); on failure it is zeroed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_till_sync(till: *const InvTill, out: *mut InvSyncReport) -> InvStatus {
    guard(|| unsafe {
        let out = crate::boundary::out(out, "out", InvSyncReport::empty())?;
        *out = self::till(till)?.sync()?.into();
        Ok(())
    })
}

/// The sales central has not acknowledged yet, oldest first: those waiting to be pushed and
/// those in conflict (`conflict` true). On success `*out` holds them (release with
/// `inv_sale_list_free`); on failure it is zeroed. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_till_pending(
    till: *const InvTill,
    out: *mut InvSaleList,
) -> InvStatus {
    guard(|| unsafe {
        let out = crate::boundary::out(out, "out", InvSaleList::empty())?;
        let sales = self::till(till)?.pending()?;
        let (items, len) = give_vec(sales.into_iter().map(InvSale::from).collect());
        *out = InvSaleList { items, len };
        Ok(())
    })
}

/// Sets how much of `product_id` the till asks central to hold for it (0 to stop holding any;
/// at most the engine's largest quantity, else `INV_ERR_VALIDATION_ERROR`, field "target"). The next sync reserves up to it, as far as central has stock
/// available, or releases the surplus. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_till_set_target(
    till: *const InvTill,
    product_id: *const c_char,
    target: i64,
) -> InvStatus {
    guard(|| unsafe {
        self::till(till)?.set_target(req_uuid(product_id, "product_id")?, target)?;
        Ok(())
    })
}

/// Every product the till has a target for or holds an allotment of, by product id. On
/// success `*out` holds them (release with `inv_allotment_list_free`); on failure it is
/// zeroed. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_till_allotments(
    till: *const InvTill,
    out: *mut InvAllotmentList,
) -> InvStatus {
    guard(|| unsafe {
        let out = crate::boundary::out(out, "out", InvAllotmentList::empty())?;
        let allotments = self::till(till)?.allotments()?;
        let (items, len) = give_vec(allotments.into_iter().map(InvAllotment::from).collect());
        *out = InvAllotmentList { items, len };
        Ok(())
    })
}

/// The sales in conflict, oldest first, with what central said and any decision taken. On
/// success `*out` holds them (release with `inv_conflict_list_free`); on failure it is zeroed.
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_till_conflicts(
    till: *const InvTill,
    out: *mut InvConflictList,
) -> InvStatus {
    guard(|| unsafe {
        let out = crate::boundary::out(out, "out", InvConflictList::empty())?;
        *out = self::till(till)?.conflicts()?.into();
        Ok(())
    })
}

/// An operator's decision (`INV_RESOLUTION_APPLY` or `INV_RESOLUTION_DISCARD`) on the sale in
/// conflict whose reference this is, with a `reason` (required) that central's ledger keeps:
/// recorded at once, then applied at central as a count at the till's location carrying the
/// sale's reference. `*applied` is true when central applied it (the sale leaves the outbox),
/// false when central could not be reached (the next sync applies it). Central refusing it
/// (fewer units on hand than the sale, the product archived) is a failure, and clears the
/// decision; `INV_ERR_NOT_FOUND` for a reference not in conflict. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_till_resolve(
    till: *const InvTill,
    reference: *const c_char,
    resolution: i32,
    reason: *const c_char,
    applied: *mut bool,
) -> InvStatus {
    guard(|| unsafe {
        let applied = crate::boundary::out(applied, "applied", false)?;
        let t = self::till(till)?;
        let resolution = resolution_in(resolution)?;
        *applied = t.resolve(
            &req_str(reference, "reference")?,
            resolution,
            &req_str(reason, "reason")?,
        )?;
        Ok(())
    })
}

/// A handle on the till's own database, to read its catalogue (products mirrored from central
/// under central's ids), its stock and its ledger with the usual functions. Write to it only
/// through the till: its ledger is the till's outbox. On success `*out` receives a new handle,
/// owned by the caller, to be released with `inv_close` (before or after `inv_till_close`);
/// on failure it is set to NULL. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_till_inventory(
    till: *const InvTill,
    out: *mut *mut InvHandle,
) -> InvStatus {
    guard(|| unsafe {
        let out = crate::boundary::out(out, "out", null_mut())?;
        let inventory = self::till(till)?.inventory().clone();
        *out = Box::into_raw(Box::new(InvHandle {
            inventory,
            clock: None,
        }));
        Ok(())
    })
}

/// Releases what a sale owns.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_sale_free(sale: *mut InvSale) {
    unsafe { crate::release(sale, InvSale::empty) }
}

/// Releases a sale list and every sale in it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_sale_list_free(list: *mut InvSaleList) {
    unsafe { crate::release(list, InvSaleList::empty) }
}

/// Releases an allotment list.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_allotment_list_free(list: *mut InvAllotmentList) {
    unsafe { crate::release(list, InvAllotmentList::empty) }
}

/// Releases a conflict list and every conflict in it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_conflict_list_free(list: *mut InvConflictList) {
    unsafe { crate::release(list, InvConflictList::empty) }
}

/// Releases what a sync report owns (its conflicts and allotment changes).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn inv_sync_report_free(report: *mut InvSyncReport) {
    unsafe { crate::release(report, InvSyncReport::empty) }
}
