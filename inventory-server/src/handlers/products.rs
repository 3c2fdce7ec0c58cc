//! /api/products and a product's read-only sub-resources.

use super::{execute, product_id, unexpected};
use crate::app::App;
use crate::errors::ApiError;
use crate::http::{Reply, Req};
use crate::input::{CreateProductBody, UpdateProductBody, parse_body};
use crate::json::{LevelJson, MovementJson, ProductJson, ProductWithStockJson, SummaryJson};
use inventory::{Command, MovementQuery, Outcome, ProductQuery};

pub fn create(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let body: CreateProductBody = parse_body(req.body())?;
    match execute(app, req, Command::CreateProduct(body.into()), false)? {
        (Outcome::ProductCreated(p), replayed) => Ok(Reply::created(
            &ProductWithStockJson::from(&*p),
            "Product created successfully",
        )
        .etag(p.product.version)
        .replayed(replayed)),
        (other, _) => Err(unexpected(&other)),
    }
}

pub fn list(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let query = ProductQuery {
        limit: req.query.int("limit")?,
        offset: req.query.int("offset")?,
        low_stock: req.query.bool("low_stock")?,
        q: req.query.get("q").map(str::to_owned),
    };
    let products = app.inv.list_products(&query)?;
    let data: Vec<ProductJson> = products.iter().map(ProductJson::from).collect();
    Ok(Reply::ok(&data, "Products retrieved successfully"))
}

pub fn get(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let p = app.inv.get_product(product_id(req)?)?;
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
    let command = Command::UpdateProduct {
        id,
        changes: body.into(),
        expected_version,
    };
    match execute(app, req, command, expected_version.is_some())? {
        (Outcome::ProductUpdated(p), replayed) => Ok(Reply::ok(
            &ProductJson::from(&*p),
            "Product updated successfully",
        )
        .etag(p.version)
        .replayed(replayed)),
        (other, _) => Err(unexpected(&other)),
    }
}

pub fn delete(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let id = product_id(req)?;
    let expected_version = req.expected_version(|| current_version(app, id))?;
    let command = Command::DeleteProduct {
        id,
        expected_version,
    };
    match execute(app, req, command, expected_version.is_some())? {
        (Outcome::ProductDeleted(id), replayed) => Ok(Reply::ok(
            &serde_json::json!({ "id": id }),
            "Product deleted successfully",
        )
        .replayed(replayed)),
        (other, _) => Err(unexpected(&other)),
    }
}

/// The seed's inventory: totals over all locations, or with `?location=` that one level.
pub fn inventory(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let id = product_id(req)?;
    match req.query.get("location") {
        Some(location) => {
            let level = app.inv.get_stock_level(id, location)?;
            Ok(Reply::ok(
                &LevelJson::from(&level),
                "Inventory retrieved successfully",
            ))
        }
        None => {
            let summary = app.inv.get_inventory(id)?;
            Ok(Reply::ok(
                &SummaryJson::from(&summary),
                "Inventory retrieved successfully",
            ))
        }
    }
}

/// Movements, newest first; `before=SEQ` pages by cursor, `location=` filters.
pub fn transactions(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let id = product_id(req)?;
    let query = MovementQuery {
        limit: req.query.int("limit")?,
        offset: req.query.int("offset")?,
        after: req.query.int("after")?,
        before: req.query.int("before")?,
        location: req.query.get("location").map(str::to_owned),
    };
    let movements = app.inv.list_movements(id, &query)?;
    let data: Vec<MovementJson> = movements.iter().map(MovementJson::from).collect();
    Ok(Reply::ok(&data, "Transactions retrieved successfully"))
}

pub fn reservations(app: &App, req: &mut Req) -> Result<Reply, ApiError> {
    let list = app.inv.list_reservations(product_id(req)?)?;
    Ok(Reply::ok(&list, "Reservations retrieved successfully"))
}
