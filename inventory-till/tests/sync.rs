//! Tills against the real server binary on real files: selling with central stopped, a sync
//! whose answers are lost at every exchange in turn, central killed after it applied a commit,
//! a lost answer found again after central forgot its key, two tills and a web client on one
//! location, an expired lease, resolutions, targets and leases, and the catalogue mirror.

mod common;

use common::*;
use inventory::{ErrorCode, MovementKind, MovementQuery, Uuid};
use inventory_till::{Resolution, Till, TillOptions};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const SHOP: &str = "Shop 1";

fn options() -> TillOptions {
    TillOptions {
        timeout: Duration::from_secs(10),
        ..TillOptions::default()
    }
}

fn held_at_central(url: &str, till: &str) -> HashMap<Uuid, i64> {
    get(url, &format!("/api/reservations?reference=till:{till}"))
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                Uuid::parse_str(r["product_id"].as_str().unwrap()).unwrap(),
                r["quantity"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// The till's stock of a product plus what it sold and central has not acknowledged is what
/// central holds for it: the allotments agree.
fn assert_agrees(till: &Till, url: &str) {
    let held = held_at_central(url, till.till_id());
    for a in till.allotments().unwrap() {
        assert_eq!(
            a.remaining + a.pending,
            held.get(&a.product_id).copied().unwrap_or(0),
            "{}: {a:?}",
            till.till_id()
        );
        assert_eq!(a.held, held.get(&a.product_id).copied().unwrap_or(0));
    }
}

#[test]
fn a_till_sells_with_central_stopped_and_each_sale_is_applied_once_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (ids, keys) = central_file(
        &dir.path().join("central.db"),
        SHOP,
        &[("A", 100)],
        &["till-T1"],
    );
    let a = ids[0];
    let mut central = Central::start(&dir.path().join("central.db"));
    let url = central.url();
    let auth = auth_required(&url);
    let till = Till::open_with(
        dir.path().join("t1.db"),
        &url,
        &keys["till-T1"],
        "T1",
        SHOP,
        options(),
    )
    .unwrap();
    till.set_target(a, 10).unwrap();
    let first = till.sync().unwrap();
    assert!(first.complete, "{first:?}");
    assert_eq!(first.catalogue.created, 1);
    assert_eq!(
        till.inventory().get_product(a).unwrap().product.location,
        SHOP
    );
    assert_eq!(held_at_central(&url, "T1")[&a], 10);
    let level = get(
        &url,
        &format!("/api/products/{a}/inventory?location=Shop%201"),
    );
    assert_eq!(
        (level["on_hand"].as_i64(), level["available"].as_i64()),
        (Some(100), Some(90))
    );
    let lease = &till.allotments().unwrap()[0];
    let days = (lease.lease_expires_at.unwrap() - chrono::Utc::now()).num_hours();
    assert!((167..=168).contains(&days), "a 7-day lease: {days} h left");

    central.stop();
    let sales: Vec<_> = [1, 2, 3]
        .iter()
        .map(|q| till.sell(a, *q).unwrap())
        .collect();
    let e = till.sell(a, 5).unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::InsufficientStock,
        "only 4 remain of the allotment"
    );
    let offline = till.sync().unwrap();
    assert!(!offline.complete);
    assert_eq!(offline.error.unwrap().code, "UNREACHABLE");
    assert_eq!(till.pending().unwrap().len(), 3);

    central.restart();
    let report = till.sync().unwrap();
    assert!(report.complete, "{report:?}");
    assert_eq!((report.pushed, report.already_applied), (3, 0));
    assert!(till.pending().unwrap().is_empty());
    assert_eq!(
        held_at_central(&url, "T1")[&a],
        10,
        "topped up to the target"
    );
    assert_eq!(
        till.inventory().get_stock_level(a, SHOP).unwrap().on_hand,
        10
    );
    assert_agrees(&till, &url);
    let again = till.sync().unwrap();
    assert_eq!((again.pushed, again.allotments.len()), (0, 0), "{again:?}");

    central.stop();
    let inv = central.open();
    let commits = commits(&inv, &ids);
    for sale in &sales {
        let applied = &commits[&sale.reference];
        assert_eq!(applied.len(), 1, "{} applied once", sale.reference);
        assert_eq!(
            (applied[0].quantity, applied[0].location.as_str()),
            (sale.quantity, SHOP)
        );
        assert_actor(&applied[0], "till-T1", auth);
    }
    assert_eq!(commits.len(), 3);
    let level = inv.get_stock_level(a, SHOP).unwrap();
    assert_eq!((level.on_hand, level.reserved), (94, 10));
    assert!(inv.verify().unwrap().ok);
    assert!(till.inventory().verify().unwrap().ok);
}

