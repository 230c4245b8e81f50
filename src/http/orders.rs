//! Orders, the Async Manager, the ledger, accounts, domains and audits over HTTP.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use domreg_events::{AccountId, ContactSet, DomainName, OrderKind};
use domreg_projections::PendingQuery;

use super::error::{ApiError, ApiJson, ApiQuery};
use crate::admin::{self, AdminError};
use crate::audit::{self, AccountAudit, DomainAudit};
use crate::engine::place::{place_order, OrderRequest};
use crate::surface::Surface;

pub(super) type Answer = Result<Json<Value>, ApiError>;

fn one() -> i64 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderBody {
    pub kind: OrderKind,
    pub domain: String,
    pub account: String,
    #[serde(deserialize_with = "crate::admin::lenient::int")]
    #[serde(default = "one")]
    pub years: i64,
    pub contacts: Option<ContactSet>,
    #[serde(default)]
    pub nameservers: Vec<String>,
    pub auth_code: Option<crate::opensrs::Secret>,
    /// A client-chosen order id (UUID): retrying with it places nothing twice.
    pub order_id: Option<String>,
}

/// The `Idempotency-Key` header, if sent.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => v.to_str().map(|k| Some(k.to_string())).map_err(|_| {
            AdminError::invalid(
                "invalid_idempotency_key",
                "the Idempotency-Key header must be printable ASCII",
            )
            .into()
        }),
    }
}

