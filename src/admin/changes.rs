//! Changes to a registered domain (nameservers, registrar lock) as an admin asks them,
//! shared by the CLI, the API and the pages: asked and marked sent in one append, sent to
//! OpenSRS once, then recorded as applied or refused with OpenSRS's answer.

use serde::Serialize;

use domreg_events::change::{ChangeStage, DomainChange};
use domreg_events::*;

use super::AdminError;
use crate::app::App;
use crate::engine::change::{self, ChangeEnd};
use crate::engine::client_for;
use crate::unit_of_work::{load, UnitOfWork};

/// How long the sender owns a change's call (the client's timeout and a margin).
const CALL: std::time::Duration = std::time::Duration::from_secs(120);

#[derive(Debug, Clone, Serialize)]
pub struct ChangeOutcome {
    pub change_id: OrderId,
    pub domain: String,
    /// `applied`, `refused`, or `sent` (no answer yet; the engine reads the domain back).
    pub state: &'static str,
    pub change: DomainChange,
    pub answer: Option<RegistrarAnswer>,
}

/// Asks for `change` of `domain` and sends it. A refusal by the model (no such domain,
/// an open order or change, bad nameservers) writes nothing.
pub async fn apply(
    app: &mut App,
    domain: &str,
    change: DomainChange,
    actor: Actor,
) -> Result<ChangeOutcome, AdminError> {
    app.catch_up().await?;
    let name = DomainName::parse(domain)?;
    let now = app.clock.now();
    let change_id = OrderId(uuid::Uuid::now_v7());
    let lease = change::lease(&format!("admin-{}", std::process::id()), CALL, now);
    let asked = Command::RequestChange {
        change_id,
        change: change.clone(),
    };
    let sent = Command::RecordChangeSubmission {
        change_id,
        lease: lease.clone(),
    };
    // Checked first, so a refusal names the model's reason before any call is made.
    let state = load(&app.store, &name).await?;
    decide(&state, asked.clone(), now)?;
    let connection = state.connection.clone().ok_or_else(|| {
        AdminError::Conflict(format!("{name} has no OpenSRS connection recorded"))
    })?;
    let client = client_for(app, &connection).map_err(AdminError::Registrar)?;
    let written = UnitOfWork::new(&app.store, actor.clone(), now)
        .from(state)
        .run(&name, |_| vec![asked.clone(), sent.clone()])
        .await?;
    let change = written
        .state()
        .changes
        .get(&change_id)
        .map(|c| c.change.clone())
        .ok_or_else(|| AdminError::Internal(format!("change {change_id} left {name}")))?;
    let end = change::send(&client, &name, &change).await;
    let state = change::record(&app.store, &name, change_id, &end, actor, app.clock.now()).await?;
    app.refresh_after_append().await;
    let recorded = state.changes.get(&change_id);
    if let (Some(ChangeStage::Refused), Some(a)) = (
        recorded.map(|c| &c.stage),
        recorded.and_then(|c| c.answer.as_ref()),
    ) {
        return Err(AdminError::Conflict(format!(
            "OpenSRS did not make the change ({}): {}{}; recorded as change {change_id}",
            change.describe(),
            a.code.map(|c| format!("{c} ")).unwrap_or_default(),
            a.text.trim()
        )));
    }
    Ok(ChangeOutcome {
        change_id,
        domain: name.to_string(),
        state: match recorded.map(|c| &c.stage) {
            Some(ChangeStage::Applied) => "applied",
            Some(ChangeStage::Refused) => "refused",
            _ => "sent",
        },
        change,
        answer: match &end {
            ChangeEnd::Unresolved(why) => Some(RegistrarAnswer::new(None, why.clone())),
            _ => recorded.and_then(|c| c.answer.clone()),
        },
    })
}
