//! The event log on a PostgreSQL server (`postgres://user:password@host/db`), for
//! providers who run domreg on several machines or engines sharing one log.
//!
//! - **Order.** Positions come from one locked counter row per append transaction (see
//!   `schema.sql`), so they are committed in the order they are given: a catch-up reader
//!   that asks for "after N" never skips an event that committed late.
//! - **Writes.** One writer task per process gathers the appends queued while the last
//!   transaction ran and commits them together (group commit): each request is checked
//!   (idempotent retry by event id, expected version) before anything is written, so a
//!   refused request leaves no trace and a failed transaction leaves nothing at all.
//! - **Subscriptions** wake on `NOTIFY domreg_events`, sent inside the committing
//!   transaction (PostgreSQL delivers it at commit), by this process or any other; a
//!   slow poll covers a listener that is reconnecting.

mod listen;
mod peers;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, watch, Mutex};
use tokio_postgres::{Client, NoTls, Row};
use uuid::Uuid;

use super::{
    AppendResult, EventStore, EventStream, ExpectedVersion, NewEvent, Position, RecordedEvent,
    StoreError,
};
use domreg_events::EventMetadata;

/// The channel appends are announced on.
const CHANNEL: &str = "domreg_events";
/// Read connections per process (opened when first needed).
const READERS: usize = 2;
/// A missed notification (the listener reconnecting) is made up for this soon.
const POLL_FALLBACK: Duration = Duration::from_secs(1);

/// Handle to a PostgreSQL log. Cheap to clone; its tasks stop with the last handle.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    url: String,
    writes: mpsc::UnboundedSender<writer::WriteRequest>,
    /// Read connections, taken in turn: two readers of the log (a catch-up and a page
    /// of the admin pages, or the two workers of a replay) run on two server backends.
    readers: Vec<Mutex<Option<Arc<Client>>>>,
    next_reader: std::sync::atomic::AtomicUsize,
    /// The highest position known committed (by any process): wakes subscriptions.
    committed: watch::Receiver<u64>,
}

fn backend(e: tokio_postgres::Error) -> StoreError {
    // The driver's message names the server's error, never the password of the URL.
    StoreError::Unavailable(format!("PostgreSQL: {e}"))
}

async fn connect(url: &str) -> Result<Client, StoreError> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.map_err(backend)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!("PostgreSQL connection ended: {e}");
        }
    });
    Ok(client)
}

impl PgStore {
    /// Connects, creates the tables if they are missing, and starts the writer and the
    /// listener. Several processes may open the same database at once.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let client = connect(url).await?;
        // One schema creation at a time, even when several engines start together.
        client
            .batch_execute(&format!(
                "SELECT pg_advisory_lock(727311); {} SELECT pg_advisory_unlock(727311);",
                include_str!("schema.sql")
            ))
            .await
            .map_err(backend)?;
        let head = head_of(&client).await?;
        let (committed_tx, committed) = watch::channel(head);
        let committed_tx = Arc::new(committed_tx);
        let (writes, requests) = mpsc::unbounded_channel();
        tokio::spawn(writer::run(url.to_string(), requests, committed_tx.clone()));
        tokio::spawn(listen::run(url.to_string(), committed_tx));
        Ok(PgStore {
            inner: Arc::new(Inner {
                url: url.to_string(),
                writes,
                readers: std::iter::once(Mutex::new(Some(Arc::new(client))))
                    .chain((1..READERS).map(|_| Mutex::new(None)))
                    .collect(),
                next_reader: std::sync::atomic::AtomicUsize::new(0),
                committed,
            }),
        })
    }

    /// A connection for reads, opened again if the last one broke.
    async fn reader(&self) -> Result<Arc<Client>, StoreError> {
        let turn = self
            .inner
            .next_reader
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut slot = self.inner.readers[turn % self.inner.readers.len()]
            .lock()
            .await;
        if let Some(c) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        let c = Arc::new(connect(&self.inner.url).await?);
        *slot = Some(c.clone());
        Ok(c)
    }
}

async fn head_of(client: &Client) -> Result<u64, StoreError> {
    let row = client
        .query_one("SELECT position FROM domreg_log_head WHERE id = 1", &[])
        .await
        .map_err(backend)?;
    Ok(row.get::<_, i64>(0) as u64)
}

const COLUMNS: &str = "position, event_id, stream, version, event_type, schema_version, data, actor, correlation_id, causation_id, at_micros";

fn decode(row: &Row) -> Result<RecordedEvent, StoreError> {
    let position = Position::at(row.get::<_, i64>(0) as u64);
    let corrupt = |detail: String| StoreError::Corrupt { position, detail };
    let uuid =
        |bytes: &[u8]| Uuid::from_slice(bytes).map_err(|e| corrupt(format!("bad uuid: {e}")));
    let actor: &str = row.get(7);
    let causation: Option<&[u8]> = row.get(9);
    let at_micros: i64 = row.get(10);
    Ok(RecordedEvent {
        position,
        id: uuid(row.get(1))?,
        stream: row.get(2),
        version: row.get::<_, i64>(3) as u64,
        event_type: row.get(4),
        schema_version: row.get::<_, i32>(5) as u32,
        data: row.get::<_, Vec<u8>>(6),
        metadata: EventMetadata {
            actor: super::actor::parse_actor(actor)
                .ok_or_else(|| corrupt(format!("bad actor {actor:?}")))?,
            correlation_id: uuid(row.get(8))?,
            causation_id: causation.map(uuid).transpose()?,
            at: chrono::DateTime::<chrono::Utc>::from_timestamp_micros(at_micros)
                .ok_or_else(|| corrupt(format!("bad time {at_micros}")))?,
        },
    })
}

fn limit(max: usize) -> i64 {
    i64::try_from(max).unwrap_or(i64::MAX)
}

#[async_trait]
impl EventStore for PgStore {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        let append = super::Append {
            stream: stream.to_string(),
            expected,
            events,
        };
        let mut results = self.append_in_order(vec![append]).await;
        results
            .pop()
            .unwrap_or_else(|| Err(StoreError::Backend("the writer gave no answer".into())))
    }

    async fn append_in_order(
        &self,
        appends: Vec<super::Append>,
    ) -> Vec<Result<AppendResult, StoreError>> {
        super::queue_in_order(appends, "PostgreSQL writer", |a, reply| {
            self.inner
                .writes
                .send(writer::WriteRequest {
                    stream: a.stream,
                    expected: a.expected,
                    events: a.events,
                    reply,
                })
                .is_ok()
        })
        .await
    }

    async fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
        max: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let client = self.reader().await?;
        let rows = client
            .query(
                &format!("SELECT {COLUMNS} FROM domreg_events WHERE stream = $1 AND version >= $2 ORDER BY version LIMIT $3"),
                &[&stream, &(from_version as i64), &limit(max)],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(decode).collect()
    }

    async fn read_all(
        &self,
        after: Option<Position>,
        max: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let client = self.reader().await?;
        let after = after.map_or(0, |p| p.commit as i64);
        let rows = client
            .query(
                &format!("SELECT {COLUMNS} FROM domreg_events WHERE position > $1 ORDER BY position LIMIT $2"),
                &[&after, &limit(max)],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(decode).collect()
    }

    fn subscribe_all(&self, after: Option<Position>) -> EventStream {
        super::subscribe::catch_up(
            self.clone(),
            self.inner.committed.clone(),
            after,
            POLL_FALLBACK,
        )
    }

    async fn head(&self) -> Result<u64, StoreError> {
        let client = self.reader().await?;
        head_of(&client).await
    }
}
