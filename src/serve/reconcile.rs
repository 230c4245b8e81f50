//! `serve`'s reconciliation round: each connection is reconciled with its account at
//! OpenSRS (`engine::sync`) when its last full report is older than the interval, first
//! no sooner than one interval (at most five minutes) after start, so a restart loop
//! never hammers OpenSRS. Runs beside the engine with an `App` of its own; a crash
//! mid-listing resumes from the checkpoint.

use std::path::PathBuf;
use std::time::Duration;

use crate::app::App;
use crate::engine::share::Share;
use crate::engine::sync::{last_reports, sync};
use crate::engine::sync_listing::Pace;

/// Runs until aborted.
pub async fn run(data_dir: PathBuf, every: Duration, pace: Pace, share: Share) {
    let every_chrono = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::days(1));
    tokio::time::sleep(every.min(Duration::from_secs(300))).await;
    loop {
        if let Err(e) = round(&data_dir, every_chrono, pace, &share).await {
            tracing::warn!(error = %e, "reconciliation round failed; tried again later");
        }
        tokio::time::sleep(every.min(Duration::from_secs(60))).await;
    }
}

async fn round(
    data_dir: &std::path::Path,
    every: chrono::Duration,
    pace: Pace,
    share: &Share,
) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    app.catch_up().await?;
    let now = app.clock.now();
    let last = last_reports(data_dir);
    for config in app.models.registrars()? {
        let due = last
            .get(&config.title)
            .and_then(|r| r.finished_at)
            .is_none_or(|t| now - t >= every);
        // With several engines on the log, each connection is one engine's to reconcile.
        if !due || !share.owns(&format!("reconcile {}", config.title)) {
            continue;
        }
        let client = match crate::engine::client_for(&app, &config.title) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(connection = %config.title, error = %e, "not reconciled");
                continue;
            }
        };
        match sync(&mut app, &client, &config.title, None, false, pace).await {
            Ok(r) => tracing::info!(
                connection = %config.title,
                listed = r.listed,
                drift = r.drift.len(),
                gone = r.gone.len(),
                unknown = r.unknown.len(),
                late_completions = r.late_completions.len(),
                recorded = r.recorded,
                "reconciled with OpenSRS"
            ),
            Err(e) => {
                tracing::warn!(connection = %config.title, error = %e, "reconciliation failed")
            }
        }
    }
    Ok(())
}