/// `POST /api/v1/orders`: charged now; the engine submits it. With an `Idempotency-Key`
/// header (or an `order_id`), a repeat answers 200 with the first order and writes nothing.
pub async fn place(
    State(s): State<Arc<Surface>>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<OrderBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if let Some(c) = &body.contacts {
        c.validate().map_err(AdminError::from)?;
    }
    let key = idempotency_key(&headers)?;
    let order_id =
        admin::orders::chosen_order_id(&body.account, body.order_id.as_deref(), key.as_deref())?;
    let request = OrderRequest {
        domain: body.domain,
        account: body.account,
        kind: body.kind,
        years: body.years,
        contacts: body.contacts,
        nameservers: body.nameservers,
        auth_code: body.auth_code,
        order_id,
    };
    let mut app = s.app.lock().await;
    let now = app.clock.now();
    let placed = place_order(&mut app, request, s.actor(), now)
        .await
        .map_err(AdminError::from)?;
    let status = if placed.repeated {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(json!({ "order": placed, "status": "charged", "repeated": placed.repeated })),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AsyncQuery {
    pub tld: Option<String>,
    pub account: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// A page size: `default` when absent, refused (not clipped) above `max`.
fn page_size(limit: Option<usize>, default: usize, max: usize) -> Result<usize, ApiError> {
    match limit {
        Some(n) if n > max => Err(AdminError::invalid(
            "invalid_limit",
            format!("limit {n} is too large: at most {max}"),
        )
        .into()),
        n => Ok(n.unwrap_or(default)),
    }
}

/// Rows to skip, at most a billion.
fn offset(offset: Option<usize>) -> Result<usize, ApiError> {
    match offset {
        Some(n) if n > 1_000_000_000 => Err(AdminError::invalid(
            "invalid_offset",
            format!("offset {n} is too large: at most 1000000000"),
        )
        .into()),
        n => Ok(n.unwrap_or(0)),
    }
}

/// `GET /api/v1/async`: pending orders, oldest first.
pub async fn pending(State(s): State<Arc<Surface>>, ApiQuery(q): ApiQuery<AsyncQuery>) -> Answer {
    let limit = page_size(q.limit, 50, 10_000)?;
    let tld = q
        .tld
        .map(|t| domreg_events::settings::parse_tld(&t))
        .transpose()
        .map_err(AdminError::from)?;
    account_filter(&q.account)?;
    let mut app = s.app.lock().await;
    app.catch_up().await?;
    let rows = app.models.pending_orders(&PendingQuery {
        tld,
        account: q.account,
        due_by: None,
        limit,
        offset: offset(q.offset)?,
    })?;
    Ok(Json(json!(rows)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinishedParams {
    pub end: Option<String>,
    pub account: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// `GET /api/v1/async/finished`: finished orders, newest first.
pub async fn finished(
    State(s): State<Arc<Surface>>,
    ApiQuery(q): ApiQuery<FinishedParams>,
) -> Answer {
    let query = admin::orders::finished_query(
        q.end.as_deref(),
        q.account,
        q.since,
        q.until,
        q.limit.unwrap_or(50),
        offset(q.offset)?,
    )?;
    let mut app = s.app.lock().await;
    app.catch_up().await?;
    Ok(Json(json!(app.models.finished_orders(&query)?)))
}

pub async fn cancel(State(s): State<Arc<Surface>>, Path(order): Path<String>) -> Answer {
    let mut app = s.app.lock().await;
    let out = admin::orders::cancel(&mut app, &order, s.actor()).await?;
    Ok(Json(json!(out)))
}

pub async fn reset(State(s): State<Arc<Surface>>, Path(order): Path<String>) -> Answer {
    let mut app = s.app.lock().await;
    let out = admin::orders::reset(&mut app, &order, s.actor()).await?;
    Ok(Json(json!(out)))
}

pub async fn check(State(s): State<Arc<Surface>>, Path(order): Path<String>) -> Answer {
    let mut app = s.app.lock().await;
    let out = admin::orders::check(&mut app, &order).await?;
    Ok(Json(json!(out)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub account: Option<String>,
    pub limit: Option<usize>,
}

fn account_filter(account: &Option<String>) -> Result<(), ApiError> {
    if let Some(a) = account {
        AccountId::parse(a).map_err(AdminError::from)?;
    }
    Ok(())
}

/// `GET /api/v1/ledger`: entries and balances, as `domreg ledger --json`.
pub async fn ledger(State(s): State<Arc<Surface>>, ApiQuery(q): ApiQuery<ListQuery>) -> Answer {
    account_filter(&q.account)?;
    let limit = page_size(q.limit, 1000, 100_000)?;
    let mut app = s.app.lock().await;
    app.catch_up().await?;
    let entries = app.models.ledger(q.account.as_deref(), limit)?;
    let balances: Vec<_> = app
        .models
        .balances()?
        .into_iter()
        .filter(|b| q.account.as_ref().is_none_or(|a| *a == b.account))
        .collect();
    Ok(Json(json!({ "entries": entries, "balances": balances })))
}

/// `GET /api/v1/domains`, as `domreg domains --json`.
pub async fn domains(State(s): State<Arc<Surface>>, ApiQuery(q): ApiQuery<ListQuery>) -> Answer {
    account_filter(&q.account)?;
    let limit = page_size(q.limit, 1000, 100_000)?;
    let mut app = s.app.lock().await;
    app.catch_up().await?;
    let rows = app.models.domains(q.account.as_deref(), limit)?;
    Ok(Json(json!(rows)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoRenewBody {
    pub enabled: bool,
    /// Years per automatic renewal of this domain (1 to 10); absent: the connection's.
    #[serde(deserialize_with = "crate::admin::lenient::opt_int", default)]
    pub years: Option<i64>,
}

pub async fn auto_renew(
    State(s): State<Arc<Surface>>,
    Path(domain): Path<String>,
    ApiJson(body): ApiJson<AutoRenewBody>,
) -> Answer {
    let years = admin::orders::renew_years(body.years)?;
    let mut app = s.app.lock().await;
    let name =
        admin::orders::set_auto_renew(&mut app, &domain, body.enabled, years, s.actor()).await?;
    Ok(Json(json!({ "domain": name, "auto_renew": body.enabled })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditBody {
    pub amount: String,
    #[serde(default = "usd")]
    pub currency: String,
    #[serde(default)]
    pub note: String,
}

fn usd() -> String {
    "USD".into()
}

/// `POST /api/v1/accounts/{account}/credits`: a payment received.
pub async fn credit(
    State(s): State<Arc<Surface>>,
    Path(account): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreditBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = idempotency_key(&headers)?;
    let mut app = s.app.lock().await;
    let c = admin::settings::credit(
        &mut app,
        &account,
        &body.amount,
        &body.currency,
        &body.note,
        key.as_deref(),
        s.actor(),
    )
    .await?;
    let status = if c.repeated {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(json!(c))))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitBody {
    amount: String,
    #[serde(default = "usd")]
    currency: String,
}

/// `PUT /api/v1/accounts/{account}/credit-limit` (`default`: every account without its own).
pub async fn credit_limit(
    State(s): State<Arc<Surface>>,
    Path(account): Path<String>,
    ApiJson(body): ApiJson<LimitBody>,
) -> Answer {
    let mut app = s.app.lock().await;
    let who = (account != "default").then_some(account.as_str());
    let l =
        admin::settings::set_credit_limit(&mut app, who, &body.amount, &body.currency, s.actor())
            .await?;
    Ok(Json(json!(l)))
}

pub async fn contacts(
    State(s): State<Arc<Surface>>,
    Path(account): Path<String>,
    ApiJson(body): ApiJson<ContactSet>,
) -> Answer {
    let mut app = s.app.lock().await;
    let account = admin::settings::store_contacts(&mut app, &account, body, s.actor()).await?;
    Ok(Json(json!({ "account": account, "stored": true })))
}

fn moment(field: &str, value: &Option<String>) -> Result<Option<DateTime<Utc>>, ApiError> {
    value
        .as_deref()
        .map(|v| {
            audit::parse_moment(v).map_err(|m| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_time",
                    format!("{field}: {m}"),
                )
            })
        })
        .transpose()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainAuditQuery {
    pub order: Option<String>,
    pub at: Option<String>,
}

/// `GET /api/v1/audit/domains/{domain}`, as `domreg audit DOMAIN --json`.
pub async fn audit_domain(
    State(s): State<Arc<Surface>>,
    Path(domain): Path<String>,
    ApiQuery(q): ApiQuery<DomainAuditQuery>,
) -> Answer {
    let query = DomainAudit {
        domain: DomainName::parse(&domain).map_err(AdminError::from)?,
        order: q
            .order
            .as_deref()
            .map(admin::orders::parse_order_id)
            .transpose()?,
        at: moment("at", &q.at)?,
    };
    let store = s.app.lock().await.store.clone();
    Ok(Json(json!(audit::domain_audit(&store, &query).await?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountAuditQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// `GET /api/v1/audit/accounts/{account}`, as `domreg audit --account A --json`.
pub async fn audit_account(
    State(s): State<Arc<Surface>>,
    Path(account): Path<String>,
    ApiQuery(q): ApiQuery<AccountAuditQuery>,
) -> Answer {
    let query = AccountAudit {
        account: AccountId::parse(&account).map_err(AdminError::from)?,
        from: moment("from", &q.from)?,
        to: moment("to", &q.to)?,
    };
    let store = s.app.lock().await.store.clone();
    Ok(Json(json!(audit::account_audit(&store, &query).await?)))
}
