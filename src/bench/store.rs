//! Throughput of the event store: the embedded one on the local disk, or the server log
//! named by `--store` (an empty PostgreSQL database, say).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use uuid::Uuid;

use domreg_events::event::{Charged, Requested, Submitted};
use domreg_events::*;

use super::Figure;
use crate::store::sqlite::ceiling::{RawCommits, Row};
use crate::store::{
    EventStore, ExpectedVersion, LogStore, NewEvent, Position, SqliteStore, StoreError,
};

/// How much work each figure does.
#[derive(Debug, Clone, Copy)]
pub struct StoreBenchSize {
    /// Untimed appends to the store and its ceiling before the figures (see `warm_up`).
    pub warm_up: u64,
    pub single_appends: u64,
    pub concurrent_writers: u64,
    pub appends_per_writer: u64,
    pub batches: u64,
    pub batch_writers: u64,
    /// Full reads of the log; the median is reported (one read takes ~0.5 s and the
    /// shared VM's CPU drifts by a third between seconds).
    pub reads: u64,
}

impl Default for StoreBenchSize {
    fn default() -> Self {
        StoreBenchSize {
            warm_up: 5_000,
            single_appends: 5_000,
            concurrent_writers: 64,
            appends_per_writer: 1_000,
            batches: 5_000,
            batch_writers: 4,
            reads: 5,
        }
    }
}

/// A realistic event: an order's Requested, Charged or Submitted, by turns.
pub fn sample_event(n: u64) -> NewEvent {
    let order_id = OrderId(Uuid::from_u128(u128::from(n / 3)));
    let account = AccountId::parse("acct-1042").unwrap_or_else(|_| unreachable!());
    let price = Money::new(1299, Currency::USD);
    let event: DomainEvent = match n % 3 {
        0 => Requested {
            order_id,
            domain: DomainName::parse("example-bench.com").unwrap_or_else(|_| unreachable!()),
            account,
            kind: OrderKind::Register,
            period: Period::ONE_YEAR,
            connection: "main".into(),
            price,
        }
        .into(),
        1 => Charged {
            order_id,
            account,
            amount: price,
        }
        .into(),
        _ => Submitted {
            order_id,
            connection: "main".into(),
            lease: None,
        }
        .into(),
    };
    let at = Utc
        .timestamp_opt(1_795_000_000 + n as i64, 0)
        .single()
        .unwrap_or_default();
    NewEvent::domain(
        &event,
        EventMetadata::new(Actor::Engine, Uuid::new_v4(), at),
    )
}

/// Writers' events for one phase, built round by round (every writer's first append,
/// then every writer's second, ...): their UUIDv7 ids rise in the order a group commit
/// meets them, as ids made when each append is made do.
struct Workload {
    streams: Vec<String>,
    per_writer: Vec<Vec<NewEvent>>,
    per_append: usize,
}

impl Workload {
    fn build(prefix: &str, writers: u64, appends: u64, per_append: usize, n: &mut u64) -> Self {
        let mut per_writer: Vec<Vec<NewEvent>> = (0..writers).map(|_| Vec::new()).collect();
        for _ in 0..appends {
            for events in per_writer.iter_mut() {
                for _ in 0..per_append {
                    events.push(sample_event(*n));
                    *n += 1;
                }
            }
        }
        Workload {
            streams: (0..writers).map(|w| format!("{prefix}-{w}")).collect(),
            per_writer,
            per_append,
        }
    }

    fn events(&self) -> u64 {
        self.per_writer.iter().map(|w| w.len() as u64).sum()
    }

    /// Appends `[from, to)` of every writer, as the raw ceiling's rounds: one commit per
    /// round, holding that append of every writer.
    fn rounds(&self, from: usize, to: usize) -> Vec<Vec<Row<'_>>> {
        (from..to)
            .map(|append| {
                self.streams
                    .iter()
                    .zip(&self.per_writer)
                    .flat_map(|(stream, events)| {
                        let first = append * self.per_append;
                        (first..first + self.per_append)
                            .map(move |i| (stream.as_str(), i as u64, &events[i]))
                    })
                    .collect()
            })
            .collect()
    }

    /// The same slice as the store's appends: each writer's own events of `[from, to)`.
    fn slice(&self, from: usize, to: usize) -> Vec<(String, Vec<NewEvent>)> {
        self.streams
            .iter()
            .zip(&self.per_writer)
            .map(|(stream, events)| {
                let range = from * self.per_append..to * self.per_append;
                (stream.clone(), events[range].to_vec())
            })
            .collect()
    }
}

/// How many alternating slices the store and its raw ceiling run in: the shared disk's
/// speed drifts within a second, so short slices have each meet the same drift (with
/// four, the same build's 64-writer ratio ranged 0.76-0.97 between runs).
const SLICES: usize = 20;

