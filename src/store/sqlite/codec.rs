//! How an append's events are packed into the `events` blob of its row in `appends`, and
//! read back into [`RecordedEvent`]s.
//!
//! One row per append, not per event: an append of 100 events costs SQLite one row and
//! one `(stream, first_version)` index entry plus an `event_ids` entry per event, instead
//! of three b-tree entries per event. An event's position and version are its append's
//! first ones plus its place in the blob.
//!
//! The blob is a format byte, then per event, in order:
//! `id (16) | schema_version (u32) | at_micros (i64) | correlation_id (16) |
//!  causation flag (u8: 0 none, 1 present) [| causation_id (16)] |
//!  event_type (u32 length + UTF-8) | actor (u32 length + UTF-8) | data (u32 length + bytes)`,
//! integers little-endian.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use domreg_events::EventMetadata;

use crate::store::actor::actor_column;
use crate::store::actor::parse_actor;

use crate::store::{NewEvent, Position, RecordedEvent, StoreError};

/// The only blob format so far; a later one gets the next number.
const FORMAT: u8 = 1;

/// One event's columns as they are packed.
pub(super) struct Packable<'a> {
    pub id: &'a [u8; 16],
    pub schema_version: u32,
    pub at_micros: i64,
    pub correlation_id: &'a [u8; 16],
    pub causation_id: Option<&'a [u8; 16]>,
    pub event_type: &'a str,
    pub actor: &'a str,
    pub data: &'a [u8],
}

/// Packs `events` into one blob. No length reaches `u32::MAX`: SQLite refuses a blob
/// over its 1 GB limit (`SQLITE_TOOBIG`), which fails the append before anything is kept.
pub(super) fn pack<'e>(events: impl Iterator<Item = &'e NewEvent> + Clone) -> Vec<u8> {
    let mut out = Packer::with_capacity(
        events
            .clone()
            .map(|e| 80 + e.event_type.len() + e.data.len())
            .sum(),
    );
    for e in events {
        let m = &e.metadata;
        out.push(&Packable {
            id: e.id.as_bytes(),
            schema_version: e.schema_version,
            at_micros: m.at.timestamp_micros(),
            correlation_id: m.correlation_id.as_bytes(),
            causation_id: m.causation_id.as_ref().map(Uuid::as_bytes),
            event_type: &e.event_type,
            actor: &actor_column(&m.actor),
            data: &e.data,
        });
    }
    out.finish()
}

/// Builds one append's blob, event by event.
pub(super) struct Packer(Vec<u8>);

impl Packer {
    /// Room for about `bytes` of packed events.
    pub(super) fn with_capacity(bytes: usize) -> Self {
        let mut out = Vec::with_capacity(1 + bytes);
        out.push(FORMAT);
        Packer(out)
    }

    pub(super) fn push(&mut self, e: &Packable<'_>) {
        let out = &mut self.0;
        out.extend_from_slice(e.id);
        out.extend_from_slice(&e.schema_version.to_le_bytes());
        out.extend_from_slice(&e.at_micros.to_le_bytes());
        out.extend_from_slice(e.correlation_id);
        match e.causation_id {
            Some(c) => {
                out.push(1);
                out.extend_from_slice(c);
            }
            None => out.push(0),
        }
        put_bytes(out, e.event_type.as_bytes());
        put_bytes(out, e.actor.as_bytes());
        put_bytes(out, e.data);
    }

