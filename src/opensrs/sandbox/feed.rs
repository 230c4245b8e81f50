//! The sandbox's event feed: one FIFO queue per reseller, fed by its own state changes
//! (registrations, renewals, transfers, deletions). POLL returns the oldest events
//! without removing them; ACK removes one; an unknown id gets 480 (a sandbox choice).

use std::collections::VecDeque;

use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;
use serde::Serialize;

use super::state::State;
use crate::opensrs::value::Value;

#[derive(Debug, Clone, Serialize)]
pub struct FeedItem {
    pub event_id: String,
    pub object: String,
    pub event: String,
    pub event_date: DateTime<Utc>,
    pub data: Vec<(String, String)>,
}

impl FeedItem {
    fn to_value(&self) -> Value {
        let data = self
            .data
            .iter()
            .fold(Value::assoc(), |v, (k, x)| v.with(k, x.as_str()));
        Value::assoc()
            .with("event_id", self.event_id.as_str())
            .with("object", self.object.as_str())
            .with("event", self.event.as_str())
            .with(
                "event_date",
                self.event_date.to_rfc3339_opts(SecondsFormat::Secs, true),
            )
            .with("object_data", data)
    }
}

/// An expiry as the feed writes it.
pub fn feed_date(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl State {
    /// Queues an event for `reseller`'s feed.
    pub fn raise(&mut self, reseller: &str, object: &str, event: &str, data: &[(&str, String)]) {
        let id: u128 = self.rng.random();
        let item = FeedItem {
            event_id: format!("{id:032x}"),
            object: object.into(),
            event: event.into(),
            event_date: self.now(),
            data: data
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        };
        self.feed
            .entry(reseller.to_string())
            .or_default()
            .push_back(item);
    }

    /// The oldest `limit` unacknowledged events and how many there are.
    pub fn poll_events(&self, reseller: &str, limit: usize) -> Value {
        let queue = self.feed.get(reseller);
        let events: Vec<Value> = queue
            .into_iter()
            .flatten()
            .take(limit)
            .map(FeedItem::to_value)
            .collect();
        Value::assoc()
            .with("events", events)
            .with("total", queue.map_or(0, VecDeque::len).to_string())
    }

    /// Removes one event; whether it was there.
    pub fn ack_event(&mut self, reseller: &str, event_id: &str) -> bool {
        let Some(queue) = self.feed.get_mut(reseller) else {
            return false;
        };
        // Acknowledged events are near the front: found there, and taken off without
        // moving the rest of the queue.
        match queue.iter().position(|e| e.event_id == event_id) {
            Some(at) => queue.remove(at).is_some(),
            None => false,
        }
    }
}
