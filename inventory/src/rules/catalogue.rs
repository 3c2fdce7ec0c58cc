//! The rules of the catalogue: products and locations. The catalogue is shared by every
//! location, so only a call without a location limit may change it: a till's key, limited to
//! its shop, moves stock there but cannot rename, reprice or archive a product (archiving
//! would release other shops' reservations) nor add a location.

use super::context::{Ctx, Memo, Stocked};
use crate::DEFAULT_LOCATION;
use crate::command::{NewProduct, ProductChanges};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Location, MovementKind, Product, ProductWithStock};
use crate::reads;
use crate::store::rows::{NewProductRow, ProductUpdate};
use crate::validate::{self, MAX_DESCRIPTION, MAX_LOCATION, MAX_NAME, MAX_SKU};
use uuid::Uuid;

fn reorder_point(value: Option<i64>) -> Result<Option<i64>> {
    value
        .map(|v| validate::non_negative_quantity("reorder_point", v))
        .transpose()
}

/// A new product, with an IN movement for a positive initial quantity and a level at its own
/// location either way.
pub(crate) fn create_product(ctx: &mut Ctx, new: &NewProduct) -> Result<ProductWithStock> {
    let id = add_product(ctx, new)?;
    reads::product_with_stock(ctx.tx, id)
}

/// Creates the product; returns its id.
pub(crate) fn add_product(ctx: &mut Ctx, new: &NewProduct) -> Result<Uuid> {
    ctx.may_change_catalogue("create products")?;
    let name = validate::required("name", &new.name, MAX_NAME)?;
    let sku = validate::required("sku", &new.sku, MAX_SKU)?;
    validate::limit("description", &new.description, MAX_DESCRIPTION)?;
    let location = validate::required(
        "location",
        new.location.as_deref().unwrap_or(DEFAULT_LOCATION),
        MAX_LOCATION,
    )?;
    let initial = validate::non_negative_quantity("initial_quantity", new.initial_quantity)?;
    let reorder_point = reorder_point(new.reorder_point)?;
    if ctx.tx.sku_taken(&sku)? {
        return Err(Error::new(
            ErrorCode::DuplicateSku,
            format!("a product with sku {sku:?} already exists"),
        )
        .on_field("sku"));
    }
    let id = match new.id {
        None => Uuid::now_v7(),
        Some(id) if id.is_nil() => {
            return Err(Error::validation("id", "id must not be the nil UUID"));
        }
        Some(id) if ctx.tx.product_ever_existed(id)? => {
            return Err(Error::conflict(format!("a product with id {id} exists")).on_field("id"));
        }
        Some(id) => id,
    };
    let location_id = ctx.location(&location, true)?;
    let ordinal = ctx.tx.insert_product(&NewProductRow {
        id,
        name: &name,
        description: &new.description,
        sku: &sku,
        price: new.price,
        location_id,
        reorder_point,
        at: &ctx.now,
    })?;
    if reorder_point.is_none() {
        ctx.pending.without_totals(id);
    }
    let product = Stocked {
        id,
        ordinal,
        home: location.clone(),
    };
    let mut level = ctx.level(&product, &location, true)?;
    // The product's own level exists from the start, stocked or not.
    ctx.pending.record(&level, 0, 0);
    if initial > 0 {
        let memo = Memo {
            notes: Some("initial quantity"),
            ..Memo::default()
        };
        ctx.post(&mut level, MovementKind::In, initial, &memo)?;
    }
    ctx.pending.flush(ctx.tx)?;
    Ok(id)
}

fn live_product(ctx: &mut Ctx, id: Uuid) -> Result<Product> {
    ctx.tx
        .product(id)?
        .ok_or_else(|| Error::not_found(format!("product {id}")))
}

fn check_version(product: &Product, expected: Option<i64>) -> Result<()> {
    match expected {
        Some(v) if v != product.version => Err(Error::conflict(format!(
            "product {} is at version {}, not {v}",
            product.id, product.version
        ))
        .on_field("version")),
        _ => Ok(()),
    }
}

/// Changes the given fields. An update that changes nothing (no fields, or only the values the
/// product already has) writes nothing and leaves the version where it is.
pub(crate) fn update_product(
    ctx: &mut Ctx,
    id: Uuid,
    changes: &ProductChanges,
    expected: Option<i64>,
) -> Result<Product> {
    ctx.may_change_catalogue("update products")?;
    let product = live_product(ctx, id)?;
    check_version(&product, expected)?;
    let name = match changes.name.as_deref() {
        Some(n) => validate::required("name", n, MAX_NAME)?,
        None => product.name.clone(),
    };
    let description = match &changes.description {
        Some(d) => {
            validate::limit("description", d, MAX_DESCRIPTION)?;
            d.clone()
        }
        None => product.description.clone(),
    };
    let reorder = match changes.reorder_point {
        Some(r) => reorder_point(r)?,
        None => product.reorder_point,
    };
    let price = changes.price.unwrap_or(product.price);
    // Prices compare with their scale: 1.5 and 1.50 are written differently, so a change of
    // scale is a change.
    let same_price = price.to_string() == product.price.to_string();
    if name == product.name
        && description == product.description
        && same_price
        && reorder == product.reorder_point
    {
        return Ok(product);
    }
    ctx.tx.update_product(
        id,
        &ProductUpdate {
            name: &name,
            description: &description,
            price,
            reorder_point: reorder,
            at: &ctx.now,
        },
    )?;
    live_product(ctx, id)
}

/// Archives: the product leaves the catalogue, its ledger stays, and its SKU is free again.
pub(crate) fn delete_product(ctx: &mut Ctx, id: Uuid, expected: Option<i64>) -> Result<()> {
    ctx.may_change_catalogue("archive products")?;
    let product = live_product(ctx, id)?;
    check_version(&product, expected)?;
    ctx.tx.archive_product(id, &ctx.now)
}

pub(crate) fn create_location(ctx: &mut Ctx, name: &str) -> Result<Location> {
    ctx.may_change_catalogue("create locations")?;
    let name = validate::required("name", name, MAX_LOCATION)?;
    if ctx.tx.location_id(&name)?.is_some() {
        return Err(Error::conflict(format!("location {name:?} already exists")).on_field("name"));
    }
    ctx.location(&name, true)?;
    ctx.tx
        .location(&name)?
        .ok_or_else(|| Error::storage("location vanished after insert"))
}
