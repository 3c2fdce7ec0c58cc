//! The structs that cross the boundary, and their translation to and from the engine's values.
//! Output structs own their strings and arrays; their `Drop` is what each `inv_*_free` runs.

use crate::boundary::{
    Failure, INV_UUID_LEN, Result, free_string, free_strings, free_vec, give_opt_string,
    give_string, give_vec, opt_str, req_str, req_uuid, uuid_buf,
};
use inventory::{
    ApiKey, ChangePage, DateTime, Error, Expect, Expiry, Location, Movement, MovementQuery,
    NewProduct, OpKind, Price, Product, ProductChanges, ProductQuery, ProductWithStock,
    Reservation, StockLevel, StockOp, StockSummary, TakeOver, Till, TillStatus, Utc, VerifyReport,
};
use std::ffi::c_char;
use std::ptr::null_mut;

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

// ---------------------------------------------------------------------------------------------
// Enumerations passed in as int32_t fields (an unknown value is refused, never trusted).

/// The kind of a stock operation (`InvStockOp.kind`).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvOpKind {
    /// Receive stock: on_hand rises.
    INV_OP_ADD = 0,
    /// Take available stock off the shelf: on_hand falls.
    INV_OP_REMOVE = 1,
    /// Hold available stock for `reference` (optionally until an expiry).
    INV_OP_RESERVE = 2,
    /// Release the reservation named by `reference` (all of it when `has_quantity` is false),
    /// or unreferenced reserved stock when `reference` is NULL.
    INV_OP_UNRESERVE = 3,
    /// Fulfil the reservation named by `reference` (NULL: the unreferenced one): on_hand and
    /// reserved both fall. Without a quantity the whole reservation is committed.
    INV_OP_COMMIT = 4,
    /// Move `quantity` from `location` to `to_location`.
    INV_OP_TRANSFER = 5,
    /// A physical count: set on_hand at `location` to `quantity`.
    INV_OP_COUNT = 6,
    /// Give the open reservation named by `reference` a new expiry, changing nothing else.
    INV_OP_RENEW = 7,
}

const OP_KINDS: [(InvOpKind, OpKind); 8] = [
    (InvOpKind::INV_OP_ADD, OpKind::Add),
    (InvOpKind::INV_OP_REMOVE, OpKind::Remove),
    (InvOpKind::INV_OP_RESERVE, OpKind::Reserve),
    (InvOpKind::INV_OP_UNRESERVE, OpKind::Unreserve),
    (InvOpKind::INV_OP_COMMIT, OpKind::Commit),
    (InvOpKind::INV_OP_TRANSFER, OpKind::Transfer),
    (InvOpKind::INV_OP_COUNT, OpKind::Count),
    (InvOpKind::INV_OP_RENEW, OpKind::Renew),
];

/// How `InvStockOp.expires_*` is read (`InvStockOp.expires_kind`). Only a reserve and a renewal
/// take an expiry.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvExpiresKind {
    INV_EXPIRES_NEVER = 0,
    /// `expires_value` seconds after the reserve is applied.
    INV_EXPIRES_IN_SECONDS = 1,
    /// At `expires_value`, in seconds since the Unix epoch.
    INV_EXPIRES_AT_UNIX = 2,
    /// At `expires_at`, an RFC 3339 timestamp such as "2030-01-01T00:15:00Z".
    INV_EXPIRES_AT_RFC3339 = 3,
}

/// A compare-and-set guard on the target level (`InvStockOp.expect_kind`): the operation fails
/// with `INV_ERR_CONFLICT` unless the level's current value equals `expected`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvExpectKind {
    INV_EXPECT_NOTHING = 0,
    /// `expected` is the current available quantity (field "expected_available").
    INV_EXPECT_AVAILABLE = 1,
    /// `expected` is the current on_hand quantity (field "expected_quantity").
    INV_EXPECT_QUANTITY = 2,
}

/// What an update does to the reorder point (`InvProductChanges.reorder_point_change`).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvReorderChange {
    INV_REORDER_KEEP = 0,
    INV_REORDER_SET = 1,
    INV_REORDER_CLEAR = 2,
}

/// How hard each commit is pushed to disk (`InvOptions.durability`).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvDurability {
    /// The WAL is synced at every commit: an acknowledged write survives power loss. The default.
    INV_DURABILITY_FULL = 0,
    /// Survives a crash of the program; the last commits may be lost on power loss.
    INV_DURABILITY_NORMAL = 1,
}

fn enum_value<T: Copy>(raw: i32, field: &str, all: &[T], as_int: fn(T) -> i32) -> Result<T> {
    all.iter()
        .copied()
        .find(|v| as_int(*v) == raw)
        .ok_or_else(|| Failure::invalid(format!("{field} {raw} is not a known value")))
}

