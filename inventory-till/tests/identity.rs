//! Tills that cannot be impersonated or rolled back (issue 31), against the real server binary
//! on real files: two tills opened under one id, a till's files copied onto a second device,
//! another key at the same location taking a till's id or its allotment, a shop front's
//! reservation released by a till's key, central restored from a backup between syncs, and a
//! made-up conflict report. Each row of the table, each failing before. Then restores
//! that keep the generation (central's database copied aside and put back while it is
//! stopped): the ledger grown past what the till saw by another client, and a rewind to
//! between a sync's check-in and its pushes. On SQLite and, with INVENTORY_TEST_PG (as
//! tests/pg/run.sh runs them), on PostgreSQL, where the copy is a template database.

mod common;

use common::*;
use inventory::{MovementKind, Scope, Uuid};
use inventory_till::{SaleOptions, Till, TillOptions};
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

const SHOP: &str = "Shop 1";

fn options() -> TillOptions {
    TillOptions {
        timeout: Duration::from_secs(10),
        ..TillOptions::default()
    }
}

fn open(path: &Path, url: &str, key: &str, id: &str) -> Till {
    Till::open_with(path, url, key, id, SHOP, options()).unwrap()
}

fn sell(till: &Till, product: Uuid, receipt: &str) {
    let sale = SaleOptions {
        sale_id: Some(receipt.to_owned()),
        ..SaleOptions::default()
    };
    till.sell_with(product, 1, &sale).unwrap();
}

fn held(url: &str, till: &str, secret: &str) -> i64 {
    get_as(
        url,
        &format!("/api/reservations?reference=till:{till}"),
        secret,
    )
    .as_array()
    .unwrap()
    .iter()
    .map(|r| r["quantity"].as_i64().unwrap())
    .sum()
}

#[test]
fn a_second_till_under_one_id_is_refused_and_no_sale_is_recorded_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let db = store.target.clone();
    let (ids, keys) = central_file(&db, SHOP, &[("A", 10)], &["till-dup"]);
    let a = ids[0];
    let mut central = Central::start(&db);
    let url = central.url();
    let first = open(&dir.path().join("one.db"), &url, &keys["till-dup"], "dup");
    let second = open(&dir.path().join("two.db"), &url, &keys["till-dup"], "dup");
    for till in [&first, &second] {
        till.sync().unwrap();
        till.set_target(a, 10).unwrap();
    }
    assert!(first.sync().unwrap().complete);
    let refused = second.sync().unwrap();
    assert!(!refused.complete);
    let error = refused.error.unwrap();
    assert_eq!(error.code, "CONFLICT", "{}", error.message);
    assert!(
        error.message.contains("another instance"),
        "{}",
        error.message
    );
    assert_eq!(held(&url, "dup", &keys["till-dup"]), 10);
    assert_eq!(
        second
            .inventory()
            .get_stock_level(a, SHOP)
            .map_or(0, |l| l.on_hand),
        0
    );

    for i in 0..10 {
        sell(&first, a, &format!("r{i}"));
    }
    // The second till holds nothing, so it sells nothing: no receipt can shadow the first's.
    assert!(second.sell(a, 1).is_err());
    let pushed = first.sync().unwrap();
    assert_eq!(pushed.pushed, 10);
    assert!(first.pending().unwrap().is_empty());
    assert!(!second.sync().unwrap().complete);
    drop((first, second));
    central.stop();
    let inv = central.open();
    let commits = commits(&inv, &ids);
    assert_eq!(commits.len(), 10);
    assert!(commits.values().all(|c| c.len() == 1));
    assert!(inv.verify().unwrap().ok);
}

#[test]
fn a_copy_of_a_tills_files_on_a_second_device_is_refused_once_the_first_synced() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let db = store.target.clone();
    let (ids, keys) = central_file(&db, SHOP, &[("A", 20)], &["till-T1"]);
    let a = ids[0];
    let mut central = Central::start(&db);
    let url = central.url();
    let path = dir.path().join("t1.db");
    let till = open(&path, &url, &keys["till-T1"], "T1");
    till.sync().unwrap();
    till.set_target(a, 10).unwrap();
    assert!(till.sync().unwrap().complete);
    drop(till);
    let copy = dir.path().join("copy.db");
    for suffix in ["", ".till"] {
        let from = format!("{}{suffix}", path.display());
        let to = format!("{}{suffix}", copy.display());
        std::fs::copy(from, to).unwrap();
    }
    let till = open(&path, &url, &keys["till-T1"], "T1");
    let clone = open(&copy, &url, &keys["till-T1"], "T1");
    sell(&till, a, "r1");
    sell(&clone, a, "r1");
    assert!(till.sync().unwrap().complete);
    let refused = clone.sync().unwrap();
    assert_eq!(refused.error.unwrap().code, "CONFLICT");
    // The copy's sale is not lost: it waits in its outbox, where an operator sees it.
    assert_eq!(clone.pending().unwrap().len(), 1);
    assert!(till.sync().unwrap().complete, "the first copy goes on");
    assert_eq!(held(&url, "T1", &keys["till-T1"]), 10);
    drop((till, clone));
    central.stop();
    let inv = central.open();
    assert_eq!(commits(&inv, &ids).len(), 1);
    assert!(inv.verify().unwrap().ok);
}

