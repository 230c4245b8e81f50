//! The admin HTTP API served by `domreg serve --listen ADDR`: JSON over every CLI verb,
//! bearer-token auth, `/healthz`, Prometheus `/metrics` and the OpenAPI description.

mod auth;
mod error;
mod orders;
mod settings;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};

use crate::store::EventStore;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{middleware, Json, Router};
use serde_json::json;

use domreg_events::Actor;

use crate::app::App;
use crate::opensrs::Secret;

pub use auth::token_matches;
pub use error::ApiError;

/// Request bodies larger than this are refused (413).
pub const BODY_LIMIT: usize = 64 * 1024;

/// The OpenAPI description served at `/api/v1/openapi.json` (kept in `docs/`).
pub const OPENAPI: &str = include_str!("../../docs/openapi.json");

pub struct ApiState {
    /// The admin the token belongs to: the audit names them for every action taken
    /// through the API or the pages (never a name the caller sends).
    pub admin: String,
    /// One app per request (see `AppPool`): nothing is serialised behind a lock.
    pub app: crate::app::AppPool,
    pub token: Secret,
    /// Signed-in admins of the web pages.
    pub sessions: crate::web::Sessions,
}

impl ApiState {
    /// Names the admin who holds the token.
    pub fn with_admin(mut self, name: &str) -> Self {
        self.admin = name.to_string();
        self
    }

    /// Who acts when a request changes something.
    pub fn actor(&self) -> Actor {
        Actor::Admin(self.admin.clone())
    }

    pub fn new(app: App, token: Secret) -> Self {
        ApiState {
            admin: "api".into(),
            app: crate::app::AppPool::new(app),
            token,
            sessions: Default::default(),
        }
    }
}

/// Every route, authenticated except `/healthz` and the OpenAPI description.
pub fn router(state: Arc<ApiState>) -> Router {
    let api = Router::new()
        .route("/api/v1/orders", post(orders::place))
        .route("/api/v1/async", get(orders::pending))
        .route("/api/v1/async/finished", get(orders::finished))
        .route("/api/v1/async/{order}/cancel", post(orders::cancel))
        .route("/api/v1/async/{order}/reset", post(orders::reset))
        .route("/api/v1/async/{order}/check", post(orders::check))
        .route("/api/v1/ledger", get(orders::ledger))
        .route("/api/v1/accounts/{account}/credits", post(orders::credit))
        .route(
            "/api/v1/accounts/{account}/contacts",
            axum::routing::put(orders::contacts),
        )
        .route("/api/v1/domains", get(orders::domains))
        .route(
            "/api/v1/domains/{domain}/auto-renew",
            axum::routing::put(orders::auto_renew),
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
        .route("/metrics", get(metrics))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/openapi.json", get(openapi))
        .merge(api)
        .merge(crate::web::router())
        .fallback(|| async { error::not_found() })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn healthz(State(s): State<Arc<ApiState>>) -> impl IntoResponse {
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

/// The gauges the log and read models know, for `/metrics` and the overview page.
pub async fn gauges(app: &mut App) -> Result<crate::metrics::Gauges, ApiError> {
    let log_position = app
        .store
        .head()
        .await
        .map_err(crate::admin::AdminError::from)?;
    let folded = app.models.lowest_checkpoint()?.map_or(0, |(c, _)| c);
    // The lag is measured before this request catches up, as the engine sees it.
    let read_model_lag = log_position.saturating_sub(folded);
    app.catch_up().await?;
    Ok(crate::metrics::Gauges {
        orders: app.models.order_counts()?,
        log_position,
        read_model_lag,
        quarantined: app.models.quarantined()?,
    })
}

async fn metrics(State(s): State<Arc<ApiState>>) -> Result<impl IntoResponse, ApiError> {
    let mut app = s.app.lock().await;
    let g = gauges(&mut app).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::global().render(&g),
    ))
}

/// Serves the API on `listener` until `shutdown` completes.
/// How long a client may take to send a request's headers (slowloris).
pub const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How long one connection may stay open, however busy.
pub const CONNECTION_LIFETIME: std::time::Duration = std::time::Duration::from_secs(300);
/// Connections served at once; more wait in the kernel's backlog. Far below the file
/// descriptors the engine needs for its log and OpenSRS calls.
pub const MAX_CONNECTIONS: usize = 256;

/// Serves the router until `shutdown`: HTTP/1.1 with a header-read timeout, a lifetime
/// per connection and a limit on connections at once.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<ApiState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let app = router(state);
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return Ok(());
        };
        let (tcp, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "the admin API cannot accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => return Ok(()),
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(tcp), service);
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, connection).await;
            drop(permit);
        });
    }
}

/// Binds `addr`, refusing an empty token: the API is never served unauthenticated.
pub async fn bind(addr: SocketAddr, token: &Secret) -> anyhow::Result<tokio::net::TcpListener> {
    if token.expose().trim().len() < 16 {
        anyhow::bail!("the admin API token must be at least 16 characters (set DOMREG_API_TOKEN or --api-token-file)");
    }
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))
}
