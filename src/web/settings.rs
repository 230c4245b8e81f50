//! The settings page: OpenSRS connections (the key is write-only), a connection test,
//! TLD routing, prices, async policies and each connection's license agreement.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use domreg_events::settings::{AsyncPolicy, PriceKind};

use super::back;
use super::guard::{Empty, Posted, SignedIn};
use super::layout::{csrf_field, message, money};
use super::WebState;
use crate::admin::settings::{self as admin, RegistrarFields};
use crate::opensrs::Secret;

const BACK: &str = "/admin/settings";

async fn body(s: &WebState, q: &HashMap<String, String>, csrf: &str) -> maud::Markup {
    let mut app = s.app.lock().await;
    let _ = app.catch_up().await;
    let registrars = admin::registrars(&app);
    let routes = app.models.routes().unwrap_or_default();
    let prices = app.models.prices(None).unwrap_or_default();
    let policies = app.models.policies().unwrap_or_default();
    drop(app);
    html! {
        @if let Some((text, error)) = q.get("flash").and_then(|id| super::flash::get(id)) {
            (message(&text, error))
        }
        h2 { "OpenSRS connections" }
        @match registrars {
            Err(e) => (message(&e.to_string(), true)),
            Ok(list) => {
                @for r in &list {
                    @let c = &r.config;
                    fieldset {
                        legend { (c.title) " — " (c.login) "@" (c.server) ":" (c.port) " (" (if r.production { "live" } else if c.test_mode { "test system" } else { "non-production" }) ")" }
                        p { "Key: " (r.key) ". TLDs: " (if r.tlds.is_empty() { "none".to_string() } else { r.tlds.join(", ") }) "." }
                        form method="post" action=(format!("/admin/settings/registrars/{}/test", c.title)) {
                            (csrf_field(csrf))
                            button type="submit" { "Test connection" }
                        }
                        form method="post" action="/admin/settings/registrars" {
                            (csrf_field(csrf))
                            input type="hidden" name="title" value=(c.title);
                            input type="hidden" name="mode" value="edit";
                            (fields(&c.title, Some(c)))
                            p { button type="submit" { "Save " (c.title) } }
                        }
                        @if !c.license_agreement.is_empty() {
                            h3 { "License agreement shown to customers" }
                            pre { (c.license_agreement) }
                        }
                    }
                }
            }
        }
        details {
            summary { "Add a connection" }
            form method="post" action="/admin/settings/registrars" {
                (csrf_field(csrf))
                input type="hidden" name="mode" value="add";
                label for="new-title" { "Title" }
                input #new-title name="title" required;
                (fields("new", None))
                p { button type="submit" { "Add connection" } }
            }
        }
        h2 { "TLD routing" }
        table {
            thead { tr { th scope="col" { "TLD" } th scope="col" { "Connection" } } }
            tbody { @for (t, r) in &routes { tr { td { "." (t) } td { (r) } } } }
        }
        form method="post" action="/admin/settings/tlds" {
            (csrf_field(csrf))
            label for="route-tld" { "TLD" } input #route-tld name="tld" required placeholder="com";
            label for="route-reg" { "Connection" } input #route-reg name="registrar" required;
            p { button type="submit" { "Route" } }
        }
        h2 { "Prices" }
        table {
            thead { tr { th scope="col" { "TLD" } th scope="col" { "Kind" } th scope="col" { "Period" } th scope="col" class="num" { "Price" } } }
            tbody { @for p in &prices { tr {
                td { "." (p.tld) } td { (p.kind.as_str()) }
                td { (p.years.map(|y| format!("{y} year(s)")).unwrap_or_else(|| "once".into())) }
                td.num { (money(&p.price)) }
            } } }
        }
        form method="post" action="/admin/settings/prices" {
            (csrf_field(csrf))
            label for="price-tld" { "TLD" } input #price-tld name="tld" required;
            label for="price-kind" { "Kind" }
            select #price-kind name="kind" { option value="register" { "register" } option value="renew" { "renew" } option value="transfer" { "transfer" } option value="privacy" { "privacy" } option value="restore" { "restore" } }
            label for="price-years" { "Years (register and renew)" } input #price-years name="years" type="number" min="1" max="10" value="1";
            label for="price-amount" { "Amount" } input #price-amount name="amount" required placeholder="12.99" inputmode="decimal";
            label for="price-currency" { "Currency" } input #price-currency name="currency" value="USD";
            p { button type="submit" { "Set price" } }
        }
        h2 { "Async policies" }
        table {
            thead { tr { th scope="col" { "TLD" } th scope="col" { "For" } th scope="col" class="num" { "Poll every (s)" } th scope="col" class="num" { "Time out after (s)" } th scope="col" { "Source" } } }
            tbody { @for p in &policies { tr {
                td { "." (p.tld) } td { (if p.transfer { "transfers" } else { "registrations" }) }
                td.num { (p.policy.poll_every_secs) } td.num { (p.policy.timeout_secs) }
                td { (if p.configured { "configured" } else { "default" }) }
            } } }
        }
        form method="post" action="/admin/settings/policies" {
            (csrf_field(csrf))
            label for="pol-tld" { "TLD (* for all others)" } input #pol-tld name="tld" required;
            label for="pol-transfer" { "For" }
            select #pol-transfer name="transfer" { option value="false" { "registrations" } option value="true" { "transfers" } }
            label for="pol-every" { "Poll every (seconds)" } input #pol-every name="poll_every_secs" type="number" min="1" required;
            label for="pol-timeout" { "Time out after (seconds)" } input #pol-timeout name="timeout_secs" type="number" min="60" required;
            p { button type="submit" { "Set policy" } }
        }
    }
}

