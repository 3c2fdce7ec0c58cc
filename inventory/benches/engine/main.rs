//! The engine's benchmarks: `cargo bench -p inventory --bench engine [-- FILTER]`.
//!
//! Every comparison the performance targets name is measured side by side in one run (the
//! engine beside a raw-rusqlite baseline, 8 threads beside 1, a key beside none), and the run
//! ends with a table of medians and ratios (also written to `target/bench-data/summary.md`).
//! See docs/perf/engine.md for the figures and how to read them.
//!
//! Groups: `writes` (single operations, both durabilities), `hot` (one product, 1 vs 8
//! threads), `batch` (100 operations per call), `reads_1m` (a 1,000,000-movement ledger),
//! `catalogue` (100,000 products x 10 locations: low stock and prefix search).
//! `INVENTORY_BENCH_QUICK=1` runs everything on tenfold smaller data with short sampling.

mod data;
mod paired;
mod raw;
mod summary;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use data::Scratch;
use inventory::{Command, Durability, Inventory, MovementQuery, ProductQuery, StockOp, Uuid};
use std::cell::{OnceCell, RefCell};
use std::sync::Barrier;
use std::time::{Duration, Instant};

const DURABILITIES: [(Durability, &str); 2] =
    [(Durability::Full, "full"), (Durability::Normal, "normal")];

/// A scratch database holding one product with plenty of stock.
struct Single {
    scratch: Scratch,
    inv: Inventory,
    id: Uuid,
}

fn single(durability: Durability) -> Single {
    let scratch = Scratch::new();
    let inv = Inventory::open_with(scratch.path(), data::options(durability)).expect("open");
    let id = data::product(&inv, "BENCH-1", 1_000_000);
    Single { scratch, inv, id }
}

fn timing(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    let (samples, measure) = if data::quick() { (10, 1) } else { (20, 4) };
    group
        .sample_size(samples)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(measure));
}

/// The single-operation subjects of the `writes` group, by name. Each owns a fresh database.
const WRITE_SUBJECTS: [&str; 5] = [
    "engine_add",
    "engine_reserve_unreserve",
    "engine_add_key",
    "raw_add",
    "raw_add_expiry_probe",
];

/// The raw baseline together with the directory its file lives in.
struct RawSubject {
    raw: raw::Raw,
    _scratch: Scratch,
}

impl RawSubject {
    fn call(&mut self, probe: bool) {
        self.raw.add_one(probe);
    }
}

/// One call of the named write subject, on its own fresh database.
fn write_subject(name: &str, durability: Durability) -> Box<dyn FnMut()> {
    match name {
        "engine_add" => {
            let s = single(durability);
            Box::new(move || {
                s.inv.add_stock(StockOp::add(s.id, 1)).expect("add");
            })
        }
        "engine_reserve_unreserve" => {
            let s = single(durability);
            let mut reserve = true;
            Box::new(move || {
                let op = if reserve {
                    StockOp::reserve(s.id, 1)
                } else {
                    StockOp::unreserve(s.id, 1)
                };
                reserve = !reserve;
                s.inv.stock(op).expect("reserve/unreserve");
            })
        }
        "engine_add_key" => {
            let s = single(durability);
            let mut n = 0u64;
            Box::new(move || {
                n += 1; // a new key every call: a first use, never a replay
                let key = format!("bench-{n}");
                let done = s
                    .inv
                    .execute_with_key(Command::Stock(StockOp::add(s.id, 1)), Some(&key))
                    .expect("keyed add");
                assert!(!done.replayed);
            })
        }
        "raw_add" | "raw_add_expiry_probe" => {
            let probe = name == "raw_add_expiry_probe";
            let s = single(durability);
            let (path, id) = (s.scratch.path(), s.id);
            drop(s.inv); // the engine lets go of the file; the raw connection takes it
            let mut raw = RawSubject {
                raw: raw::Raw::open(&path, durability, id),
                _scratch: s.scratch,
            };
            Box::new(move || raw.call(probe))
        }
        other => unreachable!("no write subject {other}"),
    }
}

/// Issue 2 and 7: one operation per transaction, engine beside raw rusqlite; with and
/// without an idempotency key; the raw loop with and without the expiry probe.
fn writes(c: &mut Criterion) {
    let mut group = c.benchmark_group("writes");
    timing(&mut group);
    group
        .throughput(Throughput::Elements(1))
        .sampling_mode(SamplingMode::Flat);
    for (durability, dname) in DURABILITIES {
        for name in WRITE_SUBJECTS {
            let subject = OnceCell::new();
            group.bench_function(BenchmarkId::new(name, dname), |b| {
                let f = subject.get_or_init(|| RefCell::new(write_subject(name, durability)));
                let mut f = f.borrow_mut();
                b.iter(&mut *f);
            });
        }
    }
    group.finish();
}