    pub(super) fn finish(self) -> Vec<u8> {
        self.0
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// One row of `appends`, as read.
pub(super) struct AppendRow<'a> {
    first_position: u64,
    stream: &'a str,
    first_version: u64,
    count: u64,
    events: &'a [u8],
}

impl AppendRow<'_> {
    /// Reads a row selected as `first_position, stream, first_version, count, events`.
    pub(super) fn read<'r>(row: &'r rusqlite::Row<'_>) -> Result<AppendRow<'r>, StoreError> {
        let first_position = row.get::<_, i64>(0).map_err(super::backend)? as u64;
        let corrupt = |detail: String| StoreError::Corrupt {
            position: Position::at(first_position),
            detail,
        };
        Ok(AppendRow {
            first_position,
            stream: row
                .get_ref(1)
                .map_err(super::backend)?
                .as_str()
                .map_err(|e| corrupt(format!("stream: {e}")))?,
            first_version: row.get::<_, i64>(2).map_err(super::backend)? as u64,
            count: row.get::<_, i64>(3).map_err(super::backend)? as u64,
            events: row
                .get_ref(4)
                .map_err(super::backend)?
                .as_blob()
                .map_err(|e| corrupt(format!("events: {e}")))?,
        })
    }

    /// Unpacks the events whose position is above `after` and version at least
    /// `from_version` into `out`, until `out` holds `max`. Whether `out` is full.
    pub(super) fn unpack_into(
        &self,
        after: u64,
        from_version: u64,
        max: usize,
        out: &mut Vec<RecordedEvent>,
    ) -> Result<bool, StoreError> {
        let mut reader = Reader {
            bytes: self.events,
            at: 0,
            position: self.first_position,
        };
        if reader.take(1)? != [FORMAT] {
            return Err(reader.corrupt("unknown format of the packed events".into()));
        }
        // Positions and versions rise together inside an append: the events before the
        // window are stepped over without being built.
        let skip = (after + 1)
            .saturating_sub(self.first_position)
            .max(from_version.saturating_sub(self.first_version));
        for i in 0..self.count {
            if out.len() >= max {
                return Ok(true);
            }
            reader.position = self.first_position + i;
            if i < skip {
                reader.skip_event()?;
            } else {
                out.push(reader.event(self.stream, self.first_version + i)?);
            }
        }
        if reader.at != self.events.len() {
            return Err(reader.corrupt("bytes after the last packed event".into()));
        }
        Ok(out.len() >= max)
    }
}

/// A cursor over a blob, naming the position it is at in its errors.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    position: u64,
}

impl<'a> Reader<'a> {
    fn corrupt(&self, detail: String) -> StoreError {
        StoreError::Corrupt {
            position: Position::at(self.position),
            detail,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.bytes.len());
        let Some(end) = end else {
            return Err(self.corrupt("the packed events end early".into()));
        };
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], StoreError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn uuid(&mut self) -> Result<Uuid, StoreError> {
        Ok(Uuid::from_bytes(self.array::<16>()?))
    }

    fn sized(&mut self) -> Result<&'a [u8], StoreError> {
        let n = u32::from_le_bytes(self.array::<4>()?) as usize;
        self.take(n)
    }

    fn text(&mut self, what: &str) -> Result<&'a str, StoreError> {
        let bytes = self.sized()?;
        std::str::from_utf8(bytes).map_err(|e| self.corrupt(format!("{what}: {e}")))
    }

    /// Steps over one event: the fixed fields, the causation id if any, the three
    /// sized ones.
    fn skip_event(&mut self) -> Result<(), StoreError> {
        self.take(16 + 4 + 8 + 16)?;
        match self.take(1)?[0] {
            0 => {}
            1 => {
                self.take(16)?;
            }
            other => return Err(self.corrupt(format!("bad causation flag {other}"))),
        }
        for _ in 0..3 {
            self.sized()?;
        }
        Ok(())
    }

    fn event(&mut self, stream: &str, version: u64) -> Result<RecordedEvent, StoreError> {
        let id = self.uuid()?;
        let schema_version = u32::from_le_bytes(self.array::<4>()?);
        let at_micros = i64::from_le_bytes(self.array::<8>()?);
        let correlation_id = self.uuid()?;
        let causation_id = match self.take(1)?[0] {
            0 => None,
            1 => Some(self.uuid()?),
            other => return Err(self.corrupt(format!("bad causation flag {other}"))),
        };
        let event_type = self.text("event type")?.to_string();
        let actor = self.text("actor")?;
        let actor =
            parse_actor(actor).ok_or_else(|| self.corrupt(format!("bad actor {actor:?}")))?;
        let data = self.sized()?.to_vec();
        let at = DateTime::<Utc>::from_timestamp_micros(at_micros)
            .ok_or_else(|| self.corrupt(format!("bad time {at_micros}")))?;
        Ok(RecordedEvent {
            position: Position::at(self.position),
            id,
            stream: stream.to_string(),
            version,
            event_type,
            schema_version,
            data,
            metadata: EventMetadata {
                actor,
                correlation_id,
                causation_id,
                at,
            },
        })
    }
}

