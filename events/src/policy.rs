//! The process manager's policy: which commands follow an event, and what the engine
//! records after it talks to OpenSRS. Pure, like `decide`: the engine gathers the facts
//! (an answer, a poll, a search) and executes exactly the commands these functions name.
//!
//! - A refund follows every end but a confirmation ([`react`]).
//! - A confirmed registration or transfer takes its connection's auto-renew default.
//! - A late answer (the order moved on) is kept as a fact: the OpenSRS order id it names.
//! - Past its deadline a pending order is refunded only once OpenSRS cannot complete it;
//!   otherwise it is retried with a growing back-off and, after a grace, handed to an
//!   admin ([`deadline`](crate::deadline)).
//! - An open order is cancelled only as [`cancel_plan`] allows.

use chrono::{DateTime, Duration, Utc};

use crate::deadline::{next_poll_at, Verdict};
use crate::decide::{decide, Command, DomainError, Outcome};
use crate::domain::{evolve, Domain, Stage};
use crate::event::{DomainEvent, PollResult, RegistrarAnswer};
use crate::{OrderId, OrderKind};

/// The settings the reactions depend on (from the order's connection).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// New registrations and transfers renew automatically once confirmed.
    pub auto_renew_default: bool,
    /// New registrations are sent locked (`f_lock_domain`) where the TLD has a lock.
    pub lock_new_registrations: bool,
}

impl Policy {
    /// The policy of a connection (none configured: the defaults).
    pub fn of(connection: Option<&crate::settings::RegistrarConfig>) -> Self {
        Policy {
            auto_renew_default: connection.is_some_and(|c| c.auto_renew_default),
            lock_new_registrations: connection.is_none_or(|c| c.lock_new_registrations),
        }
    }
}

/// The commands that follow `event`, now applied to `state`.
pub fn react(state: &Domain, event: &DomainEvent, policy: &Policy) -> Vec<Command> {
    let ended = match event {
        DomainEvent::Rejected(e) => Some(e.order_id),
        DomainEvent::TimedOut(e) => Some(e.order_id),
        DomainEvent::Cancelled(e) => Some(e.order_id),
        _ => None,
    };
    if let Some(order_id) = ended {
        return match state.orders.get(&order_id) {
            Some(o) if o.charged.is_some() && o.refunded.is_none() => {
                vec![Command::Refund { order_id }]
            }
            _ => vec![],
        };
    }
    if let DomainEvent::Confirmed(e) = event {
        let new_domain = state
            .orders
            .get(&e.order_id)
            .is_some_and(|o| o.kind != OrderKind::Renew);
        if new_domain && policy.auto_renew_default && !state.auto_renew {
            return vec![Command::SetAutoRenew {
                enabled: true,
                years: None,
            }];
        }
    }
    vec![]
}