/// Runs `iters` adds on one product from `threads` threads; returns the wall time from the
/// moment all threads are released to the moment the last one finishes.
fn hammer(inv: &Inventory, id: Uuid, threads: u64, iters: u64) -> Duration {
    let start = Barrier::new(threads as usize + 1);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let n = iters / threads + u64::from(t < iters % threads);
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    for i in 0..n {
                        // Reserve then unreserve: each thread's own net reservation stays at
                        // 0 or 1, so every operation succeeds and the checks run every time.
                        let op = if i % 2 == 0 {
                            StockOp::reserve(id, 1)
                        } else {
                            StockOp::unreserve(id, 1)
                        };
                        inv.stock(op).expect("hot op");
                    }
                })
            })
            .collect();
        start.wait();
        let began = Instant::now();
        for w in workers {
            w.join().expect("worker");
        }
        began.elapsed()
    })
}

/// Issue 2: one product, 8 threads against 1. Group commit should make 8 at least as fast.
fn hot(c: &mut Criterion) {
    let mut group = c.benchmark_group("hot");
    timing(&mut group);
    group
        .throughput(Throughput::Elements(1))
        .sampling_mode(SamplingMode::Flat);
    for (durability, name) in DURABILITIES {
        for threads in [1u64, 8] {
            let fixture = OnceCell::new();
            group.bench_function(BenchmarkId::new(format!("writers_{threads}"), name), |b| {
                let s: &Single = fixture.get_or_init(|| single(durability));
                b.iter_custom(|iters| hammer(&s.inv, s.id, threads, iters));
            });
        }
    }
    group.finish();
}

/// Issue 7: a basket of 100 mixed operations over 25 products in one call.
fn batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch");
    timing(&mut group);
    group
        .throughput(Throughput::Elements(100))
        .sampling_mode(SamplingMode::Flat);
    for (durability, name) in DURABILITIES {
        let fixture = OnceCell::new();
        group.bench_function(BenchmarkId::new("ops_100", name), |b| {
            let (_scratch, inv, ids) = fixture.get_or_init(|| {
                let scratch = Scratch::new();
                let inv =
                    Inventory::open_with(scratch.path(), data::options(durability)).expect("open");
                let ids: Vec<Uuid> = (0..25)
                    .map(|i| data::product(&inv, &format!("BASKET-{i}"), 1000))
                    .collect();
                (scratch, inv, ids)
            });
            b.iter(|| {
                let ops = ids
                    .iter()
                    .flat_map(|&id| {
                        [
                            StockOp::add(id, 2),
                            StockOp::reserve(id, 1),
                            StockOp::unreserve(id, 1),
                            StockOp::remove(id, 1),
                        ]
                    })
                    .collect();
                inv.batch(ops).expect("batch")
            });
        });
    }
    group.finish();
}

/// Issue 2: reads with 1,000,000 movements in the file.
fn reads(c: &mut Criterion) {
    let mut group = c.benchmark_group("reads_1m");
    timing(&mut group);
    let fixture = OnceCell::new();
    let ledger = || fixture.get_or_init(data::ledger);
    let page = |limit, before| MovementQuery {
        limit: Some(limit),
        before,
        ..MovementQuery::default()
    };
    group.bench_function("get_product", |b| {
        let l = ledger();
        b.iter(|| l.inv.get_product(l.hot).expect("get"));
    });
    for limit in [10, 100] {
        group.bench_function(format!("history_first_page_{limit}"), |b| {
            let l = ledger();
            let q = page(limit, None);
            b.iter(|| {
                let p = l.inv.list_movements(l.hot, &q).expect("page");
                assert_eq!(p.len(), limit as usize);
                p
            });
        });
    }
    group.bench_function("history_deep_cursor_page_100", |b| {
        let l = ledger();
        let q = page(100, Some(l.deep_cursor));
        b.iter(|| l.inv.list_movements(l.hot, &q).expect("page"));
    });
    group.bench_function("history_offset_10000_page_10", |b| {
        let l = ledger();
        let q = MovementQuery {
            offset: Some(10_000),
            ..page(10, None)
        };
        b.iter(|| l.inv.list_movements(l.hot, &q).expect("page"));
    });
    group.finish();
    if let Some(l) = fixture.get() {
        summary::fact(format!(
            "reads_1m file: {} movements, {} of them the measured product's ({}); deep cursor = seq {}",
            l.movements,
            l.hot_movements,
            l.path.display(),
            l.deep_cursor
        ));
    }
}

