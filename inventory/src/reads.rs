//! The rules of reads, for every store: which queries are valid, their defaults and limits, and
//! the values derived from what a store finds (a product's totals over its levels).

use crate::error::{Error, Result};
use crate::model::{
    CataloguePage, ChangePage, Movement, Product, ProductWithStock, StockLevel, StockSummary,
};
use crate::store::rows::{HistoryFilter, ProductFilter, Stamp};
use crate::store::tx::ReadTx;
use crate::validate::{self, MAX_NAME};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Page size of products or movements when none is given.
pub const DEFAULT_PAGE: i64 = 10;
/// Largest page of products or movements.
pub const MAX_PAGE: i64 = 100;
/// Page size of the change feed when none is given.
pub const DEFAULT_CHANGES_PAGE: i64 = 100;
/// Largest page of the change feed.
pub const MAX_CHANGES_PAGE: i64 = 1000;

/// Filters and page of `list_products`. Products come in creation order (their v7 ids).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductQuery {
    /// Page size: 1 to [`MAX_PAGE`], default [`DEFAULT_PAGE`].
    pub limit: Option<i64>,
    /// Products to skip.
    pub offset: Option<i64>,
    /// Only products whose available total is at or below their reorder point.
    pub low_stock: bool,
    /// Only products whose SKU starts with this (exactly) or whose name does (ignoring ASCII case).
    pub q: Option<String>,
}

/// A page of a product's history, newest first: by limit/offset, or by sequence cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MovementQuery {
    /// Page size: 1 to [`MAX_PAGE`], default [`DEFAULT_PAGE`].
    pub limit: Option<i64>,
    /// Movements to skip.
    pub offset: Option<i64>,
    /// Only movements with a sequence number above this.
    pub after: Option<i64>,
    /// Only movements with a sequence number below this: pass the last `seq` of a page to get the next.
    pub before: Option<i64>,
    /// Only movements at this location.
    pub location: Option<String>,
}

pub(crate) fn live_product(tx: &mut dyn ReadTx, id: Uuid) -> Result<Product> {
    tx.product(id)?
        .ok_or_else(|| Error::not_found(format!("product {id}")))
}

/// Low stock: a reorder point is set and the available total is at or below it (the stores'
/// `low_stock` filter states the same in SQL, [`crate::store::sql::LOW_STOCK`], to use their
/// partial index).
pub(crate) fn is_low_stock(reorder_point: Option<i64>, available: i64) -> bool {
    reorder_point.is_some_and(|point| available <= point)
}

fn summary_of(tx: &mut dyn ReadTx, product: &Product) -> Result<StockSummary> {
    let locations = tx.levels(product.id)?;
    let home = locations
        .iter()
        .find(|l| l.location == product.location)
        .ok_or_else(|| {
            Error::storage(format!(
                "product {} has no level at its own location",
                product.id
            ))
        })?;
    let on_hand: i64 = locations.iter().map(|l| l.on_hand).sum();
    let reserved: i64 = locations.iter().map(|l| l.reserved).sum();
    let low_stock = is_low_stock(product.reorder_point, on_hand - reserved);
    Ok(StockSummary {
        low_stock,
        totals: StockLevel {
            id: home.id,
            product_id: product.id,
            location: product.location.clone(),
            on_hand,
            reserved,
            available: on_hand - reserved,
            created_at: home.created_at,
            updated_at: locations
                .iter()
                .map(|l| l.updated_at)
                .max()
                .unwrap_or(home.updated_at),
        },
        locations,
    })
}

pub(crate) fn product_with_stock(tx: &mut dyn ReadTx, id: Uuid) -> Result<ProductWithStock> {
    let product = live_product(tx, id)?;
    let inventory = summary_of(tx, &product)?;
    Ok(ProductWithStock { product, inventory })
}

pub(crate) fn stock_summary(tx: &mut dyn ReadTx, id: Uuid) -> Result<StockSummary> {
    let product = live_product(tx, id)?;
    summary_of(tx, &product)
}

pub(crate) fn stock_level(tx: &mut dyn ReadTx, id: Uuid, location: &str) -> Result<StockLevel> {
    let product = live_product(tx, id)?;
    tx.levels(product.id)?
        .into_iter()
        .find(|l| l.location == location)
        .ok_or_else(|| Error::not_found(format!("stock of product {id} at location {location:?}")))
}

