//! The pages that show things: overview, ledger, domains, audit (the Async Manager is
//! `async_manager.rs`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use maud::{html, Markup};

use domreg_events::expiry::{window, Window};
use domreg_events::settings::RegistrarConfig;
use domreg_events::{AccountId, DomainName};
use domreg_projections::PendingQuery;

use super::encode;
use super::guard::SignedIn;
use super::layout::{csrf_field, message, money, page, time};
use super::WebState;
use crate::audit::{self, DomainAudit};

type Params = Query<HashMap<String, String>>;

/// The `msg` / `err` a redirect after an action carries.
pub(super) fn flash(q: &HashMap<String, String>) -> Markup {
    html! {
        @if let Some((text, error)) = q.get("flash").and_then(|id| super::flash::get(id)) {
            (message(&text, error))
        }
    }
}

pub(super) fn failure(e: impl std::fmt::Display) -> Markup {
    message(&format!("Could not read the data: {e}"), true)
}

pub async fn overview(
    State(s): State<Arc<WebState>>,
    SignedIn(session): SignedIn,
    Query(q): Params,
) -> Response {
    let mut app = s.app.lock().await;
    let gauges = crate::admin::gauges(&mut app).await;
    let today = app
        .clock
        .now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or_else(Utc::now);
    let orders_today = app.models.charges_since(today);
    let oldest = app.models.pending_orders(&PendingQuery {
        limit: 1,
        ..Default::default()
    });
    let spool = std::fs::read_dir(app.data_dir.join("mail").join("spool"))
        .map(|d| d.count())
        .unwrap_or(0);
    let m = crate::metrics::global();
    let body = html! {
        (flash(&q))
        @match (&gauges, &orders_today, &oldest) {
            (Ok(g), Ok(today), Ok(oldest)) => {
                @if !g.quarantined.is_empty() {
                    section.alarm role="alert" aria-labelledby="quarantine" {
                        h2 #quarantine { (g.quarantined.len()) " events cannot be read by this build" }
                        p { "Every read model skips them; `domreg verify` lists them. Upgrade domreg, or ask for help before changing the log." }
                        ul {
                            @for q in g.quarantined.iter().take(20) {
                                li { "position " (q.position.0) " in " code { (q.stream) } " (" (q.event_type) "): " (q.detail) }
                            }
                        }
                    }
                }
                section aria-labelledby="counts" {
                    h2 #counts { "Orders by state" }
                    div.cards {
                        @for (state, n) in &g.orders {
                            div.card { b { (n) } (state.replace('_', " ")) }
                        }
                    }
                }
                section aria-labelledby="engine" {
                    h2 #engine { "Engine" }
                    div.cards {
                        div.card { b { (today) } "orders today (UTC)" }
                        div.card {
                            b { (m.rounds.load(std::sync::atomic::Ordering::Relaxed)) }
                            "rounds since start; last round "
                            @match m.last_round() { Some(t) => (time(&t)), None => "not yet" }
                        }
                        div.card { b { (g.read_model_lag) } "events the read models lag behind the log (position " (g.log_position) ")" }
                        div.card { b { (m.emails_failed.load(std::sync::atomic::Ordering::Relaxed)) } "email delivery failures since start; " (spool) " messages waiting in the spool" }
                        div.card {
                            @match oldest.first() {
                                Some(p) => { b { (p.domain) } "oldest pending order, since " (time(&p.pending_since)) }
                                None => { b { "none" } "pending orders" }
                            }
                        }
                    }
                }
            }
            (Err(e), _, _) => (failure(e)),
            (_, Err(e), _) | (_, _, Err(e)) => (failure(e)),
        }
    };
    page("Overview", "/admin", Some(&session.csrf), body).into_response()
}

