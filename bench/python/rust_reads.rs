//! get_product per second straight from the Rust engine with 1 and 2 threads: the ceiling that
//! bench/python/bench.py compares the Python package's 2-thread scaling against, measured on
//! the same machine at the same moment.
//!
//! Usage: py_bench_reads DB_PATH SECONDS  (prints "rust-reads ONE_THREAD TWO_THREADS")

use inventory::{Inventory, NewProduct, Price};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn reads_per_second(inv: &Inventory, ids: &[inventory::Uuid], threads: usize, secs: f64) -> f64 {
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let id = ids[n as usize % ids.len()];
                        std::hint::black_box(inv.get_product(id).expect("read"));
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs_f64(secs));
        stop.store(true, Ordering::Relaxed);
        workers.into_iter().map(|w| w.join().expect("worker")).sum()
    });
    total as f64 / start.elapsed().as_secs_f64()
}

fn main() -> Result<(), inventory::Error> {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, secs] = &args[..] else {
        eprintln!("usage: py_bench_reads DB_PATH SECONDS");
        std::process::exit(2);
    };
    let secs: f64 = secs.parse().expect("SECONDS is a number");
    let inv = Inventory::open(path)?;
    let mut ids = Vec::new();
    for i in 0..100 {
        let mut new = NewProduct::new(format!("P{i}"), format!("P{i}"), Price::parse("1.00")?);
        new.initial_quantity = 10;
        new.location = Some(format!("L{}", i % 3));
        ids.push(inv.create_product(new)?.product.id);
    }
    reads_per_second(&inv, &ids, 1, secs / 4.0); // warm up
    let one = reads_per_second(&inv, &ids, 1, secs);
    let two = reads_per_second(&inv, &ids, 2, secs);
    println!("rust-reads {one:.0} {two:.0}");
    Ok(())
}
