//! The event log: one async trait, [`EventStore`], and its backends.
//!
//! Guarantees every backend keeps (the contract suite in `tests/store_contract.rs` checks them):
//! - an append is all or nothing, and is acknowledged only once it is durable;
//! - the expected version is checked atomically with the write;
//! - appending events whose ids are already stored returns the original result and
//!   stores nothing (idempotent retry);
//! - events in a stream have versions 0, 1, 2, ... with no gaps;
//! - global positions strictly increase in commit order, so a reader that has seen
//!   position `p` never later meets an event below `p`;
//! - a subscription delivers every event after its starting point exactly once, in
//!   position order: first history, then live events.

use std::fmt;

use async_trait::async_trait;
use futures::stream::BoxStream;
use uuid::Uuid;

use domreg_events::EventMetadata;

#[cfg(feature = "esdb")]
pub mod esdb;
pub mod postgres;
pub mod sqlite;

mod actor;
pub mod copy;
pub mod remembered;
mod subscribe;

mod any;
pub use any::{LogStore, StoreUrl};
pub use sqlite::SqliteStore;

/// A position in the global log, ordered by `(commit, prepare)`.
///
/// The embedded store uses one gap-free counter (1, 2, 3, ...) for both parts.
/// EventStoreDB reports a commit and a prepare position (byte offsets in its transaction
/// file, increasing with gaps); events of one multi-event append share the commit part,
/// so both are kept.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Position {
    pub commit: u64,
    pub prepare: u64,
}

impl Position {
    /// A position in a log with a single counter.
    pub const fn at(n: u64) -> Self {
        Position {
            commit: n,
            prepare: n,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.commit == self.prepare {
            write!(f, "{}", self.commit)
        } else {
            write!(f, "{}/{}", self.commit, self.prepare)
        }
    }
}

/// What the writer believes about the stream before appending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// No check.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last event must have this version (0-based event number).
    Exact(u64),
}

impl ExpectedVersion {
    /// The expectation of a writer that has read `count` events of the stream.
    pub fn after(count: u64) -> Self {
        match count {
            0 => ExpectedVersion::NoStream,
            n => ExpectedVersion::Exact(n - 1),
        }
    }

    fn admits(self, current: Option<u64>) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current.is_none(),
            ExpectedVersion::Exact(v) => current == Some(v),
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any version"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::Exact(v) => write!(f, "version {v}"),
        }
    }
}

/// An event to append. Its `id` makes a retried append recognisable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    /// The JSON payload.
    pub data: Vec<u8>,
    pub metadata: EventMetadata,
}

impl NewEvent {
    /// Wraps a domain event with its metadata. The id is a UUIDv7: time-ordered ids keep
    /// the store's id index append-only instead of touching a random page per event.
    pub fn domain(event: &domreg_events::DomainEvent, metadata: EventMetadata) -> Self {
        NewEvent {
            id: Uuid::now_v7(),
            event_type: event.event_type().to_string(),
            schema_version: event.schema_version(),
            data: event.encode(),
            metadata,
        }
    }

    pub fn with_id(mut self, id: Uuid) -> Self {
        self.id = id;
        self
    }
}

/// One append of [`EventStore::append_in_order`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Append {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

/// An event as the log holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    pub id: Uuid,
    pub stream: String,
    /// 0-based number of the event in its stream.
    pub version: u64,
    pub position: Position,
    pub event_type: String,
    pub schema_version: u32,
    pub data: Vec<u8>,
    pub metadata: EventMetadata,
}

impl RecordedEvent {
    /// Decodes the payload as a domain event (upcasting older versions).
    pub fn decode_domain(&self) -> Result<domreg_events::DomainEvent, domreg_events::DecodeError> {
        domreg_events::DomainEvent::decode(&self.event_type, self.schema_version, &self.data)
    }
}

