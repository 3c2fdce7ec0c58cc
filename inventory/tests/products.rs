mod common;

use common::*;
use inventory::{
    ErrorCode, MovementKind, MovementQuery, NewProduct, Price, ProductChanges, ProductQuery,
    StockOp, Uuid, Write,
};

#[test]
fn create_returns_product_with_stock_and_writes_one_in_movement() {
    let f = fixture();
    let mut new = new_product("LAP001", 50);
    new.description = "Gaming Laptop".into();
    new.price = Price::parse("1500.00").unwrap();
    let created = f.inv.create_product(new).unwrap();
    let p = &created.product;
    assert_eq!(
        (p.name.as_str(), p.sku.as_str(), p.description.as_str()),
        ("Product LAP001", "LAP001", "Gaming Laptop")
    );
    assert_eq!(p.price.to_string(), "1500.00");
    assert_eq!(p.location, "Warehouse A");
    assert_eq!(p.version, 1);
    assert_eq!(p.id.get_version_num(), 7);
    let s = &created.inventory;
    assert_eq!(
        (s.totals.on_hand, s.totals.reserved, s.totals.available),
        (50, 0, 50)
    );
    assert_eq!(s.totals.location, "Warehouse A");
    assert_eq!(s.locations.len(), 1);
    let history = f
        .inv
        .list_movements(p.id, &MovementQuery::default())
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (
            history[0].kind,
            history[0].quantity,
            history[0].on_hand_after
        ),
        (MovementKind::In, 50, 50)
    );
    assert_eq!(history[0].inventory_id, s.totals.id);
    assert_eq!(f.inv.get_product(p.id).unwrap(), created);
}

#[test]
fn zero_initial_quantity_writes_no_movement_and_default_location_applies() {
    let f = fixture();
    let created = f
        .inv
        .create_product(NewProduct::new("Pen", "PEN", Price::parse("0").unwrap()))
        .unwrap();
    assert_eq!(created.product.location, inventory::DEFAULT_LOCATION);
    assert!(
        f.inv
            .list_movements(created.product.id, &MovementQuery::default())
            .unwrap()
            .is_empty()
    );
    assert_eq!(created.inventory.totals.on_hand, 0);
}

#[test]
fn validation_names_the_field() {
    let f = fixture();
    let cases: Vec<(NewProduct, &str)> = vec![
        (
            NewProduct {
                name: "   ".into(),
                ..new_product("A", 0)
            },
            "name",
        ),
        (
            NewProduct {
                name: "x".repeat(256),
                ..new_product("A", 0)
            },
            "name",
        ),
        (
            NewProduct {
                sku: "".into(),
                ..new_product("A", 0)
            },
            "sku",
        ),
        (
            NewProduct {
                sku: "s".repeat(101),
                ..new_product("A", 0)
            },
            "sku",
        ),
        (
            NewProduct {
                description: "d".repeat(4097),
                ..new_product("A", 0)
            },
            "description",
        ),
        (
            NewProduct {
                location: Some(" ".into()),
                ..new_product("A", 0)
            },
            "location",
        ),
        (new_product("A", -1), "initial_quantity"),
        (
            new_product("A", inventory::MAX_QUANTITY + 1),
            "initial_quantity",
        ),
        (
            NewProduct {
                reorder_point: Some(-1),
                ..new_product("A", 0)
            },
            "reorder_point",
        ),
    ];
    for (new, field) in cases {
        let e = f.inv.create_product(new).unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationError, "{field}");
        assert_eq!(e.field.as_deref(), Some(field));
    }
    // Limits are inclusive and count characters, not bytes.
    f.inv
        .create_product(NewProduct {
            name: "é".repeat(255),
            ..new_product("B", 0)
        })
        .unwrap();
    assert!(f.inv.list_products(&ProductQuery::default()).unwrap().len() == 1);
}

#[test]
fn names_and_skus_are_trimmed() {
    let f = fixture();
    let p = f
        .inv
        .create_product(NewProduct {
            name: "  Lamp ".into(),
            ..new_product("  LMP1 ", 0)
        })
        .unwrap()
        .product;
    assert_eq!((p.name.as_str(), p.sku.as_str()), ("Lamp", "LMP1"));
    let e = f.inv.create_product(new_product("LMP1", 0)).unwrap_err();
    assert_eq!(e.code, ErrorCode::DuplicateSku);
}

