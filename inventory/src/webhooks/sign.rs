//! Standard Webhooks signatures: `v1,` and the base64 of HMAC-SHA256 over
//! `{webhook-id}.{webhook-timestamp}.{body}`, keyed by the bytes the secret's base64 encodes.
//! Written on `hmac` + `sha2` (the `standardwebhooks` crate would bring its own copies of
//! both, and a JWT stack, for these few lines); the tests check it against the specification's
//! reference library.

use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// What a signing secret starts with, as the specification has it.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new secret: the prefix and the base64 of 32 random bytes from the operating system.
pub(crate) fn new_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::storage(format!("no randomness for a secret: {e}")))?;
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
}

/// The signature of one message: base64 of HMAC-SHA256 under the secret's key.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .map_err(|e| Error::validation("secret", format!("secret is not base64: {e}")))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|e| Error::validation("secret", e.to_string()))?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header's value for one message.
pub fn signature_header(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
    Ok(format!("v1,{}", sign(secret, id, timestamp, body)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the specification's reference libraries (their test suites use it).
    #[test]
    fn matches_the_reference_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature_header(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_are_random_and_prefixed() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert!(a.starts_with(SECRET_PREFIX) && a != b);
        assert_eq!(
            STANDARD.decode(&a[SECRET_PREFIX.len()..]).unwrap().len(),
            32
        );
    }
}
