//! The till's catalogue mirrors central's: pulled from central's catalogue feed after the
//! revision the till last applied, each product kept under central's id (created locally with
//! that id), at the till's own location. Prices are read as the exact number token central
//! wrote, never through a float.

use crate::Inner;
use crate::model::SyncReport;
use crate::sync::{Step, Stop};
use chrono::{DateTime, Utc};
use inventory::{ErrorCode, NewProduct, Price, ProductChanges, Uuid};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Products asked for per page.
const PAGE: i64 = 500;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    data: Page<'a>,
}

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow)]
    products: Vec<Entry<'a>>,
    next_after: i64,
}

#[derive(Deserialize)]
struct Entry<'a> {
    id: Uuid,
    name: String,
    description: String,
    sku: String,
    #[serde(borrow)]
    price: &'a RawValue,
    archived_at: Option<DateTime<Utc>>,
}

pub(crate) fn pull(till: &Inner, report: &mut SyncReport) -> Step<()> {
    let mut after = till.state.cursor()?.catalogue_after;
    loop {
        let reply = till.central.catalogue(after, PAGE).map_err(Stop::Central)?;
        let page: Envelope = serde_json::from_str(&reply.text).map_err(|e| {
            Stop::Central(crate::central::Failure::Unreachable(format!(
                "central's catalogue page is not what this till reads: {e}"
            )))
        })?;
        let count = page.data.products.len();
        for entry in page.data.products {
            apply(till, entry, report)?;
        }
        after = page.data.next_after;
        till.state.set_catalogue_after(after)?;
        if count < PAGE as usize {
            return Ok(());
        }
    }
}

fn apply(till: &Inner, e: Entry, report: &mut SyncReport) -> Step<()> {
    let price = Price::parse(e.price.get())?;
    match till.local.get_product(e.id) {
        Ok(here) => {
            let here = here.product;
            if e.archived_at.is_some() {
                till.local.delete_product(e.id, None)?;
                report.catalogue.archived += 1;
            } else if here.name != e.name
                || here.description != e.description
                || here.price.to_string() != price.to_string()
            {
                let changes = ProductChanges {
                    name: Some(e.name),
                    description: Some(e.description),
                    price: Some(price),
                    reorder_point: None,
                };
                till.local.update_product(e.id, changes, None)?;
                report.catalogue.updated += 1;
            }
        }
        Err(err) if err.code == ErrorCode::NotFound => {
            if e.archived_at.is_some() {
                return Ok(());
            }
            let mut new = NewProduct::new(e.name, e.sku, price);
            new.description = e.description;
            new.location = Some(till.location.clone());
            new.id = Some(e.id);
            match till.local.create_product(new) {
                Ok(_) => report.catalogue.created += 1,
                // Archived here already: archiving is for good.
                Err(err) if err.code == ErrorCode::Conflict => {}
                Err(err) => return Err(Stop::Local(err)),
            }
        }
        Err(err) => return Err(Stop::Local(err)),
    }
    Ok(())
}
