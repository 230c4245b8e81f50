//! Changes to a registered domain (nameservers, contacts, lock, privacy, child hosts, the
//! IPS tag) as an admin asks them,
//! shared by the CLI, the API and the pages: asked and marked sent in one append, sent to
//! OpenSRS once, then recorded as applied or refused with OpenSRS's answer.

use serde::Serialize;

use domreg_events::change::{ChangeStage, DomainChange};
use domreg_events::*;

use super::AdminError;
use crate::app::App;
use crate::engine::change::{self, ChangeEnd};
use crate::unit_of_work::{load, UnitOfWork};

/// How long a change's call may take unless told otherwise (the client's default).
const CALL: std::time::Duration = std::time::Duration::from_secs(120);

#[derive(Debug, Clone, Serialize)]
pub struct ChangeOutcome {
    pub change_id: OrderId,
    pub domain: String,
    /// `applied`, `refused` (only in bulk summaries), or `sent` (no answer yet; the
    /// engine reads the domain back).
    pub state: &'static str,
    /// Set when this id's change had been made (or refused) by an earlier run.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub earlier: bool,
    pub change: DomainChange,
    pub answer: Option<RegistrarAnswer>,
    /// Charged to the holder for it (a priced change), and whether it was refunded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charged: Option<Money>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub refunded: bool,
}

/// What the admin priced `change` at for `tld`, if anything: switching privacy on.
fn price_of(app: &App, tld: &str, change: &DomainChange) -> Result<Option<Money>, AdminError> {
    match change {
        DomainChange::Privacy { enabled: true } => {
            Ok(app
                .models
                .price(tld, domreg_events::settings::PriceKind::Privacy, None)?)
        }
        _ => Ok(None),
    }
}

/// Asks for `change` of `domain` and sends it. A refusal by the model (no such domain,
/// an open order or change, bad nameservers) writes nothing; one by OpenSRS is recorded
/// and returned as an error naming OpenSRS's answer.
pub async fn apply(
    app: &mut App,
    domain: &str,
    change: DomainChange,
    actor: Actor,
) -> Result<ChangeOutcome, AdminError> {
    let id = OrderId(uuid::Uuid::now_v7());
    let out = apply_as(app, domain, change, actor, id, None).await?;
    refused_is_an_error(out)
}

/// A refusal by OpenSRS as the single-change surfaces report it: an error.
fn refused_is_an_error(out: ChangeOutcome) -> Result<ChangeOutcome, AdminError> {
    if out.state != "refused" {
        return Ok(out);
    }
    let answer = out.answer.as_ref().map(|a| a.line()).unwrap_or_default();
    Err(AdminError::Conflict(format!(
        "OpenSRS did not make the change ({}): {answer}; recorded as change {}",
        out.change.describe(),
        out.change_id
    )))
}

fn outcome_of(
    name: &DomainName,
    c: &domreg_events::change::Change,
    earlier: bool,
) -> ChangeOutcome {
    ChangeOutcome {
        change_id: c.id,
        domain: name.to_string(),
        state: match c.stage {
            ChangeStage::Applied => "applied",
            ChangeStage::Refused => "refused",
            _ => "sent",
        },
        earlier,
        change: c.change.clone(),
        answer: c.answer.clone(),
        charged: c.charged.as_ref().map(|(_, amount)| *amount),
        refunded: c.refunded,
    }
}

/// [`apply`] under a chosen id, with OpenSRS's refusal as an outcome. The same id again
/// never sends twice: a change already made or refused is reported as it ended; one sent
/// whose sender's lease has lapsed is settled by reading the domain back; one that never
/// reached OpenSRS, or that the read back did not show made, is asked again under the
/// next id of its chain (`OrderId::next_attempt`).
pub async fn apply_as(
    app: &mut App,
    domain: &str,
    change: DomainChange,
    actor: Actor,
    change_id: OrderId,
    timeout: Option<std::time::Duration>,
) -> Result<ChangeOutcome, AdminError> {
    app.catch_up().await?;
    let name = DomainName::parse(domain)?;
    let now = app.clock.now();
    let mut state = load(&app.store, &name).await?;
    let mut change_id = change_id;
    // The id was used before: report how that ended, settling it first if its sender
    // was lost. An attempt OpenSRS never made is followed by the next one (sent below
    // when there is none yet), so "ask again" is what a run with the same key does.
    while let Some(c) = state.changes.get(&change_id) {
        if let ChangeStage::Submitted(_) = c.stage {
            if domreg_events::change::leased(c, now) {
                return Ok(outcome_of(&name, c, true));
            }
            let client = crate::engine::client_with(app, &c.connection, timeout)
                .map_err(AdminError::Registrar)?;
            let lost = "an earlier run stopped before OpenSRS's answer was recorded; nothing was sent again";
            let end = change::settle_lost(&client, &name, &c.change, lost).await;
            state = change::record(&app.store, &name, change_id, &end, actor.clone(), now).await?;
            app.refresh_after_append().await;
            if let ChangeEnd::Unresolved(_) = end {
                let c = state.changes.get(&change_id).ok_or_else(|| {
                    AdminError::Internal(format!("change {change_id} left {name}"))
                })?;
                return Ok(outcome_of(&name, c, true));
            }
            continue;
        }
        if !c.never_made() {
            return Ok(outcome_of(&name, c, true));
        }
        change_id = change_id.next_attempt();
    }
    let lease = change::lease(
        &format!("admin-{}", std::process::id()),
        timeout.unwrap_or(CALL),
        now,
    );
    let price = price_of(app, name.tld(), &change)?;
    let asked = Command::RequestChange {
        change_id,
        change: change.clone(),
        price,
    };
    let sent = Command::RecordChangeSubmission {
        change_id,
        lease: lease.clone(),
    };
    // Checked first, so a refusal names the model's reason before any call is made.
    decide(&state, asked.clone(), now)?;
    let connection = state.connection.clone().ok_or_else(|| {
        AdminError::Conflict(format!("{name} has no OpenSRS connection recorded"))
    })?;
    let client =
        crate::engine::client_with(app, &connection, timeout).map_err(AdminError::Registrar)?;
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
    let recorded = state
        .changes
        .get(&change_id)
        .ok_or_else(|| AdminError::Internal(format!("change {change_id} left {name}")))?;
    let mut out = outcome_of(&name, recorded, false);
    if let ChangeEnd::Unresolved(why) = &end {
        out.answer = Some(RegistrarAnswer::new(None, why.clone()));
    }
    Ok(out)
}

/// The nameservers of the OpenSRS connection that holds `domain` (for a reset).
pub async fn connection_nameservers(
    app: &mut App,
    domain: &str,
) -> Result<Vec<String>, AdminError> {
    let name = DomainName::parse(domain)?;
    let state = load(&app.store, &name).await?;
    let connection = state
        .connection
        .ok_or_else(|| DomainError::NotRegistered(name.to_string()))?;
    let defaults = app
        .models
        .registrar(&connection)?
        .map(|c| c.nameservers)
        .unwrap_or_default();
    if defaults.is_empty() {
        return Err(AdminError::invalid(
            "no_default_nameservers",
            format!("connection {connection} has no default nameservers (`domreg registrar set {connection} --nameservers ...`)"),
        ));
    }
    Ok(defaults)
}
