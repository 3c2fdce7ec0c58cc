//! Stock operations per second straight from the Rust engine: the twin of bench/c/stock_ops.c
//! (same operations, same durability), so that bench/c/run.sh can put the C API's overhead
//! beside it. Usage: c_bench_rust DB_PATH full|normal OPS

use inventory::{Durability, Inventory, NewProduct, Options, Price, StockOp};
use std::time::Instant;

fn main() -> Result<(), inventory::Error> {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, durability, ops] = &args[..] else {
        eprintln!("usage: c_bench_rust DB_PATH full|normal OPS");
        std::process::exit(2);
    };
    let options = Options {
        durability: if durability == "normal" {
            Durability::Normal
        } else {
            Durability::Full
        },
        ..Options::default()
    };
    let ops: u64 = ops.parse().expect("OPS is a number");
    let inv = Inventory::open_with(path, options)?;
    let mut new = NewProduct::new("Bench", "BENCH-RS", Price::parse("1.00")?);
    new.initial_quantity = 1_000_000;
    let id = inv.create_product(new)?.product.id;
    let start = Instant::now();
    for i in 0..ops {
        let level = if i % 2 == 1 {
            inv.remove_stock(StockOp::remove(id, 1))?
        } else {
            inv.add_stock(StockOp::add(id, 1))?
        };
        std::hint::black_box(level);
    }
    let per_second = ops as f64 / start.elapsed().as_secs_f64();
    println!("rust {durability} {per_second:.0}");
    Ok(())
}
