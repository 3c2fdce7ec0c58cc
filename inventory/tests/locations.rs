mod common;

use common::*;
use inventory::{
    ErrorCode, MovementKind, MovementQuery, NewProduct, ProductChanges, ProductQuery, StockOp,
};

#[test]
fn stock_per_location_with_totals_and_the_products_own_location() {
    let f = fixture();
    let id = product(&f.inv, "ML", 10);
    f.inv.add_stock(StockOp::add(id, 4).at("Store 1")).unwrap();
    f.inv
        .reserve_stock(StockOp::reserve(id, 3).at("Store 1"))
        .unwrap();
    let s = f.inv.get_inventory(id).unwrap();
    assert_eq!(
        (
            s.totals.on_hand,
            s.totals.reserved,
            s.totals.available,
            s.totals.location.as_str()
        ),
        (14, 3, 11, "Warehouse A")
    );
    let by_name: Vec<_> = s
        .locations
        .iter()
        .map(|l| (l.location.as_str(), l.on_hand, l.reserved))
        .collect();
    assert_eq!(by_name, vec![("Store 1", 4, 3), ("Warehouse A", 10, 0)]);
    let one = f.inv.get_stock_level(id, "Store 1").unwrap();
    assert_eq!((one.on_hand, one.available), (4, 1));
    assert_eq!(
        f.inv.get_stock_level(id, "Nowhere").unwrap_err().code,
        ErrorCode::NotFound
    );
    // Taking stock from a location that does not exist names it instead of creating it.
    let e = f
        .inv
        .remove_stock(StockOp::remove(id, 1).at("Nowhere"))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    assert!(
        f.inv
            .list_locations()
            .unwrap()
            .iter()
            .all(|l| l.name != "Nowhere")
    );
    // A location that exists but holds none of this product has nothing available.
    f.inv.create_location("Empty").unwrap();
    assert_eq!(
        f.inv
            .remove_stock(StockOp::remove(id, 1).at("Empty"))
            .unwrap_err()
            .code,
        ErrorCode::InsufficientStock
    );
    assert_verified(&f.inv);
}

#[test]
fn locations_are_created_on_first_use_or_explicitly_and_listed_with_totals() {
    let f = fixture();
    let a = product(&f.inv, "LA", 5);
    let b = product(&f.inv, "LB", 2);
    f.inv.reserve_stock(StockOp::reserve(b, 1)).unwrap();
    let made = f.inv.create_location("Backroom").unwrap();
    assert_eq!(
        (made.name.as_str(), made.on_hand, made.products),
        ("Backroom", 0, 0)
    );
    let e = f.inv.create_location("Backroom").unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Conflict, Some("name"))
    );
    assert_eq!(
        f.inv.create_location("  ").unwrap_err().field.as_deref(),
        Some("name")
    );
    f.inv.add_stock(StockOp::add(a, 1).at("Backroom")).unwrap();
    let list: Vec<_> = f
        .inv
        .list_locations()
        .unwrap()
        .into_iter()
        .map(|l| (l.name, l.on_hand, l.reserved, l.available, l.products))
        .collect();
    assert_eq!(
        list,
        vec![
            ("Backroom".into(), 1, 0, 1, 1),
            ("Warehouse A".into(), 7, 1, 6, 2)
        ]
    );
    f.inv.delete_product(b, None).unwrap();
    let wa = f
        .inv
        .list_locations()
        .unwrap()
        .into_iter()
        .find(|l| l.name == "Warehouse A")
        .unwrap();
    assert_eq!(
        (wa.on_hand, wa.products),
        (5, 1),
        "archived products leave the totals"
    );
}