/// Decides `commands` in turn, and every command their events call for ([`react`]), on
/// `state`. All or nothing: one refusal refuses the whole unit.
pub fn decide_all(
    state: &Domain,
    commands: Vec<Command>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<Vec<DomainEvent>, DomainError> {
    let mut next = state.clone();
    let mut events = Vec::new();
    let mut queue: std::collections::VecDeque<Command> = commands.into();
    while let Some(command) = queue.pop_front() {
        for event in decide(&next, command, now)? {
            next = evolve(next, &event);
            // Reactions run before the next command, in the order they arise.
            for (i, c) in react(&next, &event, policy).into_iter().enumerate() {
                queue.insert(i, c);
            }
            events.push(event);
        }
    }
    Ok(events)
}

/// What to record when OpenSRS answers a submission: the outcome if the order can still
/// take it; for an answer that arrives after the order moved on (another engine
/// recovered it, or it ended), the OpenSRS order id it carries.
pub fn after_outcome(state: &Domain, order_id: OrderId, outcome: &Outcome) -> Vec<Command> {
    let Some(order) = state.orders.get(&order_id) else {
        return vec![];
    };
    match (order.stage, outcome) {
        (Stage::Submitted, _)
        | (Stage::Pending, Outcome::Confirmed { .. } | Outcome::Rejected { .. }) => {
            vec![Command::RecordOutcome {
                order_id,
                outcome: outcome.clone(),
            }]
        }
        (_, outcome) => match late_order_id(outcome) {
            Some((id, answer)) => vec![Command::RecordRegistrarOrder {
                order_id,
                registrar_order_id: id,
                answer: RegistrarAnswer::new(
                    answer.as_ref().and_then(|a| a.code),
                    format!(
                        "late answer, after the order moved on: {}",
                        answer.map_or("(no text)".into(), |a| a.text)
                    ),
                ),
            }],
            None => vec![],
        },
    }
}

fn late_order_id(outcome: &Outcome) -> Option<(String, Option<RegistrarAnswer>)> {
    match outcome {
        Outcome::Unknown {
            registrar_order_id: Some(id),
            answer,
            ..
        } => Some((id.clone(), answer.clone())),
        Outcome::Confirmed {
            registrar_order_id: Some(id),
            answer,
            ..
        } => Some((id.clone(), Some(answer.clone()))),
        _ => None,
    }
}

/// What to record when a submission provably never reached OpenSRS: try again later
/// or, after [`MAX_SENDS`](crate::deadline::MAX_SENDS) tries, cancel (and so refund) an
/// order that nothing was ever sent for.
pub fn after_send_failure(
    state: &Domain,
    order_id: OrderId,
    reason: &str,
    now: DateTime<Utc>,
) -> Vec<Command> {
    let Some(o) = state
        .orders
        .get(&order_id)
        .filter(|o| o.stage == Stage::Submitted)
    else {
        return vec![];
    };
    let failures = o.send_failures + 1;
    let mut commands = vec![Command::RecordSendFailure {
        order_id,
        reason: format!(
            "not sent (try {failures} of {}): {reason}",
            crate::deadline::MAX_SENDS
        ),
        retry_at: crate::deadline::send_retry_at(now, failures),
    }];
    if failures >= crate::deadline::MAX_SENDS {
        commands.push(Command::Cancel {
            order_id,
            reason: format!(
                "OpenSRS could not be reached in {failures} tries ({reason}); nothing was ever sent"
            ),
        });
    }
    commands
}

/// What asking OpenSRS about a pending order found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The order completed; the domain expires then.
    Done {
        expires_at: DateTime<Utc>,
        answer: RegistrarAnswer,
    },
    /// The registry refused it.
    Refused(RegistrarAnswer),
    /// Not complete yet, or no answer (a transient error keeps the order pending).
    NotYet(PollResult),
}

/// One poll of a pending order: what was found, the OpenSRS order id a search found, and
/// (past the deadline) what settling with OpenSRS allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollReport {
    pub finding: Finding,
    pub found: Option<(String, RegistrarAnswer)>,
    pub verdict: Verdict,
}

/// What to record after polling a pending order at `now`.
pub fn after_poll(
    state: &Domain,
    order_id: OrderId,
    report: &PollReport,
    now: DateTime<Utc>,
) -> Vec<Command> {
    let Some(o) = state.orders.get(&order_id) else {
        return vec![];
    };
    if o.stage != Stage::Pending {
        return vec![];
    }
    let mut commands = Vec::new();
    if let Some((id, answer)) = &report.found {
        commands.push(Command::RecordRegistrarOrder {
            order_id,
            registrar_order_id: id.clone(),
            answer: answer.clone(),
        });
    }
    let every = o.poll_every.unwrap_or_else(|| Duration::hours(1));
    let due = o.deadline.unwrap_or(now);
    match &report.finding {
        Finding::Done { expires_at, answer } => commands.push(Command::RecordOutcome {
            order_id,
            outcome: Outcome::Confirmed {
                expires_at: *expires_at,
                registrar_order_id: report
                    .found
                    .as_ref()
                    .map(|(id, _)| id.clone())
                    .or_else(|| o.registrar_order_id.clone()),
                answer: answer.clone(),
            },
        }),
        Finding::Refused(answer) => commands.push(Command::RecordOutcome {
            order_id,
            outcome: Outcome::Rejected {
                answer: answer.clone(),
            },
        }),
        Finding::NotYet(poll) => {
            commands.push(Command::RecordPoll {
                order_id,
                result: poll.clone(),
                next_poll_at: next_poll_at(now, due, every),
            });
            match &report.verdict {
                Verdict::TimeOut if o.escalated.is_none() && now >= due => {
                    commands.push(Command::TimeOut { order_id })
                }
                Verdict::Escalate(reason) => commands.push(Command::Escalate {
                    order_id,
                    reason: reason.clone(),
                }),
                Verdict::Resubmit(reason)
                    if o.escalated.is_none() && now >= due && !o.resubmitted =>
                {
                    commands.push(Command::Resubmit {
                        order_id,
                        reason: reason.clone(),
                    })
                }
                _ => {}
            }
        }
    }
    commands
}

