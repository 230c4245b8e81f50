//! EventStoreDB / KurrentDB backend, through the official `kurrentdb` gRPC client.
//!
//! Mapping: our `ExpectedVersion` is the server's `StreamState`; stream versions are its
//! revisions; our `Position` is its `(commit, prepare)` pair. Our metadata travels as the
//! event's custom metadata, a JSON object of strings (`$correlationId` and `$causationId`
//! as the server's own projections expect them). Idempotent retry: the server
//! de-duplicates recent ids itself; when it reports a version conflict instead, the stream
//! is read back and, if the ids are there, the original result is returned.
//! Subscriptions resubscribe from the last delivered position after a dropped connection.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use kurrentdb::{
    AppendToStreamOptions, Client, ClientSettings, CurrentRevision, EventData, ReadAllOptions,
    ReadStreamOptions, StreamPosition, StreamState, SubscribeToAllOptions, SubscriptionFilter,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use uuid::Uuid;

use domreg_events::{AccountId, Actor, EventMetadata};

use super::{
    check_batch, AppendResult, EventStore, EventStream, ExpectedVersion, NewEvent, Position,
    RecordedEvent, StoreError,
};

/// Longest wait between two resubscription attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct EsdbStore {
    client: Client,
}

impl EsdbStore {
    /// Connects with an `esdb://`, `esdb+discover://` or `kurrentdb://` connection string.
    /// The string is never echoed back in errors, since it may hold credentials.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let settings: ClientSettings = url.parse().map_err(|_| {
            StoreError::Unavailable(
                "invalid EventStoreDB connection string: expected esdb://host:2113?tls=false or kurrentdb://...".into(),
            )
        })?;
        let client = Client::new(settings)
            .map_err(|e| StoreError::Unavailable(format!("cannot create the client: {e}")))?;
        Ok(EsdbStore { client })
    }

    async fn read_back(
        &self,
        stream: &str,
        ids: &[Uuid],
    ) -> Result<Option<AppendResult>, StoreError> {
        let stored = self.read_stream(stream, 0, usize::MAX).await?;
        let by_id: HashMap<Uuid, &RecordedEvent> = stored.iter().map(|e| (e.id, e)).collect();
        let found: Vec<_> = ids.iter().filter_map(|id| by_id.get(id)).collect();
        match (found.first(), found.last()) {
            (Some(first), Some(last)) if found.len() == ids.len() => Ok(Some(AppendResult {
                last_version: last.version,
                first_position: first.position,
                last_position: last.position,
            })),
            (Some(_), _) => Err(StoreError::IdempotencyConflict {
                event_id: ids[0],
                detail: "only part of this append is stored".into(),
            }),
            _ => Ok(None),
        }
    }
}

pub(crate) fn stream_state(expected: ExpectedVersion) -> StreamState {
    match expected {
        ExpectedVersion::Any => StreamState::Any,
        ExpectedVersion::NoStream => StreamState::NoStream,
        ExpectedVersion::Exact(v) => StreamState::StreamRevision(v),
    }
}

pub(crate) fn from_server_position(p: kurrentdb::Position) -> Position {
    Position {
        commit: p.commit,
        prepare: p.prepare,
    }
}

pub(crate) fn to_server_position(p: Position) -> kurrentdb::Position {
    kurrentdb::Position {
        commit: p.commit,
        prepare: p.prepare,
    }
}

pub(crate) fn current_version(current: &CurrentRevision) -> Option<u64> {
    match current {
        CurrentRevision::Current(v) => Some(*v),
        CurrentRevision::NoStream => None,
    }
}

pub(crate) fn map_error(
    stream: &str,
    expected: ExpectedVersion,
    e: kurrentdb::Error,
) -> StoreError {
    use kurrentdb::Error as E;
    match e {
        E::WrongExpectedVersion { current, .. } => StoreError::WrongExpectedVersion {
            stream: stream.to_string(),
            expected,
            actual: current_version(&current),
        },
        E::ResourceDeleted => {
            StoreError::InvalidAppend(format!("stream {stream} was deleted on the server"))
        }
        E::AccessDenied => StoreError::Unavailable(
            "access denied: check the connection string's credentials".into(),
        ),
        E::ConnectionClosed
        | E::GrpcConnectionError(_)
        | E::DeadlineExceeded
        | E::NotLeaderException(_) => StoreError::Unavailable(e.to_string()),
        other => StoreError::Backend(other.to_string()),
    }
}

/// Our metadata as the server's custom metadata: a flat JSON object of strings.
pub(crate) fn encode_metadata(m: &EventMetadata, schema_version: u32) -> Vec<u8> {
    let actor = match &m.actor {
        Actor::Engine => "engine".to_string(),
        Actor::Admin(name) => format!("admin:{name}"),
        Actor::Customer(account) => format!("customer:{account}"),
    };
    let mut map = serde_json::Map::new();
    map.insert("$correlationId".into(), m.correlation_id.to_string().into());
    if let Some(c) = m.causation_id {
        map.insert("$causationId".into(), c.to_string().into());
    }
    map.insert("actor".into(), actor.into());
    map.insert("at".into(), m.at.to_rfc3339().into());
    map.insert("schemaVersion".into(), schema_version.to_string().into());
    serde_json::to_vec(&map).unwrap_or_default()
}

