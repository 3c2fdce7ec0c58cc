//! Tills as processes of their own, killed with SIGKILL: at every step of a sync in turn, and
//! at random in a simulation of four tills selling 500 sales each through links that drop,
//! swallow answers and hang, while central itself is killed and restarted, restored once from
//! a backup taken earlier in the run, and one till's files are copied onto a second device.
//!
//! This binary is both sides (`harness = false`): run with `till <args>` it is one till
//! process, driven over stdin/stdout one command a line; otherwise it runs the scenarios
//! (a name given as an argument runs only the scenarios whose name contains it).

mod common;

use common::*;
use inventory::{ErrorCode, Uuid};
use inventory_till::{Till, TillOptions};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SHOP: &str = "Shop 1";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("till") {
        return till_process(&args[1..]);
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let scenarios: [(&str, fn()); 2] = [
        (
            "a_till_process_killed_at_every_step_of_a_sync_loses_no_sale_and_applies_none_twice",
            killed_at_every_step,
        ),
        (
            "four_tills_selling_500_each_through_faults_a_restore_and_a_clone_agree_with_central",
            simulation,
        ),
    ];
    for (name, run) in scenarios {
        if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let start = Instant::now();
        println!("test {name} ...");
        run();
        println!("test {name} ... ok ({:.1}s)", start.elapsed().as_secs_f64());
    }
}

/// One till, one command a line on stdin, one answer a line on stdout.
fn till_process(args: &[String]) {
    let [db, url, key, till_id, location] = args else {
        panic!("till DB URL KEY TILL_ID LOCATION")
    };
    let options = TillOptions {
        timeout: Duration::from_secs(10),
        ..TillOptions::default()
    };
    let till = Till::open_with(db, url, key, till_id, location, options).unwrap();
    let mut out = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        let answer = match words.as_slice() {
            ["target", product, n] => {
                till.set_target(Uuid::parse_str(product).unwrap(), n.parse().unwrap())
                    .unwrap();
                "ok".to_owned()
            }
            ["sell", product, quantity] => {
                match till.sell(Uuid::parse_str(product).unwrap(), quantity.parse().unwrap()) {
                    Ok(sale) => format!("sold {}", sale.reference),
                    Err(e) => format!("refused {}", e.code.as_str()),
                }
            }
            ["sync"] => {
                let r = till.sync().unwrap();
                if r.rewound {
                    // Kept across this process's deaths, for the simulation to count.
                    let mut log = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(format!("{db}.rewound"))
                        .unwrap();
                    writeln!(log, "{}", r.repushed).unwrap();
                }
                format!(
                    "synced {} {} {} {} {:?}",
                    u8::from(r.complete),
                    r.pushed,
                    r.already_applied,
                    r.conflicts.len(),
                    r.error
                )
            }
            ["pending"] => format!("pending {}", till.pending().unwrap().len()),
            ["verify"] => format!("verify {}", till.inventory().verify().unwrap().ok),
            _ => panic!("unknown command {line:?}"),
        };
        writeln!(out, "{answer}").unwrap();
        out.flush().unwrap();
    }
}

/// A till process and its pipes.
struct TillProcess {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    args: Vec<String>,
}

impl TillProcess {
    fn spawn(db: &Path, url: &str, key: &str, till_id: &str) -> TillProcess {
        let args = vec![
            "till".to_owned(),
            db.display().to_string(),
            url.to_owned(),
            key.to_owned(),
            till_id.to_owned(),
            SHOP.to_owned(),
        ];
        Self::spawn_with(args)
    }

