//! The writer task: group commit of queued appends in one transaction that holds the log
//! head's row lock, so positions are committed in the order they are taken.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};
use tokio_postgres::{Client, Statement, Transaction};
use uuid::Uuid;

use super::{backend, connect};
use crate::store::{AppendResult, ExpectedVersion, NewEvent, Position, StoreError};

/// Upper bound of events per transaction, so one huge queue does not hold the lock long.
const MAX_EVENTS_PER_COMMIT: usize = 20_000;
/// Turns given to other tasks with nothing new queued before a batch is closed.
const GATHER_QUIET_TURNS: usize = 8;

pub(super) struct WriteRequest {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
    pub reply: oneshot::Sender<Result<AppendResult, StoreError>>,
}

pub(super) async fn run(
    url: String,
    mut requests: mpsc::UnboundedReceiver<WriteRequest>,
    committed: Arc<watch::Sender<u64>>,
) {
    let mut writer: Option<Writer> = None;
    while let Some(first) = requests.recv().await {
        let mut queued = first.events.len();
        let mut batch = vec![first];
        // The writers answered by the last commit are runnable but have not all queued
        // their next append yet: give them turns while they keep arriving, so one
        // transaction carries them all rather than the first alone (then the rest, ...).
        // A lone writer costs a few yields, never a timer.
        let mut quiet_turns = 0;
        while queued < MAX_EVENTS_PER_COMMIT && quiet_turns < GATHER_QUIET_TURNS {
            match requests.try_recv() {
                Ok(next) => {
                    queued += next.events.len();
                    batch.push(next);
                    quiet_turns = 0;
                }
                Err(_) => {
                    quiet_turns += 1;
                    tokio::task::yield_now().await;
                }
            }
        }
        let results = match writer.as_mut().filter(|w| !w.client.is_closed()) {
            Some(w) => commit(w, &batch).await,
            None => match Writer::connect(&url).await {
                Ok(w) => commit(writer.insert(w), &batch).await,
                Err(e) => Err(e),
            },
        };
        let results = match results {
            Ok(results) => results,
            Err(e) => {
                // Rolled back: nothing of the batch was written. A broken connection is
                // opened again for the next batch.
                writer = None;
                let message = e.to_string();
                batch
                    .iter()
                    .map(|_| Err(StoreError::Unavailable(message.clone())))
                    .collect()
            }
        };
        if let Some(last) = results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|r| r.last_position.commit)
            .max()
        {
            committed.send_if_modified(|p| {
                let newer = last > *p;
                *p = (*p).max(last);
                newer
            });
        }
        for (request, result) in batch.into_iter().zip(results) {
            let _ = request.reply.send(result);
        }
    }
}

/// The writer's connection and its statements, prepared once (each unprepared query
/// would cost a round trip of its own to be parsed).
struct Writer {
    client: Client,
    lock: Statement,
    ids: Statement,
    versions: Statement,
    insert: Statement,
    head: Statement,
    notify: Statement,
}

impl Writer {
    async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = connect(url).await?;
        let (lock, ids, versions, insert, head, notify) = futures::try_join!(
            client.prepare("SELECT position FROM domreg_log_head WHERE id = 1 FOR UPDATE"),
            client.prepare("SELECT event_id, position, stream, version FROM domreg_events WHERE event_id = ANY($1)"),
            // One backward step down the (stream, version) index per stream: `max(version)
            // ... GROUP BY` would read every version of a long stream.
            client.prepare(
                "SELECT s.stream, (SELECT e.version FROM domreg_events e WHERE e.stream = s.stream ORDER BY e.version DESC LIMIT 1)
                 FROM UNNEST($1::text[]) AS s(stream)"
            ),
            client.prepare(
                "INSERT INTO domreg_events (position, event_id, stream, version, event_type, schema_version, data, actor, correlation_id, causation_id, at_micros)
                 SELECT * FROM UNNEST($1::bigint[], $2::bytea[], $3::text[], $4::bigint[], $5::text[], $6::int[], $7::bytea[], $8::text[], $9::bytea[], $10::bytea[], $11::bigint[])"
            ),
            client.prepare("UPDATE domreg_log_head SET position = $1 WHERE id = 1"),
            client.prepare("SELECT pg_notify($1, $2)"),
        )
        .map_err(backend)?;
        Ok(Writer {
            client,
            lock,
            ids,
            versions,
            insert,
            head,
            notify,
        })
    }
}

