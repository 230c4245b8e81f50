//! The API's routes for registered domains' changes (nameservers, lock, WHOIS privacy,
//! bulk, transfer code) and for reconciliation with OpenSRS (reports, late completions).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::error::ApiJson;
use super::orders::Answer;
use crate::admin;
use crate::surface::Surface;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LateBody {
    choice: String,
}

/// The admin's choice about a late completion that `sync` found.
pub async fn late_completion(
    State(s): State<Arc<Surface>>,
    Path(order): Path<String>,
    ApiJson(body): ApiJson<LateBody>,
) -> Answer {
    let charge_again = match body.choice.as_str() {
        "charge_again" => true,
        "let_go" => false,
        other => {
            return Err(admin::AdminError::invalid(
                "invalid_choice",
                format!("choice {other:?}: use charge_again or let_go"),
            )
            .into())
        }
    };
    let mut app = s.app.lock().await;
    let out = admin::late::settle(&mut app, &order, charge_again, s.actor()).await?;
    Ok(Json(json!(out)))
}

/// The last full reconciliation of each connection.
pub async fn sync_reports(State(s): State<Arc<Surface>>) -> Answer {
    let data_dir = s.app.lock().await.data_dir.clone();
    Ok(Json(json!(crate::engine::sync::last_reports(&data_dir))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameserversBody {
    #[serde(default)]
    nameservers: Vec<String>,
    /// Back to the connection's default nameservers (instead of a list).
    #[serde(default)]
    defaults: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockBody {
    locked: bool,
}

/// Replaces a registered domain's nameservers at OpenSRS.
pub async fn set_nameservers(
    State(s): State<Arc<Surface>>,
    Path(domain): Path<String>,
    ApiJson(b): ApiJson<NameserversBody>,
) -> Answer {
    let mut app = s.app.lock().await;
    let nameservers = match (b.defaults, b.nameservers.is_empty()) {
        (true, true) => admin::changes::connection_nameservers(&mut app, &domain).await?,
        (false, _) => b.nameservers,
        (true, false) => {
            return Err(admin::AdminError::invalid(
                "invalid_change",
                "give nameservers or defaults: true, not both",
            )
            .into())
        }
    };
    let change = domreg_events::change::DomainChange::Nameservers { nameservers };
    let out = admin::changes::apply(&mut app, &domain, change, s.actor()).await?;
    Ok(Json(json!(out)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyBody {
    enabled: bool,
}

/// Switches a registered domain's WHOIS privacy at OpenSRS.
pub async fn set_privacy(
    State(s): State<Arc<Surface>>,
    Path(domain): Path<String>,
    ApiJson(b): ApiJson<PrivacyBody>,
) -> Answer {
    let change = domreg_events::change::DomainChange::Privacy { enabled: b.enabled };
    let mut app = s.app.lock().await;
    let out = admin::changes::apply(&mut app, &domain, change, s.actor()).await?;
    Ok(Json(json!(out)))
}

/// Switches a registered domain's registrar lock at OpenSRS.
pub async fn set_lock(
    State(s): State<Arc<Surface>>,
    Path(domain): Path<String>,
    ApiJson(b): ApiJson<LockBody>,
) -> Answer {
    let change = domreg_events::change::DomainChange::Lock { locked: b.locked };
    let mut app = s.app.lock().await;
    let out = admin::changes::apply(&mut app, &domain, change, s.actor()).await?;
    Ok(Json(json!(out)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    domains: Vec<String>,
    /// A domain change or `{"change": "auto_renew", ...}`, parsed by the bulk itself so
    /// its errors name what a bulk takes.
    change: serde_json::Value,
    #[serde(default)]
    key: Option<String>,
}

/// The most domains one bulk request names (larger lists: several requests or the CLI).
const BULK_LIMIT: usize = 1_000;

/// One change to many domains, one recorded change each; the same key again continues.
pub async fn bulk_change(State(s): State<Arc<Surface>>, ApiJson(b): ApiJson<BulkBody>) -> Answer {
    if b.domains.is_empty() || b.domains.len() > BULK_LIMIT {
        return Err(admin::AdminError::invalid(
            "invalid_domains",
            format!(
                "{} domains; a bulk request names 1 to {BULK_LIMIT}",
                b.domains.len()
            ),
        )
        .into());
    }
    let change = admin::bulk::BulkChange::from_json(b.change)?;
    let key = b
        .key
        .unwrap_or_else(|| admin::bulk::default_key(&change, &b.domains));
    let mut app = s.app.lock().await;
    let report = admin::bulk::bulk(&mut app, &b.domains, &change, &key, s.actor(), None).await?;
    Ok(Json(json!(report)))
}

/// A registered domain's transfer code, as its TLD allows (shown or e-mailed).
pub async fn auth_code(State(s): State<Arc<Surface>>, Path(domain): Path<String>) -> Answer {
    let mut app = s.app.lock().await;
    let out = admin::auth_code::give_out(&mut app, &domain, s.actor()).await?;
    Ok(Json(json!(out)))
}