/// Reads appends rows (in log or stream order) into events: those above `after` with a
/// version of at least `from_version`, `max` at most.
pub(super) fn collect(
    mut rows: rusqlite::Rows<'_>,
    after: u64,
    from_version: u64,
    max: usize,
    expected: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut out = Vec::with_capacity(expected);
    if max == 0 {
        return Ok(out);
    }
    while let Some(row) = rows.next().map_err(super::backend)? {
        if AppendRow::read(row)?.unpack_into(after, from_version, max, &mut out)? {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domreg_events::{AccountId, Actor};

    fn event(n: u8, causation: bool, actor: Actor) -> NewEvent {
        NewEvent {
            id: Uuid::from_u128(u128::from(n)),
            event_type: format!("Type{n}"),
            schema_version: u32::from(n) + 1,
            data: vec![b'{', n, b'}'],
            metadata: EventMetadata {
                actor,
                correlation_id: Uuid::from_u128(1000 + u128::from(n)),
                causation_id: causation.then(|| Uuid::from_u128(2000)),
                at: DateTime::<Utc>::from_timestamp_micros(1_795_000_000_123_456 + i64::from(n))
                    .unwrap(),
            },
        }
    }

    fn unpack(
        blob: &[u8],
        count: u64,
        after: u64,
        from: u64,
        max: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let row = AppendRow {
            first_position: 41,
            stream: "domain-a.com",
            first_version: 7,
            count,
            events: blob,
        };
        let mut out = Vec::new();
        row.unpack_into(after, from, max, &mut out)?;
        Ok(out)
    }

    #[test]
    fn packed_events_read_back_as_written() {
        let events = [
            event(1, false, Actor::Engine),
            event(2, true, Actor::Admin("ops".into())),
            event(
                3,
                false,
                Actor::Customer(AccountId::parse("alice").unwrap()),
            ),
        ];
        let got = unpack(&pack(events.iter()), 3, 0, 0, 10).unwrap();
        assert_eq!(got.len(), 3);
        for (i, (e, r)) in events.iter().zip(&got).enumerate() {
            assert_eq!(r.position, Position::at(41 + i as u64));
            assert_eq!(r.version, 7 + i as u64);
            assert_eq!(r.stream, "domain-a.com");
            assert_eq!(
                (r.id, &r.event_type, r.schema_version),
                (e.id, &e.event_type, e.schema_version)
            );
            assert_eq!(r.data, e.data);
            assert_eq!(r.metadata, e.metadata);
        }
    }

    #[test]
    fn a_window_of_the_append_is_read() {
        let events: Vec<_> = (1..=5).map(|n| event(n, false, Actor::Engine)).collect();
        let blob = pack(events.iter());
        let after_42 = unpack(&blob, 5, 42, 0, 10).unwrap();
        assert_eq!(
            after_42
                .iter()
                .map(|e| e.position.commit)
                .collect::<Vec<_>>(),
            [43, 44, 45]
        );
        let from_v9 = unpack(&blob, 5, 0, 9, 2).unwrap();
        assert_eq!(
            from_v9.iter().map(|e| e.version).collect::<Vec<_>>(),
            [9, 10]
        );
    }

    #[test]
    fn damaged_blobs_are_reported_not_misread() {
        let two = [
            event(1, true, Actor::Engine),
            event(2, false, Actor::Engine),
        ];
        let blob = pack(two.iter());
        for cut in [0, 1, 10, blob.len() - 1] {
            let err = unpack(&blob[..cut], 2, 0, 0, 10).unwrap_err();
            assert!(
                matches!(err, StoreError::Corrupt { .. }),
                "cut at {cut}: {err}"
            );
        }
        let mut extra = blob.clone();
        extra.push(0);
        assert!(matches!(
            unpack(&extra, 2, 0, 0, 10),
            Err(StoreError::Corrupt { .. })
        ));
        let mut other_format = blob.clone();
        other_format[0] = 9;
        assert!(matches!(
            unpack(&other_format, 2, 0, 0, 10),
            Err(StoreError::Corrupt { .. })
        ));
        // A count larger than the blob holds.
        assert!(matches!(
            unpack(&blob, 3, 0, 0, 10),
            Err(StoreError::Corrupt { .. })
        ));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn arb_event() -> impl Strategy<Value = NewEvent> {
            (
                any::<u128>(),
                "[A-Za-z]{1,24}",
                any::<u32>(),
                proptest::collection::vec(any::<u8>(), 0..200),
                prop_oneof![Just(None), "[a-z]{1,12}".prop_map(Some)],
                any::<u128>(),
                proptest::option::of(any::<u128>()),
                0i64..4_102_444_800_000_000,
            )
                .prop_map(|(id, ty, schema, data, admin, corr, cause, at)| NewEvent {
                    id: Uuid::from_u128(id),
                    event_type: ty,
                    schema_version: schema,
                    data,
                    metadata: EventMetadata {
                        actor: admin.map_or(Actor::Engine, Actor::Admin),
                        correlation_id: Uuid::from_u128(corr),
                        causation_id: cause.map(Uuid::from_u128),
                        at: DateTime::<Utc>::from_timestamp_micros(at).unwrap(),
                    },
                })
        }

        proptest! {
            /// Any append reads back whole, and any window of it is exactly the events
            /// of that window, with their positions and versions.
            #[test]
            fn any_append_reads_back_and_windows_agree(
                events in proptest::collection::vec(arb_event(), 1..20),
                after in 40u64..70,
                from in 0u64..30,
                max in 0usize..25,
            ) {
                let blob = pack(events.iter());
                let got = unpack(&blob, events.len() as u64, after, from, max).unwrap();
                let want: Vec<(u64, u64, &NewEvent)> = events
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (41 + i as u64, 7 + i as u64, e))
                    .filter(|(p, v, _)| *p > after && *v >= from)
                    .take(max)
                    .collect();
                prop_assert_eq!(got.len(), want.len());
                for (r, (p, v, e)) in got.iter().zip(want) {
                    prop_assert_eq!((r.position.commit, r.version), (p, v));
                    prop_assert_eq!((r.id, &r.event_type, r.schema_version), (e.id, &e.event_type, e.schema_version));
                    prop_assert_eq!(&r.data, &e.data);
                    prop_assert_eq!(&r.metadata, &e.metadata);
                }
            }

            /// A damaged blob (cut short, or a byte changed) is an error or some reading
            /// of it, never a panic or a read past its end.
            #[test]
            fn damaged_blobs_never_panic(
                events in proptest::collection::vec(arb_event(), 1..6),
                cut in any::<prop::sample::Index>(),
                flip in any::<prop::sample::Index>(),
                byte in any::<u8>(),
            ) {
                let blob = pack(events.iter());
                let n = events.len() as u64;
                let _ = unpack(&blob[..cut.index(blob.len())], n, 0, 0, 100);
                let mut changed = blob.clone();
                let at = flip.index(changed.len());
                changed[at] = byte;
                let _ = unpack(&changed, n, 0, 0, 100);
            }
        }
    }
}
