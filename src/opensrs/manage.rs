//! The commands that manage a registered domain beyond nameservers, lock and privacy:
//! UPDATE_CONTACTS, the NAMESERVER object (child hosts) and MODIFY `change_ips_tag`
//! (`shared/reference/opensrs-protocol.md` §9.5–9.7).

use domreg_events::{Contact, ContactRole};

use super::command::{contact_value, CommandKind};
use super::value::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManageCommand {
    /// One contact for the listed roles; the contact set is absolute, so a repeat is
    /// idempotent for the data.
    UpdateContacts {
        domain: String,
        roles: Vec<ContactRole>,
        contact: Box<Contact>,
    },
    CreateHost {
        domain: String,
        host: String,
        ipv4: Option<String>,
        ipv6: Option<String>,
    },
    /// Replaces the host's addresses: a family left out is removed at the registry.
    ModifyHost {
        domain: String,
        host: String,
        ipv4: Option<String>,
        ipv6: Option<String>,
    },
    DeleteHost {
        domain: String,
        host: String,
    },
    /// The domain's child hosts (NAMESERVER GET, `name` = `all`); read-only.
    GetHosts {
        domain: String,
    },
    /// One-shot: the domain leaves for the tag's registrar.
    ChangeIpsTag {
        domain: String,
        tag: String,
    },
}

impl ManageCommand {
    pub fn kind(&self) -> CommandKind {
        match self {
            ManageCommand::UpdateContacts { .. } => CommandKind::UpdateContacts,
            ManageCommand::CreateHost { .. } => CommandKind::CreateNameserver,
            ManageCommand::ModifyHost { .. } => CommandKind::ModifyNameserver,
            ManageCommand::DeleteHost { .. } => CommandKind::DeleteNameserver,
            ManageCommand::GetHosts { .. } => CommandKind::GetNameservers,
            ManageCommand::ChangeIpsTag { .. } => CommandKind::ModifyDomain,
        }
    }

    pub fn action_object(&self) -> (&'static str, &'static str) {
        match self {
            ManageCommand::UpdateContacts { .. } => ("UPDATE_CONTACTS", "DOMAIN"),
            ManageCommand::CreateHost { .. } => ("CREATE", "NAMESERVER"),
            ManageCommand::ModifyHost { .. } => ("MODIFY", "NAMESERVER"),
            ManageCommand::DeleteHost { .. } => ("DELETE", "NAMESERVER"),
            ManageCommand::GetHosts { .. } => ("GET", "NAMESERVER"),
            ManageCommand::ChangeIpsTag { .. } => ("MODIFY", "DOMAIN"),
        }
    }

    pub fn domain(&self) -> &str {
        match self {
            ManageCommand::UpdateContacts { domain, .. }
            | ManageCommand::CreateHost { domain, .. }
            | ManageCommand::ModifyHost { domain, .. }
            | ManageCommand::DeleteHost { domain, .. }
            | ManageCommand::GetHosts { domain }
            | ManageCommand::ChangeIpsTag { domain, .. } => domain,
        }
    }

    /// The `attributes` block.
    pub fn attributes(&self) -> Value {
        let domain = self.domain();
        let base = Value::assoc().with("domain", domain);
        let addresses = |v: Value, ipv4: &Option<String>, ipv6: &Option<String>| {
            let v = match ipv4 {
                Some(a) => v.with("ipaddress", a.as_str()),
                None => v,
            };
            match ipv6 {
                Some(a) => v.with("ipv6", a.as_str()),
                None => v,
            }
        };
        match self {
            ManageCommand::UpdateContacts { roles, contact, .. } => {
                let set = roles.iter().fold(Value::assoc(), |v, r| {
                    v.with(r.as_str(), contact_value(contact))
                });
                base.with(
                    "types",
                    roles
                        .iter()
                        .map(|r| Value::scalar(r.as_str()))
                        .collect::<Vec<_>>(),
                )
                .with("contact_set", set)
                .with("affect_domains", "0")
            }
            ManageCommand::CreateHost {
                host, ipv4, ipv6, ..
            } => addresses(base.with("name", host.as_str()), ipv4, ipv6),
            ManageCommand::ModifyHost {
                host, ipv4, ipv6, ..
            } => addresses(base.with("name", host.as_str()), ipv4, ipv6),
            ManageCommand::DeleteHost { host, .. } => base.with("name", host.as_str()),
            ManageCommand::GetHosts { .. } => base.with("name", "all"),
            ManageCommand::ChangeIpsTag { tag, .. } => base
                .with("affect_domains", "0")
                .with("data", "change_ips_tag")
                .with("change_tag_all", "0")
                .with("gaining_registrar_tag", tag.as_str()),
        }
    }
}

/// A child host as NAMESERVER GET lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Host {
    pub name: String,
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
}

/// The hosts in a NAMESERVER GET reply's `nameserver_list`.
pub fn hosts(reply: &super::Reply) -> Vec<Host> {
    let text = |v: &Value, k: &str| v.text(k).filter(|s| !s.is_empty()).map(str::to_string);
    reply
        .attributes
        .get("nameserver_list")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|h| {
                    Some(Host {
                        name: h.text("name")?.trim_end_matches('.').to_ascii_lowercase(),
                        ipv4: text(h, "ipaddress"),
                        ipv6: text(h, "ipv6"),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_are_sent_per_role_with_their_types() {
        let c = ManageCommand::UpdateContacts {
            domain: "example.com".into(),
            roles: vec![ContactRole::Admin, ContactRole::Tech],
            contact: Box::new(Contact {
                first_name: "Ada".into(),
                ..Default::default()
            }),
        };
        let a = c.attributes();
        let types = a.get("types").and_then(Value::as_array).map(|l| l.len());
        assert_eq!(types, Some(2));
        let set = a.get("contact_set").expect("contact_set");
        assert_eq!(
            set.get("tech").and_then(|t| t.text("first_name")),
            Some("Ada")
        );
        assert!(set.get("owner").is_none());
    }
}
