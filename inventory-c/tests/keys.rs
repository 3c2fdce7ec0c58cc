//! `inv_authenticate` on keys made by the operator (here through the engine, as
//! `inventory-server keys create` does) on the same database file.

use inventory_c::*;
use inventory_test_support::wait_until;
use std::ffi::{CStr, CString};
use std::time::Duration;

fn text(p: *const std::ffi::c_char) -> String {
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
}

#[test]
fn a_till_finds_out_what_its_key_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.db");
    let operator = inventory::Inventory::open(&path).unwrap();
    let till = operator
        .create_key(
            "till-3",
            inventory::Scope::Write,
            Some(vec!["Store 1".into(), "Store 2".into()]),
        )
        .unwrap();
    let ops = operator
        .create_key("ops", inventory::Scope::Admin, None)
        .unwrap();

    let c_path = CString::new(path.to_str().unwrap()).unwrap();
    let mut handle = std::ptr::null_mut();
    unsafe {
        assert_eq!(inv_open(c_path.as_ptr(), &mut handle), InvStatus::INV_OK);
        let secret = CString::new(till.secret.clone()).unwrap();
        let mut key: InvApiKey = std::mem::zeroed();
        assert_eq!(
            inv_authenticate(handle, secret.as_ptr(), &mut key),
            InvStatus::INV_OK
        );
        assert_eq!(text(key.name), "till-3");
        assert_eq!(text(key.scope.as_ptr()), "write");
        let locations: Vec<String> = std::slice::from_raw_parts(key.locations, key.locations_len)
            .iter()
            .map(|l| text(*l))
            .collect();
        assert_eq!(locations, ["Store 1", "Store 2"]);
        assert_eq!(key.created_at_us, till.key.created_at.timestamp_micros());
        inv_api_key_free(&mut key);
        assert!(key.name.is_null() && key.locations.is_null() && key.locations_len == 0);

        let secret = CString::new(ops.secret.clone()).unwrap();
        assert_eq!(
            inv_authenticate(handle, secret.as_ptr(), &mut key),
            InvStatus::INV_OK
        );
        assert_eq!(text(key.scope.as_ptr()), "admin");
        assert!(key.locations.is_null() && key.locations_len == 0);
        inv_api_key_free(&mut key);

        // Revoked by the operator: refused as soon as this handle's key list is refreshed,
        // and no error message carries the secret.
        operator.revoke_key("till-3").unwrap();
        let secret = CString::new(till.secret.clone()).unwrap();
        wait_until(Duration::from_secs(10), "the revocation is seen", || {
            let status = inv_authenticate(handle, secret.as_ptr(), &mut key);
            if status == InvStatus::INV_OK {
                inv_api_key_free(&mut key);
                return false;
            }
            assert_eq!(status, InvStatus::INV_ERR_UNAUTHORIZED);
            true
        });
        assert!(key.name.is_null());
        assert!(!text(inv_last_error_message()).contains(&till.secret["inv_".len()..]));
        inv_close(handle);
    }
}