pub(crate) fn durability(raw: i32) -> Result<inventory::Durability> {
    let d = enum_value(
        raw,
        "durability",
        &[
            InvDurability::INV_DURABILITY_FULL,
            InvDurability::INV_DURABILITY_NORMAL,
        ],
        |v| v as i32,
    )?;
    Ok(match d {
        InvDurability::INV_DURABILITY_FULL => inventory::Durability::Full,
        InvDurability::INV_DURABILITY_NORMAL => inventory::Durability::Normal,
    })
}

// ---------------------------------------------------------------------------------------------
// Inputs.

/// Options for `inv_open_with`. A zeroed struct means the defaults.
#[repr(C)]
#[derive(Debug)]
pub struct InvOptions {
    /// An `InvDurability`.
    pub durability: i32,
    /// Most pooled read connections; 0 means the engine's default.
    pub readers: u32,
    /// How long a write waits for another process holding the file before it fails with
    /// `INV_ERR_BUSY`; 0 means the engine's default.
    pub busy_timeout_ms: u32,
    /// When true the handle's clock stands still at `clock_start_us` (microseconds since the
    /// Unix epoch) and moves only through `inv_clock_advance`: for tests and simulations of
    /// reservation expiry. When false the wall clock is used.
    pub manual_clock: bool,
    pub clock_start_us: i64,
    /// Recorded as the actor of the movements of every write made through the handle (a
    /// till's or a cashier's name); NULL: none. Copied. `inv_with_actor` makes a handle with
    /// another actor on the same database. A write with an actor longer than the engine allows
    /// fails with `INV_ERR_VALIDATION_ERROR` (field "actor").
    pub actor: *const c_char,
}

/// The fields of a new product, for `inv_create_product`. Strings are borrowed for the call only.
#[repr(C)]
#[derive(Debug)]
pub struct InvNewProduct {
    /// Required.
    pub name: *const c_char,
    /// Required; unique among live products.
    pub sku: *const c_char,
    /// Required: a plain decimal string, at most `INV_MAX_PRICE_SCALE` decimal places, e.g.
    /// "1500.00".
    pub price: *const c_char,
    /// NULL: empty.
    pub description: *const c_char,
    /// The product's own location, where stock operations without a location act.
    /// NULL: "default".
    pub location: *const c_char,
    /// Stock on hand at `location` from the start (an IN movement); may be 0.
    pub initial_quantity: i64,
    /// When true, `reorder_point` is set: the product is low on stock when its available
    /// total is at or below it.
    pub has_reorder_point: bool,
    pub reorder_point: i64,
}

impl InvNewProduct {
    /// # Safety
    /// The string fields are NULL or valid C strings.
    pub(crate) unsafe fn to_engine(&self) -> Result<NewProduct> {
        unsafe {
            let price = Price::parse(&req_str(self.price, "price")?)?;
            let mut new = NewProduct::new(
                req_str(self.name, "name")?,
                req_str(self.sku, "sku")?,
                price,
            );
            new.description = opt_str(self.description, "description")?.unwrap_or_default();
            new.location = opt_str(self.location, "location")?;
            new.initial_quantity = self.initial_quantity;
            new.reorder_point = self.has_reorder_point.then_some(self.reorder_point);
            Ok(new)
        }
    }
}

/// A partial update, for `inv_update_product`. NULL strings leave their field unchanged; a
/// zeroed struct changes nothing.
#[repr(C)]
#[derive(Debug)]
pub struct InvProductChanges {
    pub name: *const c_char,
    pub description: *const c_char,
    /// A decimal string, as in `InvNewProduct.price`.
    pub price: *const c_char,
    /// An `InvReorderChange`; with `INV_REORDER_SET` the new value is `reorder_point`.
    pub reorder_point_change: i32,
    pub reorder_point: i64,
}

impl InvProductChanges {
    /// # Safety
    /// The string fields are NULL or valid C strings.
    pub(crate) unsafe fn to_engine(&self) -> Result<ProductChanges> {
        use InvReorderChange::*;
        let change = enum_value(
            self.reorder_point_change,
            "reorder_point_change",
            &[INV_REORDER_KEEP, INV_REORDER_SET, INV_REORDER_CLEAR],
            |v| v as i32,
        )?;
        unsafe {
            Ok(ProductChanges {
                name: opt_str(self.name, "name")?,
                description: opt_str(self.description, "description")?,
                price: opt_str(self.price, "price")?
                    .map(|p| Price::parse(&p))
                    .transpose()?,
                reorder_point: match change {
                    INV_REORDER_KEEP => None,
                    INV_REORDER_SET => Some(Some(self.reorder_point)),
                    INV_REORDER_CLEAR => Some(None),
                },
            })
        }
    }
}