fn low_stock(limit: i64) -> ProductQuery {
    ProductQuery {
        low_stock: true,
        limit: Some(limit),
        ..ProductQuery::default()
    }
}

fn prefix(q: &str) -> ProductQuery {
    ProductQuery {
        q: Some(q.to_owned()),
        ..ProductQuery::default()
    }
}

/// A catalogue query, given the catalogue (for its scale-dependent prefix).
type QueryFor = dyn Fn(&data::Catalogue) -> ProductQuery;

/// Issue 6: low-stock listing and prefix search over 100,000 products x 10 locations.
fn catalogue(c: &mut Criterion) {
    let mut group = c.benchmark_group("catalogue");
    timing(&mut group);
    let fixture = OnceCell::new();
    let cat = || fixture.get_or_init(data::catalogue);
    let cases: [(&str, &QueryFor); 5] = [
        ("list_page_10", &|_| ProductQuery::default()),
        ("low_stock_page_10", &|_| low_stock(10)),
        ("low_stock_page_100", &|_| low_stock(100)),
        ("prefix_lap_page_10", &|_| prefix("LAP")),
        // Selective: 10 matches, so a scan in id order cannot stop early.
        ("prefix_selective_page_10", &|c| prefix(&c.selective_prefix)),
    ];
    for (name, query) in cases {
        group.bench_function(name, |b| {
            let c = cat();
            let query = query(c);
            b.iter(|| {
                let page = c.inv.list_products(&query).expect("list");
                assert!(!page.is_empty());
                page
            });
        });
    }
    group.finish();
    if let Some(c) = fixture.get() {
        summary::fact(format!(
            "catalogue file: {} products x {} locations ({})",
            c.products,
            data::LOCATIONS,
            c.path.display()
        ));
        summary::query_plans(&c.path);
    }
}

fn time_n(f: &mut dyn FnMut(), n: u64) -> Duration {
    let began = Instant::now();
    for _ in 0..n {
        f();
    }
    began.elapsed()
}

/// The target comparisons again, as interleaved A/B rounds (see `paired`).
fn paired_stage() -> Vec<paired::Pair> {
    let (rounds, burst) = if data::quick() {
        (6, Duration::from_millis(15))
    } else {
        (30, Duration::from_millis(40))
    };
    let filters = data::filters();
    // Criterion's filter is a regex; the plain words and `a|b` alternatives it is used with
    // here select the same pairs by substring.
    let selected = |name: &str| {
        filters.is_empty()
            || filters
                .iter()
                .flat_map(|f| f.split('|'))
                .any(|f| name.contains(f))
    };
    let mut pairs = Vec::new();
    let mut compare = |name: String, mut a: Box<dyn FnMut()>, mut b: Box<dyn FnMut()>| {
        pairs.push(paired::run(
            &name,
            rounds,
            burst,
            |n| time_n(&mut a, n),
            |n| time_n(&mut b, n),
        ));
    };
    for (durability, dname) in DURABILITIES {
        for (a, b) in [
            ("engine_add", "raw_add"),
            ("engine_reserve_unreserve", "raw_add"),
            ("engine_add_key", "engine_add"),
            ("raw_add_expiry_probe", "raw_add"),
        ] {
            let name = format!("paired/writes/{a}_vs_{b}/{dname}");
            if selected(&name) {
                compare(
                    name,
                    write_subject(a, durability),
                    write_subject(b, durability),
                );
            }
        }
    }
    for subject in ["engine_add", "raw_add"] {
        let name = format!("paired/writes/{subject}/full_vs_normal");
        if selected(&name) {
            compare(
                name,
                write_subject(subject, Durability::Full),
                write_subject(subject, Durability::Normal),
            );
        }
    }
    for (durability, dname) in DURABILITIES {
        let name = format!("paired/hot/writers_8_vs_1/{dname}");
        if selected(&name) {
            let s = single(durability);
            pairs.push(paired::run(
                &name,
                rounds,
                burst,
                |n| hammer(&s.inv, s.id, 8, n),
                |n| hammer(&s.inv, s.id, 1, n),
            ));
        }
    }
    pairs
}

fn main() {
    let mut c = Criterion::default()
        .output_directory(&summary::criterion_dir())
        .configure_from_args();
    let started = std::time::SystemTime::now();
    writes(&mut c);
    hot(&mut c);
    batch(&mut c);
    reads(&mut c);
    catalogue(&mut c);
    c.final_summary();
    if data::measuring() {
        summary::fact(format!(
            "SQLite {} (bundled by rusqlite)",
            rusqlite::version()
        ));
        let pairs = paired_stage();
        summary::report(started, &pairs);
    }
}
