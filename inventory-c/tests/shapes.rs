//! The C surface against the engine's table of shapes (`inventory::shape`): the field notes of
//! every stock function and of every `InvStockOp` member in the header are what the table says,
//! and every field of every kind crosses the boundary through the member that carries it. A
//! field added to the table and not exposed in C fails here (a new `Field` fails to compile:
//! the matches below are exhaustive).

use inventory::OpKind;
use inventory::shape::{Field, Presence, shape};
use inventory_c::*;
use std::ffi::{CStr, CString};

/// The `InvStockOp` member that carries a field, and how a caller sets it (as each stock
/// function's doc says, in brackets).
fn carrier(field: Field) -> (&'static str, &'static str) {
    match field {
        Field::Quantity | Field::Counted => ("quantity", "quantity"),
        Field::Location | Field::FromLocation => ("location", "location"),
        Field::ToLocation => ("to_location", "to_location"),
        Field::Reference => ("reference", "reference"),
        Field::Reservation => ("reservation", "reservation"),
        Field::Notes => ("notes", "notes"),
        Field::ExternalId => ("external_id", "external_id"),
        Field::ExpiresInSeconds => (
            "expires_kind",
            "expires_kind INV_EXPIRES_IN_SECONDS with expires_value",
        ),
        Field::ExpiresAt => (
            "expires_kind",
            "expires_kind INV_EXPIRES_AT_UNIX with expires_value, or INV_EXPIRES_AT_RFC3339 \
             with expires_at",
        ),
        Field::ExpectedAvailable => (
            "expect_kind",
            "expect_kind INV_EXPECT_AVAILABLE with expected",
        ),
        Field::ExpectedQuantity => (
            "expect_kind",
            "expect_kind INV_EXPECT_QUANTITY with expected",
        ),
        Field::ReleaseRemainder => ("release_remainder", "release_remainder"),
    }
}

/// The C function that applies one kind.
fn function(kind: OpKind) -> &'static str {
    match kind {
        OpKind::Add => "inv_add_stock",
        OpKind::Remove => "inv_remove_stock",
        OpKind::Reserve => "inv_reserve_stock",
        OpKind::Unreserve => "inv_unreserve_stock",
        OpKind::Commit => "inv_commit_reservation",
        OpKind::Transfer => "inv_transfer_stock",
        OpKind::Count => "inv_count_stock",
        OpKind::Renew => "inv_renew_reservation",
    }
}

fn c_kind(kind: OpKind) -> InvOpKind {
    match kind {
        OpKind::Add => InvOpKind::INV_OP_ADD,
        OpKind::Remove => InvOpKind::INV_OP_REMOVE,
        OpKind::Reserve => InvOpKind::INV_OP_RESERVE,
        OpKind::Unreserve => InvOpKind::INV_OP_UNRESERVE,
        OpKind::Commit => InvOpKind::INV_OP_COMMIT,
        OpKind::Transfer => InvOpKind::INV_OP_TRANSFER,
        OpKind::Count => InvOpKind::INV_OP_COUNT,
        OpKind::Renew => InvOpKind::INV_OP_RENEW,
    }
}

fn header() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/inventory.h");
    std::fs::read_to_string(path).expect("include/inventory.h")
}

/// The text of the doc comment just above the first line of the header that starts with
/// `declaration` (after indentation), one entry per comment line, without the `*` margin.
fn doc_above(header: &str, declaration: &str) -> Vec<String> {
    let lines: Vec<&str> = header.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with(declaration))
        .unwrap_or_else(|| panic!("{declaration} is not in the header"));
    assert!(
        lines[at - 1].trim() == "*/",
        "{declaration} has no doc comment"
    );
    let start = (0..at)
        .rev()
        .find(|&i| lines[i].trim() == "/**")
        .expect("a doc comment opens");
    lines[start + 1..at - 1]
        .iter()
        .map(|l| {
            let l = l.trim_start();
            l.strip_prefix("* ")
                .unwrap_or(l.strip_prefix('*').unwrap_or(l))
                .to_owned()
        })
        .collect()
}

/// The bullets of a doc comment ("- ..." items, continuation lines joined).
fn bullets(doc: &[String]) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    let mut open = false;
    for line in doc {
        if let Some(item) = line.strip_prefix("- ") {
            items.push(item.trim().to_owned());
            open = true;
        } else if open && line.starts_with("  ") {
            let last = items.last_mut().expect("an item is open");
            last.push(' ');
            last.push_str(line.trim());
        } else {
            open = false;
        }
    }
    items
}

