//! The machine's durable ceiling for this schema: the same appends committed by raw SQLite
//! (the same file settings, one prepared INSERT per event id and per append row, one
//! durable commit per round), with none of the store's work around it (queueing, checks,
//! replies). `bench store` prints its figures beside this, so the ratio says what the
//! store costs.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::{backend, codec, migrate::migrate, open_connection, start_checkpointer};
use crate::store::{NewEvent, StoreError};

/// One event as the store would write it: stream, version, event. Consecutive rows of
/// one stream in a round are one append, as the store writes them.
pub type Row<'a> = (&'a str, u64, &'a NewEvent);

/// A fresh file of the store's schema and settings, written by raw SQLite.
pub struct RawCommits {
    conn: Connection,
    next_position: std::cell::Cell<u64>,
    /// Dropping it stops the file's checkpointer.
    _stop_checkpoints: std::sync::mpsc::Sender<()>,
}

impl RawCommits {
    pub fn create(path: &Path) -> Result<Self, StoreError> {
        let conn = open_connection(path, false)?;
        migrate(&conn)?;
        // The store's file is checkpointed by a thread of its own, which keeps its WAL
        // short (rewritten in place rather than grown); the ceiling's file is too, or
        // every one of its syncs would also extend the file.
        Ok(RawCommits {
            conn,
            next_position: std::cell::Cell::new(1),
            _stop_checkpoints: start_checkpointer(path)?,
        })
    }

    /// Commits each round's rows in one durable transaction; returns the time taken.
    pub fn commit_rounds<'a>(
        &self,
        rounds: impl IntoIterator<Item = Vec<Row<'a>>>,
    ) -> Result<Duration, StoreError> {
        let rounds: Vec<Vec<Row<'a>>> = rounds.into_iter().collect();
        let mut id = self
            .conn
            .prepare_cached("INSERT INTO event_ids (event_id, position) VALUES (?1, ?2)")
            .map_err(backend)?;
        let mut append = self
            .conn
            .prepare_cached(include_str!("sql/insert_append.sql"))
            .map_err(backend)?;
        let start = Instant::now();
        for rows in rounds {
            self.conn
                .execute_batch("BEGIN IMMEDIATE")
                .map_err(backend)?;
            for same_stream in rows.chunk_by(|a, b| a.0 == b.0) {
                let (stream, first_version, _) = same_stream[0];
                let first = self.next_position.get();
                let events = same_stream.iter().map(|r| r.2);
                for (i, e) in events.clone().enumerate() {
                    id.execute(rusqlite::params![
                        e.id.as_bytes().as_slice(),
                        (first + i as u64) as i64
                    ])
                    .map_err(backend)?;
                }
                append
                    .execute(rusqlite::params![
                        first as i64,
                        stream,
                        first_version as i64,
                        same_stream.len() as i64,
                        codec::pack(events),
                    ])
                    .map_err(backend)?;
                self.next_position.set(first + same_stream.len() as u64);
            }
            self.conn.execute_batch("COMMIT").map_err(backend)?;
        }
        Ok(start.elapsed())
    }
}
