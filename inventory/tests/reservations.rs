mod common;

use chrono::Duration;
use common::*;
use inventory::{Clock, ErrorCode, Expiry, MovementKind, MovementQuery, ProductQuery, StockOp};

#[test]
fn reserving_again_with_a_reference_adds_to_the_reservation() {
    let f = fixture();
    let id = product(&f.inv, "R1", 10);
    f.inv
        .reserve_stock(StockOp::reserve(id, 2).reference("ORDER-1"))
        .unwrap();
    f.inv
        .reserve_stock(StockOp::reserve(id, 3).reference("ORDER-1"))
        .unwrap();
    f.inv.reserve_stock(StockOp::reserve(id, 1)).unwrap();
    let open = f.inv.list_reservations(id).unwrap();
    let held: Vec<_> = open
        .iter()
        .map(|r| (r.reference.as_str(), r.quantity))
        .collect();
    assert_eq!(held, vec![("", 1), ("ORDER-1", 5)]);
    let by_ref = f.inv.reservations_by_reference("ORDER-1").unwrap();
    assert_eq!(
        (
            by_ref.len(),
            by_ref[0].product_id,
            by_ref[0].location.as_str()
        ),
        (1, id, "Warehouse A")
    );
    assert!(f.inv.reservations_by_reference("nope").unwrap().is_empty());
    let e = f.inv.reservations_by_reference("").unwrap_err();
    assert_eq!(e.field.as_deref(), Some("reference"));
    assert_verified(&f.inv);
}

#[test]
fn unreserve_releases_the_named_reservation_or_unreferenced_quantity() {
    let f = fixture();
    let id = product(&f.inv, "R2", 10);
    f.inv
        .reserve_stock(StockOp::reserve(id, 4).reference("A"))
        .unwrap();
    f.inv.reserve_stock(StockOp::reserve(id, 2)).unwrap();
    let e = f
        .inv
        .unreserve_stock(StockOp::unreserve(id, 3))
        .unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::InsufficientReserved,
        "only 2 are unreferenced"
    );
    let e = f
        .inv
        .unreserve_stock(StockOp::unreserve(id, 1).reference("B"))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InsufficientReserved);
    assert_eq!(
        f.inv
            .unreserve_stock(StockOp::unreserve(id, 1).reference("A"))
            .unwrap()
            .reserved,
        5
    );
    let whole = StockOp::unreserve(id, 0).reference("A").quantity(None);
    assert_eq!(
        f.inv.unreserve_stock(whole).unwrap().reserved,
        2,
        "no quantity: the whole reservation"
    );
    let e = f
        .inv
        .unreserve_stock(StockOp::unreserve(id, 0).quantity(None))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("quantity"));
    assert_eq!(
        f.inv
            .unreserve_stock(StockOp::unreserve(id, 2))
            .unwrap()
            .reserved,
        0
    );
    assert!(f.inv.list_reservations(id).unwrap().is_empty());
    assert_verified(&f.inv);
}

#[test]
fn commit_fulfils_whole_or_part_and_can_release_the_rest() {
    let f = fixture();
    let id = product(&f.inv, "R3", 20);
    f.inv
        .reserve_stock(StockOp::reserve(id, 5).reference("O1"))
        .unwrap();
    f.inv
        .reserve_stock(StockOp::reserve(id, 5).reference("O2"))
        .unwrap();
    let l = f.inv.commit_reservation(StockOp::commit(id, "O1")).unwrap();
    assert_eq!((l.on_hand, l.reserved, l.available), (15, 5, 10));
    let l = f
        .inv
        .commit_reservation(StockOp::commit(id, "O2").quantity(Some(2)))
        .unwrap();
    assert_eq!((l.on_hand, l.reserved), (13, 3));
    assert_eq!(f.inv.list_reservations(id).unwrap()[0].quantity, 3);
    let l = f
        .inv
        .commit_reservation(
            StockOp::commit(id, "O2")
                .quantity(Some(1))
                .release_remainder(true),
        )
        .unwrap();
    assert_eq!((l.on_hand, l.reserved, l.available), (12, 0, 12));
    assert!(f.inv.list_reservations(id).unwrap().is_empty());
    let kinds: Vec<_> = f
        .inv
        .list_movements(id, &MovementQuery::default())
        .unwrap()
        .iter()
        .map(|m| (m.kind, m.quantity))
        .collect();
    assert_eq!(
        kinds[..4],
        [
            (MovementKind::Unreserve, 2),
            (MovementKind::Commit, 1),
            (MovementKind::Commit, 2),
            (MovementKind::Commit, 5)
        ]
    );
    let e = f
        .inv
        .commit_reservation(StockOp::commit(id, "O1"))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InsufficientReserved);
    f.inv
        .reserve_stock(StockOp::reserve(id, 1).reference("O3"))
        .unwrap();
    let e = f
        .inv
        .commit_reservation(StockOp::commit(id, "O3").quantity(Some(2)))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InsufficientReserved);
    assert_verified(&f.inv);
}

