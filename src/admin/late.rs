//! The admin's choices about a late completion (an order that ended here without
//! completing, while OpenSRS registered the domain to the reseller after all): charge the
//! customer again, or let it go. Never made silently: `domreg sync` lists each one, and
//! a charge-again first confirms at OpenSRS that the domain is in the account.

use serde::Serialize;

use domreg_events::event::LateChoice;
use domreg_events::*;

use super::orders::parse_order_id;
use super::AdminError;
use crate::app::App;
use crate::engine::client_for;
use crate::opensrs;
use crate::unit_of_work::{load, UnitOfWork};

#[derive(Debug, Clone, Serialize)]
pub struct LateOutcome {
    pub order_id: OrderId,
    pub domain: String,
    pub account: AccountId,
    pub choice: LateChoice,
    /// The registry's expiry OpenSRS reported (what the customer now holds on a charge).
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Makes the admin's choice about `order`; `charge_again` or let it go.
pub async fn settle(
    app: &mut App,
    order: &str,
    charge_again: bool,
    actor: Actor,
) -> Result<LateOutcome, AdminError> {
    app.catch_up().await?;
    let id = parse_order_id(order)?;
    let domain = app
        .models
        .order_domain(&id.to_string())?
        .ok_or_else(|| AdminError::NotFound(format!("no order {id}")))?;
    let name = DomainName::parse(&domain)?;
    let state = load(&app.store, &name).await?;
    let connection = state
        .orders
        .get(&id)
        .map(|o| o.connection.clone())
        .ok_or_else(|| AdminError::NotFound(format!("no order {id} on {name}")))?;
    // Refused before any call when the model says it is no late completion.
    let now = app.clock.now();
    let probe = Command::SettleLateCompletion {
        order_id: id,
        charge_again,
        expires_at: now,
        reason: String::new(),
    };
    decide(&state, probe, now)?;
    let client = client_for(app, &connection).map_err(AdminError::Registrar)?;
    let belongs = client
        .call(&opensrs::Command::BelongsToRsp {
            domain: name.to_string(),
        })
        .await;
    let ours = belongs
        .outcome
        .as_ref()
        .ok()
        .and_then(|r| r.attributes.flag("belongs_to_rsp"));
    if ours != Some(true) {
        return Err(AdminError::Conflict(format!(
            "OpenSRS does not confirm that {name} is in the account of {connection} (BELONGS_TO_RSP: {}); nothing was recorded",
            belongs.classification.text.trim()
        )));
    }
    let expires_at = crate::engine::schedule::registry_expiry(&client, &name)
        .await
        .ok_or_else(|| {
            AdminError::Registrar(format!(
                "OpenSRS gave no expiry for {name} (GET DOMAIN); nothing was recorded, try again"
            ))
        })?;
    let reason = format!(
        "{} by {actor}; BELONGS_TO_RSP: {}",
        if charge_again {
            "charged again"
        } else {
            "let go"
        },
        belongs.classification.text.trim()
    );
    let command = Command::SettleLateCompletion {
        order_id: id,
        charge_again,
        expires_at,
        reason,
    };
    let written = UnitOfWork::new(&app.store, actor, now)
        .from(state)
        .run(&name, |_| vec![command.clone()])
        .await?;
    let order = written
        .state()
        .orders
        .get(&id)
        .ok_or_else(|| AdminError::Internal(format!("order {id} left {name}")))?;
    app.refresh_after_append().await;
    Ok(LateOutcome {
        order_id: id,
        domain: name.to_string(),
        account: order.account.clone(),
        choice: order.late.clone().unwrap_or(LateChoice::LetGo),
        expires_at,
    })
}
