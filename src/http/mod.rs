//! The admin HTTP API served by `domreg serve --listen ADDR`: JSON over every CLI verb,
//! bearer-token auth, `/healthz`, Prometheus `/metrics` and the OpenAPI description.

mod access;
mod auth;
mod customer;
mod domains;
mod error;
mod manage;
mod orders;
mod settings;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};

use crate::store::EventStore;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{middleware, Json, Router};
use serde_json::json;

use crate::surface::Surface;

pub use error::{not_found, ApiError};

/// Request bodies larger than this are refused (413).
pub const BODY_LIMIT: usize = 64 * 1024;

/// The OpenAPI description served at `/api/v1/openapi.json` (kept in `docs/`).
pub const OPENAPI: &str = include_str!("../../docs/openapi.json");

/// Every route, authenticated except `/healthz` and the OpenAPI description.
pub fn router(state: Arc<Surface>) -> Router {
    let api = Router::new()
        .route("/api/v1/orders", post(orders::place))
        .route("/api/v1/async", get(orders::pending))
        .route("/api/v1/async/finished", get(orders::finished))
        .route("/api/v1/async/{order}/cancel", post(orders::cancel))
        .route(
            "/api/v1/sync/late-completions/{order}",
            post(domains::late_completion),
        )
        .route("/api/v1/sync", get(domains::sync_reports))
        .route("/api/v1/async/{order}/reset", post(orders::reset))
        .route("/api/v1/async/{order}/check", post(orders::check))
        .route("/api/v1/ledger", get(orders::ledger))
        .route("/api/v1/accounts/{account}/credits", post(orders::credit))
        .route(
            "/api/v1/accounts/{account}/credit-limit",
            axum::routing::put(orders::credit_limit),
        )
        .route(
            "/api/v1/accounts/{account}/contacts",
            axum::routing::put(orders::contacts),
        )
        .route("/api/v1/domains", get(orders::domains))
        .route(
            "/api/v1/domains/{domain}/auto-renew",
            axum::routing::put(orders::auto_renew),
        )
        .route(
            "/api/v1/domains/{domain}/nameservers",
            axum::routing::put(domains::set_nameservers),
        )
        .route(
            "/api/v1/domains/{domain}/lock",
            axum::routing::put(domains::set_lock),
        )
        .route(
            "/api/v1/domains/{domain}/privacy",
            axum::routing::put(domains::set_privacy),
        )
        .route(
            "/api/v1/domains/{domain}/contacts",
            axum::routing::put(manage::set_contacts),
        )
        .route(
            "/api/v1/domains/{domain}/child-nameservers",
            get(manage::child_nameservers).post(manage::create_child_nameserver),
        )
        .route(
            "/api/v1/domains/{domain}/child-nameservers/{host}",
            axum::routing::put(manage::modify_child_nameserver)
                .delete(manage::delete_child_nameserver),
        )
        .route(
            "/api/v1/domains/{domain}/ips-tag",
            axum::routing::put(manage::set_ips_tag),
        )
        .route("/api/v1/bulk-changes", post(domains::bulk_change))
        .route(
            "/api/v1/domains/{domain}/auth-code",
            post(domains::auth_code),
        )
        .route("/api/v1/audit/domains/{domain}", get(orders::audit_domain))
        .route(
            "/api/v1/audit/accounts/{account}",
            get(orders::audit_account),
        )
        .route("/api/v1/registrars", get(settings::registrars))
        .route(
            "/api/v1/registrars/{title}",
            get(settings::registrar)
                .post(settings::add_registrar)
                .patch(settings::update_registrar)
                .delete(settings::remove_registrar),
        )
        .route(
            "/api/v1/registrars/{title}/test",
            post(settings::test_registrar),
        )
        .route("/api/v1/tlds", get(settings::tlds))
        .route(
            "/api/v1/tlds/{tld}",
            axum::routing::put(settings::assign_tld),
        )
        .route("/api/v1/prices", get(settings::prices))
        .route(
            "/api/v1/prices/{tld}",
            axum::routing::put(settings::set_price).delete(settings::remove_price),
        )
        .route("/api/v1/policies", get(settings::policies))
        .route(
            "/api/v1/policies/{tld}",
            axum::routing::put(settings::set_policy),
        )
        .route("/api/v1/lookup/{domain}", get(settings::lookup))
        .route(
            "/api/v1/transfer-status/{domain}",
            get(settings::transfer_status),
        )
        .route("/api/v1/tokens", get(access::list).post(access::issue))
        .route(
            "/api/v1/tokens/{token_id}",
            axum::routing::delete(access::revoke),
        )
        .route("/metrics", get(metrics))
        .route_layer(middleware::from_fn(auth::admins_only))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    // A customer's token opens these for its own account; an admin's, for any.
    let accounts = Router::new()
        .route("/api/v1/accounts/{account}", get(customer::standing))
        .route("/api/v1/accounts/{account}/domains", get(customer::domains))
        .route(
            "/api/v1/accounts/{account}/orders",
            get(customer::orders).post(customer::place),
        )
        .route("/api/v1/accounts/{account}/ledger", get(customer::ledger))
        .route("/api/v1/accounts/{account}/audit", get(customer::audit))
        .route(
            "/api/v1/accounts/{account}/catalogue/{domain}",
            get(customer::catalogue),
        )
        .route(
            "/api/v1/accounts/{account}/domains/{domain}/auto-renew",
            axum::routing::put(customer::auto_renew),
        )
        .route(
            "/api/v1/accounts/{account}/domains/{domain}/nameservers",
            axum::routing::put(customer::nameservers),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/openapi.json", get(openapi))
        .merge(api)
        .merge(accounts)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn healthz(State(s): State<Arc<Surface>>) -> impl IntoResponse {
    let app = s.app.lock().await;
    match app.store.head().await {
        Ok(position) => (
            StatusCode::OK,
            Json(json!({ "status": "ok", "log_position": position })),
        ),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "error": e.to_string() })),
        ),
    }
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

async fn metrics(State(s): State<Arc<Surface>>) -> Result<impl IntoResponse, ApiError> {
    let mut app = s.app.lock().await;
    let g = crate::admin::gauges(&mut app).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::global().render(&g),
    ))
}
