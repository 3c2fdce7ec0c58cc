//! What an operator relies on: dry runs, imports, backups and restores of a live file, and the
//! faults found by fault injection (a file deleted or replaced while open, several processes
//! creating one file at once, another process holding the write lock past the busy timeout).
//!
//! Tests that need a second process run this same test binary again with `INVENTORY_CHILD`
//! set, which makes the named test play the child's part instead. Tests of files (backups,
//! restores, a vanished file, concurrent creation, the busy timeout) run on SQLite whatever
//! store the suite runs against; the rest run on both.

mod common;

use common::*;
use inventory::{
    Call, CommandEnd, CountImport, ErrorCode, Inventory, MovementKind, MovementQuery, Observer,
    Options, Overwrite, Price, ProductImport, StockOp, Write,
};
use inventory_test_support::wait_until;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Runs the test named `test` of this binary as a child process with `INVENTORY_CHILD=arg`.
fn child(test: &str, arg: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("INVENTORY_CHILD", arg)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

fn child_arg() -> Option<String> {
    std::env::var("INVENTORY_CHILD").ok()
}

fn row(sku: &str, name: &str, price: &str) -> ProductImport {
    ProductImport {
        sku: sku.into(),
        name: name.into(),
        price: Price::parse(price).unwrap(),
        description: None,
        location: Some("Warehouse A".into()),
        initial_quantity: None,
        reorder_point: None,
    }
}

#[test]
fn a_dry_run_checks_everything_and_changes_nothing() {
    let f = fixture();
    let id = product(&f.inv, "D1", 5);
    let dry = Call {
        dry_run: true,
        ..Call::default()
    };
    let level = f
        .inv
        .write(Write::level(StockOp::remove(id, 3)), &dry)
        .unwrap()
        .value;
    assert_eq!(level.on_hand, 2, "the result is what it would have been");
    assert_eq!(f.inv.get_inventory(id).unwrap().totals.on_hand, 5);
    let e = f
        .inv
        .write(Write::level(StockOp::remove(id, 9)), &dry)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InsufficientStock);
    assert_eq!(
        f.inv
            .list_movements(id, &MovementQuery::default())
            .unwrap()
            .len(),
        1
    );
    assert_verified(&f.inv);
}

#[test]
fn product_imports_create_update_and_are_idempotent() {
    let f = fixture();
    let existing = product(&f.inv, "OLD-1", 2);
    let mut new = row("NEW-1", "New one", "3.50");
    new.initial_quantity = Some(7);
    new.reorder_point = Some(Some(2));
    let mut renamed = row("OLD-1", "Renamed", "9.99");
    renamed.initial_quantity = Some(100); // not for existing products
    let rows = vec![new, renamed];
    let first = f.inv.import_products(rows.clone(), false).unwrap();
    assert_eq!((first.created, first.updated, first.unchanged), (1, 1, 0));
    let old = f.inv.get_product(existing).unwrap();
    assert_eq!(old.product.name, "Renamed");
    assert_eq!(old.inventory.totals.on_hand, 2);
    let again = f.inv.import_products(rows, false).unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 2));
    assert_eq!(f.inv.get_product(existing).unwrap().product.version, 2);
    assert_verified(&f.inv);
}

#[test]
fn a_failing_row_refuses_the_whole_import_and_is_named() {
    let f = fixture();
    let mut bad = row("B-2", "", "1.00");
    bad.location = None;
    let rows = vec![
        row("B-1", "Fine", "1.00"),
        bad,
        row("B-3", "Fine too", "1.00"),
    ];
    let e = f.inv.import_products(rows.clone(), false).unwrap_err();
    assert_eq!(
        (e.code, e.index, e.field.as_deref()),
        (ErrorCode::ValidationError, Some(1), Some("name"))
    );
    assert!(f.inv.list_products(&Default::default()).unwrap().is_empty());
    // A dry run reports the same, and a clean file dry-runs without creating anything.
    let e = f.inv.import_products(rows, true).unwrap_err();
    assert_eq!(e.index, Some(1));
    let dry = f
        .inv
        .import_products(vec![row("B-1", "Fine", "1.00")], true)
        .unwrap();
    assert_eq!(dry.created, 1);
    assert!(f.inv.list_products(&Default::default()).unwrap().is_empty());
}