/// The editable fields of a connection; the key is write-only: never shown, empty keeps it.
fn fields(id: &str, c: Option<&domreg_events::settings::RegistrarConfig>) -> maud::Markup {
    let v =
        |f: fn(&domreg_events::settings::RegistrarConfig) -> String| c.map(f).unwrap_or_default();
    html! {
        label for=(format!("{id}-login")) { "Reseller login" }
        input id=(format!("{id}-login")) name="login" value=(v(|c| c.login.clone())) required;
        label for=(format!("{id}-key")) { "Private key" @if c.is_some() { " (leave empty to keep the stored one)" } }
        input id=(format!("{id}-key")) name="key" type="password" autocomplete="off" required[c.is_none()];
        label for=(format!("{id}-server")) { "Server" }
        input id=(format!("{id}-server")) name="server" value=(v(|c| c.server.clone()));
        label for=(format!("{id}-port")) { "Port" }
        input id=(format!("{id}-port")) name="port" type="number" min="1" max="65535" value=(v(|c| c.port.to_string()));
        label for=(format!("{id}-warn")) { "Warn days" }
        input id=(format!("{id}-warn")) name="warn_days" type="number" min="0" max="365" value=(v(|c| c.warn_days.to_string()));
        label for=(format!("{id}-renew")) { "Renew days" }
        input id=(format!("{id}-renew")) name="renew_days" type="number" min="0" max="365" value=(v(|c| c.renew_days.to_string()));
        label for=(format!("{id}-license")) { "License agreement" }
        textarea id=(format!("{id}-license")) name="license_agreement" rows="3" { (v(|c| c.license_agreement.clone())) }
    }
}

pub async fn page(
    State(s): State<Arc<WebState>>,
    SignedIn(session): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let body = body(&s, &q, &session.csrf).await;
    super::layout::page("Settings", "/admin/settings", Some(&session.csrf), body).into_response()
}

#[derive(Deserialize)]
pub struct RegistrarForm {
    mode: String,
    title: String,
    login: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    server: String,
    #[serde(default)]
    port: String,
    #[serde(default)]
    warn_days: String,
    #[serde(default)]
    renew_days: String,
    #[serde(default)]
    license_agreement: String,
}

fn number<T: std::str::FromStr>(what: &str, s: &str) -> Result<Option<T>, String> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    s.trim()
        .parse()
        .map(Some)
        .map_err(|_| format!("{what} must be a whole number, not {s:?}"))
}