#[test]
fn a_sync_losing_each_answer_in_turn_applies_every_sale_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("central.db");
    let (ids, keys) = central_file(&db, SHOP, &[("A", 200), ("B", 200)], &["till-T1"]);
    let mut central = Central::start(&db);
    let upstream = Arc::new(AtomicUsize::new(central.port as usize));
    let proxy = Proxy::start(upstream.clone());
    let till = Till::open_with(
        dir.path().join("t1.db"),
        &proxy.url(),
        &keys["till-T1"],
        "T1",
        SHOP,
        options(),
    )
    .unwrap();
    // Enough for the rounds it takes: each lets one more answer through and sells three
    // more units, so a full sync (with its check-ins before and after the pushes) is reached
    // after about ten.
    for id in &ids {
        till.set_target(*id, 30).unwrap();
    }
    assert!(till.sync().unwrap().complete);

    let mut sold = Vec::new();
    let mut exchanges_of_a_full_sync = None;
    let mut replayed = 0;
    for n in 0..80 {
        for (i, id) in ids.iter().enumerate() {
            sold.push(till.sell(*id, 1 + i as i64).unwrap());
        }
        // The first n answers reach the till; the next is swallowed after central acted on it.
        proxy.swallow_after(n);
        let report = till.sync().unwrap();
        proxy.set(Mode::Pass);
        replayed += report.already_applied;
        if report.complete {
            exchanges_of_a_full_sync = Some(n);
            break;
        }
        assert_eq!(report.error.unwrap().code, "UNREACHABLE");
        if n % 7 == 3 {
            // Central killed after applying what it was last sent, before any answer.
            central.kill();
            central.restart();
            upstream.store(central.port as usize, Ordering::SeqCst);
        }
        // Nothing is ever applied twice, whatever was lost.
        let snapshot = central.open();
        for (reference, applied) in commits(&snapshot, &ids) {
            assert_eq!(
                applied.len(),
                1,
                "{reference} applied {} times",
                applied.len()
            );
        }
    }
    assert!(
        exchanges_of_a_full_sync.is_some(),
        "a sync finished once no answer was lost"
    );
    assert!(replayed > 0, "a commit whose answer was lost was replayed");
    let last = till.sync().unwrap();
    assert!(
        last.complete && till.pending().unwrap().is_empty(),
        "{last:?}"
    );
    assert_agrees(&till, &central.url());
    central.stop();
    let inv = central.open();
    let commits = commits(&inv, &ids);
    assert_eq!(commits.len(), sold.len());
    for sale in &sold {
        assert_eq!(commits[&sale.reference].len(), 1);
        assert_eq!(commits[&sale.reference][0].quantity, sale.quantity);
    }
    assert!(inv.verify().unwrap().ok);
    assert!(till.inventory().verify().unwrap().ok);
}