/// A keyset page of the whole catalogue with stock: the products after `after`, each with its
/// levels, read in one transaction. Unlike an offset page it costs the same however deep it is.
pub(crate) fn products_after(
    tx: &mut dyn ReadTx,
    after: Option<Uuid>,
    limit: Option<i64>,
) -> Result<Vec<ProductWithStock>> {
    let limit = validate::page_limit(limit, DEFAULT_PAGE, MAX_PAGE)?;
    let products = tx.products_after(after, limit)?;
    products
        .into_iter()
        .map(|product| {
            let inventory = summary_of(tx, &product)?;
            Ok(ProductWithStock { product, inventory })
        })
        .collect()
}

pub(crate) fn list_products(tx: &mut dyn ReadTx, query: &ProductQuery) -> Result<Vec<Product>> {
    let q = query
        .q
        .as_deref()
        .map(|q| validate::required("q", q, MAX_NAME))
        .transpose()?;
    tx.list_products(&ProductFilter {
        q: q.as_deref(),
        low_stock: query.low_stock,
        limit: validate::page_limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?,
        offset: validate::page_offset(query.offset)?,
    })
}

pub(crate) fn movements(
    tx: &mut dyn ReadTx,
    id: Uuid,
    query: &MovementQuery,
) -> Result<Vec<Movement>> {
    let filter = HistoryFilter {
        after: query.after.unwrap_or(0),
        before: query.before.unwrap_or(i64::MAX),
        location: query.location.as_deref(),
        limit: validate::page_limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?,
        offset: validate::page_offset(query.offset)?,
    };
    live_product(tx, id)?;
    tx.movements(id, &filter)
}

pub(crate) fn changes(tx: &mut dyn ReadTx, after: i64, limit: Option<i64>) -> Result<ChangePage> {
    let limit = validate::page_limit(limit, DEFAULT_CHANGES_PAGE, MAX_CHANGES_PAGE)?;
    if after < 0 {
        return Err(Error::validation("after", "after must not be negative"));
    }
    let movements = tx.changes(after, limit)?;
    let next_after = movements.last().map_or(after, |m| m.seq);
    Ok(ChangePage {
        movements,
        next_after,
    })
}

/// The catalogue feed: products changed after revision `after`, pages as the change feed's.
pub(crate) fn catalogue(
    tx: &mut dyn ReadTx,
    after: i64,
    limit: Option<i64>,
) -> Result<CataloguePage> {
    let limit = validate::page_limit(limit, DEFAULT_CHANGES_PAGE, MAX_CHANGES_PAGE)?;
    if after < 0 {
        return Err(Error::validation("after", "after must not be negative"));
    }
    let products = tx.catalogue(after, limit)?;
    let next_after = products.last().map_or(after, |p| p.revision);
    Ok(CataloguePage {
        products,
        next_after,
    })
}

pub(crate) fn reservations_by_reference(
    tx: &mut dyn ReadTx,
    reference: &str,
) -> Result<Vec<crate::model::Reservation>> {
    if reference.is_empty() {
        return Err(Error::validation(
            "reference",
            "reference must not be empty",
        ));
    }
    tx.reservations_by_reference(reference)
}

/// Open reservations of live products that lapse within `within_seconds` of `now` (1 second to
/// the longest expiry a reservation may have), soonest first: what needs attention before it
/// is released.
pub(crate) fn reservations_expiring(
    tx: &mut dyn ReadTx,
    now: DateTime<Utc>,
    within_seconds: i64,
    limit: Option<i64>,
) -> Result<Vec<crate::model::Reservation>> {
    if !(1..=validate::MAX_EXPIRY_SECONDS).contains(&within_seconds) {
        return Err(Error::validation(
            "within",
            format!(
                "within must be between 1 and {} seconds",
                validate::MAX_EXPIRY_SECONDS
            ),
        ));
    }
    let limit = validate::page_limit(limit, DEFAULT_PAGE, MAX_PAGE)?;
    let before = Stamp::new(now + chrono::Duration::seconds(within_seconds));
    tx.reservations_expiring(&before, limit)
}

pub(crate) fn reservations_of(
    tx: &mut dyn ReadTx,
    id: Uuid,
) -> Result<Vec<crate::model::Reservation>> {
    live_product(tx, id)?;
    tx.reservations_of(id)
}