pub(crate) fn decode_metadata(bytes: &[u8]) -> Result<(EventMetadata, u32), String> {
    let map: HashMap<String, String> = serde_json::from_slice(bytes)
        .map_err(|e| format!("metadata is not a JSON object of strings: {e}"))?;
    let get = |k: &str| map.get(k).ok_or_else(|| format!("metadata lacks {k}"));
    let uuid = |s: &String| Uuid::parse_str(s).map_err(|e| format!("bad id {s:?}: {e}"));
    let actor = match get("actor")?.split_once(':') {
        None if get("actor")? == "engine" => Actor::Engine,
        Some(("admin", name)) => Actor::Admin(name.to_string()),
        Some(("customer", a)) => Actor::Customer(AccountId::parse(a).map_err(|e| e.to_string())?),
        _ => return Err(format!("bad actor {:?}", get("actor")?)),
    };
    let at = DateTime::parse_from_rfc3339(get("at")?)
        .map_err(|e| format!("bad time: {e}"))?
        .with_timezone(&Utc);
    let schema_version = get("schemaVersion")?
        .parse()
        .map_err(|e| format!("bad schema version: {e}"))?;
    let metadata = EventMetadata {
        actor,
        correlation_id: uuid(get("$correlationId")?)?,
        causation_id: map.get("$causationId").map(uuid).transpose()?,
        at,
    };
    Ok((metadata, schema_version))
}

fn recorded(e: &kurrentdb::RecordedEvent) -> Result<RecordedEvent, StoreError> {
    let position = from_server_position(e.position);
    let (metadata, schema_version) = decode_metadata(&e.custom_metadata)
        .map_err(|detail| StoreError::Corrupt { position, detail })?;
    Ok(RecordedEvent {
        id: e.id,
        stream: e.stream_id().to_string(),
        version: e.revision,
        position,
        event_type: e.event_type.clone(),
        schema_version,
        data: e.data.to_vec(),
        metadata,
    })
}

/// System streams (`$...`) and events of other applications are not ours to decode.
fn is_ours(e: &kurrentdb::RecordedEvent) -> bool {
    !e.stream_id().starts_with('$') && !e.event_type.starts_with('$')
}

