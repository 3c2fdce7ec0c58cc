//! Input limits. Each check names the offending field, so every surface can point at it.

use crate::error::{Error, Result};

/// Longest product name, in characters.
pub const MAX_NAME: usize = 255;
/// Longest SKU, in characters.
pub const MAX_SKU: usize = 100;
/// Longest description, in characters.
pub const MAX_DESCRIPTION: usize = 4096;
/// Longest location name, in characters.
pub const MAX_LOCATION: usize = 255;
/// Longest reference, in characters.
pub const MAX_REFERENCE: usize = 255;
/// Longest notes, in characters.
pub const MAX_NOTES: usize = 4096;
/// Longest actor name recorded on movements, in characters.
pub const MAX_ACTOR: usize = 255;
/// Longest API key name, in characters.
pub const MAX_KEY_NAME: usize = 255;
/// Longest idempotency key, in characters.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;
/// No quantity in a request, and no balance, may exceed this (10^12 units). Checked
/// arithmetic against it means a balance can never wrap.
pub const MAX_QUANTITY: i64 = 1_000_000_000_000;
/// Most operations one batch may hold.
pub const MAX_BATCH: usize = 1000;
/// Longest reservation expiry, in seconds (one year).
pub const MAX_EXPIRY_SECONDS: i64 = 366 * 24 * 3600;

/// A required, trimmed-non-empty string of at most `max` characters, without NUL: the rule of
/// every name, SKU, location and reference. Returned trimmed. Public as
/// [`required_text`](crate::required_text), for values a surface takes that are no command's.
pub fn required(field: &str, value: &str, max: usize) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(Error::validation(
            field,
            format!("{field} must not be empty"),
        ));
    }
    limit(field, trimmed, max)?;
    Ok(trimmed.to_owned())
}

/// An optional string: at most `max` characters, kept as given.
pub(crate) fn limit(field: &str, value: &str, max: usize) -> Result<()> {
    if value.chars().count() > max {
        return Err(Error::validation(
            field,
            format!("{field} must be at most {max} characters"),
        ));
    }
    if value.contains('\0') {
        return Err(Error::validation(
            field,
            format!("{field} must not contain NUL characters"),
        ));
    }
    Ok(())
}

/// A quantity that may be zero (an initial quantity, a count, a reorder point).
pub(crate) fn non_negative_quantity(field: &str, q: i64) -> Result<i64> {
    integer(field, q, 0, MAX_QUANTITY)
}

/// A whole number in `min..=max`.
pub(crate) fn integer(field: &str, n: i64, min: i64, max: i64) -> Result<i64> {
    if n < min {
        let message = match min {
            0 => format!("{field} must not be negative"),
            1 => format!("{field} must be a positive integer"),
            _ => format!("{field} must be at least {min}"),
        };
        return Err(Error::validation(field, message));
    }
    if n > max {
        return Err(Error::validation(
            field,
            format!("{field} must be at most {max}"),
        ));
    }
    Ok(n)
}

/// Page size: 1..=max, defaulting where the caller passes `None`.
pub(crate) fn page_limit(limit: Option<i64>, default: i64, max: i64) -> Result<i64> {
    match limit {
        None => Ok(default),
        Some(l) if (1..=max).contains(&l) => Ok(l),
        Some(_) => Err(Error::validation(
            "limit",
            format!("limit must be between 1 and {max}"),
        )),
    }
}

pub(crate) fn page_offset(offset: Option<i64>) -> Result<i64> {
    match offset {
        None => Ok(0),
        Some(o) if o >= 0 => Ok(o),
        Some(_) => Err(Error::validation("offset", "offset must not be negative")),
    }
}
