//! The customer's pages under `/account`: sign in with the account's token or a link the
//! admin sent, find a name (price, agreement), order it with the agreement accepted, and
//! see the account's domains, orders in progress, ledger and automatic renewals. The
//! same operations as the customer API; every form carries the session's CSRF token
//! (what the forms do is in `account_forms.rs`).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup, DOCTYPE};
use serde::Deserialize;

use domreg_events::settings::Principal;
use domreg_events::AccountId;

use super::layout::{head, message, money, time};
use super::session::Session;
use super::{flash, WebState};
use crate::admin::{self, storefront};

fn frame(title: &str, who: Option<(&AccountId, &str)>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(&format!("{title} · your domains")))
            body {
                header {
                    nav aria-label="Account" {
                        strong { "Your domains" }
                        @if let Some((account, csrf)) = who {
                            a href="/account" { "My account" }
                            a href="/account/search" { "Find a domain" }
                            span { "Account " (account) }
                            form.inline method="post" action="/account/sign-out" {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main { h1 { (title) } (body) }
                script src="/admin/static/local-times.js" {}
            }
        }
    }
}

/// The signed-in customer, if any.
fn customer(s: &WebState, headers: &HeaderMap) -> Option<(AccountId, Session)> {
    s.customers
        .find(headers)
        .and_then(|(_, session)| session.account.clone().map(|a| (a, session)))
}

fn to_sign_in() -> Response {
    Redirect::to("/account/sign-in").into_response()
}

/// The customer who posted a form carrying their session's CSRF token; otherwise the
/// answer to give (to the sign-in page, or the form refused).
pub(super) fn posting(
    s: &WebState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<AccountId, Box<Response>> {
    let Some((account, session)) = customer(s, headers) else {
        return Err(Box::new(to_sign_in()));
    };
    match csrf_refused(&session, csrf) {
        Some(refused) => Err(Box::new(refused)),
        None => Ok(account),
    }
}

/// The refusal of a form that does not carry the session's CSRF token.
fn csrf_refused(session: &Session, sent: &str) -> Option<Response> {
    if crate::surface::token_matches(sent, &session.csrf) {
        return None;
    }
    Some(
        (
            StatusCode::FORBIDDEN,
            frame(
                "Form refused",
                None,
                message(
                    "The form did not carry this session's token. Reload the page and try again.",
                    true,
                ),
            ),
        )
            .into_response(),
    )
}

fn flash_of(q: &FlashQuery) -> Markup {
    match q.flash.as_deref().and_then(flash::get) {
        Some((text, error)) => message(&text, error),
        None => html! {},
    }
}

#[derive(Deserialize)]
pub struct FlashQuery {
    flash: Option<String>,
    link: Option<String>,
}

fn sign_in_form(error: Option<&str>) -> Markup {
    frame(
        "Sign in",
        None,
        html! {
            @if let Some(e) = error { (message(e, true)) }
            form method="post" action="/account/sign-in" {
                label for="token" { "Your account token" }
                input #token type="password" name="token" autocomplete="current-password" required autofocus;
                p { button type="submit" { "Sign in" } }
            }
            p { "Your provider gives you a token, or sends you a sign-in link." }
        },
    )
}

fn signed_in(s: &WebState, account: AccountId) -> Response {
    let id = s.customers.create(Some(account));
    (
        [(header::SET_COOKIE, s.customers.set_cookie(Some(&id)))],
        Redirect::to("/account"),
    )
        .into_response()
}

/// `GET /account/sign-in`, or `?link=TOKEN` from a link the admin sent (good once).
pub async fn sign_in_page(State(s): State<Arc<WebState>>, Query(q): Query<FlashQuery>) -> Response {
    let Some(link) = q.link else {
        return sign_in_form(None).into_response();
    };
    let mut app = s.app.lock().await;
    match admin::access::use_link(&mut app, link.trim()).await {
        Ok(Some(account)) => signed_in(&s, account),
        Ok(None) => (
            StatusCode::FORBIDDEN,
            sign_in_form(Some("That sign-in link was used already or has lapsed. Ask for a new one, or sign in with your token.")),
        )
            .into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, sign_in_form(Some(&e.to_string()))).into_response(),
    }
}

#[derive(Deserialize)]
pub struct SignInForm {
    token: String,
}

pub async fn sign_in(State(s): State<Arc<WebState>>, Form(f): Form<SignInForm>) -> Response {
    match crate::surface::holder(&s, f.token.trim()).await {
        Some(Principal::Customer(account)) => signed_in(&s, account),
        _ => (
            StatusCode::FORBIDDEN,
            sign_in_form(Some("That is not an account token.")),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn sign_out(
    State(s): State<Arc<WebState>>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Some((id, session)) = s.customers.find(&headers) {
        if csrf_refused(&session, &f.csrf).is_none() {
            s.customers.remove(&id);
        }
    }
    (
        [(header::SET_COOKIE, s.customers.set_cookie(None))],
        Redirect::to("/account/sign-in"),
    )
        .into_response()
}

/// What a pending order waits for, in words a customer understands.
fn waiting_for(reason: &str) -> &'static str {
    match reason {
        "async_registry" => "The registry is processing it; some registries take a day or more.",
        "transfer_in_progress" => {
            "The transfer is waiting for the current holder or registrar to approve it."
        }
        "queued" => "Queued at the registrar; it goes to the registry shortly.",
        "outcome_lost" => "We are confirming the outcome with the registrar.",
        "parked" => "Waiting for the registry to open for this name.",
        _ => "In progress.",
    }
}

/// `GET /account`: standing, domains, orders in progress, ledger.
pub async fn overview(
    State(s): State<Arc<WebState>>,
    headers: HeaderMap,
    Query(q): Query<FlashQuery>,
) -> Response {
    let Some((account, session)) = customer(&s, &headers) else {
        return to_sign_in();
    };
    let mut app = s.app.lock().await;
    let loaded = async {
        let standing = admin::settings::standing(&mut app, account.as_str(), "USD").await?;
        let domains = app.models.domains(Some(account.as_str()), 10_000)?;
        let pending = app
            .models
            .pending_orders(&domreg_projections::PendingQuery {
                tld: None,
                account: Some(account.to_string()),
                due_by: None,
                limit: 500,
                offset: 0,
            })?;
        let ledger = app.models.ledger(Some(account.as_str()), 10_000)?;
        Ok::<_, admin::AdminError>((standing, domains, pending, ledger))
    }
    .await;
    let (standing, domains, pending, ledger) = match loaded {
        Ok(x) => x,
        Err(e) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                frame("My account", None, message(&e.to_string(), true)),
            )
                .into_response()
        }
    };
    let csrf = session.csrf.clone();
    let st = &standing.standing;
    frame(
        "My account",
        Some((&account, &csrf)),
        html! {
            (flash_of(&q))
            div.cards {
                div.card { "Balance" b #balance { (money(&st.balance)) } }
                div.card { "Credit limit" b { (money(&st.credit_limit)) } }
                div.card { "Can spend" b #available { (money(&st.available)) } }
            }
            h2 { "My domains" }
            @if domains.is_empty() { p { "No domains yet. " a href="/account/search" { "Find one" } "." } }
            @else {
                div.wrap { table #domains {
                    thead { tr { th { "Domain" } th { "Status" } th { "Expires" } th { "Automatic renewal" } th { "Nameservers" } } }
                    tbody { @for d in &domains { tr {
                        td { (d.name) }
                        td { (d.status) }
                        td { @if let Some(t) = &d.expires_at { (time(t)) } }
                        td {
                            form.inline method="post" action={ "/account/domains/" (d.name) "/auto-renew" } {
                                input type="hidden" name="csrf" value=(csrf);
                                input type="hidden" name="enabled" value=(if d.auto_renew { "false" } else { "true" });
                                (if d.auto_renew { "On " } else { "Off " })
                                button type="submit" { (if d.auto_renew { "Turn off" } else { "Turn on" }) }
                            }
                        }
                        td {
                            @if d.status == "registered" {
                                form.inline method="post" action={ "/account/domains/" (d.name) "/nameservers" } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    label for={ "ns-" (d.name) } { "New nameservers, one per line" }
                                    textarea id={ "ns-" (d.name) } name="nameservers" rows="2" required {}
                                    button type="submit" { "Set nameservers" }
                                }
                            }
                        }
                    } } }
                } }
            }
            h2 { "Orders in progress" }
            @if pending.is_empty() { p #no-pending { "None." } }
            @else {
                table #pending {
                    thead { tr { th { "Domain" } th { "Order" } th { "Since" } th { "Where it stands" } } }
                    tbody { @for o in &pending { tr {
                        td { (o.domain) } td { (o.kind) } td { (time(&o.pending_since)) }
                        td { (waiting_for(&o.reason)) " We give up and refund it on " (time(&o.deadline)) " if it has not completed." }
                    } } }
                }
            }
            h2 { "Ledger" }
            div.wrap { table #ledger {
                thead { tr { th { "When" } th { "What" } th { "Domain" } th.num { "Amount" } th.num { "Balance" } } }
                tbody { @for e in &ledger { tr {
                    td { (time(&e.at)) } td { (e.kind) } td { (e.domain.clone().unwrap_or_default()) }
                    td.num { (money(&e.amount)) } td.num { (money(&e.balance_after)) }
                } } }
            } }
        },
    )
    .into_response()
}

