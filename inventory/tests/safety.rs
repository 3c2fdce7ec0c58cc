//! Issue 7: idempotency keys, compare-and-set on stock, atomic batches, the change feed.
mod common;

use common::*;
use inventory::{Command, ErrorCode, Expect, MovementQuery, NewProduct, Outcome, StockOp};
use std::time::{Duration, Instant};

#[test]
fn an_idempotent_repeat_returns_the_first_outcome_and_applies_nothing() {
    let f = fixture();
    let id = product(&f.inv, "I1", 10);
    let cmd = Command::Stock(StockOp::reserve(id, 3).reference("ORDER-9"));
    let first = f.inv.execute_with_key(cmd.clone(), Some("key-1")).unwrap();
    assert!(!first.replayed);
    f.inv.add_stock(StockOp::add(id, 5)).unwrap();
    let again = f.inv.execute_with_key(cmd.clone(), Some("key-1")).unwrap();
    assert!(again.replayed);
    assert_eq!(
        again.value, first.value,
        "the first result, not the current state"
    );
    assert_eq!(f.inv.get_inventory(id).unwrap().totals.reserved, 3);
    let e = f
        .inv
        .execute_with_key(Command::Stock(StockOp::reserve(id, 4)), Some("key-1"))
        .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Conflict, Some("idempotency_key"))
    );
    assert_eq!(
        f.inv
            .execute_with_key(cmd.clone(), Some(""))
            .unwrap_err()
            .field
            .as_deref(),
        Some("idempotency_key")
    );
    assert_eq!(
        f.inv
            .execute_with_key(cmd, Some(&"k".repeat(256)))
            .unwrap_err()
            .field
            .as_deref(),
        Some("idempotency_key")
    );
    assert_verified(&f.inv);
}

#[test]
fn idempotent_creates_and_deletes_replay_and_failures_are_not_remembered() {
    let f = fixture();
    let create = Command::CreateProduct(new_product("I2", 1));
    let a = f
        .inv
        .execute_with_key(create.clone(), Some("create-1"))
        .unwrap();
    let b = f
        .inv
        .execute_with_key(create.clone(), Some("create-1"))
        .unwrap();
    assert_eq!(a.value, b.value);
    let Outcome::ProductCreated(p) = a.value else {
        panic!("expected a product")
    };
    // A different key is a different request: the SKU is taken now.
    assert_eq!(
        f.inv
            .execute_with_key(create, Some("create-2"))
            .unwrap_err()
            .code,
        ErrorCode::DuplicateSku
    );
    let sell = Command::Stock(StockOp::remove(p.product.id, 5));
    assert_eq!(
        f.inv
            .execute_with_key(sell.clone(), Some("sell"))
            .unwrap_err()
            .code,
        ErrorCode::InsufficientStock
    );
    f.inv.add_stock(StockOp::add(p.product.id, 4)).unwrap();
    assert!(
        !f.inv.execute_with_key(sell, Some("sell")).unwrap().replayed,
        "a failed attempt can be retried"
    );
    let delete = Command::DeleteProduct {
        id: p.product.id,
        expected_version: None,
    };
    f.inv.execute_with_key(delete.clone(), Some("del")).unwrap();
    assert!(
        f.inv
            .execute_with_key(delete, Some("del"))
            .unwrap()
            .replayed
    );
}

#[test]
fn idempotency_keys_are_forgotten_after_the_ttl() {
    let f = fixture();
    let id = product(&f.inv, "I3", 10);
    let cmd = Command::Stock(StockOp::add(id, 1));
    f.inv.execute_with_key(cmd.clone(), Some("k")).unwrap();
    f.clock.advance(
        chrono::Duration::hours(inventory::IDEMPOTENCY_TTL_HOURS) - chrono::Duration::seconds(1),
    );
    f.inv.expire_reservations().unwrap();
    assert!(
        f.inv
            .execute_with_key(cmd.clone(), Some("k"))
            .unwrap()
            .replayed
    );
    f.clock.advance(chrono::Duration::seconds(2));
    f.inv.expire_reservations().unwrap();
    assert!(!f.inv.execute_with_key(cmd, Some("k")).unwrap().replayed);
    assert_eq!(f.inv.get_inventory(id).unwrap().totals.on_hand, 12);
}

#[test]
fn expected_values_guard_stock_operations() {
    let f = fixture();
    let id = product(&f.inv, "X1", 10);
    f.inv.reserve_stock(StockOp::reserve(id, 2)).unwrap();
    let e = f
        .inv
        .remove_stock(StockOp::remove(id, 1).expect(Expect::Available(10)))
        .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Conflict, Some("expected_available"))
    );
    let e = f
        .inv
        .remove_stock(StockOp::remove(id, 1).expect(Expect::Quantity(8)))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("expected_quantity"));
    assert_eq!(
        f.inv
            .remove_stock(StockOp::remove(id, 1).expect(Expect::Available(8)))
            .unwrap()
            .on_hand,
        9
    );
    assert_eq!(
        f.inv
            .add_stock(StockOp::add(id, 1).expect(Expect::Quantity(9)))
            .unwrap()
            .on_hand,
        10
    );
    let e = f
        .inv
        .add_stock(StockOp::add(id, 1).at("Other").expect(Expect::Quantity(9)))
        .unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::Conflict,
        "checked at the target location"
    );
}