/// Where an append landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendResult {
    /// Version of the last event appended (the next `ExpectedVersion::Exact`).
    pub last_version: u64,
    pub first_position: Position,
    pub last_position: Position,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("stream {stream} was expected at {expected} but is at {}", .actual.map(|v| format!("version {v}")).unwrap_or_else(|| "no stream".into()))]
    WrongExpectedVersion {
        stream: String,
        expected: ExpectedVersion,
        actual: Option<u64>,
    },
    #[error("event {event_id} was already stored ({detail}); a retry must resend exactly the same events")]
    IdempotencyConflict { event_id: Uuid, detail: String },
    #[error("invalid append: {0}")]
    InvalidAppend(String),
    #[error("stored event at position {position} is unreadable: {detail}")]
    Corrupt { position: Position, detail: String },
    #[error("event store is unavailable: {0}")]
    Unavailable(String),
    #[error("event store error: {0}")]
    Backend(String),
}

/// A stream of recorded events (a subscription). It ends only on an error or when dropped.
pub type EventStream = BoxStream<'static, Result<RecordedEvent, StoreError>>;

#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// Appends `events` to `stream` atomically if the stream matches `expected`.
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError>;

    /// Several appends that take effect in the given order, as if made one after
    /// another; a store may pipeline them (queue all, then wait), which a copy of a whole
    /// log needs. Each has its own result.
    async fn append_in_order(&self, appends: Vec<Append>) -> Vec<Result<AppendResult, StoreError>> {
        let mut results = Vec::with_capacity(appends.len());
        for a in appends {
            results.push(self.append(&a.stream, a.expected, a.events).await);
        }
        results
    }

    /// Reads up to `max` events of `stream`, starting at version `from_version`.
    async fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
        max: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Reads up to `max` events of the global log with a position greater than `after`
    /// (`None`: from the beginning).
    async fn read_all(
        &self,
        after: Option<Position>,
        max: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Every event after `after` (history first, then live), in position order.
    fn subscribe_all(&self, after: Option<Position>) -> EventStream;

    /// The commit part of the log's last position (0 when empty), as any writer left it.
    async fn head(&self) -> Result<u64, StoreError>;
}

fn check_batch(stream: &str, events: &[NewEvent]) -> Result<(), StoreError> {
    if stream.is_empty() || stream.starts_with('$') {
        return Err(StoreError::InvalidAppend(format!(
            "stream name {stream:?} must be non-empty and must not start with '$'"
        )));
    }
    if events.is_empty() {
        return Err(StoreError::InvalidAppend("no events to append".into()));
    }
    let mut ids: Vec<_> = events.iter().map(|e| e.id).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return Err(StoreError::InvalidAppend(
            "the same event id appears twice in one append".into(),
        ));
    }
    Ok(())
}

/// A reply awaited from a store's writer.
pub(crate) type Reply = tokio::sync::oneshot::Sender<Result<AppendResult, StoreError>>;

/// [`EventStore::append_in_order`] for a store with one writer fed by a queue: every
/// append is queued first (by `send`, in order; false when the writer is gone), then
/// every answer awaited, so the writer commits them in order, many per transaction.
pub(crate) async fn queue_in_order(
    appends: Vec<Append>,
    writer: &str,
    mut send: impl FnMut(Append, Reply) -> bool,
) -> Vec<Result<AppendResult, StoreError>> {
    let stopped = || StoreError::Unavailable(format!("the {writer} has stopped"));
    let mut answers = Vec::with_capacity(appends.len());
    for a in appends {
        if let Err(e) = check_batch(&a.stream, &a.events) {
            answers.push(Err(e));
            continue;
        }
        let (reply, answer) = tokio::sync::oneshot::channel();
        answers.push(if send(a, reply) {
            Ok(answer)
        } else {
            Err(stopped())
        });
    }
    let mut results = Vec::with_capacity(answers.len());
    for a in answers {
        results.push(match a {
            Ok(answer) => answer.await.unwrap_or_else(|_| Err(stopped())),
            Err(e) => Err(e),
        });
    }
    results
}