/// Where an event id is stored: position, stream, version.
type StoredAt = (u64, String, u64);

/// The columns of the rows to insert, one vector per column (sent as arrays to UNNEST).
#[derive(Default)]
struct Rows {
    position: Vec<i64>,
    id: Vec<Vec<u8>>,
    stream: Vec<String>,
    version: Vec<i64>,
    event_type: Vec<String>,
    schema_version: Vec<i32>,
    data: Vec<Vec<u8>>,
    actor: Vec<String>,
    correlation: Vec<Vec<u8>>,
    causation: Vec<Option<Vec<u8>>>,
    at: Vec<i64>,
}

impl Rows {
    fn push(&mut self, position: u64, stream: &str, version: u64, e: &NewEvent) {
        let m = &e.metadata;
        self.position.push(position as i64);
        self.id.push(e.id.as_bytes().to_vec());
        self.stream.push(stream.to_string());
        self.version.push(version as i64);
        self.event_type.push(e.event_type.clone());
        self.schema_version.push(e.schema_version as i32);
        self.data.push(e.data.clone());
        self.actor.push(crate::store::actor::actor_column(&m.actor));
        self.correlation.push(m.correlation_id.as_bytes().to_vec());
        self.causation
            .push(m.causation_id.map(|c| c.as_bytes().to_vec()));
        self.at.push(m.at.timestamp_micros());
    }
}

/// Commits the batch in one transaction: lock the head, look up every id and stream of
/// the batch at once, decide each request, insert the accepted rows in one statement,
/// move the head, notify, commit. About seven round trips, however many appends.
async fn commit(
    writer: &mut Writer,
    batch: &[WriteRequest],
) -> Result<Vec<Result<AppendResult, StoreError>>, StoreError> {
    let Writer {
        client,
        lock,
        ids,
        versions,
        insert,
        head,
        notify,
    } = writer;
    let tx = client.transaction().await.map_err(backend)?;
    // Pipelined on the one connection, run by the server in this order: the lookups
    // happen under the head lock.
    let locked = async { tx.query_one(&*lock, &[]).await.map_err(backend) };
    let (head_row, mut stored, mut versions) = futures::try_join!(
        locked,
        stored_ids(&tx, ids, batch),
        stream_versions(&tx, versions, batch)
    )?;
    let head_at = head_row.get::<_, i64>(0) as u64;
    let mut rows = Rows::default();
    let mut next = head_at + 1;
    let mut results = Vec::with_capacity(batch.len());
    for request in batch {
        if let Some(answer) = retry_answer(request, &stored) {
            results.push(answer);
            continue;
        }
        let current = versions.get(&request.stream).copied().flatten();
        if !request.expected.admits(current) {
            results.push(Err(StoreError::WrongExpectedVersion {
                stream: request.stream.clone(),
                expected: request.expected,
                actual: current,
            }));
            continue;
        }
        let first = next;
        let mut version = current.map_or(0, |v| v + 1);
        for e in &request.events {
            rows.push(next, &request.stream, version, e);
            stored.insert(e.id, (next, request.stream.clone(), version));
            next += 1;
            version += 1;
        }
        versions.insert(request.stream.clone(), Some(version - 1));
        results.push(Ok(AppendResult {
            last_version: version - 1,
            first_position: Position::at(first),
            last_position: Position::at(next - 1),
        }));
    }
    if !rows.position.is_empty() {
        let new_head = (next - 1) as i64;
        let payload = new_head.to_string();
        let columns: [&(dyn tokio_postgres::types::ToSql + Sync); 11] = [
            &rows.position,
            &rows.id,
            &rows.stream,
            &rows.version,
            &rows.event_type,
            &rows.schema_version,
            &rows.data,
            &rows.actor,
            &rows.correlation,
            &rows.causation,
            &rows.at,
        ];
        let head_param: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&new_head];
        let notify_params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] =
            [&super::CHANNEL, &payload];
        let inserted = tx.execute(&*insert, &columns);
        let moved = tx.execute(&*head, &head_param);
        // Delivered to every listener when (and only if) the transaction commits.
        let notified = tx.execute(&*notify, &notify_params);
        futures::try_join!(inserted, moved, notified).map_err(backend)?;
    }
    tx.commit().await.map_err(backend)?;
    Ok(results)
}

