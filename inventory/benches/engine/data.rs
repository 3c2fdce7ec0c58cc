//! Databases the benchmarks run against. Small write fixtures are fresh files per benchmark;
//! the two big read fixtures (a 1,000,000-movement ledger and a 100,000-product catalogue)
//! are generated once through the engine itself and cached under `target/bench-data/`, so a
//! rerun skips the minutes of generation.

use inventory::{
    Durability, Inventory, MovementQuery, NewProduct, Options, Price, ProductQuery, StockOp, Uuid,
};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// `target/bench-data/`: beside `target/tmp` (which cargo names for benchmarks), on the same
/// disk as real data, so fsync costs what it costs in production (never tmpfs).
pub fn data_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp has a parent")
        .join("bench-data");
    std::fs::create_dir_all(&dir).expect("create target/bench-data");
    dir
}

/// `INVENTORY_BENCH_QUICK=1` shrinks the big fixtures tenfold and shortens sampling: a smoke
/// run of every benchmark in a couple of minutes. Its figures are not the reported ones.
/// Criterion's test and list modes (`cargo test --benches`, `-- --test`) also get the small
/// data: they run each benchmark once, as a smoke test.
pub fn quick() -> bool {
    std::env::var_os("INVENTORY_BENCH_QUICK").is_some_and(|v| v != "0" && !v.is_empty())
        || !measuring()
}

/// Whether criterion will measure: run by `cargo bench` (`--bench`) and not asked to test,
/// list or profile.
pub fn measuring() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    has("--bench") && !has("--test") && !has("--list") && !has("--profile-time")
}

/// The positional arguments: criterion's benchmark filters.
pub fn filters() -> Vec<String> {
    const TAKES_VALUE: [&str; 16] = [
        "--save-baseline",
        "--baseline",
        "--baseline-lenient",
        "--load-baseline",
        "--measurement-time",
        "--warm-up-time",
        "--sample-size",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--output-format",
        "--color",
        "--format",
        "--plotting-backend",
        "--profile-time",
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    args.iter()
        .enumerate()
        .filter(|(i, a)| {
            !a.starts_with('-') && (*i == 0 || !TAKES_VALUE.contains(&args[i - 1].as_str()))
        })
        .map(|(_, a)| a.clone())
        .collect()
}

pub fn options(durability: Durability) -> Options {
    Options {
        durability,
        ..Options::default()
    }
}

/// A fresh database in its own directory under `target/bench-data/tmp/`, removed on drop.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        let parent = data_dir().join("tmp");
        std::fs::create_dir_all(&parent).expect("create target/bench-data/tmp");
        Scratch {
            dir: tempfile::tempdir_in(parent).expect("scratch dir"),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("bench.db")
    }
}

pub fn price() -> Price {
    Price::parse("9.99").expect("valid price")
}

/// A product with `quantity` units at its own location.
pub fn product(inv: &Inventory, sku: &str, quantity: i64) -> Uuid {
    let mut new = NewProduct::new(format!("Product {sku}"), sku, price());
    new.initial_quantity = quantity;
    inv.create_product(new).expect("create product").product.id
}

