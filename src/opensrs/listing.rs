//! GET_DOMAINS_BY_EXPIREDATE replies: one page of the account's domains.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::reply::Reply;
use super::value::Value;

/// A domain as the account listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    /// `expiredate` (OpenSRS's date for the reseller; see `docs/operations.md` for why
    /// the engine confirms a difference with GET DOMAIN's registry date).
    pub expires: Option<DateTime<Utc>>,
    pub auto_renew: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingPage {
    pub domains: Vec<Listed>,
    /// More pages follow.
    pub remainder: bool,
    pub total: Option<u64>,
}

/// Reads OpenSRS's `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD` as UTC.
pub fn listing_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .map(|t| t.and_utc())
}

pub fn page(reply: &Reply) -> ListingPage {
    let domains = reply
        .attributes
        .get("exp_domains")
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(|d| {
            Some(Listed {
                name: d.text("name")?.to_ascii_lowercase(),
                expires: d.text("expiredate").and_then(listing_date),
                auto_renew: d.flag("f_auto_renew"),
            })
        })
        .collect();
    ListingPage {
        domains,
        remainder: reply.attributes.flag("remainder").unwrap_or(false),
        total: reply.attr("total").and_then(|t| t.parse().ok()),
    }
}
