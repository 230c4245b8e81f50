//! The reconciliation page: what the last `domreg sync` (or `serve`'s daily round) found
//! per connection, and the admin's choice for each late completion.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::guard::{Posted, SignedIn};
use super::layout::{csrf_field, money, page, time};
use super::pages::flash;
use super::WebState;

fn day(t: &Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map_or_else(|| "(none)".into(), |t| t.format("%Y-%m-%d").to_string())
}

pub async fn page_sync(
    State(s): State<Arc<WebState>>,
    SignedIn(session): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let data_dir = s.app.lock().await.data_dir.clone();
    let reports = crate::engine::sync::last_reports(&data_dir);
    let body = html! {
        (flash(&q))
        p { "What differs between the log and each account at OpenSRS, as the last full reconciliation found it. Differences are recorded as facts (see the audit); run " code { "domreg sync" } " to look again now." }
        @if reports.is_empty() {
            p { "No reconciliation has run yet." }
        }
        @for r in reports.values() {
            section {
                h2 { "Connection " (r.connection) }
                p {
                    (r.listed) " domains at OpenSRS, " (r.pages) " pages; finished "
                    @match &r.finished_at { Some(t) => (time(t)), None => "(unfinished)" }
                    "; " (r.recorded) " facts recorded."
                }
                h3 { "Late completions (" (r.late_completions.len()) ")" }
                @if r.late_completions.is_empty() { p { "None." } } @else {
                    table {
                        thead { tr {
                            th scope="col" { "Domain" } th scope="col" { "Order" } th scope="col" { "Account" }
                            th scope="col" { "Ended here" } th scope="col" { "Refunded" } th scope="col" { "Choice" }
                        } }
                        tbody { @for l in &r.late_completions { tr {
                            td { a href=(format!("/admin/audit?domain={}", super::encode(&l.domain))) { (l.domain) } }
                            td { (l.order_id) }
                            td { (l.account) }
                            td { (l.end.as_str().replace('_', " ")) }
                            td { @match &l.refunded { Some(m) => (money(m)), None => "nothing" } }
                            td {
                                form method="post" action=(format!("/admin/sync/late/{}", l.order_id)) {
                                    (csrf_field(&session.csrf))
                                    input type="hidden" name="choice" value="charge_again";
                                    button type="submit" { "Charge again and give the domain" }
                                }
                                form method="post" action=(format!("/admin/sync/late/{}", l.order_id)) {
                                    (csrf_field(&session.csrf))
                                    input type="hidden" name="choice" value="let_go";
                                    button type="submit" { "Let it go" }
                                }
                            }
                        } } }
                    }
                }
                h3 { "Expiry drift (" (r.drift.len()) ")" }
                @if !r.drift.is_empty() {
                    table {
                        thead { tr { th scope="col" { "Domain" } th scope="col" { "Here" } th scope="col" { "Registry" } } }
                        tbody { @for d in &r.drift { tr {
                            td { (d.domain) } td { (day(&d.ours)) } td { (day(&Some(d.registrar))) }
                        } } }
                    }
                }
                h3 { "Gone from the account (" (r.gone.len()) ")" }
                @if !r.gone.is_empty() {
                    ul { @for g in &r.gone { li { (g.domain) ": " (g.answer) } } }
                }
                h3 { "At OpenSRS, unknown here (" (r.unknown.len()) ")" }
                @if !r.unknown.is_empty() {
                    p { "Adopt them with " code { "domreg import" } "." }
                    ul { @for u in r.unknown.iter().take(500) { li { (u) } } }
                }
            }
        }
    };
    page("Reconciliation", "/admin/sync", Some(&session.csrf), body).into_response()
}

#[derive(Deserialize)]
pub struct LateForm {
    choice: String,
}

pub async fn late(
    State(s): State<Arc<WebState>>,
    Path(order): Path<String>,
    Posted(f): Posted<LateForm>,
) -> Response {
    let charge_again = match f.choice.as_str() {
        "charge_again" => true,
        "let_go" => false,
        other => {
            return super::back(
                "/admin/sync",
                Err(format!("choice {other:?}: charge_again or let_go")),
            )
        }
    };
    let mut app = s.app.lock().await;
    let result = crate::admin::late::settle(&mut app, &order, charge_again, s.actor())
        .await
        .map(|o| match o.choice {
            domreg_events::event::LateChoice::ChargeAgain { amount } => format!(
                "{}: account {} charged {amount} again; it holds the domain.",
                o.domain, o.account
            ),
            domreg_events::event::LateChoice::LetGo => {
                format!("{}: let go; account {} not charged.", o.domain, o.account)
            }
        });
    super::back("/admin/sync", result.map_err(|e| e.to_string()))
}