#[test]
fn duplicate_sku_then_reuse_after_delete_keeps_history() {
    let f = fixture();
    let first = product(&f.inv, "SKU1", 5);
    let e = f.inv.create_product(new_product("SKU1", 0)).unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::DuplicateSku, Some("sku"))
    );
    f.inv.delete_product(first, None).unwrap();
    for err in [
        f.inv.get_product(first).unwrap_err(),
        f.inv.add_stock(StockOp::add(first, 1)).unwrap_err(),
        f.inv
            .list_movements(first, &MovementQuery::default())
            .unwrap_err(),
        f.inv.delete_product(first, None).unwrap_err(),
        f.inv
            .update_product(first, ProductChanges::default(), None)
            .unwrap_err(),
    ] {
        assert_eq!(err.code, ErrorCode::NotFound);
    }
    assert!(
        f.inv
            .list_products(&ProductQuery::default())
            .unwrap()
            .is_empty()
    );
    let second = product(&f.inv, "SKU1", 0);
    assert_ne!(first, second);
    // The archived product's ledger is still there, in the change feed.
    let feed = f.inv.changes(0, None).unwrap();
    assert_eq!(feed.movements.len(), 1);
    assert_eq!(feed.movements[0].product_id, first);
    assert_verified(&f.inv);
}

#[test]
fn unknown_ids_are_not_found() {
    let f = fixture();
    let id = Uuid::now_v7();
    assert_eq!(f.inv.get_product(id).unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(
        f.inv.get_inventory(id).unwrap_err().code,
        ErrorCode::NotFound
    );
    assert_eq!(
        f.inv
            .reserve_stock(StockOp::reserve(id, 1))
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
    assert_eq!(
        f.inv.delete_product(id, None).unwrap_err().code,
        ErrorCode::NotFound
    );
}

#[test]
fn partial_update_changes_only_given_fields_and_bumps_version() {
    let f = fixture();
    let id = product(&f.inv, "UPD", 0);
    let before = f.inv.get_product(id).unwrap().product;
    f.clock.advance(chrono::Duration::seconds(5));
    let changes = ProductChanges {
        price: Some(Price::parse("19.99").unwrap()),
        ..Default::default()
    };
    let after = f.inv.update_product(id, changes, None).unwrap();
    assert_eq!(after.price.to_string(), "19.99");
    assert_eq!(
        (
            after.name.as_str(),
            after.description.as_str(),
            after.sku.as_str()
        ),
        (before.name.as_str(), "", "UPD")
    );
    assert_eq!(after.version, 2);
    assert!(after.updated_at > before.updated_at);
    assert_eq!(after.created_at, before.created_at);

    let e = f
        .inv
        .update_product(
            id,
            ProductChanges {
                name: Some("".into()),
                ..Default::default()
            },
            None,
        )
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("name"));
    assert_eq!(
        f.inv.get_product(id).unwrap().product.version,
        2,
        "a failed update changes nothing"
    );

    let changes = ProductChanges {
        reorder_point: Some(Some(7)),
        ..Default::default()
    };
    assert_eq!(
        f.inv
            .update_product(id, changes, Some(2))
            .unwrap()
            .reorder_point,
        Some(7)
    );
    let changes = ProductChanges {
        reorder_point: Some(None),
        ..Default::default()
    };
    assert_eq!(
        f.inv
            .update_product(id, changes, None)
            .unwrap()
            .reorder_point,
        None
    );
}

#[test]
fn version_compare_and_set_on_update_and_delete() {
    let f = fixture();
    let id = product(&f.inv, "CAS", 0);
    let e = f
        .inv
        .update_product(id, ProductChanges::default(), Some(9))
        .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Conflict, Some("version"))
    );
    let e = f.inv.delete_product(id, Some(2)).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    f.inv.delete_product(id, Some(1)).unwrap();
}

#[test]
fn listing_pages_in_creation_order_with_limits() {
    let f = fixture();
    let ids: Vec<Uuid> = (0..25)
        .map(|i| product(&f.inv, &format!("P{i:02}"), 0))
        .collect();
    let page = |limit, offset| {
        f.inv
            .list_products(&ProductQuery {
                limit,
                offset,
                ..Default::default()
            })
            .map(|v| v.into_iter().map(|p| p.id).collect::<Vec<_>>())
    };
    assert_eq!(page(None, None).unwrap(), ids[..10]);
    assert_eq!(page(Some(10), Some(20)).unwrap(), ids[20..]);
    assert_eq!(page(Some(100), Some(0)).unwrap(), ids);
    assert!(page(Some(10), Some(30)).unwrap().is_empty());
    for (limit, offset, field) in [
        (Some(0), None, "limit"),
        (Some(101), None, "limit"),
        (None, Some(-1), "offset"),
    ] {
        let e = page(limit, offset).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::ValidationError, Some(field))
        );
    }
}

