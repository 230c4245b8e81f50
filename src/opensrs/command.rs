//! Typed OpenSRS commands and how each is written as an OPS request.

use super::value::Value;
use domreg_events::{Contact, ContactSet};

/// What a command is, for classification and retry decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CommandKind {
    Lookup,
    Register,
    Transfer,
    Renew,
    CheckTransfer,
    BelongsToRsp,
    GetOrderInfo,
    GetOrdersByDomain,
    GetDomain,
    GetBalance,
    GetPrice,
    ProcessPending,
    QueryQueuedRequest,
    PollEvents,
    AckEvent,
    GetDomainsByExpiredate,
    GetTransfersAway,
    UpdateNameservers,
    ModifyDomain,
    SendAuthCode,
    UpdateContacts,
    CreateNameserver,
    ModifyNameserver,
    DeleteNameserver,
    GetNameservers,
}

impl CommandKind {
    /// The name used in metrics and logs (`LOOKUP`, `CHECK_TRANSFER`, ...).
    pub fn label(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => s,
            _ => format!("{self:?}"),
        }
    }

    /// Commands that change state at OpenSRS. The client never resends these; whether to
    /// try again is the engine's decision, after it has found out what happened.
    pub fn is_mutating(self) -> bool {
        matches!(
            self,
            CommandKind::Register
                | CommandKind::Transfer
                | CommandKind::Renew
                | CommandKind::ProcessPending
                | CommandKind::UpdateNameservers
                | CommandKind::ModifyDomain
                | CommandKind::SendAuthCode
                | CommandKind::UpdateContacts
                | CommandKind::CreateNameserver
                | CommandKind::ModifyNameserver
                | CommandKind::DeleteNameserver
        )
    }
}

/// SW_REGISTER's `reg_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegType {
    New,
    Transfer,
}

/// A SW_REGISTER order (new registration or transfer in). Its `Debug` leaves out the
/// profile password and the transfer code.
#[derive(Clone, PartialEq, Eq)]
pub struct SwRegister {
    pub domain: String,
    pub reg_type: RegType,
    pub period: u8,
    pub contacts: ContactSet,
    /// Empty: the reseller's default nameservers.
    pub nameservers: Vec<String>,
    /// Registrant-profile credentials created with the domain (not the reseller's).
    pub reg_username: String,
    pub reg_password: String,
    /// EPP transfer code.
    pub auth_info: Option<String>,
    pub auto_renew: bool,
    /// Lock the new domain at the registry (`f_lock_domain`).
    pub lock: bool,
}

impl std::fmt::Debug for SwRegister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwRegister")
            .field("domain", &self.domain)
            .field("reg_type", &self.reg_type)
            .field("period", &self.period)
            .field("contacts", &self.contacts)
            .field("nameservers", &self.nameservers)
            .field("reg_username", &self.reg_username)
            .field("reg_password", &REDACTED)
            .field("auth_info", &self.auth_info.as_ref().map(|_| REDACTED))
            .field("auto_renew", &self.auto_renew)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Lookup {
        domain: String,
    },
    SwRegister(Box<SwRegister>),
    /// What OpenSRS charges for a name (read-only); says whether it is registry-premium.
    GetPrice {
        domain: String,
        period: u8,
    },
    Renew {
        domain: String,
        /// Must match the registry's expiry year: the double-renewal guard.
        current_expiration_year: i32,
        period: u8,
        auto_renew: bool,
    },
    CheckTransfer {
        domain: String,
        /// Also asks for the transfer's status (and nudges `pending_registry`).
        check_status: bool,
    },
    BelongsToRsp {
        domain: String,
    },
    GetOrderInfo {
        order_id: String,
    },
    /// The reseller's orders for a domain (to find an order whose answer was lost).
    GetOrdersByDomain {
        domain: String,
    },
    /// GET DOMAIN with `type=all_info`, in reseller mode (domain at the top level).
    GetDomain {
        domain: String,
    },
    GetBalance,
    ProcessPending {
        order_id: String,
        cancel: bool,
    },
    QueryQueuedRequest {
        request_id: String,
    },
    /// EVENT POLL: the oldest unacknowledged feed events (1 to 100), without removing them.
    PollEvents {
        limit: u8,
    },
    /// EVENT ACK: removes one event from the feed. Safe to repeat.
    AckEvent {
        event_id: String,
    },
    /// One page of the account's domains expiring between two dates (`YYYY-MM-DD`).
    GetDomainsByExpiredate {
        from: String,
        to: String,
        page: u32,
        limit: u32,
    },
    /// The transfers of a domain away from the reseller (why it left the account).
    GetTransfersAway {
        domain: String,
    },
    /// ADVANCED_UPDATE_NAMESERVERS `assign`: the domain's whole nameserver set.
    UpdateNameservers {
        domain: String,
        nameservers: Vec<String>,
    },
    /// GET DOMAIN with `type=status` (the lock), in reseller mode.
    GetDomainStatus {
        domain: String,
    },
    /// MODIFY `data=status`: the registrar lock.
    SetLock {
        domain: String,
        locked: bool,
    },
    /// MODIFY `data=whois_privacy_state`: WHOIS privacy.
    SetPrivacy {
        domain: String,
        enabled: bool,
    },
    /// GET DOMAIN with `type=whois_privacy_state`.
    GetPrivacy {
        domain: String,
    },
    /// GET DOMAIN with `type=domain_auth_info`: the transfer code (a secret).
    GetAuthCode {
        domain: String,
    },
    /// SEND_AUTHCODE: OpenSRS mails the transfer code to the admin contact.
    SendAuthCode {
        domain: String,
    },
    /// GET DOMAIN `type` = one contact role (read-only).
    GetContact {
        domain: String,
        role: &'static str,
    },
    /// Contacts, child hosts, the IPS tag (`manage.rs`).
    Manage(Box<super::manage::ManageCommand>),
}