    fn spawn_with(args: Vec<String>) -> TillProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        TillProcess {
            child,
            stdin,
            lines,
            args,
        }
    }

    fn send(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn answer(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(60))
            .expect("the till answers")
    }

    fn ask(&mut self, command: &str) -> String {
        self.send(command);
        self.answer()
    }

    /// SIGKILL, wait, and a new process on the same files.
    fn kill_and_restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        *self = Self::spawn_with(self.args.clone());
    }

    /// (complete, pushed) of a sync.
    fn sync(&mut self) -> (bool, u64) {
        let answer = self.ask("sync");
        let words: Vec<&str> = answer.split(' ').collect();
        assert_eq!(words[0], "synced", "{answer}");
        assert_eq!(words[4], "0", "no conflict: {answer}");
        (words[1] == "1", words[2].parse().unwrap())
    }

    fn sell(&mut self, product: Uuid, quantity: i64) -> Option<String> {
        let answer = self.ask(&format!("sell {product} {quantity}"));
        match answer.split_once(' ') {
            Some(("sold", reference)) => Some(reference.to_owned()),
            Some(("refused", code)) if code == ErrorCode::InsufficientStock.as_str() => None,
            _ => panic!("{answer}"),
        }
    }

    /// Syncs until a sync completes with nothing left to push.
    fn drain(&mut self) {
        let mut last = String::new();
        for _ in 0..100 {
            last = self.ask("sync");
            if last.starts_with("synced 1 ") && self.ask("pending") == "pending 0" {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the till did not drain its outbox: {last}");
    }
}

impl Drop for TillProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every COMMIT at central is applied once: central's file read as it is now.
fn assert_none_twice(central: &Central, products: &[Uuid]) -> HashMap<String, i64> {
    let inv = central.open();
    commits(&inv, products)
        .into_iter()
        .map(|(reference, applied)| {
            assert_eq!(
                applied.len(),
                1,
                "{reference} applied {} times",
                applied.len()
            );
            (reference, applied[0].quantity)
        })
        .collect()
}

/// The sales in a till's ledger, its process stopped.
fn ledger_sales(db: &Path, till_id: &str) -> Vec<(String, i64)> {
    sales_in_ledger(&inventory::Inventory::open(db).unwrap(), till_id)
}

fn killed_at_every_step() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("central.db");
    let (ids, keys) = central_file(&db, SHOP, &[("A", 500), ("B", 500)], &["till-T1"]);
    let central = Central::start(&db);
    let upstream = Arc::new(AtomicUsize::new(central.port as usize));
    let proxy = Proxy::start(upstream);
    let till_db = dir.path().join("t1.db");
    let mut till = TillProcess::spawn(&till_db, &proxy.url(), &keys["till-T1"], "T1");
    for id in &ids {
        assert_eq!(till.ask(&format!("target {id} 300")), "ok");
    }
    assert!(till.sync().0);

    let mut finished = None;
    for n in 0..100 {
        for (product, quantity) in [(ids[0], 1), (ids[1], 2), (ids[0], 1)] {
            till.sell(product, quantity).expect("within the allotment");
        }
        // The first n answers reach the till; central acts on the next, whose answer is held
        // while the till waits for it, and the till's process is killed there.
        let held = proxy.held.load(Ordering::SeqCst);
        proxy.hold_after(n);
        till.send("sync");
        let deadline = Instant::now() + Duration::from_secs(30);
        let done = loop {
            if proxy.held.load(Ordering::SeqCst) > held {
                break None;
            }
            match till.lines.recv_timeout(Duration::from_millis(5)) {
                Ok(answer) => break Some(answer),
                Err(RecvTimeoutError::Timeout) => assert!(Instant::now() < deadline),
                Err(e) => panic!("{e}"),
            }
        };
        if let Some(answer) = done {
            assert!(answer.starts_with("synced 1 "), "{answer}");
            finished = Some(n);
            break;
        }
        till.kill_and_restart();
        proxy.set(Mode::Pass);
        assert_none_twice(&central, &ids);
    }
    let steps = finished.expect("a sync ends once no answer is held");
    assert!(
        steps > 6,
        "the sync was killed at each of its {steps} exchanges"
    );
    till.drain();
    assert_eq!(till.ask("verify"), "verify true");
    drop(till);

    let applied = assert_none_twice(&central, &ids);
    let sold = ledger_sales(&till_db, "T1");
    assert_eq!(sold.len(), 3 * (steps + 1));
    assert_eq!(applied.len(), sold.len(), "every sale applied, once");
    for (reference, quantity) in &sold {
        assert_eq!(applied[reference], *quantity, "{reference}");
    }
    assert!(central.open().verify().unwrap().ok);
}

/// How many sales each till makes in the simulation.
const SALES: usize = 500;
const TILLS: usize = 4;

