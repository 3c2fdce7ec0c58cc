//! The end-of-run table: medians from criterion's own estimates of this run, the ratios the
//! targets are stated in, and the query plans of the catalogue filters.

use super::paired::Pair;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

static FACTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records a line for the end-of-run report.
pub fn fact(line: String) {
    FACTS.lock().unwrap_or_else(|e| e.into_inner()).push(line);
}

/// Where criterion writes its estimates: `$CRITERION_HOME`, else `target/criterion`.
pub fn criterion_dir() -> PathBuf {
    std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| super::data::data_dir().with_file_name("criterion"))
}

/// The median time per iteration, in nanoseconds, of `id` ("group/function/parameter"),
/// if it was measured in this run.
fn median_ns(id: &str, since: SystemTime) -> Option<f64> {
    let path = criterion_dir().join(id).join("new/estimates.json");
    let fresh = std::fs::metadata(&path).ok()?.modified().ok()? >= since;
    if !fresh {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.1} µs", ns / 1e3)
    }
}

fn rate(per_second: f64) -> String {
    format!("{:.0}/s", per_second)
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// The copies of `read::list_products`' SQL for the two filters, as the engine builds them.
/// If the engine's query changes, change these with it.
const LOW_STOCK_SQL: &str = "SELECT p.id, p.name, p.description, p.sku, p.price, l.name, p.reorder_point, p.version, p.created_at, p.updated_at FROM products p JOIN locations l ON l.id = p.location_id WHERE p.archived_at IS NULL AND p.reorder_point IS NOT NULL AND p.on_hand_total - p.reserved_total <= p.reorder_point AND ?3 IS NULL AND ?4 IS NULL AND ?5 IS NULL AND ?6 IS NULL ORDER BY p.id LIMIT ?1 OFFSET ?2";
const PREFIX_SQL: &str = "SELECT p.id, p.name, p.description, p.sku, p.price, l.name, p.reorder_point, p.version, p.created_at, p.updated_at FROM products p JOIN locations l ON l.id = p.location_id WHERE p.archived_at IS NULL AND ((p.sku >= ?3 AND (?4 IS NULL OR p.sku < ?4)) OR (p.name >= ?5 COLLATE NOCASE AND (?6 IS NULL OR p.name < ?6 COLLATE NOCASE))) ORDER BY p.id LIMIT ?1 OFFSET ?2";

/// Records `EXPLAIN QUERY PLAN` of the low-stock and prefix queries on the catalogue file.
pub fn query_plans(path: &Path) {
    let conn = super::data::read_only(path);
    for (name, sql, args) in [
        ("low_stock", LOW_STOCK_SQL, [None, None, None, None]),
        (
            "q=LAP",
            PREFIX_SQL,
            [Some("LAP"), Some("LAQ"), Some("lap"), Some("laq")],
        ),
    ] {
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("explain");
        let rows: Vec<String> = stmt
            .query_map(
                rusqlite::params![10, 0, args[0], args[1], args[2], args[3]],
                |r| r.get::<_, String>(3),
            )
            .expect("plan")
            .collect::<rusqlite::Result<_>>()
            .expect("plan rows");
        fact(format!("plan {name}: {}", rows.join(" | ")));
    }
}

struct Table {
    out: String,
    since: SystemTime,
}

impl Table {
    fn get(&self, id: &str) -> Option<f64> {
        median_ns(id, self.since)
    }

    fn row(&mut self, cells: [String; 4]) {
        let _ = writeln!(self.out, "| {} |", cells.join(" | "));
    }

    /// `a` against `b` as throughput (b's time over a's): "engine is x of raw".
    fn versus(&mut self, what: &str, a: &str, b: &str, target: Option<(f64, &str)>) {
        if let (Some(ta), Some(tb)) = (self.get(a), self.get(b)) {
            let ratio = tb / ta;
            let goal = target.map_or(String::new(), |(min, text)| {
                format!("{text}: {}", verdict(ratio >= min))
            });
            self.row([
                what.to_owned(),
                format!("{} vs {}", time(ta), time(tb)),
                format!("{:.2}x ({} vs {})", ratio, rate(1e9 / ta), rate(1e9 / tb)),
                goal,
            ]);
        }
    }

    /// How much slower `a` is than `b`, in percent of `b`'s time.
    fn slowdown(&mut self, what: &str, a: &str, b: &str, max_percent: Option<f64>) {
        if let (Some(ta), Some(tb)) = (self.get(a), self.get(b)) {
            let percent = (ta / tb - 1.0) * 100.0;
            let goal = max_percent.map_or(String::new(), |m| {
                format!("≤ {m}% slower: {}", verdict(percent <= m))
            });
            self.row([
                what.to_owned(),
                format!("{} vs {}", time(ta), time(tb)),
                format!("{percent:+.1}%"),
                goal,
            ]);
        }
    }

    fn under(&mut self, what: &str, a: &str, max_ns: f64, per_iter: f64) {
        if let Some(t) = self.get(a) {
            let goal = if max_ns > 0.0 {
                format!("< {}: {}", time(max_ns), verdict(t < max_ns))
            } else {
                String::new()
            };
            self.row([what.to_owned(), time(t), rate(per_iter * 1e9 / t), goal]);
        }
    }

    fn at_least(&mut self, what: &str, a: &str, per_iter: f64, min_rate: f64) {
        if let Some(t) = self.get(a) {
            let r = per_iter * 1e9 / t;
            self.row([
                what.to_owned(),
                time(t),
                format!("{} ops/s", rate(r).trim_end_matches("/s")),
                format!("≥ {}: {}", rate(min_rate), verdict(r >= min_rate)),
            ]);
        }
    }
}

/// The target, if any, that a paired comparison is judged by.
fn pair_goal(name: &str, ratio: f64) -> String {
    if name.contains("engine_add_key_vs_engine_add") {
        let slower = (1.0 / ratio - 1.0) * 100.0;
        format!("≤ 15% slower ({slower:+.1}%): {}", verdict(slower <= 15.0))
    } else if name.contains("_vs_raw_add/") && name.contains("engine") {
        format!("≥ 0.70x: {}", verdict(ratio >= 0.70))
    } else if name.contains("writers_8_vs_1") {
        format!("≥ 1.00x: {}", verdict(ratio >= 1.0))
    } else {
        String::new()
    }
}

/// Prints the tables (and writes them to `target/bench-data/summary.md`).
pub fn report(since: SystemTime, pairs: &[Pair]) {
    let mut t = Table {
        out: String::new(),
        since,
    };
    if !pairs.is_empty() {
        let _ = writeln!(
            t.out,
            "\n## Interleaved A/B rounds (median of per-round ratios; a/b per operation)\n\n| comparison (a vs b) | a | b | throughput a/b, median [p25..p75] | target |\n|---|---|---|---|---|"
        );
        for p in pairs {
            let _ = writeln!(
                t.out,
                "| {} | {} | {} | {:.2}x [{:.2}..{:.2}] ({} rounds of {} ops) | {} |",
                p.name,
                time(p.a_ns),
                time(p.b_ns),
                p.ratio,
                p.ratio_p25,
                p.ratio_p75,
                p.rounds,
                p.burst,
                pair_goal(&p.name, p.ratio)
            );
        }
    }
    let _ = writeln!(
        t.out,
        "\n## Summary of this run (criterion medians)\n\n| comparison | medians (per call) | ratio | target |\n|---|---|---|---|"
    );
    for d in ["full", "normal"] {
        t.versus(
            &format!("add: engine vs raw ({d})"),
            &format!("writes/engine_add/{d}"),
            &format!("writes/raw_add/{d}"),
            Some((0.70, "≥ 0.70x")),
        );
        t.versus(
            &format!("reserve/unreserve: engine vs raw add ({d})"),
            &format!("writes/engine_reserve_unreserve/{d}"),
            &format!("writes/raw_add/{d}"),
            Some((0.70, "≥ 0.70x")),
        );
        t.slowdown(
            &format!("idempotency key vs none ({d})"),
            &format!("writes/engine_add_key/{d}"),
            &format!("writes/engine_add/{d}"),
            Some(15.0),
        );
        t.slowdown(
            &format!("raw + expiry probe vs raw ({d})"),
            &format!("writes/raw_add_expiry_probe/{d}"),
            &format!("writes/raw_add/{d}"),
            None,
        );
        t.versus(
            &format!("hot product: 8 threads vs 1 ({d})"),
            &format!("hot/writers_8/{d}"),
            &format!("hot/writers_1/{d}"),
            Some((1.0, "≥ 1.00x")),
        );
        t.at_least(
            &format!("batch of 100 ops ({d})"),
            &format!("batch/ops_100/{d}"),
            100.0,
            100_000.0,
        );
    }
    t.versus(
        "add: durability full vs normal (engine)",
        "writes/engine_add/full",
        "writes/engine_add/normal",
        None,
    );
    t.versus(
        "add: durability full vs normal (raw)",
        "writes/raw_add/full",
        "writes/raw_add/normal",
        None,
    );
    for (what, id, max) in [
        ("get_product (1M ledger)", "reads_1m/get_product", 0.0),
        (
            "history first page, 10",
            "reads_1m/history_first_page_10",
            1e6,
        ),
        (
            "history first page, 100",
            "reads_1m/history_first_page_100",
            1e6,
        ),
        (
            "history deep cursor page, 100",
            "reads_1m/history_deep_cursor_page_100",
            1e6,
        ),
        (
            "history offset 10000, page 10",
            "reads_1m/history_offset_10000_page_10",
            0.0,
        ),
        ("products page, no filter", "catalogue/list_page_10", 0.0),
        ("low stock page, 10", "catalogue/low_stock_page_10", 5e6),
        ("low stock page, 100", "catalogue/low_stock_page_100", 5e6),
        ("prefix q=LAP page, 10", "catalogue/prefix_lap_page_10", 5e6),
        (
            "prefix q=SPK-0999 (10 matches)",
            "catalogue/prefix_selective_page_10",
            5e6,
        ),
    ] {
        t.under(what, id, max, 1.0);
    }
    let facts = FACTS.lock().unwrap_or_else(|e| e.into_inner());
    if !facts.is_empty() {
        let _ = writeln!(t.out);
        for f in facts.iter() {
            let _ = writeln!(t.out, "- {f}");
        }
    }
    println!("{}", t.out);
    let path = super::data::data_dir().join("summary.md");
    if let Err(e) = std::fs::write(&path, &t.out) {
        eprintln!("cannot write {}: {e}", path.display());
    }
}
