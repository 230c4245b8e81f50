//! `domreg bench`: measured figures for docs/benchmarks.md. Each benchmark prints a table,
//! or one JSON object with `--json`.

pub mod audit;
pub mod copy;
pub mod cpu;
pub mod engine;
pub mod models;
pub mod opensrs;
pub mod store;
pub mod sync;

use serde::Serialize;

/// One measured figure.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub name: String,
    pub count: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub unit: String,
    /// The target the issue set, if any, in the same unit.
    pub target: Option<f64>,
}

impl Figure {
    pub fn new(
        name: &str,
        count: u64,
        elapsed: std::time::Duration,
        unit: &str,
        target: Option<f64>,
    ) -> Self {
        let seconds = elapsed.as_secs_f64();
        Figure {
            name: name.to_string(),
            count,
            seconds,
            per_second: if seconds > 0.0 {
                count as f64 / seconds
            } else {
                0.0
            },
            unit: unit.to_string(),
            target,
        }
    }
}

/// Appends each new stream's events (expecting no stream yet), 64 appends in flight, as
/// many callers would: how the benchmarks seed a log.
pub async fn append_new_streams(
    store: &crate::store::LogStore,
    streams: impl IntoIterator<Item = anyhow::Result<(String, Vec<crate::store::NewEvent>)>>,
) -> anyhow::Result<()> {
    use crate::store::{EventStore, ExpectedVersion};
    let mut set = tokio::task::JoinSet::new();
    for item in streams {
        let (stream, events) = item?;
        let store = store.clone();
        set.spawn(async move {
            store
                .append(&stream, ExpectedVersion::NoStream, events)
                .await
                .map(|_| ())
        });
        while set.len() >= 64 {
            if let Some(r) = set.join_next().await {
                r??;
            }
        }
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    Ok(())
}

/// Renders figures as an aligned text table.
pub fn table(title: &str, figures: &[Figure]) -> String {
    let mut out = format!("{title}\n");
    out.push_str(&format!(
        "{:<48} {:>10} {:>9} {:>14} {:>12}\n",
        "benchmark", "count", "seconds", "rate", "target"
    ));
    for f in figures {
        let target = f
            .target
            .map(|t| format!("{t:.0}"))
            .unwrap_or_else(|| "-".into());
        let verdict = match f.target {
            Some(t) if f.per_second >= t => " ok",
            Some(_) => " BELOW",
            None => "",
        };
        out.push_str(&format!(
            "{:<48} {:>10} {:>9.3} {:>10.0} {:<3} {:>12}{}\n",
            f.name, f.count, f.seconds, f.per_second, f.unit, target, verdict
        ));
    }
    out
}
