//! One request inside the writer's transaction: the cached stream versions and next
//! position, the expected-version and retry checks, and the request's id and append rows.

use rusqlite::{CachedStatement, Connection, ErrorCode, OptionalExtension};
use std::collections::HashMap;
use std::sync::LazyLock;

use uuid::Uuid;

use super::{backend, codec};
use crate::store::{Append, AppendResult, NewEvent, Position, StoreError};

/// The last version of recently written streams, so an append needs no lookup, and the
/// position the next append starts at. Both are forgotten whenever another connection
/// (another process) committed since our last look, which SQLite's `data_version` tells,
/// and whenever our own transaction rolled back.
#[derive(Default)]
pub(super) struct VersionCache {
    versions: HashMap<String, Option<u64>>,
    next: Option<u64>,
    data_version: Option<i64>,
}

impl VersionCache {
    const MAX_STREAMS: usize = 100_000;

    pub(super) fn clear(&mut self) {
        self.versions.clear();
        self.next = None;
        self.data_version = None;
    }

    pub(super) fn revalidate(&mut self, conn: &Connection) -> Result<(), StoreError> {
        let now: i64 = conn
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(backend)?;
        if self.data_version != Some(now) {
            self.clear();
        } else if self.versions.len() > Self::MAX_STREAMS {
            self.versions.clear();
        }
        self.data_version = Some(now);
        Ok(())
    }

    /// The position after the last append of a transaction that committed.
    pub(super) fn committed(&mut self, next: u64) {
        self.next = Some(next);
    }

    pub(super) fn next_position(&mut self, conn: &Connection) -> Result<u64, StoreError> {
        match self.next {
            Some(next) => Ok(next),
            None => super::next_position(conn),
        }
    }

    /// `stream`'s last version is now `version` (in place when the stream is known, so a
    /// busy stream's name is not copied again for every append).
    fn written(&mut self, stream: &str, version: u64) {
        match self.versions.get_mut(stream) {
            Some(v) => *v = Some(version),
            None => {
                self.versions.insert(stream.to_string(), Some(version));
            }
        }
    }

    fn current(&mut self, conn: &Connection, stream: &str) -> Result<Option<u64>, StoreError> {
        if let Some(v) = self.versions.get(stream) {
            return Ok(*v);
        }
        let v = conn
            .prepare_cached(include_str!("sql/select_stream_version.sql"))
            .and_then(|mut s| s.query_row([stream], |r| r.get::<_, i64>(0)).optional())
            .map_err(backend)?
            .map(|v| v as u64);
        self.versions.insert(stream.to_string(), v);
        Ok(v)
    }
}

/// Checks and writes one request as one row of `appends` at `*next`, its events' ids in
/// `event_ids`. The outer `Result` is a storage failure that must abort the transaction;
/// the inner one is this request's own answer.
///
/// The common case costs one version lookup, the ids' inserts and one row: a retry is
/// noticed by the version check or by the id index refusing a stored id, and only then
/// are the ids looked up. Ids this request inserted before such a refusal are deleted
/// again, so the request leaves no trace (and `*next` moves only for a written append, so
/// no gap opens either).
pub(super) fn apply(
    conn: &Connection,
    inserts: &mut Inserts<'_>,
    versions: &mut VersionCache,
    next: &mut u64,
    request: &Append,
) -> Result<Result<AppendResult, StoreError>, StoreError> {
    let current = versions.current(conn, &request.stream)?;
    if !request.expected.admits(current) {
        return retry_or(conn, request, || StoreError::WrongExpectedVersion {
            stream: request.stream.clone(),
            expected: request.expected,
            actual: current,
        });
    }
    let first_version = current.map_or(0, |v| v + 1);
    let first = *next;
    match insert_ids(conn, &mut inserts.id, first, &request.events) {
        Ok(()) => {}
        Err(rusqlite::Error::SqliteFailure(f, _)) if f.code == ErrorCode::ConstraintViolation => {
            return retry_or(conn, request, || StoreError::IdempotencyConflict {
                event_id: request.events[0].id,
                detail: "the id index refused it but it cannot be found".into(),
            });
        }
        Err(e) => return Err(backend(e)),
    }
    let count = request.events.len() as u64;
    inserts
        .append
        .execute(rusqlite::params![
            first as i64,
            request.stream,
            first_version as i64,
            count as i64,
            codec::pack(request.events.iter()),
        ])
        .map_err(backend)?;
    *next += count;
    let last_version = first_version + count - 1;
    versions.written(&request.stream, last_version);
    Ok(Ok(AppendResult {
        last_version,
        first_position: Position::at(first),
        last_position: Position::at(first + count - 1),
    }))
}

/// The two statements every append runs, prepared once per transaction rather than
/// looked up in the statement cache for every request of a group (each lookup hashes
/// the SQL text twice: out of the cache and back in).
pub(super) struct Inserts<'c> {
    id: CachedStatement<'c>,
    append: CachedStatement<'c>,
}

