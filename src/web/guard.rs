//! Extractors that guard the pages: [`SignedIn`] for pages that show, [`Posted`] for forms
//! that change something (signed in *and* carrying this session's CSRF token).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::layout;
use super::session::Session;
use super::WebState;

/// The session of a signed-in admin; otherwise the request is sent to the sign-in page.
pub struct SignedIn(pub Session);

impl FromRequestParts<Arc<WebState>> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<WebState>,
    ) -> Result<Self, Response> {
        state
            .sessions
            .find(&parts.headers)
            .map(|(_, s)| SignedIn(s))
            .ok_or_else(|| Redirect::to("/admin/login").into_response())
    }
}

/// A form with no fields but the CSRF token.
#[derive(Deserialize)]
pub struct Empty {}

#[derive(Deserialize)]
struct Csrf {
    csrf: Option<String>,
}

/// A form posted by a signed-in admin with this session's CSRF token, and its fields.
pub struct Posted<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Arc<WebState>> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &Arc<WebState>) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let SignedIn(session) = SignedIn::from_request_parts(&mut parts, state).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let sent = serde_urlencoded::from_bytes::<Csrf>(&bytes)
            .ok()
            .and_then(|c| c.csrf);
        if !sent.is_some_and(|t| crate::surface::token_matches(&t, &session.csrf)) {
            return Err(refusal(
                &session,
                StatusCode::FORBIDDEN,
                "The form was refused: it did not carry this session's CSRF token. Reload the page and try again.",
            ));
        }
        let fields = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| {
            refusal(
                &session,
                StatusCode::BAD_REQUEST,
                &format!("The form could not be read: {e}."),
            )
        })?;
        Ok(Posted(fields))
    }
}

fn refusal(session: &Session, status: StatusCode, text: &str) -> Response {
    let body = layout::page(
        "Form refused",
        "",
        Some(&session.csrf),
        layout::message(text, true),
    );
    (status, [(header::CACHE_CONTROL, "no-store")], body).into_response()
}