/// One stock operation of any kind: the C twin of the engine's `StockOp`. Start from
/// `inv_stock_op_init()`, then set what the kind needs: each stock function lists the fields
/// its kind takes, and each member below the fields it carries, both as the engine's table
/// states them. A member the kind does not use must stay NULL/zero: the engine refuses it
/// (`INV_ERR_VALIDATION_ERROR` naming the field) rather than ignoring it. Strings are
/// borrowed for the call only.
#[repr(C)]
#[derive(Debug)]
pub struct InvStockOp {
    /// An `InvOpKind`.
    pub kind: i32,
    /// Required: the product's id as text.
    pub product_id: *const c_char,
    /// Where the operation acts; NULL: the product's own location. Carries: location (add,
    /// remove, reserve, unreserve, commit, count, renew); from_location (transfer).
    pub location: *const c_char,
    /// Carries: to_location (transfer).
    pub to_location: *const c_char,
    /// Whether `quantity` is given (`inv_stock_op_init` sets it). False: no quantity, which the
    /// kinds where it is optional read as the whole reservation.
    pub has_quantity: bool,
    /// With `has_quantity`. Carries: quantity (add, remove, reserve, unreserve, commit,
    /// transfer); counted (count).
    pub quantity: i64,
    /// Names the reservation of reserve, unreserve, commit and renew. Carries: reference (add,
    /// remove, reserve, unreserve, commit, transfer, count, renew).
    pub reference: *const c_char,
    /// The reservation a commit takes from, when its movements carry `reference` instead (a
    /// till's sale committed from its allotment); NULL: the one `reference` names. Carries:
    /// reservation (commit).
    pub reservation: *const c_char,
    /// Carries: notes (add, remove, reserve, unreserve, commit, transfer, count).
    pub notes: *const c_char,
    /// An `InvExpiresKind`, read with `expires_value` or `expires_at`. Carries:
    /// expires_in_seconds (reserve, renew); expires_at (reserve, renew).
    pub expires_kind: i32,
    /// Seconds (`INV_EXPIRES_IN_SECONDS`) or Unix seconds (`INV_EXPIRES_AT_UNIX`).
    pub expires_value: i64,
    /// RFC 3339 text (`INV_EXPIRES_AT_RFC3339`).
    pub expires_at: *const c_char,
    /// Release whatever the commit leaves of the reservation. Carries: release_remainder
    /// (commit).
    pub release_remainder: bool,
    /// An `InvExpectKind`, compared with `expected` at the target location's level. Carries:
    /// expected_available (add, remove, reserve, unreserve, commit, transfer, count);
    /// expected_quantity (add, remove, reserve, unreserve, commit, transfer, count).
    pub expect_kind: i32,
    pub expected: i64,
    /// The id of the document in another system that caused the receipt; NULL: none. Carries:
    /// external_id (add).
    pub external_id: *const c_char,
}

impl InvStockOp {
    pub(crate) fn new(kind: i32, quantity: i64) -> Self {
        InvStockOp {
            kind,
            product_id: std::ptr::null(),
            location: std::ptr::null(),
            to_location: std::ptr::null(),
            has_quantity: true,
            quantity,
            reference: std::ptr::null(),
            reservation: std::ptr::null(),
            notes: std::ptr::null(),
            expires_kind: InvExpiresKind::INV_EXPIRES_NEVER as i32,
            expires_value: 0,
            expires_at: std::ptr::null(),
            release_remainder: false,
            expect_kind: InvExpectKind::INV_EXPECT_NOTHING as i32,
            expected: 0,
            external_id: std::ptr::null(),
        }
    }

    /// # Safety
    /// The string fields are NULL or valid C strings.
    pub(crate) unsafe fn to_engine(&self) -> Result<StockOp> {
        let (_, kind) = enum_value(self.kind, "kind", &OP_KINDS, |(c, _)| c as i32)?;
        let expires = {
            use InvExpiresKind::*;
            let how = enum_value(
                self.expires_kind,
                "expires_kind",
                &[
                    INV_EXPIRES_NEVER,
                    INV_EXPIRES_IN_SECONDS,
                    INV_EXPIRES_AT_UNIX,
                    INV_EXPIRES_AT_RFC3339,
                ],
                |v| v as i32,
            )?;
            match how {
                INV_EXPIRES_NEVER => None,
                INV_EXPIRES_IN_SECONDS => Some(Expiry::In(self.expires_value)),
                INV_EXPIRES_AT_UNIX => Some(Expiry::At(
                    DateTime::from_timestamp(self.expires_value, 0).ok_or_else(|| {
                        Error::validation("expires_at", "expires_at is out of range")
                    })?,
                )),
                INV_EXPIRES_AT_RFC3339 => {
                    let text = unsafe { req_str(self.expires_at, "expires_at") }?;
                    let at = DateTime::parse_from_rfc3339(&text).map_err(|_| {
                        Error::validation(
                            "expires_at",
                            format!("expires_at {text:?} is not an RFC 3339 timestamp"),
                        )
                    })?;
                    Some(Expiry::At(at.with_timezone(&Utc)))
                }
            }
        };
        let expect = {
            use InvExpectKind::*;
            let how = enum_value(
                self.expect_kind,
                "expect_kind",
                &[
                    INV_EXPECT_NOTHING,
                    INV_EXPECT_AVAILABLE,
                    INV_EXPECT_QUANTITY,
                ],
                |v| v as i32,
            )?;
            match how {
                INV_EXPECT_NOTHING => None,
                INV_EXPECT_AVAILABLE => Some(Expect::Available(self.expected)),
                INV_EXPECT_QUANTITY => Some(Expect::Quantity(self.expected)),
            }
        };
        unsafe {
            Ok(StockOp {
                kind,
                product_id: req_uuid(self.product_id, "product_id")?,
                location: opt_str(self.location, "location")?,
                to_location: opt_str(self.to_location, "to_location")?,
                quantity: self.has_quantity.then_some(self.quantity),
                reference: opt_str(self.reference, "reference")?,
                reservation: opt_str(self.reservation, "reservation")?,
                notes: opt_str(self.notes, "notes")?,
                external_id: opt_str(self.external_id, "external_id")?,
                expires,
                release_remainder: self.release_remainder,
                expect,
            })
        }
    }
}