#[test]
fn another_key_cannot_take_a_tills_id_nor_release_its_allotment_nor_a_web_reservation() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let db = store.target.clone();
    let (ids, keys) = central_file(&db, SHOP, &[("A", 30)], &["victim", "thief", "web"]);
    let a = ids[0];
    let root = inventory::Inventory::open(&db)
        .unwrap()
        .create_key("root", Scope::Admin, None)
        .unwrap()
        .secret;
    let mut central = Central::start_with(&db, &["--auth", "required"]);
    let url = central.url();
    let victim = open(
        &dir.path().join("victim.db"),
        &url,
        &keys["victim"],
        "victim",
    );
    victim.sync().unwrap();
    victim.set_target(a, 10).unwrap();
    assert!(victim.sync().unwrap().complete);
    let (status, _) = post_as(
        &url,
        &format!("/api/products/{a}/stock/reserve"),
        &json!({ "quantity": 5, "location": SHOP, "reference": "order-1" }),
        &keys["web"],
    );
    assert_eq!(status, 200);

    // The thief's till under the victim's id is refused before it touches anything.
    let thief = open(&dir.path().join("thief.db"), &url, &keys["thief"], "victim");
    let refused = thief.sync().unwrap();
    assert_eq!(refused.error.unwrap().code, "FORBIDDEN");
    assert_eq!(held(&url, "victim", &keys["web"]), 10);
    for (key, reference) in [("thief", "till:victim"), ("victim", "order-1")] {
        let (status, body) = post_as(
            &url,
            &format!("/api/products/{a}/stock/unreserve"),
            &json!({ "location": SHOP, "reference": reference }),
            &keys[key],
        );
        assert_eq!(status, 403, "{key} on {reference}: {body}");
    }
    assert_eq!(held(&url, "victim", &keys["web"]), 10);
    let tills = get_as(&url, "/api/tills", &keys["web"]);
    assert_eq!(tills[0]["till"]["id"], "victim");
    assert_eq!(tills[0]["till"]["key"], "victim");
    assert_eq!(tills[0]["allotments"][0]["quantity"], 10);

    // A replaced device: an admin takes the id over, releasing the allotment in the ledger.
    let (status, _) = post_as(
        &url,
        "/api/tills/victim/take-over",
        &json!({ "release": true }),
        &keys["victim"],
    );
    assert_eq!(status, 403);
    let (status, body) = post_as(
        &url,
        "/api/tills/victim/take-over",
        &json!({ "release": true }),
        &root,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["released"], 10);
    assert_eq!(held(&url, "victim", &keys["web"]), 0);
    drop((victim, thief));
    central.stop();
    let inv = central.open();
    let released = inv
        .list_movements(a, &Default::default())
        .unwrap()
        .into_iter()
        .find(|m| m.kind == MovementKind::Unreserve)
        .unwrap();
    assert_eq!(released.reference.as_deref(), Some("till:victim"));
    assert_eq!(released.actor.as_deref(), Some("root"));
    assert!(inv.verify().unwrap().ok);
}

