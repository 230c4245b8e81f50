//! Polling a pending order, and what happens at its deadline.
//!
//! Past the deadline an order is refunded only once OpenSRS cannot complete it any more:
//! its order (known by id, or found by a search of the domain's orders) is cancelled
//! there, or OpenSRS shows no open order for the name. When neither can be established
//! (OpenSRS does not answer, or refuses to cancel an order that has not completed), the
//! engine keeps asking with a growing back-off and, 24 poll intervals past the deadline
//! (at most a day), hands the order to an admin (`Escalated`) instead of refunding it
//! blind.

use chrono::{DateTime, Duration, Utc};

use domreg_events::*;

use super::probe::{probe, search_orders, Probe, Search};
use super::steps::{load, outcome_commands, record, StepContext, StepError, StepOutcome};
use crate::opensrs::{self, Class, Client};
use crate::store::EventStore;

/// The longest the engine keeps trying, past the deadline, to settle an order with
/// OpenSRS before it asks an admin.
pub const SETTLE_GRACE: Duration = Duration::days(1);

/// How long past the deadline an order polled every `every` is tried before it goes to
/// an admin: 24 poll intervals (a day for an hourly registry), at most [`SETTLE_GRACE`].
pub fn settle_grace(every: Duration) -> Duration {
    (every * 24).min(SETTLE_GRACE)
}

/// The longest wait between tries past the deadline.
pub const MAX_BACKOFF: Duration = Duration::hours(6);

/// When to try again past the deadline: the poll interval at first, then as long as the
/// order has been overdue (so the waits double), at most [`MAX_BACKOFF`].
pub fn overdue_retry_at(
    now: DateTime<Utc>,
    deadline: DateTime<Utc>,
    every: Duration,
) -> DateTime<Utc> {
    let overdue = (now - deadline).max(Duration::zero());
    now + every.max(overdue.min(MAX_BACKOFF))
}

/// What the deadline allows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// Not past the deadline, or not settled yet: poll again later.
    Wait,
    /// OpenSRS cannot complete the order any more: time out and refund.
    TimeOut,
    /// Nothing more the engine can establish on its own.
    Escalate(String),
}

/// What settling a past-deadline order with OpenSRS found.
struct Settlement {
    verdict: Verdict,
    /// OpenSRS's order id, when the search found it.
    found: Option<(String, RegistrarAnswer)>,
    /// A cancel was refused: look again, the order may have just completed.
    reprobe: bool,
}