/// Filters and page for `inv_list_products`. A zeroed struct (or NULL) means the first page
/// of every product.
#[repr(C)]
#[derive(Debug)]
pub struct InvProductQuery {
    /// 1 to `INV_MAX_PAGE`; 0 means `INV_DEFAULT_PAGE`.
    pub limit: i64,
    pub offset: i64,
    /// Only products whose available total is at or below their reorder point.
    pub low_stock: bool,
    /// Only products whose SKU (exactly) or name (ignoring ASCII case) starts with this. NULL: all.
    pub q: *const c_char,
}

impl InvProductQuery {
    /// # Safety
    /// `q` is NULL or a valid C string.
    pub(crate) unsafe fn to_engine(&self) -> Result<ProductQuery> {
        Ok(ProductQuery {
            limit: (self.limit != 0).then_some(self.limit),
            offset: (self.offset != 0).then_some(self.offset),
            low_stock: self.low_stock,
            q: unsafe { opt_str(self.q, "q") }?,
        })
    }
}

/// Page and filters for `inv_list_movements`. A zeroed struct (or NULL) means the newest
/// `INV_DEFAULT_PAGE`.
#[repr(C)]
#[derive(Debug)]
pub struct InvMovementQuery {
    /// 1 to `INV_MAX_PAGE`; 0 means `INV_DEFAULT_PAGE`.
    pub limit: i64,
    pub offset: i64,
    /// Only movements with a sequence number above this; 0: no bound.
    pub after: i64,
    /// Only movements with a sequence number below this (pass the last `seq` of a page to get
    /// the next); 0: no bound.
    pub before: i64,
    /// Only movements at this location. NULL: all.
    pub location: *const c_char,
}

