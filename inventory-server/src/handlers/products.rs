//! /api/products and a product's read-only sub-resources.

use super::{product_id, write};
use crate::app::App;
use crate::errors::ApiError;
use crate::http::{Reply, Req};
use crate::input::{CreateProductBody, UpdateProductBody, parse_body};
use crate::json::{Deleted, MovementJson, ProductJson, ProductWithStockJson, SummaryOrLevel};
use crate::params::{self, InventoryQuery, ProductListQuery};
use inventory::{MovementQuery, ProductQuery, Reach, Write};

pub fn create(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let body: CreateProductBody = parse_body(req.body())?;
    let created = write(app, req, Write::create_product(body.into()), false)?;
    let p = &created.value;
    Ok(Reply::created(
        &ProductWithStockJson::from(p),
        "Product created successfully",
    )
    .etag(p.product.version)
    .replayed(created.replayed))
}

pub fn list(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let q: ProductListQuery = req.query()?;
    let query = ProductQuery {
        limit: q.limit,
        offset: q.offset,
        low_stock: q.low_stock,
        q: q.q,
    };
    let products = app.inv.list_products(&query)?;
    let data: Vec<ProductJson> = products.iter().map(ProductJson::from).collect();
    Ok(Reply::ok(&data, "Products retrieved successfully"))
}

pub fn get(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let p = Reach::of(req.key).product(app.inv.get_product(product_id(req)?)?);
    Ok(Reply::ok(
        &ProductWithStockJson::from(&p),
        "Product retrieved successfully",
    )
    .etag(p.product.version))
}

/// For If-Match lists: the engine takes one expected version, so the list is resolved against
/// this read and the engine checks that version again inside its transaction.
fn current_version(app: &App, id: uuid::Uuid) -> Result<i64, ApiError> {
    Ok(app.inv.get_product(id)?.product.version)
}

pub fn update(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let id = product_id(req)?;
    let expected_version = req.expected_version(|| current_version(app, id))?;
    let body: UpdateProductBody = parse_body(req.body())?;
    let update = Write::update_product(id, body.into(), expected_version);
    let updated = write(app, req, update, expected_version.is_some())?;
    let p = &updated.value;
    Ok(
        Reply::ok(&ProductJson::from(p), "Product updated successfully")
            .etag(p.version)
            .replayed(updated.replayed),
    )
}

pub fn delete(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let id = product_id(req)?;
    let expected_version = req.expected_version(|| current_version(app, id))?;
    let delete = Write::delete_product(id, expected_version);
    let deleted = write(app, req, delete, expected_version.is_some())?;
    Ok(Reply::ok(
        &Deleted { id: deleted.value },
        "Product deleted successfully",
    )
    .replayed(deleted.replayed))
}

/// The seed's inventory: totals over all locations, or with `?location=` that one level.
pub fn inventory(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let id = product_id(req)?;
    let reach = Reach::of(req.key);
    let InventoryQuery { location } = req.query()?;
    let message = "Inventory retrieved successfully";
    match location {
        Some(location) => {
            reach.check(&location, "location")?;
            let level = app.inv.get_stock_level(id, &location)?;
            Ok(Reply::ok(&SummaryOrLevel::Level((&level).into()), message))
        }
        None => {
            let summary = reach.summary(app.inv.get_inventory(id)?);
            Ok(Reply::ok(
                &SummaryOrLevel::Summary((&summary).into()),
                message,
            ))
        }
    }
}

/// Movements, newest first; `before=SEQ` pages by cursor, `location=` filters.
pub fn transactions(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let id = product_id(req)?;
    let reach = Reach::of(req.key);
    let q: params::MovementQuery = req.query()?;
    if let Some(location) = &q.location {
        reach.check(location, "location")?;
    }
    let query = MovementQuery {
        limit: q.limit,
        offset: q.offset,
        after: q.after,
        before: q.before,
        location: q.location,
    };
    let movements = reach.retain(app.inv.list_movements(id, &query)?);
    let data: Vec<MovementJson> = movements.iter().map(MovementJson::from).collect();
    Ok(Reply::ok(&data, "Transactions retrieved successfully"))
}

pub fn reservations(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let list = Reach::of(req.key).retain(app.inv.list_reservations(product_id(req)?)?);
    Ok(Reply::ok(&list, "Reservations retrieved successfully"))
}