#[test]
fn an_answer_lost_past_centrals_key_window_is_found_in_its_ledger_not_applied_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("central.db");
    let (ids, keys) = central_file(&db, SHOP, &[("A", 50)], &["till-T1"]);
    let central = Central::start(&db);
    let proxy = Proxy::start(Arc::new(AtomicUsize::new(central.port as usize)));
    // Every retry is treated as past the window (as if a day had gone by on central's clock).
    let window = TillOptions {
        key_window: Duration::ZERO,
        ..options()
    };
    let till = Till::open_with(
        dir.path().join("t1.db"),
        &proxy.url(),
        &keys["till-T1"],
        "T1",
        SHOP,
        window,
    )
    .unwrap();
    till.set_target(ids[0], 10).unwrap();
    assert!(till.sync().unwrap().complete);
    let kept = till.sell(ids[0], 2).unwrap();
    let lost = till.sell(ids[0], 3).unwrap();
    // The clock read passes, the first commit is answered, the second applied and unheard.
    proxy.swallow_after(2);
    assert!(!till.sync().unwrap().complete);
    proxy.set(Mode::Pass);
    assert_eq!(
        till.pending().unwrap().len(),
        1,
        "the first was acknowledged"
    );
    // Central forgets its keys, as its sweep does after 24 hours.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("DELETE FROM idempotency_keys", [])
        .unwrap();
    let report = till.sync().unwrap();
    assert!(report.complete, "{report:?}");
    assert_eq!((report.pushed, report.already_applied), (1, 1));
    assert!(till.pending().unwrap().is_empty());
    let inv = central.open();
    let commits = commits(&inv, &ids);
    assert_eq!(commits[&kept.reference].len(), 1);
    assert_eq!(commits[&lost.reference].len(), 1, "found, not sent again");
    assert_agrees(&till, &central.url());
}

