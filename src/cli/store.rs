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
        StoreCommand::Show => {
            let url = remembered::effective(data_dir, None)?;
            let head = LogStore::open(&url).await?.head().await?;
            println!("{} ({head} events)", url.describe());
        }
    }
    Ok(())
}
