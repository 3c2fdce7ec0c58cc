//! What a caller limited to some locations (an API key made with `locations`, a till's) may
//! read: the read side of the rule whose write side is [`Call::locations`](crate::Call).
//!
//! The catalogue (products' names, prices, versions; the catalogue feed) is shared by every
//! location and stays readable. Stock is not: levels, movements, reservations and locations
//! of other locations are left out of what the caller gets (a product's totals are summed
//! over the levels it sees), and a read that names another location is FORBIDDEN. Filtering,
//! rather than refusing whole reads, keeps the shared routes (a product's inventory, its
//! transactions, the change feed) usable by a till without a route of its own; a page of
//! movements may then hold fewer than `limit`, and the feed's cursor still moves past what
//! the caller does not see.

use crate::error::{Error, Result};
use crate::model::{
    ApiKey, ChangePage, Location, Movement, ProductWithStock, Reservation, StockLevel,
    StockSummary, TillStatus,
};

/// The locations a caller may read the stock of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reach<'a> {
    /// `None`: every location.
    locations: Option<&'a [String]>,
}

/// Something that belongs to one location.
pub trait Located {
    /// The location's name.
    fn location(&self) -> &str;
}

impl Located for StockLevel {
    fn location(&self) -> &str {
        &self.location
    }
}

impl Located for Movement {
    fn location(&self) -> &str {
        &self.location
    }
}

impl Located for Reservation {
    fn location(&self) -> &str {
        &self.location
    }
}

impl Located for TillStatus {
    fn location(&self) -> &str {
        &self.till.location
    }
}

impl Located for Location {
    fn location(&self) -> &str {
        &self.name
    }
}

impl<'a> Reach<'a> {
    /// Every location: a caller without a key, or with a key without a location limit.
    pub fn everywhere() -> Reach<'static> {
        Reach { locations: None }
    }

    /// What a caller with `key` (or without one) may read.
    pub fn of(key: Option<&'a ApiKey>) -> Reach<'a> {
        Reach {
            locations: key.and_then(|k| k.locations.as_deref()),
        }
    }

    /// Whether the caller may read the stock at `location`.
    pub fn sees(&self, location: &str) -> bool {
        self.locations
            .is_none_or(|allowed| allowed.iter().any(|l| l == location))
    }

    /// Refuses (FORBIDDEN, on `field`) a read that names a location the caller does not see.
    pub fn check(&self, location: &str, field: &str) -> Result<()> {
        if self.sees(location) {
            return Ok(());
        }
        Err(Error::forbidden(format!(
            "{field}: this key may not read the stock at location {location:?}"
        ))
        .on_field(field))
    }

    /// The items at locations the caller sees, in their order.
    pub fn retain<T: Located>(&self, mut items: Vec<T>) -> Vec<T> {
        items.retain(|item| self.sees(item.location()));
        items
    }

    /// A product's stock as the caller sees it: the levels at its locations, and totals summed
    /// over those alone. Low stock stays the product's own (its reorder point is for all its
    /// stock), as the catalogue's low-stock filter has it.
    pub fn summary(&self, summary: StockSummary) -> StockSummary {
        if self.locations.is_none() {
            return summary;
        }
        let locations = self.retain(summary.locations);
        let on_hand = locations.iter().map(|l| l.on_hand).sum();
        let reserved = locations.iter().map(|l| l.reserved).sum();
        StockSummary {
            totals: StockLevel {
                on_hand,
                reserved,
                available: on_hand - reserved,
                ..summary.totals
            },
            locations,
            low_stock: summary.low_stock,
        }
    }

    /// A product with its stock as the caller sees it.
    pub fn product(&self, p: ProductWithStock) -> ProductWithStock {
        ProductWithStock {
            inventory: self.summary(p.inventory),
            product: p.product,
        }
    }

    /// A change-feed page as the caller sees it; `next_after` is unchanged, so the caller's
    /// cursor moves past the movements it does not see.
    pub fn changes(&self, page: ChangePage) -> ChangePage {
        ChangePage {
            movements: self.retain(page.movements),
            next_after: page.next_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Inventory, NewProduct, Price, StockOp};

    #[test]
    fn a_limited_reach_sees_its_locations_only() {
        let dir = tempfile::tempdir().unwrap();
        let inv = Inventory::open(dir.path().join("r.db")).unwrap();
        let mut p = NewProduct::new("P", "R-1", Price::parse("1").unwrap());
        p.location = Some("A".into());
        p.initial_quantity = 10;
        let id = inv.create_product(p).unwrap().product.id;
        inv.transfer_stock(StockOp::transfer(id, "A", "B", 4))
            .unwrap();
        inv.reserve_stock(StockOp::reserve(id, 1).at("B").reference("R"))
            .unwrap();

        let allowed = vec!["B".to_owned()];
        let reach = Reach {
            locations: Some(&allowed),
        };
        let seen = reach.product(inv.get_product(id).unwrap());
        assert_eq!(
            seen.inventory
                .locations
                .iter()
                .map(|l| l.location.as_str())
                .collect::<Vec<_>>(),
            ["B"]
        );
        let t = &seen.inventory.totals;
        assert_eq!((t.on_hand, t.reserved, t.available), (4, 1, 3));
        let all = Reach::everywhere().product(inv.get_product(id).unwrap());
        assert_eq!(all.inventory.totals.on_hand, 10);

        let page = reach.changes(inv.changes(0, None).unwrap());
        assert!(page.movements.iter().all(|m| m.location == "B"));
        assert_eq!(page.movements.len(), 2, "TRANSFER_IN and RESERVE at B");
        assert_eq!(page.next_after, inv.changes(0, None).unwrap().next_after);
        assert_eq!(reach.retain(inv.list_locations().unwrap()).len(), 1);
        assert!(reach.check("B", "location").is_ok());
        let e = reach.check("A", "location").unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (crate::ErrorCode::Forbidden, Some("location"))
        );
    }
}