#[derive(Deserialize)]
pub struct SearchQuery {
    domain: Option<String>,
    flash: Option<String>,
}

/// `GET /account/search?domain=NAME`: availability, prices and the agreement to accept.
pub async fn search(
    State(s): State<Arc<WebState>>,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Response {
    let Some((account, session)) = customer(&s, &headers) else {
        return to_sign_in();
    };
    let wanted = q.domain.as_deref().map(str::trim).filter(|d| !d.is_empty());
    let offer = match wanted {
        Some(d) => {
            let mut app = s.app.lock().await;
            Some(storefront::offer(&mut app, d).await)
        }
        None => None,
    };
    let csrf = session.csrf.clone();
    frame(
        "Find a domain",
        Some((&account, &csrf)),
        html! {
            @if let Some((text, error)) = q.flash.as_deref().and_then(flash::get) { (message(&text, error)) }
            form method="get" action="/account/search" {
                label for="domain" { "Domain name" }
                input #domain type="text" name="domain" value=(wanted.unwrap_or_default()) required;
                button type="submit" { "Search" }
            }
            @match &offer {
                None => {},
                Some(Err(e)) => { (message(&e.to_string(), true)) },
                Some(Ok(o)) => {
                    p #status { (o.domain) " is " strong { (o.status) } "." }
                    @if let Some(r) = &o.reason { (message(r, !o.orderable)) }
                    table #prices {
                        thead { tr { th { "Order" } th { "Years" } th.num { "Price" } } }
                        tbody { @for p in &o.prices { tr {
                            td { (p.kind.as_str()) } td { (p.years.map(|y| y.to_string()).unwrap_or_default()) } td.num { (money(&p.price)) }
                        } } }
                    }
                    @if o.orderable {
                        h2 { "License agreement" }
                        pre #agreement { (o.agreement.text) }
                        form method="post" action="/account/orders" {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="domain" value=(o.domain);
                            input type="hidden" name="agreement_version" value=(o.agreement.version);
                            label for="years" { "Years" }
                            select #years name="years" {
                                @for p in o.prices.iter().filter(|p| p.kind == domreg_events::settings::PriceKind::Register) {
                                    @if let Some(y) = p.years { option value=(y) { (y) " (" (money(&p.price)) ")" } }
                                }
                            }
                            label { input #accept type="checkbox" name="accept" value="yes" required; " I have read and accept the license agreement above." }
                            p { button #order type="submit" { "Order " (o.domain) } }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}