#[test]
fn a_sale_acknowledged_before_central_was_restored_is_pushed_again_once() {
    let dir = tempfile::tempdir().unwrap();
    // The server's backup and restore are commands on a file.
    let store = Store::sqlite(dir.path());
    let db = store.target.clone();
    let (ids, keys) = central_file(&db, SHOP, &[("A", 50)], &["till-T1"]);
    let a = ids[0];
    let mut central = Central::start(&db);
    let url = central.url();
    let till = open(&dir.path().join("t1.db"), &url, &keys["till-T1"], "T1");
    till.sync().unwrap();
    till.set_target(a, 20).unwrap();
    assert!(till.sync().unwrap().complete);
    for i in 0..3 {
        sell(&till, a, &format!("r{i}"));
    }
    assert_eq!(till.sync().unwrap().pushed, 3);
    let backup = dir.path().join("backup.db");
    let made = Command::new(server_bin())
        .args(["backup", "--db"])
        .arg(&db)
        .arg("--to")
        .arg(&backup)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    for i in 3..7 {
        sell(&till, a, &format!("r{i}"));
    }
    assert_eq!(till.sync().unwrap().pushed, 4);
    central.stop();
    let restored = Command::new(server_bin())
        .args(["restore", "--from"])
        .arg(&backup)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert!(restored.status.success(), "{restored:?}");
    let said = String::from_utf8_lossy(&restored.stdout);
    assert!(said.contains("tills"), "restore tells the operator: {said}");
    central.restart();

    let report = till.sync().unwrap();
    assert!(report.complete, "{report:?}");
    assert!(report.rewound);
    assert_eq!(report.repushed, 4);
    assert!(report.conflicts.is_empty());
    // Seen once, the rewind is not seen again.
    let again = till.sync().unwrap();
    assert!(!again.rewound);
    assert_eq!(again.repushed, 0);
    drop(till);
    central.stop();
    let inv = central.open();
    let commits = commits(&inv, &ids);
    let mut references: Vec<&String> = commits.keys().collect();
    references.sort();
    assert_eq!(references.len(), 7, "{references:?}");
    assert!(commits.values().all(|c| c.len() == 1));
    let level = inv.get_stock_level(a, SHOP).unwrap();
    assert_eq!(level.on_hand, 50 - 7);
    assert!(inv.verify().unwrap().ok);
}

#[test]
fn a_made_up_conflict_report_is_refused_and_a_real_one_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let db = store.target.clone();
    let (_, keys) = central_file(&db, SHOP, &[("A", 5)], &["till-T1", "other"]);
    let mut central = Central::start_with(&db, &["--auth", "required"]);
    let url = central.url();
    let till = open(&dir.path().join("t1.db"), &url, &keys["till-T1"], "T1");
    assert!(till.sync().unwrap().complete);
    let report = |key: &str, reference: &str| {
        post_as(
            &url,
            "/api/tills/conflicts",
            &json!({ "reference": reference, "code": "INSUFFICIENT_STOCK" }),
            &keys[key],
        )
    };
    for made_up in ["made-up", "sale:nobody:1", "sale:T1x:1"] {
        assert_eq!(report("till-T1", made_up).0, 403, "{made_up}");
    }
    assert_eq!(report("other", "sale:T1:1").0, 403);
    let (status, first) = report("till-T1", "sale:T1:1");
    assert_eq!(status, 202);
    assert_eq!(first["data"]["first"], true);
    assert_eq!(report("till-T1", "sale:T1:1").1["data"]["first"], false);
    let metrics = get_text_as(&url, "/metrics", &keys["till-T1"]);
    let counted: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("inventory_till_conflicts_total{"))
        .collect();
    assert_eq!(
        counted,
        ["inventory_till_conflicts_total{code=\"INSUFFICIENT_STOCK\"} 1"]
    );
    drop(till);
    central.stop();
}

/// The newest sequence number in central's ledger (central stopped).
fn high_water(central: &Central) -> i64 {
    let inv = central.open();
    let mut after = 0;
    loop {
        let page = inv.changes(after, Some(1000)).unwrap();
        match page.movements.last() {
            Some(m) => after = m.seq,
            None => return after,
        }
    }
}

/// Another client's writes at central, each a movement.
fn other_writes(url: &str, product: Uuid, n: usize) {
    for _ in 0..n {
        let (status, body) = post(
            url,
            &format!("/api/products/{product}/stock/add"),
            &json!({ "quantity": 1, "location": SHOP }),
        );
        assert_eq!(status, 200, "{body}");
    }
}

/// After a rewind, central holds each of the till's sales once, its stock is what was
/// received less what was sold, and its ledger verifies.
fn assert_each_sale_once(central: &mut Central, ids: &[Uuid], sales: usize, on_hand: i64) {
    central.stop();
    let inv = central.open();
    let commits = commits(&inv, ids);
    assert_eq!(commits.len(), sales, "{:?}", commits.keys());
    assert!(commits.values().all(|c| c.len() == 1), "{commits:?}");
    assert_eq!(inv.get_stock_level(ids[0], SHOP).unwrap().on_hand, on_hand);
    assert!(inv.verify().unwrap().ok);
}

