//! The writer thread: group commit of queued appends.

use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior};
use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

use tokio::sync::{oneshot, watch};
use uuid::Uuid;

use super::queue::Queue;
use super::{backend, codec};
use crate::store::{AppendResult, ExpectedVersion, NewEvent, Position, StoreError};

/// Upper bound of events per group commit, so one huge queue does not hold the lock long.
const MAX_EVENTS_PER_COMMIT: usize = 20_000;
/// Longest a commit waits for more writers to join it.
const COMMIT_DELAY: Duration = Duration::from_micros(300);

pub(super) struct WriteRequest {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
    pub reply: oneshot::Sender<Result<AppendResult, StoreError>>,
}

pub(super) fn run(mut conn: Connection, requests: &Queue, committed: watch::Sender<Position>) {
    let mut last_batch = 1;
    let mut versions = VersionCache::default();
    // When the previous commit served several writers, they are probably about to send
    // again: wait up to `COMMIT_DELAY` for as many, so one sync serves them all
    // (PostgreSQL's commit_delay). A lone writer never waits.
    while let Some(batch) = requests.next_group(last_batch, COMMIT_DELAY, MAX_EVENTS_PER_COMMIT) {
        last_batch = batch.len();
        let results = commit(&mut conn, &mut versions, &batch);
        if let Some(last) = results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|r| r.last_position)
            .max()
        {
            committed.send_if_modified(|p| {
                let newer = last > *p;
                *p = (*p).max(last);
                newer
            });
        }
        for (request, result) in batch.into_iter().zip(results) {
            // The caller may have given up waiting; its append is durable all the same.
            let _ = request.reply.send(result);
        }
    }
}

/// Commits the batch in one transaction. Each request is checked (retry, expected version)
/// before anything of it is written, so a refused request leaves no trace without the
/// cost of a savepoint. If a write or the commit itself fails, the whole transaction rolls
/// back and every request of the batch fails: nothing half-written remains.
fn commit(
    conn: &mut Connection,
    versions: &mut VersionCache,
    batch: &[WriteRequest],
) -> Vec<Result<AppendResult, StoreError>> {
    let fail_all = |versions: &mut VersionCache, e: StoreError| {
        versions.clear();
        let message = match &e {
            StoreError::Unavailable(m) => m.clone(),
            other => other.to_string(),
        };
        batch
            .iter()
            .map(|_| Err(StoreError::Unavailable(message.clone())))
            .collect()
    };
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return fail_all(versions, backend(e)),
    };
    if let Err(e) = versions.revalidate(&tx) {
        drop(tx);
        return fail_all(versions, e);
    }
    let mut results = Vec::with_capacity(batch.len());
    for request in batch {
        match apply(&tx, versions, request) {
            Ok(result) => results.push(result),
            Err(e) => {
                drop(tx); // rolls everything back
                return fail_all(versions, e);
            }
        }
    }
    if let Err(e) = tx.commit() {
        return fail_all(versions, backend(e));
    }
    results
}

/// The last version of recently written streams, so an append needs no lookup. It is
/// emptied whenever another connection (another process) committed since our last look,
/// which SQLite's `data_version` tells, and whenever our own transaction rolled back.
#[derive(Default)]
struct VersionCache {
    versions: HashMap<String, Option<u64>>,
    data_version: Option<i64>,
}

impl VersionCache {
    const MAX_STREAMS: usize = 100_000;

    fn clear(&mut self) {
        self.versions.clear();
        self.data_version = None;
    }