#[test]
fn expired_reservations_are_released_before_any_read_or_write() {
    let f = fixture();
    let id = product(&f.inv, "R4", 10);
    f.inv
        .reserve_stock(
            StockOp::reserve(id, 4)
                .reference("CART-1")
                .expires(Expiry::In(60)),
        )
        .unwrap();
    let at = f.inv.now() + Duration::seconds(120);
    f.inv
        .reserve_stock(
            StockOp::reserve(id, 3)
                .reference("CART-2")
                .expires(Expiry::At(at)),
        )
        .unwrap();
    let r = &f.inv.list_reservations(id).unwrap()[0];
    assert_eq!(r.expires_at, Some(f.inv.now() + Duration::seconds(60)));
    f.clock.advance(Duration::seconds(59));
    assert_eq!(f.inv.get_inventory(id).unwrap().totals.available, 3);
    f.clock.advance(Duration::seconds(1));
    // A read sees the expiry at once, and the release is in the ledger.
    assert_eq!(f.inv.get_product(id).unwrap().inventory.totals.available, 7);
    let m = &f.inv.list_movements(id, &MovementQuery::default()).unwrap()[0];
    assert_eq!(
        (m.kind, m.quantity, m.reference.as_deref()),
        (MovementKind::Expire, 4, Some("CART-1"))
    );
    f.clock.advance(Duration::seconds(60));
    // A write that needs the stock finds it released.
    f.inv.remove_stock(StockOp::remove(id, 10)).unwrap();
    assert!(f.inv.list_reservations(id).unwrap().is_empty());
    assert_verified(&f.inv);
}

#[test]
fn the_sweep_releases_everything_due_and_low_stock_sees_it() {
    let f = fixture();
    let a = product(&f.inv, "SW1", 5);
    let b = product(&f.inv, "SW2", 5);
    f.inv
        .update_product(
            a,
            inventory::ProductChanges {
                reorder_point: Some(Some(2)),
                ..Default::default()
            },
            None,
        )
        .unwrap();
    f.inv
        .reserve_stock(StockOp::reserve(a, 4).expires(Expiry::In(10)))
        .unwrap();
    f.inv
        .reserve_stock(
            StockOp::reserve(b, 1)
                .reference("X")
                .expires(Expiry::In(10)),
        )
        .unwrap();
    f.inv
        .reserve_stock(StockOp::reserve(b, 1).reference("Y"))
        .unwrap();
    let low = ProductQuery {
        low_stock: true,
        ..Default::default()
    };
    assert_eq!(f.inv.list_products(&low).unwrap().len(), 1);
    assert_eq!(f.inv.expire_reservations().unwrap(), 0);
    f.clock.advance(Duration::seconds(10));
    assert!(
        f.inv.list_products(&low).unwrap().is_empty(),
        "listing releases expired reservations first"
    );
    assert_eq!(
        f.inv.expire_reservations().unwrap(),
        0,
        "already released by the read"
    );
    f.inv
        .reserve_stock(StockOp::reserve(b, 1).reference("Z").expires(Expiry::In(5)))
        .unwrap();
    f.clock.advance(Duration::seconds(5));
    assert_eq!(f.inv.expire_reservations().unwrap(), 1);
    let refs: Vec<_> = f
        .inv
        .list_reservations(b)
        .unwrap()
        .into_iter()
        .map(|r| r.reference)
        .collect();
    assert_eq!(refs, vec!["Y"]);
    assert_verified(&f.inv);
}

