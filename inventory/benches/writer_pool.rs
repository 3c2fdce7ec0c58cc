//! Issue 2's design question, measured: with 8 threads writing one product, is it faster to
//! give each thread its own writer connection (SQLite's busy handler arbitrates the write lock)
//! or to serialize them on one writer connection? Both run the same minimal raw write
//! (`engine/raw.rs`), beside the engine itself (one writer with group commit), in interleaved
//! rounds.
//!
//! Run: `cargo bench -p inventory --bench writer_pool [-- ROUNDS SECONDS]` (default 5 rounds of 1 s).

#[path = "engine/raw.rs"]
mod raw;

use inventory::{Durability, Inventory, NewProduct, Options, Price, StockOp, Uuid};
use raw::Raw;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

const THREADS: usize = 8;

fn fresh(
    dir: &Path,
    round: usize,
    name: &str,
    durability: Durability,
) -> (std::path::PathBuf, Uuid) {
    let path = dir.join(format!("{name}-{durability:?}-{round}.db"));
    let inv = Inventory::open_with(
        &path,
        Options {
            durability,
            ..Options::default()
        },
    )
    .unwrap();
    let id = inv
        .create_product(NewProduct::new("Hot", "HOT", Price::parse("1").unwrap()))
        .unwrap()
        .product
        .id;
    (path, id)
}

/// Runs `op` on THREADS threads for `secs`; returns operations per second.
fn hammer(secs: f64, op: impl Fn(usize) + Sync) -> f64 {
    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let barrier = Barrier::new(THREADS + 1);
    let elapsed = std::thread::scope(|s| {
        for t in 0..THREADS {
            let (stop, done, barrier, op) = (&stop, &done, &barrier, &op);
            s.spawn(move || {
                barrier.wait();
                while !stop.load(Ordering::Relaxed) {
                    op(t);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        barrier.wait();
        let start = Instant::now();
        std::thread::sleep(Duration::from_secs_f64(secs));
        stop.store(true, Ordering::Relaxed);
        start.elapsed()
    });
    done.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let rounds: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(5);
    let secs: f64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1.0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("writer-pool");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    println!(
        "| durability | {THREADS} writer connections | 1 shared writer connection | engine (1 writer, group commit) |"
    );
    println!("|---|---|---|---|");
    for durability in [Durability::Full, Durability::Normal] {
        let (mut pool, mut shared, mut engine) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let (path, id) = fresh(&dir, round, "pool", durability);
            let conns: Vec<Mutex<Raw>> = (0..THREADS)
                .map(|_| Mutex::new(Raw::open(&path, durability, id)))
                .collect();
            pool.push(hammer(secs, |t| conns[t].lock().unwrap().add_one(false)));

            let (path, id) = fresh(&dir, round, "shared", durability);
            let one = Mutex::new(Raw::open(&path, durability, id));
            shared.push(hammer(secs, |_| one.lock().unwrap().add_one(false)));

            let (path, id) = fresh(&dir, round, "engine", durability);
            let inv = Arc::new(
                Inventory::open_with(
                    &path,
                    Options {
                        durability,
                        ..Options::default()
                    },
                )
                .unwrap(),
            );
            engine.push(hammer(secs, |_| {
                inv.add_stock(StockOp::add(id, 1)).unwrap();
            }));
        }
        println!(
            "| {durability:?} | {:.0} ops/s | {:.0} ops/s | {:.0} ops/s |",
            median(pool),
            median(shared),
            median(engine)
        );
    }
}
