//! The engine from Rust: create a product, sell from a reservation, read the ledger, verify.
//!
//! Run: `cargo run -p inventory --example quickstart -- [PATH]` (default `quickstart.db`).
//! Running it twice on one file shows that the data persists: the second run finds the SKU taken
//! and archives the old product first.

use inventory::{Inventory, MovementQuery, NewProduct, Price, ProductQuery, StockOp};

fn main() -> Result<(), inventory::Error> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "quickstart.db".into());
    let inv = Inventory::open(&path)?;

    let q = ProductQuery {
        q: Some("LAP001".into()),
        ..Default::default()
    };
    for old in inv.list_products(&q)? {
        if old.sku == "LAP001" {
            println!("archiving an earlier LAP001 ({})", old.id);
            inv.delete_product(old.id, None)?;
        }
    }

    let mut laptop = NewProduct::new("Laptop", "LAP001", Price::parse("1500.00")?);
    laptop.description = "Gaming Laptop".into();
    laptop.location = Some("Warehouse A".into());
    laptop.initial_quantity = 50;
    let id = inv.create_product(laptop)?.product.id;

    let level = inv.reserve_stock(StockOp::reserve(id, 10).reference("ORDER-456"))?;
    println!(
        "reserved 10 for ORDER-456: on_hand {} reserved {} available {}",
        level.on_hand, level.reserved, level.available
    );
    let level = inv.commit_reservation(StockOp::commit(id, "ORDER-456").notes("shipped"))?;
    println!(
        "shipped ORDER-456: on_hand {} reserved {} available {}",
        level.on_hand, level.reserved, level.available
    );

    let (from, to) = inv.transfer_stock(StockOp::transfer(id, "Warehouse A", "Store 1", 5))?;
    println!(
        "moved 5 to {}: {} left at {}",
        to.location, from.on_hand, from.location
    );

    for m in inv.list_movements(id, &MovementQuery::default())? {
        println!(
            "#{} {:?} {} at {} -> on_hand {}",
            m.seq, m.kind, m.quantity, m.location, m.on_hand_after
        );
    }
    let report = inv.verify()?;
    println!("verify: ok={} problems={:?}", report.ok, report.problems);
    println!("product id {id} in {path}");
    Ok(())
}