#[test]
fn count_imports_adjust_with_their_reference_and_skip_what_matches() {
    let f = fixture();
    let id = product(&f.inv, "C-1", 5);
    let counts = vec![
        CountImport {
            sku: "C-1".into(),
            location: "Warehouse A".into(),
            counted: 8,
        },
        CountImport {
            sku: "C-1".into(),
            location: "Shop".into(),
            counted: 2,
        },
    ];
    let summary = f
        .inv
        .import_counts("import:levels.csv", counts.clone(), false)
        .unwrap();
    assert_eq!((summary.created, summary.updated), (1, 1));
    let history = f.inv.list_movements(id, &MovementQuery::default()).unwrap();
    let adjusts: Vec<_> = history
        .iter()
        .filter(|m| m.kind == MovementKind::Adjust)
        .collect();
    assert_eq!(adjusts.len(), 2);
    assert!(
        adjusts
            .iter()
            .all(|m| m.reference.as_deref() == Some("import:levels.csv"))
    );
    let again = f
        .inv
        .import_counts("import:levels.csv", counts, false)
        .unwrap();
    assert_eq!(again.unchanged, 2);
    let e = f
        .inv
        .import_counts(
            "x",
            vec![CountImport {
                sku: "NOPE".into(),
                location: "A".into(),
                counted: 1,
            }],
            false,
        )
        .unwrap_err();
    assert_eq!(
        (e.code, e.index, e.field.as_deref()),
        (ErrorCode::NotFound, Some(0), Some("sku"))
    );
    assert_verified(&f.inv);
}

/// Backups of a file that 16 threads are writing to: every write acknowledged before the backup
/// began is in the copy, and the copy verifies.
#[test]
fn a_backup_of_a_busy_file_holds_every_acknowledged_write() {
    let f = sqlite_fixture();
    let id = product(&f.inv, "BK-1", 0);
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..16)
        .map(|_| {
            let (inv, acknowledged, stop) =
                (f.inv.clone(), Arc::clone(&acknowledged), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    inv.add_stock(StockOp::add(id, 1)).unwrap();
                    acknowledged.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    // Some writes acknowledged before the backup, with the writers still going.
    wait_until(Duration::from_secs(30), "the writers get going", || {
        acknowledged.load(Ordering::SeqCst) >= 200
    });
    let before = acknowledged.load(Ordering::SeqCst) as i64;
    let target = f.store.dir.path().join("copy.db");
    let report = f.inv.backup_to(&target).unwrap();
    stop.store(true, Ordering::Relaxed);
    writers.into_iter().for_each(|w| w.join().unwrap());
    assert!(report.bytes > 0);
    let leftovers: Vec<_> = std::fs::read_dir(f.store.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file left behind");
    assert!(inventory::verify_file(&target).unwrap().ok);
    let copy = Inventory::open(&target).unwrap();
    let copied = copy.get_inventory(id).unwrap().totals.on_hand;
    assert!(
        copied >= before,
        "the copy holds {copied} units, {before} were acknowledged before the backup"
    );
    assert!(copy.verify().unwrap().ok);
}

/// What `inventory-server backup` uses: a copy made without opening the source for writing,
/// so a missing source is refused rather than created, and a file that is not an inventory
/// database leaves no copy behind.
#[test]
fn a_file_backup_copies_without_creating_or_changing_the_source() {
    let f = sqlite_fixture();
    let id = product(&f.inv, "BF-1", 4);
    let target = f.store.dir.path().join("copy.db");
    let seen = Mutex::new(Vec::new());
    let report =
        inventory::backup_file(f.path(), &target, Overwrite::Allowed, &|written, total| {
            seen.lock().unwrap().push((written, total));
        })
        .unwrap();
    assert_eq!(
        seen.lock().unwrap().last(),
        Some(&(report.bytes, report.bytes))
    );
    let copy = Inventory::open(&target).unwrap();
    assert_eq!(copy.get_inventory(id).unwrap().totals.on_hand, 4);
    assert_verified(&copy);

    let e = inventory::backup_file(f.path(), f.path(), Overwrite::Allowed, &|_, _| {}).unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::ValidationError,
        "a copy onto its own source is refused"
    );
    assert_verified(&f.inv);

    let missing = f.store.dir.path().join("missing.db");
    let e = inventory::backup_file(
        &missing,
        f.store.dir.path().join("x.db"),
        Overwrite::Allowed,
        &|_, _| {},
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::StorageError);
    assert!(e.message.contains("missing.db"), "{}", e.message);
    assert!(!missing.exists(), "the source is not created");
    let junk = f.store.dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all, not even close").unwrap();
    assert!(
        inventory::backup_file(
            &junk,
            f.store.dir.path().join("y.db"),
            Overwrite::Allowed,
            &|_, _| {}
        )
        .is_err()
    );
    assert!(!f.store.dir.path().join("y.db").exists());
}

#[test]
fn a_restore_is_refused_while_another_process_holds_the_file() {
    if let Some(path) = child_arg() {
        // The child: hold the database open until stdin closes.
        let _inv = Inventory::open(&path).unwrap();
        println!("open");
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (live, saved) = (dir.path().join("live.db"), dir.path().join("saved.db"));
    {
        let inv = Inventory::open(&live).unwrap();
        inv.create_product(new_product("R-1", 3)).unwrap();
        inv.backup_to(&saved).unwrap();
        inv.create_product(new_product("R-2", 4)).unwrap();
    }
    let mut holder = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_restore_is_refused_while_another_process_holds_the_file",
            "--nocapture",
        ])
        .env("INVENTORY_CHILD", &live)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_line(&mut holder, "open");
    assert_eq!(inventory::processes_using(&live), vec![holder.id()]);
    let e = inventory::restore(&saved, &live, false).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(
        e.message.contains(&holder.id().to_string()),
        "{}",
        e.message
    );
    drop(holder.stdin.take());
    holder.wait().unwrap();
    inventory::restore(&saved, &live, false).unwrap();
    let inv = Inventory::open(&live).unwrap();
    let skus: Vec<_> = inv
        .list_products(&Default::default())
        .unwrap()
        .into_iter()
        .map(|p| p.sku)
        .collect();
    assert_eq!(skus, ["R-1"]);
    assert_verified(&inv);
    // A file that is not a verified inventory database is never restored.
    std::fs::write(dir.path().join("junk.db"), b"not a database").unwrap();
    assert!(inventory::restore(dir.path().join("junk.db"), &live, true).is_err());
    assert_eq!(inv.list_products(&Default::default()).unwrap().len(), 1);
}

fn wait_for_line(child: &mut Child, want: &str) {
    use std::io::BufRead;
    let out = child.stdout.as_mut().unwrap();
    let mut reader = std::io::BufReader::new(out);
    let mut line = String::new();
    loop {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "child ended");
        if line.trim_end().ends_with(want) {
            return;
        }
    }
}