#[async_trait]
impl EventStore for EsdbStore {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        check_batch(stream, &events)?;
        let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
        let count = events.len() as u64;
        let data: Vec<EventData> = events
            .into_iter()
            .map(|e| {
                EventData::binary(e.event_type.clone(), e.data.into())
                    .id(e.id)
                    .metadata(encode_metadata(&e.metadata, e.schema_version).into())
            })
            .collect();
        let options = AppendToStreamOptions::default().stream_state(stream_state(expected));
        match self.client.append_to_stream(stream, &options, data).await {
            Ok(w) => {
                let position = from_server_position(w.position);
                let _ = count;
                Ok(AppendResult {
                    last_version: w.next_expected_version,
                    first_position: position,
                    last_position: position,
                })
            }
            Err(e) => {
                let mapped = map_error(stream, expected, e);
                if matches!(mapped, StoreError::WrongExpectedVersion { .. }) {
                    if let Some(original) = self.read_back(stream, &ids).await? {
                        return Ok(original);
                    }
                }
                Err(mapped)
            }
        }
    }

    async fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
        max: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let options = ReadStreamOptions::default()
            .forwards()
            .position(StreamPosition::Position(from_version))
            .max_count(max);
        let mut read = match self.client.read_stream(stream, &options).await {
            Ok(r) => r,
            Err(kurrentdb::Error::ResourceNotFound) => return Ok(vec![]),
            Err(e) => return Err(map_error(stream, ExpectedVersion::Any, e)),
        };
        let mut out = Vec::new();
        loop {
            match read.next().await {
                Ok(Some(event)) => out.push(recorded(event.get_original_event())?),
                Ok(None) => return Ok(out),
                Err(kurrentdb::Error::ResourceNotFound) => return Ok(vec![]),
                Err(e) => return Err(map_error(stream, ExpectedVersion::Any, e)),
            }
        }
    }

    async fn read_all(
        &self,
        after: Option<Position>,
        max: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let start = after.map_or(StreamPosition::Start, |p| {
            StreamPosition::Position(to_server_position(p))
        });
        // The server reads from a position inclusively; ask for one more and drop it.
        let options = ReadAllOptions::default()
            .forwards()
            .position(start)
            .filter(SubscriptionFilter::on_event_type().exclude_system_events())
            .max_count(max.saturating_add(1));
        let mut read = self
            .client
            .read_all(&options)
            .await
            .map_err(|e| map_error("$all", ExpectedVersion::Any, e))?;
        let mut out = Vec::new();
        while let Some(event) = read
            .next()
            .await
            .map_err(|e| map_error("$all", ExpectedVersion::Any, e))?
        {
            let original = event.get_original_event();
            let position = from_server_position(original.position);
            if after.is_some_and(|a| position <= a) || !is_ours(original) {
                continue;
            }
            out.push(recorded(original)?);
            if out.len() == max {
                break;
            }
        }
        Ok(out)
    }

    async fn head(&self) -> Result<u64, StoreError> {
        let options = ReadAllOptions::default()
            .backwards()
            .position(StreamPosition::End)
            .filter(SubscriptionFilter::on_event_type().exclude_system_events())
            .max_count(1);
        let mut read = self
            .client
            .read_all(&options)
            .await
            .map_err(|e| map_error("$all", ExpectedVersion::Any, e))?;
        let last = read
            .next()
            .await
            .map_err(|e| map_error("$all", ExpectedVersion::Any, e))?;
        Ok(last.map_or(0, |e| e.get_original_event().position.commit))
    }

    fn subscribe_all(&self, after: Option<Position>) -> EventStream {
        let (tx, rx) = mpsc::channel(1024);
        let client = self.client.clone();
        tokio::spawn(async move {
            let mut last = after;
            let mut backoff = Duration::from_millis(100);
            loop {
                let start = last.map_or(StreamPosition::Start, |p| {
                    StreamPosition::Position(to_server_position(p))
                });
                let options = SubscribeToAllOptions::default()
                    .position(start)
                    .filter(SubscriptionFilter::on_event_type().exclude_system_events());
                let mut sub = client.subscribe_to_all(&options).await;
                loop {
                    match sub.next().await {
                        Ok(event) => {
                            backoff = Duration::from_millis(100);
                            let original = event.get_original_event();
                            let position = from_server_position(original.position);
                            if last.is_some_and(|l| position <= l) || !is_ours(original) {
                                continue;
                            }
                            last = Some(position);
                            if tx.send(recorded(original)).await.is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "EventStoreDB subscription dropped; resubscribing");
                            break;
                        }
                    }
                }
                if tx.is_closed() {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        });
        ReceiverStream::new(rx).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_versions_map_to_stream_states() {
        assert_eq!(stream_state(ExpectedVersion::Any), StreamState::Any);
        assert_eq!(
            stream_state(ExpectedVersion::NoStream),
            StreamState::NoStream
        );
        assert_eq!(
            stream_state(ExpectedVersion::Exact(7)),
            StreamState::StreamRevision(7)
        );
    }

    #[test]
    fn positions_keep_both_parts_and_order_by_commit_then_prepare() {
        let p = kurrentdb::Position {
            commit: 10,
            prepare: 12,
        };
        let ours = from_server_position(p);
        assert_eq!(to_server_position(ours), p);
        assert!(
            from_server_position(kurrentdb::Position {
                commit: 10,
                prepare: 11
            }) < ours
        );
        assert!(
            ours < from_server_position(kurrentdb::Position {
                commit: 11,
                prepare: 0
            })
        );
        assert_eq!(ours.to_string(), "10/12");
    }

    #[test]
    fn wrong_expected_version_names_stream_and_versions() {
        let e = kurrentdb::Error::WrongExpectedVersion {
            expected: StreamState::NoStream,
            current: CurrentRevision::Current(3),
        };
        match map_error("domain-example.com", ExpectedVersion::NoStream, e) {
            StoreError::WrongExpectedVersion { stream, actual, .. } => {
                assert_eq!(stream, "domain-example.com");
                assert_eq!(actual, Some(3));
            }
            other => panic!("{other}"),
        }
        let e = kurrentdb::Error::WrongExpectedVersion {
            expected: StreamState::StreamRevision(1),
            current: CurrentRevision::NoStream,
        };
        assert!(matches!(
            map_error("s", ExpectedVersion::Exact(1), e),
            StoreError::WrongExpectedVersion { actual: None, .. }
        ));
        assert!(matches!(
            map_error(
                "s",
                ExpectedVersion::Any,
                kurrentdb::Error::ConnectionClosed
            ),
            StoreError::Unavailable(_)
        ));
    }

    #[test]
    fn metadata_round_trips_as_strings() {
        let m = EventMetadata::new(
            Actor::Customer(AccountId::parse("alice").unwrap()),
            Uuid::new_v4(),
            Utc::now(),
        )
        .caused_by(Uuid::new_v4());
        let bytes = encode_metadata(&m, 3);
        let as_strings: HashMap<String, String> = serde_json::from_slice(&bytes).unwrap();
        assert!(as_strings.contains_key("$correlationId"));
        let (back, version) = decode_metadata(&bytes).unwrap();
        assert_eq!(version, 3);
        assert_eq!(back.actor, m.actor);
        assert_eq!(back.correlation_id, m.correlation_id);
        assert_eq!(back.causation_id, m.causation_id);
        assert_eq!(back.at.timestamp_micros(), m.at.timestamp_micros());
        assert!(decode_metadata(b"{\"actor\":\"martian\"}").is_err());
    }

    #[test]
    fn connection_strings_are_checked_without_echoing_them() {
        let e = EsdbStore::connect("http://admin:secret@host")
            .err()
            .map(|e| e.to_string());
        if let Some(e) = e {
            assert!(!e.contains("secret"), "{e}");
        }
        assert!(EsdbStore::connect("not a url").is_err());
    }
}