pub async fn ledger(
    State(s): State<Arc<WebState>>,
    SignedIn(session): SignedIn,
    Query(q): Params,
) -> Response {
    let account = q.get("account").filter(|a| !a.is_empty()).cloned();
    let mut app = s.app.lock().await;
    let _ = app.catch_up().await;
    let balances = app.models.balances().map_err(|e| e.to_string());
    let entries = match &account {
        Some(a) => match AccountId::parse(a) {
            Ok(_) => app.models.ledger(Some(a), 500).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        },
        None => app.models.ledger(None, 200).map_err(|e| e.to_string()),
    };
    drop(app);
    let body = html! {
        (flash(&q))
        h2 { "Accounts" }
        @match balances {
            Err(e) => (failure(e)),
            Ok(b) => {
                table {
                    thead { tr { th scope="col" { "Account" } th scope="col" class="num" { "Balance" } } }
                    tbody { @for b in &b { tr {
                        td { a href=(format!("/admin/ledger?account={}", encode(&b.account))) { (b.account) } }
                        td.num { (money(&b.balance)) }
                    } } }
                }
            }
        }
        h2 { @match &account { Some(a) => { "Entries of " (a) } None => "Latest entries" } }
        @match entries {
            Err(e) => (failure(e)),
            Ok(entries) => {
                div.wrap { table {
                    thead { tr {
                        th scope="col" { "Time" } th scope="col" { "Account" } th scope="col" { "Kind" }
                        th scope="col" { "Domain" } th scope="col" class="num" { "Amount" }
                        th scope="col" class="num" { "Balance after" } th scope="col" { "Note" }
                    } }
                    tbody { @for e in &entries { tr {
                        td { (time(&e.at)) }
                        td { (e.account) }
                        td { (e.kind) }
                        td {
                            @if let Some(d) = &e.domain {
                                a href=(format!("/admin/audit?domain={}{}", encode(d), e.order_id.as_ref().map(|o| format!("&order={o}")).unwrap_or_default())) { (d) }
                            }
                        }
                        td.num { (money(&e.amount)) }
                        td.num { (money(&e.balance_after)) }
                        td { (e.note) }
                    } } }
                } }
            }
        }
    };
    page("Ledger", "/admin/ledger", Some(&session.csrf), body).into_response()
}

pub async fn domains(
    State(s): State<Arc<WebState>>,
    SignedIn(session): SignedIn,
    Query(q): Params,
) -> Response {
    let mut app = s.app.lock().await;
    let _ = app.catch_up().await;
    let rows = app
        .models
        .domains(
            q.get("account")
                .filter(|a| !a.is_empty())
                .map(String::as_str),
            2000,
        )
        .map_err(|e| e.to_string());
    let connections: HashMap<String, RegistrarConfig> = app
        .models
        .registrars()
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.title.clone(), c))
        .collect();
    let now = app.clock.now();
    drop(app);
    let body = html! {
        (flash(&q))
        @match rows {
            Err(e) => (failure(e)),
            Ok(rows) => {
                @if rows.is_empty() { p { "No domains yet." } }
                div.wrap { table {
                    thead { tr {
                        th scope="col" { "Domain" } th scope="col" { "Status" } th scope="col" { "Account" }
                        th scope="col" { "Expires" } th scope="col" { "Connection" } th scope="col" { "Auto-renew" }
                    } }
                    tbody { @for d in &rows { tr {
                        td { a href=(format!("/admin/domains/{}", encode(&d.name))) { (d.name) } }
                        td { (d.status) }
                        td { (d.account) }
                        td {
                            @if let Some(t) = &d.expires_at {
                                (time(t))
                                @match connections.get(&d.connection).map(|c| window(*t, c, now)) {
                                    Some(Window::Renewal(days)) => { br; span.warn { "inside the renew window (" (days) " days)" } }
                                    Some(Window::Warning(days)) => { br; span.warn { "inside the warning window (" (days) " days)" } }
                                    Some(Window::Expired) => { br; span.warn { "expired" } }
                                    _ => {}
                                }
                            }
                        }
                        td { (d.connection) }
                        td {
                            form.inline method="post" action=(format!("/admin/domains/{}/auto-renew", d.name)) {
                                (csrf_field(&session.csrf))
                                input type="hidden" name="enabled" value=(if d.auto_renew { "off" } else { "on" });
                                (if d.auto_renew { "on " } else { "off " })
                                button type="submit" aria-label=(format!("Switch auto-renew of {} {}", d.name, if d.auto_renew { "off" } else { "on" })) {
                                    (if d.auto_renew { "Switch off" } else { "Switch on" })
                                }
                            }
                        }
                    } } }
                } }
            }
        }
    };
    page("Domains", "/admin/domains", Some(&session.csrf), body).into_response()
}