    fn revalidate(&mut self, conn: &Connection) -> Result<(), StoreError> {
        let now: i64 = conn
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(backend)?;
        if self.data_version != Some(now) || self.versions.len() > Self::MAX_STREAMS {
            self.versions.clear();
        }
        self.data_version = Some(now);
        Ok(())
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

/// Checks and writes one request. The outer `Result` is a storage failure that must abort
/// the transaction; the inner one is this request's own answer.
///
/// The common case costs one version lookup and one insert per event: a retry is noticed
/// by the version check or by the id index refusing a stored id, and only then are the
/// ids looked up. Rows this request inserted before such a refusal are deleted again, so
/// the request leaves no trace (positions are `max + 1`, so no gap opens either).
fn apply(
    conn: &Connection,
    versions: &mut VersionCache,
    request: &WriteRequest,
) -> Result<Result<AppendResult, StoreError>, StoreError> {
    let current = versions.current(conn, &request.stream)?;
    if !request.expected.admits(current) {
        return retry_or(conn, request, || StoreError::WrongExpectedVersion {
            stream: request.stream.clone(),
            expected: request.expected,
            actual: current,
        });
    }
    let mut version = current.map_or(0, |v| v + 1);
    let mut first_position: Option<Position> = None;
    let mut last_position = Position::default();
    for chunk in request.events.chunks(ROWS_PER_INSERT) {
        let inserted = if chunk.len() == ROWS_PER_INSERT {
            insert_rows(conn, &MULTI_ROW_INSERT, &request.stream, version, chunk)
        } else {
            chunk.iter().enumerate().try_for_each(|(i, event)| {
                let single = include_str!("sql/insert_event.sql");
                insert_rows(
                    conn,
                    single,
                    &request.stream,
                    version + i as u64,
                    std::slice::from_ref(event),
                )
            })
        };
        match inserted {
            Ok(()) => {}
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == ErrorCode::ConstraintViolation =>
            {
                // A stored id: undo this request's rows, then see whether it is a retry.
                if let Some(first) = first_position {
                    conn.prepare_cached("DELETE FROM events WHERE position >= ?1")
                        .and_then(|mut s| s.execute([first.commit as i64]))
                        .map_err(backend)?;
                }
                return retry_or(conn, request, || StoreError::IdempotencyConflict {
                    event_id: chunk[0].id,
                    detail: "the id index refused it but it cannot be found".into(),
                });
            }
            Err(e) => return Err(backend(e)),
        }
        let last = conn.last_insert_rowid() as u64;
        first_position.get_or_insert(Position::at(last + 1 - chunk.len() as u64));
        last_position = Position::at(last);
        version += chunk.len() as u64;
    }
    versions
        .versions
        .insert(request.stream.clone(), Some(version - 1));
    Ok(Ok(AppendResult {
        last_version: version - 1,
        first_position: first_position.unwrap_or(last_position),
        last_position,
    }))
}

/// The answer to a request that could not be written as new: the original result if it is
/// a retry, an idempotency conflict if it overlaps stored events, otherwise `refusal()`.
/// Only storage failures are returned as the outer error.
fn retry_or(
    conn: &Connection,
    request: &WriteRequest,
    refusal: impl FnOnce() -> StoreError,
) -> Result<Result<AppendResult, StoreError>, StoreError> {
    match find_existing(conn, request) {
        Ok(Some(original)) => Ok(Ok(original)),
        Ok(None) => Ok(Err(refusal())),
        Err(conflict @ StoreError::IdempotencyConflict { .. }) => Ok(Err(conflict)),
        Err(storage) => Err(storage),
    }
}

/// Rows per multi-row INSERT: one statement step per chunk instead of per event.
const ROWS_PER_INSERT: usize = 20;
const COLUMNS: usize = 10;

static MULTI_ROW_INSERT: LazyLock<String> = LazyLock::new(|| {
    let single = include_str!("sql/insert_event.sql");
    let head = single.split("VALUES").next().unwrap_or(single);
    let rows: Vec<String> = (0..ROWS_PER_INSERT)
        .map(|r| {
            let params: Vec<String> = (1..=COLUMNS)
                .map(|c| format!("?{}", r * COLUMNS + c))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    format!("{head}VALUES {}", rows.join(",\n       "))
});

/// Inserts `events` with consecutive versions from `version` using `sql`, which has one
/// row of `COLUMNS` parameters per event.
fn insert_rows(
    conn: &Connection,
    sql: &str,
    stream: &str,
    version: u64,
    events: &[NewEvent],
) -> Result<(), rusqlite::Error> {
    let mut stmt = conn.prepare_cached(sql)?;
    for (r, event) in events.iter().enumerate() {
        let base = r * COLUMNS;
        let m = &event.metadata;
        stmt.raw_bind_parameter(base + 1, event.id.as_bytes().as_slice())?;
        stmt.raw_bind_parameter(base + 2, stream)?;
        stmt.raw_bind_parameter(base + 3, (version + r as u64) as i64)?;
        stmt.raw_bind_parameter(base + 4, event.event_type.as_str())?;
        stmt.raw_bind_parameter(base + 5, event.schema_version)?;
        stmt.raw_bind_parameter(base + 6, event.data.as_slice())?;
        stmt.raw_bind_parameter(base + 7, codec::actor_column(&m.actor))?;
        stmt.raw_bind_parameter(base + 8, m.correlation_id.as_bytes().as_slice())?;
        stmt.raw_bind_parameter(
            base + 9,
            m.causation_id.as_ref().map(|c| c.as_bytes().as_slice()),
        )?;
        stmt.raw_bind_parameter(base + 10, m.at.timestamp_micros())?;
    }
    stmt.raw_execute().map(drop)
}

/// Where an event id is stored: position, stream, version.
type StoredAt = (Position, String, u64);

/// If the request's events are already stored (a retry), the original result; if none
/// is stored, `None`; if only some are, or elsewhere, an idempotency conflict.
fn find_existing(
    conn: &Connection,
    request: &WriteRequest,
) -> Result<Option<AppendResult>, StoreError> {
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