#[test]
fn a_restore_that_keeps_the_generation_is_seen_though_the_ledger_grew_past_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let (ids, keys) = central_file(&store.target, SHOP, &[("A", 50)], &["till-T1"]);
    let a = ids[0];
    let mut central = Central::start(&store.target);
    let url = central.url();
    let till = open(&dir.path().join("t1.db"), &url, &keys["till-T1"], "T1");
    till.sync().unwrap();
    till.set_target(a, 20).unwrap();
    assert!(till.sync().unwrap().complete);
    for i in 0..3 {
        sell(&till, a, &format!("r{i}"));
    }
    assert_eq!(till.sync().unwrap().pushed, 3);
    central.stop();
    store.snapshot();
    central.restart();
    // Central goes on after the copy: another client, then four of the till's sales.
    other_writes(&url, a, 2);
    for i in 3..7 {
        sell(&till, a, &format!("r{i}"));
    }
    let pushed = till.sync().unwrap();
    assert!(pushed.complete && !pushed.rewound, "{pushed:?}");
    assert_eq!(pushed.pushed, 4);
    central.stop();
    let seen = high_water(&central);
    store.restore_snapshot();
    central.restart();
    // Past the high-water the till saw: the generation is the copy's, and the ledger longer.
    other_writes(&url, a, 10);
    central.stop();
    assert!(high_water(&central) > seen);
    central.restart();

    let report = till.sync().unwrap();
    assert!(report.complete, "{report:?}");
    assert!(report.rewound);
    assert_eq!(report.repushed, 4, "{report:?}");
    assert!(report.conflicts.is_empty());
    let again = till.sync().unwrap();
    assert!(again.complete && !again.rewound, "{again:?}");
    assert_eq!(again.repushed, 0);
    drop(till);
    assert_each_sale_once(&mut central, &ids, 7, 50 + 10 - 7);
}

#[test]
fn a_rewind_to_between_a_syncs_check_in_and_its_pushes_is_seen() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let (ids, keys) = central_file(&store.target, SHOP, &[("A", 50)], &["till-T1"]);
    let a = ids[0];
    let mut central = Central::start(&store.target);
    let url = central.url();
    let till = open(&dir.path().join("t1.db"), &url, &keys["till-T1"], "T1");
    till.sync().unwrap();
    till.set_target(a, 20).unwrap();
    assert!(till.sync().unwrap().complete);
    for i in 0..3 {
        sell(&till, a, &format!("r{i}"));
    }
    // A check-in writes no movement: the ledger copied now is the one the next sync's
    // check-in reads, before its pushes.
    central.stop();
    store.snapshot();
    central.restart();
    assert_eq!(till.sync().unwrap().pushed, 3);
    central.stop();
    store.restore_snapshot();
    central.restart();
    other_writes(&url, a, 6);

    let report = till.sync().unwrap();
    assert!(report.complete, "{report:?}");
    assert!(report.rewound);
    assert_eq!(report.repushed, 3, "{report:?}");
    assert!(!till.sync().unwrap().rewound);
    drop(till);
    assert_each_sale_once(&mut central, &ids, 3, 50 + 6 - 3);
}

#[test]
fn sales_acknowledged_by_a_sync_stopped_before_its_check_in_after_them_are_looked_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let (ids, keys) = central_file(&store.target, SHOP, &[("A", 50)], &["till-T1"]);
    let a = ids[0];
    let mut central = Central::start(&store.target);
    let proxy = Proxy::start(Arc::new(AtomicUsize::new(central.port as usize)));
    let path = dir.path().join("t1.db");
    let till = open(&path, &proxy.url(), &keys["till-T1"], "T1");
    till.sync().unwrap();
    till.set_target(a, 20).unwrap();
    assert!(till.sync().unwrap().complete);
    for i in 0..3 {
        sell(&till, a, &format!("r{i}"));
    }
    // Closed and opened again around each stop: the connections it keeps through the proxy
    // would reach the stopped central and fail its first request.
    drop(till);
    central.stop();
    store.snapshot();
    central.restart();
    let till = open(&path, &proxy.url(), &keys["till-T1"], "T1");
    // The check-in and the three commits are answered; the check-in after them is not.
    proxy.swallow_after(4);
    let stopped = till.sync().unwrap();
    proxy.set(Mode::Pass);
    assert!(!stopped.complete, "{stopped:?}");
    assert_eq!(stopped.pushed, 3, "{stopped:?}");
    assert!(till.pending().unwrap().is_empty(), "all three acknowledged");
    drop(till);
    central.stop();
    store.restore_snapshot();
    central.restart();
    other_writes(&central.url(), a, 6);
    let till = open(&path, &proxy.url(), &keys["till-T1"], "T1");

    // The point the till kept is still there; the sales after it are not.
    let report = till.sync().unwrap();
    assert!(report.complete, "{report:?}");
    assert!(report.rewound);
    assert_eq!(report.repushed, 3, "{report:?}");
    let again = till.sync().unwrap();
    assert!(
        again.complete && !again.rewound && again.repushed == 0,
        "{again:?}"
    );
    drop(till);
    assert_each_sale_once(&mut central, &ids, 3, 50 + 6 - 3);
}
