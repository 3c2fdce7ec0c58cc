//! What a till needs of the engine, on both stores: a commit that takes from one reservation
//! while its movements carry another reference (a sale committed from an allotment), a lease
//! renewed without its quantity changing, products created with a given id (a mirror keeps
//! central's ids), and the catalogue feed (every change in commit order, archived products
//! included) that a mirror pulls from a cursor.

mod common;

use chrono::Duration;
use common::*;
use inventory::{
    Call, Clock, ErrorCode, Expiry, MovementKind, MovementQuery, NewProduct, Price, ProductChanges,
    ProductImport, StockOp, Uuid, Write,
};

#[test]
fn a_commit_from_a_named_reservation_records_its_own_reference() {
    let f = fixture();
    let id = product(&f.inv, "M1", 10);
    f.inv
        .reserve_stock(StockOp::reserve(id, 5).reference("till:T1"))
        .unwrap();
    let level = f
        .inv
        .commit_reservation(
            StockOp::commit(id, "sale:1")
                .from_reservation("till:T1")
                .quantity(Some(2)),
        )
        .unwrap();
    assert_eq!((level.on_hand, level.reserved), (8, 3));
    let held = f.inv.reservations_by_reference("till:T1").unwrap();
    assert_eq!(held[0].quantity, 3, "the allotment shrank by the sale");
    assert!(
        f.inv
            .reservations_by_reference("sale:1")
            .unwrap()
            .is_empty()
    );
    let last = &f.inv.list_movements(id, &MovementQuery::default()).unwrap()[0];
    assert_eq!(
        (last.kind, last.quantity, last.reference.as_deref()),
        (MovementKind::Commit, 2, Some("sale:1"))
    );

    // More than the named reservation holds is refused, whatever the reference holds.
    f.inv
        .reserve_stock(StockOp::reserve(id, 4).reference("sale:2"))
        .unwrap();
    let e = f
        .inv
        .commit_reservation(
            StockOp::commit(id, "sale:2")
                .from_reservation("till:T1")
                .quantity(Some(4)),
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InsufficientReserved);
    assert!(e.message.contains("till:T1"), "{}", e.message);

    // Only a commit takes it: anywhere else it is refused, naming the field.
    let mut unreserve = StockOp::unreserve(id, 1).reference("sale:2");
    unreserve.reservation = Some("till:T1".into());
    let e = f.inv.unreserve_stock(unreserve).unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::ValidationError, Some("reservation"))
    );
    let long = "r".repeat(256);
    let e = f
        .inv
        .commit_reservation(StockOp::commit(id, "x").from_reservation(long))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("reservation"));
    assert_verified(&f.inv);
}

#[test]
fn release_remainder_releases_the_named_reservation() {
    let f = fixture();
    let id = product(&f.inv, "M2", 10);
    f.inv
        .reserve_stock(StockOp::reserve(id, 5).reference("till:T1"))
        .unwrap();
    let level = f
        .inv
        .commit_reservation(
            StockOp::commit(id, "sale:1")
                .from_reservation("till:T1")
                .quantity(Some(1))
                .release_remainder(true),
        )
        .unwrap();
    assert_eq!((level.on_hand, level.reserved), (9, 0));
    assert!(
        f.inv
            .reservations_by_reference("till:T1")
            .unwrap()
            .is_empty()
    );
    assert_verified(&f.inv);
}

