//! What the forms do: sign in and out, the Async Manager's controls, auto-renew.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::html;
use serde::Deserialize;

use super::back;
use super::guard::{Empty, Posted};
use super::layout::{self, page};
use super::WebState;
use crate::admin;

pub async fn login_page(State(s): State<Arc<WebState>>, headers: HeaderMap) -> Response {
    if s.sessions.find(&headers).is_some() {
        return Redirect::to("/admin").into_response();
    }
    login_form(None).into_response()
}

fn login_form(error: Option<&str>) -> maud::Markup {
    page(
        "Sign in",
        "",
        None,
        html! {
            @if let Some(e) = error { (layout::message(e, true)) }
            form method="post" action="/admin/login" {
                label for="token" { "Admin token" }
                input #token type="password" name="token" autocomplete="current-password" required autofocus;
                p { button type="submit" { "Sign in" } }
            }
            p { "The token is the one `domreg serve` was started with (DOMREG_API_TOKEN)." }
        },
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

pub async fn login(State(s): State<Arc<WebState>>, Form(f): Form<LoginForm>) -> Response {
    let Some(domreg_events::settings::Principal::Admin(name)) =
        crate::surface::holder(&s, f.token.trim()).await
    else {
        return (
            StatusCode::FORBIDDEN,
            login_form(Some("That is not the admin token, nor a named admin's.")),
        )
            .into_response();
    };
    let id = s.sessions.create_for(None, Some(name));
    (
        [(header::SET_COOKIE, s.sessions.set_cookie(Some(&id)))],
        Redirect::to("/admin"),
    )
        .into_response()
}

pub async fn logout(
    State(s): State<Arc<WebState>>,
    headers: HeaderMap,
    _: Posted<Empty>,
) -> Response {
    if let Some((id, _)) = s.sessions.find(&headers) {
        s.sessions.remove(&id);
    }
    (
        [(header::SET_COOKIE, s.sessions.set_cookie(None))],
        Redirect::to("/admin/login"),
    )
        .into_response()
}

fn answer_text(a: &Option<domreg_events::RegistrarAnswer>) -> String {
    a.as_ref()
        .map(|a| {
            format!(
                "{} {}",
                a.code.map(|c| c.to_string()).unwrap_or_default(),
                a.text
            )
            .trim()
            .to_string()
        })
        .unwrap_or_default()
}

pub async fn cancel(
    State(s): State<Arc<WebState>>,
    Path(order): Path<String>,
    _: Posted<Empty>,
) -> Response {
    let mut app = s.app.lock().await;
    let result = admin::orders::cancel(&mut app, &order, s.actor())
        .await
        .map(|o| {
            format!(
                "Cancelled order {} ({} {}); {} refunded to {}.{}",
                o.order_id,
                o.kind,
                o.domain,
                o.refunded
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| "nothing".into()),
                o.account,
                o.registrar_call
                    .as_ref()
                    .map(|a| format!(" OpenSRS: {}", a.text))
                    .unwrap_or_default()
            )
        });
    back("/admin/async", result.map_err(|e| e.to_string()))
}

pub async fn reset(
    State(s): State<Arc<WebState>>,
    Path(order): Path<String>,
    _: Posted<Empty>,
) -> Response {
    let mut app = s.app.lock().await;
    let result = admin::orders::reset(&mut app, &order, s.actor())
        .await
        .map(|o| {
            format!(
                "Order {} ({}) waits again; new deadline {}.",
                o.order_id,
                o.domain,
                o.deadline
                    .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default()
            )
        });
    back("/admin/async", result.map_err(|e| e.to_string()))
}

pub async fn check(
    State(s): State<Arc<WebState>>,
    Path(order): Path<String>,
    _: Posted<Empty>,
) -> Response {
    let mut app = s.app.lock().await;
    let result = admin::orders::check(&mut app, &order).await.map(|o| {
        if o.state == "pending" {
            format!(
                "Checked {}: still pending. OpenSRS answered: {}",
                o.domain,
                answer_text(&o.last_answer)
            )
        } else {
            format!(
                "Checked {}: {}. OpenSRS answered: {}{}",
                o.domain,
                o.state,
                answer_text(&o.last_answer),
                o.refunded
                    .map(|r| format!("; {r} refunded"))
                    .unwrap_or_default()
            )
        }
    });
    back("/admin/async", result.map_err(|e| e.to_string()))
}

#[derive(Deserialize)]
pub struct AutoRenewForm {
    enabled: String,
}

pub async fn auto_renew(
    State(s): State<Arc<WebState>>,
    Path(domain): Path<String>,
    Posted(f): Posted<AutoRenewForm>,
) -> Response {
    let enabled = f.enabled == "on";
    let mut app = s.app.lock().await;
    let result = admin::orders::set_auto_renew(&mut app, &domain, enabled, None, s.actor())
        .await
        .map(|name| {
            format!(
                "Auto-renew of {name} is {}.",
                if enabled { "on" } else { "off" }
            )
        });
    back("/admin/domains", result.map_err(|e| e.to_string()))
}
