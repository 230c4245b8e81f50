//! The writer thread: group commit of queued appends.

use rusqlite::{Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior};
use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

use super::{backend, codec};
use crate::store::{AppendResult, ExpectedVersion, NewEvent, Position, StoreError};

/// Upper bound of events per group commit, so one huge queue does not hold the lock long.
const MAX_EVENTS_PER_COMMIT: usize = 20_000;

pub(super) struct WriteRequest {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
    pub reply: oneshot::Sender<Result<AppendResult, StoreError>>,
}

pub(super) fn run(
    mut conn: Connection,
    mut requests: mpsc::UnboundedReceiver<WriteRequest>,
    committed: watch::Sender<Position>,
) {
    while let Some(first) = requests.blocking_recv() {
        let mut queued = first.events.len();
        let mut batch = vec![first];
        while queued < MAX_EVENTS_PER_COMMIT {
            match requests.try_recv() {
                Ok(next) => {
                    queued += next.events.len();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let results = commit(&mut conn, &batch);
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

/// Commits the batch in one transaction, each request in its own savepoint.
/// If the commit itself fails, every request fails and nothing is stored.
fn commit(conn: &mut Connection, batch: &[WriteRequest]) -> Vec<Result<AppendResult, StoreError>> {
    let fail_all = |e: StoreError| {
        batch
            .iter()
            .map(|_| Err(StoreError::Unavailable(e.to_string())))
            .collect()
    };
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return fail_all(backend(e)),
    };
    let mut results = Vec::with_capacity(batch.len());
    for request in batch {
        results.push(apply_in_savepoint(&mut tx, request));
    }
    if let Err(e) = tx.commit() {
        return fail_all(backend(e));
    }
    results
}

fn apply_in_savepoint(
    tx: &mut Transaction<'_>,
    request: &WriteRequest,
) -> Result<AppendResult, StoreError> {
    let outcome = {
        let sp = tx.savepoint().map_err(backend)?;
        match apply(&sp, request) {
            Ok(result) => {
                sp.commit().map_err(backend)?;
                return Ok(result);
            }
            Err(e) => e, // dropping the savepoint rolls it back
        }
    };
    match outcome {
        Attempt::Duplicate | Attempt::Conflict { .. } => match find_existing(tx, request)? {
            Some(original) => Ok(original),
            None => match outcome {
                Attempt::Conflict { actual } => Err(StoreError::WrongExpectedVersion {
                    stream: request.stream.clone(),
                    expected: request.expected,
                    actual,
                }),
                _ => Err(StoreError::Backend("duplicate event id vanished".into())),
            },
        },
        Attempt::Failed(e) => Err(e),
    }
}

enum Attempt {
    /// An event id is already stored: maybe a retry.
    Duplicate,
    /// The stream is not at the expected version: maybe a retry.
    Conflict {
        actual: Option<u64>,
    },
    Failed(StoreError),
}

impl From<rusqlite::Error> for Attempt {
    fn from(e: rusqlite::Error) -> Self {
        Attempt::Failed(backend(e))
    }
}

fn apply(conn: &Connection, request: &WriteRequest) -> Result<AppendResult, Attempt> {
    let current: Option<u64> = conn
        .prepare_cached("SELECT version FROM streams WHERE stream = ?1")?
        .query_row([&request.stream], |r| r.get::<_, i64>(0))
        .optional()?
        .map(|v| v as u64);
    if !request.expected.admits(current) {
        return Err(Attempt::Conflict { actual: current });
    }
    let mut insert = conn.prepare_cached(include_str!("sql/insert_event.sql"))?;
    let mut version = current.map_or(0, |v| v + 1);
    let mut first_position = None;
    let mut last_position = Position::default();
    for event in &request.events {
        let m = &event.metadata;
        let inserted = insert.execute(rusqlite::params![
            event.id.as_bytes().as_slice(),
            request.stream,
            version as i64,
            event.event_type,
            event.schema_version,
            event.data,
            codec::actor_column(&m.actor),
            m.correlation_id.as_bytes().as_slice(),
            m.causation_id.as_ref().map(|c| c.as_bytes().to_vec()),
            m.at.timestamp_micros(),
        ]);
        match inserted {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == ErrorCode::ConstraintViolation =>
            {
                return Err(Attempt::Duplicate)
            }
            Err(e) => return Err(e.into()),
        }
        last_position = Position::at(conn.last_insert_rowid() as u64);
        first_position.get_or_insert(last_position);
        version += 1;
    }
    let last_version = version - 1;
    conn.prepare_cached(include_str!("sql/upsert_stream.sql"))?
        .execute(rusqlite::params![request.stream, last_version as i64])?;
    Ok(AppendResult {
        last_version,
        first_position: first_position.unwrap_or(last_position),
        last_position,
    })
}

/// If the request's events are already stored (a retry), the original result; if none
/// is stored, `None`; if only some are, or elsewhere, an idempotency conflict.
fn find_existing(
    conn: &Connection,
    request: &WriteRequest,
) -> Result<Option<AppendResult>, StoreError> {
    let mut lookup = conn
        .prepare_cached(include_str!("sql/select_by_id.sql"))
        .map_err(backend)?;
    let mut found: Vec<(Uuid, Option<(Position, String, u64)>)> = Vec::new();
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
