//! Changes to a registered domain (nameservers, registrar lock): each asked, sent to
//! OpenSRS exactly once (`ChangeSubmitted` before the call, as for orders), then applied
//! with OpenSRS's answer or refused with the reason. Pure decisions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::decide::DomainError;
use crate::domain::Domain;
use crate::event::{DomainEvent, Lease, RegistrarAnswer};
use crate::OrderId;

/// The most nameservers a registry takes for one domain (OpenSRS's limit is 13).
pub const MAX_NAMESERVERS: usize = 13;

/// What a change asks of OpenSRS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum DomainChange {
    /// Replace the whole set (ADVANCED_UPDATE_NAMESERVERS `assign`).
    Nameservers { nameservers: Vec<String> },
    /// The registrar lock (MODIFY `status`, `lock_state`).
    Lock { locked: bool },
    /// WHOIS privacy (MODIFY `whois_privacy_state`, `enable` / `disable`).
    Privacy { enabled: bool },
}

impl DomainChange {
    /// Checks what can be checked without OpenSRS; nameservers come back normalised.
    pub fn validated(self) -> Result<Self, DomainError> {
        match self {
            DomainChange::Nameservers { nameservers } => {
                let mut clean: Vec<String> = Vec::new();
                for ns in nameservers {
                    let host = host_name(&ns).map_err(|why| {
                        DomainError::BadChange(format!("nameserver {ns:?}: {why}"))
                    })?;
                    if clean.contains(&host) {
                        return Err(DomainError::BadChange(format!(
                            "nameserver {host} is listed twice"
                        )));
                    }
                    clean.push(host);
                }
                if !(2..=MAX_NAMESERVERS).contains(&clean.len()) {
                    return Err(DomainError::BadChange(format!(
                        "{} nameservers; a domain needs 2 to {MAX_NAMESERVERS}",
                        clean.len()
                    )));
                }
                Ok(DomainChange::Nameservers { nameservers: clean })
            }
            other => Ok(other),
        }
    }

    /// Refuses what `tld`'s registry cannot do (the capability table).
    pub fn allowed_for(&self, tld: &str) -> Result<(), DomainError> {
        let can = crate::capabilities::of(tld);
        let refused = match self {
            DomainChange::Lock { .. } if !can.registrar_lock => {
                "its registry has no registrar lock (domains are protected by the registry's own rules)"
            }
            DomainChange::Privacy { .. } if !can.whois_privacy => {
                "OpenSRS offers no WHOIS privacy for it (the registry publishes or hides contact data by its own rules)"
            }
            _ => return Ok(()),
        };
        Err(DomainError::Unsupported(format!(
            ".{tld} cannot have its {}: {refused}",
            match self {
                DomainChange::Lock { .. } => "registrar lock changed",
                DomainChange::Privacy { .. } => "WHOIS privacy changed",
                DomainChange::Nameservers { .. } => "nameservers changed",
            }
        )))
    }

    /// In words, for errors and the audit.
    pub fn describe(&self) -> String {
        match self {
            DomainChange::Nameservers { nameservers } => {
                format!("nameservers set to {}", nameservers.join(", "))
            }
            DomainChange::Lock { locked: true } => "registrar lock switched on".into(),
            DomainChange::Lock { locked: false } => "registrar lock switched off".into(),
            DomainChange::Privacy { enabled: true } => "WHOIS privacy switched on".into(),
            DomainChange::Privacy { enabled: false } => "WHOIS privacy switched off".into(),
        }
    }
}

/// A nameserver's host name, lower case without the trailing dot: two or more labels of
/// letters, digits and inner hyphens (1 to 63 each, 253 in all), the last not numeric.
pub fn host_name(raw: &str) -> Result<String, String> {
    let host = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || host.len() > 253 {
        return Err("a host name has 1 to 253 characters".into());
    }
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 {
        return Err("a host name has at least two labels, such as ns1.example.net".into());
    }
    for label in &labels {
        let ok = (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!(
                "label {label:?} may only hold letters a-z, digits and inner '-' (1 to 63); write IDNs in their xn-- form"
            ));
        }
    }
    if labels
        .last()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("the last label of a host name is not a number (an IP address is not a nameserver name)".into());
    }
    Ok(host)
}

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
}

impl Change {
    pub fn is_open(&self) -> bool {
        matches!(
            self.stage,
            ChangeStage::Requested | ChangeStage::Submitted(_)
        )
    }
}

/// Asks for `change` of a registered domain with no open order or change.
pub fn request(
    state: &Domain,
    change_id: OrderId,
    change: DomainChange,
) -> Result<Vec<DomainEvent>, DomainError> {
    let name = state
        .name
        .as_ref()
        .map(|n| n.to_string())
        .unwrap_or_default();
    if !state.is_registered() || state.gone.is_some() {
        return Err(DomainError::NotRegistered(name));
    }
    if state.changes.contains_key(&change_id) || state.orders.contains_key(&change_id) {
        return Err(DomainError::OrderExists(change_id));
    }
    if let Some(o) = state.open_order() {
        return Err(DomainError::OrderInProgress {
            domain: name,
            order: o.id,
            kind: o.kind,
        });
    }
    if let Some(c) = state.changes.values().find(|c| c.is_open()) {
        return Err(DomainError::ChangeInProgress {
            domain: name,
            change: c.id,
            what: c.change.describe(),
        });
    }
    let change = change.validated()?;
    if let Some(name) = &state.name {
        change.allowed_for(name.tld())?;
    }
    let connection = state.connection.clone().ok_or(DomainError::NoConnection)?;
    Ok(vec![ChangeRequested {
        change_id,
        connection,
        change,
    }
    .into()])
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
    Ok(vec![if applied {
        ChangeApplied { change_id, answer }.into()
    } else {
        ChangeRefused { change_id, answer }.into()
    }])
}

/// Whether a submitted change's engine may still be waiting for its answer.
pub fn leased(c: &Change, now: DateTime<Utc>) -> bool {
    matches!(&c.stage, ChangeStage::Submitted(l) if now < l.until)
}