#[test]
fn renew_moves_the_expiry_and_nothing_else() {
    let f = fixture();
    let id = product(&f.inv, "M3", 10);
    f.inv
        .reserve_stock(
            StockOp::reserve(id, 4)
                .reference("till:T1")
                .expires(Expiry::In(60)),
        )
        .unwrap();
    let before = f.inv.list_movements(id, &MovementQuery::default()).unwrap();
    f.clock.advance(Duration::seconds(50));
    let level = f
        .inv
        .write(
            Write::level(StockOp::renew(id, "till:T1", Expiry::In(3600))),
            &Call::default(),
        )
        .unwrap()
        .value;
    assert_eq!((level.on_hand, level.reserved), (10, 4));
    let held = &f.inv.reservations_by_reference("till:T1").unwrap()[0];
    assert_eq!(held.quantity, 4);
    assert_eq!(
        held.expires_at,
        Some(f.clock.now() + Duration::seconds(3600))
    );
    let after = f.inv.list_movements(id, &MovementQuery::default()).unwrap();
    assert_eq!(before, after, "a renewal writes no movement");

    // Past the old expiry, the renewed lease still holds.
    f.clock.advance(Duration::seconds(60));
    assert_eq!(f.inv.expire_reservations().unwrap(), 0);
    assert_eq!(
        f.inv.get_stock_level(id, "Warehouse A").unwrap().reserved,
        4
    );
    // And it lapses at the new one.
    f.clock.advance(Duration::seconds(3600));
    assert_eq!(
        f.inv.get_stock_level(id, "Warehouse A").unwrap().reserved,
        0
    );
    assert_verified(&f.inv);
}

#[test]
fn renew_needs_an_open_reservation_and_an_expiry() {
    let f = fixture();
    let id = product(&f.inv, "M4", 10);
    let renew = |op: StockOp| f.inv.stock(op).unwrap_err();
    let e = renew(StockOp::renew(id, "till:T1", Expiry::In(60)));
    assert_eq!(e.code, ErrorCode::InsufficientReserved);
    assert!(e.message.contains("till:T1"), "{}", e.message);
    let mut no_expiry = StockOp::renew(id, "till:T1", Expiry::In(60));
    no_expiry.expires = None;
    let e = renew(no_expiry);
    assert_eq!(e.field.as_deref(), Some("expires_in_seconds"));
    let e = renew(StockOp::renew(id, "till:T1", Expiry::In(0)));
    assert_eq!(e.field.as_deref(), Some("expires_in_seconds"));
    let e = renew(StockOp::renew(id, "till:T1", Expiry::In(60)).quantity(Some(1)));
    assert_eq!(e.field.as_deref(), Some("quantity"));
    let e = renew(StockOp::renew(id, "till:T1", Expiry::In(60)).notes("n"));
    assert_eq!(e.field.as_deref(), Some("notes"));
    // The unreferenced reservation can be renewed too.
    f.inv.reserve_stock(StockOp::reserve(id, 1)).unwrap();
    let mut unreferenced = StockOp::renew(id, "", Expiry::In(60));
    unreferenced.reference = None;
    f.inv.stock(unreferenced).unwrap();
    assert_eq!(
        f.inv.list_reservations(id).unwrap()[0].expires_at,
        Some(f.clock.now() + Duration::seconds(60))
    );
    // In a batch, renewals are all or nothing with the rest.
    let e = f
        .inv
        .batch(vec![
            StockOp::reserve(id, 2).reference("till:T2"),
            StockOp::renew(id, "till:T3", Expiry::In(60)),
        ])
        .unwrap_err();
    assert_eq!(
        (e.code, e.index),
        (ErrorCode::InsufficientReserved, Some(1))
    );
    assert!(
        f.inv
            .reservations_by_reference("till:T2")
            .unwrap()
            .is_empty()
    );
    assert_verified(&f.inv);
}

#[test]
fn a_product_created_with_a_given_id_keeps_it() {
    let f = fixture();
    let id = Uuid::now_v7();
    let mut new = new_product("M5", 3);
    new.id = Some(id);
    let created = f.inv.create_product(new).unwrap();
    assert_eq!(created.product.id, id);
    assert_eq!(f.inv.get_product(id).unwrap().inventory.totals.on_hand, 3);

    // An id is never reused, even once its product is archived.
    f.inv.delete_product(id, None).unwrap();
    let mut again = new_product("M5", 0);
    again.id = Some(id);
    let e = f.inv.create_product(again).unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Conflict, Some("id"))
    );
    let mut nil = new_product("M6", 0);
    nil.id = Some(Uuid::nil());
    let e = f.inv.create_product(nil).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("id"));
    assert_verified(&f.inv);
}

/// An import row of a product at price 1, nothing else given.
fn import_row(sku: &str, name: &str) -> ProductImport {
    ProductImport {
        sku: sku.into(),
        name: name.into(),
        price: Price::parse("1").unwrap(),
        description: None,
        location: None,
        initial_quantity: None,
        reorder_point: None,
    }
}

