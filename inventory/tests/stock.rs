mod common;

use common::*;
use inventory::{ErrorCode, Expect, MAX_QUANTITY, MovementKind, MovementQuery, OpKind, StockOp};

#[test]
fn seed_operations_return_the_level_after() {
    let f = fixture();
    let id = product(&f.inv, "S1", 10);
    let l = f
        .inv
        .add_stock(StockOp::add(id, 5).reference("PO-1").notes("restock"))
        .unwrap();
    assert_eq!(
        (l.on_hand, l.reserved, l.available, l.location.as_str()),
        (15, 0, 15, "Warehouse A")
    );
    let l = f.inv.reserve_stock(StockOp::reserve(id, 4)).unwrap();
    assert_eq!((l.on_hand, l.reserved, l.available), (15, 4, 11));
    let l = f.inv.remove_stock(StockOp::remove(id, 11)).unwrap();
    assert_eq!((l.on_hand, l.reserved, l.available), (4, 4, 0));
    let l = f.inv.unreserve_stock(StockOp::unreserve(id, 3)).unwrap();
    assert_eq!((l.on_hand, l.reserved, l.available), (4, 1, 3));
    let inv = f.inv.get_inventory(id).unwrap();
    assert_eq!(
        (
            inv.totals.on_hand,
            inv.totals.reserved,
            inv.totals.available
        ),
        (4, 1, 3)
    );
    assert_eq!(inv.totals.updated_at, l.updated_at);
    assert_verified(&f.inv);
}

#[test]
fn insufficient_stock_and_reserved_are_refused_without_effect() {
    let f = fixture();
    let id = product(&f.inv, "S2", 5);
    f.inv.reserve_stock(StockOp::reserve(id, 3)).unwrap();
    let before = f.inv.get_inventory(id).unwrap();
    let e = f.inv.remove_stock(StockOp::remove(id, 3)).unwrap_err();
    assert_eq!(e.code, ErrorCode::InsufficientStock);
    assert!(e.message.contains("only 2 available"), "{}", e.message);
    assert_eq!(
        f.inv
            .reserve_stock(StockOp::reserve(id, 3))
            .unwrap_err()
            .code,
        ErrorCode::InsufficientStock
    );
    assert_eq!(
        f.inv
            .unreserve_stock(StockOp::unreserve(id, 4))
            .unwrap_err()
            .code,
        ErrorCode::InsufficientReserved
    );
    assert_eq!(f.inv.get_inventory(id).unwrap(), before);
    assert_eq!(
        f.inv
            .list_movements(id, &MovementQuery::default())
            .unwrap()
            .len(),
        2
    );
    assert_verified(&f.inv);
}

#[test]
fn quantities_are_validated() {
    let f = fixture();
    let id = product(&f.inv, "S3", 5);
    for q in [0, -1, i64::MIN, MAX_QUANTITY + 1, i64::MAX] {
        for kind in [
            OpKind::Add,
            OpKind::Remove,
            OpKind::Reserve,
            OpKind::Unreserve,
        ] {
            let e = f.inv.stock(StockOp::new(kind, id, q)).unwrap_err();
            assert_eq!(
                (e.code, e.field.as_deref()),
                (ErrorCode::ValidationError, Some("quantity")),
                "{kind:?} {q}"
            );
        }
    }
    let e = f.inv.stock(StockOp::add(id, 1).quantity(None)).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("quantity"));
}

#[test]
fn balances_cannot_overflow() {
    let f = fixture();
    let id = product(&f.inv, "BIG", MAX_QUANTITY);
    let e = f.inv.add_stock(StockOp::add(id, 1)).unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationError);
    assert_eq!(
        f.inv.get_inventory(id).unwrap().totals.on_hand,
        MAX_QUANTITY
    );
    let other = inventory::StockOp::add(id, MAX_QUANTITY).at("Warehouse B");
    f.inv.add_stock(other).unwrap();
    assert_eq!(
        f.inv.get_inventory(id).unwrap().totals.on_hand,
        2 * MAX_QUANTITY,
        "totals span locations"
    );
    assert_verified(&f.inv);
}

#[test]
fn memo_fields_are_stored_and_limited() {
    let f = fixture();
    let id = product(&f.inv, "S4", 0);
    f.inv
        .add_stock(
            StockOp::add(id, 2)
                .reference("PO-9")
                .notes("dock 3, pallet ß"),
        )
        .unwrap();
    let m = &f.inv.list_movements(id, &MovementQuery::default()).unwrap()[0];
    assert_eq!(
        (m.reference.as_deref(), m.notes.as_deref()),
        (Some("PO-9"), Some("dock 3, pallet ß"))
    );
    let e = f
        .inv
        .add_stock(StockOp::add(id, 1).reference("r".repeat(256)))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("reference"));
    let e = f
        .inv
        .add_stock(StockOp::add(id, 1).notes("n".repeat(4097)))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("notes"));
    let e = f
        .inv
        .add_stock(StockOp::add(id, 1).notes("a\0b"))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("notes"));
    f.inv
        .add_stock(StockOp::add(id, 1).notes("n".repeat(4096)))
        .unwrap();
}

