//! `verify()` proves every cache against the ledger: each kind of damage is reported.
mod common;

use common::*;
use inventory::{ProductChanges, StockOp};

/// The problems `verify()` reports after `damage` is done to a healthy store behind the engine.
fn problems_after(damage: &str) -> Vec<String> {
    let f = fixture();
    let id = product(&f.inv, "V1", 10);
    let reorder = ProductChanges {
        reorder_point: Some(Some(3)),
        ..Default::default()
    };
    f.inv.update_product(id, reorder, None).unwrap();
    f.inv
        .reserve_stock(StockOp::reserve(id, 2).reference("R"))
        .unwrap();
    product(&f.inv, "V2", 5);
    let report = f.inv.verify().unwrap();
    assert!(report.ok, "healthy before: {:?}", report.problems);
    f.store.execute_sql(damage);
    f.inv.verify().unwrap().problems
}

#[test]
fn each_kind_of_damage_is_reported() {
    let cases = [
        (
            "UPDATE stock_levels SET on_hand = on_hand + 1",
            "level differs from the sum of its movements",
        ),
        (
            "UPDATE products SET on_hand_total = on_hand_total + 1 WHERE sku = 'V1'",
            "product totals differ from their levels",
        ),
        (
            "UPDATE products SET on_hand_total = 1 WHERE sku = 'V2'",
            "product without a reorder point keeps totals",
        ),
        (
            "UPDATE reservations SET quantity = 1",
            "reserved differs from the open reservations",
        ),
        (
            "UPDATE movements SET product_ordinal = 99",
            "movement filed under another product's number",
        ),
        (
            "UPDATE movements SET on_hand_after = on_hand_after + 1 WHERE seq = 1",
            "movement balances do not chain",
        ),
    ];
    for (damage, expected) in cases {
        let problems = problems_after(damage);
        assert!(
            problems.iter().any(|p| p.starts_with(expected)),
            "{damage}: {problems:?}"
        );
    }
}