pub async fn save_registrar(
    State(s): State<Arc<WebState>>,
    Posted(f): Posted<RegistrarForm>,
) -> Response {
    let parsed = (|| -> Result<RegistrarFields, String> {
        Ok(RegistrarFields {
            login: Some(f.login.clone()),
            key: (!f.key.trim().is_empty()).then(|| Secret::new(f.key.trim())),
            server: (!f.server.trim().is_empty()).then(|| f.server.trim().to_string()),
            port: number("port", &f.port)?,
            warn_days: number("warn days", &f.warn_days)?,
            renew_days: number("renew days", &f.renew_days)?,
            license_agreement: Some(f.license_agreement.replace("\r\n", "\n")),
            ..Default::default()
        })
    })();
    let fields = match parsed {
        Ok(x) => x,
        Err(e) => return back(BACK, Err(e)),
    };
    let mut app = s.app.lock().await;
    let result = if f.mode == "add" {
        admin::add_registrar(&mut app, f.title.trim(), &fields, s.actor())
            .await
            .map(|v| format!("Added connection {}.", v.config.title))
    } else {
        admin::update_registrar(&mut app, f.title.trim(), &fields, s.actor())
            .await
            .map(|v| format!("Saved connection {}.", v.config.title))
    };
    back(BACK, result.map_err(|e| e.to_string()))
}

pub async fn test(
    State(s): State<Arc<WebState>>,
    Path(title): Path<String>,
    _: Posted<Empty>,
) -> Response {
    let mut app = s.app.lock().await;
    let result = match admin::test_registrar(&mut app, &title).await {
        Ok(t) if t.ok => Ok(t.message),
        Ok(t) => Err(t.message),
        Err(e) => Err(e.to_string()),
    };
    back(BACK, result)
}

#[derive(Deserialize)]
pub struct AssignForm {
    tld: String,
    registrar: String,
}

pub async fn assign(State(s): State<Arc<WebState>>, Posted(f): Posted<AssignForm>) -> Response {
    let mut app = s.app.lock().await;
    let result = admin::assign_tld(&mut app, &f.tld, f.registrar.trim(), s.actor())
        .await
        .map(|r| format!(".{} goes through {}.", r.tld, r.registrar));
    back(BACK, result.map_err(|e| e.to_string()))
}

#[derive(Deserialize)]
pub struct PriceForm {
    tld: String,
    kind: PriceKind,
    #[serde(default)]
    years: String,
    amount: String,
    currency: String,
}

pub async fn price(State(s): State<Arc<WebState>>, Posted(f): Posted<PriceForm>) -> Response {
    let years = if f.kind.priced_once() {
        Ok(None)
    } else {
        number::<i64>("years", &f.years)
    };
    let years = match years {
        Ok(y) => y,
        Err(e) => return back(BACK, Err(e)),
    };
    let mut app = s.app.lock().await;
    let result = admin::set_price(
        &mut app,
        &f.tld,
        f.kind,
        years,
        &f.amount,
        &f.currency,
        s.actor(),
    )
    .await
    .map(|p| format!(".{} {} price set to {}.", p.tld, p.kind.as_str(), p.price));
    back(BACK, result.map_err(|e| e.to_string()))
}

#[derive(Deserialize)]
pub struct PolicyForm {
    tld: String,
    transfer: bool,
    poll_every_secs: String,
    timeout_secs: String,
}

pub async fn policy(State(s): State<Arc<WebState>>, Posted(f): Posted<PolicyForm>) -> Response {
    let parsed = number::<u64>("poll every", &f.poll_every_secs)
        .and_then(|p| Ok((p, number::<u64>("time out after", &f.timeout_secs)?)));
    let (Some(poll), Some(timeout)) = (match parsed {
        Ok(x) => x,
        Err(e) => return back(BACK, Err(e)),
    }) else {
        return back(
            BACK,
            Err("give both the poll interval and the timeout".into()),
        );
    };
    let mut app = s.app.lock().await;
    let result = admin::set_policy(
        &mut app,
        &f.tld,
        f.transfer,
        AsyncPolicy {
            poll_every_secs: poll,
            timeout_secs: timeout,
        },
        s.actor(),
    )
    .await
    .map(|p| {
        format!(
            ".{} policy set: poll every {} s, time out after {} s.",
            p.tld, p.policy.poll_every_secs, p.policy.timeout_secs
        )
    });
    back(BACK, result.map_err(|e| e.to_string()))
}
