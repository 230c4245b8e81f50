//! Moving a log: a realistic embedded log of N events (interleaved over N/10 streams)
//! copied with `store copy`'s code into the log `--store` names (an empty one) or into
//! a second file, and verified stream by stream.

use std::path::Path;
use std::time::Instant;

use super::store::sample_event;
use super::Figure;
use crate::store::{copy, Append, EventStore, ExpectedVersion, LogStore, SqliteStore, StoreError};

/// Builds the source log: runs of 1 to 3 events per append, streams interleaved.
async fn source(store: &SqliteStore, events: u64) -> Result<(), StoreError> {
    let streams = (events / 10).max(1);
    let mut n = 0;
    while n < events {
        let mut appends = Vec::new();
        while n < events && appends.len() < 5_000 {
            let run = (1 + n % 3).min(events - n);
            appends.push(Append {
                stream: format!("domain-move{}.com", (n * 7919) % streams),
                expected: ExpectedVersion::Any,
                events: (n..n + run).map(sample_event).collect(),
            });
            n += run;
        }
        for r in store.append_in_order(appends).await {
            r?;
        }
    }
    Ok(())
}

pub async fn run(dir: &Path, events: u64) -> Result<Vec<Figure>, StoreError> {
    let from = SqliteStore::open(dir.join("source.db"))?;
    let start = Instant::now();
    source(&from, events).await?;
    let built = start.elapsed();
    let (to, name) = match crate::app::chosen_store() {
        Some(url) => (LogStore::open(url).await?, url.describe()),
        None => (
            LogStore::Sqlite(SqliteStore::open(dir.join("target.db"))?),
            "a second SQLite file".to_string(),
        ),
    };
    if to.head().await? > 0 {
        return Err(StoreError::InvalidAppend(format!(
            "{name} already holds events; the copy bench needs an empty log"
        )));
    }
    let start = Instant::now();
    let report = copy::copy(&from, &to, dir, "bench", |_| {}).await?;
    let copied = start.elapsed();
    if !report.mismatched.is_empty() || report.events != events {
        return Err(StoreError::Backend(format!(
            "the copy did not verify: {} events, {} streams differ",
            report.events,
            report.mismatched.len()
        )));
    }
    Ok(vec![
        Figure::new("build the embedded source log", events, built, "ev/s", None),
        Figure::new(
            &format!(
                "copy into {name} and verify every stream ({} streams)",
                report.streams
            ),
            events,
            copied,
            "ev/s",
            None,
        ),
    ])
}