impl InvMovementQuery {
    /// # Safety
    /// `location` is NULL or a valid C string.
    pub(crate) unsafe fn to_engine(&self) -> Result<MovementQuery> {
        let set = |v: i64| (v != 0).then_some(v);
        Ok(MovementQuery {
            limit: set(self.limit),
            offset: set(self.offset),
            after: set(self.after),
            before: set(self.before),
            location: unsafe { opt_str(self.location, "location") }?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Outputs. Each is filled by the library and released by its `inv_*_free`; NULL string
// pointers mean "none", and (NULL, 0) arrays mean "empty".

/// The stock of one product at one location. Release with `inv_level_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvLevel {
    /// The level's own id.
    pub id: [c_char; INV_UUID_LEN],
    pub product_id: [c_char; INV_UUID_LEN],
    /// Owned by the struct.
    pub location: *mut c_char,
    pub on_hand: i64,
    pub reserved: i64,
    /// on_hand - reserved.
    pub available: i64,
    /// Microseconds since the Unix epoch.
    pub created_at_us: i64,
    pub updated_at_us: i64,
}

impl InvLevel {
    pub(crate) fn empty() -> Self {
        InvLevel {
            id: [0; INV_UUID_LEN],
            product_id: [0; INV_UUID_LEN],
            location: null_mut(),
            on_hand: 0,
            reserved: 0,
            available: 0,
            created_at_us: 0,
            updated_at_us: 0,
        }
    }
}

impl From<StockLevel> for InvLevel {
    fn from(l: StockLevel) -> Self {
        InvLevel {
            id: uuid_buf(l.id),
            product_id: uuid_buf(l.product_id),
            location: give_string(&l.location),
            on_hand: l.on_hand,
            reserved: l.reserved,
            available: l.available,
            created_at_us: micros(l.created_at),
            updated_at_us: micros(l.updated_at),
        }
    }
}

impl Drop for InvLevel {
    fn drop(&mut self) {
        free_string(&mut self.location);
    }
}

/// An array of levels. Release with `inv_level_list_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvLevelList {
    pub items: *mut InvLevel,
    pub len: usize,
}

impl InvLevelList {
    pub(crate) fn empty() -> Self {
        InvLevelList {
            items: null_mut(),
            len: 0,
        }
    }
}

impl From<Vec<StockLevel>> for InvLevelList {
    fn from(levels: Vec<StockLevel>) -> Self {
        let (items, len) = give_vec(levels.into_iter().map(InvLevel::from).collect());
        InvLevelList { items, len }
    }
}

impl Drop for InvLevelList {
    fn drop(&mut self) {
        free_vec(&mut self.items, &mut self.len);
    }
}

/// The result of a batch: one level list per operation, in order. Release with
/// `inv_batch_result_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvBatchResult {
    pub items: *mut InvLevelList,
    pub len: usize,
}

impl InvBatchResult {
    pub(crate) fn empty() -> Self {
        InvBatchResult {
            items: null_mut(),
            len: 0,
        }
    }
}

impl From<Vec<Vec<StockLevel>>> for InvBatchResult {
    fn from(levels: Vec<Vec<StockLevel>>) -> Self {
        let (items, len) = give_vec(levels.into_iter().map(InvLevelList::from).collect());
        InvBatchResult { items, len }
    }
}

impl Drop for InvBatchResult {
    fn drop(&mut self) {
        free_vec(&mut self.items, &mut self.len);
    }
}

/// A catalogue entry. Release with `inv_product_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvProduct {
    pub id: [c_char; INV_UUID_LEN],
    /// Owned by the struct, like every string below.
    pub name: *mut c_char,
    pub description: *mut c_char,
    pub sku: *mut c_char,
    /// Exact decimal text, with the scale it was given ("1500.00").
    pub price: *mut c_char,
    /// The product's own location.
    pub location: *mut c_char,
    pub has_reorder_point: bool,
    pub reorder_point: i64,
    /// Bumped by every update: pass it as `expected_version` for a compare-and-set.
    pub version: i64,
    pub created_at_us: i64,
    pub updated_at_us: i64,
}

impl InvProduct {
    pub(crate) fn empty() -> Self {
        InvProduct {
            id: [0; INV_UUID_LEN],
            name: null_mut(),
            description: null_mut(),
            sku: null_mut(),
            price: null_mut(),
            location: null_mut(),
            has_reorder_point: false,
            reorder_point: 0,
            version: 0,
            created_at_us: 0,
            updated_at_us: 0,
        }
    }
}

impl From<Product> for InvProduct {
    fn from(p: Product) -> Self {
        InvProduct {
            id: uuid_buf(p.id),
            name: give_string(&p.name),
            description: give_string(&p.description),
            sku: give_string(&p.sku),
            price: give_string(&p.price.to_string()),
            location: give_string(&p.location),
            has_reorder_point: p.reorder_point.is_some(),
            reorder_point: p.reorder_point.unwrap_or(0),
            version: p.version,
            created_at_us: micros(p.created_at),
            updated_at_us: micros(p.updated_at),
        }
    }
}

impl Drop for InvProduct {
    fn drop(&mut self) {
        for s in [
            &mut self.name,
            &mut self.description,
            &mut self.sku,
            &mut self.price,
            &mut self.location,
        ] {
            free_string(s);
        }
    }
}

/// An array of products. Release with `inv_product_list_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvProductList {
    pub items: *mut InvProduct,
    pub len: usize,
}

impl InvProductList {
    pub(crate) fn empty() -> Self {
        InvProductList {
            items: null_mut(),
            len: 0,
        }
    }
}

impl From<Vec<Product>> for InvProductList {
    fn from(products: Vec<Product>) -> Self {
        let (items, len) = give_vec(products.into_iter().map(InvProduct::from).collect());
        InvProductList { items, len }
    }
}

impl Drop for InvProductList {
    fn drop(&mut self) {
        free_vec(&mut self.items, &mut self.len);
    }
}

/// A product's stock over all its locations: `totals`, a level whose quantities are the sums
/// over every location (its `id`, `location` and `created_at` are those of the product's own
/// location, its `updated_at` the latest of any level), plus one level per location, ordered by
/// name. Release with `inv_stock_summary_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvStockSummary {
    pub totals: InvLevel,
    pub locations: InvLevelList,
}

impl InvStockSummary {
    pub(crate) fn empty() -> Self {
        InvStockSummary {
            totals: InvLevel::empty(),
            locations: InvLevelList::empty(),
        }
    }
}

impl From<StockSummary> for InvStockSummary {
    fn from(s: StockSummary) -> Self {
        InvStockSummary {
            totals: s.totals.into(),
            locations: s.locations.into(),
        }
    }
}

/// A product with its stock, as created or read. Release with `inv_product_with_stock_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvProductWithStock {
    pub product: InvProduct,
    pub inventory: InvStockSummary,
}

