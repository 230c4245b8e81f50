//! The customer's routes, `/api/v1/accounts/{account}/...`: open to admins for any
//! account and to a customer's token for its own account only. Another account, or a
//! domain not in this account, is a 404: a customer cannot learn what exists elsewhere.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use domreg_events::settings::Principal;
use domreg_events::{AccountId, ContactSet, DomainName, OrderKind};
use domreg_projections::{FinishedQuery, PendingQuery};

use super::error::{ApiError, ApiJson};
use super::orders::{idempotency_key, Answer, AutoRenewBody};
use crate::admin::{self, AdminError};
use crate::engine::place::OrderRequest;
use crate::surface::{caller, Surface};

/// The account of the path, if the caller may see it.
pub fn scope(account: &str) -> Result<AccountId, ApiError> {
    let id = AccountId::parse(account).map_err(AdminError::from)?;
    match caller() {
        Some(Principal::Customer(own)) if own != id => {
            Err(AdminError::NotFound(format!("no account {account}")).into())
        }
        _ => Ok(id),
    }
}

/// The domain of the path, if it is held by `account`.
async fn domain_of(s: &Surface, account: &AccountId, domain: &str) -> Result<DomainName, ApiError> {
    let store = s.app.lock().await.store.clone();
    Ok(admin::storefront::held_by(&store, account, domain).await?.0)
}

/// `GET /api/v1/accounts/{account}`: balance, holds, credit limit, what it can spend.
pub async fn standing(State(s): State<Arc<Surface>>, Path(account): Path<String>) -> Answer {
    let account = scope(&account)?;
    let mut app = s.app.lock().await;
    let st = admin::settings::standing(&mut app, account.as_str(), "USD").await?;
    Ok(Json(json!(st)))
}

pub async fn domains(State(s): State<Arc<Surface>>, Path(account): Path<String>) -> Answer {
    let account = scope(&account)?;
    let mut app = s.app.lock().await;
    app.catch_up().await?;
    Ok(Json(json!(app
        .models
        .domains(Some(account.as_str()), 100_000)?)))
}

/// Orders in progress (with the Async Manager's state) and the last finished ones.
pub async fn orders(State(s): State<Arc<Surface>>, Path(account): Path<String>) -> Answer {
    let account = scope(&account)?;
    let mut app = s.app.lock().await;
    app.catch_up().await?;
    let pending = app.models.pending_orders(&PendingQuery {
        tld: None,
        account: Some(account.to_string()),
        due_by: None,
        limit: 1_000,
        offset: 0,
    })?;
    let finished = app.models.finished_orders(&FinishedQuery {
        end: None,
        account: Some(account.to_string()),
        since: None,
        until: None,
        limit: 100,
        offset: 0,
    })?;
    Ok(Json(json!({ "pending": pending, "finished": finished })))
}

pub async fn ledger(State(s): State<Arc<Surface>>, Path(account): Path<String>) -> Answer {
    let account = scope(&account)?;
    let mut app = s.app.lock().await;
    app.catch_up().await?;
    let entries = app.models.ledger(Some(account.as_str()), 100_000)?;
    let balances: Vec<_> = app
        .models
        .balances()?
        .into_iter()
        .filter(|b| b.account == account.as_str())
        .collect();
    Ok(Json(json!({ "entries": entries, "balances": balances })))
}

pub async fn audit(State(s): State<Arc<Surface>>, Path(account): Path<String>) -> Answer {
    let account = scope(&account)?;
    let query = crate::audit::AccountAudit {
        account,
        from: None,
        to: None,
    };
    let store = s.app.lock().await.store.clone();
    Ok(Json(json!(
        crate::audit::account_audit(&store, &query).await?
    )))
}

/// `GET /api/v1/accounts/{account}/catalogue/{domain}`: availability, prices, agreement.
pub async fn catalogue(
    State(s): State<Arc<Surface>>,
    Path((account, domain)): Path<(String, String)>,
) -> Answer {
    scope(&account)?;
    let mut app = s.app.lock().await;
    Ok(Json(json!(
        admin::storefront::offer(&mut app, &domain).await?
    )))
}

fn one() -> i64 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerOrderBody {
    pub kind: OrderKind,
    pub domain: String,
    #[serde(deserialize_with = "crate::admin::lenient::int")]
    #[serde(default = "one")]
    pub years: i64,
    /// The version of the license agreement the customer was shown and accepted.
    pub agreement_version: String,
    pub contacts: Option<ContactSet>,
    #[serde(default)]
    pub nameservers: Vec<String>,
    pub auth_code: Option<crate::opensrs::Secret>,
    pub order_id: Option<String>,
}

/// `POST /api/v1/accounts/{account}/orders`: an order with the agreement accepted.
pub async fn place(
    State(s): State<Arc<Surface>>,
    Path(account): Path<String>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CustomerOrderBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let account = scope(&account)?;
    if let Some(c) = &body.contacts {
        c.validate().map_err(AdminError::from)?;
    }
    let key = idempotency_key(&headers)?;
    let order_id =
        admin::orders::chosen_order_id(account.as_str(), body.order_id.as_deref(), key.as_deref())?;
    let order = admin::storefront::CustomerOrder {
        request: OrderRequest {
            domain: body.domain,
            account: account.to_string(),
            kind: body.kind,
            years: body.years,
            contacts: body.contacts,
            nameservers: body.nameservers,
            auth_code: body.auth_code,
            order_id,
        },
        agreement_version: body.agreement_version,
        from: peer.map(|Extension(ConnectInfo(a))| a.ip().to_string()),
    };
    let mut app = s.app.lock().await;
    let placed = admin::storefront::order(&mut app, &account, order, s.actor()).await?;
    let status = match placed.repeated {
        true => StatusCode::OK,
        false => StatusCode::CREATED,
    };
    Ok((
        status,
        Json(json!({ "order": placed, "status": "charged", "repeated": placed.repeated })),
    ))
}

pub async fn auto_renew(
    State(s): State<Arc<Surface>>,
    Path((account, domain)): Path<(String, String)>,
    ApiJson(body): ApiJson<AutoRenewBody>,
) -> Answer {
    let account = scope(&account)?;
    let name = domain_of(&s, &account, &domain).await?;
    let years = admin::orders::renew_years(body.years)?;
    let mut app = s.app.lock().await;
    admin::orders::set_auto_renew(&mut app, name.as_str(), body.enabled, years, s.actor()).await?;
    Ok(Json(json!({ "domain": name, "auto_renew": body.enabled })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameserversBody {
    nameservers: Vec<String>,
}

pub async fn nameservers(
    State(s): State<Arc<Surface>>,
    Path((account, domain)): Path<(String, String)>,
    ApiJson(b): ApiJson<NameserversBody>,
) -> Answer {
    let account = scope(&account)?;
    let name = domain_of(&s, &account, &domain).await?;
    let change = domreg_events::change::DomainChange::Nameservers {
        nameservers: b.nameservers,
    };
    let mut app = s.app.lock().await;
    let out = admin::changes::apply(&mut app, name.as_str(), change, s.actor()).await?;
    Ok(Json(json!(out)))
}
