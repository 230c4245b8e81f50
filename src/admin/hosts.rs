//! A domain's child (glue) nameservers as OpenSRS lists them (NAMESERVER GET, read-only)
//! beside those made through domreg, so a host made elsewhere is seen too.

use serde::Serialize;

use domreg_events::*;

use super::AdminError;
use crate::app::App;
use crate::engine::client_for;
use crate::opensrs::manage::{hosts, Host};
use crate::opensrs::{self, Class, ManageCommand};
use crate::unit_of_work::load;

#[derive(Debug, Clone, Serialize)]
pub struct HostsView {
    pub domain: String,
    /// As OpenSRS answered now; `None` when it could not be asked (see `unavailable`).
    pub at_opensrs: Option<Vec<Host>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
    /// As made through domreg and recorded in the log.
    pub recorded: Vec<Host>,
}

pub async fn list(app: &mut App, domain: &str) -> Result<HostsView, AdminError> {
    app.catch_up().await?;
    let name = DomainName::parse(domain)?;
    let state = load(&app.store, &name).await?;
    if !state.is_registered() {
        return Err(DomainError::NotRegistered(name.to_string()).into());
    }
    let recorded = state
        .child_nameservers
        .iter()
        .map(|(host, a)| Host {
            name: host.clone(),
            ipv4: a.ipv4.clone(),
            ipv6: a.ipv6.clone(),
        })
        .collect();
    let (at_opensrs, unavailable) = match state.connection.as_deref().map(|c| client_for(app, c)) {
        Some(Ok(client)) => {
            let e = client
                .call(&opensrs::Command::Manage(Box::new(
                    ManageCommand::GetHosts {
                        domain: name.to_string(),
                    },
                )))
                .await;
            match (&e.outcome, e.classification.class) {
                (Ok(reply), Class::Done) => (Some(hosts(reply)), None),
                _ => (None, Some(crate::engine::probe::describe(&e))),
            }
        }
        Some(Err(why)) => (None, Some(why)),
        None => (
            None,
            Some("no OpenSRS connection is recorded for it".into()),
        ),
    };
    Ok(HostsView {
        domain: name.to_string(),
        at_opensrs,
        unavailable,
        recorded,
    })
}