#[test]
fn transfers_move_stock_atomically_with_paired_movements() {
    let f = fixture();
    let id = product(&f.inv, "TR", 10);
    f.inv.reserve_stock(StockOp::reserve(id, 4)).unwrap();
    let (from, to) = f
        .inv
        .transfer_stock(StockOp::transfer(id, "Warehouse A", "Store 1", 6).reference("T-1"))
        .unwrap();
    assert_eq!(
        (from.location.as_str(), from.on_hand, from.reserved),
        ("Warehouse A", 4, 4)
    );
    assert_eq!((to.location.as_str(), to.on_hand), ("Store 1", 6));
    let e = f
        .inv
        .transfer_stock(StockOp::transfer(id, "Warehouse A", "Store 1", 1))
        .unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::InsufficientStock,
        "availability is checked at the source"
    );
    let e = f
        .inv
        .transfer_stock(StockOp::transfer(id, "Store 1", "Store 1", 1))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("to_location"));
    let mut missing_to = StockOp::transfer(id, "Store 1", "X", 1);
    missing_to.to_location = None;
    assert_eq!(
        f.inv.stock(missing_to).unwrap_err().field.as_deref(),
        Some("to_location")
    );
    let history = f.inv.list_movements(id, &MovementQuery::default()).unwrap();
    let (tin, tout) = (&history[0], &history[1]);
    assert_eq!(
        (tin.kind, tout.kind),
        (MovementKind::TransferIn, MovementKind::TransferOut)
    );
    assert!(tin.transfer_id.is_some());
    assert_eq!(tin.transfer_id, tout.transfer_id);
    assert_eq!(tin.reference.as_deref(), Some("T-1"));
    assert_eq!(
        f.inv.get_inventory(id).unwrap().totals.on_hand,
        10,
        "a transfer conserves the total"
    );
    // Without a source location, the product's own location is the source.
    let mut op = StockOp::transfer(id, "ignored", "Store 2", 1);
    op.location = None;
    let e = f.inv.stock(op).unwrap_err();
    assert_eq!(e.code, ErrorCode::InsufficientStock);
    assert!(e.message.contains("Warehouse A"), "{}", e.message);
    assert_verified(&f.inv);
}

#[test]
fn counts_set_on_hand_with_an_adjust_movement() {
    let f = fixture();
    let id = product(&f.inv, "CNT", 10);
    f.inv.reserve_stock(StockOp::reserve(id, 3)).unwrap();
    let l = f
        .inv
        .count_stock(
            StockOp::count(id, "Warehouse A", 8)
                .reference("CYCLE-1")
                .notes("shelf 4"),
        )
        .unwrap();
    assert_eq!((l.on_hand, l.reserved, l.available), (8, 3, 5));
    let m = &f.inv.list_movements(id, &MovementQuery::default()).unwrap()[0];
    assert_eq!(
        (m.kind, m.quantity, m.on_hand_after),
        (MovementKind::Adjust, -2, 8)
    );
    assert_eq!(
        (m.reference.as_deref(), m.notes.as_deref()),
        (Some("CYCLE-1"), Some("shelf 4"))
    );
    assert_eq!(
        f.inv
            .count_stock(StockOp::count(id, "Warehouse A", 12))
            .unwrap()
            .on_hand,
        12
    );
    assert_eq!(
        f.inv
            .count_stock(StockOp::count(id, "Warehouse A", 12))
            .unwrap()
            .on_hand,
        12,
        "a matching count is recorded too"
    );
    assert_eq!(
        f.inv.list_movements(id, &MovementQuery::default()).unwrap()[0].quantity,
        0
    );
    let e = f
        .inv
        .count_stock(StockOp::count(id, "Warehouse A", 2))
        .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Conflict, Some("counted"))
    );
    assert!(e.message.contains("reserved"), "{}", e.message);
    let e = f
        .inv
        .count_stock(StockOp::count(id, "Warehouse A", -1))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("counted"));
    assert_eq!(
        f.inv
            .count_stock(StockOp::count(id, "New Shelf", 4))
            .unwrap()
            .on_hand,
        4,
        "a count can open a location"
    );
    assert_verified(&f.inv);
}

