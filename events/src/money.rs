//! Money in integer minor units with an ISO 4217 currency. No floating point, ever.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency {code:?}: give an ISO 4217 code such as USD, EUR, GBP or CAD")]
    UnknownCurrency { code: String },
    #[error("cannot combine {left} and {right}: amounts in different currencies")]
    MixedCurrencies { left: Currency, right: Currency },
    #[error("amount overflows: {0}")]
    Overflow(String),
    #[error("{input} is more than domreg accepts: amounts and balances are at most {limit}")]
    TooLarge { input: String, limit: Money },
    #[error("{input:?} is not an amount: write digits with at most {exponent} decimals, such as {example}")]
    BadAmount {
        input: String,
        exponent: u32,
        example: String,
    },
}

/// An ISO 4217 currency code with its number of minor-unit digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// Active ISO 4217 codes whose minor unit is not 2 digits; every other listed code has 2.
const EXPONENT_0: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
    "VUV", "XAF", "XOF", "XPF",
];
const EXPONENT_3: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
const EXPONENT_4: &[&str] = &["CLF", "UYW"];
const EXPONENT_2: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF",
    "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR",
    "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF",
    "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR", "KPW", "KYD", "KZT", "LAK", "LBP",
    "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK",
    "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD",
    "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP",
    "TRY", "TTD", "TWD", "TZS", "UAH", "USD", "UYU", "UZS", "VES", "WST", "XCD", "YER", "ZAR",
    "ZMW", "ZWG",
];

impl Currency {
    pub const USD: Currency = Currency {
        code: *b"USD",
        exponent: 2,
    };
    pub const EUR: Currency = Currency {
        code: *b"EUR",
        exponent: 2,
    };

    /// Looks up an ISO 4217 code (case-insensitive).
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let unknown = || MoneyError::UnknownCurrency {
            code: code.to_string(),
        };
        let upper: [u8; 3] = code.trim().as_bytes().try_into().map_err(|_| unknown())?;
        let upper = upper.map(|b| b.to_ascii_uppercase());
        // Every stored amount names its currency, so a replay looks one up per event: a binary
        // search of a table sorted once, not a scan of the lists (once ~19 % of read + decode).
        let table = known_currencies();
        let at = table
            .binary_search_by(|(known, _)| known.cmp(&upper))
            .map_err(|_| unknown())?;
        Ok(Currency {
            code: upper,
            exponent: table[at].1,
        })
    }

    pub fn code(&self) -> &str {
        // The code is always three ASCII capitals from the tables above.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Digits after the decimal point (2 for USD, 0 for JPY, 3 for KWD).
    pub fn exponent(&self) -> u32 {
        u32::from(self.exponent)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Every known code with its exponent, sorted by code, built once from the lists above.
fn known_currencies() -> &'static [([u8; 3], u8)] {
    static TABLE: std::sync::OnceLock<Vec<([u8; 3], u8)>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: Vec<([u8; 3], u8)> = [
            (EXPONENT_2, 2u8),
            (EXPONENT_0, 0),
            (EXPONENT_3, 3),
            (EXPONENT_4, 4),
        ]
        .iter()
        .flat_map(|(codes, exponent)| {
            codes.iter().filter_map(move |code| {
                let bytes: [u8; 3] = code.as_bytes().try_into().ok()?;
                Some((bytes, *exponent))
            })
        })
        .collect();
        table.sort_unstable();
        table
    })
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

// By hand, not `try_from = "String"`: a borrowed `&str` is enough, so decoding an event
// allocates nothing for its currency.
impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CodeVisitor;
        impl serde::de::Visitor<'_> for CodeVisitor {
            type Value = Currency;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an ISO 4217 currency code such as \"USD\"")
            }
            fn visit_str<E: serde::de::Error>(self, code: &str) -> Result<Currency, E> {
                Currency::parse(code).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(CodeVisitor)
    }
}