#[test]
fn a_new_expiry_replaces_the_old_and_bad_expiries_are_refused() {
    let f = fixture();
    let id = product(&f.inv, "R5", 10);
    f.inv
        .reserve_stock(
            StockOp::reserve(id, 1)
                .reference("C")
                .expires(Expiry::In(10)),
        )
        .unwrap();
    f.inv
        .reserve_stock(
            StockOp::reserve(id, 1)
                .reference("C")
                .expires(Expiry::In(100)),
        )
        .unwrap();
    f.inv
        .reserve_stock(StockOp::reserve(id, 1).reference("C"))
        .unwrap();
    let r = &f.inv.list_reservations(id).unwrap()[0];
    assert_eq!(
        (r.quantity, r.expires_at),
        (3, Some(f.inv.now() + Duration::seconds(100)))
    );
    for (expiry, field) in [
        (Expiry::In(0), "expires_in_seconds"),
        (Expiry::In(-5), "expires_in_seconds"),
        (
            Expiry::In(inventory::MAX_EXPIRY_SECONDS + 1),
            "expires_in_seconds",
        ),
        (Expiry::At(f.inv.now()), "expires_at"),
        (Expiry::At(f.inv.now() + Duration::days(400)), "expires_at"),
    ] {
        let e = f
            .inv
            .reserve_stock(StockOp::reserve(id, 1).expires(expiry))
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some(field));
    }
}

/// Within one batch a reservation is kept in memory and written once; a reservation that
/// closes and opens again in the same batch is a new one (new id, no old expiry), and one
/// opened and fully released leaves no row.
#[test]
fn a_reservation_closed_and_reopened_in_one_batch_starts_afresh() {
    let f = fixture();
    let id = product(&f.inv, "RB1", 10);
    let held = StockOp::reserve(id, 2)
        .reference("ORDER-1")
        .expires(Expiry::In(60));
    f.inv.reserve_stock(held).unwrap();
    let before = f.inv.list_reservations(id).unwrap().remove(0);
    f.clock.advance(Duration::seconds(1));
    f.inv
        .batch(vec![
            StockOp::commit(id, "ORDER-1"),
            StockOp::reserve(id, 1).reference("ORDER-1"),
            StockOp::reserve(id, 3)
                .reference("ORDER-2")
                .expires(Expiry::In(30)),
            StockOp::unreserve(id, 3).reference("ORDER-2"),
        ])
        .unwrap();
    let open = f.inv.list_reservations(id).unwrap();
    assert_eq!(open.len(), 1, "ORDER-2 opened and closed: {open:?}");
    let after = &open[0];
    assert_eq!((after.reference.as_str(), after.quantity), ("ORDER-1", 1));
    assert_ne!(after.id, before.id);
    assert_eq!(after.expires_at, None);
    assert_eq!(after.created_at, f.clock.now());
    f.clock.advance(Duration::seconds(120));
    assert_eq!(
        f.inv.get_inventory(id).unwrap().totals.reserved,
        1,
        "nothing expired"
    );
    assert!(f.inv.verify().unwrap().ok);
}

#[test]
fn reservations_expiring_soon_are_listed_soonest_first_and_never_once_due() {
    let f = fixture();
    let a = product(&f.inv, "EX1", 20);
    let b = product(&f.inv, "EX2", 20);
    let gone = product(&f.inv, "EX3", 20);
    let reserve = |id, reference: &str, expiry: Option<i64>| {
        let mut op = StockOp::reserve(id, 1).reference(reference);
        if let Some(seconds) = expiry {
            op = op.expires(Expiry::In(seconds));
        }
        f.inv.reserve_stock(op).unwrap();
    };
    reserve(a, "LATER", Some(3600));
    reserve(b, "SOON", Some(60));
    reserve(a, "SOONER", Some(30));
    reserve(b, "NEVER", None);
    reserve(gone, "ARCHIVED", Some(10));
    f.inv.delete_product(gone, None).unwrap();
    let refs = |within, limit| {
        f.inv
            .reservations_expiring(within, limit)
            .unwrap()
            .into_iter()
            .map(|r| r.reference)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        refs(900, None),
        ["SOONER", "SOON"],
        "archived products and later expiries left out"
    );
    assert_eq!(refs(3601, None), ["SOONER", "SOON", "LATER"]);
    assert_eq!(refs(3601, Some(1)), ["SOONER"]);
    assert_eq!(
        refs(30, None),
        Vec::<String>::new(),
        "within is exclusive of its end"
    );

    f.clock.advance(Duration::seconds(30));
    assert_eq!(
        refs(31, None),
        ["SOON"],
        "a reservation due is released, not listed"
    );
    let expired: Vec<_> = f
        .inv
        .list_movements(a, &MovementQuery::default())
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == MovementKind::Expire)
        .collect();
    assert_eq!(expired.len(), 1);

    for (within, limit, field) in [
        (0, None, "within"),
        (366 * 24 * 3600 + 1, None, "within"),
        (60, Some(0), "limit"),
        (60, Some(101), "limit"),
    ] {
        let e = f.inv.reservations_expiring(within, limit).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::ValidationError, Some(field))
        );
    }
    assert_verified(&f.inv);
}
