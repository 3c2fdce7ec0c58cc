//! What only a shared database has: several engine handles on one PostgreSQL database, each with
//! its own connections and its own group commit, as several processes would be. They race for the
//! same units, keys, versions and SKUs, sweep the same reservations, and page the change feed
//! while eight writers commit. Needs a server: `scripts/with-postgres.sh` sets INVENTORY_TEST_PG (the
//! tests are ignored otherwise; `tests/pg/run.sh` runs them).
#![cfg(feature = "postgres")]
mod common;

use common::*;
use inventory::{
    Command, ErrorCode, Expiry, Inventory, ManualClock, MovementKind, Options, Outcome, StockOp,
    Uuid,
};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

const NEEDS: &str = "needs PostgreSQL: INVENTORY_TEST_PG (scripts/with-postgres.sh)";

/// `n` handles on one fresh database, sharing a manual clock.
fn handles(n: usize) -> (Target, Vec<Inventory>, Arc<ManualClock>) {
    let store = Target::new();
    assert!(store.is_postgres(), "{NEEDS}");
    let clock = Arc::new(ManualClock::fixed());
    let invs = (0..n)
        .map(|_| {
            store.open(Options {
                clock: clock.clone(),
                ..Options::default()
            })
        })
        .collect();
    (store, invs, clock)
}

/// Runs `work(i, handle)` on `threads` threads spread over the handles, started together.
fn race(invs: &[Inventory], threads: usize, work: impl Fn(usize, &Inventory) + Send + Sync) {
    let barrier = Barrier::new(threads);
    thread::scope(|s| {
        for t in 0..threads {
            let (inv, barrier, work) = (&invs[t % invs.len()], &barrier, &work);
            s.spawn(move || {
                barrier.wait();
                work(t, inv)
            });
        }
    });
}

#[test]
#[ignore = "needs PostgreSQL: INVENTORY_TEST_PG (scripts/with-postgres.sh)"]
fn four_handles_never_oversell_one_product() {
    let (_store, invs, _) = handles(4);
    let id = product(&invs[0], "HOT", 100);
    let won = AtomicI64::new(0);
    race(&invs, 32, |_, inv| {
        for _ in 0..10 {
            match inv.reserve_stock(StockOp::reserve(id, 1)) {
                Ok(level) => {
                    assert!(level.available >= 0);
                    won.fetch_add(1, Ordering::SeqCst);
                }
                Err(e) => assert_eq!(e.code, ErrorCode::InsufficientStock, "{e}"),
            }
        }
    });
    assert_eq!(
        won.load(Ordering::SeqCst),
        100,
        "exactly the stock was taken"
    );
    let s = invs[3].get_inventory(id).unwrap();
    assert_eq!((s.totals.on_hand, s.totals.reserved), (100, 100));
    assert_verified(&invs[1]);
}

#[test]
#[ignore = "needs PostgreSQL: INVENTORY_TEST_PG (scripts/with-postgres.sh)"]
fn one_key_sent_to_two_handles_at_once_applies_once() {
    let (_store, invs, _) = handles(2);
    let id = product(&invs[0], "KEYED", 1000);
    for round in 0..20 {
        let key = format!("order-{round}");
        let cmd = Command::Stock(StockOp::reserve(id, 3).reference(&key));
        let answers = std::sync::Mutex::new(Vec::new());
        race(&invs, 2, |_, inv| {
            let got = inv.execute_with_key(cmd.clone(), Some(&key)).unwrap();
            answers.lock().unwrap().push(got);
        });
        let answers = answers.into_inner().unwrap();
        assert_eq!(
            answers.iter().filter(|a| !a.replayed).count(),
            1,
            "applied once"
        );
        assert_eq!(
            answers[0].value, answers[1].value,
            "both get the first outcome"
        );
    }
    let s = invs[1].get_inventory(id).unwrap();
    assert_eq!(s.totals.reserved, 60);
    assert_verified(&invs[0]);
}