async fn stored_ids(
    tx: &Transaction<'_>,
    statement: &Statement,
    batch: &[WriteRequest],
) -> Result<HashMap<Uuid, StoredAt>, StoreError> {
    let ids: Vec<Vec<u8>> = batch
        .iter()
        .flat_map(|r| r.events.iter().map(|e| e.id.as_bytes().to_vec()))
        .collect();
    let rows = tx.query(statement, &[&ids]).await.map_err(backend)?;
    let mut found = HashMap::new();
    for row in rows {
        if let Ok(id) = Uuid::from_slice(row.get::<_, &[u8]>(0)) {
            found.insert(
                id,
                (
                    row.get::<_, i64>(1) as u64,
                    row.get::<_, String>(2),
                    row.get::<_, i64>(3) as u64,
                ),
            );
        }
    }
    Ok(found)
}

async fn stream_versions(
    tx: &Transaction<'_>,
    statement: &Statement,
    batch: &[WriteRequest],
) -> Result<HashMap<String, Option<u64>>, StoreError> {
    let mut streams: Vec<String> = batch.iter().map(|r| r.stream.clone()).collect();
    streams.sort();
    streams.dedup();
    let rows = tx.query(statement, &[&streams]).await.map_err(backend)?;
    Ok(rows
        .iter()
        .map(|row| {
            let version: Option<i64> = row.get(1);
            (row.get::<_, String>(0), version.map(|v| v as u64))
        })
        .collect())
}

/// A request whose events are already stored: the original result if it is exactly a
/// retry, an idempotency conflict if it overlaps stored events otherwise. `None` when
/// none of its events is stored.
fn retry_answer(
    request: &WriteRequest,
    stored: &HashMap<Uuid, StoredAt>,
) -> Option<Result<AppendResult, StoreError>> {
    let found: Vec<(Uuid, Option<&StoredAt>)> = request
        .events
        .iter()
        .map(|e| (e.id, stored.get(&e.id)))
        .collect();
    if found.iter().all(|(_, at)| at.is_none()) {
        return None;
    }
    let conflict = |event_id: Uuid, detail: String| {
        Some(Err(StoreError::IdempotencyConflict { event_id, detail }))
    };
    let mut previous: Option<(u64, u64)> = None;
    for (id, at) in &found {
        let Some((position, stream, version)) = at else {
            return conflict(*id, "only part of this append is stored".into());
        };
        if *stream != request.stream {
            return conflict(*id, format!("it belongs to stream {stream}"));
        }
        if let Some((p, v)) = previous {
            if *version != v + 1 || *position != p + 1 {
                return conflict(*id, "stored in another order or append".into());
            }
        }
        previous = Some((*position, *version));
    }
    let (first, last) = (found.first()?.1?, found.last()?.1?);
    Some(Ok(AppendResult {
        last_version: last.2,
        first_position: Position::at(first.0),
        last_position: Position::at(last.0),
    }))
}