pub async fn audit(
    State(s): State<Arc<WebState>>,
    SignedIn(session): SignedIn,
    Query(q): Params,
) -> Response {
    let domain = q.get("domain").filter(|d| !d.is_empty()).cloned();
    let at_text = q.get("at").filter(|a| !a.is_empty()).cloned();
    let report = match &domain {
        None => None,
        Some(d) => Some(
            async {
                let domain = DomainName::parse(d).map_err(|e| e.to_string())?;
                let at = at_text.as_deref().map(audit::parse_moment).transpose()?;
                let order = q
                    .get("order")
                    .filter(|o| !o.is_empty())
                    .map(|o| crate::admin::orders::parse_order_id(o).map_err(|e| e.to_string()))
                    .transpose()?;
                let store = s.app.lock().await.store.clone();
                audit::domain_audit(&store, &DomainAudit { domain, order, at })
                    .await
                    .map_err(|e| e.to_string())
            }
            .await,
        ),
    };
    let body = html! {
        form method="get" action="/admin/audit" {
            fieldset {
                legend { "Which domain, as of when" }
                label for="a-domain" { "Domain" }
                input #a-domain name="domain" value=(domain.clone().unwrap_or_default()) required;
                label for="a-at" { "As of (UTC; empty: now)" }
                input #a-at type="datetime-local" step="1" name="at" value=(at_text.clone().unwrap_or_default());
                @if let Some(o) = q.get("order") { input type="hidden" name="order" value=(o); }
                p { button type="submit" { "Show" } }
            }
        }
        @match report {
            None => p { "Enter a domain to see its history, with the money moved and the account's balance after each step." },
            Some(Err(e)) => (message(&e, true)),
            Some(Ok(r)) => {
                p { (r.subject) ", " @match &r.as_of { Some(t) => { "as of " (time(t)) } None => "complete history" } }
                div.wrap { table {
                    thead { tr {
                        th scope="col" { "Time" } th scope="col" { "Who" } th scope="col" { "What" }
                        th scope="col" { "Registrar answer" } th scope="col" class="num" { "Money" } th scope="col" class="num" { "Balance after" }
                    } }
                    tbody { @for e in &r.entries { tr {
                        td { (time(&e.at)) }
                        td { (e.actor.to_string()) }
                        td { (e.description) }
                        td { @if let Some(a) = &e.registrar_answer { (a.code.map(|c| c.to_string()).unwrap_or_default()) " " (a.text) } }
                        td.num { @if let Some(m) = &e.money { (money(&m.amount)) } }
                        td.num { @if let Some(m) = &e.money { (money(&m.balance_after)) } }
                    } } }
                } }
                @if let Some(state) = &r.state {
                    h2 { "State" }
                    ul { @for o in &state.orders { li {
                        "Order " (o.order_id) " (" (o.kind) " for " (o.account) "): " strong { (o.state) }
                        @if let Some(c) = &o.charged { ", charged " (money(c)) }
                        @if let Some(rf) = &o.refunded { ", refunded " (money(rf)) }
                    } } }
                }
                h2 { "Balances" }
                ul { @for b in &r.balances { li { (b.account) ": " (money(&b.balance)) } } }
            }
        }
    };
    page("Audit", "/admin/audit", Some(&session.csrf), body).into_response()
}