/// A receipt's id in the system that caused it is kept in the ledger, on the IN movement only,
/// and is part of the request an idempotency key stands for.
#[test]
fn a_receipt_records_its_external_id() {
    let f = fixture();
    let id = product(&f.inv, "S6", 0);
    let call = inventory::Call {
        idempotency_key: Some("rec-1".into()),
        ..inventory::Call::default()
    };
    let receipt = StockOp::add(id, 4)
        .external_id("ERP-REC-77")
        .reference("PO-3");
    let first = f
        .inv
        .write(inventory::Write::level(receipt.clone()), &call)
        .unwrap();
    let replay = f
        .inv
        .write(inventory::Write::level(receipt), &call)
        .unwrap();
    assert!(replay.replayed && replay.value == first.value);
    f.inv.reserve_stock(StockOp::reserve(id, 1)).unwrap();
    let ms = f.inv.list_movements(id, &MovementQuery::default()).unwrap();
    let got: Vec<_> = ms
        .iter()
        .map(|m| (m.kind, m.external_id.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (MovementKind::Reserve, None),
            (MovementKind::In, Some("ERP-REC-77"))
        ]
    );
    assert_eq!(
        f.inv.changes(0, None).unwrap().movements[0]
            .external_id
            .as_deref(),
        Some("ERP-REC-77")
    );
    // Another external id under the same key is another request.
    let other = StockOp::add(id, 4)
        .external_id("ERP-REC-78")
        .reference("PO-3");
    let e = f
        .inv
        .write(inventory::Write::level(other), &call)
        .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Conflict, Some("idempotency_key"))
    );
    let mut removal = StockOp::remove(id, 1);
    removal.external_id = Some("ERP-REC-79".into());
    let e = f.inv.remove_stock(removal).unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::ValidationError, Some("external_id"))
    );
    let e = f
        .inv
        .add_stock(StockOp::add(id, 1).external_id("x".repeat(256)))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("external_id"));
    assert_verified(&f.inv);
}

#[test]
fn fields_that_do_not_apply_are_refused() {
    let f = fixture();
    let id = product(&f.inv, "S5", 5);
    let e = f
        .inv
        .add_stock(StockOp::add(id, 1).release_remainder(true))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("release_remainder"));
    let e = f
        .inv
        .add_stock(StockOp::add(id, 1).expires(inventory::Expiry::In(5)))
        .unwrap_err();
    // Errors name fields as the surfaces spell them, never the engine's internal names.
    assert_eq!(e.field.as_deref(), Some("expires_in_seconds"));
    let mut op = StockOp::remove(id, 1);
    op.to_location = Some("X".into());
    assert_eq!(
        f.inv.remove_stock(op).unwrap_err().field.as_deref(),
        Some("to_location")
    );
    assert_eq!(
        f.inv
            .add_stock(StockOp::remove(id, 1))
            .unwrap_err()
            .field
            .as_deref(),
        Some("kind")
    );
}

/// A count conditional on what the counter last saw applies only while that is still current.
#[test]
fn count_with_compare_and_set() {
    let f = fixture();
    let id = product(&f.inv, "S6", 5);
    f.inv
        .reserve_stock(StockOp::reserve(id, 2).reference("R"))
        .unwrap();
    let counted = StockOp::count(id, "Warehouse A", 7);
    let level = f
        .inv
        .count_stock(counted.clone().expect(Expect::Quantity(5)))
        .unwrap();
    assert_eq!((level.on_hand, level.reserved), (7, 2));
    // The counter saw 5 on hand, but the shelf now holds 7: refused, naming the field.
    let e = f
        .inv
        .count_stock(StockOp::count(id, "Warehouse A", 4).expect(Expect::Quantity(5)))
        .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Conflict, Some("expected_quantity"))
    );
    let e = f
        .inv
        .count_stock(StockOp::count(id, "Warehouse A", 4).expect(Expect::Available(3)))
        .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Conflict, Some("expected_available"))
    );
    let level = f
        .inv
        .count_stock(StockOp::count(id, "Warehouse A", 4).expect(Expect::Available(5)))
        .unwrap();
    assert_eq!(level.on_hand, 4);
    assert_verified(&f.inv);
}

