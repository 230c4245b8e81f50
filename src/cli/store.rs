//! `domreg store use URL` / `domreg store show`: which log this data directory belongs to.

use std::path::Path;

use clap::Subcommand;

use crate::store::{remembered, EventStore, LogStore, StoreUrl};

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Make URL (postgres://..., esdb://..., sqlite:PATH) this data directory's log, once
    /// it answers; every later verb here uses it without --store.
    Use { url: String },
    /// The log this data directory uses, and how far it reaches.
    Show,
    /// Copy every event of one log into another (an empty one), resumable, then verify
    /// the copy stream by stream. Stop the engines writing to the source first.
    Copy {
        /// The log to copy (default: this data directory's).
        #[arg(long)]
        from: Option<String>,
        /// The log to copy into.
        #[arg(long)]
        to: String,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(data_dir: &Path, command: StoreCommand) -> anyhow::Result<()> {
    match command {
        StoreCommand::Use { url } => {
            let parsed = StoreUrl::parse(&url)?;
            let head = LogStore::open(&parsed).await?.head().await?;
            std::fs::create_dir_all(data_dir)?;
            remembered::remember(data_dir, &url)?;
            println!(
                "{} now uses {} ({head} events); its read models are caught up from it at the next verb",
                data_dir.display(),
                parsed.describe()
            );
        }
        StoreCommand::Copy { from, to, json } => {
            let from = match from {
                Some(f) => StoreUrl::parse(&f)?,
                None => remembered::effective(data_dir, None)?,
            };
            let to = StoreUrl::parse(&to)?;
            if from == to {
                anyhow::bail!("--from and --to name the same log ({})", to.describe());
            }
            let (source, target) = (LogStore::open(&from).await?, LogStore::open(&to).await?);
            std::fs::create_dir_all(data_dir)?;
            let key = format!("{}\n{}", from.describe(), to.describe());
            let started = std::time::Instant::now();
            let mut shown = 0;
            let report = crate::store::copy::copy(&source, &target, data_dir, &key, |n| {
                if n >= shown + 100_000 {
                    shown = n;
                    eprintln!(
                        "  {n} events copied ({:.0} s)",
                        started.elapsed().as_secs_f64()
                    );
                }
            })
            .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "copied {} events from {} to {} in {:.1} s; the target holds {} events in {} streams",
                    report.copied,
                    from.describe(),
                    to.describe(),
                    started.elapsed().as_secs_f64(),
                    report.events,
                    report.streams
                );
            }
            if !report.mismatched.is_empty() {
                anyhow::bail!(
                    "the copy differs from the source in {} stream(s): {}",
                    report.mismatched.len(),
                    report
                        .mismatched
                        .iter()
                        .take(10)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            if !json {
                println!("verified: every stream has the same events (count and digest of ids, versions, types, data, metadata and times); `domreg store use` the new log, then `domreg verify`");
            }
        }
        StoreCommand::Show => {
            let url = remembered::effective(data_dir, None)?;
            let store = LogStore::open(&url).await?;
            println!("{} ({} events)", url.describe(), store.head().await?);
            if let LogStore::Postgres(pg) = &store {
                let seen = pg.engines_seen().await?;
                if seen.is_empty() {
                    println!("no engine has worked on it in the last day");
                }
                for (engine, ago) in seen {
                    println!("engine {engine}: last seen {ago:.0} s ago");
                }
            }
        }
    }
    Ok(())
}
