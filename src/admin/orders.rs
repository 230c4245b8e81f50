//! The Async Manager's controls (cancel, reset, check) and the other order operations an
//! admin performs, shared by the CLI and the HTTP API.

use chrono::{DateTime, Utc};
use serde::Serialize;

use domreg_events::policy::{self, cancel_plan, CancelPlan};
use domreg_events::*;

use super::AdminError;
use crate::app::App;
use crate::engine::client_for;
use crate::engine::steps::{StepContext, StepOutcome};
use crate::opensrs;
use crate::unit_of_work::{load, UnitOfWork};

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

fn outcome(name: &DomainName, o: &Order) -> OrderOutcome {
    OrderOutcome {
        order_id: o.id,
        domain: name.to_string(),
        kind: o.kind,
        account: o.account.clone(),
        state: o.stage.to_string(),
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
    if let Some(e) = end.filter(|e| !End::ALL.iter().any(|x| x.as_str() == *e)) {
        let ends: Vec<&str> = End::ALL.iter().map(|x| x.as_str()).collect();
        return Err(AdminError::invalid(
            "invalid_end",
            format!("{e:?} is not an end: use one of {}", ends.join(", ")),
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
    let state = load(&app.store, &name).await?;
    Ok((name, id, state))
}

/// Writes `commands` to an order's domain for `actor`, with the reactions the model
/// calls for (the refund after a cancel), and answers where the order stands then.
async fn write(
    app: &mut App,
    name: &DomainName,
    id: OrderId,
    state: Domain,
    actor: Actor,
    plan: impl FnMut(&Domain) -> Vec<Command>,
) -> Result<OrderOutcome, AdminError> {
    let now = app.clock.now();
    let written = UnitOfWork::new(&app.store, actor, now)
        .from(state)
        .run(name, plan)
        .await?;
    let order = written
        .state()
        .orders
        .get(&id)
        .ok_or_else(|| AdminError::Internal(format!("order {id} left {name}")))?;
    Ok(outcome(name, order))
}

/// Cancels an open order and refunds it, as the model's cancel plan allows: an order
/// OpenSRS may be working on is cancelled there first (PROCESS_PENDING), and ended only
/// if OpenSRS confirms.
pub async fn cancel(app: &mut App, order: &str, actor: Actor) -> Result<OrderOutcome, AdminError> {
    let (name, id, state) = open_order(app, order).await?;
    let mut registrar_call = None;
    if let CancelPlan::CancelAtRegistrar { registrar_order_id } = cancel_plan(&state, id)? {
        let connection = state.orders[&id].connection.clone();
        let client = client_for(app, &connection).map_err(AdminError::Registrar)?;
        let e = client
            .call(&opensrs::Command::ProcessPending {
                order_id: registrar_order_id.clone(),
                cancel: true,
            })
            .await;
        if e.classification.class != opensrs::Class::Done {
            return Err(AdminError::Conflict(format!(
                "OpenSRS did not cancel order {registrar_order_id} ({} {}); nothing was changed or refunded. It may have completed meanwhile: use check to see where it stands",
                e.classification.code.map(|c| c.to_string()).unwrap_or_else(|| "no answer".into()),
                e.classification.text
            )));
        }
        registrar_call = Some(RegistrarAnswer::new(
            e.classification.code,
            format!(
                "OpenSRS order {registrar_order_id}: {}",
                e.classification.text
            ),
        ));
    }
    let reason = format!("cancelled by {actor}");
    let cancel = Command::Cancel {
        order_id: id,
        reason,
    };
    let mut out = write(app, &name, id, state, actor, |_| vec![cancel.clone()]).await?;
    out.registrar_call = registrar_call;
    Ok(out)
}

/// Ends an order the engine handed to the admin (`Escalated`) after the admin has checked
/// at OpenSRS by hand (the Reseller Web Interface) that it will not complete: Cancelled
/// and Refunded without a call, with the admin's word recorded as the reason.
pub async fn cancel_checked_by_hand(
    app: &mut App,
    order: &str,
    actor: Actor,
) -> Result<OrderOutcome, AdminError> {
    let (name, id, state) = open_order(app, order).await?;
    let cancel = policy::cancel_checked_by_hand(&state, id, &actor.to_string())?;
    write(app, &name, id, state, actor, |_| vec![cancel.clone()]).await
}

/// What cancelling an open order would give back (the confirmation page says it).
pub async fn refund_on_cancel(app: &mut App, order: &str) -> Result<Option<Money>, AdminError> {
    let (_, id, state) = open_order(app, order).await?;
    Ok(policy::refund_on_cancel(&state, id))
}

/// Restarts an open order's wait: a new deadline from its TLD's policy.
pub async fn reset(app: &mut App, order: &str, actor: Actor) -> Result<OrderOutcome, AdminError> {
    let (name, id, state) = open_order(app, order).await?;
    let kind = state.orders[&id].kind;
    let policy = app
        .models
        .policy(name.tld(), kind == OrderKind::Transfer)?
        .policy;
    let deadline = app.clock.now() + chrono::Duration::seconds(policy.timeout_secs as i64);
    let reset = Command::ResetDeadline {
        order_id: id,
        deadline,
    };
    write(app, &name, id, state, actor, |_| vec![reset.clone()]).await
}

/// Polls a pending order now, as the engine would.
pub async fn check(app: &mut App, order: &str) -> Result<OrderOutcome, AdminError> {
    let (name, id, state) = open_order(app, order).await?;
    let o = &state.orders[&id];
    if o.stage != Stage::Pending {
        return Err(AdminError::Conflict(format!(
            "order {id} is not pending at a registry (it is {}); the engine handles it",
            o.stage
        )));
    }
    let client = client_for(app, &o.connection).map_err(AdminError::Registrar)?;
    let ctx = StepContext::once(app.store.clone(), app.secrets.clone(), app.clock.now());
    let connection = Policy::of(app.models.registrar(&o.connection)?.as_ref());
    let step = crate::engine::poll::poll(&ctx, &client, &name, id, connection).await?;
    let after = load(&app.store, &name).await?;
    let mut out = outcome(&name, &after.orders[&id]);
    out.already_moved_on = matches!(step, StepOutcome::Skipped);
    Ok(out)
}

/// The term of a domain's automatic renewals, as a request gives it (absent: the
/// connection's).
pub fn renew_years(years: Option<i64>) -> Result<Option<Period>, AdminError> {
    years
        .map(|y| {
            Period::years(y).map_err(|_| {
                AdminError::invalid(
                    "invalid_years",
                    format!("years {y}: an automatic renewal orders 1 to 10 years"),
                )
            })
        })
        .transpose()
}

/// Switches a domain's automatic renewal on or off.
pub async fn set_auto_renew(
    app: &mut App,
    domain: &str,
    enabled: bool,
    years: Option<Period>,
    actor: Actor,
) -> Result<DomainName, AdminError> {
    let name = DomainName::parse(domain)?;
    UnitOfWork::new(&app.store, actor, app.clock.now())
        .run(&name, |_| vec![Command::SetAutoRenew { enabled, years }])
        .await?;
    Ok(name)
}
