//! Tills at central: one identity per till id, reservations owned by the key that made them
//! (a till's by its till), take-overs recorded in the ledger, conflict reports bound to the
//! reporting till's sales, and a restore that tills can see. On SQLite and, with
//! INVENTORY_TEST_PG, PostgreSQL.
mod common;

use common::*;
use inventory::{
    ApiKey, Call, ErrorCode, Expiry, Inventory, LedgerPoint, MovementKind, Scope, SeenPoint,
    StockOp, Uuid, Write,
};

const SHOP: &str = "Warehouse A";

fn key(inv: &Inventory, name: &str, scope: Scope, limited: bool) -> ApiKey {
    let locations = limited.then(|| vec![SHOP.to_owned()]);
    inv.create_key(name, scope, locations).unwrap().key
}

/// A check-in as a till's files make it: the token its previous one left, and a new one.
fn check_in_with(
    inv: &Inventory,
    by: &ApiKey,
    till: &str,
    instance: &str,
    token: Option<&str>,
    next: &str,
) -> inventory::Result<inventory::CheckIn> {
    seen_check_in(inv, by, till, instance, token, next, None)
}

/// A check-in that sends what the till saw of central.
fn seen_check_in(
    inv: &Inventory,
    by: &ApiKey,
    till: &str,
    instance: &str,
    token: Option<&str>,
    next: &str,
    seen: Option<SeenPoint>,
) -> inventory::Result<inventory::CheckIn> {
    let token = token.map(str::to_owned);
    let write = Write::check_in_till(till, instance, SHOP, token, next, seen);
    inv.write(write, &Call::by(by)).map(|a| a.value)
}

/// A check-in that leaves the token it came with (as an answer lost and sent again does):
/// for the tests of everything but the token.
fn check_in(
    inv: &Inventory,
    by: &ApiKey,
    till: &str,
    instance: &str,
) -> inventory::Result<inventory::CheckIn> {
    check_in_with(inv, by, till, instance, None, &format!("{till}/{instance}"))
}

fn reserve(
    inv: &Inventory,
    by: &ApiKey,
    product: inventory::Uuid,
    reference: &str,
    q: i64,
) -> inventory::Result<()> {
    let op = StockOp::reserve(product, q).reference(reference).at(SHOP);
    inv.write(Write::level(op), &Call::by(by)).map(|_| ())
}

#[test]
fn a_second_instance_or_another_key_under_a_till_id_is_refused_and_changes_nothing() {
    let f = fixture();
    let inv = &f.inv;
    let till = key(inv, "till-1", Scope::Write, true);
    let other = key(inv, "till-2", Scope::Write, true);
    let first = check_in(inv, &till, "dup", "instance-a").unwrap();
    assert_eq!(first.till.key, "till-1");
    assert_eq!(first.till.instance_id, "instance-a");
    // The same instance checks in again.
    check_in(inv, &till, "dup", "instance-a").unwrap();

    let copy = check_in(inv, &till, "dup", "instance-b").unwrap_err();
    assert_eq!(copy.code, ErrorCode::Conflict);
    assert_eq!(copy.field.as_deref(), Some("instance_id"));
    let stolen = check_in(inv, &other, "dup", "instance-a").unwrap_err();
    assert_eq!(stolen.code, ErrorCode::Forbidden);
    assert_eq!(stolen.field.as_deref(), Some("till_id"));

    let tills = inv.tills().unwrap();
    assert_eq!(tills.len(), 1);
    assert_eq!(tills[0].till.instance_id, "instance-a");
    assert_eq!(tills[0].till.key, "till-1");
}

#[test]
fn a_copy_of_a_tills_files_is_refused_once_the_other_copy_checked_in() {
    let f = fixture();
    let inv = &f.inv;
    let till = key(inv, "till-1", Scope::Write, true);
    check_in_with(inv, &till, "t1", "i", None, "a").unwrap();
    // Both copies hold "a". One checks in, its answer lost, and again: the same pair.
    check_in_with(inv, &till, "t1", "i", Some("a"), "b").unwrap();
    check_in_with(inv, &till, "t1", "i", Some("a"), "b").unwrap();
    // The other copy still holds "a".
    let copy = check_in_with(inv, &till, "t1", "i", Some("a"), "c").unwrap_err();
    assert_eq!(copy.code, ErrorCode::Conflict);
    assert_eq!(copy.field.as_deref(), Some("token"));
    check_in_with(inv, &till, "t1", "i", Some("b"), "d").unwrap();
}

