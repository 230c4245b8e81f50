//! Changes to a registered domain (nameservers, contacts, lock, privacy, glue hosts, the
//! .uk IPS tag): each asked, sent to OpenSRS exactly once (`ChangeSubmitted` before the
//! call, as for orders), then applied with OpenSRS's answer or refused with the reason.
//! Pure decisions; what each change is lives in `what`, host and address rules in `host`.

mod host;
mod what;

pub use host::{host_name, ipv4, ipv6, under_domain};
pub use what::*;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::decide::DomainError;
use crate::domain::Domain;
use crate::event::{Charged, DomainEvent, Lease, LeftAccount, Refunded, RegistrarAnswer};
use crate::{capabilities, AccountId, Money, OrderId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRequested {
    pub change_id: OrderId,
    pub connection: String,
    #[serde(flatten)]
    pub change: DomainChange,
}

/// The engine is about to send the change. Written before the call: a `ChangeSubmitted`
/// without an outcome means it may have reached OpenSRS, and it is never sent again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSubmitted {
    pub change_id: OrderId,
    pub lease: Lease,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeApplied {
    pub change_id: OrderId,
    pub answer: RegistrarAnswer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRefused {
    pub change_id: OrderId,
    pub answer: RegistrarAnswer,
}

/// Where a change stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeStage {
    Requested,
    Submitted(Lease),
    Applied,
    Refused,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub id: OrderId,
    pub change: DomainChange,
    pub connection: String,
    pub stage: ChangeStage,
    pub answer: Option<RegistrarAnswer>,
    /// What the holder was charged for it (a priced change, such as WHOIS privacy).
    pub charged: Option<(AccountId, Money)>,
    pub refunded: bool,
}

impl Change {
    pub fn is_open(&self) -> bool {
        matches!(
            self.stage,
            ChangeStage::Requested | ChangeStage::Submitted(_)
        )
    }

    /// Refused with no answer of OpenSRS's: it never reached OpenSRS, or its sender was
    /// lost and the domain, read back, did not show it made. OpenSRS never said no, so
    /// asking again is safe (and is what the admin was told to do).
    pub fn never_made(&self) -> bool {
        matches!(self.stage, ChangeStage::Refused)
            && self.answer.as_ref().is_none_or(|a| a.code.is_none())
    }
}

/// Asks for `change` of a registered domain with no open order or change, charging the
/// holder `price` with it when the change is priced.
pub fn request(
    state: &Domain,
    change_id: OrderId,
    change: DomainChange,
    price: Option<Money>,
) -> Result<Vec<DomainEvent>, DomainError> {
    let (Some(name), Some(holder)) = (&state.name, &state.holder) else {
        let name = state.name.as_ref().map(|n| n.to_string());
        return Err(DomainError::NotRegistered(name.unwrap_or_default()));
    };
    if state.gone.is_some() {
        return Err(DomainError::NotRegistered(name.to_string()));
    }
    if state.changes.contains_key(&change_id) || state.orders.contains_key(&change_id) {
        return Err(DomainError::OrderExists(change_id));
    }
    if let Some(o) = state.open_order() {
        return Err(DomainError::OrderInProgress {
            domain: name.to_string(),
            order: o.id,
            kind: o.kind,
        });
    }
    if let Some(c) = state.changes.values().find(|c| c.is_open()) {
        return Err(DomainError::ChangeInProgress {
            domain: name.to_string(),
            change: c.id,
            what: c.change.describe(),
        });
    }
    let mut change = change.validated()?;
    change.allowed_for(name)?;
    if let DomainChange::Contacts {
        roles,
        contact,
        transfer_lock,
    } = &mut change
    {
        let starts_lock = roles.contains(&crate::contact::ContactRole::Owner)
            && capabilities::of(name.tld()).registrant_change_lock
            && is_registrant_change(state.owner.as_ref(), contact);
        if !starts_lock {
            *transfer_lock = None;
        } else if transfer_lock.is_none() {
            return Err(DomainError::TransferLockChoice(name.to_string()));
        }
    }
    if let Some(p) = price.filter(|p| !p.is_positive()) {
        return Err(DomainError::NonPositivePrice(p));
    }
    let connection = state.connection.clone().ok_or(DomainError::NoConnection)?;
    let mut events: Vec<DomainEvent> = vec![ChangeRequested {
        change_id,
        connection,
        change,
    }
    .into()];
    if let Some(amount) = price {
        events.push(
            Charged {
                order_id: change_id,
                account: holder.clone(),
                amount,
            }
            .into(),
        );
    }
    Ok(events)
}

fn open(state: &Domain, change_id: OrderId) -> Result<&Change, DomainError> {
    state
        .changes
        .get(&change_id)
        .ok_or(DomainError::UnknownOrder(change_id))
}

/// Records that the change is about to be sent (once: only from `Requested`).
pub fn submit(
    state: &Domain,
    change_id: OrderId,
    lease: Lease,
) -> Result<Vec<DomainEvent>, DomainError> {
    let c = open(state, change_id)?;
    if c.stage != ChangeStage::Requested {
        return Err(DomainError::ChangeNotOpen {
            change: change_id,
            why: "it was already sent or has ended".into(),
        });
    }
    Ok(vec![ChangeSubmitted { change_id, lease }.into()])
}

/// Records OpenSRS's verdict on an open change; a second verdict changes nothing.
pub fn outcome(
    state: &Domain,
    change_id: OrderId,
    applied: bool,
    answer: RegistrarAnswer,
) -> Result<Vec<DomainEvent>, DomainError> {
    let c = open(state, change_id)?;
    if !c.is_open() {
        return Ok(vec![]);
    }
    if !applied {
        let mut events: Vec<DomainEvent> = vec![ChangeRefused { change_id, answer }.into()];
        if let (Some((account, amount)), false) = (&c.charged, c.refunded) {
            events.push(
                Refunded {
                    order_id: change_id,
                    account: account.clone(),
                    amount: *amount,
                }
                .into(),
            );
        }
        return Ok(events);
    }
    let mut events: Vec<DomainEvent> = vec![ChangeApplied { change_id, answer }.into()];
    if let DomainChange::IpsTag { tag } = &c.change {
        events.push(
            LeftAccount {
                connection: c.connection.clone(),
                reason: format!("its IPS tag was set to {tag}: the domain moved to that registrar"),
            }
            .into(),
        );
    }
    Ok(events)
}

/// Whether a submitted change's engine may still be waiting for its answer.
pub fn leased(c: &Change, now: DateTime<Utc>) -> bool {
    matches!(&c.stage, ChangeStage::Submitted(l) if now < l.until)
}

/// What a change event does to the domain's state.
pub(crate) fn evolve(state: &mut Domain, event: &DomainEvent) {
    match event {
        DomainEvent::ChangeRequested(e) => {
            state.changes.insert(
                e.change_id,
                Change {
                    id: e.change_id,
                    change: e.change.clone(),
                    connection: e.connection.clone(),
                    stage: ChangeStage::Requested,
                    answer: None,
                    charged: None,
                    refunded: false,
                },
            );
        }
        DomainEvent::ChangeSubmitted(e) => {
            if let Some(c) = state.changes.get_mut(&e.change_id) {
                c.stage = ChangeStage::Submitted(e.lease.clone());
            }
        }
        DomainEvent::ChangeApplied(e) => {
            let Some(c) = state.changes.get_mut(&e.change_id) else {
                return;
            };
            c.stage = ChangeStage::Applied;
            c.answer = Some(e.answer.clone());
            match c.change.clone() {
                DomainChange::Nameservers { nameservers } => state.nameservers = Some(nameservers),
                DomainChange::Lock { locked } => state.locked = Some(locked),
                DomainChange::Privacy { enabled } => state.privacy = Some(enabled),
                DomainChange::Contacts { roles, contact, .. } => {
                    if roles.contains(&crate::ContactRole::Owner) {
                        state.owner = Some(*contact);
                    }
                }
                DomainChange::ChildNameserver {
                    action: HostAction::Delete,
                    host,
                    ..
                } => {
                    state.child_nameservers.remove(&host);
                }
                DomainChange::ChildNameserver {
                    host, ipv4, ipv6, ..
                } => {
                    state
                        .child_nameservers
                        .insert(host, crate::domain::HostAddresses { ipv4, ipv6 });
                }
                DomainChange::IpsTag { .. } => {}
            }
        }
        DomainEvent::ChangeRefused(e) => {
            if let Some(c) = state.changes.get_mut(&e.change_id) {
                c.stage = ChangeStage::Refused;
                c.answer = Some(e.answer.clone());
            }
        }
        _ => {}
    }
}
