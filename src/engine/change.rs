//! Sending a domain change to OpenSRS exactly once, and resolving one whose answer was
//! lost by reading the domain back (GET DOMAIN), never by sending it again.

use chrono::{DateTime, Duration, Utc};

use domreg_events::change::{Change, DomainChange, HostAction};
use domreg_events::*;

use crate::opensrs::{self, Class, Client, Exchange, ManageCommand};
use crate::store::EventStore;
use crate::unit_of_work::{load, UnitError, UnitOfWork, Written};

/// What became of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeEnd {
    Applied(RegistrarAnswer),
    Refused(RegistrarAnswer),
    /// Sent, no answer, and the domain could not be read back: resolved later by the
    /// engine once the lease lapses.
    Unresolved(String),
}

fn command(domain: &DomainName, change: &DomainChange) -> opensrs::Command {
    let manage = |m| opensrs::Command::Manage(Box::new(m));
    let d = domain.to_string();
    match change {
        DomainChange::Contacts { roles, contact, .. } => manage(ManageCommand::UpdateContacts {
            domain: d,
            roles: roles.clone(),
            contact: contact.clone(),
        }),
        DomainChange::ChildNameserver {
            action,
            host,
            ipv4,
            ipv6,
        } => {
            let (host, ipv4, ipv6) = (host.clone(), ipv4.clone(), ipv6.clone());
            manage(match action {
                HostAction::Create => ManageCommand::CreateHost {
                    domain: d,
                    host,
                    ipv4,
                    ipv6,
                },
                HostAction::Modify => ManageCommand::ModifyHost {
                    domain: d,
                    host,
                    ipv4,
                    ipv6,
                },
                HostAction::Delete => ManageCommand::DeleteHost { domain: d, host },
            })
        }
        DomainChange::IpsTag { tag } => manage(ManageCommand::ChangeIpsTag {
            domain: d,
            tag: tag.clone(),
        }),
        DomainChange::Nameservers { nameservers } => opensrs::Command::UpdateNameservers {
            domain: domain.to_string(),
            nameservers: nameservers.clone(),
        },
        DomainChange::Lock { locked } => opensrs::Command::SetLock {
            domain: domain.to_string(),
            locked: *locked,
        },
        DomainChange::Privacy { enabled } => opensrs::Command::SetPrivacy {
            domain: domain.to_string(),
            enabled: *enabled,
        },
    }
}

fn answer(e: &Exchange) -> RegistrarAnswer {
    RegistrarAnswer::new(e.classification.code, e.classification.text.clone())
        .with_evidence(e.evidence.clone())
}

/// A read-only call's reply, when OpenSRS answered it.
async fn read(client: &Client, command: opensrs::Command) -> Option<opensrs::reply::Reply> {
    let e = client.call(&command).await;
    e.outcome
        .ok()
        .filter(|_| e.classification.class == Class::Done)
}

/// Whether OpenSRS shows `change` made: `Some(true|false)`, or `None` when it did not say.
async fn made_at_opensrs(
    client: &Client,
    domain: &DomainName,
    change: &DomainChange,
) -> Option<bool> {
    let domain = domain.to_string();
    match change {
        DomainChange::Contacts { roles, contact, .. } => {
            let role = roles.first()?.as_str();
            let reply = read(client, opensrs::Command::GetContact { domain, role }).await?;
            let there = reply.attributes.get("contact_set")?.get(role)?;
            let same = |field: &str, wanted: &str| {
                there
                    .text(field)
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case(wanted.trim()))
            };
            Some(
                same("first_name", &contact.first_name)
                    && same("last_name", &contact.last_name)
                    && same("email", &contact.email),
            )
        }
        DomainChange::ChildNameserver {
            action,
            host,
            ipv4,
            ipv6,
        } => {
            let reply = read(
                client,
                opensrs::Command::Manage(Box::new(ManageCommand::GetHosts { domain })),
            )
            .await?;
            let hosts = opensrs::manage::hosts(&reply);
            let found = hosts.iter().find(|h| &h.name == host);
            Some(match action {
                HostAction::Delete => found.is_none(),
                _ => found.is_some_and(|h| &h.ipv4 == ipv4 && &h.ipv6 == ipv6),
            })
        }
        DomainChange::IpsTag { .. } => {
            let reply = read(client, opensrs::Command::BelongsToRsp { domain }).await?;
            // Gone from the account: the tag moved it.
            reply.attributes.flag("belongs_to_rsp").map(|b| !b)
        }
        DomainChange::Nameservers { nameservers } => {
            let reply = read(client, opensrs::Command::GetDomain { domain }).await?;
            let mut there: Vec<String> = reply
                .attributes
                .get("nameserver_list")
                .and_then(opensrs::value::Value::as_array)?
                .iter()
                .filter_map(|n| n.text("name").map(str::to_ascii_lowercase))
                .collect();
            let mut wanted = nameservers.clone();
            there.sort();
            wanted.sort();
            Some(there == wanted)
        }
        DomainChange::Lock { locked } => {
            let reply = read(client, opensrs::Command::GetDomainStatus { domain }).await?;
            reply.attributes.flag("lock_state").map(|l| l == *locked)
        }
        DomainChange::Privacy { enabled } => {
            let reply = read(client, opensrs::Command::GetPrivacy { domain }).await?;
            // `enabling` / `disabling` are on the way: not yet made.
            match reply.attr("state")? {
                "enabled" => Some(*enabled),
                "disabled" => Some(!*enabled),
                _ => Some(false),
            }
        }
    }
}

