//! The finished orders page: how each order ended, what was refunded and what OpenSRS
//! said last, filterable by end and account (H-Sphere showed a timed-out registration as
//! such; it did not vanish).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;

use super::guard::SignedIn;
use super::layout::{message, money, page, time};
use super::WebState;

const ENDS: [(&str, &str); 4] = [
    ("confirmed", "Confirmed"),
    ("rejected", "Rejected"),
    ("timed_out", "Timed out"),
    ("cancelled", "Cancelled"),
];

pub async fn finished(
    State(s): State<Arc<WebState>>,
    SignedIn(session): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let end = q.get("end").filter(|e| !e.is_empty()).cloned();
    let account = q.get("account").filter(|a| !a.is_empty()).cloned();
    let rows = match crate::admin::orders::finished_query(
        end.as_deref(),
        account.clone(),
        None,
        None,
        200,
        0,
    ) {
        Err(e) => Err(e.to_string()),
        Ok(query) => {
            let mut app = s.app.lock().await;
            match app.catch_up().await {
                Ok(_) => app
                    .models
                    .finished_orders(&query)
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
    };
    let body = html! {
        p { a href="/admin/async" { "← Pending orders" } }
        form method="get" action="/admin/async/finished" {
            fieldset {
                legend { "Filter" }
                label for="f-end" { "End" }
                select #f-end name="end" {
                    option value="" { "any" }
                    @for (value, label) in ENDS {
                        option value=(value) selected[end.as_deref() == Some(value)] { (label) }
                    }
                }
                label for="f-account" { "Account" }
                input #f-account name="account" value=(account.clone().unwrap_or_default());
                p { button type="submit" { "Filter" } " " a href="/admin/async/finished" { "Clear" } }
            }
        }
        @match rows {
            Err(e) => (message(&e, true)),
            Ok(rows) if rows.is_empty() => p { "No finished orders." },
            Ok(rows) => {
                table {
                    caption { "The newest 200 finished orders" }
                    thead { tr {
                        th scope="col" { "Domain" } th scope="col" { "Account" } th scope="col" { "Kind" }
                        th scope="col" { "Ended" } th scope="col" { "End" } th scope="col" { "Refund" }
                        th scope="col" { "Last answer from OpenSRS" }
                    } }
                    tbody {
                        @for f in &rows {
                            tr {
                                td { a href=(format!("/admin/audit?domain={}", super::encode(&f.domain))) { (f.domain) } }
                                td { (f.account) }
                                td { (f.kind) }
                                td { (time(&f.ended_at)) }
                                td { (f.end.replace('_', " ")) }
                                td { @match &f.refunded { Some(r) => (money(r)), None => "none" } }
                                td { (f.last_answer.clone().unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
    };
    page("Finished orders", "/admin/async", Some(&session.csrf), body).into_response()
}
