//! Query and path decoding. Any text: the server's decoding agrees with the percent-encoding
//! crate's wherever every `%` starts a well-formed escape and the result is UTF-8, and refuses
//! everything else with a 400; every route's typed query accepts, or refuses with a 400 that
//! names a field.
#![no_main]

use inventory_server::fuzzing;
use libfuzzer_sys::fuzz_target;

/// Every `%` is followed by two hexadecimal digits.
fn well_formed(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().all(|(i, &c)| {
        c != b'%'
            || (b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    })
}

/// The reference decoding: `None` where the server must refuse.
fn decode(s: &str, plus_is_space: bool) -> Option<String> {
    if !well_formed(s) {
        return None;
    }
    let s = if plus_is_space {
        s.replace('+', " ")
    } else {
        s.to_owned()
    };
    percent_encoding::percent_decode_str(&s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

fn pairs(raw: &str) -> Option<Vec<(String, String)>> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            Some((decode(k, true)?, decode(v, true)?))
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    // A request target reaches the router as text.
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    match (fuzzing::query(raw), pairs(raw)) {
        (Ok(got), Some(want)) => assert_eq!(got, want),
        (Err(refusal), None) => {
            assert_eq!((refusal.status, refusal.code), (400, "VALIDATION_ERROR"))
        }
        (got, want) => panic!("query {raw:?}: decoded {got:?}, expected {want:?}"),
    }
    match (fuzzing::path_param(raw), decode(raw, false)) {
        (Ok(got), Some(want)) => assert_eq!(got, want),
        (Err(refusal), None) => assert_eq!(refusal.status, 400),
        (got, want) => panic!("path {raw:?}: decoded {got:?}, expected {want:?}"),
    }
    for verdict in fuzzing::typed_queries(raw) {
        if let Err(refusal) = verdict {
            assert_eq!(refusal.status, 400, "{refusal:?}");
            assert!(
                refusal.field.is_some(),
                "a refusal names no field: {refusal:?}"
            );
        }
    }
});
