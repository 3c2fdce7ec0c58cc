//! Request bodies are JSON objects whose keys are unique at every depth. serde's derived
//! structs would also read a JSON array positionally (`["Name","SKU",2.5]` as a product), and a
//! `serde_json::Map` keeps the last of two equal keys; both let a body mean something other
//! than what it says, so every body is checked here before it is deserialized.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// Why a body is not a strict JSON object. Syntax errors are not reported here: the typed
/// parse that follows names them better.
pub enum Strictness {
    NotAnObject,
    /// The path of the repeated key, `a.b` or `operations[1].quantity`.
    DuplicateKey(String),
}

pub fn check(body: &[u8]) -> Result<(), Strictness> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(Strictness::NotAnObject);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut found = None;
    // A syntax error ends the walk; the typed parse reports it.
    let _ = Walk {
        path: String::new(),
        found: &mut found,
    }
    .deserialize(&mut de);
    match found {
        Some(path) => Err(Strictness::DuplicateKey(path)),
        None => Ok(()),
    }
}

/// Visits any JSON value, recording the first repeated object key with its path.
struct Walk<'a> {
    path: String,
    found: &'a mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            let item = Walk {
                path: format!("{}[{i}]", self.path),
                found: &mut *self.found,
            };
            if seq.next_element_seed(item)?.is_none() {
                return Ok(());
            }
            if self.found.is_some() {
                return Err(de::Error::custom("duplicate key"));
            }
            i += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            if !seen.insert(key) {
                *self.found = Some(path);
                // Stop here: the body is refused whatever follows.
                map.next_value::<IgnoredAny>()?;
                return Err(de::Error::custom("duplicate key"));
            }
            map.next_value_seed(Walk {
                path,
                found: &mut *self.found,
            })?;
            if self.found.is_some() {
                return Err(de::Error::custom("duplicate key"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dup(body: &str) -> Option<String> {
        match check(body.as_bytes()) {
            Err(Strictness::DuplicateKey(p)) => Some(p),
            _ => None,
        }
    }

    #[test]
    fn objects_only_with_unique_keys() {
        assert!(check(br#" {"a":1,"b":{"a":2},"c":[{"a":1},{"b":2}]}"#).is_ok());
        assert!(matches!(
            check(br#"["Positional","POS-1",2.5]"#),
            Err(Strictness::NotAnObject)
        ));
        assert!(matches!(check(b"3"), Err(Strictness::NotAnObject)));
        assert_eq!(dup(r#"{"a":1,"a":2}"#).as_deref(), Some("a"));
        assert_eq!(dup(r#"{"x":{"q":1,"q":1}}"#).as_deref(), Some("x.q"));
        assert_eq!(
            dup(r#"{"operations":[{"op":"add"},{"quantity":1,"quantity":2}]}"#).as_deref(),
            Some("operations[1].quantity")
        );
        // A syntax error is left to the typed parse.
        assert!(check(br#"{"a":"#).is_ok());
    }
}
