//! The `Domain` aggregate's state and `evolve`: what the events of one domain's stream add up to.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::event::*;
use crate::{AccountId, DomainName, Money, OrderId, OrderKind, Period};

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Accepted (and normally charged), not yet sent to OpenSRS.
    Accepted,
    /// Sent, or about to be sent; the outcome is not recorded yet.
    Submitted,
    /// OpenSRS could not say yet; the engine polls.
    Pending,
    Ended(End),
}

impl Stage {
    /// The one text form of a stage: `accepted`, `submitted`, `pending` or the end.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Accepted => "accepted",
            Stage::Submitted => "submitted",
            Stage::Pending => "pending",
            Stage::Ended(end) => end.as_str(),
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The final states. Exactly one per order, and nothing but a refund follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    Confirmed,
    Rejected,
    TimedOut,
    Cancelled,
}

impl End {
    pub const ALL: [End; 4] = [End::Confirmed, End::Rejected, End::TimedOut, End::Cancelled];

    /// The one text form of an end, everywhere (CLI, API, read models, pages).
    pub fn as_str(self) -> &'static str {
        match self {
            End::Confirmed => "confirmed",
            End::Rejected => "rejected",
            End::TimedOut => "timed_out",
            End::Cancelled => "cancelled",
        }
    }

    /// Every end but Confirmed gives the money back.
    pub fn is_refundable(self) -> bool {
        self != End::Confirmed
    }
}

/// One order as its events describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub account: AccountId,
    pub kind: OrderKind,
    pub period: Period,
    pub connection: String,
    pub price: Money,
    pub stage: Stage,
    pub charged: Option<Money>,
    pub refunded: Option<Money>,
    pub registrar_order_id: Option<String>,
    pub last_answer: Option<RegistrarAnswer>,
    pub polls: u32,
    pub poll_every: Option<Duration>,
    pub deadline: Option<DateTime<Utc>>,
    pub next_poll_at: Option<DateTime<Utc>>,
    pub contacts: Option<crate::ContactSet>,
    /// The agreement version the customer accepted, for orders a customer placed.
    pub agreement: Option<String>,
    pub nameservers: Vec<String>,
    /// The engine that owns the submission and until when (see [`Lease`]).
    pub lease: Option<Lease>,
    /// Why the engine handed this pending order to an admin instead of refunding it.
    pub escalated: Option<String>,
    /// Sends that provably never reached OpenSRS, and when to try again.
    pub send_failures: u32,
    pub retry_at: Option<DateTime<Utc>>,
    /// Sent once more after OpenSRS showed no trace of it (at most once).
    pub resubmitted: bool,
    /// The admin's choice after it completed at OpenSRS late (see `adopt`).
    pub late: Option<crate::event::LateChoice>,
}

impl Order {
    pub fn is_open(&self) -> bool {
        !matches!(self.stage, Stage::Ended(_))
    }

    pub fn end(&self) -> Option<End> {
        match self.stage {
            Stage::Ended(end) => Some(end),
            _ => None,
        }
    }
}

/// A child nameserver's addresses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostAddresses {
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
}

/// Everything the decider needs to know about one domain: its registration and its orders.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Domain {
    pub name: Option<DomainName>,
    /// The account that holds the domain once a registration or transfer is confirmed.
    pub holder: Option<AccountId>,
    pub connection: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub auto_renew: bool,
    /// Years each automatic renewal orders for this domain (`None`: the connection's).
    pub auto_renew_years: Option<Period>,
    /// Expiry dates the holder was told had passed unrenewed.
    pub expired_noticed_for: BTreeSet<DateTime<Utc>>,
    /// Expiry dates whose automatic renewal was due and could not be paid (told once).
    pub unpaid_noticed_for: BTreeSet<DateTime<Utc>>,
    pub orders: BTreeMap<OrderId, Order>,
    /// Expiry dates the holder has been warned about (one warning per expiry date).
    pub warned_for: BTreeSet<DateTime<Utc>>,
    /// Expiry dates a renewal order was placed for (one automatic renewal per date).
    pub renewal_requested_for: BTreeSet<DateTime<Utc>>,
    /// OpenSRS feed events recorded for this domain (each is recorded once).
    pub registrar_events: BTreeSet<String>,
    /// Set when OpenSRS reported the domain deleted or gone (the reason): nothing is
    /// warned about or renewed any more.
    pub gone: Option<String>,
    /// Changes asked of OpenSRS (nameservers, lock), by id.
    pub changes: BTreeMap<OrderId, crate::change::Change>,
    /// The nameservers and lock as last applied through domreg (`None`: never changed
    /// here; the registration's, or unknown).
    pub nameservers: Option<Vec<String>>,
    pub locked: Option<bool>,
    pub privacy: Option<bool>,
    /// The registrant as registered or last changed through domreg (`None`: unknown,
    /// such as an imported domain).
    pub owner: Option<crate::Contact>,
    /// Child (glue) nameservers made through domreg: host -> (IPv4, IPv6).
    pub child_nameservers: BTreeMap<String, HostAddresses>,
    /// Number of events folded in: the stream version an append must expect.
    pub version: u64,
}