fn simulation() {
    let seed = std::env::var("TILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    println!("simulation seed {seed} (TILL_SEED={seed} runs it again)");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("central.db");
    let names: Vec<String> = (1..=TILLS).map(|n| format!("till-T{n}")).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let stock = 10_000;
    let (ids, keys) = central_file(
        &db,
        SHOP,
        &[("A", stock), ("B", stock), ("C", stock)],
        &name_refs,
    );
    let central = Mutex::new(Central::start(&db));
    let upstream = Arc::new(AtomicUsize::new(central.lock().unwrap().port as usize));
    let selling = AtomicBool::new(true);
    let restarts = AtomicUsize::new(0);
    let till_dbs: Vec<PathBuf> = (1..=TILLS)
        .map(|n| dir.path().join(format!("T{n}.db")))
        .collect();
    let faults = Mutex::new(HashMap::<&str, usize>::new());
    let backup = dir.path().join("backup.db");
    let restored = AtomicBool::new(false);
    // Sales made by all tills, and syncs that completed having pushed at least one sale.
    let sales_made = AtomicUsize::new(0);
    let pushing_syncs = AtomicUsize::new(0);
    let clone_db = dir.path().join("T1-clone.db");

    std::thread::scope(|s| {
        // Central killed (SIGKILL) and restarted every so often while the tills sell; backed
        // up live once a quarter of the sales are made, and restored from that backup once more
        // syncs have pushed sales since than there are tills (so at least one sync began after
        // the backup, and its acknowledged sales are what the restore takes from central).
        let chaos = s.spawn(|| {
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut pushes_at_backup = None;
            for turn in 0.. {
                let wake = Instant::now() + Duration::from_millis(rng.u64(300..1500));
                while Instant::now() < wake {
                    if !selling.load(Ordering::SeqCst)
                        && turn > 5
                        && restored.load(Ordering::SeqCst)
                    {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                let mut c = central.lock().unwrap();
                let ended = !selling.load(Ordering::SeqCst);
                if pushes_at_backup.is_none()
                    && (sales_made.load(Ordering::SeqCst) >= TILLS * SALES / 4 || ended)
                {
                    cli(&[
                        "backup",
                        "--db",
                        &c.db.display().to_string(),
                        "--to",
                        &backup.display().to_string(),
                    ]);
                    pushes_at_backup = Some(pushing_syncs.load(Ordering::SeqCst));
                }
                c.kill();
                std::thread::sleep(Duration::from_millis(rng.u64(50..400)));
                let pushed_since = pushes_at_backup
                    .is_some_and(|at| pushing_syncs.load(Ordering::SeqCst) > at + TILLS);
                if !restored.load(Ordering::SeqCst)
                    && pushes_at_backup.is_some()
                    && (pushed_since || ended)
                {
                    let said = cli(&[
                        "restore",
                        "--from",
                        &backup.display().to_string(),
                        "--db",
                        &c.db.display().to_string(),
                    ]);
                    assert!(said.contains("tills will push again"), "{said}");
                    restored.store(true, Ordering::SeqCst);
                }
                c.restart();
                upstream.store(c.port as usize, Ordering::SeqCst);
                restarts.fetch_add(1, Ordering::SeqCst);
            }
        });
        let drivers: Vec<_> = (0..TILLS)
            .map(|t| {
                let (ids, keys, upstream, faults) = (&ids, &keys, upstream.clone(), &faults);
                let (till_db, clone_db) = (&till_dbs[t], &clone_db);
                let (sales_made, pushing_syncs) = (&sales_made, &pushing_syncs);
                s.spawn(move || {
                    let mut rng = fastrand::Rng::with_seed(seed.wrapping_add(1 + t as u64));
                    let id = format!("T{}", t + 1);
                    let proxy = Proxy::start(upstream.clone());
                    let mut till = TillProcess::spawn(
                        till_db,
                        &proxy.url(),
                        &keys[&format!("till-{id}")],
                        &id,
                    );
                    for p in ids {
                        assert_eq!(till.ask(&format!("target {p} 40")), "ok");
                    }
                    // The catalogue and a first allotment (central may be down a moment).
                    till.drain();
                    let fault = |name: &'static str| {
                        *faults.lock().unwrap().entry(name).or_default() += 1;
                    };
                    let mut sold = 0;
                    let synced = |(complete, pushed): (bool, u64)| {
                        if complete && pushed > 0 {
                            pushing_syncs.fetch_add(1, Ordering::SeqCst);
                        }
                    };
                    let mut next_sync = rng.usize(5..40);
                    let mut clone = None;
                    while sold < SALES {
                        if t == 0 && sold == SALES / 2 && clone.is_none() {
                            fault("till copied onto a second device");
                            clone = Some(copy_onto_a_second_device(
                                &mut till,
                                till_db,
                                clone_db,
                                upstream.clone(),
                                ids[0],
                            ));
                        }
                        let product = ids[rng.usize(..ids.len())];
                        match till.sell(product, rng.i64(1..=3)) {
                            Some(_) => {
                                sold += 1;
                                sales_made.fetch_add(1, Ordering::SeqCst);
                            }
                            None => {
                                // The allotment is used up: sync (central may be down).
                                synced(till.sync());
                                std::thread::sleep(Duration::from_millis(20));
                                continue;
                            }
                        }
                        if sold < next_sync {
                            continue;
                        }
                        next_sync = sold + rng.usize(5..40);
                        match rng.u8(..5) {
                            0 => {
                                fault("link down");
                                proxy.set(Mode::Refuse);
                                let (complete, _) = till.sync();
                                assert!(!complete);
                                proxy.set(Mode::Pass);
                            }
                            1 => {
                                fault("answer lost");
                                proxy.swallow_after(rng.usize(0..8));
                                synced(till.sync());
                                proxy.set(Mode::Pass);
                            }
                            2 => {
                                fault("till killed mid-sync");
                                proxy.hold_after(rng.usize(0..8));
                                let held = proxy.held.load(Ordering::SeqCst);
                                till.send("sync");
                                let deadline = Instant::now() + Duration::from_secs(30);
                                let mut answered = false;
                                while proxy.held.load(Ordering::SeqCst) == held && !answered {
                                    match till.lines.recv_timeout(Duration::from_millis(5)) {
                                        Ok(_) => answered = true,
                                        Err(_) => assert!(Instant::now() < deadline),
                                    }
                                }
                                till.kill_and_restart();
                                proxy.set(Mode::Pass);
                            }
                            _ => {
                                synced(till.sync());
                            }
                        }
                    }
                    (till, proxy, clone)
                })
            })
            .collect();
        let ended: Vec<_> = drivers.into_iter().map(|d| d.join()).collect();
        // Central up for good, then every outbox is drained.
        selling.store(false, Ordering::SeqCst);
        chaos.join().unwrap();
        let mut tills: Vec<_> = ended.into_iter().map(|t| t.unwrap()).collect();
        for (till, _, clone) in &mut tills {
            till.drain();
            assert_eq!(till.ask("verify"), "verify true");
            if let Some((clone, _)) = clone {
                // Refused still, its sales kept in its outbox: none reached central.
                refused(clone);
                assert_eq!(clone.ask("pending"), format!("pending {CLONE_SALES}"));
                assert_eq!(clone.ask("verify"), "verify true");
            }
        }
        // What central reserves is what the tills hold.
        let level = get(
            &url_of(&central),
            &format!("/api/products/{}/inventory?location=Shop%201", ids[0]),
        );
        let held: i64 = (1..=TILLS)
            .map(|n| {
                get(
                    &url_of(&central),
                    &format!("/api/reservations?reference=till:T{n}"),
                )
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["product_id"] == ids[0].to_string())
                .map(|r| r["quantity"].as_i64().unwrap())
                .sum::<i64>()
            })
            .sum();
        assert_eq!(level["reserved"].as_i64().unwrap(), held);
    });
    println!(
        "  faults: {:?}, central restarted {} times",
        faults.lock().unwrap(),
        restarts.load(Ordering::SeqCst)
    );
    assert!(restarts.load(Ordering::SeqCst) > 5);
    assert!(restored.load(Ordering::SeqCst), "central was restored");
    println!(
        "  syncs that pushed sales: {}",
        pushing_syncs.load(Ordering::SeqCst)
    );
    // Each till saw the restore, and between them they pushed again what central had lost.
    let mut repushed = 0;
    for till_db in &till_dbs {
        let log = std::fs::read_to_string(format!("{}.rewound", till_db.display()))
            .expect("the till saw central rewound");
        repushed += log.lines().map(|l| l.parse::<u64>().unwrap()).sum::<u64>();
    }
    println!("  sales pushed again after the restore: {repushed}");
    assert!(repushed > 0);

    let central = central.into_inner().unwrap();
    let applied = assert_none_twice(&central, &ids);
    let mut total = 0;
    for (n, till_db) in till_dbs.iter().enumerate() {
        let id = format!("T{}", n + 1);
        let sold = ledger_sales(till_db, &id);
        assert_eq!(sold.len(), SALES, "{id} sold {SALES}");
        let at_central = applied
            .keys()
            .filter(|r| r.starts_with(&format!("sale:{id}:")))
            .count();
        assert_eq!(at_central, SALES, "{id}: one COMMIT per sale");
        for (reference, quantity) in &sold {
            assert_eq!(applied[reference], *quantity, "{reference}");
        }
        total += sold.iter().map(|s| s.1).sum::<i64>();
    }
    // The copy's own sales never reached central.
    let copied = ledger_sales(&clone_db, "T1");
    let own: std::collections::HashSet<String> = ledger_sales(&till_dbs[0], "T1")
        .into_iter()
        .map(|s| s.0)
        .collect();
    let clone_only: Vec<&String> = copied
        .iter()
        .map(|s| &s.0)
        .filter(|r| !own.contains(*r))
        .collect();
    assert_eq!(clone_only.len(), CLONE_SALES);
    for reference in clone_only {
        assert!(
            !applied.contains_key(reference),
            "{reference} from the copy"
        );
    }
    let inv = central.open();
    let on_hand: i64 = ids
        .iter()
        .map(|p| inv.get_stock_level(*p, SHOP).unwrap().on_hand)
        .sum();
    assert_eq!(on_hand, 3 * stock - total, "every unit sold once");
    assert!(inv.verify().unwrap().ok);
}

/// Sales the copy of a till's files makes on its second device.
const CLONE_SALES: usize = 3;

/// Runs the server's command line (backup, restore); its output.
fn cli(args: &[&str]) -> String {
    let out = Command::new(server_bin()).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stops the till's process with its outbox drained, copies its files as a disk image would
/// be copied onto a second device, starts it again and syncs it once (which leaves central a
/// new token), then runs a till on the copy: it sells from its copy of the allotment, and its
/// sync is refused (CONFLICT), however often central is down meanwhile.
fn copy_onto_a_second_device(
    till: &mut TillProcess,
    till_db: &Path,
    clone_db: &Path,
    upstream: Arc<AtomicUsize>,
    product: Uuid,
) -> (TillProcess, Proxy) {
    till.drain();
    let _ = till.child.kill();
    let _ = till.child.wait();
    for suffix in ["", "-wal", ".till", ".till-wal"] {
        let from = PathBuf::from(format!("{}{suffix}", till_db.display()));
        if from.exists() {
            std::fs::copy(&from, format!("{}{suffix}", clone_db.display())).unwrap();
        }
    }
    *till = TillProcess::spawn_with(till.args.clone());
    till.drain();
    let proxy = Proxy::start(upstream);
    let mut args = till.args.clone();
    args[1] = clone_db.display().to_string();
    args[2] = proxy.url();
    let mut clone = TillProcess::spawn_with(args);
    for _ in 0..CLONE_SALES {
        assert!(
            clone.sell(product, 1).is_some(),
            "the copy sells from its allotment"
        );
    }
    refused(&mut clone);
    (clone, proxy)
}

/// Syncs the copy of a till's files until central answers it (it may be down meanwhile), and
/// finds it refused, having pushed nothing.
fn refused(clone: &mut TillProcess) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = clone.ask("sync");
        if answer.contains("CONFLICT") {
            assert!(answer.starts_with("synced 0 0 "), "{answer}");
            return;
        }
        assert!(answer.contains("UNREACHABLE"), "{answer}");
        assert!(
            Instant::now() < deadline,
            "the copy was not refused: {answer}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn url_of(central: &Mutex<Central>) -> String {
    central.lock().unwrap().url()
}