#[test]
#[ignore = "needs PostgreSQL: INVENTORY_TEST_PG (scripts/with-postgres.sh)"]
fn the_same_sku_created_on_two_handles_at_once_is_duplicate_sku() {
    let (_store, invs, _) = handles(2);
    for round in 0..10 {
        let sku = format!("RACE-{round}");
        let codes = std::sync::Mutex::new(Vec::new());
        race(&invs, 2, |_, inv| {
            let code = inv
                .create_product(new_product(&sku, 1))
                .err()
                .map(|e| e.code);
            codes.lock().unwrap().push(code);
        });
        let mut codes = codes.into_inner().unwrap();
        codes.sort_by_key(|c| c.is_some());
        assert_eq!(
            codes,
            vec![None, Some(ErrorCode::DuplicateSku)],
            "round {round}"
        );
    }
    assert_verified(&invs[0]);
}

#[test]
#[ignore = "needs PostgreSQL: INVENTORY_TEST_PG (scripts/with-postgres.sh)"]
fn overlapping_batches_on_four_handles_never_deadlock_and_are_all_or_nothing() {
    let (_store, invs, _) = handles(4);
    let ids: Vec<Uuid> = (0..4)
        .map(|i| product(&invs[0], &format!("B{i}"), 50))
        .collect();
    let applied = AtomicI64::new(0);
    race(&invs, 16, |t, inv| {
        for round in 0..10 {
            // Each batch takes one unit of every product, in an order of its own, and a new
            // location on the way: batches overlap on every row.
            let mut order = ids.clone();
            order.rotate_left((t + round) % 4);
            if t % 2 == 1 {
                order.reverse();
            }
            let mut ops: Vec<StockOp> = order.iter().map(|id| StockOp::remove(*id, 1)).collect();
            ops.push(StockOp::add(order[0], 1).at(format!("Shelf {}", round % 3)));
            match inv.batch(ops) {
                Ok(_) => {
                    applied.fetch_add(1, Ordering::SeqCst);
                }
                Err(e) => assert_eq!(e.code, ErrorCode::InsufficientStock, "{e}"),
            }
        }
    });
    let n = applied.load(Ordering::SeqCst);
    assert_eq!(n, 50, "every batch applied until the first product ran out");
    for id in &ids {
        let s = invs[2].get_inventory(*id).unwrap();
        let home = s
            .locations
            .iter()
            .find(|l| l.location == "Warehouse A")
            .unwrap();
        assert_eq!(home.on_hand, 0, "each batch took one unit of each product");
    }
    let shelved: i64 = ids
        .iter()
        .map(|id| invs[1].get_inventory(*id).unwrap().totals.on_hand)
        .sum();
    assert_eq!(shelved, n, "and put one back on a shelf");
    assert_verified(&invs[3]);
}

#[test]
#[ignore = "needs PostgreSQL: INVENTORY_TEST_PG (scripts/with-postgres.sh)"]
fn expired_reservations_are_released_once_by_whichever_handle_sweeps() {
    let (_store, invs, clock) = handles(4);
    let ids: Vec<Uuid> = (0..5)
        .map(|i| product(&invs[0], &format!("E{i}"), 100))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        for r in 0..8 {
            invs[i % 4]
                .reserve_stock(
                    StockOp::reserve(*id, 2)
                        .reference(format!("cart-{r}"))
                        .expires(Expiry::In(60)),
                )
                .unwrap();
        }
    }
    clock.advance(chrono::Duration::seconds(61));
    let released = AtomicI64::new(0);
    race(&invs, 8, |t, inv| {
        if t % 2 == 0 {
            released.fetch_add(inv.expire_reservations().unwrap() as i64, Ordering::SeqCst);
        } else {
            // Touching a product releases its own expired reservations first.
            let level = inv.add_stock(StockOp::add(ids[t % 5], 1)).unwrap();
            assert_eq!(level.reserved, 0);
        }
    });
    let expired: usize = ids
        .iter()
        .map(|id| {
            invs[0]
                .list_movements(
                    *id,
                    &inventory::MovementQuery {
                        limit: Some(100),
                        ..Default::default()
                    },
                )
                .unwrap()
                .iter()
                .filter(|m| m.kind == MovementKind::Expire)
                .count()
        })
        .sum();
    assert_eq!(expired, 40, "each reservation released exactly once");
    assert!(released.load(Ordering::SeqCst) <= 40);
    for id in &ids {
        assert!(invs[1].list_reservations(*id).unwrap().is_empty());
    }
    assert_verified(&invs[2]);
}

