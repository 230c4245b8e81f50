//! Polling a pending order, and settling it with OpenSRS at its deadline: the I/O. What
//! is recorded, and when an order may time out, is the model's (`domreg_events::policy`,
//! `domreg_events::deadline`).

use chrono::{DateTime, Duration, Utc};

use domreg_events::deadline::{verdict, Settlement, Verdict};
use domreg_events::policy::{after_poll, Finding, PollReport};
use domreg_events::*;

use super::probe::{probe, search_orders, Search};
use super::steps::{load, record, StepContext, StepError, StepOutcome};
use crate::opensrs::{self, Class, Client};
use crate::store::EventStore;

/// What trying to settle a past-deadline order with OpenSRS found.
struct Settled {
    settlement: Settlement,
    /// OpenSRS's order id, when the search found it.
    found: Option<(String, RegistrarAnswer)>,
}

async fn settle(client: &Client, domain: &DomainName, order: &Order) -> Settled {
    let mut found = None;
    let id = match &order.registrar_order_id {
        Some(id) => id.clone(),
        None => match search_orders(client, domain, order.kind).await {
            Search::NoneOpen => {
                return Settled {
                    settlement: Settlement::NoneOpen,
                    found: None,
                }
            }
            Search::NoTrace => {
                return Settled {
                    settlement: no_trace(client, domain, order).await,
                    found: None,
                }
            }
            Search::Unanswered(why) => {
                return Settled {
                    settlement: Settlement::Unanswered(format!(
                    "OpenSRS's order id is unknown and GET_ORDERS_BY_DOMAIN did not answer ({why})"
                )),
                    found: None,
                }
            }
            Search::Open { id, status } => {
                found = Some((
                    id.clone(),
                    RegistrarAnswer::new(
                        Some(200),
                        format!("GET_ORDERS_BY_DOMAIN: order {id} is {status}"),
                    ),
                ));
                id
            }
        },
    };
    let e = client
        .call(&opensrs::Command::ProcessPending {
            order_id: id.clone(),
            cancel: true,
        })
        .await;
    let c = &e.classification;
    let settlement = match (c.class, c.code) {
        (Class::Done, _) => Settlement::CancelledThere,
        (_, Some(code)) => Settlement::CancelRefused(format!(
            "OpenSRS refused to cancel order {id} ({code} {}) and the registry has not completed it",
            c.text
        )),
        (_, None) => Settlement::Unanswered(format!(
            "PROCESS_PENDING cancel of order {id} got no answer ({})",
            c.text
        )),
    };
    Settled { settlement, found }
}

/// OpenSRS has no order of this kind for the name. A registration whose answer was lost,
/// not yet sent once more, whose name LOOKUP still shows available, is worth sending
/// once more; anything else times out (nothing can complete at OpenSRS).
async fn no_trace(client: &Client, domain: &DomainName, order: &Order) -> Settlement {
    if order.kind != OrderKind::Register || order.resubmitted {
        return Settlement::NoneOpen;
    }
    let e = client
        .call(&opensrs::Command::Lookup {
            domain: domain.to_string(),
        })
        .await;
    let available = e
        .outcome
        .as_ref()
        .ok()
        .and_then(|r| r.attr("status"))
        .is_some_and(|s| s.eq_ignore_ascii_case("available"));
    if available {
        Settlement::NoTrace(format!(
            "OpenSRS has no order for {domain} (GET_ORDERS_BY_DOMAIN) and LOOKUP shows it available: the first send never arrived"
        ))
    } else {
        Settlement::NoneOpen
    }
}

/// Asks OpenSRS about a pending order and records what the model makes of the answer:
/// done, refused, still pending, or a transient error (which keeps it pending). Past its
/// deadline the order is settled with OpenSRS first.
pub async fn poll<S: EventStore + Clone>(
    ctx: &StepContext<S>,
    client: &Client,
    domain: &DomainName,
    order_id: OrderId,
    connection: Policy,
) -> Result<StepOutcome, StepError> {
    let state = load(&ctx.store, domain).await?;
    let Some(order) = state.orders.get(&order_id).cloned() else {
        return Err(StepError::NoOrder(order_id, domain.to_string()));
    };
    if order.stage != Stage::Pending {
        return Ok(StepOutcome::Skipped);
    }
    let now: DateTime<Utc> = ctx.now;
    let mut finding = probe(client, domain, &order, state.expires_at).await;
    let every = order.poll_every.unwrap_or_else(|| Duration::hours(1));
    let deadline = order.deadline.unwrap_or(now);
    let mut report = PollReport {
        finding: finding.clone(),
        found: None,
        verdict: Verdict::Wait,
    };
    if matches!(finding, Finding::NotYet(_)) && now >= deadline && order.escalated.is_none() {
        let settled = settle(client, domain, &order).await;
        if matches!(settled.settlement, Settlement::CancelRefused(_)) {
            // A refused cancel: look again, the order may have just completed.
            finding = probe(client, domain, &order, state.expires_at).await;
        }
        report = PollReport {
            finding,
            found: settled.found,
            verdict: verdict(&settled.settlement, now, deadline, every),
        };
    }
    record(
        &ctx.store,
        domain,
        state,
        connection,
        |s| after_poll(s, order_id, &report, now),
        now,
    )
    .await
}