impl InvProductWithStock {
    pub(crate) fn empty() -> Self {
        InvProductWithStock {
            product: InvProduct::empty(),
            inventory: InvStockSummary::empty(),
        }
    }
}

impl From<ProductWithStock> for InvProductWithStock {
    fn from(p: ProductWithStock) -> Self {
        InvProductWithStock {
            product: p.product.into(),
            inventory: p.inventory.into(),
        }
    }
}

/// One ledger entry.
#[repr(C)]
#[derive(Debug)]
pub struct InvMovement {
    /// Global and strictly increasing: the change-feed cursor.
    pub seq: i64,
    pub id: [c_char; INV_UUID_LEN],
    /// The stock level's id.
    pub inventory_id: [c_char; INV_UUID_LEN],
    pub product_id: [c_char; INV_UUID_LEN],
    /// Owned by the struct, like `reference` and `notes`.
    pub location: *mut c_char,
    /// IN, OUT, RESERVE, UNRESERVE, COMMIT, EXPIRE, TRANSFER_OUT, TRANSFER_IN or ADJUST.
    pub kind: [c_char; 16],
    /// Units moved; for ADJUST the signed change to on_hand.
    pub quantity: i64,
    pub on_hand_after: i64,
    pub reserved_after: i64,
    /// NULL when absent.
    pub reference: *mut c_char,
    /// NULL when absent.
    pub notes: *mut c_char,
    /// Shared by the two halves of a transfer; all NUL when `has_transfer_id` is false.
    pub has_transfer_id: bool,
    pub transfer_id: [c_char; INV_UUID_LEN],
    /// Who made it: the API key's name over HTTP, or the actor of the handle that wrote it;
    /// NULL when unknown. Owned by the struct.
    pub actor: *mut c_char,
    pub created_at_us: i64,
    /// A receipt's id in the system that caused it; NULL when none was given. Owned by the
    /// struct.
    pub external_id: *mut c_char,
}

impl From<Movement> for InvMovement {
    fn from(m: Movement) -> Self {
        let mut kind = [0 as c_char; 16];
        for (dst, src) in kind.iter_mut().zip(m.kind.as_str().bytes()) {
            *dst = src as c_char;
        }
        InvMovement {
            seq: m.seq,
            id: uuid_buf(m.id),
            inventory_id: uuid_buf(m.inventory_id),
            product_id: uuid_buf(m.product_id),
            location: give_string(&m.location),
            kind,
            quantity: m.quantity,
            on_hand_after: m.on_hand_after,
            reserved_after: m.reserved_after,
            reference: give_opt_string(m.reference.as_deref()),
            notes: give_opt_string(m.notes.as_deref()),
            has_transfer_id: m.transfer_id.is_some(),
            transfer_id: m.transfer_id.map_or([0; INV_UUID_LEN], uuid_buf),
            actor: give_opt_string(m.actor.as_deref()),
            created_at_us: micros(m.created_at),
            external_id: give_opt_string(m.external_id.as_deref()),
        }
    }
}

impl Drop for InvMovement {
    fn drop(&mut self) {
        free_string(&mut self.location);
        free_string(&mut self.reference);
        free_string(&mut self.notes);
        free_string(&mut self.actor);
        free_string(&mut self.external_id);
    }
}

/// An array of movements. Release with `inv_movement_list_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvMovementList {
    pub items: *mut InvMovement,
    pub len: usize,
}

impl InvMovementList {
    pub(crate) fn empty() -> Self {
        InvMovementList {
            items: null_mut(),
            len: 0,
        }
    }
}

impl From<Vec<Movement>> for InvMovementList {
    fn from(movements: Vec<Movement>) -> Self {
        let (items, len) = give_vec(movements.into_iter().map(InvMovement::from).collect());
        InvMovementList { items, len }
    }
}

impl Drop for InvMovementList {
    fn drop(&mut self) {
        free_vec(&mut self.items, &mut self.len);
    }
}

/// A page of the change feed: movements of every product, oldest first. Release with
/// `inv_change_page_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvChangePage {
    pub movements: InvMovementList,
    /// Pass as `after` to get the next page; equal to the request's `after` when nothing was new.
    pub next_after: i64,
}

impl InvChangePage {
    pub(crate) fn empty() -> Self {
        InvChangePage {
            movements: InvMovementList::empty(),
            next_after: 0,
        }
    }
}

impl From<ChangePage> for InvChangePage {
    fn from(p: ChangePage) -> Self {
        InvChangePage {
            movements: p.movements.into(),
            next_after: p.next_after,
        }
    }
}

/// A named place that holds stock, with its totals over live products. Release with
/// `inv_location_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvLocation {
    /// Owned by the struct.
    pub name: *mut c_char,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    /// Live products with a stock level here.
    pub products: i64,
    pub created_at_us: i64,
}