/// What the table says a kind takes, as the bullets of its function's doc.
fn expected_bullets(kind: OpKind) -> Vec<String> {
    let shape = shape(kind);
    let mut items: Vec<String> = shape
        .fields
        .iter()
        .map(|(field, presence)| {
            let how = carrier(*field).1;
            match presence {
                Presence::Required => format!("`{}` [{how}]: required.", field.name()),
                Presence::Optional(default) => {
                    format!("`{}` [{how}]: optional; left out: {default}.", field.name())
                }
            }
        })
        .collect();
    items.extend(
        shape
            .exclusive
            .iter()
            .map(|(a, b)| format!("`{}` or `{}`, not both.", a.name(), b.name())),
    );
    items
}

#[test]
fn every_stock_function_lists_its_kinds_fields() {
    let header = header();
    let mut wrong = Vec::new();
    for kind in OpKind::ALL {
        let declaration = format!("enum InvStatus {}(", function(kind));
        let found = bullets(&doc_above(&header, &declaration));
        let expected = expected_bullets(kind);
        if found != expected {
            wrong.push(format!(
                "{}: the header lists\n{}\nthe table says (write in src/lib.rs):\n{}",
                function(kind),
                found.join("\n"),
                expected
                    .iter()
                    .map(|b| format!("/// - {b}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn every_stock_op_member_names_the_fields_it_carries() {
    let header = header();
    let mut members: Vec<&str> = Field::ALL.iter().map(|f| carrier(*f).0).collect();
    members.dedup();
    let mut wrong = Vec::new();
    for member in members {
        let carried: Vec<String> = Field::ALL
            .into_iter()
            .filter(|f| carrier(*f).0 == member)
            .map(|f| {
                let kinds: Vec<&str> = OpKind::ALL
                    .into_iter()
                    .filter(|k| shape(*k).takes(f))
                    .map(OpKind::as_str)
                    .collect();
                format!("{} ({})", f.name(), kinds.join(", "))
            })
            .collect();
        let expected = format!("Carries: {}.", carried.join("; "));
        let struct_at = header
            .find("typedef struct InvStockOp {")
            .expect("InvStockOp");
        let body = &header[struct_at..];
        let body = &body[..body.find("} InvStockOp;").expect("its end")];
        let member_line = body
            .lines()
            .find(|l| {
                l.trim_end().strip_suffix(';').is_some_and(|d| {
                    d.strip_suffix(member)
                        .is_some_and(|rest| rest.ends_with(' ') || rest.ends_with('*'))
                })
            })
            .unwrap_or_else(|| panic!("InvStockOp has no member {member}"));
        let doc = doc_above(body, member_line.trim_start()).join(" ");
        let doc = doc.split_whitespace().collect::<Vec<_>>().join(" ");
        if !doc.contains(&expected) {
            wrong.push(format!(
                "InvStockOp.{member}: say \"{expected}\"\n  (doc: {doc})"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A database with one product (10 on hand at "A", 2 of them reserved unreferenced).
struct Shop {
    _dir: tempfile::TempDir,
    handle: *mut InvHandle,
    id: CString,
}

impl Shop {
    fn new() -> Shop {
        let dir = tempfile::tempdir().unwrap();
        let path = CString::new(dir.path().join("shop.db").to_str().unwrap()).unwrap();
        let mut handle = std::ptr::null_mut();
        unsafe {
            assert_eq!(inv_open(path.as_ptr(), &mut handle), InvStatus::INV_OK);
            let mut product: InvNewProduct = std::mem::zeroed();
            product.name = c"Mug".as_ptr();
            product.sku = c"MUG".as_ptr();
            product.price = c"8.00".as_ptr();
            product.location = c"A".as_ptr();
            product.initial_quantity = 10;
            let mut out: InvProductWithStock = std::mem::zeroed();
            assert_eq!(
                inv_create_product(handle, &product, std::ptr::null(), &mut out),
                InvStatus::INV_OK
            );
            let id = CStr::from_ptr(out.product.id.as_ptr()).to_owned();
            inv_product_with_stock_free(&mut out);
            let shop = Shop {
                _dir: dir,
                handle,
                id,
            };
            let mut hold = shop.op(OpKind::Reserve);
            hold.quantity = 2;
            assert_eq!(shop.apply(&hold), (InvStatus::INV_OK, None));
            shop
        }
    }

    /// An operation of `kind` with its required fields only.
    fn op(&self, kind: OpKind) -> InvStockOp {
        let mut op: InvStockOp = unsafe { std::mem::zeroed() };
        unsafe {
            inv_stock_op_init(&mut op, c_kind(kind) as i32, self.id.as_ptr(), 1);
        }
        op.has_quantity = shape(kind).presence(Field::Quantity) == Some(Presence::Required)
            || shape(kind).presence(Field::Counted) == Some(Presence::Required);
        if shape(kind).presence(Field::ToLocation) == Some(Presence::Required) {
            op.to_location = c"B".as_ptr();
        }
        // Where the table needs one field or another, give the first.
        for (first, _) in shape(kind).one_of {
            set(&mut op, *first);
        }
        op
    }

    /// Applies `op`; the status and, on failure, the field the error names.
    fn apply(&self, op: &InvStockOp) -> (InvStatus, Option<String>) {
        let mut out: InvLevelList = unsafe { std::mem::zeroed() };
        let status = unsafe { inv_stock(self.handle, op, std::ptr::null(), &mut out) };
        unsafe { inv_level_list_free(&mut out) };
        let field = inv_last_error_field();
        let field = (status != InvStatus::INV_OK && !field.is_null()).then(|| {
            unsafe { CStr::from_ptr(field) }
                .to_str()
                .unwrap()
                .to_owned()
        });
        (status, field)
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        unsafe { inv_close(self.handle) };
    }
}

/// More than the shop ever holds.
const STALE: i64 = 1_000_000;

/// Sets the member that carries `field` to a value the shop accepts (a guard: one never current).
fn set(op: &mut InvStockOp, field: Field) {
    const AT: &CStr = c"A";
    match field {
        Field::Quantity | Field::Counted => {
            op.has_quantity = true;
            op.quantity = 1;
        }
        Field::Location | Field::FromLocation => op.location = AT.as_ptr(),
        Field::ToLocation => op.to_location = c"B".as_ptr(),
        Field::Reference => op.reference = c"R".as_ptr(),
        Field::Reservation => op.reservation = c"R".as_ptr(),
        Field::Notes => op.notes = c"n".as_ptr(),
        Field::ExternalId => op.external_id = c"E-1".as_ptr(),
        Field::ExpiresInSeconds => {
            op.expires_kind = InvExpiresKind::INV_EXPIRES_IN_SECONDS as i32;
            op.expires_value = 60;
        }
        Field::ExpiresAt => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            op.expires_kind = InvExpiresKind::INV_EXPIRES_AT_UNIX as i32;
            op.expires_value = i64::try_from(now.as_secs()).unwrap() + 3600;
        }
        // Never current, so that a guard that reaches the engine is seen failing.
        Field::ExpectedAvailable => {
            op.expect_kind = InvExpectKind::INV_EXPECT_AVAILABLE as i32;
            op.expected = STALE;
        }
        Field::ExpectedQuantity => {
            op.expect_kind = InvExpectKind::INV_EXPECT_QUANTITY as i32;
            op.expected = STALE;
        }
        Field::ReleaseRemainder => op.release_remainder = true,
    }
}

#[test]
fn every_field_of_every_kind_crosses_through_its_member() {
    let shop = Shop::new();
    for kind in OpKind::ALL {
        let takes: Vec<Field> = shape(kind).fields.iter().map(|(f, _)| *f).collect();
        for field in Field::ALL {
            let mut op = shop.op(kind);
            set(&mut op, field);
            let (status, named) = shop.apply(&op);
            let refused = status == InvStatus::INV_ERR_VALIDATION_ERROR
                && named.as_deref() == Some(field.name());
            if takes.contains(&field) {
                assert!(!refused, "{kind:?} refused {field:?}");
                if matches!(field, Field::ExpectedAvailable | Field::ExpectedQuantity) {
                    let conflict = (InvStatus::INV_ERR_CONFLICT, Some(field.name().to_owned()));
                    assert_eq!((status, named), conflict, "{kind:?} {field:?}");
                }
            } else if !takes.iter().any(|t| carrier(*t).0 == carrier(field).0) {
                // A member that carries nothing this kind takes is refused, naming the field
                // as the engine names that member for this kind (the quantity member of a kind
                // that takes neither quantity nor counted is "quantity").
                let name = match carrier(field).0 {
                    "quantity" => shape(kind).quantity_field().name(),
                    "location" => shape(kind).location_field().name(),
                    _ => field.name(),
                };
                assert_eq!(
                    (status, named.as_deref()),
                    (InvStatus::INV_ERR_VALIDATION_ERROR, Some(name)),
                    "{kind:?} took {field:?}"
                );
            }
        }
    }
}
