//! Settings an admin changes: OpenSRS connections (`registrars.rs`), TLD routes, prices
//! and async policies (`catalog.rs`), payments received and account contacts
//! (`accounts.rs`). Shared by the CLI, the HTTP API and the pages.

mod accounts;
mod catalog;
mod registrars;

pub use accounts::*;
pub use catalog::*;
pub use registrars::*;

use domreg_events::settings::SettingsEvent;
use domreg_events::Actor;

use super::AdminError;
use crate::app::App;
use crate::store::{EventStore, ExpectedVersion};

/// Appends one settings event to a stream whose order needs no check (routes, prices,
/// policies, payments, contacts: each event stands on its own).
pub(super) async fn record(
    app: &mut App,
    stream: &str,
    event: SettingsEvent,
    actor: Actor,
) -> Result<(), AdminError> {
    app.append_settings(
        stream,
        ExpectedVersion::Any,
        &[event],
        actor,
        app.clock.now(),
    )
    .await?;
    Ok(())
}

pub(super) async fn stream_version(
    store: &impl EventStore,
    stream: &str,
) -> Result<ExpectedVersion, AdminError> {
    let len = store.read_stream(stream, 0, usize::MAX).await?.len() as u64;
    Ok(ExpectedVersion::after(len))
}