#[test]
fn a_batch_applies_all_or_nothing() {
    let f = fixture();
    let a = product(&f.inv, "B1", 5);
    let b = product(&f.inv, "B2", 1);
    let before = f.inv.changes(0, None).unwrap().next_after;
    let ops = vec![
        StockOp::reserve(a, 2).reference("CART"),
        StockOp::reserve(b, 1).reference("CART"),
        StockOp::reserve(a, 9).reference("CART"),
    ];
    let e = f.inv.batch(ops).unwrap_err();
    assert_eq!((e.code, e.index), (ErrorCode::InsufficientStock, Some(2)));
    assert!(e.message.starts_with("operation 2:"), "{}", e.message);
    assert_eq!(
        f.inv.changes(0, None).unwrap().next_after,
        before,
        "nothing was applied"
    );
    assert_eq!(f.inv.get_inventory(a).unwrap().totals.reserved, 0);

    let ops = vec![
        StockOp::reserve(a, 2).reference("CART"),
        StockOp::reserve(b, 1).reference("CART"),
        StockOp::commit(a, "CART"),
        StockOp::transfer(a, "Warehouse A", "Store", 1),
        StockOp::add(b, 3),
        StockOp::remove(b, 1),
        StockOp::unreserve(b, 1).reference("CART"),
        StockOp::count(b, "Warehouse A", 2),
    ];
    let levels = f.inv.batch(ops).unwrap();
    assert_eq!(levels.len(), 8);
    assert_eq!(levels[2][0].on_hand, 3);
    assert_eq!(
        (levels[3][0].on_hand, levels[3][1].location.as_str()),
        (2, "Store")
    );
    assert_eq!(levels[7][0].on_hand, 2);
    assert_eq!(
        f.inv.batch(vec![]).unwrap_err().field.as_deref(),
        Some("operations")
    );
    let too_many = vec![StockOp::add(a, 1); inventory::MAX_BATCH + 1];
    assert_eq!(
        f.inv.batch(too_many).unwrap_err().field.as_deref(),
        Some("operations")
    );
    let e = f
        .inv
        .batch(vec![
            StockOp::add(a, 1),
            StockOp::add(inventory::Uuid::now_v7(), 1),
        ])
        .unwrap_err();
    assert_eq!((e.code, e.index), (ErrorCode::NotFound, Some(1)));
    assert_verified(&f.inv);
}

#[test]
fn an_idempotent_batch_replays() {
    let f = fixture();
    let a = product(&f.inv, "B3", 5);
    let batch = Command::Batch(vec![StockOp::remove(a, 1), StockOp::remove(a, 1)]);
    f.inv
        .execute_with_key(batch.clone(), Some("basket-7"))
        .unwrap();
    assert!(
        f.inv
            .execute_with_key(batch, Some("basket-7"))
            .unwrap()
            .replayed
    );
    assert_eq!(f.inv.get_inventory(a).unwrap().totals.on_hand, 3);
}

#[test]
fn the_change_feed_wakes_waiters_when_movements_commit() {
    let f = fixture();
    let id = product(&f.inv, "F1", 1);
    let start = Instant::now();
    assert_eq!(
        f.inv.wait_for_changes(1, Duration::from_millis(50)),
        1,
        "times out with the latest sequence"
    );
    assert!(start.elapsed() >= Duration::from_millis(50));
    let inv = f.inv.clone();
    let waiter = std::thread::Builder::new()
        .name("feed-waiter".into())
        .spawn(move || inv.wait_for_changes(1, Duration::from_secs(30)))
        .unwrap();
    // The commit comes once the waiter is blocked, so that it is the commit that wakes it.
    inventory_test_support::wait_until_asleep(Duration::from_secs(10), "feed-waiter");
    f.inv.add_stock(StockOp::add(id, 1)).unwrap();
    assert_eq!(waiter.join().unwrap(), 2);
    // Product edits write no movement and do not advance the feed.
    f.inv.update_product(id, Default::default(), None).unwrap();
    assert_eq!(f.inv.wait_for_changes(2, Duration::from_millis(10)), 2);
    let page = f.inv.changes(1, Some(10)).unwrap();
    assert_eq!(page.movements.len(), 1);
    assert_eq!(page.movements[0].seq, 2);
}

#[test]
fn every_write_command_goes_through_execute() {
    let f = fixture();
    let Outcome::ProductCreated(p) = f
        .inv
        .execute(Command::CreateProduct(NewProduct {
            initial_quantity: 2,
            ..new_product("E1", 0)
        }))
        .unwrap()
    else {
        panic!("expected ProductCreated")
    };
    let Outcome::Levels(levels) = f
        .inv
        .execute(Command::Stock(StockOp::remove(p.product.id, 2)))
        .unwrap()
    else {
        panic!("expected Levels")
    };
    assert_eq!(levels[0].on_hand, 0);
    let Outcome::LocationCreated(l) = f
        .inv
        .execute(Command::CreateLocation {
            name: "Dock".into(),
        })
        .unwrap()
    else {
        panic!("expected LocationCreated")
    };
    assert_eq!(l.name, "Dock");
    assert_eq!(
        f.inv
            .list_movements(p.product.id, &MovementQuery::default())
            .unwrap()
            .len(),
        2
    );
}