/// Events are built before each timed phase: the figures measure the store, not the
/// JSON encoding of the sample events. On the embedded store the single and concurrent
/// writers alternate, slice by slice, with raw SQLite commits of the same rows.
pub async fn run(dir: &Path, size: StoreBenchSize) -> Result<Vec<Figure>, StoreError> {
    let server = crate::app::chosen_store();
    let store = match server {
        Some(url) => {
            let store = LogStore::open(url).await?;
            if store.head().await? > 0 {
                return Err(StoreError::InvalidAppend(format!(
                    "{} already holds events; the bench writes sample events: give it an empty database",
                    url.describe()
                )));
            }
            store
        }
        None => LogStore::Sqlite(SqliteStore::open(dir.join("bench-events.db"))?),
    };
    let store = Arc::new(store);
    let mut figures = Vec::new();
    let mut n = 0u64;

    // One ceiling file beside the store's, written alongside it in every phase, so the
    // two files age alike.
    let raw = match server {
        None => Some(RawCommits::create(&dir.join("ceiling.db"))?),
        Some(_) => None,
    };
    warm_up(&store, raw.as_ref(), size.warm_up, &mut n).await?;

    // The single writer: 1 stream of 100 per append, in turn.
    let single = Workload::build("single", 1, size.single_appends, 1, &mut n);
    let (mut stored, mut ceiling) = (Duration::ZERO, Duration::ZERO);
    let appends = size.single_appends as usize;
    for s in 0..SLICES {
        let (from, to) = slice_of(appends, s);
        let events = single.per_writer[0][from..to].to_vec();
        let start = Instant::now();
        for (i, event) in (from..).zip(events) {
            let stream = format!("single-{}", i % 100);
            store
                .append(&stream, ExpectedVersion::Any, vec![event])
                .await?;
        }
        stored += start.elapsed();
        if let Some(raw) = &raw {
            let rows = (from..to).map(|i| {
                let stream = format!("single-{}", i % 100);
                (stream, (i / 100) as u64, &single.per_writer[0][i])
            });
            let rows: Vec<(String, u64, &NewEvent)> = rows.collect();
            ceiling +=
                raw.commit_rounds(rows.iter().map(|(s, v, e)| vec![(s.as_str(), *v, *e)]))?;
        }
    }
    push_with_ceiling(
        &mut figures,
        "single writer, 1 event per durable append",
        size.single_appends,
        stored,
        raw.as_ref().map(|_| ("1 row per durable commit", ceiling)),
        None,
    );

    let writers = Workload::build(
        "writer",
        size.concurrent_writers,
        size.appends_per_writer,
        1,
        &mut n,
    );
    let (stored, ceiling) = alternated(&store, raw.as_ref(), &writers).await?;
    push_with_ceiling(
        &mut figures,
        &format!(
            "{} concurrent writers, 1 event per append",
            size.concurrent_writers
        ),
        writers.events(),
        stored,
        raw.as_ref().map(|_| {
            let rows = format!("{} rows per durable commit", size.concurrent_writers);
            (rows, ceiling)
        }),
        Some(50_000.0),
    );

    let batches = Workload::build(
        "batch",
        size.batch_writers,
        size.batches / size.batch_writers.max(1),
        100,
        &mut n,
    );
    let (stored, ceiling) = alternated(&store, raw.as_ref(), &batches).await?;
    push_with_ceiling(
        &mut figures,
        &format!(
            "batches of 100 events per append, {} writers",
            size.batch_writers
        ),
        batches.events(),
        stored,
        raw.as_ref().map(|_| {
            let rows = format!("{} x 100 rows per durable commit", size.batch_writers);
            (rows, ceiling)
        }),
        Some(300_000.0),
    );

    drop(raw);
    let mut reads = Vec::new();
    let mut total = 0;
    for _ in 0..size.reads.max(1) {
        let start = Instant::now();
        total = read_and_decode_all(&store).await?;
        reads.push(start.elapsed());
    }
    reads.sort();
    figures.push(Figure::new(
        &format!(
            "read global log from zero + decode every event (median of {})",
            reads.len()
        ),
        total,
        reads[reads.len() / 2],
        "ev/s",
        Some(1_200_000.0),
    ));
    Ok(figures)
}

/// Untimed single appends to the store and to its ceiling, one after the other, before
/// anything is measured. A fresh file's first few thousand commits are slower than its
/// later ones, and by how much varies from file to file: measured cold, the same build's
/// single writer came out at 0.62-1.28 of its ceiling, warmed at 0.94-0.98.
async fn warm_up(
    store: &LogStore,
    raw: Option<&RawCommits>,
    appends: u64,
    n: &mut u64,
) -> Result<(), StoreError> {
    let warm = Workload::build("warm-up", 1, appends, 1, n);
    for (i, event) in warm.per_writer[0].iter().enumerate() {
        let stream = format!("warm-up-{}", i % 100);
        store
            .append(&stream, ExpectedVersion::Any, vec![event.clone()])
            .await?;
        if let Some(raw) = raw {
            raw.commit_rounds([vec![(stream.as_str(), (i / 100) as u64, event)]])?;
        }
    }
    Ok(())
}