#[test]
fn verify_file_reports_clean_damaged_and_unreadable_files() {
    let f = sqlite_fixture();
    product(&f.inv, "V-1", 3);
    f.inv.checkpoint().unwrap();
    assert!(inventory::verify_file(f.path()).unwrap().ok);
    let conn = rusqlite::Connection::open(f.path()).unwrap();
    conn.execute("UPDATE stock_levels SET on_hand = on_hand + 1", [])
        .unwrap();
    drop(conn);
    let report = inventory::verify_file(f.path()).unwrap();
    assert!(!report.ok && !report.problems.is_empty());
    let junk = f.store.dir.path().join("junk.db");
    std::fs::write(&junk, b"junk junk junk junk junk junk junk junk junk junk").unwrap();
    assert_eq!(
        inventory::verify_file(&junk).unwrap_err().code,
        ErrorCode::StorageError
    );
}

/// Found by fault injection: with the file deleted under a running engine, writes kept being
/// acknowledged and were all lost at restart.
#[test]
fn writes_are_refused_once_the_file_is_deleted_or_replaced() {
    for replace in [false, true] {
        let f = sqlite_fixture();
        let id = product(&f.inv, "F-1", 3);
        f.inv.ready().unwrap();
        std::fs::remove_file(f.path()).unwrap();
        if replace {
            std::fs::write(f.path(), b"").unwrap();
        }
        let e = f.inv.add_stock(StockOp::add(id, 1)).unwrap_err();
        assert_eq!(e.code, ErrorCode::StorageError);
        let what = if replace { "replaced" } else { "deleted" };
        assert!(e.message.contains(what), "{}", e.message);
        assert!(f.inv.ready().is_err());
        assert!(f.inv.health().is_err());
    }
}

