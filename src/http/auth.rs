//! Bearer-token authentication: no token 401, an unknown one 403, compared in constant
//! time for the configured admin token and by digest for issued ones. The holder is
//! known to the handlers through [`crate::surface::caller`]; admin routes refuse
//! customers' tokens.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use domreg_events::settings::Principal;

use super::error::ApiError;
use crate::surface::{as_caller, caller, holder, Surface};

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
            "send your token as `Authorization: Bearer TOKEN`",
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
    let Some(principal) = holder(&state, presented).await else {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the token is not one domreg issued, or it was revoked",
        )
        .into_response();
    };
    as_caller(principal, next.run(req)).await
}

/// Admin routes: a customer's token opens only its own account's routes.
pub async fn admins_only(req: Request, next: Next) -> Response {
    if let Some(Principal::Customer(account)) = caller() {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "this token is account {account}'s: it opens /api/v1/accounts/{account}/... only"
            ),
        )
        .into_response();
    }
    next.run(req).await
}