/// An amount of money: integer minor units (cents) in one currency.
///
/// All arithmetic is checked: mixing currencies or overflowing `i64` is an error, never
/// a wrap or a silent conversion.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// Minor units: 1299 is 12.99 USD.
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    /// The largest amount (price, credit, charge) and the largest balance domreg accepts,
    /// in minor units: 10^13 (100 billion USD). With every amount bounded so, no sum of
    /// fewer than ~900,000 of them can overflow `i64`, and a typo cannot poison a ledger.
    pub const MAX_MINOR: i64 = 10_000_000_000_000;

    /// The bound itself, in `currency`.
    pub const fn limit(currency: Currency) -> Money {
        Money::new(Self::MAX_MINOR, currency)
    }

    /// This amount if it lies within [`Money::MAX_MINOR`] either side of zero.
    pub fn bounded(self) -> Result<Money, MoneyError> {
        if self.minor.unsigned_abs() > Self::MAX_MINOR as u64 {
            Err(MoneyError::TooLarge {
                input: self.to_string(),
                limit: Money::limit(self.currency),
            })
        } else {
            Ok(self)
        }
    }

    pub const fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    pub const fn zero(currency: Currency) -> Self {
        Money { minor: 0, currency }
    }

    /// Parses a decimal amount such as `12.99`, `-3` or `0.5` without floating point.
    pub fn parse(amount: &str, currency: Currency) -> Result<Self, MoneyError> {
        let exponent = currency.exponent();
        let bad = || MoneyError::BadAmount {
            input: amount.to_string(),
            exponent,
            example: example_amount(exponent),
        };
        let s = amount.trim();
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (whole, frac) = match digits.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits, ""),
        };
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(frac) {
            return Err(bad());
        }
        if digits.contains('.') && frac.is_empty() || frac.len() > exponent as usize {
            return Err(bad());
        }
        let overflow = || MoneyError::TooLarge {
            input: format!("{} {currency}", amount.trim()),
            limit: Money::limit(currency),
        };
        let scale = 10i64.checked_pow(exponent).ok_or_else(overflow)?;
        let whole: i64 = whole.parse().map_err(|_| overflow())?;
        let frac_value: i64 = if frac.is_empty() {
            0
        } else {
            let pad = 10i64.pow(exponent - frac.len() as u32);
            frac.parse::<i64>().map_err(|_| bad())? * pad
        };
        let too_large = overflow;
        let minor = whole
            .checked_mul(scale)
            .and_then(|w| w.checked_add(frac_value))
            .ok_or_else(too_large)?;
        Money::new(if negative { -minor } else { minor }, currency)
            .bounded()
            .map_err(|_| too_large())
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.minor
            .checked_add(other.minor)
            .map(|m| Money::new(m, self.currency))
            .ok_or_else(|| MoneyError::Overflow(format!("{self} + {other}")))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.minor
            .checked_sub(other.minor)
            .map(|m| Money::new(m, self.currency))
            .ok_or_else(|| MoneyError::Overflow(format!("{self} - {other}")))
    }

    pub fn checked_mul(self, factor: i64) -> Result<Money, MoneyError> {
        self.minor
            .checked_mul(factor)
            .map(|m| Money::new(m, self.currency))
            .ok_or_else(|| MoneyError::Overflow(format!("{self} x {factor}")))
    }

    pub fn checked_neg(self) -> Result<Money, MoneyError> {
        self.minor
            .checked_neg()
            .map(|m| Money::new(m, self.currency))
            .ok_or_else(|| MoneyError::Overflow(format!("-({self})")))
    }

    pub fn is_positive(&self) -> bool {
        self.minor > 0
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::MixedCurrencies {
                left: self.currency,
                right: other.currency,
            })
        }
    }
}