/// A short hash of the schema this build creates (FNV-1a over `sqlite_master`). The engine's
/// schema can change without a version bump while unreleased, so cached fixtures are keyed
/// by this rather than by `schema_version()`.
pub fn schema_fingerprint() -> String {
    let scratch = Scratch::new();
    drop(Inventory::open(scratch.path()).expect("open a fresh database"));
    let sql: String = read_only(&scratch.path())
        .query_row(
            "SELECT group_concat(coalesce(sql, name), ';') FROM (SELECT sql, name FROM sqlite_master ORDER BY name)",
            [],
            |r| r.get(0),
        )
        .expect("schema");
    let hash = sql.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// `target/bench-data/{stem}-{fingerprint}.db`. Fixtures of other schemas are deleted.
fn fixture_path(stem: &str) -> PathBuf {
    let dir = data_dir();
    let path = dir.join(format!("{stem}-{}.db", schema_fingerprint()));
    if !path.exists() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(&format!("{stem}-")) && entry.path() != path {
                eprintln!("removing {name}: built for another schema");
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    path
}

/// Builds `final_path` with `build` unless it exists. Generation writes a side file and
/// renames it when complete, so an interrupted run never leaves a half-built fixture behind.
fn cached(final_path: &Path, what: &str, build: impl FnOnce(&Inventory)) {
    if final_path.exists() {
        return;
    }
    let partial = final_path.with_extension("partial");
    for suffix in ["", "-wal", "-shm"] {
        let mut p = partial.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    let started = Instant::now();
    eprintln!(
        "generating {what} in {} (cached for later runs)",
        final_path.display()
    );
    {
        let inv = Inventory::open_with(&partial, options(Durability::Normal)).expect("open");
        build(&inv);
        let report = inv.verify().expect("verify");
        assert!(
            report.ok,
            "generated ledger fails verify(): {:?}",
            report.problems
        );
        inv.checkpoint().expect("checkpoint");
    }
    std::fs::rename(&partial, final_path).expect("rename fixture");
    eprintln!("generated {what} in {:.1?}", started.elapsed());
}

/// A product whose history is the deep one: half of all movements, interleaved with the
/// other products' movements so that its rows are spread through the table as real ledgers are.
pub struct Ledger {
    pub inv: Inventory,
    pub path: PathBuf,
    pub hot: Uuid,
    pub movements: i64,
    pub hot_movements: i64,
    /// The seq of the hot product's 1,000th oldest movement: `before` this is a page from
    /// the far end of its history.
    pub deep_cursor: i64,
}

pub fn ledger() -> Ledger {
    let batches: i64 = if quick() { 100 } else { 1000 };
    let half = 500; // ops per product group in each batch
    let movements = batches * half * 2;
    let path = fixture_path(&format!("ledger-{movements}"));
    cached(&path, &format!("{movements} movements"), |inv| {
        let hot = product(inv, "HOT-1", 0);
        let others: Vec<Uuid> = (0..half)
            .map(|i| product(inv, &format!("COLD-{i:04}"), 0))
            .collect();
        for b in 0..batches {
            let ops = others
                .iter()
                .flat_map(|&other| [StockOp::add(hot, 1), StockOp::add(other, 1)])
                .collect();
            inv.batch(ops).expect("batch of adds");
            if (b + 1) % 100 == 0 {
                eprintln!("  {} movements", (b + 1) * half * 2);
            }
        }
    });
    let inv = Inventory::open(&path).expect("open ledger");
    let hot = find_one(&inv, "HOT-1");
    let raw = read_only(&path);
    let count = |sql: &str| -> i64 {
        raw.query_row(sql, [hot.to_string()], |r| r.get(0))
            .expect("count")
    };
    let total: i64 = raw
        .query_row("SELECT count(*) FROM movements", [], |r| r.get(0))
        .expect("count");
    let hot_movements = count("SELECT count(*) FROM movements WHERE product_id = ?1");
    let deep_cursor =
        count("SELECT seq FROM movements WHERE product_id = ?1 ORDER BY seq LIMIT 1 OFFSET 1000");
    let page = inv
        .list_movements(
            hot,
            &MovementQuery {
                before: Some(deep_cursor),
                limit: Some(100),
                ..MovementQuery::default()
            },
        )
        .expect("deep page");
    assert_eq!(page.len(), 100, "the deep cursor page is full");
    Ledger {
        inv,
        path,
        hot,
        movements: total,
        hot_movements,
        deep_cursor,
    }
}

/// The SKU categories of the catalogue: each prefix matches a tenth of the products.
pub const CATEGORIES: [(&str, &str); 10] = [
    ("LAP", "Laptop"),
    ("MON", "Monitor"),
    ("KBD", "Keyboard"),
    ("MOU", "Mouse"),
    ("PHN", "Phone"),
    ("TAB", "Tablet"),
    ("CAM", "Camera"),
    ("SPK", "Speaker"),
    ("HDD", "Disk"),
    ("CBL", "Cable"),
];
pub const LOCATIONS: usize = 10;
/// Every 20th product is low on stock: 10 units in all against a reorder point of 50.
pub const LOW_EVERY: usize = 20;

pub struct Catalogue {
    pub inv: Inventory,
    pub path: PathBuf,
    pub products: usize,
    /// A SKU prefix that matches only 10 products (`SPK-0999` at full scale).
    pub selective_prefix: String,
}

/// `products` products, each stocked at all ten locations, every 20th one low on stock.
/// SKUs are `LAP-000000`, `MON-000001`, ... (category = index mod 10); names `Laptop 000000`.
pub fn catalogue() -> Catalogue {
    let products: usize = if quick() { 10_000 } else { 100_000 };
    let path = fixture_path(&format!("catalogue-{products}x{LOCATIONS}"));
    cached(
        &path,
        &format!("{products} products x {LOCATIONS} locations"),
        |inv| {
            let location = |l: usize| format!("WH-{l:02}");
            let quantity = |i: usize| if i % LOW_EVERY == 0 { 1 } else { 100 };
            // Two creating threads, so group commit shares the commits.
            let ids: Vec<Uuid> = std::thread::scope(|s| {
                let parts: Vec<_> = (0..2)
                    .map(|t| {
                        s.spawn(move || {
                            (t * products / 2..(t + 1) * products / 2)
                                .map(|i| {
                                    let (prefix, name) = CATEGORIES[i % CATEGORIES.len()];
                                    let mut new = NewProduct::new(
                                        format!("{name} {i:06}"),
                                        format!("{prefix}-{i:06}"),
                                        price(),
                                    );
                                    new.location = Some(location(i % LOCATIONS));
                                    new.initial_quantity = quantity(i);
                                    new.reorder_point = Some(50);
                                    inv.create_product(new).expect("create").product.id
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                parts
                    .into_iter()
                    .flat_map(|p| p.join().expect("creator thread"))
                    .collect()
            });
            eprintln!("  {products} products");
            let ops: Vec<StockOp> = ids
                .iter()
                .enumerate()
                .flat_map(|(i, &id)| {
                    (1..LOCATIONS).map(move |k| {
                        StockOp::add(id, quantity(i)).at(location((i + k) % LOCATIONS))
                    })
                })
                .collect();
            for (n, chunk) in ops.chunks(inventory::MAX_BATCH).enumerate() {
                inv.batch(chunk.to_vec()).expect("stock batch");
                if (n + 1) % 100 == 0 {
                    eprintln!(
                        "  {} stock levels",
                        products + (n + 1) * inventory::MAX_BATCH
                    );
                }
            }
        },
    );
    let inv = Inventory::open(&path).expect("open catalogue");
    Catalogue {
        inv,
        path,
        products,
        selective_prefix: format!("SPK-{:04}", (products - 1) / 100),
    }
}

pub fn find_one(inv: &Inventory, sku: &str) -> Uuid {
    let found = inv
        .list_products(&ProductQuery {
            q: Some(sku.into()),
            ..ProductQuery::default()
        })
        .expect("search");
    assert_eq!(found.len(), 1, "exactly one product {sku}");
    found[0].id
}

/// A raw read-only connection, for query plans and fixture facts the engine does not expose.
pub fn read_only(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open read-only")
}
