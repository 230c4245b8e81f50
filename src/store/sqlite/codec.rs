//! Mapping between rows of `events` and [`RecordedEvent`]s.

use chrono::{DateTime, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{Row, Rows};
use uuid::Uuid;

use domreg_events::EventMetadata;

pub(super) use crate::store::actor::actor_column;
use crate::store::actor::parse_actor;

use super::backend;
use crate::store::{Position, RecordedEvent, StoreError};

/// Reads every row into a vector sized for `expected` of them, so a page is not regrown.
pub(super) fn collect(
    mut rows: Rows<'_>,
    expected: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut out = Vec::with_capacity(expected);
    while let Some(row) = rows.next().map_err(backend)? {
        out.push(decode_row(row)?);
    }
    Ok(out)
}

/// Reads one row, borrowing the blob and text columns that are parsed rather than kept.
fn decode_row(row: &Row<'_>) -> Result<RecordedEvent, StoreError> {
    let position = Position::at(row.get::<_, i64>(0).map_err(backend)? as u64);
    let corrupt = |detail: String| StoreError::Corrupt { position, detail };
    let blob = |i: usize| -> Result<&[u8], StoreError> {
        row.get_ref(i)
            .map_err(backend)?
            .as_blob()
            .map_err(|e| corrupt(format!("column {i}: {e}")))
    };
    let uuid =
        |bytes: &[u8]| Uuid::from_slice(bytes).map_err(|e| corrupt(format!("bad uuid: {e}")));
    let actor = row
        .get_ref(7)
        .map_err(backend)?
        .as_str()
        .map_err(|e| corrupt(format!("actor: {e}")))?;
    let causation = match row.get_ref(9).map_err(backend)? {
        ValueRef::Null => None,
        value => Some(uuid(
            value
                .as_blob()
                .map_err(|e| corrupt(format!("causation: {e}")))?,
        )?),
    };
    let at_micros: i64 = row.get(10).map_err(backend)?;
    Ok(RecordedEvent {
        position,
        id: uuid(blob(1)?)?,
        stream: row.get(2).map_err(backend)?,
        version: row.get::<_, i64>(3).map_err(backend)? as u64,
        event_type: row.get(4).map_err(backend)?,
        schema_version: row.get::<_, i64>(5).map_err(backend)? as u32,
        data: blob(6)?.to_vec(),
        metadata: EventMetadata {
            actor: parse_actor(actor).ok_or_else(|| corrupt(format!("bad actor {actor:?}")))?,
            correlation_id: uuid(blob(8)?)?,
            causation_id: causation,
            at: DateTime::<Utc>::from_timestamp_micros(at_micros)
                .ok_or_else(|| corrupt(format!("bad time {at_micros}")))?,
        },
    })
}
