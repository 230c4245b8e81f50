//! The writer: group commit of queued appends on the writer thread, and a lone writer's
//! append committed on its caller's thread.

use rusqlite::{Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};
use uuid::Uuid;

use super::queue::{Queue, SPIN};
use super::{backend, codec, BUSY_TIMEOUT};
use crate::store::{Append, AppendResult, NewEvent, Position, StoreError};

/// Upper bound of events per group commit, so one huge queue does not hold the lock long.
const MAX_EVENTS_PER_COMMIT: usize = 20_000;
/// Longest a commit waits for more writers to join it.
const COMMIT_DELAY: Duration = Duration::from_micros(300);

pub(super) struct WriteRequest {
    pub append: Append,
    pub reply: oneshot::Sender<Result<AppendResult, StoreError>>,
}

/// The writing connection and what it remembers between transactions.
struct Writing {
    conn: Connection,
    versions: VersionCache,
}

/// What the writer thread and the store's handles share: the one writing connection,
/// taken by whoever commits, and the last committed position.
pub(super) struct Writer {
    writing: Mutex<Writing>,
    /// The last commit served one request: a lone writer, whose next append is committed
    /// on its own thread rather than handed to the writer thread and answered back.
    lone: AtomicBool,
    committed: watch::Sender<Position>,
}

impl Writer {
    pub fn new(conn: Connection, committed: watch::Sender<Position>) -> Self {
        Writer {
            writing: Mutex::new(Writing {
                conn,
                versions: VersionCache::default(),
            }),
            lone: AtomicBool::new(true),
            committed,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Writing> {
        self.writing.lock().unwrap_or_else(recover)
    }

    /// Commits `append` on the calling thread when nothing else is writing: the last
    /// commit served one request, nothing is queued and the connection is free. A lone
    /// writer's append then costs what a raw commit costs, without the two thread
    /// wake-ups of a hand-over to the writer thread and back. The caller's thread waits
    /// for one sync, as it would have waited for the answer; with other writers about,
    /// appends go to the writer thread, which commits them together.
    ///
    /// `None` when it cannot, or when another process holds the file's write lock: the
    /// wait for that is the writer thread's, never an async worker's.
    pub fn commit_here(
        &self,
        queue: &Queue,
        append: &Append,
    ) -> Option<Result<AppendResult, StoreError>> {
        if !self.lone.load(Ordering::Relaxed) || !queue.is_empty() {
            return None;
        }
        let mut writing = match self.writing.try_lock() {
            Ok(writing) => writing,
            Err(TryLockError::WouldBlock) => return None,
            Err(TryLockError::Poisoned(poisoned)) => recover(poisoned),
        };
        let Writing { conn, versions } = &mut *writing;
        conn.busy_timeout(Duration::ZERO).ok()?;
        let begun = Transaction::new_unchecked(conn, TransactionBehavior::Immediate);
        // SQLite refuses a busy timeout only when misused; the writer thread's is restored
        // before anything else happens.
        let restored = conn.busy_timeout(BUSY_TIMEOUT);
        // Busy (or failing): the writer thread waits for the lock, or reports the failure.
        let tx = begun.ok()?;
        restored.ok()?; // dropping `tx` rolls back; nothing was written
        let result = match write_group(tx, versions, &mut vec![append], |_, _| Vec::new()) {
            Ok(mut results) => results
                .pop()
                .unwrap_or_else(|| Err(StoreError::Backend("the commit gave no answer".into()))),
            Err(e) => {
                versions.clear();
                Err(unavailable(&e))
            }
        };
        drop(writing);
        self.publish(std::slice::from_ref(&result));
        Some(result)
    }

    /// Wakes subscriptions for what `results` committed.
    fn publish(&self, results: &[Result<AppendResult, StoreError>]) {
        let last = results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|r| r.last_position)
            .max();
        if let Some(last) = last {
            self.committed.send_if_modified(|p| {
                let newer = last > *p;
                *p = (*p).max(last);
                newer
            });
        }
    }
}

/// The writing connection after a panic while it was held: SQLite rolled the transaction
/// back, so what the cache says may be wrong.
fn recover(poisoned: std::sync::PoisonError<MutexGuard<'_, Writing>>) -> MutexGuard<'_, Writing> {
    let mut writing = poisoned.into_inner();
    writing.versions.clear();
    writing
}

/// The writer thread: commits what is queued, in groups, until the queue closes.
pub(super) fn run(writer: &Writer, requests: &Queue) {
    let mut last_group = 1;
    let mut spin = true;
    loop {
        // When the previous commit served several writers, they are probably about to
        // send again: wait up to `COMMIT_DELAY` for as many, so one sync serves them all
        // (PostgreSQL's commit_delay). A lone writer never waits. The delay counts from
        // the end of the previous commit, so a request after a quiet spell goes at once.
        let looked = Instant::now();
        let deadline = looked + COMMIT_DELAY;
        let Some(first) = requests.first(spin, MAX_EVENTS_PER_COMMIT) else {
            return; // closed, and everything queued is committed
        };
        // Requests that come within a spin of the writer looking for them are worth
        // spinning for next time; when they stop coming that fast, the writer sleeps.
        spin = looked.elapsed() <= SPIN;
        let (group, results) =
            commit_group(&mut writer.lock(), requests, first, last_group, deadline);
        last_group = group.len();
        writer.lone.store(last_group == 1, Ordering::Relaxed);
        writer.publish(&results);
        for (request, result) in group.into_iter().zip(results) {
            // The caller may have given up waiting; its append is durable all the same.
            let _ = request.reply.send(result);
        }
    }
}

/// Writes `group` and the requests that join it into one transaction and commits it;
/// returns every request of the group with its answer. Requests join while the group has
/// fewer than `wanted` and `deadline` has not passed: each is written as it comes, so the
/// rows of the first writers are inserted while the last ones are still sending.
fn commit_group(
    writing: &mut Writing,
    queue: &Queue,
    mut group: Vec<WriteRequest>,
    wanted: usize,
    deadline: Instant,
) -> (Vec<WriteRequest>, Vec<Result<AppendResult, StoreError>>) {
    let Writing { conn, versions } = writing;
    let written = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)
        .and_then(|tx| {
            write_group(tx, versions, &mut group, |members, events| {
                if members >= wanted || events >= MAX_EVENTS_PER_COMMIT {
                    return Vec::new();
                }
                let missing = wanted - members;
                queue.more(
                    deadline,
                    missing.min(JOIN_IN),
                    MAX_EVENTS_PER_COMMIT - events,
                )
            })
        });
    match written {
        Ok(results) => (group, results),
        Err(e) => {
            versions.clear();
            let results = group.iter().map(|_| Err(unavailable(&e))).collect();
            (group, results)
        }
    }
}

/// A storage failure as every request of the failed transaction is told it.
fn unavailable(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        other => StoreError::Unavailable(other.to_string()),
    }
}