impl InvLocation {
    pub(crate) fn empty() -> Self {
        InvLocation {
            name: null_mut(),
            on_hand: 0,
            reserved: 0,
            available: 0,
            products: 0,
            created_at_us: 0,
        }
    }
}

impl From<Location> for InvLocation {
    fn from(l: Location) -> Self {
        InvLocation {
            name: give_string(&l.name),
            on_hand: l.on_hand,
            reserved: l.reserved,
            available: l.available,
            products: l.products,
            created_at_us: micros(l.created_at),
        }
    }
}

impl Drop for InvLocation {
    fn drop(&mut self) {
        free_string(&mut self.name);
    }
}

/// An array of locations. Release with `inv_location_list_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvLocationList {
    pub items: *mut InvLocation,
    pub len: usize,
}

impl InvLocationList {
    pub(crate) fn empty() -> Self {
        InvLocationList {
            items: null_mut(),
            len: 0,
        }
    }
}

impl From<Vec<Location>> for InvLocationList {
    fn from(locations: Vec<Location>) -> Self {
        let (items, len) = give_vec(locations.into_iter().map(InvLocation::from).collect());
        InvLocationList { items, len }
    }
}

impl Drop for InvLocationList {
    fn drop(&mut self) {
        free_vec(&mut self.items, &mut self.len);
    }
}

/// An open reservation: `quantity` held for `reference` at one product and location.
#[repr(C)]
#[derive(Debug)]
pub struct InvReservation {
    pub id: [c_char; INV_UUID_LEN],
    pub product_id: [c_char; INV_UUID_LEN],
    /// Owned by the struct, like `reference`.
    pub location: *mut c_char,
    /// "" for stock reserved without a reference.
    pub reference: *mut c_char,
    pub quantity: i64,
    pub has_expiry: bool,
    /// Microseconds since the Unix epoch; 0 when `has_expiry` is false.
    pub expires_at_us: i64,
    pub created_at_us: i64,
    pub updated_at_us: i64,
    /// The name of the API key that opened it, owned by the struct; NULL when it was opened
    /// without a key.
    pub owner: *mut c_char,
}

impl From<Reservation> for InvReservation {
    fn from(r: Reservation) -> Self {
        InvReservation {
            id: uuid_buf(r.id),
            product_id: uuid_buf(r.product_id),
            location: give_string(&r.location),
            reference: give_string(&r.reference),
            quantity: r.quantity,
            has_expiry: r.expires_at.is_some(),
            expires_at_us: r.expires_at.map_or(0, micros),
            created_at_us: micros(r.created_at),
            updated_at_us: micros(r.updated_at),
            owner: give_opt_string(r.owner.as_deref()),
        }
    }
}

impl Drop for InvReservation {
    fn drop(&mut self) {
        free_string(&mut self.location);
        free_string(&mut self.reference);
        free_string(&mut self.owner);
    }
}

/// An array of reservations. Release with `inv_reservation_list_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvReservationList {
    pub items: *mut InvReservation,
    pub len: usize,
}

impl InvReservationList {
    pub(crate) fn empty() -> Self {
        InvReservationList {
            items: null_mut(),
            len: 0,
        }
    }
}

impl From<Vec<Reservation>> for InvReservationList {
    fn from(reservations: Vec<Reservation>) -> Self {
        let (items, len) = give_vec(reservations.into_iter().map(InvReservation::from).collect());
        InvReservationList { items, len }
    }
}

impl Drop for InvReservationList {
    fn drop(&mut self) {
        free_vec(&mut self.items, &mut self.len);
    }
}

/// A till registered at this database (docs/TILLS.md). Every string is owned by the struct.
#[repr(C)]
#[derive(Debug)]
pub struct InvTillRegistration {
    /// The till's id: its allotments are held under `till:<id>`, its sales are `sale:<id>:…`.
    pub id: *mut c_char,
    /// The name of the key it registered with.
    pub key: *mut c_char,
    /// The instance (the till's own files) that registered it.
    pub instance_id: *mut c_char,
    pub location: *mut c_char,
    /// Its first sync, in microseconds since the Unix epoch.
    pub registered_at_us: i64,
    /// Its latest sync.
    pub last_sync_at_us: i64,
}

impl InvTillRegistration {
    fn empty() -> Self {
        InvTillRegistration {
            id: null_mut(),
            key: null_mut(),
            instance_id: null_mut(),
            location: null_mut(),
            registered_at_us: 0,
            last_sync_at_us: 0,
        }
    }
}

impl From<Till> for InvTillRegistration {
    fn from(t: Till) -> Self {
        InvTillRegistration {
            id: give_string(&t.id),
            key: give_string(&t.key),
            instance_id: give_string(&t.instance_id),
            location: give_string(&t.location),
            registered_at_us: micros(t.registered_at),
            last_sync_at_us: micros(t.last_sync_at),
        }
    }
}

