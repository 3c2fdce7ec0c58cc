//! API key secrets: made from the operating system's randomness, stored only as a SHA-256
//! digest, and checked in constant time. A random 32-byte secret needs no slow password hash:
//! there is nothing to guess from its digest.
//!
//! Keys are looked up from a cached list that is refreshed from the store at most
//! [`REFRESH`] after it was read, so a key created or revoked by another process (the
//! operator's command line) is seen within that time, and at once when this handle made the
//! change. Every request hashes its secret (well under a microsecond) and compares it with every
//! cached digest in constant time, so neither the comparison nor the lookup leaks how much of a
//! guess matched.

use crate::error::{Error, ErrorCode, Result};
use crate::model::ApiKey;
use sha2::{Digest, Sha256};
use std::sync::RwLock;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// How long a cached key list is trusted.
pub const REFRESH: Duration = Duration::from_millis(500);

/// What every secret starts with, so that a leaked one is easy to recognise (and to scan for).
const PREFIX: &str = "inv_";

/// A new secret: the prefix and 32 random bytes in hex.
pub(crate) fn new_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::storage(format!("no randomness from the operating system: {e}")))?;
    Ok(format!("{PREFIX}{}", hex(&bytes)))
}

pub(crate) fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

struct Cached {
    read_at: Instant,
    /// Live keys with their digests.
    keys: Vec<([u8; 32], ApiKey)>,
}

/// The cached list of live keys.
#[derive(Default)]
pub(crate) struct KeyRing {
    cached: RwLock<Option<Cached>>,
}

impl KeyRing {
    /// The live key whose secret this is. `load` reads every key from the store when the cache
    /// is stale.
    pub fn authenticate(
        &self,
        secret: &str,
        load: impl FnOnce() -> Result<Vec<(ApiKey, String)>>,
    ) -> Result<ApiKey> {
        let wanted = digest(secret);
        let fresh = |c: &Option<Cached>| c.as_ref().is_some_and(|c| c.read_at.elapsed() < REFRESH);
        {
            let cached = self.cached.read().unwrap_or_else(|e| e.into_inner());
            if fresh(&cached) {
                return find(cached.as_ref(), &wanted);
            }
        }
        let keys = load()?
            .into_iter()
            .filter(|(key, _)| key.revoked_at.is_none())
            .filter_map(|(key, digest)| Some((unhex(&digest)?, key)))
            .collect();
        let mut cached = self.cached.write().unwrap_or_else(|e| e.into_inner());
        *cached = Some(Cached {
            read_at: Instant::now(),
            keys,
        });
        find(cached.as_ref(), &wanted)
    }

    /// Forgets the cached list, after this handle created or revoked a key.
    pub fn invalidate(&self) {
        *self.cached.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

fn find(cached: Option<&Cached>, wanted: &[u8; 32]) -> Result<ApiKey> {
    let mut found = None;
    for (digest, key) in cached.map_or(&[][..], |c| &c.keys) {
        // Every digest is compared, matched or not.
        if bool::from(digest.ct_eq(wanted)) {
            found = Some(key);
        }
    }
    found.cloned().ok_or_else(|| {
        Error::new(
            ErrorCode::Unauthorized,
            "the key is unknown or has been revoked",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_digests_round_trip() {
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 64, "{a}");
        let d = digest(&a);
        assert_eq!(unhex(&hex(&d)), Some(d));
        assert_eq!(unhex("zz"), None);
    }
}