#[test]
fn ledger_carries_global_sequence_and_balances_after() {
    let f = fixture();
    let a = product(&f.inv, "A", 3);
    let b = product(&f.inv, "B", 4);
    f.inv.reserve_stock(StockOp::reserve(a, 2)).unwrap();
    f.inv.remove_stock(StockOp::remove(b, 1)).unwrap();
    let feed = f.inv.changes(0, None).unwrap();
    let seqs: Vec<i64> = feed.movements.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    assert_eq!(feed.next_after, 4);
    let kinds: Vec<_> = feed
        .movements
        .iter()
        .map(|m| (m.kind, m.on_hand_after, m.reserved_after))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (MovementKind::In, 3, 0),
            (MovementKind::In, 4, 0),
            (MovementKind::Reserve, 3, 2),
            (MovementKind::Out, 3, 0)
        ]
    );
    let page = f.inv.changes(2, Some(1)).unwrap();
    assert_eq!((page.movements[0].seq, page.next_after), (3, 3));
    let end = f.inv.changes(4, None).unwrap();
    assert!(end.movements.is_empty());
    assert_eq!(end.next_after, 4);
    assert_eq!(
        f.inv.changes(-1, None).unwrap_err().field.as_deref(),
        Some("after")
    );
    assert_eq!(
        f.inv.changes(0, Some(1001)).unwrap_err().field.as_deref(),
        Some("limit")
    );
}

#[test]
fn history_pages_newest_first_by_offset_and_by_cursor() {
    let f = fixture();
    let id = product(&f.inv, "H", 0);
    let other = product(&f.inv, "O", 0);
    for i in 1..=30 {
        f.inv.add_stock(StockOp::add(id, i)).unwrap();
        f.inv.add_stock(StockOp::add(other, 1)).unwrap();
    }
    let page = |q: MovementQuery| {
        f.inv
            .list_movements(id, &q)
            .unwrap()
            .iter()
            .map(|m| m.quantity)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        page(MovementQuery::default()),
        (21..=30).rev().collect::<Vec<_>>()
    );
    assert_eq!(
        page(MovementQuery {
            limit: Some(5),
            offset: Some(10),
            ..Default::default()
        }),
        (16..=20).rev().collect::<Vec<_>>()
    );
    let first = f.inv.list_movements(id, &MovementQuery::default()).unwrap();
    let cursor = first.last().unwrap().seq;
    let next = page(MovementQuery {
        before: Some(cursor),
        ..Default::default()
    });
    assert_eq!(next, (11..=20).rev().collect::<Vec<_>>());
    let newer = page(MovementQuery {
        after: Some(first[1].seq),
        ..Default::default()
    });
    assert_eq!(newer, vec![30]);
    assert!(
        page(MovementQuery {
            location: Some("Nowhere".into()),
            ..Default::default()
        })
        .is_empty()
    );
    assert_eq!(
        page(MovementQuery {
            location: Some("Warehouse A".into()),
            limit: Some(100),
            ..Default::default()
        })
        .len(),
        30
    );
}

#[test]
fn data_survives_reopening_the_store() {
    let f = fixture();
    let id = product(&f.inv, "KEEP", 7);
    f.inv
        .reserve_stock(StockOp::reserve(id, 2).reference("R1"))
        .unwrap();
    let before = f.inv.get_product(id).unwrap();
    drop(f.inv);
    if !f.store.is_postgres() {
        // Closing checkpoints: the main file alone, without its WAL, holds every commit.
        let alone = f.store.dir.path().join("copy.db");
        std::fs::copy(&f.store.target, &alone).unwrap();
        assert_eq!(
            inventory::Inventory::open(&alone)
                .unwrap()
                .get_product(id)
                .unwrap(),
            before
        );
    }
    let inv = f.store.open(inventory::Options::default());
    assert_eq!(inv.get_product(id).unwrap(), before);
    assert_eq!(inv.list_reservations(id).unwrap()[0].reference, "R1");
    inv.add_stock(StockOp::add(id, 1)).unwrap();
    assert_eq!(
        inv.changes(0, None).unwrap().movements.last().unwrap().seq,
        3,
        "sequence continues"
    );
    assert_verified(&inv);
}

#[test]
fn a_write_returns_what_a_read_returns() {
    let store = Target::new();
    // The system clock has sub-microsecond precision; stored timestamps have microseconds.
    let inv = store.open(inventory::Options::default());
    let created = inv.create_product(new_product("TS", 1)).unwrap();
    assert_eq!(inv.get_product(created.product.id).unwrap(), created);
    let level = inv.add_stock(StockOp::add(created.product.id, 1)).unwrap();
    assert_eq!(
        inv.get_inventory(created.product.id).unwrap().locations[0],
        level
    );
}