#[test]
fn the_catalogue_feed_gives_each_change_once_in_commit_order() {
    let f = fixture();
    let empty = f.inv.catalogue_changes(0, None).unwrap();
    assert!(empty.products.is_empty());
    assert_eq!(empty.next_after, 0);

    let a = product(&f.inv, "CA", 1);
    let b = product(&f.inv, "CB", 0);
    let c = product(&f.inv, "CC", 0);
    let first = f.inv.catalogue_changes(0, None).unwrap();
    let ids: Vec<Uuid> = first.products.iter().map(|e| e.product.id).collect();
    assert_eq!(ids, vec![a, b, c]);
    let revisions: Vec<i64> = first.products.iter().map(|e| e.revision).collect();
    assert!(revisions.windows(2).all(|w| w[0] < w[1]), "{revisions:?}");
    assert_eq!(first.next_after, revisions[2]);
    let cursor = first.next_after;

    // Stock movements are not catalogue changes.
    f.inv.add_stock(StockOp::add(a, 5)).unwrap();
    assert!(
        f.inv
            .catalogue_changes(cursor, None)
            .unwrap()
            .products
            .is_empty()
    );

    // An update, an archive and an import row each move their product to the end, once.
    let changes = ProductChanges {
        price: Some(Price::parse("12.50").unwrap()),
        ..ProductChanges::default()
    };
    f.inv.update_product(a, changes.clone(), None).unwrap();
    f.inv.update_product(a, changes, None).unwrap(); // changes nothing: no new revision
    f.inv.delete_product(b, None).unwrap();
    f.inv
        .import_products(
            vec![import_row("CD", "New"), import_row("CC", "Renamed")],
            false,
        )
        .unwrap();
    let page = f.inv.catalogue_changes(cursor, None).unwrap();
    let seen: Vec<(&str, bool)> = page
        .products
        .iter()
        .map(|e| (e.product.sku.as_str(), e.archived_at.is_some()))
        .collect();
    assert_eq!(
        seen,
        vec![("CA", false), ("CB", true), ("CD", false), ("CC", false)]
    );
    assert_eq!(page.products[0].product.price.to_string(), "12.50");
    assert_eq!(page.products[3].product.name, "Renamed");
    assert!(page.products.iter().all(|e| e.revision > cursor));

    // Pages: the cursor of one is where the next starts.
    let one = f.inv.catalogue_changes(cursor, Some(1)).unwrap();
    assert_eq!(one.products.len(), 1);
    let rest = f.inv.catalogue_changes(one.next_after, None).unwrap();
    assert_eq!(rest.products.len(), 3);
    // A dry run and a failed write hand out no revision.
    let call = Call {
        dry_run: true,
        ..Call::default()
    };
    f.inv
        .write(Write::create_product(new_product("CE", 0)), &call)
        .unwrap();
    f.inv.create_product(new_product("CD", 0)).unwrap_err(); // duplicate sku
    assert!(
        f.inv
            .catalogue_changes(page.next_after, None)
            .unwrap()
            .products
            .is_empty()
    );

    let e = f.inv.catalogue_changes(-1, None).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("after"));
    let e = f.inv.catalogue_changes(0, Some(0)).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("limit"));
    assert_verified(&f.inv);
}

