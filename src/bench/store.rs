//! Throughput of the event store: the embedded one on the local disk, or the server log
//! named by `--store` (an empty PostgreSQL database, say).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use uuid::Uuid;

use domreg_events::event::{Charged, Requested, Submitted};
use domreg_events::*;

use super::Figure;
use crate::store::{
    EventStore, ExpectedVersion, LogStore, NewEvent, Position, SqliteStore, StoreError,
};

/// How much work each figure does.
#[derive(Debug, Clone, Copy)]
pub struct StoreBenchSize {
    pub single_appends: u64,
    pub concurrent_writers: u64,
    pub appends_per_writer: u64,
    pub batches: u64,
    pub batch_writers: u64,
}

impl Default for StoreBenchSize {
    fn default() -> Self {
        StoreBenchSize {
            single_appends: 2_000,
            concurrent_writers: 64,
            appends_per_writer: 1_000,
            batches: 5_000,
            batch_writers: 4,
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

/// Events are built before each timed phase: the figures measure the store, not the
/// JSON encoding of the sample events.
pub async fn run(dir: &Path, size: StoreBenchSize) -> Result<Vec<Figure>, StoreError> {
    let store = match crate::app::chosen_store() {
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
    let mut next_events = |count: u64| {
        let events: Vec<NewEvent> = (n..n + count).map(sample_event).collect();
        n += count;
        events
    };

    let events = next_events(size.single_appends);
    let start = Instant::now();
    for (i, event) in events.into_iter().enumerate() {
        store
            .append(
                &format!("single-{}", i % 100),
                ExpectedVersion::Any,
                vec![event],
            )
            .await?;
    }
    figures.push(Figure::new(
        "single writer, 1 event per durable append",
        size.single_appends,
        start.elapsed(),
        "ev/s",
        None,
    ));

    let per_writer: Vec<Vec<NewEvent>> = (0..size.concurrent_writers)
        .map(|_| next_events(size.appends_per_writer))
        .collect();
    let concurrent = size.concurrent_writers * size.appends_per_writer;
    let elapsed = concurrently(&store, per_writer, 1, "writer").await?;
    figures.push(Figure::new(
        &format!(
            "{} concurrent writers, 1 event per append",
            size.concurrent_writers
        ),
        concurrent,
        elapsed,
        "ev/s",
        Some(50_000.0),
    ));

    let per_writer: Vec<Vec<NewEvent>> = (0..size.batch_writers)
        .map(|_| next_events(size.batches / size.batch_writers.max(1) * 100))
        .collect();
    let batched: u64 = per_writer.iter().map(|w| w.len() as u64).sum();
    let elapsed = concurrently(&store, per_writer, 100, "batch").await?;
    figures.push(Figure::new(
        &format!(
            "batches of 100 events per append, {} writers",
            size.batch_writers
        ),
        batched,
        elapsed,
        "ev/s",
        Some(300_000.0),
    ));

    if crate::app::chosen_store().is_none() {
        ceilings(dir, &size, &mut figures)?;
    }

    let start = Instant::now();
    let total = read_and_decode_all(&store).await?;
    figures.push(Figure::new(
        "read global log from zero + decode every event",
        total,
        start.elapsed(),
        "ev/s",
        Some(1_000_000.0),
    ));
    Ok(figures)
}

/// The raw SQLite ceilings of the single writer and the concurrent writers, measured
/// in this run on a file of its own; each store figure gets its share of its ceiling.
fn ceilings(
    dir: &Path,
    size: &StoreBenchSize,
    figures: &mut Vec<Figure>,
) -> Result<(), StoreError> {
    let cases = [
        (0, 1usize, size.single_appends as usize),
        (
            1,
            size.concurrent_writers as usize,
            size.appends_per_writer as usize,
        ),
    ];
    for (figure, rows, rounds) in cases {
        let path = dir.join(format!("ceiling-{rows}.db"));
        let elapsed =
            crate::store::sqlite::ceiling::raw_commits(&path, rows, rounds, sample_event)?;
        let ceiling = Figure::new(
            &format!("raw SQLite ceiling: {rows} row(s) per durable commit"),
            (rows * rounds) as u64,
            elapsed,
            "ev/s",
            None,
        );
        if let Some(f) = figures.get_mut(figure) {
            f.name = format!(
                "{} ({:.2} of the raw ceiling)",
                f.name,
                f.per_second / ceiling.per_second.max(f64::MIN_POSITIVE)
            );
        }
        figures.push(ceiling);
    }
    Ok(())
}

/// Each writer appends its events in chunks of `per_append`, to its own streams, waiting
/// for each append to be durable before the next.
async fn concurrently(
    store: &Arc<LogStore>,
    per_writer: Vec<Vec<NewEvent>>,
    per_append: usize,
    stream_prefix: &str,
) -> Result<std::time::Duration, StoreError> {
    let start = Instant::now();
    let tasks: Vec<_> = per_writer
        .into_iter()
        .enumerate()
        .map(|(w, events)| {
            let store = store.clone();
            let stream = format!("{stream_prefix}-{w}");
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
/// `(k * PAGE, (k + 1) * PAGE]` and two workers (one per core) can each read and decode
/// every other page on their own read connection.
pub async fn read_and_decode_all(store: &LogStore) -> Result<u64, StoreError> {
    const PAGE: u64 = 10_000;
    const WORKERS: u64 = 2;
    let workers: Vec<_> = (0..WORKERS)
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
                    page += WORKERS;
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
