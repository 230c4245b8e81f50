//! The gauges the log and read models know, for `/metrics` and the overview page.

use super::AdminError;
use crate::metrics::{Gauges, SyncGauge};
use crate::store::EventStore;

pub async fn gauges(app: &mut crate::app::App) -> Result<Gauges, AdminError> {
    let log_position = app.store.head().await?;
    let folded = app.models.lowest_checkpoint()?.map_or(0, |(c, _)| c);
    // The lag is measured before this request catches up, as the engine sees it.
    let read_model_lag = log_position.saturating_sub(folded);
    app.catch_up().await?;
    Ok(Gauges {
        orders: app.models.order_counts()?,
        log_position,
        read_model_lag,
        quarantined: app.models.quarantined()?,
        sync: crate::engine::sync::last_reports(&app.data_dir)
            .into_values()
            .map(|r| SyncGauge {
                findings: vec![
                    ("listed", r.listed),
                    ("drift", r.drift.len()),
                    ("gone", r.gone.len()),
                    ("unknown", r.unknown.len()),
                    ("late_completion", r.late_completions.len()),
                ],
                finished_at: r.finished_at,
                connection: r.connection,
            })
            .collect(),
    })
}
