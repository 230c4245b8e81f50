//! The machine's durable ceiling for this schema: the same rows committed by raw SQLite
//! (the same file settings, one prepared INSERT per row, one durable commit per round),
//! with none of the store's work around it (queueing, checks, replies). `bench store`
//! prints its figures beside this, so the ratio says what the store costs.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::{backend, codec, open_connection, MIGRATIONS};
use crate::store::{NewEvent, StoreError};

/// One row as the store would write it: stream, version, event.
pub type Row<'a> = (&'a str, u64, &'a NewEvent);

/// A fresh file of the store's schema and settings, written by raw SQLite.
pub struct RawCommits {
    conn: Connection,
}

impl RawCommits {
    pub fn create(path: &Path) -> Result<Self, StoreError> {
        let conn = open_connection(path, false)?;
        for sql in MIGRATIONS {
            conn.execute_batch(sql).map_err(backend)?;
        }
        Ok(RawCommits { conn })
    }

    /// Commits each round's rows in one durable transaction; returns the time taken.
    pub fn commit_rounds<'a>(
        &self,
        rounds: impl IntoIterator<Item = Vec<Row<'a>>>,
    ) -> Result<Duration, StoreError> {
        let rounds: Vec<Vec<Row<'a>>> = rounds.into_iter().collect();
        let mut stmt = self
            .conn
            .prepare_cached(include_str!("sql/insert_event.sql"))
            .map_err(backend)?;
        let start = Instant::now();
        for rows in rounds {
            self.conn
                .execute_batch("BEGIN IMMEDIATE")
                .map_err(backend)?;
            for (stream, version, e) in rows {
                let m = &e.metadata;
                stmt.execute(rusqlite::params![
                    e.id.as_bytes().as_slice(),
                    stream,
                    version as i64,
                    e.event_type,
                    e.schema_version,
                    e.data,
                    codec::actor_column(&m.actor),
                    m.correlation_id.as_bytes().as_slice(),
                    m.causation_id.as_ref().map(|c| c.as_bytes().as_slice()),
                    m.at.timestamp_micros(),
                ])
                .map_err(backend)?;
            }
            self.conn.execute_batch("COMMIT").map_err(backend)?;
        }
        Ok(start.elapsed())
    }
}
