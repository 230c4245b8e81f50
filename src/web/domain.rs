//! One domain's page: what the log holds for it, and its changes at OpenSRS (nameservers,
//! registrar lock, privacy; contacts, child nameservers and the IPS tag in
//! `domain_manage`), each sent once and recorded, with OpenSRS's answer shown.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use domreg_events::change::{ChangeStage, DomainChange};
use domreg_events::DomainName;

use super::guard::{Posted, SignedIn};
use super::layout::{csrf_field, message, page, time};
use super::pages::flash;
use super::WebState;

pub async fn domain_page(
    State(s): State<Arc<WebState>>,
    SignedIn(session): SignedIn,
    Path(domain): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let state = match DomainName::parse(&domain) {
        Err(e) => Err(e.to_string()),
        Ok(name) => {
            let app = s.app.lock().await;
            crate::unit_of_work::load(&app.store, &name)
                .await
                .map_err(|e| e.to_string())
        }
    };
    let path = format!("/admin/domains/{}", super::encode(&domain));
    let body = html! {
        (flash(&q))
        p { a href="/admin/domains" { "← Domains" } " · " a href=(format!("/admin/audit?domain={}", super::encode(&domain))) { "Audit" } }
        @match &state {
            Err(e) => (message(e, true)),
            Ok(d) if !d.is_registered() => p { (domain) " is not registered here." },
            Ok(d) => {
                dl {
                    dt { "Holder" } dd { (d.holder.as_ref().map(|h| h.to_string()).unwrap_or_default()) }
                    dt { "Connection" } dd { (d.connection.clone().unwrap_or_default()) }
                    dt { "Expires" } dd { @if let Some(t) = &d.expires_at { (time(t)) } }
                    dt { "Status" } dd { @match &d.gone { Some(why) => { "gone: " (why) }, None => "registered" } }
                    dt { "Nameservers" } dd { @match &d.nameservers { Some(ns) => (ns.join(", ")), None => "as registered (not changed here)" } }
                    dt { "Registrar lock" } dd { @match d.locked { Some(true) => "on", Some(false) => "off", None => "as registered (not changed here)" } }
                    dt { "WHOIS privacy" } dd { @match d.privacy { Some(true) => "on", Some(false) => "off", None => "as registered (not changed here)" } }
                }
                h2 { "Nameservers" }
                form method="post" action=(format!("{path}/nameservers")) {
                    (csrf_field(&session.csrf))
                    label for="ns" { "One host name per line (2 to 13); they replace the current set at OpenSRS" }
                    textarea #ns name="nameservers" rows="4" required { (d.nameservers.clone().unwrap_or_default().join("\n")) }
                    p { button type="submit" { "Set nameservers" } }
                }
                form method="post" action=(format!("{path}/nameservers")) {
                    (csrf_field(&session.csrf))
                    input type="hidden" name="defaults" value="on";
                    button type="submit" { "Reset to the connection's nameservers" }
                }
                h2 { "Registrar lock" }
                form method="post" action=(format!("{path}/lock")) {
                    (csrf_field(&session.csrf))
                    input type="hidden" name="locked" value=(if d.locked == Some(true) { "off" } else { "on" });
                    button type="submit" { (if d.locked == Some(true) { "Unlock (allow a transfer away)" } else { "Lock (no transfer away)" }) }
                }
                @let can = domreg_events::capabilities::of(d.name.as_ref().map(|n| n.tld()).unwrap_or_default());
                @if can.whois_privacy {
                    h2 { "WHOIS privacy" }
                    form method="post" action=(format!("{path}/privacy")) {
                        (csrf_field(&session.csrf))
                        input type="hidden" name="enabled" value=(if d.privacy == Some(true) { "off" } else { "on" });
                        button type="submit" { (if d.privacy == Some(true) { "Switch WHOIS privacy off" } else { "Switch WHOIS privacy on" }) }
                    }
                } @else {
                    p { "This TLD has no WHOIS privacy at OpenSRS." }
                }
                (super::domain_manage::sections(&path, &session.csrf, d))
                @if !d.changes.is_empty() {
                    h2 { "Changes" }
                    table {
                        thead { tr { th scope="col" { "Change" } th scope="col" { "State" } th scope="col" { "OpenSRS answered" } } }
                        tbody { @for c in d.changes.values().rev() { tr {
                            td { (c.change.describe()) }
                            td { (match c.stage { ChangeStage::Requested => "asked", ChangeStage::Submitted(_) => "sent, no answer yet", ChangeStage::Applied => "applied", ChangeStage::Refused => "not made" }) }
                            td { (c.answer.as_ref().map(|a| a.text.clone()).unwrap_or_default()) }
                        } } }
                    }
                }
            }
        }
    };
    page(&domain, "/admin/domains", Some(&session.csrf), body).into_response()
}

#[derive(Deserialize)]
pub struct NameserversForm {
    #[serde(default)]
    nameservers: String,
    /// Set by the reset button: the connection's nameservers.
    defaults: Option<String>,
}

#[derive(Deserialize)]
pub struct LockForm {
    locked: String,
}

pub(super) async fn change(s: &WebState, domain: &str, change: DomainChange) -> Response {
    let mut app = s.app.lock().await;
    let result = crate::admin::changes::apply(&mut app, domain, change, s.actor())
        .await
        .map(|o| match o.state {
            "applied" => format!(
                "{}: {}.{}",
                o.domain,
                o.change.describe(),
                o.charged
                    .map(|m| format!(" {m} charged."))
                    .unwrap_or_default()
            ),
            _ => format!(
                "{}: {} sent; OpenSRS did not answer yet, the engine reads the domain back.",
                o.domain,
                o.change.describe()
            ),
        });
    super::back(
        &format!("/admin/domains/{}", super::encode(domain)),
        result.map_err(|e| e.to_string()),
    )
}

pub async fn nameservers(
    State(s): State<Arc<WebState>>,
    Path(domain): Path<String>,
    Posted(f): Posted<NameserversForm>,
) -> Response {
    if f.defaults.is_some() {
        let defaults = {
            let mut app = s.app.lock().await;
            crate::admin::changes::connection_nameservers(&mut app, &domain).await
        };
        return match defaults {
            Ok(nameservers) => change(&s, &domain, DomainChange::Nameservers { nameservers }).await,
            Err(e) => super::back(
                &format!("/admin/domains/{}", super::encode(&domain)),
                Err(e.to_string()),
            ),
        };
    }
    let nameservers = f
        .nameservers
        .split(|c: char| c == '\n' || c == ',' || c.is_whitespace())
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    change(&s, &domain, DomainChange::Nameservers { nameservers }).await
}

#[derive(Deserialize)]
pub struct PrivacyForm {
    enabled: String,
}

pub async fn privacy(
    State(s): State<Arc<WebState>>,
    Path(domain): Path<String>,
    Posted(f): Posted<PrivacyForm>,
) -> Response {
    change(
        &s,
        &domain,
        DomainChange::Privacy {
            enabled: f.enabled == "on",
        },
    )
    .await
}

pub async fn lock(
    State(s): State<Arc<WebState>>,
    Path(domain): Path<String>,
    Posted(f): Posted<LockForm>,
) -> Response {
    change(
        &s,
        &domain,
        DomainChange::Lock {
            locked: f.locked == "on",
        },
    )
    .await
}