impl Drop for InvTillRegistration {
    fn drop(&mut self) {
        free_string(&mut self.id);
        free_string(&mut self.key);
        free_string(&mut self.instance_id);
        free_string(&mut self.location);
    }
}

/// A registered till with its allotments (its `till:<id>` reservations) and the seconds since
/// it last synced, on this database's clock.
#[repr(C)]
#[derive(Debug)]
pub struct InvTillStatus {
    pub till: InvTillRegistration,
    pub allotments: InvReservationList,
    pub lag_seconds: i64,
}

impl From<TillStatus> for InvTillStatus {
    fn from(t: TillStatus) -> Self {
        InvTillStatus {
            till: t.till.into(),
            allotments: t.allotments.into(),
            lag_seconds: t.lag_seconds,
        }
    }
}

/// The tills `inv_tills` lists. Release with `inv_till_status_list_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvTillStatusList {
    pub items: *mut InvTillStatus,
    pub len: usize,
}

impl InvTillStatusList {
    pub(crate) fn empty() -> Self {
        InvTillStatusList {
            items: null_mut(),
            len: 0,
        }
    }
}

impl From<Vec<TillStatus>> for InvTillStatusList {
    fn from(tills: Vec<TillStatus>) -> Self {
        let (items, len) = give_vec(tills.into_iter().map(InvTillStatus::from).collect());
        InvTillStatusList { items, len }
    }
}

impl Drop for InvTillStatusList {
    fn drop(&mut self) {
        free_vec(&mut self.items, &mut self.len);
    }
}

/// What `inv_take_over_till` did: the registration it ended, and the units of its allotments
/// released or kept for the till's next instance. Release with `inv_take_over_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvTakeOver {
    pub till: InvTillRegistration,
    /// Units released (UNRESERVE movements).
    pub released: i64,
    /// Units kept for the next instance (an UNRESERVE and a RESERVE each, in the ledger).
    pub transferred: i64,
}

impl InvTakeOver {
    pub(crate) fn empty() -> Self {
        InvTakeOver {
            till: InvTillRegistration::empty(),
            released: 0,
            transferred: 0,
        }
    }
}

impl From<TakeOver> for InvTakeOver {
    fn from(t: TakeOver) -> Self {
        InvTakeOver {
            till: t.till.into(),
            released: t.released,
            transferred: t.transferred,
        }
    }
}

/// A live API key, as `inv_authenticate` finds it: never its secret. Release with
/// `inv_api_key_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvApiKey {
    /// The key's name: the HTTP server records it as the actor of the movements the key makes.
    /// Owned by the struct.
    pub name: *mut c_char,
    /// "read", "write" or "admin".
    pub scope: [c_char; 8],
    /// The only locations the key may move stock at, owned by the struct; NULL (and 0): any.
    pub locations: *mut *mut c_char,
    pub locations_len: usize,
    pub created_at_us: i64,
}

impl InvApiKey {
    pub(crate) fn empty() -> Self {
        InvApiKey {
            name: null_mut(),
            scope: [0; 8],
            locations: null_mut(),
            locations_len: 0,
            created_at_us: 0,
        }
    }
}

impl From<ApiKey> for InvApiKey {
    fn from(k: ApiKey) -> Self {
        let mut scope = [0 as c_char; 8];
        for (dst, src) in scope.iter_mut().zip(k.scope.as_str().bytes()) {
            *dst = src as c_char;
        }
        let (locations, locations_len) = match &k.locations {
            Some(list) => give_vec(list.iter().map(|l| give_string(l)).collect()),
            None => (null_mut(), 0),
        };
        InvApiKey {
            name: give_string(&k.name),
            scope,
            locations,
            locations_len,
            created_at_us: micros(k.created_at),
        }
    }
}

impl Drop for InvApiKey {
    fn drop(&mut self) {
        free_string(&mut self.name);
        free_strings(&mut self.locations, &mut self.locations_len);
    }
}

/// The result of `inv_verify`. Release with `inv_verify_report_free`.
#[repr(C)]
#[derive(Debug)]
pub struct InvVerifyReport {
    /// True when every balance matches the ledger and the file is intact.
    pub ok: bool,
    /// One description per problem found; owned by the struct.
    pub problems: *mut *mut c_char,
    pub problems_len: usize,
}

impl InvVerifyReport {
    pub(crate) fn empty() -> Self {
        InvVerifyReport {
            ok: false,
            problems: null_mut(),
            problems_len: 0,
        }
    }
}

impl From<VerifyReport> for InvVerifyReport {
    fn from(r: VerifyReport) -> Self {
        let (problems, problems_len) =
            give_vec(r.problems.iter().map(|p| give_string(p)).collect());
        InvVerifyReport {
            ok: r.ok,
            problems,
            problems_len,
        }
    }
}

impl Drop for InvVerifyReport {
    fn drop(&mut self) {
        free_strings(&mut self.problems, &mut self.problems_len);
    }
}
