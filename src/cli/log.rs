//! `domreg log ...`: look at the raw event log.

use std::path::Path;

use clap::{Args, Subcommand};

use crate::store::{EventStore, Position};

#[derive(Debug, Args)]
pub struct LogArgs {
    #[command(subcommand)]
    pub which: Which,
}

#[derive(Debug, Subcommand)]
pub enum Which {
    /// Print events of the global log, oldest first.
    Show {
        /// Start after this global position.
        #[arg(long)]
        after: Option<u64>,
        /// At most this many events.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Append sample events (for tests of the store across processes and crashes). Only
    /// in debug builds: a release binary has no verb that writes arbitrary events.
    #[cfg(debug_assertions)]
    #[command(hide = true)]
    AppendSample {
        #[arg(long, default_value = "sample")]
        stream: String,
        /// Events in all.
        #[arg(long, default_value_t = 100)]
        count: u64,
        /// Events per append.
        #[arg(long, default_value_t = 1)]
        batch: u64,
    },
}

pub async fn run(data_dir: &Path, args: LogArgs) -> anyhow::Result<()> {
    let store = crate::app::open_log(data_dir).await?;
    match args.which {
        #[cfg(debug_assertions)]
        Which::AppendSample {
            stream,
            count,
            batch,
        } => {
            let mut written = 0;
            while written < count {
                let n = batch.min(count - written);
                let events = (written..written + n)
                    .map(crate::bench::store::sample_event)
                    .collect();
                store
                    .append(&stream, crate::store::ExpectedVersion::Any, events)
                    .await?;
                written += n;
            }
            println!("appended {written} events to {stream}");
            Ok(())
        }
        Which::Show { after, limit, json } => {
            let events = store.read_all(after.map(Position::at), limit).await?;
            for e in events {
                if json {
                    let data: serde_json::Value =
                        serde_json::from_slice(&e.data).unwrap_or_else(|_| {
                            serde_json::Value::String(String::from_utf8_lossy(&e.data).into())
                        });
                    println!(
                        "{}",
                        serde_json::json!({
                            "position": e.position.commit,
                            "stream": e.stream,
                            "version": e.version,
                            "type": e.event_type,
                            "schema_version": e.schema_version,
                            "id": e.id,
                            "metadata": e.metadata,
                            "data": data,
                        })
                    );
                } else {
                    println!(
                        "{:>8}  {}  {:<24} {}#{}  by {}",
                        e.position,
                        e.metadata.at.format("%Y-%m-%d %H:%M:%S"),
                        e.event_type,
                        e.stream,
                        e.version,
                        e.metadata.actor
                    );
                }
            }
            Ok(())
        }
    }
}
