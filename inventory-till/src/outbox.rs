//! The outbox is the till's own ledger: every sale is one OUT movement at the till's location
//! whose reference is the sale's (`sale:<till id>:<sale id>`), written by the engine in one
//! durable transaction. What remains to push is every such movement after the acknowledged
//! cursor, read from the ledger's change feed in order.

use crate::model::Sale;
use inventory::{Inventory, MovementKind, Result};
use std::collections::HashMap;
use uuid::Uuid;

/// The reference prefix of a till's sales.
pub(crate) fn prefix(till_id: &str) -> String {
    format!("sale:{till_id}:")
}

/// The till's sales after sequence number `after`, oldest first.
pub(crate) fn sales_after(
    local: &Inventory,
    after: i64,
    prefix: &str,
    location: &str,
) -> Result<Vec<Sale>> {
    let mut sales = Vec::new();
    let mut cursor = after;
    loop {
        let page = local.changes(cursor, Some(inventory::MAX_CHANGES_PAGE))?;
        if page.movements.is_empty() {
            return Ok(sales);
        }
        cursor = page.next_after;
        for m in page.movements {
            let ours = m.kind == MovementKind::Out
                && m.location == location
                && m.reference
                    .as_deref()
                    .is_some_and(|r| r.starts_with(prefix));
            if ours {
                sales.push(Sale {
                    reference: m.reference.unwrap_or_default(),
                    product_id: m.product_id,
                    quantity: m.quantity,
                    sold_at: m.created_at,
                    seq: m.seq,
                    notes: m.notes,
                    actor: m.actor,
                    conflict: false,
                });
            }
        }
    }
}

/// Units sold of each product among `sales`.
pub(crate) fn by_product(sales: &[Sale]) -> HashMap<Uuid, i64> {
    let mut sums = HashMap::new();
    for s in sales {
        *sums.entry(s.product_id).or_insert(0) += s.quantity;
    }
    sums
}