pub(super) fn contact_value(c: &Contact) -> Value {
    c.pairs()
        .into_iter()
        .fold(Value::assoc(), |v, (field, value)| v.with(field, value))
}

fn contact_set_value(set: &ContactSet) -> Value {
    set.roles()
        .into_iter()
        .fold(Value::assoc(), |v, (role, c)| {
            v.with(role, contact_value(c))
        })
}

/// Placeholder written instead of secrets in stored evidence.
pub const REDACTED: &str = "[redacted]";

fn flag(b: bool) -> &'static str {
    if b {
        "1"
    } else {
        "0"
    }
}

impl Command {
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::Lookup { .. } => CommandKind::Lookup,
            Command::SwRegister(r) if r.reg_type == RegType::Transfer => CommandKind::Transfer,
            Command::SwRegister(_) => CommandKind::Register,
            Command::Renew { .. } => CommandKind::Renew,
            Command::CheckTransfer { .. } => CommandKind::CheckTransfer,
            Command::BelongsToRsp { .. } => CommandKind::BelongsToRsp,
            Command::GetOrderInfo { .. } => CommandKind::GetOrderInfo,
            Command::GetOrdersByDomain { .. } => CommandKind::GetOrdersByDomain,
            Command::GetDomain { .. } => CommandKind::GetDomain,
            Command::GetBalance => CommandKind::GetBalance,
            Command::GetPrice { .. } => CommandKind::GetPrice,
            Command::ProcessPending { .. } => CommandKind::ProcessPending,
            Command::QueryQueuedRequest { .. } => CommandKind::QueryQueuedRequest,
            Command::PollEvents { .. } => CommandKind::PollEvents,
            Command::AckEvent { .. } => CommandKind::AckEvent,
            Command::GetDomainsByExpiredate { .. } => CommandKind::GetDomainsByExpiredate,
            Command::GetTransfersAway { .. } => CommandKind::GetTransfersAway,
            Command::UpdateNameservers { .. } => CommandKind::UpdateNameservers,
            Command::SetLock { .. } => CommandKind::ModifyDomain,
            Command::GetDomainStatus { .. }
            | Command::GetPrivacy { .. }
            | Command::GetAuthCode { .. }
            | Command::GetContact { .. } => CommandKind::GetDomain,
            Command::SendAuthCode { .. } => CommandKind::SendAuthCode,
            Command::SetPrivacy { .. } => CommandKind::ModifyDomain,
            Command::Manage(m) => m.kind(),
        }
    }

    /// `(action, object)` as sent.
    pub fn action_object(&self) -> (&'static str, &'static str) {
        match self {
            Command::Lookup { .. } => ("LOOKUP", "DOMAIN"),
            Command::SwRegister(_) => ("SW_REGISTER", "DOMAIN"),
            Command::Renew { .. } => ("RENEW", "DOMAIN"),
            Command::CheckTransfer { .. } => ("CHECK_TRANSFER", "DOMAIN"),
            Command::BelongsToRsp { .. } => ("BELONGS_TO_RSP", "DOMAIN"),
            Command::GetOrderInfo { .. } => ("GET_ORDER_INFO", "DOMAIN"),
            Command::GetOrdersByDomain { .. } => ("GET_ORDERS_BY_DOMAIN", "DOMAIN"),
            Command::GetDomain { .. } => ("GET", "DOMAIN"),
            Command::GetBalance => ("GET_BALANCE", "BALANCE"),
            Command::GetPrice { .. } => ("GET_PRICE", "DOMAIN"),
            Command::ProcessPending { .. } => ("PROCESS_PENDING", "DOMAIN"),
            Command::QueryQueuedRequest { .. } => ("QUERY_QUEUED_REQUEST", "DOMAIN"),
            Command::PollEvents { .. } => ("POLL", "EVENT"),
            Command::AckEvent { .. } => ("ACK", "EVENT"),
            Command::GetDomainsByExpiredate { .. } => ("GET_DOMAINS_BY_EXPIREDATE", "DOMAIN"),
            Command::GetTransfersAway { .. } => ("GET_TRANSFERS_AWAY", "DOMAIN"),
            Command::UpdateNameservers { .. } => ("ADVANCED_UPDATE_NAMESERVERS", "DOMAIN"),
            Command::SetLock { .. } => ("MODIFY", "DOMAIN"),
            Command::GetDomainStatus { .. }
            | Command::GetPrivacy { .. }
            | Command::GetAuthCode { .. }
            | Command::GetContact { .. } => ("GET", "DOMAIN"),
            Command::SendAuthCode { .. } => ("SEND_AUTHCODE", "DOMAIN"),
            Command::SetPrivacy { .. } => ("MODIFY", "DOMAIN"),
            Command::Manage(m) => m.action_object(),
        }
    }

    /// The domain the command is about, if any.
    pub fn domain(&self) -> Option<&str> {
        match self {
            Command::Lookup { domain }
            | Command::GetPrice { domain, .. }
            | Command::Renew { domain, .. }
            | Command::CheckTransfer { domain, .. }
            | Command::BelongsToRsp { domain }
            | Command::GetOrdersByDomain { domain }
            | Command::GetTransfersAway { domain }
            | Command::UpdateNameservers { domain, .. }
            | Command::SetLock { domain, .. }
            | Command::GetDomainStatus { domain }
            | Command::GetPrivacy { domain }
            | Command::GetAuthCode { domain }
            | Command::GetContact { domain, .. }
            | Command::SendAuthCode { domain }
            | Command::SetPrivacy { domain, .. }
            | Command::GetDomain { domain } => Some(domain),
            Command::SwRegister(r) => Some(&r.domain),
            Command::Manage(m) => Some(m.domain()),
            _ => None,
        }
    }

    /// The request's data block.
    pub fn to_value(&self) -> Value {
        self.build(false)
    }

    /// The request with registrant passwords and transfer codes replaced, for evidence.
    pub fn to_redacted_value(&self) -> Value {
        self.build(true)
    }

    fn build(&self, redact: bool) -> Value {
        let secret = |s: &str| {
            if redact {
                REDACTED.to_string()
            } else {
                s.to_string()
            }
        };
        let (action, object) = self.action_object();
        let mut top = Value::assoc()
            .with("protocol", "XCP")
            .with("action", action)
            .with("object", object);
        let attributes = match self {
            Command::Lookup { domain } => Value::assoc().with("domain", domain.as_str()),
            Command::SwRegister(r) => {
                let mut a = Value::assoc()
                    .with("domain", r.domain.as_str())
                    .with(
                        "reg_type",
                        match r.reg_type {
                            RegType::New => "new",
                            RegType::Transfer => "transfer",
                        },
                    )
                    .with("period", r.period.to_string())
                    .with("reg_username", r.reg_username.as_str())
                    .with("reg_password", secret(&r.reg_password))
                    .with("contact_set", contact_set_value(&r.contacts))
                    .with("custom_tech_contact", "1")
                    .with("custom_nameservers", flag(!r.nameservers.is_empty()))
                    .with("auto_renew", flag(r.auto_renew))
                    .with("f_lock_domain", flag(r.lock))
                    // Always explicit, so an RWI setting never parks the order.
                    .with("handle", "process");
                if !r.nameservers.is_empty() {
                    let list = r
                        .nameservers
                        .iter()
                        .enumerate()
                        .map(|(i, ns)| {
                            Value::assoc()
                                .with("name", ns.as_str())
                                .with("sortorder", (i + 1).to_string())
                        })
                        .collect::<Vec<_>>();
                    a = a.with("nameserver_list", list);
                    if r.reg_type == RegType::Transfer {
                        a = a.with("custom_transfer_nameservers", "1");
                    }
                }
                if let Some(code) = &r.auth_info {
                    a = a.with("auth_info", secret(code));
                }
                a
            }
            Command::Renew {
                domain,
                current_expiration_year,
                period,
                auto_renew,
            } => Value::assoc()
                .with("domain", domain.as_str())
                .with("currentexpirationyear", current_expiration_year.to_string())
                .with("period", period.to_string())
                .with("auto_renew", flag(*auto_renew))
                .with("handle", "process"),
            Command::CheckTransfer {
                domain,
                check_status,
            } => Value::assoc()
                .with("domain", domain.as_str())
                .with("check_status", flag(*check_status))
                .with("get_request_address", "1"),
            Command::BelongsToRsp { domain } => Value::assoc().with("domain", domain.as_str()),
            Command::UpdateNameservers {
                domain,
                nameservers,
            } => Value::assoc()
                .with("domain", domain.as_str())
                .with("op_type", "assign")
                .with(
                    "assign_ns",
                    nameservers
                        .iter()
                        .map(|n| Value::scalar(n.as_str()))
                        .collect::<Vec<_>>(),
                ),
            Command::SetLock { domain, locked } => Value::assoc()
                .with("domain", domain.as_str())
                .with("domain_name", domain.as_str())
                .with("affect_domains", "0")
                .with("data", "status")
                .with("lock_state", flag(*locked)),
            Command::GetTransfersAway { domain } => Value::assoc()
                .with("domain", domain.as_str())
                .with("page", "1")
                .with("limit", "40"),
            Command::GetOrderInfo { order_id } => {
                Value::assoc().with("order_id", order_id.as_str())
            }
            Command::GetOrdersByDomain { domain } => Value::assoc()
                .with("domain", domain.as_str())
                .with("limit", "40")
                .with("page", "1"),
            Command::GetDomain { domain } => {
                top = top.with("domain", domain.as_str());
                Value::assoc().with("type", "all_info")
            }
            Command::GetDomainStatus { domain } => {
                top = top.with("domain", domain.as_str());
                Value::assoc().with("type", "status")
            }
            Command::GetPrivacy { domain } => {
                top = top.with("domain", domain.as_str());
                Value::assoc().with("type", "whois_privacy_state")
            }
            Command::GetAuthCode { domain } => {
                top = top.with("domain", domain.as_str());
                Value::assoc().with("type", "domain_auth_info")
            }
            Command::GetContact { domain, role } => {
                top = top.with("domain", domain.as_str());
                Value::assoc().with("type", *role)
            }
            Command::SendAuthCode { domain } => Value::assoc().with("domain_name", domain.as_str()),
            Command::SetPrivacy { domain, enabled } => Value::assoc()
                .with("domain", domain.as_str())
                .with("affect_domains", "0")
                .with("data", "whois_privacy_state")
                .with("state", if *enabled { "enable" } else { "disable" }),
            Command::Manage(m) => m.attributes(),
            // The toolkit sends an empty assoc rather than nothing.
            Command::GetBalance => Value::assoc(),
            Command::GetPrice { domain, period } => Value::assoc()
                .with("domain", domain.as_str())
                .with("period", period.to_string())
                .with("reg_type", "new"),
            Command::ProcessPending { order_id, cancel } => {
                let a = Value::assoc().with("order_id", order_id.as_str());
                if *cancel {
                    a.with("command", "cancel")
                } else {
                    a
                }
            }
            Command::QueryQueuedRequest { request_id } => {
                Value::assoc().with("request_id", request_id.as_str())
            }
            Command::PollEvents { limit } => {
                Value::assoc().with("limit", (*limit).clamp(1, 100).to_string())
            }
            Command::AckEvent { event_id } => Value::assoc().with("event_id", event_id.as_str()),
            Command::GetDomainsByExpiredate {
                from,
                to,
                page,
                limit,
            } => Value::assoc()
                .with("exp_from", from.as_str())
                .with("exp_to", to.as_str())
                .with("page", page.to_string())
                .with("limit", limit.to_string()),
        };
        top.with("attributes", attributes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_leaves_out_the_profile_password_and_the_transfer_code() {
        let contact = Contact {
            first_name: "Owen".into(),
            ..Default::default()
        };
        let r = SwRegister {
            lock: true,
            domain: "example.com".into(),
            reg_type: RegType::Transfer,
            period: 1,
            contacts: ContactSet {
                owner: contact.clone(),
                admin: contact.clone(),
                billing: contact.clone(),
                tech: contact,
            },
            nameservers: vec![],
            reg_username: "owen".into(),
            reg_password: "hunter2-profile".into(),
            auth_info: Some("EPP-SECRET".into()),
            auto_renew: false,
        };
        let shown = format!("{:?}", Command::SwRegister(Box::new(r)));
        assert!(
            !shown.contains("hunter2") && !shown.contains("EPP-SECRET"),
            "{shown}"
        );
        assert!(shown.contains("example.com"));
    }
}
