//! The web pages: the admin's under `/admin`, the customer's under `/account`
//! (`account.rs`). Server-rendered HTML (maud) on top of the same operations as the API,
//! usable without JavaScript. Signing in with a token gives a session cookie; every form
//! that changes something carries a CSRF token.

mod account;
mod account_forms;
mod actions;
mod async_manager;
mod domain;
mod domain_manage;
mod finished;
mod flash;
mod guard;
mod layout;
mod pages;
pub mod session;
mod settings;
mod sync;

use std::sync::Arc;

use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::surface::Surface;

pub use session::Sessions;

/// What the pages work with: the shared surface and the signed-in admins' sessions.
pub struct WebState {
    surface: Arc<Surface>,
    pub sessions: Sessions,
    /// Customers' sessions (`/account`), each naming its account.
    pub customers: Sessions,
}

impl std::ops::Deref for WebState {
    type Target = Surface;
    fn deref(&self) -> &Surface {
        &self.surface
    }
}

/// Headers every page carries: no framing (clickjacking), scripts and styles only from
/// this server, nothing cached (pages show account data).
async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::http::header::{self, HeaderValue};
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Runs an admin page's request as the admin its session names (so the audit says who).
async fn as_signed_in_admin(
    axum::extract::State(s): axum::extract::State<Arc<WebState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match s
        .sessions
        .find(request.headers())
        .and_then(|(_, session)| session.admin)
    {
        Some(name) => {
            crate::surface::as_caller(
                domreg_events::settings::Principal::Admin(name),
                next.run(request),
            )
            .await
        }
        None => next.run(request).await,
    }
}

/// The routes of the admin pages.
pub fn router(surface: Arc<Surface>) -> Router {
    let state = Arc::new(WebState {
        surface,
        sessions: Sessions::default(),
        customers: Sessions::customers(),
    });
    Router::new()
        .route("/admin/static/style.css", get(layout::style))
        .route("/admin/static/local-times.js", get(layout::local_times))
        .route(
            "/admin/login",
            get(actions::login_page).post(actions::login),
        )
        .route("/admin/logout", post(actions::logout))
        .route("/admin", get(pages::overview))
        .route("/admin/async", get(async_manager::async_manager))
        .route("/admin/async/finished", get(finished::finished))
        .route(
            "/admin/async/{order}/cancel",
            get(async_manager::confirm_cancel).post(actions::cancel),
        )
        .route("/admin/async/{order}/reset", post(actions::reset))
        .route("/admin/async/{order}/check", post(actions::check))
        .route("/admin/ledger", get(pages::ledger))
        .route("/admin/domains", get(pages::domains))
        .route(
            "/admin/domains/{domain}/auto-renew",
            post(actions::auto_renew),
        )
        .route("/admin/domains/{domain}", get(domain::domain_page))
        .route(
            "/admin/domains/{domain}/nameservers",
            post(domain::nameservers),
        )
        .route("/admin/domains/{domain}/lock", post(domain::lock))
        .route("/admin/domains/{domain}/privacy", post(domain::privacy))
        .route(
            "/admin/domains/{domain}/contacts",
            post(domain_manage::contacts),
        )
        .route(
            "/admin/domains/{domain}/child-nameservers",
            post(domain_manage::child_nameserver),
        )
        .route(
            "/admin/domains/{domain}/ips-tag",
            post(domain_manage::ips_tag),
        )
        .route("/admin/audit", get(pages::audit))
        .route("/admin/sync", get(sync::page_sync))
        .route("/admin/sync/late/{order}", post(sync::late))
        .route("/admin/settings", get(settings::page))
        .route("/admin/settings/registrars", post(settings::save_registrar))
        .route(
            "/admin/settings/registrars/{title}/test",
            post(settings::test),
        )
        .route("/admin/settings/tlds", post(settings::assign))
        .route("/admin/settings/prices", post(settings::price))
        .route("/admin/settings/policies", post(settings::policy))
        .route(
            "/account/sign-in",
            get(account::sign_in_page).post(account::sign_in),
        )
        .route("/account/sign-out", post(account::sign_out))
        .route("/account", get(account::overview))
        .route("/account/search", get(account::search))
        .route("/account/orders", post(account_forms::order))
        .route(
            "/account/domains/{domain}/auto-renew",
            post(account_forms::auto_renew),
        )
        .route(
            "/account/domains/{domain}/nameservers",
            post(account_forms::nameservers),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            as_signed_in_admin,
        ))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

/// Percent-encodes a query value.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Back to `path` with a message (`msg`) or an error (`err`) to show.
pub(crate) fn back(path: &str, result: Result<String, String>) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    let id = match result {
        Ok(m) => flash::put(&m, false),
        Err(e) => flash::put(&e, true),
    };
    let target = format!("{path}{sep}flash={id}");
    Redirect::to(&target).into_response()
}