/// The keyset walk an export makes: every live product once, in creation order, each with all
/// of its levels, however the pages fall; archived products are left out.
#[test]
fn keyset_pages_walk_the_catalogue_with_stock() {
    let f = fixture();
    let ids: Vec<Uuid> = (0..23)
        .map(|i| product(&f.inv, &format!("K{i:02}"), i))
        .collect();
    f.inv
        .transfer_stock(StockOp::transfer(ids[4], "Warehouse A", "Shop", 2))
        .unwrap();
    f.inv.delete_product(ids[7], None).unwrap();
    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let page = f.inv.products_after(after, Some(5)).unwrap();
        assert!(page.len() <= 5);
        let Some(last) = page.last() else { break };
        after = Some(last.product.id);
        walked.extend(page);
    }
    let live: Vec<Uuid> = ids.iter().copied().filter(|id| *id != ids[7]).collect();
    assert_eq!(
        walked.iter().map(|p| p.product.id).collect::<Vec<_>>(),
        live
    );
    let moved = walked.iter().find(|p| p.product.id == ids[4]).unwrap();
    let levels: Vec<_> = moved
        .inventory
        .locations
        .iter()
        .map(|l| (l.location.as_str(), l.on_hand))
        .collect();
    assert_eq!(levels, [("Shop", 2), ("Warehouse A", 2)]);
    assert_eq!(moved, &f.inv.get_product(ids[4]).unwrap());
    assert_eq!(f.inv.products_after(None, None).unwrap().len(), 10);
    let e = f.inv.products_after(None, Some(101)).unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::ValidationError, Some("limit"))
    );
}

#[test]
fn prices_are_exact_and_keep_their_scale() {
    let f = fixture();
    for (i, text) in [
        "0.10",
        "19.99",
        "1500.00",
        "99999999999.9999",
        "0",
        "12345678901.5",
    ]
    .iter()
    .enumerate()
    {
        let new = NewProduct {
            price: Price::parse(text).unwrap(),
            ..new_product(&format!("M{i}"), 0)
        };
        let id = f.inv.create_product(new).unwrap().product.id;
        assert_eq!(
            f.inv.get_product(id).unwrap().product.price.to_string(),
            *text
        );
    }
    let sum: inventory::Decimal = f
        .inv
        .list_products(&ProductQuery {
            limit: Some(100),
            ..Default::default()
        })
        .unwrap()
        .iter()
        .map(|p| p.price.value())
        .sum();
    assert_eq!(sum.to_string(), "112345680421.5899");
}

/// The catalogue is shared by every location: a call limited to some locations (a till's key)
/// may not create, update or archive a product, nor create a location, even at its own
/// location and without stock; nothing is changed.
#[test]
fn a_location_limited_call_cannot_change_the_catalogue() {
    let f = fixture();
    let limited = inventory::Call {
        locations: Some(vec!["Shop".into()]),
        ..inventory::Call::default()
    };
    let mut in_shop = new_product("SHOP", 0);
    in_shop.location = Some("Shop".into());
    let id = f
        .inv
        .create_product(new_product("KEPT", 5))
        .unwrap()
        .product
        .id;
    let changes = ProductChanges {
        name: Some("Renamed".into()),
        ..ProductChanges::default()
    };
    let refused = [
        f.inv
            .write(Write::create_product(in_shop), &limited)
            .map(drop),
        f.inv
            .write(Write::update_product(id, changes, None), &limited)
            .map(drop),
        f.inv
            .write(Write::delete_product(id, None), &limited)
            .map(drop),
        f.inv
            .write(Write::create_location("Back"), &limited)
            .map(drop),
    ];
    for e in refused {
        let e = e.unwrap_err();
        assert_eq!(e.code, ErrorCode::Forbidden);
        assert!(
            e.message.contains("without a location limit"),
            "{}",
            e.message
        );
    }
    let products = f.inv.list_products(&ProductQuery::default()).unwrap();
    assert_eq!(
        products.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["Product KEPT"]
    );
    assert!(
        !f.inv
            .list_locations()
            .unwrap()
            .iter()
            .any(|l| l.name == "Back")
    );
}