/// What cancelling an open order takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelPlan {
    /// It was never sent: nothing to undo at OpenSRS.
    NothingToUndo,
    /// OpenSRS may be working on it: cancel it there (PROCESS_PENDING) first, and end it
    /// only if OpenSRS confirms; refunding an order the registry then completes would
    /// give the domain away.
    CancelAtRegistrar { registrar_order_id: String },
}

/// How an admin may cancel `order_id`, or why not now.
pub fn cancel_plan(state: &Domain, order_id: OrderId) -> Result<CancelPlan, CancelRefusal> {
    let o = state
        .orders
        .get(&order_id)
        .ok_or(CancelRefusal::Ended(order_id))?;
    match (o.stage, &o.registrar_order_id) {
        (Stage::Accepted, _) => Ok(CancelPlan::NothingToUndo),
        (Stage::Submitted, _) => Err(CancelRefusal::BeingSubmitted(order_id)),
        (Stage::Pending, None) => Err(CancelRefusal::RegistrarOrderUnknown(order_id)),
        (Stage::Pending, Some(id)) => Ok(CancelPlan::CancelAtRegistrar {
            registrar_order_id: id.clone(),
        }),
        (Stage::Ended(_), _) => Err(CancelRefusal::Ended(order_id)),
    }
}

/// The command that ends an escalated order once an admin checked at OpenSRS by hand
/// that it will not complete. Only escalated orders: for any other, OpenSRS is asked.
pub fn cancel_checked_by_hand(
    state: &Domain,
    order_id: OrderId,
    admin: &str,
) -> Result<Command, CancelRefusal> {
    let o = state
        .orders
        .get(&order_id)
        .filter(|o| o.is_open())
        .ok_or(CancelRefusal::Ended(order_id))?;
    let why = o
        .escalated
        .clone()
        .ok_or(CancelRefusal::NotEscalated(order_id))?;
    Ok(Command::Cancel {
        order_id,
        reason: format!(
            "cancelled by {admin} after checking at OpenSRS by hand that it will not complete (the engine could not: {why})"
        ),
    })
}

/// Why an open order cannot be cancelled now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CancelRefusal {
    #[error("order {0} is being sent to OpenSRS and its answer is not recorded yet; the engine resolves it within a round: check again shortly")]
    BeingSubmitted(OrderId),
    #[error("order {0} cannot be cancelled at OpenSRS: its answer was lost, so OpenSRS's order id is unknown. The engine is finding out where it stands; use check, or wait until it ends (a refund follows if it never completes)")]
    RegistrarOrderUnknown(OrderId),
    #[error("order {0} has already ended")]
    Ended(OrderId),
    #[error("order {0} was not handed to the admin; cancel it without --checked-at-opensrs, and OpenSRS is asked")]
    NotEscalated(OrderId),
}

/// What cancelling `order_id` now would give back: its charge, unless already refunded.
pub fn refund_on_cancel(state: &Domain, order_id: OrderId) -> Option<crate::Money> {
    let o = state.orders.get(&order_id).filter(|o| o.is_open())?;
    o.refunded.is_none().then_some(o.charged).flatten()
}
