//! Mapping between rows of `events` and [`RecordedEvent`]s.

use chrono::{DateTime, Utc};
use rusqlite::Rows;
use uuid::Uuid;

use domreg_events::{AccountId, Actor, EventMetadata};

use super::backend;
use crate::store::{Position, RecordedEvent, StoreError};

/// Actors are stored as `engine`, `admin:<name>` or `customer:<account>`.
pub(super) fn actor_column(actor: &Actor) -> String {
    match actor {
        Actor::Engine => "engine".into(),
        Actor::Admin(name) => format!("admin:{name}"),
        Actor::Customer(account) => format!("customer:{account}"),
    }
}

fn parse_actor(s: &str) -> Option<Actor> {
    match s.split_once(':') {
        None if s == "engine" => Some(Actor::Engine),
        Some(("admin", name)) => Some(Actor::Admin(name.to_string())),
        Some(("customer", account)) => AccountId::parse(account).ok().map(Actor::Customer),
        _ => None,
    }
}

pub(super) fn collect(mut rows: Rows<'_>) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        let position: i64 = row.get(0).map_err(backend)?;
        let corrupt = |detail: String| StoreError::Corrupt {
            position: Position::at(position as u64),
            detail,
        };
        let uuid = |bytes: Vec<u8>| {
            Uuid::from_slice(&bytes).map_err(|e| corrupt(format!("bad uuid: {e}")))
        };
        let actor: String = row.get(7).map_err(backend)?;
        let causation: Option<Vec<u8>> = row.get(9).map_err(backend)?;
        let at_micros: i64 = row.get(10).map_err(backend)?;
        out.push(RecordedEvent {
            position: Position::at(position as u64),
            id: uuid(row.get(1).map_err(backend)?)?,
            stream: row.get(2).map_err(backend)?,
            version: row.get::<_, i64>(3).map_err(backend)? as u64,
            event_type: row.get(4).map_err(backend)?,
            schema_version: row.get::<_, i64>(5).map_err(backend)? as u32,
            data: row.get(6).map_err(backend)?,
            metadata: EventMetadata {
                actor: parse_actor(&actor)
                    .ok_or_else(|| corrupt(format!("bad actor {actor:?}")))?,
                correlation_id: uuid(row.get(8).map_err(backend)?)?,
                causation_id: causation.map(uuid).transpose()?,
                at: DateTime::<Utc>::from_timestamp_micros(at_micros)
                    .ok_or_else(|| corrupt(format!("bad time {at_micros}")))?,
            },
        });
    }
    Ok(out)
}
