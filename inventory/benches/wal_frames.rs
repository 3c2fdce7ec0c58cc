//! WAL frames per write: how many 4 KiB pages each kind of write appends to the WAL. Every page
//! a commit dirties is one frame, written (and under `Durability::Full`, synced) at commit and
//! copied back by the next checkpoint, so under `Durability::Normal` a write costs roughly its
//! frame count. This is a count, not a timing: it does not depend on the machine's noise.
//!
//! Run: `cargo bench -p inventory --bench wal_frames`.

use inventory::{Command, Durability, Inventory, NewProduct, Options, Price, StockOp, Uuid};
use std::path::Path;

/// WAL frame size: a 24-byte frame header and a 4 KiB page.
const FRAME: u64 = 24 + 4096;
/// WAL file header.
const HEADER: u64 = 32;

fn product(inv: &Inventory, sku: &str, quantity: i64, reorder_point: Option<i64>) -> Uuid {
    let mut new = NewProduct::new(sku, sku, Price::parse("1.00").expect("price"));
    new.initial_quantity = quantity;
    new.reorder_point = reorder_point;
    inv.create_product(new).expect("create").product.id
}

/// The checkout basket of the engine benchmark's `batch` group: 25 products × 4 operations.
fn basket(ids: &[Uuid]) -> Vec<StockOp> {
    ids.iter()
        .flat_map(|&id| {
            [
                StockOp::add(id, 2),
                StockOp::reserve(id, 1),
                StockOp::unreserve(id, 1),
                StockOp::remove(id, 1),
            ]
        })
        .collect()
}

/// Frames per call of `write`, measured on a file that has already taken `warm` calls of it
/// (so the B-trees have the depth and fill of a file in use), from an empty WAL.
fn frames_per_call(
    dir: &Path,
    name: &str,
    warm: u64,
    calls: u64,
    write: impl Fn(&Inventory, Uuid, &[Uuid], u64),
) -> f64 {
    let path = dir.join(format!("{name}.db"));
    let options = Options {
        durability: Durability::Normal,
        ..Options::default()
    };
    let inv = Inventory::open_with(&path, options).expect("open");
    // A reorder point makes the engine keep the product's totals (for the low-stock index).
    let reorder_point = (name == "watched").then_some(10);
    let one = product(&inv, "ONE", 1_000_000_000, reorder_point);
    let basket: Vec<Uuid> = (0..25)
        .map(|i| product(&inv, &format!("BASKET-{i}"), 1_000_000_000, None))
        .collect();
    for i in 0..warm {
        write(&inv, one, &basket, i);
    }
    inv.checkpoint().expect("checkpoint"); // truncates the WAL
    for i in warm..warm + calls {
        write(&inv, one, &basket, i);
    }
    let wal = std::fs::metadata(dir.join(format!("{name}.db-wal")))
        .expect("the WAL")
        .len();
    // Fewer frames than the autocheckpoint threshold, or the WAL would have been reused.
    assert!((wal - HEADER) / FRAME < u64::from(Durability::Normal.wal_autocheckpoint_pages()));
    (wal - HEADER) as f64 / FRAME as f64 / calls as f64
}

fn main() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wal-frames");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the scratch directory");
    println!("| write (on a file that has taken 3,000 of them) | WAL frames per call |");
    println!("|---|---|");
    let rows: [(&str, &str, u64, u64); 5] = [
        ("add", "`add_stock`", 3000, 500),
        (
            "watched",
            "`add_stock`, product with a reorder point",
            3000,
            500,
        ),
        (
            "keyed",
            "`add_stock` with a new idempotency key (random 32-character keys)",
            3000,
            500,
        ),
        (
            "reserve",
            "`reserve_stock` / `unreserve_stock`, alternating",
            3000,
            500,
        ),
        (
            "batch",
            "batch of 100 (25 products × add, reserve, unreserve, remove)",
            3000,
            50,
        ),
    ];
    for (name, what, warm, calls) in rows {
        let frames = frames_per_call(
            &dir,
            name,
            warm,
            calls,
            |inv, one, products, i| match name {
                "add" | "watched" => {
                    inv.add_stock(StockOp::add(one, 1)).expect("add");
                }
                "keyed" => {
                    // Keys in random order, as clients' UUIDs would be (splitmix64 of i).
                    let mut z = i.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    let key = format!("{:016x}{:016x}", z ^ (z >> 31), z.rotate_left(17));
                    let done = inv
                        .execute_with_key(Command::Stock(StockOp::add(one, 1)), Some(&key))
                        .expect("keyed add");
                    assert!(!done.replayed);
                }
                "reserve" => {
                    let op = if i % 2 == 0 {
                        StockOp::reserve(one, 1)
                    } else {
                        StockOp::unreserve(one, 1)
                    };
                    inv.stock(op).expect("reserve/unreserve");
                }
                _ => {
                    inv.batch(basket(products)).expect("batch");
                }
            },
        );
        println!("| {what} | {frames:.2} |");
    }
}