impl<'c> Inserts<'c> {
    pub(super) fn prepare(conn: &'c Connection) -> Result<Self, StoreError> {
        Ok(Inserts {
            id: conn
                .prepare_cached("INSERT INTO event_ids (event_id, position) VALUES (?1, ?2)")
                .map_err(backend)?,
            append: conn
                .prepare_cached(include_str!("sql/insert_append.sql"))
                .map_err(backend)?,
        })
    }
}

/// Ids per multi-row INSERT into `event_ids`: one statement step per chunk, not per event.
const IDS_PER_INSERT: usize = 50;

static MULTI_ID_INSERT: LazyLock<String> = LazyLock::new(|| {
    let rows: Vec<String> = (0..IDS_PER_INSERT)
        .map(|r| format!("(?{}, ?{})", 2 * r + 1, 2 * r + 2))
        .collect();
    format!(
        "INSERT INTO event_ids (event_id, position) VALUES {}",
        rows.join(", ")
    )
});

/// Inserts the ids of `events` at positions from `first`. A refused multi-row chunk is
/// undone by SQLite (statement rollback); the ids inserted before it are deleted here, so
/// a refusal leaves none of this request's ids and never touches a stored one.
fn insert_ids(
    conn: &Connection,
    insert_id: &mut CachedStatement<'_>,
    first: u64,
    events: &[NewEvent],
) -> Result<(), rusqlite::Error> {
    let mut inserted = 0;
    let outcome = events.chunks(IDS_PER_INSERT).try_for_each(|chunk| {
        if chunk.len() == IDS_PER_INSERT {
            let mut stmt = conn.prepare_cached(&MULTI_ID_INSERT)?;
            for (r, event) in chunk.iter().enumerate() {
                stmt.raw_bind_parameter(2 * r + 1, event.id.as_bytes().as_slice())?;
                stmt.raw_bind_parameter(2 * r + 2, (first + (inserted + r) as u64) as i64)?;
            }
            stmt.raw_execute()?;
            inserted += chunk.len();
        } else {
            for event in chunk {
                let position = (first + inserted as u64) as i64;
                insert_id.execute(rusqlite::params![event.id.as_bytes().as_slice(), position])?;
                inserted += 1;
            }
        }
        Ok(())
    });
    if let Err(refused) = outcome {
        let mut delete = conn.prepare_cached("DELETE FROM event_ids WHERE event_id = ?1")?;
        for event in &events[..inserted] {
            delete.execute([event.id.as_bytes().as_slice()])?;
        }
        return Err(refused);
    }
    Ok(())
}

/// The answer to a request that could not be written as new: the original result if it is
/// a retry, an idempotency conflict if it overlaps stored events, otherwise `refusal()`.
/// Only storage failures are returned as the outer error.
fn retry_or(
    conn: &Connection,
    request: &Append,
    refusal: impl FnOnce() -> StoreError,
) -> Result<Result<AppendResult, StoreError>, StoreError> {
    match find_existing(conn, request) {
        Ok(Some(original)) => Ok(Ok(original)),
        Ok(None) => Ok(Err(refusal())),
        Err(conflict @ StoreError::IdempotencyConflict { .. }) => Ok(Err(conflict)),
        Err(storage) => Err(storage),
    }
}

/// Where an event id is stored: position, stream, version.
type StoredAt = (Position, String, u64);

/// If the request's events are already stored (a retry), the original result; if none
/// is stored, `None`; if only some are, or elsewhere, an idempotency conflict.
fn find_existing(conn: &Connection, request: &Append) -> Result<Option<AppendResult>, StoreError> {
    let mut lookup = conn
        .prepare_cached(include_str!("sql/select_by_id.sql"))
        .map_err(backend)?;
    let mut found: Vec<(Uuid, Option<StoredAt>)> = Vec::new();
    for event in &request.events {
        let row = lookup
            .query_row([event.id.as_bytes().as_slice()], |r| {
                Ok((
                    Position::at(r.get::<_, i64>(0)? as u64),
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)? as u64,
                ))
            })
            .optional()
            .map_err(backend)?;
        found.push((event.id, row));
    }
    if found.iter().all(|(_, row)| row.is_none()) {
        return Ok(None);
    }
    let conflict =
        |event_id: Uuid, detail: String| StoreError::IdempotencyConflict { event_id, detail };
    let mut previous: Option<(Position, u64)> = None;
    for (id, row) in &found {
        let Some((position, stream, version)) = row else {
            return Err(conflict(*id, "only part of this append is stored".into()));
        };
        if *stream != request.stream {
            return Err(conflict(*id, format!("it belongs to stream {stream}")));
        }
        if let Some((p, v)) = previous {
            if *version != v + 1 || *position <= p {
                return Err(conflict(*id, "stored in another order or append".into()));
            }
        }
        previous = Some((*position, *version));
    }
    let first = found.first().and_then(|(_, r)| r.as_ref());
    let last = found.last().and_then(|(_, r)| r.as_ref());
    Ok(match (first, last) {
        (Some(f), Some(l)) => Some(AppendResult {
            last_version: l.2,
            first_position: f.0,
            last_position: l.0,
        }),
        _ => None,
    })
}
