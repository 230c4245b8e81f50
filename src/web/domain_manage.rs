//! The domain page's forms for contacts, child (glue) nameservers and the .uk IPS tag,
//! and their posts: each a change sent to OpenSRS once and recorded, as the CLI does.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use domreg_events::capabilities::{self, AuthCode};
use domreg_events::change::{DomainChange, HostAction, TransferLock};
use domreg_events::{Contact, ContactRole, Domain};

use super::domain::change;
use super::guard::Posted;
use super::layout::csrf_field;
use super::WebState;

const FIELDS: [(&str, &str, bool); 10] = [
    ("first_name", "First name", true),
    ("last_name", "Last name", true),
    ("org_name", "Organisation", false),
    ("address1", "Address", true),
    ("city", "City", true),
    ("state", "State or province", false),
    ("country", "Country (two letters)", true),
    ("postal_code", "Postal code", true),
    ("phone", "Phone (+CC.NUMBER)", true),
    ("email", "E-mail", true),
];

/// The contacts, child nameservers and IPS tag sections of a registered domain's page.
pub fn sections(path: &str, csrf: &str, d: &Domain) -> Markup {
    let tld = d.name.as_ref().map(|n| n.tld()).unwrap_or_default();
    let can = capabilities::of(tld);
    let owner = d.owner.clone().unwrap_or_default();
    let value = |field: &str| -> String {
        serde_json::to_value(&owner)
            .ok()
            .and_then(|v| v.get(field).and_then(|x| x.as_str()).map(str::to_string))
            .unwrap_or_default()
    };
    html! {
        h2 { "Contacts" }
        @if can.contact_updates {
            form method="post" action=(format!("{path}/contacts")) {
                (csrf_field(csrf))
                fieldset {
                    legend { "Roles this contact takes" }
                    @for r in ContactRole::ALL {
                        label { input type="checkbox" name=(format!("role_{}", r.as_str())) value="on"; " " (r.as_str()) } " "
                    }
                }
                @for (field, label, required) in FIELDS {
                    label for=(format!("c-{field}")) { (label) }
                    input id=(format!("c-{field}")) name=(field) value=(value(field)) required[required];
                }
                @if can.registrant_change_lock {
                    fieldset {
                        legend { "A new registrant (owner name, organisation or e-mail) starts ICANN's 60-day lock on transfers to another registrar" }
                        label { input type="radio" name="transfer_lock" value="" checked; " not a registrant change" } " "
                        label { input type="radio" name="transfer_lock" value="accept"; " accept the 60-day lock" } " "
                        label { input type="radio" name="transfer_lock" value="opt_out"; " the registrant opted out of it" }
                    }
                }
                p { button type="submit" { "Update contacts at OpenSRS" } }
            }
        } @else {
            p { "OpenSRS cannot update this TLD's contacts; change them at the registry." }
        }
        h2 { "Child nameservers" }
        @if d.child_nameservers.is_empty() {
            p { "None made here. " }
        } @else {
            table {
                thead { tr { th scope="col" { "Host" } th scope="col" { "IPv4" } th scope="col" { "IPv6" } th scope="col" { "" } } }
                tbody { @for (host, a) in &d.child_nameservers { tr {
                    td { (host) }
                    td { (a.ipv4.clone().unwrap_or_default()) }
                    td { (a.ipv6.clone().unwrap_or_default()) }
                    td { form method="post" action=(format!("{path}/child-nameservers")) {
                        (csrf_field(csrf))
                        input type="hidden" name="action" value="delete";
                        input type="hidden" name="host" value=(host);
                        button type="submit" { "Delete " (host) }
                    } }
                } } }
            }
        }
        form method="post" action=(format!("{path}/child-nameservers")) {
            (csrf_field(csrf))
            label for="h-action" { "Action" }
            select #h-action name="action" { option value="create" { "create" } option value="modify" { "change addresses" } }
            label for="h-host" { (format!("Host (under the domain, such as ns1.{})", d.name.as_ref().map(|n| n.to_string()).unwrap_or_default())) }
            input #h-host name="host" required;
            label for="h-ipv4" { @if can.glue_needs_ipv4 { "IPv4 (required by this registry)" } @else { "IPv4" } }
            input #h-ipv4 name="ipv4";
            @if can.glue_ipv6 {
                label for="h-ipv6" { "IPv6" }
                input #h-ipv6 name="ipv6";
            }
            p { button type="submit" { "Send to OpenSRS" } }
        }
        @if can.auth_code == AuthCode::IpsTag {
            h2 { "Transfer away (IPS tag)" }
            form method="post" action=(format!("{path}/ips-tag")) {
                (csrf_field(csrf))
                label for="ips-tag" { "The gaining registrar's IPS tag" }
                input #ips-tag name="tag" required;
                label { input type="checkbox" name="release" value="on" required; " I understand the domain leaves this account at once" }
                p { button type="submit" { "Set the IPS tag" } }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ContactsForm {
    role_owner: Option<String>,
    role_admin: Option<String>,
    role_billing: Option<String>,
    role_tech: Option<String>,
    #[serde(default)]
    transfer_lock: String,
    #[serde(flatten)]
    contact: Contact,
}

pub async fn contacts(
    State(s): State<Arc<WebState>>,
    Path(domain): Path<String>,
    Posted(f): Posted<ContactsForm>,
) -> Response {
    let roles = [
        (ContactRole::Owner, &f.role_owner),
        (ContactRole::Admin, &f.role_admin),
        (ContactRole::Billing, &f.role_billing),
        (ContactRole::Tech, &f.role_tech),
    ]
    .into_iter()
    .filter(|(_, on)| on.is_some())
    .map(|(r, _)| r)
    .collect();
    let transfer_lock = match f.transfer_lock.as_str() {
        "accept" => Some(TransferLock::Accept),
        "opt_out" => Some(TransferLock::OptOut),
        _ => None,
    };
    let c = DomainChange::Contacts {
        roles,
        contact: Box::new(f.contact),
        transfer_lock,
    };
    change(&s, &domain, c).await
}

#[derive(Deserialize)]
pub struct HostForm {
    action: String,
    host: String,
    #[serde(default)]
    ipv4: String,
    #[serde(default)]
    ipv6: String,
}

pub async fn child_nameserver(
    State(s): State<Arc<WebState>>,
    Path(domain): Path<String>,
    Posted(f): Posted<HostForm>,
) -> Response {
    let action = match f.action.as_str() {
        "modify" => HostAction::Modify,
        "delete" => HostAction::Delete,
        _ => HostAction::Create,
    };
    let some = |s: String| Some(s).filter(|s| !s.trim().is_empty());
    let c = DomainChange::ChildNameserver {
        action,
        host: domreg_events::change::under_domain(&f.host, &domain),
        ipv4: some(f.ipv4),
        ipv6: some(f.ipv6),
    };
    change(&s, &domain, c).await
}

#[derive(Deserialize)]
pub struct IpsTagForm {
    tag: String,
    release: Option<String>,
}

pub async fn ips_tag(
    State(s): State<Arc<WebState>>,
    Path(domain): Path<String>,
    Posted(f): Posted<IpsTagForm>,
) -> Response {
    if f.release.is_none() {
        return super::back(
            &format!("/admin/domains/{}", super::encode(&domain)),
            Err("tick the box to confirm that the domain leaves this account".into()),
        );
    }
    change(&s, &domain, DomainChange::IpsTag { tag: f.tag }).await
}