#[test]
fn only_the_owner_an_unlimited_key_or_an_admin_changes_a_reservation() {
    let f = fixture();
    let inv = &f.inv;
    let p = product(inv, "COF", 30);
    let victim = key(inv, "victim", Scope::Write, true);
    let thief = key(inv, "thief", Scope::Write, true);
    let shop_front = key(inv, "web", Scope::Write, true);
    let office = key(inv, "office", Scope::Write, false);
    let admin = key(inv, "root", Scope::Admin, true);

    // A till's reservation needs its till registered to the key.
    let early = reserve(inv, &thief, p, "till:victim", 1).unwrap_err();
    assert_eq!(early.code, ErrorCode::Forbidden);
    check_in(inv, &victim, "victim", "i-1").unwrap();
    reserve(inv, &victim, p, "till:victim", 10).unwrap();
    reserve(inv, &shop_front, p, "order-7", 5).unwrap();
    inv.reserve_stock(StockOp::reserve(p, 1).reference("kiosk").at(SHOP))
        .unwrap();
    // Every read of a reservation shows its owner: none for one made without a key.
    let owners: Vec<(String, Option<String>)> = inv
        .list_reservations(p)
        .unwrap()
        .into_iter()
        .map(|r| (r.reference, r.owner))
        .collect();
    let named = |r: &str, o: Option<&str>| (r.to_owned(), o.map(str::to_owned));
    assert_eq!(
        owners,
        [
            named("kiosk", None),
            named("order-7", Some("web")),
            named("till:victim", Some("victim"))
        ]
    );
    let allotments = &inv.tills().unwrap()[0].allotments;
    assert_eq!(allotments[0].owner.as_deref(), Some("victim"));
    assert_eq!(
        inv.reservations_by_reference("order-7").unwrap()[0].owner,
        Some("web".to_owned())
    );

    let by = |k: &ApiKey, op: StockOp| inv.write(Write::level(op), &Call::by(k)).map(|_| ());
    let unreserve = |r: &str| StockOp::unreserve(p, 1).reference(r).at(SHOP);
    for reference in ["till:victim", "order-7"] {
        for op in [
            unreserve(reference),
            StockOp::commit(p, reference).at(SHOP),
            StockOp::renew(p, reference, Expiry::In(60)).at(SHOP),
            StockOp::reserve(p, 1).reference(reference).at(SHOP),
        ] {
            let e = by(&thief, op).unwrap_err();
            assert_eq!(e.code, ErrorCode::Forbidden, "{reference}: {e}");
        }
    }
    // A till's key cannot release the shop front's reservation, nor the shop front the till's.
    assert_eq!(
        by(&victim, unreserve("order-7")).unwrap_err().code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        by(&shop_front, unreserve("till:victim")).unwrap_err().code,
        ErrorCode::Forbidden
    );
    let held: i64 = inv.reservations_by_reference("till:victim").unwrap()[0].quantity;
    assert_eq!(held, 10);

    by(&victim, unreserve("till:victim")).unwrap();
    by(&shop_front, unreserve("order-7")).unwrap();
    by(&office, unreserve("till:victim")).unwrap();
    by(&admin, unreserve("order-7")).unwrap();
    assert_eq!(
        inv.reservations_by_reference("till:victim").unwrap()[0].quantity,
        8
    );
    assert_eq!(
        inv.reservations_by_reference("order-7").unwrap()[0].quantity,
        3
    );
    assert_verified(inv);
}

#[test]
fn an_admin_take_over_releases_or_keeps_a_tills_allotment_in_the_ledger() {
    let f = fixture();
    let inv = &f.inv;
    let p = product(inv, "TEA", 20);
    let till = key(inv, "till-1", Scope::Write, true);
    let admin = key(inv, "root", Scope::Admin, false);
    check_in(inv, &till, "t1", "old-device").unwrap();
    reserve(inv, &till, p, "till:t1", 6).unwrap();

    let refused = inv
        .take_over_till("t1", true, &Call::by(&till))
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Forbidden);

    let kept = inv.take_over_till("t1", false, &Call::by(&admin)).unwrap();
    assert_eq!((kept.released, kept.transferred), (0, 6));
    assert!(inv.tills().unwrap().is_empty());
    // The new device registers under the id and holds what the old one held.
    check_in(inv, &till, "t1", "new-device").unwrap();
    assert_eq!(
        inv.reservations_by_reference("till:t1").unwrap()[0].quantity,
        6
    );

    let gone = inv.take_over_till("t1", true, &Call::by(&admin)).unwrap();
    assert_eq!((gone.released, gone.transferred), (6, 0));
    assert!(inv.reservations_by_reference("till:t1").unwrap().is_empty());
    let ledger = inv.list_movements(p, &Default::default()).unwrap();
    let kinds: Vec<MovementKind> = ledger
        .iter()
        .filter(|m| m.reference.as_deref() == Some("till:t1"))
        .map(|m| m.kind)
        .collect();
    // Newest first: released, then handed over (an UNRESERVE and a RESERVE), then reserved.
    assert_eq!(
        kinds,
        [
            MovementKind::Unreserve,
            MovementKind::Reserve,
            MovementKind::Unreserve,
            MovementKind::Reserve
        ]
    );
    assert_eq!(inv.get_product(p).unwrap().inventory.totals.available, 20);
    assert_verified(inv);
}

