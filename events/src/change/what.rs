//! What a change asks of OpenSRS, the checks that need nothing but the change and the
//! domain's name, and the change in words.

use serde::{Deserialize, Serialize};

use super::host::{host_name, ipv4, ipv6};
use crate::capabilities::{self, AuthCode};
use crate::contact::{Contact, ContactRole};
use crate::decide::DomainError;
use crate::DomainName;

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
    /// One contact for the listed roles (UPDATE_CONTACTS). `transfer_lock` is the
    /// admin's recorded choice when the change of registrant starts ICANN's 60-day lock.
    Contacts {
        roles: Vec<ContactRole>,
        contact: Box<Contact>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        transfer_lock: Option<TransferLock>,
    },
    /// A child ("glue") nameserver named under the domain (NAMESERVER CREATE / MODIFY /
    /// DELETE). Create and modify give the host's addresses in full.
    ChildNameserver {
        action: HostAction,
        host: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ipv4: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ipv6: Option<String>,
    },
    /// Hands a .uk domain to another registrar (MODIFY `change_ips_tag`). One-shot: once
    /// applied the domain has left the account.
    IpsTag { tag: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostAction {
    Create,
    Modify,
    Delete,
}

impl HostAction {
    pub fn as_str(self) -> &'static str {
        match self {
            HostAction::Create => "create",
            HostAction::Modify => "modify",
            HostAction::Delete => "delete",
        }
    }
}

/// What the admin chose for ICANN's 60-day transfer lock that a change of registrant
/// starts on a generic TLD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferLock {
    /// The domain cannot move to another registrar for 60 days.
    Accept,
    /// The registrant opted out of the lock.
    OptOut,
}

fn bad(why: String) -> DomainError {
    DomainError::BadChange(why)
}

impl DomainChange {
    /// Checks what can be checked without OpenSRS or the domain; comes back normalised.
    pub fn validated(self) -> Result<Self, DomainError> {
        match self {
            DomainChange::Nameservers { nameservers } => {
                let mut clean: Vec<String> = Vec::new();
                for ns in nameservers {
                    let host =
                        host_name(&ns).map_err(|why| bad(format!("nameserver {ns:?}: {why}")))?;
                    if clean.contains(&host) {
                        return Err(bad(format!("nameserver {host} is listed twice")));
                    }
                    clean.push(host);
                }
                if !(2..=MAX_NAMESERVERS).contains(&clean.len()) {
                    return Err(bad(format!(
                        "{} nameservers; a domain needs 2 to {MAX_NAMESERVERS}",
                        clean.len()
                    )));
                }
                Ok(DomainChange::Nameservers { nameservers: clean })
            }
            DomainChange::Contacts {
                roles,
                contact,
                transfer_lock,
            } => {
                let mut clean: Vec<ContactRole> = Vec::new();
                for r in roles {
                    if !clean.contains(&r) {
                        clean.push(r);
                    }
                }
                if clean.is_empty() {
                    return Err(bad(
                        "no contact role named; give one or more of owner, admin, billing, tech"
                            .into(),
                    ));
                }
                clean.sort();
                for r in &clean {
                    contact
                        .validate(r.as_str())
                        .map_err(|e| bad(e.to_string()))?;
                }
                Ok(DomainChange::Contacts {
                    roles: clean,
                    contact,
                    transfer_lock,
                })
            }
            DomainChange::ChildNameserver {
                action,
                host,
                ipv4: v4,
                ipv6: v6,
            } => {
                let host = host_name(&host).map_err(|why| bad(format!("host {host:?}: {why}")))?;
                let v4 = v4
                    .filter(|a| !a.trim().is_empty())
                    .map(|a| ipv4(&a))
                    .transpose()
                    .map_err(bad)?;
                let v6 = v6
                    .filter(|a| !a.trim().is_empty())
                    .map(|a| ipv6(&a))
                    .transpose()
                    .map_err(bad)?;
                match action {
                    HostAction::Delete if v4.is_some() || v6.is_some() => {
                        return Err(bad(format!(
                            "deleting {host} takes no address; give only the host name"
                        )))
                    }
                    HostAction::Create | HostAction::Modify if v4.is_none() && v6.is_none() => {
                        return Err(bad(format!(
                            "{host} needs an address to {}: --ipv4 and/or --ipv6",
                            action.as_str()
                        )))
                    }
                    _ => {}
                }
                Ok(DomainChange::ChildNameserver {
                    action,
                    host,
                    ipv4: v4,
                    ipv6: v6,
                })
            }
            DomainChange::IpsTag { tag } => {
                let tag = tag.trim().to_ascii_uppercase();
                let ok = (2..=16).contains(&tag.len())
                    && tag
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
                if !ok {
                    return Err(bad(format!(
                        "IPS tag {tag:?}: a Nominet tag has 2 to 16 letters, digits or '-' (the gaining registrar's, such as TUCOWS-CA)"
                    )));
                }
                Ok(DomainChange::IpsTag { tag })
            }
            other => Ok(other),
        }
    }

