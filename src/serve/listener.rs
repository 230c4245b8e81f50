//! The HTTP listener of `serve`: the API's and the pages' routers composed, served with
//! limits a hostile client cannot outlast.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;

use crate::opensrs::Secret;
use crate::surface::Surface;

/// The API and the admin pages on one router; anything else is a JSON 404.
pub fn router(surface: Arc<Surface>) -> Router {
    crate::http::router(surface.clone())
        .merge(crate::web::router(surface))
        .fallback(|| async { crate::http::not_found() })
        .layer(DefaultBodyLimit::max(crate::http::BODY_LIMIT))
}

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
    state: Arc<Surface>,
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
        let (tcp, peer) = tokio::select! {
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
        // The peer's address, for what a customer accepts "from where".
        let routes = app
            .clone()
            .layer(axum::Extension(axum::extract::ConnectInfo(peer)));
        let service = hyper_util::service::TowerToHyperService::new(routes);
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
