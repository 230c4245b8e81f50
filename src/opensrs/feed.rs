//! OpenSRS's event feed (EVENT POLL / ACK), read into plain records.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::reply::Reply;
use super::value::Value;

/// One event of the feed, as OpenSRS sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEvent {
    /// 32 lowercase hex characters; the key of its ACK.
    pub event_id: String,
    /// `DOMAIN`, `ORDER` or `TRANSFER`.
    pub object: String,
    pub event: String,
    pub event_date: String,
    /// `object_data` flattened: leaves as text, arrays (a nameserver list) joined by `,`.
    pub data: BTreeMap<String, String>,
}

impl FeedEvent {
    pub fn domain(&self) -> Option<&str> {
        self.data
            .get("domain_name")
            .map(|d| d.trim())
            .filter(|d| !d.is_empty())
    }

    /// The expiry the event names (`expiration_date`, `2016-06-19T15:31:47Z` in the
    /// feed; a listing's `2016-06-19 15:31:47` is read too), if it names a readable one.
    pub fn expiry(&self) -> Option<DateTime<Utc>> {
        let text = self.data.get("expiration_date")?.trim();
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| super::listing::listing_date(text))
    }
}

fn flatten(v: &Value) -> String {
    match v {
        Value::Scalar(s) => s.trim().to_string(),
        Value::Array(items) => items.iter().map(flatten).collect::<Vec<_>>().join(","),
        Value::Assoc(map) => map
            .iter()
            .map(|(k, v)| format!("{k}:{}", flatten(v)))
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// The events of a POLL reply, oldest first. An event without an id cannot be
/// acknowledged and is left out (it is reported by name in `skipped`); a reply without
/// `events` has none.
pub fn events(reply: &Reply) -> (Vec<FeedEvent>, Vec<String>) {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let items = reply
        .attributes
        .get("events")
        .and_then(Value::as_array)
        .unwrap_or_default();
    for item in items {
        let text = |k: &str| item.text(k).unwrap_or_default().to_string();
        let event_id = text("event_id");
        if event_id.is_empty() {
            skipped.push(format!(
                "{} {} without an event_id",
                text("object"),
                text("event")
            ));
            continue;
        }
        let data = item
            .get("object_data")
            .and_then(Value::as_assoc)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), flatten(v))).collect())
            .unwrap_or_default();
        out.push(FeedEvent {
            event_id,
            object: text("object").to_ascii_uppercase(),
            event: text("event").to_ascii_uppercase(),
            event_date: text("event_date"),
            data,
        });
    }
    (out, skipped)
}