#[test]
fn a_conflict_report_names_a_sale_of_the_reporting_till_and_counts_once() {
    let f = fixture();
    let inv = &f.inv;
    let till = key(inv, "till-1", Scope::Write, true);
    let other = key(inv, "till-2", Scope::Write, true);
    check_in(inv, &till, "t1", "i").unwrap();
    check_in(inv, &other, "t2", "j").unwrap();
    let report = |k: &ApiKey, r: &str| {
        inv.write(
            Write::report_till_conflict(r, "INSUFFICIENT_STOCK"),
            &Call::by(k),
        )
        .map(|a| a.value)
    };
    for made_up in ["sale:t2:r1", "made-up", "sale:t1x:r1", "sale:nobody:r1"] {
        let e = report(&till, made_up).unwrap_err();
        assert_eq!(e.code, ErrorCode::Forbidden, "{made_up}");
    }
    assert!(report(&till, "sale:t1:r1").unwrap().first);
    assert!(!report(&till, "sale:t1:r1").unwrap().first);
    assert_eq!(report(&till, "sale:t1:r1").unwrap().till_id, "t1");
}

#[test]
fn a_restore_changes_the_generation_and_takes_the_high_water_back() {
    let f = sqlite_fixture();
    let inv = &f.inv;
    let p = product(inv, "JAM", 5);
    let till = key(inv, "till-1", Scope::Write, true);
    let before = check_in(inv, &till, "t1", "i").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup.db");
    inv.backup_to(&backup).unwrap();
    inv.add_stock(StockOp::add(p, 1)).unwrap();
    let after = check_in(inv, &till, "t1", "i").unwrap();
    assert_eq!(after.database, before.database);
    assert!(after.high_water > before.high_water);

    let restored_at = dir.path().join("restored.db");
    inventory::restore(&backup, &restored_at, false).unwrap();
    let restored = Inventory::open(&restored_at).unwrap();
    let seen = check_in(&restored, &till, "t1", "i").unwrap();
    assert_eq!(seen.database.id, before.database.id);
    assert_ne!(seen.database.generation, before.database.generation);
    assert_eq!(seen.high_water, before.high_water);
}

#[test]
fn a_check_in_answers_its_point_and_whether_central_holds_the_one_the_till_saw() {
    let f = fixture();
    let inv = &f.inv;
    let p = product(inv, "JAM", 5);
    let till = key(inv, "till-1", Scope::Write, true);
    let first = check_in_with(inv, &till, "t1", "i", None, "a").unwrap();
    assert_eq!(first.seen_held, None);
    let point = first.point.unwrap();
    assert_eq!(point.seq, first.high_water);
    let at = inv.list_movements(p, &Default::default()).unwrap();
    assert_eq!(at[0].id, point.movement_id);

    let seen = |point: LedgerPoint, at: &inventory::CheckIn| SeenPoint {
        point,
        checked_in_at: at.till.last_sync_at,
    };
    f.clock.advance(chrono::Duration::seconds(1));
    let held = seen_check_in(
        inv,
        &till,
        "t1",
        "i",
        Some("a"),
        "b",
        Some(seen(point, &first)),
    );
    assert_eq!(held.unwrap().seen_held, Some(true));
    // Another movement at that number, or a number past the ledger: central went back.
    for lost in [
        LedgerPoint {
            movement_id: Uuid::now_v7(),
            ..point
        },
        LedgerPoint {
            seq: point.seq + 5,
            ..point
        },
    ] {
        let answer = seen_check_in(
            inv,
            &till,
            "t1",
            "i",
            Some("a"),
            "b",
            Some(seen(lost, &first)),
        );
        assert_eq!(answer.unwrap().seen_held, Some(false), "{lost:?}");
    }
}

#[test]
fn a_till_that_saw_a_later_check_in_than_central_holds_is_accepted_with_its_token_and_a_copy_is_not()
 {
    let f = fixture();
    let inv = &f.inv;
    product(inv, "JAM", 5);
    let till = key(inv, "till-1", Scope::Write, true);
    // Central as a rewind leaves it: its registration holds token "a", from a check-in
    // before the one whose point the till kept.
    let before = check_in_with(inv, &till, "t1", "i", None, "a").unwrap();
    let seen = |after: i64| SeenPoint {
        point: LedgerPoint {
            seq: before.high_water + 3,
            movement_id: Uuid::now_v7(),
        },
        checked_in_at: before.till.last_sync_at + chrono::Duration::seconds(after),
    };
    f.clock.advance(chrono::Duration::seconds(10));
    // A token central never left, from a check-in no later than central's: a copy, refused.
    let copy = seen_check_in(inv, &till, "t1", "i", Some("c"), "d", Some(seen(0))).unwrap_err();
    assert_eq!(copy.code, ErrorCode::Conflict);
    assert_eq!(copy.field.as_deref(), Some("token"));

    let back = seen_check_in(inv, &till, "t1", "i", Some("c"), "d", Some(seen(5))).unwrap();
    assert_eq!(back.seen_held, Some(false));
    // A copy of the same files, second: the registration was touched after its check-in.
    f.clock.advance(chrono::Duration::seconds(1));
    let second = seen_check_in(inv, &till, "t1", "i", Some("c"), "e", Some(seen(5))).unwrap_err();
    assert_eq!(second.code, ErrorCode::Conflict);
    assert_eq!(second.field.as_deref(), Some("token"));
    seen_check_in(inv, &till, "t1", "i", Some("d"), "f", Some(seen(5))).unwrap();
}