/// How many more requests the writer sleeps for when it has written every queued one
/// and its group is not complete: a few, so it goes on inserting while the rest arrive,
/// without a wake-up per request.
const JOIN_IN: usize = 8;

/// Writes `group`, and what `join` adds while it is written (given how many requests and
/// events are written so far; empty when the group is complete), in `tx`, and commits.
///
/// Each request is checked (retry, expected version) before anything of it is written, so
/// a refused request leaves no trace without the cost of a savepoint. If a write or the
/// commit itself fails, the whole transaction rolls back and the error is returned for
/// every request of the group: nothing half-written remains.
fn write_group<R: AsRef<Append>>(
    tx: Transaction<'_>,
    versions: &mut VersionCache,
    group: &mut Vec<R>,
    mut join: impl FnMut(usize, usize) -> Vec<R>,
) -> Result<Vec<Result<AppendResult, StoreError>>, StoreError> {
    versions.revalidate(&tx)?;
    let mut next = versions.next_position(&tx)?;
    let mut results = Vec::with_capacity(group.len());
    let mut events = 0;
    loop {
        for request in &group[results.len()..] {
            // A storage failure returns here and drops `tx`: everything rolls back.
            results.push(apply(&tx, versions, &mut next, request.as_ref())?);
            events += request.as_ref().events.len();
        }
        let more = join(group.len(), events);
        if more.is_empty() {
            break;
        }
        group.extend(more);
    }
    tx.commit().map_err(backend)?;
    versions.next = Some(next);
    Ok(results)
}

impl AsRef<Append> for Append {
    fn as_ref(&self) -> &Append {
        self
    }
}

impl AsRef<Append> for WriteRequest {
    fn as_ref(&self) -> &Append {
        &self.append
    }
}

/// The last version of recently written streams, so an append needs no lookup, and the
/// position the next append starts at. Both are forgotten whenever another connection
/// (another process) committed since our last look, which SQLite's `data_version` tells,
/// and whenever our own transaction rolled back.
#[derive(Default)]
struct VersionCache {
    versions: HashMap<String, Option<u64>>,
    next: Option<u64>,
    data_version: Option<i64>,
}

impl VersionCache {
    const MAX_STREAMS: usize = 100_000;

    fn clear(&mut self) {
        self.versions.clear();
        self.next = None;
        self.data_version = None;
    }

    fn revalidate(&mut self, conn: &Connection) -> Result<(), StoreError> {
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

    fn next_position(&mut self, conn: &Connection) -> Result<u64, StoreError> {
        match self.next {
            Some(next) => Ok(next),
            None => super::next_position(conn),
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
fn apply(
    conn: &Connection,
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
    match insert_ids(conn, first, &request.events) {
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
    conn.prepare_cached(include_str!("sql/insert_append.sql"))
        .and_then(|mut s| {
            s.execute(rusqlite::params![
                first as i64,
                request.stream,
                first_version as i64,
                count as i64,
                codec::pack(request.events.iter()),
            ])
        })
        .map_err(backend)?;
    *next += count;
    let last_version = first_version + count - 1;
    versions
        .versions
        .insert(request.stream.clone(), Some(last_version));
    Ok(Ok(AppendResult {
        last_version,
        first_position: Position::at(first),
        last_position: Position::at(first + count - 1),
    }))
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
fn insert_ids(conn: &Connection, first: u64, events: &[NewEvent]) -> Result<(), rusqlite::Error> {
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
            let mut stmt =
                conn.prepare_cached("INSERT INTO event_ids (event_id, position) VALUES (?1, ?2)")?;
            for event in chunk {
                let position = (first + inserted as u64) as i64;
                stmt.execute(rusqlite::params![event.id.as_bytes().as_slice(), position])?;
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
