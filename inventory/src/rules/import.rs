//! Imports: many products or counts in one command, all or nothing, through the same rules as
//! one product or one count. Importing the same rows again changes nothing.

use super::catalogue;
use super::context::Ctx;
use super::stock;
use crate::command::{CountImport, NewProduct, ProductChanges, ProductImport, StockOp};
use crate::error::{Error, Result};
use crate::model::ImportSummary;
use crate::validate::{self, MAX_LOCATION, MAX_REFERENCE, MAX_SKU};
use uuid::Uuid;

fn live_sku(ctx: &mut Ctx, sku: &str) -> Result<Option<Uuid>> {
    let sku = validate::required("sku", sku, MAX_SKU)?;
    ctx.tx.product_id_by_sku(&sku)
}

pub(crate) fn products(ctx: &mut Ctx, rows: &[ProductImport]) -> Result<ImportSummary> {
    let mut summary = ImportSummary::default();
    for (i, row) in rows.iter().enumerate() {
        product(ctx, row, &mut summary).map_err(|e| e.at_index(i))?;
    }
    Ok(summary)
}

fn product(ctx: &mut Ctx, row: &ProductImport, summary: &mut ImportSummary) -> Result<()> {
    match live_sku(ctx, &row.sku)? {
        None => {
            let new = NewProduct {
                name: row.name.clone(),
                sku: row.sku.clone(),
                price: row.price,
                description: row.description.clone().unwrap_or_default(),
                location: row.location.clone(),
                initial_quantity: row.initial_quantity.unwrap_or(0),
                reorder_point: row.reorder_point.flatten(),
                id: None,
            };
            catalogue::add_product(ctx, &new)?;
            summary.created += 1;
        }
        Some(id) => {
            let changes = ProductChanges {
                name: Some(row.name.clone()),
                description: row.description.clone(),
                price: Some(row.price),
                reorder_point: row.reorder_point,
            };
            let before = ctx.tx.product(id)?.map(|p| p.version);
            let after = catalogue::update_product(ctx, id, &changes, None)?.version;
            if before == Some(after) {
                summary.unchanged += 1;
            } else {
                summary.updated += 1;
            }
        }
    }
    Ok(())
}

pub(crate) fn counts(
    ctx: &mut Ctx,
    reference: &str,
    rows: &[CountImport],
) -> Result<ImportSummary> {
    validate::limit("reference", reference, MAX_REFERENCE)?;
    let mut summary = ImportSummary::default();
    for (i, row) in rows.iter().enumerate() {
        count(ctx, reference, row, &mut summary).map_err(|e| e.at_index(i))?;
    }
    Ok(summary)
}

fn count(
    ctx: &mut Ctx,
    reference: &str,
    row: &CountImport,
    summary: &mut ImportSummary,
) -> Result<()> {
    let id = live_sku(ctx, &row.sku)?.ok_or_else(|| {
        Error::not_found(format!("product with sku {:?}", row.sku)).on_field("sku")
    })?;
    let location = validate::required("location", &row.location, MAX_LOCATION)?;
    let product = ctx.product(id)?;
    let current = ctx.level(&product, &location, true)?;
    // A level that never existed counts as created even when the count is zero.
    let existed = ctx.pending.level(id, current.location_id).is_some();
    if existed && current.on_hand == row.counted {
        summary.unchanged += 1;
        return Ok(());
    }
    let op = StockOp::count(id, location, row.counted).reference(reference);
    stock::apply(ctx, &op)?;
    if existed {
        summary.updated += 1;
    } else {
        summary.created += 1;
    }
    Ok(())
}
