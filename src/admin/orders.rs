//! The Async Manager's controls (cancel, reset, check) and the other order operations an
//! admin performs, shared by the CLI and the HTTP API.

use chrono::{DateTime, Utc};
use serde::Serialize;

use domreg_events::*;

use super::AdminError;
use crate::app::App;
use crate::engine::client_for;
use crate::engine::steps::{self, StepContext, StepOutcome};
use crate::opensrs;

/// The answer of an order operation: where the order stands afterwards.
#[derive(Debug, Clone, Serialize)]
pub struct OrderOutcome {
    pub order_id: OrderId,
    pub domain: String,
    pub kind: OrderKind,
    pub account: AccountId,
    /// `pending`, `submitted`, `accepted` or the end (`confirmed`, `cancelled`, ...).
    pub state: String,
    pub refunded: Option<Money>,
    pub deadline: Option<DateTime<Utc>>,
    pub last_answer: Option<RegistrarAnswer>,
    /// What OpenSRS said to a call this operation made (PROCESS_PENDING on cancel).
    pub registrar_call: Option<RegistrarAnswer>,
    /// Set when the engine had already moved the order on and nothing was done.
    pub already_moved_on: bool,
}

fn state_name(o: &Order) -> String {
    match serde_json::to_value(o.stage) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(m)) => m
            .get("ended")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| "ended".into()),
        _ => format!("{:?}", o.stage).to_lowercase(),
    }
}

fn outcome(name: &DomainName, o: &Order) -> OrderOutcome {
    OrderOutcome {
        order_id: o.id,
        domain: name.to_string(),
        kind: o.kind,
        account: o.account.clone(),
        state: state_name(o),
        refunded: o.refunded,
        deadline: o.deadline,
        last_answer: o.last_answer.clone(),
        registrar_call: None,
        already_moved_on: false,
    }
}

pub fn parse_order_id(order: &str) -> Result<OrderId, AdminError> {
    order.trim().parse().map_err(|_| {
        AdminError::invalid(
            "invalid_order_id",
            format!("{order:?} is not an order id (a UUID such as those the Async Manager lists)"),
        )
    })
}

/// The order id a client chose, directly or through an idempotency key.
pub fn chosen_order_id(
    account: &str,
    order_id: Option<&str>,
    key: Option<&str>,
) -> Result<Option<OrderId>, AdminError> {
    match (order_id, key) {
        (Some(id), _) => parse_order_id(id).map(Some),
        (None, Some(key)) => {
            let account = AccountId::parse(account)?;
            Ok(Some(OrderId::for_idempotency_key(&account, key)?))
        }
        (None, None) => Ok(None),
    }
}

/// The finished-orders query, its `end` checked.
pub fn finished_query(
    end: Option<&str>,
    account: Option<String>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    limit: usize,
    offset: usize,
) -> Result<domreg_projections::FinishedQuery, AdminError> {
    const ENDS: [&str; 4] = ["confirmed", "rejected", "timed_out", "cancelled"];
    if let Some(e) = end.filter(|e| !ENDS.contains(e)) {
        return Err(AdminError::invalid(
            "invalid_end",
            format!("{e:?} is not an end: use one of {}", ENDS.join(", ")),
        ));
    }
    if let Some(a) = &account {
        AccountId::parse(a)?;
    }
    if limit > 10_000 {
        return Err(AdminError::invalid(
            "invalid_limit",
            format!("limit {limit} is too large: at most 10000"),
        ));
    }
    Ok(domreg_projections::FinishedQuery {
        end: end.map(str::to_string),
        account,
        since,
        until,
        limit,
        offset,
    })
}

/// The domain and state of an open order.
async fn open_order(
    app: &mut App,
    order: &str,
) -> Result<(DomainName, OrderId, Domain), AdminError> {
    app.catch_up().await?;
    let id = parse_order_id(order)?;
    let domain = app
        .models
        .open_order_domain(&id.to_string())?
        .ok_or_else(|| {
            AdminError::NotFound(format!(
                "no open order {id}; the Async Manager lists the pending ones"
            ))
        })?;
    let name = DomainName::parse(&domain)?;
    let state = steps::load(&app.store, &name).await?;
    Ok((name, id, state))
}

