//! Integers as JSON Schema reads them: `3.0` is the integer 3 (clients that write numbers
//! as floats, as JavaScript and Python often do, are not refused), and a query string's
//! `"9"` is 9. A fraction or a value out of range is still an error, named by serde with
//! the field.

use std::fmt;

use serde::de::{Deserializer, Error, Visitor};

struct Whole;

impl<'de> Visitor<'de> for Whole {
    type Value = Option<i128>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a whole number")
    }
    fn visit_i64<E: Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.into()))
    }
    fn visit_u64<E: Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.into()))
    }
    fn visit_f64<E: Error>(self, v: f64) -> Result<Self::Value, E> {
        if v.fract() == 0.0 && v.abs() < 1e18 {
            Ok(Some(v as i128))
        } else {
            Err(E::custom(format!("{v} is not a whole number")))
        }
    }
    fn visit_str<E: Error>(self, v: &str) -> Result<Self::Value, E> {
        match v.trim().parse::<i128>() {
            Ok(n) => Ok(Some(n)),
            Err(_) => match v.trim().parse::<f64>() {
                Ok(f) => self.visit_f64(f),
                Err(_) => Err(E::custom(format!("{v:?} is not a whole number"))),
            },
        }
    }
    fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(Whole)
    }
}

fn ranged<T: TryFrom<i128>, E: Error>(n: i128) -> Result<T, E> {
    T::try_from(n).map_err(|_| E::custom(format!("{n} is out of range")))
}

/// An integer field.
pub fn int<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128>,
{
    match d.deserialize_any(Whole)? {
        Some(n) => ranged(n),
        None => Err(D::Error::custom("a whole number is required, not null")),
    }
}

/// An optional integer field (`null` or absent: none; use with `#[serde(default)]`).
pub fn opt_int<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128>,
{
    d.deserialize_option(Whole)?.map(ranged).transpose()
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(deserialize_with = "super::int")]
        years: i64,
        #[serde(deserialize_with = "super::opt_int", default)]
        port: Option<u16>,
    }

    #[test]
    fn whole_floats_and_numeric_strings_are_integers_and_fractions_are_not() {
        let b: Body = serde_json::from_str(r#"{"years": 3.0, "port": 55443.0}"#).unwrap();
        assert_eq!((b.years, b.port), (3, Some(55443)));
        let b: Body = serde_json::from_str(r#"{"years": 2, "port": null}"#).unwrap();
        assert_eq!((b.years, b.port), (2, None));
        assert!(serde_json::from_str::<Body>(r#"{"years": 2.5}"#).is_err());
        assert!(serde_json::from_str::<Body>(r#"{"years": 1, "port": 70000}"#).is_err());
        let q: Body = serde_urlencoded::from_str("years=9&port=1").unwrap();
        assert_eq!((q.years, q.port), (9, Some(1)));
    }
}