/// The workload's concurrent appends to the store and, when measured, its raw ceiling's
/// rounds of the same rows, slice by slice; returns the time each took.
async fn alternated(
    store: &Arc<LogStore>,
    raw: Option<&RawCommits>,
    workload: &Workload,
) -> Result<(Duration, Duration), StoreError> {
    let (mut stored, mut ceiling) = (Duration::ZERO, Duration::ZERO);
    let appends = workload.per_writer.first().map_or(0, Vec::len) / workload.per_append.max(1);
    for s in 0..SLICES {
        let (from, to) = slice_of(appends, s);
        stored += concurrently(store, workload.slice(from, to), workload.per_append).await?;
        if let Some(raw) = raw {
            ceiling += raw.commit_rounds(workload.rounds(from, to))?;
        }
    }
    Ok((stored, ceiling))
}

/// Appends `[from, to)` of slice `s` of `appends`.
fn slice_of(appends: usize, s: usize) -> (usize, usize) {
    (appends * s / SLICES, appends * (s + 1) / SLICES)
}

/// Pushes the store's figure and, when measured, its raw ceiling and its share of it.
fn push_with_ceiling(
    figures: &mut Vec<Figure>,
    name: &str,
    events: u64,
    stored: Duration,
    ceiling: Option<(impl std::fmt::Display, Duration)>,
    target: Option<f64>,
) {
    let mut figure = Figure::new(name, events, stored, "ev/s", target);
    if let Some((rows, elapsed)) = ceiling {
        let raw = Figure::new(
            &format!("  raw SQLite ceiling, {rows}"),
            events,
            elapsed,
            "ev/s",
            None,
        );
        figure.name = format!(
            "{name} ({:.2} of the raw ceiling)",
            figure.per_second / raw.per_second.max(f64::MIN_POSITIVE)
        );
        figures.push(figure);
        figures.push(raw);
    } else {
        figures.push(figure);
    }
}

/// Each writer appends its events to its stream in chunks of `per_append`, waiting for
/// each append to be durable before the next.
async fn concurrently(
    store: &Arc<LogStore>,
    per_writer: Vec<(String, Vec<NewEvent>)>,
    per_append: usize,
) -> Result<Duration, StoreError> {
    let start = Instant::now();
    let tasks: Vec<_> = per_writer
        .into_iter()
        .map(|(stream, events)| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut events = events.into_iter().peekable();
                while events.peek().is_some() {
                    let chunk: Vec<NewEvent> = events.by_ref().take(per_append).collect();
                    store.append(&stream, ExpectedVersion::Any, chunk).await?;
                }
                Ok::<_, StoreError>(())
            })
        })
        .collect();
    for t in tasks {
        t.await.map_err(|e| StoreError::Backend(e.to_string()))??;
    }
    Ok(start.elapsed())
}

/// Reads the whole log and decodes every payload, as a projection rebuild does. The
/// embedded store's positions are gap-free, so page `k` is exactly positions
/// `(k * PAGE, (k + 1) * PAGE]` and the workers each read and decode every
/// `workers_count`-th page on their own read connection. Two workers per core: while one
/// waits for its page, the other's decode keeps the core busy (one per core left a
/// quarter of the CPU idle between the hand-offs).
pub async fn read_and_decode_all(store: &LogStore) -> Result<u64, StoreError> {
    const PAGE: u64 = 10_000;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u64);
    let workers_count = 2 * cores;
    let workers: Vec<_> = (0..workers_count)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut decoded = 0u64;
                let mut page = w;
                loop {
                    let events = store
                        .read_all(Some(Position::at(page * PAGE)), PAGE as usize)
                        .await?;
                    if events.is_empty() {
                        return Ok::<_, StoreError>(decoded);
                    }
                    let count = events.len() as u64;
                    tokio::task::spawn_blocking(move || {
                        events.iter().try_for_each(|e| {
                            e.decode_domain()
                                .map(drop)
                                .map_err(|err| StoreError::Corrupt {
                                    position: e.position,
                                    detail: err.to_string(),
                                })
                        })
                    })
                    .await
                    .map_err(|e| StoreError::Backend(e.to_string()))??;
                    decoded += count;
                    page += workers_count;
                }
            })
        })
        .collect();
    let mut total = 0;
    for w in workers {
        total += w.await.map_err(|e| StoreError::Backend(e.to_string()))??;
    }
    Ok(total)
}
