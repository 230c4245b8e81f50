//! `cqrs-es-bench URL`: the four event-store figures of `domreg bench store`, through
//! cqrs-es 0.4.12's `PersistedEventRepository` as postgres-es implements it, against
//! the PostgreSQL database at URL (an empty one; the library's `events` table is created).
//!
//! The events carry the fields of domreg's sample events (an order requested, charged,
//! submitted), as JSON; metadata as the library writes it. Appends go straight to the
//! repository (no aggregate is loaded first), so the figures are the store's alone.

use std::time::Instant;

use anyhow::Context;
use async_trait::async_trait;
use cqrs_es::persist::{PersistedEventRepository, SerializedEvent};
use cqrs_es::{Aggregate, DomainEvent, EventEnvelope};
use postgres_es::PostgresEventRepository;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPoolOptions;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum OrderEvent {
    Requested {
        order_id: String,
        domain: String,
        account: String,
        kind: String,
        period_years: u8,
        connection: String,
        price_minor: i64,
        currency: String,
    },
    Charged {
        order_id: String,
        account: String,
        amount_minor: i64,
        currency: String,
    },
    Submitted {
        order_id: String,
        connection: String,
        lease: Option<String>,
    },
}

impl DomainEvent for OrderEvent {
    fn event_type(&self) -> String {
        match self {
            OrderEvent::Requested { .. } => "Requested",
            OrderEvent::Charged { .. } => "Charged",
            OrderEvent::Submitted { .. } => "Submitted",
        }
        .into()
    }
    fn event_version(&self) -> String {
        "1".into()
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Order {
    events: u64,
}

#[async_trait]
impl Aggregate for Order {
    type Command = ();
    type Event = OrderEvent;
    type Error = std::io::Error;
    type Services = ();
    fn aggregate_type() -> String {
        "order".into()
    }
    async fn handle(&self, _: (), _: &()) -> Result<Vec<OrderEvent>, std::io::Error> {
        Ok(Vec::new())
    }
    fn apply(&mut self, _: OrderEvent) {
        self.events += 1;
    }
}

fn sample(n: u64) -> OrderEvent {
    let order_id = format!("{:032x}", n / 3);
    match n % 3 {
        0 => OrderEvent::Requested {
            order_id,
            domain: "example-bench.com".into(),
            account: "acct-1042".into(),
            kind: "register".into(),
            period_years: 1,
            connection: "main".into(),
            price_minor: 1299,
            currency: "USD".into(),
        },
        1 => OrderEvent::Charged {
            order_id,
            account: "acct-1042".into(),
            amount_minor: 1299,
            currency: "USD".into(),
        },
        _ => OrderEvent::Submitted {
            order_id,
            connection: "main".into(),
            lease: None,
        },
    }
}

fn serialized(aggregate: &str, sequence: usize, n: u64) -> anyhow::Result<SerializedEvent> {
    let event = sample(n);
    Ok(SerializedEvent::new(
        aggregate.to_string(),
        sequence,
        Order::aggregate_type(),
        event.event_type(),
        event.event_version(),
        serde_json::to_value(&event)?,
        serde_json::json!({"actor": "engine", "at": "2026-12-01T00:00:00Z"}),
    ))
}

fn row(name: &str, count: u64, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{name:<56} {count:>9} {seconds:>9.3} {:>12.0} events/s",
        count as f64 / seconds
    );
}

/// `writers` tasks, each persisting `appends` appends of `per_append` events to a stream
/// of its own, sequence after sequence.
async fn write(
    repo: &std::sync::Arc<PostgresEventRepository>,
    tag: &str,
    writers: u64,
    appends: u64,
    per_append: u64,
) -> anyhow::Result<u64> {
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..writers {
        let repo = repo.clone();
        let aggregate = format!("{tag}-{w}");
        tasks.spawn(async move {
            let mut sequence = 0;
            for a in 0..appends {
                let events = (0..per_append)
                    .map(|i| {
                        sequence += 1;
                        serialized(&aggregate, sequence, a * per_append + i)
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                repo.persist::<Order>(&events, None)
                    .await
                    .map_err(|e| anyhow::anyhow!("persist: {e}"))?;
            }
            anyhow::Ok(appends * per_append)
        });
    }
    let mut total = 0;
    while let Some(done) = tasks.join_next().await {
        total += done??;
    }
    Ok(total)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::args()
        .nth(1)
        .context("usage: cqrs-es-bench postgres://USER@HOST:PORT/DB (an empty database)")?;
    let pool = PgPoolOptions::new()
        .max_connections(64)
        .connect(&url)
        .await
        .context("connecting")?;
    // The library's own table (postgres-es's db/init.sql).
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS events (
            aggregate_type text NOT NULL, aggregate_id text NOT NULL,
            sequence bigint CHECK (sequence >= 0) NOT NULL, event_type text NOT NULL,
            event_version text NOT NULL, payload json NOT NULL, metadata json NOT NULL,
            PRIMARY KEY (aggregate_type, aggregate_id, sequence))",
    )
    .execute(&pool)
    .await?;
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await?;
    anyhow::ensure!(
        existing == 0,
        "the database must be empty; `events` holds {existing} rows"
    );
    let repo = std::sync::Arc::new(PostgresEventRepository::new(pool));
    println!("cqrs-es 0.4.12 + postgres-es 0.4.12 (sqlx 0.8), {url}");
    println!(
        "{:<56} {:>9} {:>9} {:>12}",
        "benchmark", "count", "seconds", "rate"
    );

    let started = Instant::now();
    let n = write(&repo, "single", 1, 2_000, 1).await?;
    row("single writer, 1 event per durable append", n, started);

    let started = Instant::now();
    let n = write(&repo, "concurrent", 64, 1_000, 1).await?;
    row("64 concurrent writers, 1 event per append", n, started);

    let started = Instant::now();
    let n = write(&repo, "batch", 4, 1_250, 100).await?;
    row("batches of 100 events per append, 4 writers", n, started);

    // Replay: every event of the aggregate type, in order, decoded into the event type.
    let started = Instant::now();
    let mut stream = repo
        .stream_all_events::<Order>()
        .await
        .map_err(|e| anyhow::anyhow!("stream: {e}"))?;
    let mut decoded = 0u64;
    while let Some(event) = stream.next::<Order>(&None).await {
        let envelope: EventEnvelope<Order> = event.map_err(|e| anyhow::anyhow!("replay: {e}"))?;
        std::hint::black_box(&envelope.payload);
        decoded += 1;
    }
    row("read every event from zero + decode", decoded, started);
    Ok(())
}
