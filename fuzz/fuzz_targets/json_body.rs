//! The strict JSON body parser. Any input: the strictness check agrees with an independent
//! reading (serde_json into a tree that keeps every key), and every route's typed parse either
//! accepts a body that is one valid JSON object with unique keys, or refuses it with a 400 that
//! names a field.
#![no_main]

use inventory_server::fuzzing::{self, Strict};
use libfuzzer_sys::fuzz_target;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A JSON value whose objects keep every key they were given, in order.
enum Node {
    Leaf,
    List(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_str<E>(self, _: &str) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Node::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Node::Object(entries))
            }
        }
        d.deserialize_any(V)
    }
}

/// The path of the first key repeated in its object, in document order: `a.b`, `x[2].q`.
fn first_duplicate(node: &Node, path: &str) -> Option<String> {
    match node {
        Node::Leaf => None,
        Node::List(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| first_duplicate(item, &format!("{path}[{i}]"))),
        Node::Object(entries) => {
            for (i, (key, value)) in entries.iter().enumerate() {
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if entries[..i].iter().any(|(k, _)| k == key) {
                    return Some(here);
                }
                if let Some(found) = first_duplicate(value, &here) {
                    return Some(found);
                }
            }
            None
        }
    }
}

fuzz_target!(|body: &[u8]| {
    let strict = fuzzing::strictness(body);
    let object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    // The first value, as the check reads it (what follows it is the typed parse's to refuse).
    let first = Node::deserialize(&mut serde_json::Deserializer::from_slice(body));
    match (object, &first) {
        (false, _) => assert_eq!(strict, Strict::NotAnObject),
        (true, Ok(tree)) => match first_duplicate(tree, "") {
            Some(path) => assert_eq!(strict, Strict::DuplicateKey(path)),
            None => assert_eq!(strict, Strict::Passed),
        },
        // A syntax error: the check may have met a repeated key before it, or not.
        (true, Err(_)) => assert_ne!(strict, Strict::NotAnObject),
    }
    let whole_is_json = serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
    for verdict in fuzzing::bodies(body) {
        match verdict {
            Ok(()) => assert!(
                strict == Strict::Passed && whole_is_json,
                "accepted a body that is not one strict JSON object"
            ),
            Err(refusal) => {
                assert_eq!(refusal.status, 400, "{refusal:?}");
                assert!(
                    refusal.field.is_some(),
                    "a refusal names no field: {refusal:?}"
                );
            }
        }
    }
});