    /// Refuses what `domain`'s registry cannot do (the capability table) and glue hosts
    /// outside the domain's own name space.
    pub fn allowed_for(&self, domain: &DomainName) -> Result<(), DomainError> {
        let tld = domain.tld();
        let can = capabilities::of(tld);
        let refused = match self {
            DomainChange::Lock { .. } if !can.registrar_lock => {
                "its registry has no registrar lock (domains are protected by the registry's own rules)"
            }
            DomainChange::Privacy { .. } if !can.whois_privacy => {
                "OpenSRS offers no WHOIS privacy for it (the registry publishes or hides contact data by its own rules)"
            }
            DomainChange::Contacts { .. } if !can.contact_updates => {
                "OpenSRS cannot update its contacts (change them at the registry)"
            }
            DomainChange::IpsTag { .. } if can.auth_code != AuthCode::IpsTag => {
                "its domains move with a transfer code, not an IPS tag (use auth-code)"
            }
            DomainChange::ChildNameserver {
                action: HostAction::Create | HostAction::Modify,
                ipv4: None,
                ..
            } if can.glue_needs_ipv4 => {
                "its registry needs an IPv4 address for every child nameserver, even with IPv6"
            }
            DomainChange::ChildNameserver { ipv6: Some(_), .. } if !can.glue_ipv6 => {
                "its registry takes no IPv6 address for a child nameserver"
            }
            DomainChange::ChildNameserver { host, .. }
                if !host.ends_with(&format!(".{}", domain.as_str())) =>
            {
                return Err(bad(format!(
                    "{host} is not under {domain}: a child nameserver is named inside its own domain, such as ns1.{domain}"
                )));
            }
            _ => return Ok(()),
        };
        Err(DomainError::Unsupported(format!(
            ".{tld} cannot have its {}: {refused}",
            self.subject()
        )))
    }

    fn subject(&self) -> &'static str {
        match self {
            DomainChange::Lock { .. } => "registrar lock changed",
            DomainChange::Privacy { .. } => "WHOIS privacy changed",
            DomainChange::Nameservers { .. } => "nameservers changed",
            DomainChange::Contacts { .. } => "contacts updated",
            DomainChange::ChildNameserver { .. } => "child nameservers changed",
            DomainChange::IpsTag { .. } => "IPS tag set",
        }
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
            DomainChange::Contacts {
                roles,
                contact,
                transfer_lock,
            } => {
                let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
                let lock = match transfer_lock {
                    Some(TransferLock::Accept) => "; 60-day transfer lock accepted",
                    Some(TransferLock::OptOut) => {
                        "; registrant opted out of the 60-day transfer lock"
                    }
                    None => "",
                };
                format!(
                    "{} contact set to {} {} <{}>{lock}",
                    roles.join(", "),
                    contact.first_name,
                    contact.last_name,
                    contact.email
                )
            }
            DomainChange::ChildNameserver {
                action: HostAction::Delete,
                host,
                ..
            } => format!("child nameserver {host} deleted"),
            DomainChange::ChildNameserver {
                action,
                host,
                ipv4,
                ipv6,
            } => {
                let addrs: Vec<&str> = [ipv4, ipv6]
                    .into_iter()
                    .flatten()
                    .map(String::as_str)
                    .collect();
                let verb = if *action == HostAction::Create {
                    "created"
                } else {
                    "changed"
                };
                format!("child nameserver {host} {verb} at {}", addrs.join(", "))
            }
            DomainChange::IpsTag { tag } => {
                format!("IPS tag set to {tag} (the domain leaves for that registrar)")
            }
        }
    }
}

/// Whether giving `new` the owner role changes the registrant in ICANN's sense (name,
/// organisation or e-mail); an unknown current owner counts as a change.
pub fn is_registrant_change(current: Option<&Contact>, new: &Contact) -> bool {
    let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    !current.is_some_and(|c| {
        same(&c.first_name, &new.first_name)
            && same(&c.last_name, &new.last_name)
            && same(&c.org_name, &new.org_name)
            && same(&c.email, &new.email)
    })
}