/// Found over HTTP: after the file was deleted, the read pool opened a new connection with the
/// create flag, which made an empty file at the path (so the deletion was then reported as a
/// replacement, and a stale WAL sat beside a file it did not belong to).
#[test]
fn reads_after_the_file_is_deleted_create_no_file() {
    let f = sqlite_fixture();
    let id = product(&f.inv, "F-2", 3);
    std::fs::remove_file(f.path()).unwrap();
    // Reads at once from more threads than the pool holds connections, so that it opens more.
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..50 {
                    let _ = f.inv.get_product(id);
                }
            });
        }
    });
    assert!(!f.path().exists(), "a read created a file at the path");
    let e = f.inv.add_stock(StockOp::add(id, 1)).unwrap_err();
    assert!(e.message.contains("was deleted"), "{}", e.message);
}

/// Found by fault injection: one in four concurrent first opens failed ("table locations
/// already exists", or "database is locked" at once).
#[test]
fn processes_creating_one_file_at_once_all_succeed() {
    if let Some(path) = child_arg() {
        let inv = Inventory::open(&path).unwrap();
        inv.create_location(&format!("pid-{}", std::process::id()))
            .unwrap();
        println!("opened");
        return;
    }
    for round in 0..4 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("new-{round}.db"));
        let children: Vec<_> = (0..6)
            .map(|_| {
                child(
                    "processes_creating_one_file_at_once_all_succeed",
                    path.to_str().unwrap(),
                )
            })
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "a concurrent first open failed: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        let inv = Inventory::open(&path).unwrap();
        assert_eq!(inv.list_locations().unwrap().len(), 6);
        assert_verified(&inv);
    }
}

/// Found by fault injection: another process holding the write lock past the busy timeout gave
/// a STORAGE_ERROR "database is locked"; it is BUSY, so that clients know to retry.
#[test]
fn a_lock_held_past_the_busy_timeout_is_busy() {
    if let Some(path) = child_arg() {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        println!("locked");
        // Held until the parent closes this end, once it has met the lock.
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new()).unwrap();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.db");
    let options = Options {
        busy_timeout: Duration::from_millis(200),
        ..Options::default()
    };
    let inv = Inventory::open_with(&path, options).unwrap();
    let id = product(&inv, "BUSY-1", 1);
    let mut holder = child(
        "a_lock_held_past_the_busy_timeout_is_busy",
        path.to_str().unwrap(),
    );
    wait_for_line(&mut holder, "locked");
    let started = Instant::now();
    let e = inv.add_stock(StockOp::add(id, 1)).unwrap_err();
    assert_eq!(e.code, ErrorCode::Busy, "{e}");
    assert!(started.elapsed() >= Duration::from_millis(150));
    drop(holder.stdin.take());
    holder.wait().unwrap();
    inv.add_stock(StockOp::add(id, 1)).unwrap();
}

#[derive(Default)]
struct Recorder {
    commands: Mutex<Vec<(&'static str, CommandEnd)>>,
    groups: AtomicUsize,
    checkpoints: AtomicUsize,
}

impl Observer for Recorder {
    fn command(&self, kind: &'static str, end: CommandEnd) {
        self.commands.lock().unwrap().push((kind, end));
    }
    fn group(&self, _commands: usize, _commit: Duration) {
        self.groups.fetch_add(1, Ordering::SeqCst);
    }
    fn checkpoint(&self, _took: Duration) {
        self.checkpoints.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn the_observer_hears_of_commands_commits_and_background_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::default());
    let options = Options {
        observer: Some(recorder.clone()),
        ..Options::default()
    };
    let inv = Inventory::open_with(dir.path().join("o.db"), options).unwrap();
    let id = product(&inv, "O-1", 1);
    inv.write(Write::level(StockOp::add(id, 1)), &Call::keyed("k"))
        .unwrap();
    inv.write(Write::level(StockOp::add(id, 1)), &Call::keyed("k"))
        .unwrap();
    inv.remove_stock(StockOp::remove(id, 50)).unwrap_err();
    let commands = recorder.commands.lock().unwrap().clone();
    assert_eq!(
        commands,
        [
            ("product.create", CommandEnd::Applied),
            ("stock.add", CommandEnd::Applied),
            ("stock.add", CommandEnd::Replayed),
            (
                "stock.remove",
                CommandEnd::Failed(ErrorCode::InsufficientStock)
            ),
        ]
    );
    assert!(recorder.groups.load(Ordering::SeqCst) >= 2);
    wait_until(
        Duration::from_secs(5),
        "the checkpointer runs after the commits",
        || recorder.checkpoints.load(Ordering::SeqCst) > 0,
    );
    let stats = inv.stats().unwrap();
    assert!(stats.database_bytes.unwrap() > 0);
    assert_eq!(stats.open_reservations, 0);
}