fn example_amount(exponent: u32) -> String {
    if exponent == 0 {
        "1299".to_string()
    } else {
        format!("12.{}", "9".repeat(exponent as usize))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exponent = self.currency.exponent();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if exponent == 0 {
            return write!(f, "{sign}{abs} {}", self.currency);
        }
        let scale = 10u64.pow(exponent);
        write!(
            f,
            "{sign}{}.{:0width$} {}",
            abs / scale,
            abs % scale,
            self.currency,
            width = exponent as usize
        )
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(s: &str) -> Money {
        Money::parse(s, Currency::USD).unwrap()
    }

    #[test]
    fn parses_without_floats() {
        assert_eq!(usd("12.99").minor, 1299);
        assert_eq!(usd("0.5").minor, 50);
        assert_eq!(usd("-3").minor, -300);
        assert_eq!(usd("0.07").minor, 7);
        let jpy = Currency::parse("jpy").unwrap();
        assert_eq!(Money::parse("1500", jpy).unwrap().minor, 1500);
        assert!(Money::parse("15.5", jpy).is_err());
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Money::parse("1.234", kwd).unwrap().to_string(), "1.234 KWD");
    }

    #[test]
    fn refuses_bad_amounts() {
        for bad in [
            "", "abc", "1.999", "1.", ".5", "1e3", "12,99", "--1", "1.2.3",
        ] {
            let e = Money::parse(bad, Currency::USD).unwrap_err();
            assert!(matches!(e, MoneyError::BadAmount { .. }), "{bad}: {e}");
        }
        for huge in [
            "99999999999999999999",
            "92233720368547758.07",
            "100000000000.01",
        ] {
            let e = Money::parse(huge, Currency::USD).unwrap_err();
            assert!(matches!(e, MoneyError::TooLarge { .. }), "{huge}: {e}");
            assert!(e.to_string().contains("at most 100000000000.00 USD"), "{e}");
        }
        assert_eq!(
            Money::parse("100000000000.00", Currency::USD)
                .unwrap()
                .minor,
            Money::MAX_MINOR
        );
    }

    #[test]
    fn arithmetic_is_checked() {
        let eur = Money::new(100, Currency::EUR);
        assert!(matches!(
            usd("1").checked_add(eur),
            Err(MoneyError::MixedCurrencies { .. })
        ));
        assert!(Money::new(i64::MAX, Currency::USD)
            .checked_add(usd("0.01"))
            .is_err());
        assert_eq!(
            usd("1.50").checked_sub(usd("2")).unwrap().to_string(),
            "-0.50 USD"
        );
        assert_eq!(
            usd("12.99").checked_mul(3).unwrap().to_string(),
            "38.97 USD"
        );
    }

    #[test]
    fn unknown_currency() {
        for bad in ["XYZ", "", "US", "USDX", "U$D", "€UR"] {
            let e = Currency::parse(bad).unwrap_err().to_string();
            assert!(
                e.contains(&format!("{bad:?}")) && e.contains("ISO 4217"),
                "{e}"
            );
        }
    }

    #[test]
    fn every_listed_code_parses_with_its_exponent() {
        let lists = [
            (EXPONENT_2, 2),
            (EXPONENT_0, 0),
            (EXPONENT_3, 3),
            (EXPONENT_4, 4),
        ];
        let mut seen = std::collections::BTreeSet::new();
        for (codes, exponent) in lists {
            for code in codes {
                assert!(seen.insert(*code), "{code} is listed twice");
                let currency = Currency::parse(code).unwrap();
                assert_eq!((currency.code(), currency.exponent()), (*code, exponent));
                let lower = code.to_ascii_lowercase();
                assert_eq!(Currency::parse(&format!(" {lower} ")).unwrap(), currency);
            }
        }
        assert_eq!(known_currencies().len(), seen.len());
    }

    #[test]
    fn serde_shape() {
        let j = serde_json::to_string(&usd("12.99")).unwrap();
        assert_eq!(j, r#"{"minor":1299,"currency":"USD"}"#);
        assert!(serde_json::from_str::<Money>(r#"{"minor":1,"currency":"ABC"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"minor":1,"currency":7}"#).is_err());
        let escaped = r#"{"minor":1,"currency":"\u0055SD"}"#;
        assert_eq!(serde_json::from_str::<Money>(escaped).unwrap(), usd("0.01"));
    }
}
