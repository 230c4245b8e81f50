//! Upcasting: rewriting payloads stored under an older schema version into the current one.
//!
//! Each step takes one type from version `n` to `n + 1`; [`upcast`] chains them. A step is a
//! pure JSON rewrite, so old events stay as they were written and are read as new ones.

use serde_json::{json, Value};

use crate::event::DecodeError;

/// Brings `payload` of `event_type` from version `from` up to `to`.
pub fn upcast(event_type: &str, from: u32, to: u32, payload: Value) -> Result<Value, DecodeError> {
    let mut version = from;
    let mut value = payload;
    while version < to {
        value = step(event_type, version, value).ok_or_else(|| DecodeError::NoUpcaster {
            event_type: event_type.to_string(),
            version,
        })?;
        version += 1;
    }
    Ok(value)
}

/// One version step. Returns `None` where no step exists.
fn step(event_type: &str, version: u32, mut v: Value) -> Option<Value> {
    match (event_type, version) {
        // v0 of the money events (the prototype's shape) kept the amount as
        // `{"cents": 1299, "currency": "USD"}` beside the ids; v1 nests a Money.
        ("Charged" | "Refunded", 0) => {
            let obj = v.as_object_mut()?;
            let cents = obj.remove("cents")?;
            let currency = obj.remove("currency")?;
            obj.insert(
                "amount".into(),
                json!({ "minor": cents, "currency": currency }),
            );
            Some(v)
        }
        _ => None,
    }
}