/// The feed's contract under concurrency: a reader paging with its cursor while eight writers
/// (on eight handles, so eight connections committing independently) commit sees every
/// movement exactly once, in sequence order, with no number skipped.
#[test]
#[ignore = "needs PostgreSQL: INVENTORY_TEST_PG (scripts/with-postgres.sh)"]
fn a_reader_paging_the_feed_during_eight_writers_sees_every_movement_once_in_order() {
    let (_store, invs, _) = handles(9);
    let ids: Vec<Uuid> = (0..16)
        .map(|i| product(&invs[0], &format!("F{i}"), 0))
        .collect();
    let start = invs[0].changes(0, Some(1000)).unwrap().next_after;
    let writing = AtomicBool::new(true);
    let written = AtomicI64::new(0);
    let seen = std::sync::Mutex::new(Vec::new());
    thread::scope(|s| {
        let (reader, writing, seen) = (&invs[8], &writing, &seen);
        s.spawn(move || {
            let mut after = start;
            loop {
                let done = !writing.load(Ordering::SeqCst);
                let page = reader.changes(after, Some(7)).unwrap();
                for m in &page.movements {
                    assert!(m.seq > after, "in order: {} after {after}", m.seq);
                    after = m.seq;
                    seen.lock().unwrap().push(m.seq);
                }
                if done && page.movements.is_empty() {
                    break;
                }
            }
        });
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let (inv, ids, written) = (&invs[w], &ids, &written);
                s.spawn(move || {
                    for i in 0..60 {
                        let id = ids[(w * 7 + i) % ids.len()];
                        if i % 10 == 9 {
                            let other = ids[(w + i) % ids.len()];
                            let ops = vec![StockOp::add(id, 1), StockOp::add(other, 2)];
                            inv.batch(ops).unwrap();
                            written.fetch_add(2, Ordering::SeqCst);
                        } else {
                            inv.add_stock(StockOp::add(id, 1)).unwrap();
                            written.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        writing.store(false, Ordering::SeqCst);
    });
    let seen = seen.into_inner().unwrap();
    let n = written.load(Ordering::SeqCst);
    let expected: Vec<i64> = (start + 1..=start + n).collect();
    assert_eq!(
        seen, expected,
        "every movement once, in order, none skipped"
    );
    assert_verified(&invs[0]);
}

#[test]
#[ignore = "needs PostgreSQL: INVENTORY_TEST_PG (scripts/with-postgres.sh)"]
fn a_waiter_wakes_when_another_handle_commits() {
    let (_store, invs, _) = handles(2);
    let id = product(&invs[0], "W", 0);
    let last = invs[0].changes(0, Some(1000)).unwrap().next_after;
    assert_eq!(
        invs[1].wait_for_changes(last, Duration::from_millis(50)),
        last
    );
    thread::scope(|s| {
        let waiter = thread::Builder::new()
            .name("feed-waiter".into())
            .spawn_scoped(s, || {
                let started = Instant::now();
                let seq = invs[1].wait_for_changes(last, Duration::from_secs(20));
                (seq, started.elapsed())
            })
            .unwrap();
        // The commit comes once the waiter is blocked, so that it is the commit that wakes it.
        inventory_test_support::wait_until_asleep(Duration::from_secs(10), "feed-waiter");
        invs[0].add_stock(StockOp::add(id, 1)).unwrap();
        let (seq, waited) = waiter.join().unwrap();
        assert!(seq > last, "woken by the other handle's commit");
        assert!(waited < Duration::from_secs(10));
    });
}

#[test]
#[ignore = "needs PostgreSQL: INVENTORY_TEST_PG (scripts/with-postgres.sh)"]
fn processes_opening_a_new_database_at_once_migrate_it_once() {
    let store = Target::new();
    assert!(store.is_postgres(), "{NEEDS}");
    let opened: Vec<Inventory> = thread::scope(|s| {
        let hs: Vec<_> = (0..6)
            .map(|_| s.spawn(|| store.open(Options::default())))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let id = product(&opened[0], "M", 1);
    assert_eq!(opened[5].get_inventory(id).unwrap().totals.on_hand, 1);
    let version: i32 = store
        .connect()
        .query_one("SELECT version FROM inventory_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, 5, "every migration ran, once");
    assert_verified(&opened[3]);
}

#[test]
#[ignore = "needs PostgreSQL: INVENTORY_TEST_PG (scripts/with-postgres.sh)"]
fn a_version_one_database_gets_catalogue_revisions() {
    let store = Target::new();
    assert!(store.is_postgres(), "{NEEDS}");
    let inv = store.open(Options::default());
    let a = product(&inv, "V1A", 1);
    let b = product(&inv, "V1B", 0);
    drop(inv);
    // Back to version 1 as an older build left it: no revisions, no catalogue counter, and
    // none of the receipts' external ids (version 3), the tills' tables (version 4) nor the
    // webhooks' (version 5).
    store.execute_sql(
        "DROP TABLE catalogue_counter; ALTER TABLE products DROP COLUMN revision;
         ALTER TABLE movements DROP COLUMN external_id;
         DROP TABLE tills, till_conflicts, database_identity;
         DROP TABLE webhook_deliveries, webhooks;
         ALTER TABLE reservations DROP COLUMN owner;
         UPDATE inventory_schema SET version = 1",
    );
    let inv = store.open(Options::default());
    let page = inv.catalogue_changes(0, None).unwrap();
    let got: Vec<(Uuid, i64)> = page
        .products
        .iter()
        .map(|e| (e.product.id, e.revision))
        .collect();
    assert_eq!(got, vec![(a, 1), (b, 2)]);
    let c = product(&inv, "V1C", 0);
    let next = inv.catalogue_changes(2, None).unwrap();
    assert_eq!((next.products[0].product.id, next.next_after), (c, 3));
    assert_verified(&inv);
}

#[test]
#[ignore = "needs PostgreSQL: INVENTORY_TEST_PG (scripts/with-postgres.sh)"]
fn another_applications_database_and_a_newer_schema_are_refused() {
    let store = Target::new();
    assert!(store.is_postgres(), "{NEEDS}");
    store.execute_sql("CREATE TABLE products (id int)");
    let e = Inventory::open(&store.target).unwrap_err();
    assert_eq!(e.code, ErrorCode::StorageError);
    assert!(e.message.contains("not an inventory database"), "{e}");

    let newer = Target::new();
    drop(newer.open(Options::default()));
    newer.execute_sql("UPDATE inventory_schema SET version = 99");
    let e = Inventory::open(&newer.target).unwrap_err();
    assert!(e.message.contains("newer than this build"), "{e}");
}

#[test]
#[ignore = "needs PostgreSQL: INVENTORY_TEST_PG (scripts/with-postgres.sh)"]
fn a_lock_held_past_the_busy_timeout_is_busy() {
    let store = Target::new();
    assert!(store.is_postgres(), "{NEEDS}");
    let inv = store.open(Options {
        busy_timeout: Duration::from_millis(300),
        ..Options::default()
    });
    let id = product(&inv, "L", 5);
    let mut other = store.connect();
    let mut holder = other.transaction().unwrap();
    holder
        .execute("SELECT 1 FROM products WHERE id = $1 FOR UPDATE", &[&id])
        .unwrap();
    let e = inv.add_stock(StockOp::add(id, 1)).unwrap_err();
    assert_eq!(e.code, ErrorCode::Busy, "{e}");
    holder.rollback().unwrap();
    assert_eq!(inv.add_stock(StockOp::add(id, 1)).unwrap().on_hand, 6);
    assert_verified(&inv);
}

#[test]
#[ignore = "needs PostgreSQL: INVENTORY_TEST_PG (scripts/with-postgres.sh)"]
fn lost_connections_are_opened_again_and_errors_never_show_a_password() {
    let store = Target::new();
    assert!(store.is_postgres(), "{NEEDS}");
    let inv = store.open(Options::default());
    let id = product(&inv, "C", 5);
    let db = store
        .target
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    store
        .connect()
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = $1 AND application_name = 'inventory'",
            &[&db],
        )
        .unwrap();
    // Connections lost while idle are opened again before anything is sent on them: reads
    // run again on another connection, and a group that could not begin runs on a new one.
    // (One lost in the middle of a commit leaves its outcome unknown: STORAGE_ERROR, which a
    // retry with the same idempotency key settles.)
    assert_eq!(inv.get_inventory(id).unwrap().totals.on_hand, 5);
    let write = inv
        .execute_with_key(Command::Stock(StockOp::add(id, 1)), Some("after-loss"))
        .unwrap();
    assert!(!write.replayed);
    let again = inv
        .execute_with_key(Command::Stock(StockOp::add(id, 1)), Some("after-loss"))
        .unwrap();
    assert!(again.replayed);
    assert!(matches!(again.value, Outcome::Levels(_)));
    assert_eq!(inv.get_inventory(id).unwrap().totals.on_hand, 6);

    let (server, _) = store.target.to_str().unwrap().split_once("@").unwrap();
    let refused = format!("{server}:hunter2@127.0.0.1:1/nowhere");
    let e = Inventory::open(&refused).unwrap_err();
    assert_eq!(e.code, ErrorCode::StorageError);
    assert!(!e.message.contains("hunter2"), "{e}");
    assert!(!inventory::redacted(std::path::Path::new(&refused)).contains("hunter2"));
}

#[test]
#[ignore = "needs PostgreSQL: INVENTORY_TEST_PG (scripts/with-postgres.sh)"]
fn prices_are_numeric_with_their_scale_and_times_have_microseconds() {
    let store = Target::new();
    assert!(store.is_postgres(), "{NEEDS}");
    let inv = store.open(Options::default());
    let mut new = new_product("N", 0);
    new.price = inventory::Price::parse("1500.00").unwrap();
    let created = inv.create_product(new).unwrap();
    let row = store
        .connect()
        .query_one(
            "SELECT price::text, pg_typeof(price)::text, pg_typeof(created_at)::text FROM products",
            &[],
        )
        .unwrap();
    let got: (String, String, String) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(
        got,
        (
            "1500.00".into(),
            "numeric".into(),
            "timestamp with time zone".into()
        )
    );
    assert_eq!(inv.get_product(created.product.id).unwrap(), created);
}

/// A command that fails after its changes were made (its idempotency key cannot be stored: a
/// trigger refuses keys starting with "fail-") leaves no trace, while the commands that share its
/// group, changing the very same level and reservations, all stay.
#[test]
#[ignore = "needs PostgreSQL: INVENTORY_TEST_PG (scripts/with-postgres.sh)"]
fn a_command_failing_after_its_changes_takes_them_all_back_and_only_them() {
    let (store, invs, _) = handles(1);
    store.execute_sql(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
         CREATE TRIGGER refuse_keys BEFORE INSERT ON idempotency_keys
             FOR EACH ROW WHEN (NEW.key LIKE 'fail-%') EXECUTE FUNCTION refuse();",
    );
    let inv = &invs[0];
    let id = product(inv, "UNDO", 10_000);
    let kept = AtomicI64::new(0);
    race(&invs, 16, |t, inv| {
        for i in 0..15 {
            let reserve = |key: String, q: i64| {
                let op = StockOp::reserve(id, q).reference(format!("R{}", t % 4));
                inv.execute_with_key(Command::Stock(op), Some(&key))
            };
            reserve(format!("ok-{t}-{i}"), 1).unwrap();
            kept.fetch_add(1, Ordering::SeqCst);
            let e = reserve(format!("fail-{t}-{i}"), 100).unwrap_err();
            assert_eq!(e.code, ErrorCode::StorageError, "{e}");
            // A reservation opened and then taken back with its command.
            let op = StockOp::reserve(id, 5).reference(format!("gone-{t}-{i}"));
            assert!(
                inv.execute_with_key(Command::Stock(op), Some(&format!("fail-x-{t}-{i}")))
                    .is_err()
            );
        }
    });
    let s = inv.get_inventory(id).unwrap();
    assert_eq!(s.totals.reserved, kept.load(Ordering::SeqCst));
    let held: Vec<(String, i64)> = inv
        .list_reservations(id)
        .unwrap()
        .into_iter()
        .map(|r| (r.reference, r.quantity))
        .collect();
    assert_eq!(
        held,
        (0..4).map(|r| (format!("R{r}"), 60)).collect::<Vec<_>>(),
        "each reservation holds exactly its kept reserves"
    );
    assert_eq!(inv.changes(0, Some(1000)).unwrap().movements.len(), 1 + 240);
    assert_verified(inv);
}

/// Compare-and-set holds across handles: of many racing writes that expect the same version or
/// the same available quantity, exactly one applies and the others are CONFLICT.
#[test]
#[ignore = "needs PostgreSQL: INVENTORY_TEST_PG (scripts/with-postgres.sh)"]
fn compare_and_set_holds_across_handles() {
    let (_store, invs, _) = handles(4);
    let id = product(&invs[0], "CAS", 100);
    for round in 0..5 {
        let version = invs[0].get_product(id).unwrap().product.version;
        let available = invs[0].get_inventory(id).unwrap().totals.available;
        let (renamed, removed) = (AtomicI64::new(0), AtomicI64::new(0));
        race(&invs, 8, |t, inv| {
            let changes = inventory::ProductChanges {
                name: Some(format!("Renamed {round}-{t}")),
                ..Default::default()
            };
            match inv.update_product(id, changes, Some(version)) {
                Ok(_) => {
                    renamed.fetch_add(1, Ordering::SeqCst);
                }
                Err(e) => assert_eq!(e.code, ErrorCode::Conflict, "{e}"),
            }
            let op = StockOp::remove(id, 1).expect(inventory::Expect::Available(available));
            match inv.remove_stock(op) {
                Ok(_) => {
                    removed.fetch_add(1, Ordering::SeqCst);
                }
                Err(e) => assert_eq!(e.code, ErrorCode::Conflict, "{e}"),
            }
        });
        assert_eq!(
            renamed.load(Ordering::SeqCst),
            1,
            "round {round}: one update"
        );
        assert_eq!(
            removed.load(Ordering::SeqCst),
            1,
            "round {round}: one remove"
        );
    }
    let p = invs[3].get_product(id).unwrap();
    assert_eq!((p.product.version, p.inventory.totals.on_hand), (6, 95));
    assert_verified(&invs[1]);
}

/// The CPU time (user + system) of this process's threads named `name`, from /proc: the other
/// tests of this binary run beside it.
fn cpu_time(name: &str) -> Duration {
    let mut ticks = 0;
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let dir = task.unwrap().path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim_end() != name {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
        // The fields after the command name (which is in parentheses and may hold spaces).
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        ticks += fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    }
    // The kernel's USER_HZ, which /proc reports in, is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

#[test]
#[ignore = "needs PostgreSQL: INVENTORY_TEST_PG (scripts/with-postgres.sh)"]
fn a_listener_refused_by_the_database_pauses_instead_of_spinning() {
    let (store, invs, _) = handles(1);
    let url = store.target.to_str().unwrap().to_owned();
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let sessions = |c: &mut postgres::Client| -> i64 {
        c.query_one(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()",
            &[],
        )
        .unwrap()
        .get(0)
    };
    // The listener starts with the first wait; it connects and LISTENs, then every read of the
    // counter fails: the database refuses it, as one being restored or dropped does.
    assert_eq!(invs[0].wait_for_changes(0, Duration::from_millis(10)), 0);
    client
        .batch_execute("DROP TABLE feed_counter CASCADE")
        .unwrap();
    let listener = || cpu_time("inventory-feed");
    let (before, cpu_before, start) = (sessions(&mut client), listener(), Instant::now());
    thread::sleep(Duration::from_secs(3)); // the window measured, not a synchronisation
    let (after, cpu) = (sessions(&mut client), listener() - cpu_before);
    let wall = start.elapsed();
    // Pauses of 50 ms doubling to 5 s give six attempts in three seconds; a listener that
    // retries at once opens hundreds of sessions.
    assert!(
        after - before <= 12,
        "{} sessions in {wall:?}",
        after - before
    );
    assert!(
        cpu < wall / 10,
        "the listener used {cpu:?} of CPU in {wall:?}"
    );
    drop(invs);
}
