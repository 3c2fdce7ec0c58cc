//! Exact money. A price is a `rust_decimal::Decimal` that has passed validation; it is stored as
//! TEXT so that its scale survives ("1500.00" stays "1500.00"), and never touches f64.

use crate::error::{Error, Result};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rust_decimal::Decimal;
use std::str::FromStr;

/// Most decimal places a price may carry.
pub const MAX_PRICE_SCALE: u32 = 4;
/// Prices must be strictly below this (10^11). With at most four decimal places a price then has
/// at most 15 significant digits, which every IEEE double holds exactly: a client that parses
/// JSON numbers as doubles (JavaScript, most generated clients) reads back the price it stored.
/// Prices stored before this limit are still read as they are.
pub const PRICE_LIMIT: Decimal = Decimal::from_parts(1_215_752_192, 23, 0, false, 0);

/// A validated, non-negative price.
///
/// It serializes as a decimal string whatever serde features other crates enable on
/// rust_decimal, so records stored by one build read back exactly in any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Price(Decimal);

impl serde::Serialize for Price {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Price {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Price::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Price {
    /// Validates a decimal as a price.
    pub fn new(value: Decimal) -> Result<Self> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(Error::validation("price", "price must not be negative"));
        }
        if value.scale() > MAX_PRICE_SCALE {
            return Err(Error::validation(
                "price",
                format!("price has more than {MAX_PRICE_SCALE} decimal places"),
            ));
        }
        if value >= PRICE_LIMIT {
            return Err(Error::validation(
                "price",
                format!("price must be below {PRICE_LIMIT}"),
            ));
        }
        // -0 is zero: keep a single canonical sign.
        let mut value = value;
        value.set_sign_positive(true);
        Ok(Price(value))
    }

    /// Parses a plain decimal string such as "19.99". Exponents, underscores and other forms
    /// that `Decimal::from_str` tolerates are refused: a price is written one way.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || Error::validation("price", format!("price {text:?} is not a decimal number"));
        let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, "0"));
        let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !plain(whole) || !plain(frac) {
            return Err(bad());
        }
        Price::new(Decimal::from_str(text).map_err(|_| bad())?)
    }

    /// The exact decimal.
    pub fn value(self) -> Decimal {
        self.0
    }
}

impl TryFrom<Decimal> for Price {
    type Error = Error;
    fn try_from(value: Decimal) -> Result<Self> {
        Price::new(value)
    }
}

impl From<Price> for Decimal {
    fn from(p: Price) -> Decimal {
        p.0
    }
}

impl std::fmt::Display for Price {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ToSql for Price {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.to_string()))
    }
}

impl FromSql for Price {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        Decimal::from_str(text)
            .map(Price)
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// PostgreSQL keeps prices as NUMERIC, which stores the scale it is given.
#[cfg(feature = "postgres")]
mod numeric {
    use super::Price;
    use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
    use rust_decimal::Decimal;

    type BoxError = Box<dyn std::error::Error + Sync + Send>;

    impl ToSql for Price {
        fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
            self.0.to_sql(ty, out)
        }

        fn accepts(ty: &Type) -> bool {
            <Decimal as ToSql>::accepts(ty)
        }

        to_sql_checked!();
    }

    impl<'a> FromSql<'a> for Price {
        fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
            Decimal::from_sql(ty, raw).map(Price)
        }

        fn accepts(ty: &Type) -> bool {
            <Decimal as FromSql>::accepts(ty)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_ten_to_the_eleventh() {
        assert_eq!(PRICE_LIMIT, Decimal::from(100_000_000_000i64));
    }

    /// Every accepted price survives a trip through a double, as JavaScript reads JSON numbers.
    #[test]
    fn the_largest_prices_survive_a_double() {
        for text in [
            "99999999999.9999",
            "12345678901.2345",
            "0.0001",
            "98765432109.8765",
        ] {
            let price = Price::parse(text).unwrap();
            let through_double: f64 = text.parse().unwrap();
            let back = Decimal::from_str(&format!("{through_double:.4}")).unwrap();
            assert_eq!(back, price.value(), "{text}");
        }
    }

    #[test]
    fn keeps_scale_and_rejects_bad_values() {
        assert_eq!(Price::parse("1500.00").unwrap().to_string(), "1500.00");
        assert_eq!(Price::parse("0.10").unwrap().to_string(), "0.10");
        assert_eq!(Price::parse("-0").unwrap().to_string(), "0");
        assert_eq!(
            Price::parse("-0.01").unwrap_err().field.as_deref(),
            Some("price")
        );
        assert!(Price::parse("0.00001").is_err());
        assert!(Price::parse("100000000000").is_err());
        assert!(Price::parse("99999999999.9999").is_ok());
        assert!(Price::parse("abc").is_err());
        assert!(Price::parse("1e3").is_err());
        assert!(Price::parse("1_000").is_err());
        assert!(Price::parse(" 1").is_err());
        assert!(Price::parse("1.").is_err());
        assert!(Price::parse(".5").is_err());
        assert_eq!(Price::parse("+2.50").unwrap().to_string(), "2.50");
    }
}