/// Totals are kept only while a product has a reorder point: setting one later (after stock
/// moved across locations) must still give the right low-stock answer, and removing it must
/// take the product out.
#[test]
fn a_reorder_point_set_later_sees_all_earlier_stock() {
    let f = fixture();
    let id = product(&f.inv, "RP1", 4);
    f.inv.add_stock(StockOp::add(id, 3).at("B")).unwrap();
    f.inv.reserve_stock(StockOp::reserve(id, 2)).unwrap();
    let low = || {
        f.inv
            .list_products(&ProductQuery {
                low_stock: true,
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect::<Vec<_>>()
    };
    // The summary's flag is the filter's predicate: each list below is checked against it.
    let low = || {
        let ids = low();
        let flagged = f.inv.get_inventory(id).unwrap().low_stock;
        assert_eq!(
            flagged,
            ids == vec![id],
            "the summary's low_stock is the filter's"
        );
        assert_eq!(f.inv.get_product(id).unwrap().inventory.low_stock, flagged);
        ids
    };
    let set = |reorder: Option<i64>| {
        let changes = ProductChanges {
            reorder_point: Some(reorder),
            ..Default::default()
        };
        f.inv.update_product(id, changes, None).unwrap();
        assert_verified(&f.inv);
    };
    set(Some(4)); // available 5 across two locations: not low
    assert!(low().is_empty());
    set(Some(5));
    assert_eq!(low(), vec![id]);
    f.inv.add_stock(StockOp::add(id, 1)).unwrap();
    assert!(
        low().is_empty(),
        "totals follow stock while the reorder point is set"
    );
    set(None);
    f.inv.remove_stock(StockOp::remove(id, 3)).unwrap();
    assert!(low().is_empty());
    assert_verified(&f.inv);
}

#[test]
fn low_stock_and_prefix_search_keep_pagination_and_order() {
    let f = fixture();
    let mk = |sku: &str, name: &str, initial: i64, reorder: Option<i64>| {
        let new = NewProduct {
            name: name.into(),
            reorder_point: reorder,
            ..new_product(sku, initial)
        };
        f.inv.create_product(new).unwrap().product.id
    };
    let lap1 = mk("LAP001", "Laptop 13", 5, Some(5));
    let lap2 = mk("LAP002", "Laptop 15", 50, Some(5));
    let lamp = mk("LMP1", "lapis lamp", 0, None);
    let mouse = mk("MOU1", "Mouse", 1, Some(2));
    let ids = |q: ProductQuery| {
        f.inv
            .list_products(&q)
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect::<Vec<_>>()
    };
    let low = ProductQuery {
        low_stock: true,
        ..Default::default()
    };
    assert_eq!(ids(low.clone()), vec![lap1, mouse]);
    f.inv.reserve_stock(StockOp::reserve(lap2, 45)).unwrap();
    assert_eq!(
        ids(low.clone()),
        vec![lap1, lap2, mouse],
        "reservations lower availability"
    );
    f.inv
        .update_product(
            mouse,
            ProductChanges {
                reorder_point: Some(Some(0)),
                ..Default::default()
            },
            None,
        )
        .unwrap();
    assert_eq!(ids(low.clone()), vec![lap1, lap2]);
    assert_eq!(
        ids(ProductQuery {
            limit: Some(1),
            offset: Some(1),
            ..low.clone()
        }),
        vec![lap2]
    );

    let q = |s: &str| ProductQuery {
        q: Some(s.into()),
        ..Default::default()
    };
    assert_eq!(
        ids(q("LAP")),
        vec![lap1, lap2, lamp],
        "SKU prefix, and name prefix ignoring case"
    );
    assert_eq!(
        ids(q("lap0")),
        Vec::<inventory::Uuid>::new(),
        "SKU prefixes are exact"
    );
    assert_eq!(ids(q("LAPTOP 1")), vec![lap1, lap2]);
    assert_eq!(ids(q("Mo")), vec![mouse]);
    assert_eq!(
        ids(ProductQuery {
            q: Some("LAP".into()),
            low_stock: true,
            ..Default::default()
        }),
        vec![lap1, lap2]
    );
    assert_eq!(ids(q("%")), Vec::<inventory::Uuid>::new(), "no wildcards");
    assert_eq!(
        f.inv.list_products(&q(" ")).unwrap_err().field.as_deref(),
        Some("q")
    );
}

/// Past 200 matches the search walks products in id order instead of sorting every
/// match; both ways must give the same pages.
#[test]
fn dense_and_sparse_prefix_searches_page_alike() {
    let store = Target::new();
    let options = inventory::Options {
        durability: inventory::Durability::Normal,
        ..Default::default()
    };
    let inv = store.open(options);
    let mut dense = Vec::new();
    let mut sparse = Vec::new();
    for i in 0..1100 {
        let sku = format!("DENSE-{i:04}");
        let new = NewProduct {
            name: sku.to_lowercase(),
            ..new_product(&sku, 0)
        };
        dense.push(inv.create_product(new).unwrap().product.id);
        if i % 100 == 0 {
            let new = NewProduct {
                name: format!("Dense rare {i}"),
                ..new_product(&format!("RARE-{i}"), 0)
            };
            sparse.push(inv.create_product(new).unwrap().product.id);
        }
    }
    let page = |q: &str, limit: i64, offset: i64| {
        let query = ProductQuery {
            q: Some(q.into()),
            limit: Some(limit),
            offset: Some(offset),
            ..Default::default()
        };
        inv.list_products(&query)
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect::<Vec<_>>()
    };
    // "DENSE" matches 1100 SKUs and, ignoring case, 1100 + 11 names: the walking path.
    let mut all: Vec<_> = dense.iter().chain(&sparse).copied().collect();
    all.sort();
    assert_eq!(page("DENSE", 100, 0), all[..100]);
    assert_eq!(page("DENSE", 100, 1000), all[1000..1100]);
    assert_eq!(page("DENSE", 100, 1100), all[1100..]);
    // "DENSE-10" matches 100 SKUs and 100 names (the same products): the index path, at its limit.
    assert_eq!(page("DENSE-10", 100, 0), dense[1000..1100]);
    assert_eq!(page("Dense rare", 5, 3), sparse[3..8]);
}
