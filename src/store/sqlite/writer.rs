//! The writer: group commit of queued appends on the writer thread, and a lone writer's
//! append committed on its caller's thread.

use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};

use super::apply::{apply, Inserts, VersionCache};
use super::queue::{Queue, SPIN};
use super::{backend, BUSY_TIMEOUT};
use crate::store::{Append, AppendResult, Position, StoreError};

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

    /// The writer thread has taken requests off the queue and wants the connection: no
    /// append is committed on its caller's thread until the writer thread's commit says
    /// whether it served one request or several. Without this, a writer whose appends
    /// followed each other faster than the writer thread woke for the lock took the
    /// connection again and again, a sync each time, while the group already taken
    /// waited: `bench store` caught one writer committing all 50 appends of its slice
    /// that way while 63 others waited.
    fn claim(&self) {
        self.lone.store(false, Ordering::Relaxed);
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
        writer.claim();
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
    let mut inserts = Inserts::prepare(&tx)?;
    let mut results = Vec::with_capacity(group.len());
    let mut events = 0;
    loop {
        for request in &group[results.len()..] {
            // A storage failure returns here and drops `tx`: everything rolls back.
            let result = apply(&tx, &mut inserts, versions, &mut next, request.as_ref())?;
            results.push(result);
            events += request.as_ref().events.len();
        }
        let more = join(group.len(), events);
        if more.is_empty() {
            break;
        }
        group.extend(more);
    }
    drop(inserts); // back into the connection's cache, before `tx` is consumed
    tx.commit().map_err(backend)?;
    versions.committed(next);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ExpectedVersion, Position};

    fn append(n: u64) -> Append {
        Append {
            stream: format!("s-{n}"),
            expected: ExpectedVersion::Any,
            events: vec![crate::bench::store::sample_event(n)],
        }
    }

    #[test]
    fn a_claimed_connection_is_not_taken_by_a_callers_thread() {
        let dir = std::env::temp_dir().join(format!("domreg-writer-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let conn = super::super::open_connection(&dir.join("events.db"), false).unwrap();
        super::super::migrate::migrate(&conn).unwrap();
        let writer = Writer::new(conn, watch::channel(Position::default()).0);
        let queue = Queue::default();

        // A lone writer with nothing queued commits on its own thread.
        let here = writer.commit_here(&queue, &append(0));
        assert!(matches!(here, Some(Ok(_))), "{here:?}");

        // Once the writer thread has taken a group (the queue is empty again and the
        // lock still free), the caller's append goes to the queue instead.
        writer.claim();
        assert!(writer.commit_here(&queue, &append(1)).is_none());
        let appends: i64 = writer
            .lock()
            .conn
            .query_row("SELECT count(*) FROM appends", [], |r| r.get(0))
            .unwrap();
        assert_eq!(appends, 1, "only the first append was written");
        std::fs::remove_dir_all(&dir).ok();
    }
}
