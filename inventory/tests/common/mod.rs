//! Shared fixtures: every test gets a real SQLite file in its own temporary directory.
#![allow(dead_code)] // each test binary uses a different subset

use inventory::{Inventory, ManualClock, NewProduct, Options, Price, Uuid};
use std::sync::Arc;
use tempfile::TempDir;

pub struct Fixture {
    pub inv: Inventory,
    pub clock: Arc<ManualClock>,
    pub dir: TempDir,
}

impl Fixture {
    pub fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("inventory.db")
    }
}

/// An inventory on a fresh file, with a manual clock so expiry is deterministic.
pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::fixed());
    let options = Options {
        clock: clock.clone(),
        ..Options::default()
    };
    let inv = Inventory::open_with(dir.path().join("inventory.db"), options).unwrap();
    Fixture { inv, clock, dir }
}

pub fn new_product(sku: &str, initial: i64) -> NewProduct {
    let mut p = NewProduct::new(format!("Product {sku}"), sku, Price::parse("9.99").unwrap());
    p.location = Some("Warehouse A".into());
    p.initial_quantity = initial;
    p
}

pub fn product(inv: &Inventory, sku: &str, initial: i64) -> Uuid {
    inv.create_product(new_product(sku, initial))
        .unwrap()
        .product
        .id
}

pub fn assert_verified(inv: &Inventory) {
    let report = inv.verify().unwrap();
    assert!(report.ok, "verify failed: {:?}", report.problems);
}
