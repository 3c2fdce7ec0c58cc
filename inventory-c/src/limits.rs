//! The engine's defaults and limits, as C constants. cbindgen can only emit a literal, so each
//! value is written here once more and the build fails if it ever differs from the engine's.

/// Products or movements per page when a query asks for 0.
pub const INV_DEFAULT_PAGE: i64 = 10;
/// Largest page of products or movements.
pub const INV_MAX_PAGE: i64 = 100;
/// Movements per page of the change feed when `inv_changes` asks for 0.
pub const INV_DEFAULT_CHANGES_PAGE: i64 = 100;
/// Largest page of the change feed.
pub const INV_MAX_CHANGES_PAGE: i64 = 1000;
/// Most operations in one `inv_batch`.
pub const INV_MAX_BATCH: usize = 1000;
/// How long an idempotency key is remembered, in hours.
pub const INV_IDEMPOTENCY_TTL_HOURS: i64 = 24;
/// Most decimal places a price may carry.
pub const INV_MAX_PRICE_SCALE: u32 = 4;
/// A till's lease when `InvTillOptions.lease_seconds` is 0: 7 days.
pub const INV_TILL_DEFAULT_LEASE_SECONDS: u64 = 604_800;

const _: () = {
    assert!(INV_TILL_DEFAULT_LEASE_SECONDS == inventory_till::DEFAULT_LEASE.as_secs());
    assert!(INV_DEFAULT_PAGE == inventory::DEFAULT_PAGE);
    assert!(INV_MAX_PAGE == inventory::MAX_PAGE);
    assert!(INV_DEFAULT_CHANGES_PAGE == inventory::DEFAULT_CHANGES_PAGE);
    assert!(INV_MAX_CHANGES_PAGE == inventory::MAX_CHANGES_PAGE);
    assert!(INV_MAX_BATCH == inventory::MAX_BATCH);
    assert!(INV_IDEMPOTENCY_TTL_HOURS == inventory::IDEMPOTENCY_TTL_HOURS);
    assert!(INV_MAX_PRICE_SCALE == inventory::MAX_PRICE_SCALE);
};