#[test]
fn two_tills_and_a_web_client_on_one_location_never_oversell() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("central.db");
    let stock = 60;
    let (ids, keys) = central_file(&db, SHOP, &[("A", stock)], &["till-T1", "till-T2"]);
    let a = ids[0];
    let central = Central::start(&db);
    let url = central.url();
    let tills: Vec<Till> = ["T1", "T2"]
        .iter()
        .map(|t| {
            let till = Till::open_with(
                dir.path().join(format!("{t}.db")),
                &url,
                &keys[&format!("till-{t}")],
                t,
                SHOP,
                options(),
            )
            .unwrap();
            till.set_target(a, 25).unwrap();
            assert!(till.sync().unwrap().complete);
            till
        })
        .collect();
    let web_sold = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for till in &tills {
            s.spawn(|| {
                let mut refused = 0;
                while refused < 5 {
                    match till.sell(a, 1) {
                        Ok(_) => {}
                        Err(e) if e.code == ErrorCode::InsufficientStock => {
                            refused += 1;
                            let report = till.sync().unwrap();
                            assert!(report.complete, "{report:?}");
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            });
        }
        s.spawn(|| {
            // A web shop reserving and committing at the same location, until nothing is left.
            for n in 0.. {
                let reference = format!("web-{n}");
                let (status, body) = post(
                    &url,
                    &format!("/api/products/{a}/stock/reserve"),
                    &json!({"quantity": 1, "reference": reference, "location": SHOP}),
                );
                if status == 409 {
                    assert_eq!(body["error"], "INSUFFICIENT_STOCK");
                    let left = get(
                        &url,
                        &format!("/api/products/{a}/inventory?location=Shop%201"),
                    );
                    if left["on_hand"].as_i64().unwrap() == left["reserved"].as_i64().unwrap()
                        && n > 200
                    {
                        break;
                    }
                    // Refused: the web shop's pause before it tries again (a load, not a wait).
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                assert_eq!(status, 200, "{body}");
                let (status, _) = post(
                    &url,
                    &format!("/api/products/{a}/stock/commit"),
                    &json!({"reference": reference, "location": SHOP}),
                );
                assert_eq!(status, 200);
                web_sold.fetch_add(1, Ordering::SeqCst);
            }
        });
    });
    for till in &tills {
        let report = till.sync().unwrap();
        assert!(
            report.complete && till.pending().unwrap().is_empty(),
            "{report:?}"
        );
        assert_agrees(till, &url);
    }
    // What central reserves at the location is exactly what the tills hold.
    let level = get(
        &url,
        &format!("/api/products/{a}/inventory?location=Shop%201"),
    );
    let held: i64 = tills
        .iter()
        .map(|t| {
            held_at_central(&url, t.till_id())
                .get(&a)
                .copied()
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(level["reserved"].as_i64().unwrap(), held);
    let inv = central.open();
    let commits = commits(&inv, &ids);
    // Every sale in each till's ledger is one COMMIT at central: none refused, none twice.
    let mut till_sold = 0;
    for till in &tills {
        let sales = sales_in_ledger(till.inventory(), till.till_id());
        for (reference, quantity) in &sales {
            assert_eq!(commits[reference].len(), 1, "{reference}");
            assert_eq!(commits[reference][0].quantity, *quantity);
        }
        assert!(till.conflicts().unwrap().is_empty());
        till_sold += sales.len();
    }
    let web = web_sold.load(Ordering::SeqCst);
    assert_eq!(commits.len(), till_sold + web);
    assert_eq!(
        level["on_hand"].as_i64().unwrap(),
        stock - (till_sold + web) as i64,
        "every unit sold once, none twice, none invented"
    );
    assert!(
        till_sold > 0 && web > 0,
        "both sold: tills {till_sold}, web {web}"
    );
    assert!(inv.verify().unwrap().ok);
    for till in &tills {
        assert!(till.inventory().verify().unwrap().ok);
    }
}

#[test]
fn an_expired_lease_gives_recorded_conflicts_which_operators_resolve_in_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("central.db");
    let (ids, keys) = central_file(&db, SHOP, &[("A", 5), ("B", 5)], &["till-T1"]);
    let (a, b) = (ids[0], ids[1]);
    let central = Central::start(&db);
    let url = central.url();
    let short = TillOptions {
        lease: Duration::from_secs(2),
        ..options()
    };
    let till = Till::open_with(
        dir.path().join("t1.db"),
        &url,
        &keys["till-T1"],
        "T1",
        SHOP,
        short,
    )
    .unwrap();
    till.set_target(a, 5).unwrap();
    till.set_target(b, 5).unwrap();
    assert!(till.sync().unwrap().complete);
    // Offline past the lease: two sales of A, one of B.
    let a2 = till.sell(a, 2).unwrap();
    let a1 = till.sell(a, 1).unwrap();
    let b1 = till.sell(b, 1).unwrap();
    central.advance(Duration::from_secs(3));
    // The lease lapsed at central, which releases it at the next operation on A (or its
    // sweep); a web shop takes every unit of A left.
    let (status, body) = post(
        &url,
        &format!("/api/products/{a}/stock/reserve"),
        &json!({"quantity": 5, "reference": "web-1", "location": SHOP}),
    );
    assert_eq!(status, 200, "{body}");

    let report = till.sync().unwrap();
    assert!(report.complete, "{report:?}");
    // B's units were still there: its sale is applied after all. A's were taken: conflicts.
    assert_eq!((report.pushed, report.refitted), (1, 1));
    let conflicts: Vec<(String, &str)> = report
        .conflicts
        .iter()
        .map(|c| (c.sale.reference.clone(), c.code.as_str()))
        .collect();
    assert_eq!(
        conflicts,
        vec![
            (a2.reference.clone(), "INSUFFICIENT_STOCK"),
            (a1.reference.clone(), "INSUFFICIENT_STOCK")
        ]
    );
    // Central counts them in its metrics, once each however often the till syncs.
    let conflicts_at_central = |url: &str| {
        let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
        let text = agent
            .get(&format!("{url}/metrics"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        text.lines()
            .find_map(|l| {
                l.strip_prefix("inventory_till_conflicts_total{code=\"INSUFFICIENT_STOCK\"} ")
            })
            .map(|v| v.trim().parse::<f64>().unwrap())
    };
    assert_eq!(conflicts_at_central(&url), Some(2.0));
    assert!(till.sync().unwrap().complete);
    assert_eq!(conflicts_at_central(&url), Some(2.0));
    // Never dropped: they are the outbox until resolved, and survive a reopen.
    drop(till);
    let till = Till::open_with(
        dir.path().join("t1.db"),
        &url,
        &keys["till-T1"],
        "T1",
        SHOP,
        options(),
    )
    .unwrap();
    let pending = till.pending().unwrap();
    assert_eq!(pending.len(), 2);
    assert!(pending.iter().all(|s| s.conflict));
    // No negative balance anywhere: the till has nothing of A to sell, central holds it for web.
    assert_eq!(
        till.inventory().get_stock_level(a, SHOP).unwrap().on_hand,
        0
    );
    assert!(till.inventory().verify().unwrap().ok);
    let inv = central.open();
    assert!(!commits(&inv, &ids).contains_key(&a2.reference));
    assert!(commits(&inv, &ids).contains_key(&b1.reference));
    assert!(inv.verify().unwrap().ok);
    // A later sync does not try them again.
    let quiet = till.sync().unwrap();
    assert!(quiet.complete && quiet.conflicts.is_empty() && quiet.pushed == 0);

    // Applying one while web holds every unit would count below what is reserved: refused,
    // and the decision cleared with the reason.
    let e = till
        .resolve(&a2.reference, Resolution::Apply, "sold at the counter")
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "{e}");
    let c = &till.conflicts().unwrap()[0];
    assert_eq!((c.resolution, c.resolution_error.is_some()), (None, true));
    // Once web releases, both are resolved: applied (ADJUST -2) and discarded (ADJUST 0).
    let (status, _) = post(
        &url,
        &format!("/api/products/{a}/stock/unreserve"),
        &json!({"reference": "web-1", "location": SHOP}),
    );
    assert_eq!(status, 200);
    assert!(
        till.resolve(&a2.reference, Resolution::Apply, "sold at the counter")
            .unwrap()
    );
    assert!(
        till.resolve(&a1.reference, Resolution::Discard, "test sale, voided")
            .unwrap()
    );
    let e = till
        .resolve(&a1.reference, Resolution::Discard, "again")
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    assert!(till.conflicts().unwrap().is_empty() && till.pending().unwrap().is_empty());
    let history = inv
        .list_movements(
            a,
            &MovementQuery {
                limit: Some(100),
                ..MovementQuery::default()
            },
        )
        .unwrap();
    let adjust = |r: &str| {
        history
            .iter()
            .find(|m| m.kind == MovementKind::Adjust && m.reference.as_deref() == Some(r))
            .map(|m| (m.quantity, m.notes.clone().unwrap_or_default()))
            .unwrap()
    };
    let (applied, notes) = adjust(&a2.reference);
    assert!(
        applied == -2 && notes.contains("sold at the counter"),
        "{notes}"
    );
    let (discarded, notes) = adjust(&a1.reference);
    assert!(
        discarded == 0 && notes.contains("test sale, voided"),
        "{notes}"
    );
    assert_eq!(inv.get_stock_level(a, SHOP).unwrap().on_hand, 3);
    assert!(inv.verify().unwrap().ok);
}

#[test]
fn a_resolution_decided_offline_is_applied_by_the_next_sync() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("central.db");
    let (ids, keys) = central_file(&db, SHOP, &[("A", 3)], &["till-T1"]);
    let mut central = Central::start(&db);
    let url = central.url();
    let short = TillOptions {
        lease: Duration::from_secs(1),
        ..options()
    };
    let till = Till::open_with(
        dir.path().join("t1.db"),
        &url,
        &keys["till-T1"],
        "T1",
        SHOP,
        short,
    )
    .unwrap();
    till.set_target(ids[0], 3).unwrap();
    assert!(till.sync().unwrap().complete);
    let sale = till.sell(ids[0], 2).unwrap();
    central.advance(Duration::from_secs(2)); // the lease lapses
    // Meanwhile the stock count at central found less on the shelf.
    let (status, body) = post(
        &url,
        &format!("/api/products/{}/stock/count", ids[0]),
        &json!({"counted": 1, "location": SHOP}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(till.sync().unwrap().conflicts.len(), 1);
    central.stop();
    assert!(
        !till
            .resolve(&sale.reference, Resolution::Discard, "double-counted")
            .unwrap()
    );
    assert_eq!(
        till.conflicts().unwrap()[0].resolution,
        Some(Resolution::Discard)
    );
    central.restart();
    let report = till.sync().unwrap();
    assert!(report.complete, "{report:?}");
    assert_eq!(report.resolved, 1);
    assert!(till.pending().unwrap().is_empty());
}

#[test]
fn targets_move_allotments_both_ways_and_syncs_renew_the_lease() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("central.db");
    let (ids, keys) = central_file(&db, SHOP, &[("A", 30)], &["till-T1"]);
    let a = ids[0];
    let central = Central::start(&db);
    let url = central.url();
    let lease = TillOptions {
        lease: Duration::from_secs(600),
        ..options()
    };
    let till = Till::open_with(
        dir.path().join("t1.db"),
        &url,
        &keys["till-T1"],
        "T1",
        SHOP,
        lease,
    )
    .unwrap();
    till.set_target(a, 40).unwrap();
    let report = till.sync().unwrap();
    assert_eq!(
        held_at_central(&url, "T1")[&a],
        30,
        "as much as central has"
    );
    assert_eq!(report.allotments[0].after, 30);
    till.sell(a, 4).unwrap();
    till.set_target(a, 10).unwrap();
    till.sync().unwrap();
    assert_eq!(held_at_central(&url, "T1")[&a], 10);
    assert_eq!(
        till.inventory().get_stock_level(a, SHOP).unwrap().on_hand,
        10
    );
    let level = get(
        &url,
        &format!("/api/products/{a}/inventory?location=Shop%201"),
    );
    assert_eq!(
        (level["on_hand"].as_i64(), level["available"].as_i64()),
        (Some(26), Some(16))
    );
    assert_agrees(&till, &url);

    // A sync at the target renews the lease and records nothing in central's ledger.
    let expiry = |t: &Till| t.allotments().unwrap()[0].lease_expires_at.unwrap();
    let before = expiry(&till);
    let movements =
        |inv: &inventory::Inventory| inv.list_movements(a, &MovementQuery::default()).unwrap();
    let inv = central.open();
    let history = movements(&inv);
    central.advance(Duration::from_secs(60));
    let report = till.sync().unwrap();
    assert!(
        report.complete && report.allotments.is_empty(),
        "{report:?}"
    );
    assert!(expiry(&till) > before);
    assert_eq!(movements(&inv), history);

    till.set_target(a, 0).unwrap();
    till.sync().unwrap();
    assert!(held_at_central(&url, "T1").is_empty());
    assert_eq!(
        till.inventory().get_stock_level(a, SHOP).unwrap().on_hand,
        0
    );
    assert!(till.sell(a, 1).is_err());
    assert!(inv.verify().unwrap().ok && till.inventory().verify().unwrap().ok);
}

#[test]
fn the_catalogue_is_mirrored_under_centrals_ids_with_exact_prices() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("central.db");
    let (ids, keys) = central_file(&db, "Warehouse", &[("A", 10), ("B", 10)], &["till-T1"]);
    let (a, b) = (ids[0], ids[1]);
    let central = Central::start(&db);
    let url = central.url();
    let till = Till::open_with(
        dir.path().join("t1.db"),
        &url,
        &keys["till-T1"],
        "T1",
        SHOP,
        options(),
    )
    .unwrap();
    let first = till.sync().unwrap();
    assert_eq!((first.catalogue.created, first.catalogue.updated), (2, 0));
    let here = till.inventory().get_product(a).unwrap().product;
    assert_eq!(
        (here.sku.as_str(), here.price.to_string().as_str()),
        ("A", "2.50")
    );

    let put = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build();
    let agent: ureq::Agent = put.into();
    let r = agent
        .put(&format!("{url}/api/products/{a}"))
        .header("Content-Type", "application/json")
        .send(r#"{"price": 19.990, "name": "Renamed"}"#)
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        agent
            .delete(&format!("{url}/api/products/{b}"))
            .call()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    // As a JSON number token with its scale: 1500.00, not the 1500.0 a float would write.
    let mut response = agent
        .post(&format!("{url}/api/products"))
        .header("Content-Type", "application/json")
        .send(r#"{"name": "Laptop", "sku": "LAP", "price": 1500.00}"#)
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let created: serde_json::Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    let c = Uuid::parse_str(created["data"]["product"]["id"].as_str().unwrap()).unwrap();

    let report = till.sync().unwrap();
    assert!(report.complete, "{report:?}");
    assert_eq!(
        (
            report.catalogue.created,
            report.catalogue.updated,
            report.catalogue.archived
        ),
        (1, 1, 1)
    );
    let here = till.inventory().get_product(a).unwrap().product;
    assert_eq!(
        (here.name.as_str(), here.price.to_string().as_str()),
        ("Renamed", "19.990")
    );
    assert_eq!(
        till.inventory().get_product(b).unwrap_err().code,
        ErrorCode::NotFound
    );
    assert_eq!(
        till.inventory()
            .get_product(c)
            .unwrap()
            .product
            .price
            .to_string(),
        "1500.00"
    );
    assert_eq!(till.sell(b, 1).unwrap_err().code, ErrorCode::NotFound);
    let quiet = till.sync().unwrap();
    assert_eq!(quiet.catalogue, Default::default());
}

#[test]
fn a_background_sync_waiting_on_central_never_blocks_a_sale() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("central.db");
    let (ids, keys) = central_file(&db, SHOP, &[("A", 50)], &["till-T1"]);
    let a = ids[0];
    let central = Central::start(&db);
    let proxy = Proxy::start(Arc::new(AtomicUsize::new(central.port as usize)));
    let every = TillOptions {
        sync_interval: Some(Duration::from_millis(200)),
        timeout: Duration::from_secs(3),
        ..options()
    };
    let path = dir.path().join("t1.db");
    let till = Till::open_with(&path, &proxy.url(), &keys["till-T1"], "T1", SHOP, every).unwrap();
    assert!(till.last_report().is_none());
    till.set_target(a, 10).unwrap();
    let until =
        |what: &str, done: &dyn Fn() -> bool| wait_until(Duration::from_secs(20), what, done);
    // The allotment is in place before the sync that placed it has stored its report.
    until("a background sync took the allotment", &|| {
        till.allotments().unwrap()[0].remaining == 10 && till.last_report().is_some()
    });
    assert!(till.last_report().unwrap().complete);

    // The next background sync waits on an answer central sent and the link holds back.
    proxy.hold_after(0);
    until("a background sync is waiting", &|| {
        proxy.held.load(Ordering::SeqCst) > 0
    });
    let started = std::time::Instant::now();
    let sale = till.sell(a, 3).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the sale waited {:?}",
        started.elapsed()
    );
    assert_eq!(till.pending().unwrap().len(), 1);
    proxy.set(Mode::Pass);
    // The same sync, or the next, tops the allotment up to its target again, reserving at
    // central before adding to the till's stock; once it has, nothing is left to move.
    until(
        "a background sync pushed the sale and topped the allotment up",
        &|| till.pending().unwrap().is_empty() && till.allotments().unwrap()[0].remaining == 10,
    );
    assert_agrees(&till, &central.url());
    let commits = commits(&central.open(), &ids);
    assert_eq!(commits[&sale.reference].len(), 1);

    // Dropping the till ends its background sync, even one waiting on central, and closes
    // its files before the drop returns.
    proxy.hold_after(0);
    let held = proxy.held.load(Ordering::SeqCst);
    until("a background sync is waiting again", &|| {
        proxy.held.load(Ordering::SeqCst) > held
    });
    let closing = std::time::Instant::now();
    drop(till);
    // It waits out the request under way (bounded by the timeout), and sends no other.
    assert!(
        closing.elapsed() < Duration::from_secs(6),
        "{:?}",
        closing.elapsed()
    );
    Till::open(&path, &proxy.url(), "k", "T1", SHOP).unwrap();
    proxy.set(Mode::Pass);
}