async fn settle(
    client: &Client,
    domain: &DomainName,
    order: &Order,
    now: DateTime<Utc>,
    deadline: DateTime<Utc>,
) -> Settlement {
    let grace = settle_grace(order.poll_every.unwrap_or_else(|| Duration::hours(1)));
    let unsettled = |why: String, found| Settlement {
        verdict: if now >= deadline + grace {
            Verdict::Escalate(format!(
                "{why}; still unsettled {} min past the deadline, so it is not refunded blind",
                grace.num_minutes()
            ))
        } else {
            Verdict::Wait
        },
        found,
        reprobe: false,
    };
    let mut found = None;
    let id = match &order.registrar_order_id {
        Some(id) => id.clone(),
        None => match search_orders(client, domain, order.kind).await {
            Search::NoneOpen => {
                return Settlement {
                    verdict: Verdict::TimeOut,
                    found: None,
                    reprobe: false,
                }
            }
            Search::Unanswered(why) => {
                return unsettled(
                    format!(
                    "OpenSRS's order id is unknown and GET_ORDERS_BY_DOMAIN did not answer ({why})"
                ),
                    None,
                )
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
    match (e.classification.class, e.classification.code) {
        (Class::Done, _) => Settlement {
            verdict: Verdict::TimeOut,
            found,
            reprobe: false,
        },
        (_, Some(code)) => Settlement {
            verdict: Verdict::Escalate(format!(
                "OpenSRS refused to cancel order {id} ({code} {}) and the registry has not completed it",
                e.classification.text
            )),
            found,
            reprobe: true,
        },
        (_, None) => unsettled(
            format!(
                "PROCESS_PENDING cancel of order {id} got no answer ({})",
                e.classification.text
            ),
            found,
        ),
    }
}

/// Asks OpenSRS about a pending order and records the answer: done, refused, still
/// pending, or a transient error (which keeps it pending). Past its deadline an order is
/// settled with OpenSRS first (see the module's comment).
pub async fn poll<S: EventStore + Clone>(
    ctx: &StepContext<S>,
    client: &Client,
    domain: &DomainName,
    order_id: OrderId,
    auto_renew_default: bool,
) -> Result<StepOutcome, StepError> {
    let state = load(&ctx.store, domain).await?;
    let Some(order) = state.orders.get(&order_id).cloned() else {
        return Err(StepError::NoOrder(order_id, domain.to_string()));
    };
    if order.stage != Stage::Pending {
        return Ok(StepOutcome::Skipped);
    }
    let now = ctx.now;
    let mut result = probe(client, domain, &order, state.expires_at).await;
    let every = order.poll_every.unwrap_or_else(|| Duration::hours(1));
    let deadline = order.deadline.unwrap_or(now);
    let mut settlement = Settlement {
        verdict: Verdict::Wait,
        found: None,
        reprobe: false,
    };
    if matches!(result, Probe::NotYet(_)) && now >= deadline && order.escalated.is_none() {
        settlement = settle(client, domain, &order, now, deadline).await;
        if settlement.reprobe {
            result = probe(client, domain, &order, state.expires_at).await;
        }
    }
    record(
        &ctx.store,
        domain,
        state,
        |s| {
            let Some(o) = s.orders.get(&order_id) else {
                return vec![];
            };
            if o.stage != Stage::Pending {
                return vec![];
            }
            let mut commands = Vec::new();
            if let Some((id, answer)) = &settlement.found {
                commands.push(Command::RecordRegistrarOrder {
                    order_id,
                    registrar_order_id: id.clone(),
                    answer: answer.clone(),
                });
            }
            let due = o.deadline.unwrap_or(deadline);
            let next_poll_at = if now >= due {
                overdue_retry_at(now, due, every)
            } else {
                (now + every).min(due)
            };
            match &result {
                Probe::Done { expires_at, answer } => commands.extend(outcome_commands(
                    s,
                    order_id,
                    &Outcome::Confirmed {
                        expires_at: *expires_at,
                        registrar_order_id: settlement
                            .found
                            .as_ref()
                            .map(|(id, _)| id.clone())
                            .or_else(|| o.registrar_order_id.clone()),
                        answer: answer.clone(),
                    },
                    auto_renew_default,
                )),
                Probe::Refused(answer) => commands.extend([
                    Command::RecordOutcome {
                        order_id,
                        outcome: Outcome::Rejected {
                            answer: answer.clone(),
                        },
                    },
                    Command::Refund { order_id },
                ]),
                Probe::NotYet(poll) => {
                    commands.push(Command::RecordPoll {
                        order_id,
                        result: poll.clone(),
                        next_poll_at,
                    });
                    match &settlement.verdict {
                        Verdict::TimeOut if o.escalated.is_none() && now >= due => commands
                            .extend([Command::TimeOut { order_id }, Command::Refund { order_id }]),
                        Verdict::Escalate(reason) => commands.push(Command::Escalate {
                            order_id,
                            reason: reason.clone(),
                        }),
                        _ => {}
                    }
                }
            }
            commands
        },
        now,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn past_the_deadline_the_waits_grow_to_six_hours() {
        let deadline = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let every = Duration::minutes(1);
        let mut now = deadline;
        let mut waits = Vec::new();
        for _ in 0..16 {
            let next = overdue_retry_at(now, deadline, every);
            waits.push((next - now).num_minutes());
            now = next;
        }
        assert_eq!(&waits[..5], &[1, 1, 2, 4, 8]);
        assert_eq!(*waits.last().unwrap(), 360);
        // One day of an unanswering OpenSRS costs a few dozen tries, not millions.
        let tries_in_a_day = {
            let mut t = deadline;
            let mut n = 0;
            while t < deadline + SETTLE_GRACE {
                t = overdue_retry_at(t, deadline, every);
                n += 1;
            }
            n
        };
        assert!(tries_in_a_day < 30, "{tries_in_a_day}");
    }
}
