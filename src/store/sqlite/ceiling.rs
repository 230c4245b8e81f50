//! The machine's durable ceiling for this schema: the same rows committed by raw SQLite
//! (the same file settings, one prepared INSERT per row, one durable commit per round),
//! with none of the store's work around it (queueing, checks, replies). `bench store`
//! prints its figures beside this, so the ratio says what the store costs.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{backend, codec, open_connection, MIGRATIONS};
use crate::store::{NewEvent, StoreError};

/// Commits `rounds` transactions of `rows` events each (one stream per row, versions
/// counting up) into a fresh file at `path`; returns the time the commits took.
pub fn raw_commits(
    path: &Path,
    rows: usize,
    rounds: usize,
    mut event: impl FnMut(u64) -> NewEvent,
) -> Result<Duration, StoreError> {
    let conn = open_connection(path, false)?;
    for sql in MIGRATIONS {
        conn.execute_batch(sql).map_err(backend)?;
    }
    // Built before the clock starts, as the store's benchmark builds its events.
    let events: Vec<NewEvent> = (0..(rows * rounds) as u64).map(&mut event).collect();
    let mut stmt = conn
        .prepare(include_str!("sql/insert_event.sql"))
        .map_err(backend)?;
    let start = Instant::now();
    for (round, chunk) in events.chunks(rows).enumerate() {
        conn.execute_batch("BEGIN IMMEDIATE").map_err(backend)?;
        for (row, e) in chunk.iter().enumerate() {
            let m = &e.metadata;
            stmt.execute(rusqlite::params![
                e.id.as_bytes().as_slice(),
                format!("ceiling-{row}"),
                round as i64,
                e.event_type,
                e.schema_version,
                e.data,
                codec::actor_column(&m.actor),
                m.correlation_id.as_bytes().as_slice(),
                m.causation_id.as_ref().map(|c| c.as_bytes().to_vec()),
                m.at.timestamp_micros(),
            ])
            .map_err(backend)?;
        }
        conn.execute_batch("COMMIT").map_err(backend)?;
    }
    Ok(start.elapsed())
}