/// Sends a submitted change once and says what OpenSRS did.
pub async fn send(client: &Client, domain: &DomainName, change: &DomainChange) -> ChangeEnd {
    let e = client.call(&command(domain, change)).await;
    match e.classification.class {
        Class::Done => ChangeEnd::Applied(answer(&e)),
        Class::Rejected | Class::RetryLater => ChangeEnd::Refused(answer(&e)),
        Class::Pending | Class::Unknown => {
            let lost = format!(
                "the answer was lost ({}); nothing was sent again",
                crate::engine::probe::describe(&e)
            );
            settle_lost(client, domain, change, &lost).await
        }
    }
}

/// The read-only command that shows whether `change` was made.
fn read_back(change: &DomainChange) -> &'static str {
    match change {
        DomainChange::ChildNameserver { .. } => "NAMESERVER GET",
        DomainChange::IpsTag { .. } => "BELONGS_TO_RSP",
        _ => "GET DOMAIN",
    }
}

/// A change whose answer was lost: the domain read back decides.
pub async fn settle_lost(
    client: &Client,
    domain: &DomainName,
    change: &DomainChange,
    lost: &str,
) -> ChangeEnd {
    let how = read_back(change);
    match made_at_opensrs(client, domain, change).await {
        Some(true) => ChangeEnd::Applied(RegistrarAnswer::new(
            None,
            format!("{lost}; {how} shows the change made"),
        )),
        Some(false) => ChangeEnd::Refused(RegistrarAnswer::new(
            None,
            format!("{lost}; {how} shows it not made: ask again"),
        )),
        None => ChangeEnd::Unresolved(format!("{lost}; {how} did not answer either")),
    }
}

/// Records `end` for the change; an unresolved one is left as submitted.
pub async fn record<S: EventStore>(
    store: &S,
    domain: &DomainName,
    change_id: OrderId,
    end: &ChangeEnd,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<Domain, UnitError> {
    let (applied, answer) = match end {
        ChangeEnd::Applied(a) => (true, a.clone()),
        ChangeEnd::Refused(a) => (false, a.clone()),
        ChangeEnd::Unresolved(_) => return load(store, domain).await,
    };
    let command = Command::RecordChangeOutcome {
        change_id,
        applied,
        answer,
    };
    let w = UnitOfWork::new(store, actor, now)
        .run(domain, |_| vec![command.clone()])
        .await?;
    Ok(match w {
        Written::Appended { state, .. } | Written::Unchanged { state } => state,
    })
}

/// The engine's part: every submitted change whose lease lapsed (its sender died or got
/// no answer) is resolved by reading the domain back. Returns how many were recorded.
pub async fn recover_lapsed(
    app: &crate::app::App,
    clients: &mut dyn FnMut(&str) -> Option<std::sync::Arc<Client>>,
    now: DateTime<Utc>,
) -> Result<usize, crate::engine::EngineError> {
    let mut recorded = 0;
    for (domain, id) in app.models.lapsed_changes(now)? {
        let (Ok(domain), Ok(id)) = (DomainName::parse(&domain), id.parse::<OrderId>()) else {
            continue;
        };
        let state = load(&app.store, &domain).await?;
        let lapsed = |c: &&Change| {
            matches!(c.stage, change::ChangeStage::Submitted(_)) && !change::leased(c, now)
        };
        let Some(change) = state.changes.get(&id).filter(lapsed) else {
            continue;
        };
        let Some(client) = clients(&change.connection) else {
            continue;
        };
        let lost = "the engine sending it stopped before OpenSRS's answer was recorded; nothing was sent again";
        let end = settle_lost(&client, &domain, &change.change, lost).await;
        if !matches!(end, ChangeEnd::Unresolved(_)) {
            record(&app.store, &domain, id, &end, Actor::Engine, now).await?;
            recorded += 1;
        }
    }
    Ok(recorded)
}

/// The lease an engine takes for sending a change (its call timeout and a margin).
pub fn lease(engine: &str, call: std::time::Duration, now: DateTime<Utc>) -> Lease {
    Lease {
        engine: engine.to_string(),
        until: now
            + Duration::from_std(call).unwrap_or(Duration::seconds(120))
            + Duration::seconds(10),
    }
}