/// Cancels an open order and refunds it. An order OpenSRS may be working on is cancelled
/// there first (PROCESS_PENDING), and only if OpenSRS confirms: refunding an order the
/// registry then completes would give the domain away.
pub async fn cancel(app: &mut App, order: &str, actor: Actor) -> Result<OrderOutcome, AdminError> {
    let (name, id, state) = open_order(app, order).await?;
    let o = state.orders[&id].clone();
    let mut registrar_call = None;
    match (o.stage, &o.registrar_order_id) {
        (Stage::Accepted, _) => {} // never sent: nothing to undo at OpenSRS
        (Stage::Submitted, _) => {
            return Err(AdminError::Conflict(format!(
                "order {id} is being sent to OpenSRS and its answer is not recorded yet; the engine resolves it within a round: check again shortly"
            )))
        }
        (Stage::Pending, None) => {
            return Err(AdminError::Conflict(format!(
                "order {id} cannot be cancelled at OpenSRS: its answer was lost, so OpenSRS's order id is unknown. The engine is finding out where it stands; use check, or wait until it ends (a refund follows if it never completes)"
            )))
        }
        (Stage::Pending, Some(registrar_order)) => {
            let client = client_for(app, &o.connection).map_err(AdminError::Registrar)?;
            let e = client
                .call(&opensrs::Command::ProcessPending {
                    order_id: registrar_order.clone(),
                    cancel: true,
                })
                .await;
            let answer = RegistrarAnswer::new(
                e.classification.code,
                format!("OpenSRS order {registrar_order}: {}", e.classification.text),
            );
            if e.classification.class != opensrs::Class::Done {
                return Err(AdminError::Conflict(format!(
                    "OpenSRS did not cancel order {registrar_order} ({} {}); nothing was changed or refunded. It may have completed meanwhile: use check to see where it stands",
                    e.classification.code.map(|c| c.to_string()).unwrap_or_else(|| "no answer".into()),
                    e.classification.text
                )));
            }
            registrar_call = Some(answer);
        }
        (Stage::Ended(_), _) => unreachable_open(id)?,
    }
    let reason = format!("cancelled by {actor}");
    let mut commands = vec![Command::Cancel {
        order_id: id,
        reason,
    }];
    if o.charged.is_some() {
        commands.push(Command::Refund { order_id: id });
    }
    steps::append_decisions_by(&app.store, &state, commands, actor, Utc::now()).await??;
    let after = steps::load(&app.store, &name).await?;
    let mut out = outcome(&name, &after.orders[&id]);
    out.registrar_call = registrar_call;
    Ok(out)
}

/// Ends an order the engine handed to the admin (`Escalated`) after the admin has checked
/// at OpenSRS by hand (the Reseller Web Interface) that it will not complete: Cancelled
/// and Refunded without a call, with the admin's word recorded as the reason. Only for
/// escalated orders: for any other, OpenSRS is asked.
pub async fn cancel_checked_by_hand(
    app: &mut App,
    order: &str,
    actor: Actor,
) -> Result<OrderOutcome, AdminError> {
    let (name, id, state) = open_order(app, order).await?;
    let o = state.orders[&id].clone();
    let Some(why) = o.escalated.clone() else {
        return Err(AdminError::Conflict(format!(
            "order {id} was not handed to the admin; cancel it without --checked-at-opensrs, and OpenSRS is asked"
        )));
    };
    let mut commands = vec![Command::Cancel {
        order_id: id,
        reason: format!(
            "cancelled by {actor} after checking at OpenSRS by hand that it will not complete (the engine could not: {why})"
        ),
    }];
    if o.charged.is_some() {
        commands.push(Command::Refund { order_id: id });
    }
    steps::append_decisions_by(&app.store, &state, commands, actor, Utc::now()).await??;
    let after = steps::load(&app.store, &name).await?;
    Ok(outcome(&name, &after.orders[&id]))
}

/// `open_order` only returns open orders; an ended one here is a bug, reported, not a panic.
fn unreachable_open(id: OrderId) -> Result<(), AdminError> {
    Err(AdminError::Internal(format!(
        "order {id} has already ended"
    )))
}

/// Restarts an open order's wait: a new deadline from its TLD's policy.
pub async fn reset(app: &mut App, order: &str, actor: Actor) -> Result<OrderOutcome, AdminError> {
    let (name, id, state) = open_order(app, order).await?;
    let kind = state.orders[&id].kind;
    let policy = app
        .models
        .policy(name.tld(), kind == OrderKind::Transfer)?
        .policy;
    let now = Utc::now();
    let deadline = now + chrono::Duration::seconds(policy.timeout_secs as i64);
    steps::append_decisions_by(
        &app.store,
        &state,
        vec![Command::ResetDeadline {
            order_id: id,
            deadline,
        }],
        actor,
        now,
    )
    .await??;
    let after = steps::load(&app.store, &name).await?;
    Ok(outcome(&name, &after.orders[&id]))
}

/// Polls a pending order now, as the engine would.
pub async fn check(app: &mut App, order: &str) -> Result<OrderOutcome, AdminError> {
    let (name, id, state) = open_order(app, order).await?;
    let o = &state.orders[&id];
    if o.stage != Stage::Pending {
        return Err(AdminError::Conflict(format!(
            "order {id} is not pending at a registry (it is {}); the engine handles it",
            state_name(o)
        )));
    }
    let client = client_for(app, &o.connection).map_err(AdminError::Registrar)?;
    let ctx = StepContext::once(app.store.clone(), app.secrets.clone(), Utc::now());
    let auto_renew = app
        .models
        .registrar(&o.connection)?
        .is_some_and(|c| c.auto_renew_default);
    let step = crate::engine::poll::poll(&ctx, &client, &name, id, auto_renew).await?;
    let after = steps::load(&app.store, &name).await?;
    let mut out = outcome(&name, &after.orders[&id]);
    out.already_moved_on = matches!(step, StepOutcome::Skipped);
    Ok(out)
}

/// Switches a domain's automatic renewal on or off.
pub async fn set_auto_renew(
    app: &mut App,
    domain: &str,
    enabled: bool,
    actor: Actor,
) -> Result<DomainName, AdminError> {
    let name = DomainName::parse(domain)?;
    for _ in 0..3 {
        let state = steps::load(&app.store, &name).await?;
        match steps::append_decisions_by(
            &app.store,
            &state,
            vec![Command::SetAutoRenew { enabled }],
            actor.clone(),
            Utc::now(),
        )
        .await
        {
            Ok(Ok(_)) => return Ok(name),
            Ok(Err(e)) => return Err(e.into()),
            Err(crate::store::StoreError::WrongExpectedVersion { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AdminError::Conflict(format!(
        "{name} kept changing; try again"
    )))
}
