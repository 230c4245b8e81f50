//! The Async Manager: pending orders with check / reset / cancel, and the cancel
//! confirmation that says what it refunds.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use maud::html;

use domreg_projections::PendingQuery;

use super::encode;
use super::guard::SignedIn;
use super::layout::{csrf_field, message, money, page, time};
use super::pages::{failure, flash};
use super::WebState;

type Params = Query<HashMap<String, String>>;

/// The `msg` / `err` a redirect after an action carries.
fn left(deadline: &chrono::DateTime<Utc>, now: chrono::DateTime<Utc>) -> String {
    let d = *deadline - now;
    if d.num_seconds() <= 0 {
        "due now".into()
    } else if d.num_hours() >= 1 {
        format!("{} h {} min", d.num_hours(), d.num_minutes() % 60)
    } else {
        format!("{} min", d.num_minutes().max(1))
    }
}

pub async fn async_manager(
    State(s): State<Arc<WebState>>,
    SignedIn(session): SignedIn,
    Query(q): Params,
) -> Response {
    let tld = q
        .get("tld")
        .filter(|t| !t.is_empty())
        .map(|t| t.trim_start_matches('.').to_ascii_lowercase());
    let account = q.get("account").filter(|a| !a.is_empty()).cloned();
    let sort = q.get("sort").map(String::as_str).unwrap_or("started");
    let mut app = s.app.lock().await;
    let rows = match app.catch_up().await {
        Ok(_) => app
            .models
            .pending_orders(&PendingQuery {
                tld: tld.clone(),
                account: account.clone(),
                due_by: None,
                limit: 1000,
                offset: 0,
            })
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let now = app.clock.now();
    // What each cancel would refund, read once per account.
    let mut refunds: HashMap<String, String> = HashMap::new();
    if let Ok(rows) = &rows {
        let accounts: std::collections::BTreeSet<&str> =
            rows.iter().map(|p| p.account.as_str()).collect();
        for account in accounts {
            let owed = app.models.unrefunded_charges(account).unwrap_or_default();
            refunds.extend(owed.into_iter().map(|(order, m)| (order, money(&m))));
        }
    }
    drop(app);
    let sort_link = |key: &str, label: &str| {
        let mut href = format!("/admin/async?sort={key}");
        if let Some(t) = &tld {
            href.push_str(&format!("&tld={}", encode(t)));
        }
        if let Some(a) = &account {
            href.push_str(&format!("&account={}", encode(a)));
        }
        html! { a href=(href) aria-sort=(if sort == key { "ascending" } else { "none" }) { (label) } }
    };
    let body = html! {
        (flash(&q))
        p { a href="/admin/async/finished" { "Finished orders (confirmed, rejected, timed out, cancelled) →" } }
        form method="get" action="/admin/async" {
            fieldset {
                legend { "Filter" }
                label for="f-tld" { "TLD" }
                input #f-tld name="tld" value=(tld.clone().unwrap_or_default()) placeholder="de";
                label for="f-account" { "Account" }
                input #f-account name="account" value=(account.clone().unwrap_or_default());
                input type="hidden" name="sort" value=(sort);
                p { button type="submit" { "Filter" } " " a href="/admin/async" { "Clear" } }
            }
        }
        @match rows {
            Err(e) => (failure(e)),
            Ok(mut rows) => {
                @if rows.is_empty() { p { "No pending orders." } }
                @else {
                    ({
                        match sort {
                            "domain" => rows.sort_by(|a, b| a.domain.cmp(&b.domain)),
                            "account" => rows.sort_by(|a, b| a.account.cmp(&b.account)),
                            "deadline" => rows.sort_by_key(|p| p.deadline),
                            "polls" => rows.sort_by_key(|p| std::cmp::Reverse(p.polls)),
                            "next" => rows.sort_by_key(|p| p.next_poll_at),
                            _ => rows.sort_by_key(|p| p.pending_since),
                        }
                        html! {}
                    })
                    div.wrap {
                        table {
                            caption { (rows.len()) " pending orders" }
                            thead { tr {
                                th scope="col" { (sort_link("domain", "Domain")) }
                                th scope="col" { (sort_link("account", "Account")) }
                                th scope="col" { "Kind" }
                                th scope="col" { (sort_link("started", "Started")) }
                                th scope="col" class="num" { (sort_link("polls", "Polls")) }
                                th scope="col" { "Last registrar answer" }
                                th scope="col" { (sort_link("next", "Next poll")) }
                                th scope="col" { (sort_link("deadline", "Deadline")) }
                                th scope="col" { "Time left" }
                                th scope="col" { "Actions" }
                            } }
                            tbody {
                                @for p in &rows {
                                    tr {
                                        td { a href=(format!("/admin/audit?domain={}", encode(&p.domain))) { (p.domain) } }
                                        td { (p.account) }
                                        td { (p.kind) }
                                        td { (time(&p.pending_since)) }
                                        td.num { (p.polls) }
                                        td { (p.last_answer.clone().unwrap_or_default()) }
                                        td { (time(&p.next_poll_at)) }
                                        td { (time(&p.deadline)) }
                                        td { (left(&p.deadline, now)) }
                                        td {
                                            form.inline method="post" action=(format!("/admin/async/{}/check", p.order_id)) {
                                                (csrf_field(&session.csrf))
                                                button type="submit" aria-label=(format!("Check {}", p.domain)) { "Check" }
                                            }
                                            " "
                                            form.inline method="post" action=(format!("/admin/async/{}/reset", p.order_id)) {
                                                (csrf_field(&session.csrf))
                                                button type="submit" aria-label=(format!("Reset {}", p.domain)) { "Reset" }
                                            }
                                            " "
                                            a href=(format!("/admin/async/{}/cancel", p.order_id)) aria-label=(format!("Cancel {}", p.domain)) {
                                                "Cancel" @if let Some(fee) = refunds.get(&p.order_id) { " (refunds " (fee) ")" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page("Async Manager", "/admin/async", Some(&session.csrf), body).into_response()
}

pub async fn confirm_cancel(
    State(s): State<Arc<WebState>>,
    SignedIn(session): SignedIn,
    Path(order): Path<String>,
) -> Response {
    let mut app = s.app.lock().await;
    let _ = app.catch_up().await;
    let pending = app
        .models
        .pending_orders(&PendingQuery {
            limit: 100_000,
            ..Default::default()
        })
        .unwrap_or_default();
    let found = pending.into_iter().find(|p| p.order_id == order);
    let fee = match &found {
        Some(p) => crate::admin::orders::refund_on_cancel(&mut app, &p.order_id)
            .await
            .ok()
            .flatten(),
        None => None,
    };
    drop(app);
    let body = html! {
        @match &found {
            None => (message("That order is not pending any more; see the Async Manager.", true)),
            Some(p) => {
                p { "Cancel the " (p.kind) " of " strong { (p.domain) } " for account " (p.account) "?" }
                p {
                    @match fee {
                        Some(f) => { "The fee of " strong { (money(&f)) } " will be refunded to " (p.account) "." }
                        None => { "Nothing was charged, so nothing is refunded." }
                    }
                    " The order is cancelled at OpenSRS first; if OpenSRS does not confirm, nothing changes."
                }
                form method="post" action=(format!("/admin/async/{}/cancel", p.order_id)) {
                    (csrf_field(&session.csrf))
                    button type="submit" { "Yes, cancel and refund" }
                    " "
                    a href="/admin/async" { "No, go back" }
                }
            }
        }
    };
    page("Cancel an order", "/admin/async", Some(&session.csrf), body).into_response()
}
