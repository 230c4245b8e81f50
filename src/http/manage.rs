//! The API's routes for a registered domain's contacts, child (glue) nameservers and the
//! .uk IPS tag: each change sent to OpenSRS once and recorded, as the CLI does.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use domreg_events::change::{under_domain, DomainChange, HostAction, TransferLock};
use domreg_events::{Contact, ContactRole};

use super::error::ApiJson;
use super::orders::Answer;
use crate::admin;
use crate::surface::Surface;

async fn apply(s: &Surface, domain: &str, change: DomainChange) -> Answer {
    let mut app = s.app.lock().await;
    let out = admin::changes::apply(&mut app, domain, change, s.actor()).await?;
    Ok(Json(json!(out)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactsBody {
    roles: Vec<ContactRole>,
    contact: Contact,
    #[serde(default)]
    transfer_lock: Option<TransferLock>,
}

/// Sets one contact for the listed roles (UPDATE_CONTACTS).
pub async fn set_contacts(
    State(s): State<Arc<Surface>>,
    Path(domain): Path<String>,
    ApiJson(b): ApiJson<ContactsBody>,
) -> Answer {
    let change = DomainChange::Contacts {
        roles: b.roles,
        contact: Box::new(b.contact),
        transfer_lock: b.transfer_lock,
    };
    apply(&s, &domain, change).await
}

/// The domain's child nameservers at OpenSRS and as recorded.
pub async fn child_nameservers(
    State(s): State<Arc<Surface>>,
    Path(domain): Path<String>,
) -> Answer {
    let mut app = s.app.lock().await;
    let view = admin::hosts::list(&mut app, &domain).await?;
    Ok(Json(json!(view)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewHostBody {
    host: String,
    #[serde(default)]
    ipv4: Option<String>,
    #[serde(default)]
    ipv6: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostBody {
    #[serde(default)]
    ipv4: Option<String>,
    #[serde(default)]
    ipv6: Option<String>,
}

/// The host named in the path, which must be under the domain: another is not found.
fn existing_host(domain: &str, host: &str) -> Result<String, admin::AdminError> {
    let full = under_domain(host, domain);
    let inside = full
        .to_ascii_lowercase()
        .ends_with(&format!(".{}", domain.trim().to_ascii_lowercase()));
    if !inside {
        return Err(admin::AdminError::NotFound(format!(
            "{full} is not a child nameserver of {domain}"
        )));
    }
    Ok(full)
}

pub async fn create_child_nameserver(
    State(s): State<Arc<Surface>>,
    Path(domain): Path<String>,
    ApiJson(b): ApiJson<NewHostBody>,
) -> Answer {
    let change = DomainChange::ChildNameserver {
        action: HostAction::Create,
        host: under_domain(&b.host, &domain),
        ipv4: b.ipv4,
        ipv6: b.ipv6,
    };
    apply(&s, &domain, change).await
}

pub async fn modify_child_nameserver(
    State(s): State<Arc<Surface>>,
    Path((domain, host)): Path<(String, String)>,
    ApiJson(b): ApiJson<HostBody>,
) -> Answer {
    let change = DomainChange::ChildNameserver {
        action: HostAction::Modify,
        host: existing_host(&domain, &host)?,
        ipv4: b.ipv4,
        ipv6: b.ipv6,
    };
    apply(&s, &domain, change).await
}

pub async fn delete_child_nameserver(
    State(s): State<Arc<Surface>>,
    Path((domain, host)): Path<(String, String)>,
) -> Answer {
    let change = DomainChange::ChildNameserver {
        action: HostAction::Delete,
        host: existing_host(&domain, &host)?,
        ipv4: None,
        ipv6: None,
    };
    apply(&s, &domain, change).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpsTagBody {
    tag: String,
    /// Must be true: the domain leaves the account at once.
    release: bool,
}

/// Sets a .uk domain's IPS tag to the gaining registrar's (one-shot).
pub async fn set_ips_tag(
    State(s): State<Arc<Surface>>,
    Path(domain): Path<String>,
    ApiJson(b): ApiJson<IpsTagBody>,
) -> Answer {
    if !b.release {
        return Err(admin::AdminError::invalid(
            "release_not_confirmed",
            "setting the IPS tag hands the domain to that registrar at once; send release: true to confirm",
        )
        .into());
    }
    apply(&s, &domain, DomainChange::IpsTag { tag: b.tag }).await
}
