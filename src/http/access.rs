//! Tokens over HTTP (admins only): issue one for a named admin or a customer account,
//! list them (never a token or its digest), revoke one.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiError, ApiJson};
use super::orders::Answer;
use crate::admin::access;
use crate::surface::Surface;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    admin: Option<String>,
    customer: Option<String>,
    /// A sign-in link's token (customers): good once, for a day.
    #[serde(default)]
    link: bool,
    /// The holder's other tokens stop working.
    #[serde(default)]
    rotate: bool,
}

pub async fn issue(
    State(s): State<Arc<Surface>>,
    ApiJson(b): ApiJson<IssueBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let principal = access::principal(b.admin.as_deref(), b.customer.as_deref())?;
    let mut app = s.app.lock().await;
    let issued = access::issue(&mut app, principal, b.link, b.rotate, s.actor()).await?;
    Ok((StatusCode::CREATED, Json(json!(issued))))
}

pub async fn list(State(s): State<Arc<Surface>>) -> Answer {
    let mut app = s.app.lock().await;
    app.catch_up().await?;
    Ok(Json(json!(access::list(&app)?)))
}

pub async fn revoke(State(s): State<Arc<Surface>>, Path(token_id): Path<String>) -> Answer {
    let mut app = s.app.lock().await;
    let row = access::revoke(&mut app, &token_id, "revoked by an admin", s.actor()).await?;
    Ok(Json(json!(row)))
}