impl Domain {
    pub fn is_registered(&self) -> bool {
        self.holder.is_some()
    }

    pub fn open_order(&self) -> Option<&Order> {
        self.orders.values().find(|o| o.is_open())
    }

    /// Folds a stream's events from the empty state.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a DomainEvent>) -> Domain {
        events.into_iter().fold(Domain::default(), evolve)
    }
}

/// Applies one event. Pure and total: events are facts, so `evolve` never refuses one;
/// an event for an unknown order (which `decide` never produces) changes nothing.
pub fn evolve(mut state: Domain, event: &DomainEvent) -> Domain {
    state.version += 1;
    match event {
        DomainEvent::Requested(e) => {
            state.name.get_or_insert_with(|| e.domain.clone());
            if let (OrderKind::Renew, Some(expiry)) = (e.kind, state.expires_at) {
                state.renewal_requested_for.insert(expiry);
            }
            state.orders.insert(
                e.order_id,
                Order {
                    id: e.order_id,
                    account: e.account.clone(),
                    kind: e.kind,
                    period: e.period,
                    connection: e.connection.clone(),
                    price: e.price,
                    stage: Stage::Accepted,
                    charged: None,
                    agreement: None,
                    refunded: None,
                    registrar_order_id: None,
                    last_answer: None,
                    polls: 0,
                    poll_every: None,
                    deadline: None,
                    next_poll_at: None,
                    contacts: None,
                    nameservers: Vec::new(),
                    lease: None,
                    escalated: None,
                    send_failures: 0,
                    retry_at: None,
                    resubmitted: false,
                    late: None,
                },
            );
        }
        DomainEvent::AgreementAccepted(e) => {
            with_order(&mut state, e.order_id, |o| {
                o.agreement = Some(e.version.clone())
            });
        }
        DomainEvent::OrderDetailsRecorded(e) => {
            with_order(&mut state, e.order_id, |o| {
                o.contacts = Some((*e.contacts).clone());
                o.nameservers = e.nameservers.clone();
            });
        }
        DomainEvent::Charged(e) => {
            with_order(&mut state, e.order_id, |o| o.charged = Some(e.amount));
            if let Some(c) = state.changes.get_mut(&e.order_id) {
                c.charged = Some((e.account.clone(), e.amount));
            }
        }
        DomainEvent::Submitted(e) => {
            with_order(&mut state, e.order_id, |o| {
                o.stage = Stage::Submitted;
                o.lease = e.lease.clone();
            });
        }
        DomainEvent::UnknownStatus(e) => {
            with_order(&mut state, e.order_id, |o| {
                o.stage = Stage::Pending;
                o.last_answer = e.answer.clone();
                if e.registrar_order_id.is_some() {
                    o.registrar_order_id = e.registrar_order_id.clone();
                }
                let every = Duration::seconds(i64::try_from(e.poll_every_secs).unwrap_or(i64::MAX));
                o.poll_every = Some(every);
                o.deadline = Some(e.deadline);
            });
        }
        DomainEvent::Polled(e) => {
            with_order(&mut state, e.order_id, |o| {
                o.polls += 1;
                o.next_poll_at = Some(e.next_poll_at);
                if let PollResult::StillPending { answer } = &e.result {
                    o.last_answer = Some(answer.clone());
                }
            });
        }
        DomainEvent::Confirmed(e) => {
            let mut held = None;
            with_order(&mut state, e.order_id, |o| {
                o.stage = Stage::Ended(End::Confirmed);
                o.last_answer = Some(e.answer.clone());
                if e.registrar_order_id.is_some() {
                    o.registrar_order_id = e.registrar_order_id.clone();
                }
                held = Some((
                    o.account.clone(),
                    o.connection.clone(),
                    o.kind,
                    o.contacts.as_ref().map(|c| c.owner.clone()),
                ));
            });
            if let Some((account, connection, kind, owner)) = held {
                if kind != OrderKind::Renew {
                    state.holder = Some(account);
                    state.connection = Some(connection);
                    state.owner = owner;
                }
                state.expires_at = Some(e.expires_at);
            }
        }
        DomainEvent::Rejected(e) => {
            with_order(&mut state, e.order_id, |o| {
                o.stage = Stage::Ended(End::Rejected);
                o.last_answer = Some(e.answer.clone());
            });
        }
        DomainEvent::TimedOut(e) => {
            with_order(&mut state, e.order_id, |o| {
                o.stage = Stage::Ended(End::TimedOut)
            });
        }
        DomainEvent::Cancelled(e) => {
            with_order(&mut state, e.order_id, |o| {
                o.stage = Stage::Ended(End::Cancelled)
            });
        }
        DomainEvent::DeadlineReset(e) => {
            with_order(&mut state, e.order_id, |o| {
                o.deadline = Some(e.deadline);
                o.next_poll_at = None;
                o.escalated = None;
            });
        }
        DomainEvent::Refunded(e) => {
            with_order(&mut state, e.order_id, |o| o.refunded = Some(e.amount));
            if let Some(c) = state.changes.get_mut(&e.order_id) {
                c.refunded = true;
            }
        }
        DomainEvent::RegistrarOrderFound(e) => {
            with_order(&mut state, e.order_id, |o| {
                o.registrar_order_id = Some(e.registrar_order_id.clone());
            });
        }
        DomainEvent::Escalated(e) => {
            with_order(&mut state, e.order_id, |o| {
                o.escalated = Some(e.reason.clone())
            });
        }
        DomainEvent::Resubmitted(e) => {
            with_order(&mut state, e.order_id, |o| {
                o.stage = Stage::Accepted;
                o.lease = None;
                o.resubmitted = true;
                o.deadline = None;
                o.next_poll_at = None;
                o.escalated = None;
                o.last_answer = Some(RegistrarAnswer::new(None, e.reason.clone()));
            });
        }
        DomainEvent::SendFailed(e) => {
            with_order(&mut state, e.order_id, |o| {
                o.stage = Stage::Accepted;
                o.lease = None;
                o.send_failures += 1;
                o.retry_at = Some(e.retry_at);
                o.last_answer = Some(RegistrarAnswer::new(None, e.reason.clone()));
            });
        }
        DomainEvent::ExpiryWarned(e) => {
            state.warned_for.insert(e.expires_at);
        }
        DomainEvent::AutoRenewSet(e) => {
            state.auto_renew = e.enabled;
            state.auto_renew_years = e.years;
        }
        DomainEvent::AuthCodeDisclosed(_) => {}
        DomainEvent::ExpiryPassed(e) => {
            state.expired_noticed_for.insert(e.expires_at);
        }
        DomainEvent::RenewalUnpaid(e) => {
            state.unpaid_noticed_for.insert(e.expires_at);
        }
        DomainEvent::ExpirySynced(e) => state.expires_at = Some(e.expires_at),
        DomainEvent::LeftAccount(e) => {
            state.gone = Some(format!("no longer in the account at OpenSRS: {}", e.reason));
        }
        DomainEvent::Imported(e) => {
            state.name.get_or_insert_with(|| e.domain.clone());
            state.holder = Some(e.account.clone());
            state.connection = Some(e.connection.clone());
            state.expires_at = Some(e.expires_at);
            state.auto_renew = e.auto_renew;
            state.gone = None;
        }
        DomainEvent::LateCompletionSettled(e) => {
            let mut connection = None;
            with_order(&mut state, e.order_id, |o| {
                o.late = Some(e.choice.clone());
                connection = Some(o.connection.clone());
            });
            if let (crate::event::LateChoice::ChargeAgain { .. }, Some(c)) = (&e.choice, connection)
            {
                state.holder = Some(e.account.clone());
                state.connection = Some(c);
                state.expires_at = Some(e.expires_at);
                state.gone = None;
            }
        }
        DomainEvent::ChangeRequested(_)
        | DomainEvent::ChangeSubmitted(_)
        | DomainEvent::ChangeApplied(_)
        | DomainEvent::ChangeRefused(_) => crate::change::evolve(&mut state, event),
        DomainEvent::RegistrarReported(e) => {
            state.registrar_events.insert(e.event_id.clone());
            if let Some(name) = e
                .data
                .get("domain_name")
                .and_then(|n| DomainName::parse(n).ok())
            {
                state.name.get_or_insert(name);
            }
            if e.kind() == "DOMAIN DELETED" {
                let reason = e.data.get("reason").map_or("deleted", String::as_str);
                state.gone = Some(format!("deleted at OpenSRS ({reason}), {}", e.event_date));
            }
        }
    }
    state
}

fn with_order(state: &mut Domain, id: OrderId, f: impl FnOnce(&mut Order)) {
    if let Some(order) = state.orders.get_mut(&id) {
        f(order);
    }
}
