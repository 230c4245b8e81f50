//! Bearer-token authentication: no token 401, a wrong one 403, compared in constant time.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::surface::{token_matches, Surface};

pub async fn require_token(
    State(state): State<Arc<Surface>>,
    req: Request,
    next: Next,
) -> Response {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(value) = header else {
        let mut r = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "send the admin token as `Authorization: Bearer TOKEN`",
        )
        .into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"domreg\""),
        );
        return r;
    };
    let presented = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .unwrap_or("")
        .trim();
    if !token_matches(presented, state.token.expose()) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the token is not the admin token",
        )
        .into_response();
    }
    next.run(req).await
}