/// The one semantics of the catalogue revision on both stores (docs/ENGINE.md): every change
/// takes the next number, however the changes were grouped into transactions, and a product
/// shows the revision of its last change.
#[test]
fn every_change_takes_the_next_catalogue_revision_however_commands_are_grouped() {
    let f = fixture();
    let a = product(&f.inv, "RA", 0);
    let b = product(&f.inv, "RB", 0);
    let revision = |id: Uuid| {
        let page = f.inv.catalogue_changes(0, None).unwrap();
        page.products
            .iter()
            .find(|e| e.product.id == id)
            .map(|e| e.revision)
            .unwrap()
    };
    assert_eq!((revision(a), revision(b)), (1, 2));
    let renamed = |name: &str| ProductChanges {
        name: Some(name.into()),
        ..ProductChanges::default()
    };
    f.inv.update_product(a, renamed("A1"), None).unwrap();
    assert_eq!(revision(a), 3);

    // One command that changes one product twice (an import naming a new SKU twice creates it,
    // then updates it) takes two revisions.
    f.inv
        .import_products(vec![import_row("RC", "C1"), import_row("RC", "C2")], false)
        .unwrap();
    let page = f.inv.catalogue_changes(3, None).unwrap();
    assert_eq!(page.products.len(), 1);
    assert_eq!(
        (
            page.products[0].product.name.as_str(),
            page.products[0].revision
        ),
        ("C2", 5)
    );

    // Writers racing on two products: group commit puts several of their changes, some to the
    // same product, in one transaction; each still takes one revision.
    let (threads, per) = (6, 10);
    std::thread::scope(|s| {
        for t in 0..threads {
            let inv = f.inv.clone();
            s.spawn(move || {
                for i in 0..per {
                    let id = if i % 2 == 0 { a } else { b };
                    inv.update_product(id, renamed(&format!("T{t}-{i}")), None)
                        .unwrap();
                }
            });
        }
    });
    let page = f.inv.catalogue_changes(5, None).unwrap();
    let revisions: Vec<i64> = page.products.iter().map(|e| e.revision).collect();
    assert_eq!(revisions.len(), 2);
    assert_eq!(revisions.iter().max(), Some(&(5 + threads * per)));
    assert!(revisions.iter().all(|r| *r > 5), "{revisions:?}");
    assert_verified(&f.inv);
}

#[test]
fn revisions_stay_in_order_for_writers_racing_on_the_catalogue() {
    let f = fixture();
    let threads = 4;
    let per = 25;
    std::thread::scope(|s| {
        for t in 0..threads {
            let inv = f.inv.clone();
            s.spawn(move || {
                for i in 0..per {
                    let mut p =
                        NewProduct::new("Racer", format!("R{t}-{i}"), Price::parse("1").unwrap());
                    p.initial_quantity = 1;
                    let id = inv.create_product(p).unwrap().product.id;
                    if i % 3 == 0 {
                        inv.delete_product(id, None).unwrap();
                    }
                }
            });
        }
    });
    let mut after = 0;
    let mut seen = std::collections::HashSet::new();
    loop {
        let page = f.inv.catalogue_changes(after, Some(7)).unwrap();
        if page.products.is_empty() {
            break;
        }
        for e in &page.products {
            assert!(e.revision > after);
            after = e.revision;
            assert!(seen.insert(e.product.id), "each product once");
            let i: usize = e.product.sku.rsplit('-').next().unwrap().parse().unwrap();
            assert_eq!(e.archived_at.is_some(), i % 3 == 0, "{}", e.product.sku);
        }
    }
    assert_eq!(seen.len(), threads * per);
    assert_verified(&f.inv);
}

#[test]
fn a_commit_of_a_till_sale_is_applied_once_per_key() {
    let f = fixture();
    let id = product(&f.inv, "M7", 10);
    f.inv
        .reserve_stock(StockOp::reserve(id, 5).reference("till:T1"))
        .unwrap();
    let sale = StockOp::commit(id, "sale:9")
        .from_reservation("till:T1")
        .quantity(Some(2));
    let call = Call::keyed("sale:9").actor(Some("till-key"));
    let first = f.inv.write(Write::level(sale.clone()), &call).unwrap();
    let again = f.inv.write(Write::level(sale), &call).unwrap();
    assert!(!first.replayed && again.replayed);
    assert_eq!(again.value.on_hand, 8);
    let last = &f.inv.list_movements(id, &MovementQuery::default()).unwrap()[0];
    assert_eq!(last.actor.as_deref(), Some("till-key"));
    // The same key for another request is refused: what a till reads as "already applied".
    let other = StockOp::commit(id, "sale:9")
        .from_reservation("till:T1")
        .quantity(Some(1));
    let e = f.inv.write(Write::level(other), &call).unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Conflict, Some("idempotency_key"))
    );
    assert_verified(&f.inv);
}
