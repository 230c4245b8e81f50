//! OpenSRS connections, TLD routes, prices, policies, and registry queries over HTTP.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use domreg_events::settings::{parse_tld, AsyncPolicy, PriceKind, SettingsError};
use domreg_events::DomainName;

use super::error::{ApiError, ApiJson, ApiQuery};
use crate::admin::settings::{self, RegistrarFields};
use crate::admin::AdminError;
use crate::opensrs::{Class, Command};
use crate::surface::Surface;

type Answer = Result<Json<Value>, ApiError>;

pub async fn registrars(State(s): State<Arc<Surface>>) -> Answer {
    let mut app = s.app.lock().await;
    app.catch_up().await?;
    Ok(Json(json!(settings::registrars(&app)?)))
}

pub async fn registrar(State(s): State<Arc<Surface>>, Path(title): Path<String>) -> Answer {
    let mut app = s.app.lock().await;
    app.catch_up().await?;
    Ok(Json(json!(settings::registrar(&app, &title)?)))
}

/// `POST /api/v1/registrars/{title}`: adds a connection (the key is required, write-only).
pub async fn add_registrar(
    State(s): State<Arc<Surface>>,
    Path(title): Path<String>,
    ApiJson(fields): ApiJson<RegistrarFields>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let mut app = s.app.lock().await;
    let view = settings::add_registrar(&mut app, &title, &fields, s.actor()).await?;
    Ok((StatusCode::CREATED, Json(json!(view))))
}

pub async fn update_registrar(
    State(s): State<Arc<Surface>>,
    Path(title): Path<String>,
    ApiJson(fields): ApiJson<RegistrarFields>,
) -> Answer {
    let mut app = s.app.lock().await;
    let view = settings::update_registrar(&mut app, &title, &fields, s.actor()).await?;
    Ok(Json(json!(view)))
}

pub async fn remove_registrar(State(s): State<Arc<Surface>>, Path(title): Path<String>) -> Answer {
    let mut app = s.app.lock().await;
    settings::remove_registrar(&mut app, &title, s.actor()).await?;
    Ok(Json(json!({ "removed": title })))
}

pub async fn test_registrar(State(s): State<Arc<Surface>>, Path(title): Path<String>) -> Answer {
    let mut app = s.app.lock().await;
    app.catch_up().await?;
    Ok(Json(json!(
        settings::test_registrar(&mut app, &title).await?
    )))
}

pub async fn tlds(State(s): State<Arc<Surface>>) -> Answer {
    let mut app = s.app.lock().await;
    app.catch_up().await?;
    let routes: Vec<Value> = app
        .models
        .routes()?
        .into_iter()
        .map(|(t, r)| json!({ "tld": t, "registrar": r }))
        .collect();
    Ok(Json(Value::Array(routes)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    pub registrar: String,
}

pub async fn assign_tld(
    State(s): State<Arc<Surface>>,
    Path(tld): Path<String>,
    ApiJson(body): ApiJson<AssignBody>,
) -> Answer {
    let mut app = s.app.lock().await;
    let route = settings::assign_tld(&mut app, &tld, &body.registrar, s.actor()).await?;
    Ok(Json(json!(route)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceQuery {
    pub tld: Option<String>,
}

pub async fn prices(State(s): State<Arc<Surface>>, ApiQuery(q): ApiQuery<PriceQuery>) -> Answer {
    let tld = q
        .tld
        .map(|t| parse_tld(&t))
        .transpose()
        .map_err(AdminError::from)?;
    let mut app = s.app.lock().await;
    app.catch_up().await?;
    Ok(Json(json!(app.models.prices(tld.as_deref())?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceBody {
    pub kind: PriceKind,
    #[serde(deserialize_with = "crate::admin::lenient::opt_int", default)]
    pub years: Option<i64>,
    pub amount: String,
    #[serde(default = "usd")]
    pub currency: String,
}

fn usd() -> String {
    "USD".into()
}

pub async fn set_price(
    State(s): State<Arc<Surface>>,
    Path(tld): Path<String>,
    ApiJson(b): ApiJson<PriceBody>,
) -> Answer {
    let mut app = s.app.lock().await;
    let row = settings::set_price(
        &mut app,
        &tld,
        b.kind,
        b.years,
        &b.amount,
        &b.currency,
        s.actor(),
    )
    .await?;
    Ok(Json(json!(row)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceKey {
    pub kind: PriceKind,
    #[serde(deserialize_with = "crate::admin::lenient::opt_int", default)]
    pub years: Option<i64>,
}

pub async fn remove_price(
    State(s): State<Arc<Surface>>,
    Path(tld): Path<String>,
    ApiQuery(k): ApiQuery<PriceKey>,
) -> Answer {
    let mut app = s.app.lock().await;
    settings::remove_price(&mut app, &tld, k.kind, k.years, s.actor()).await?;
    Ok(Json(
        json!({ "removed": { "tld": tld, "kind": k.kind, "years": k.years } }),
    ))
}

pub async fn policies(State(s): State<Arc<Surface>>) -> Answer {
    let mut app = s.app.lock().await;
    app.catch_up().await?;
    Ok(Json(json!(app.models.policies()?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    #[serde(default)]
    pub transfer: bool,
    #[serde(deserialize_with = "crate::admin::lenient::int")]
    pub poll_every_secs: u64,
    #[serde(deserialize_with = "crate::admin::lenient::int")]
    pub timeout_secs: u64,
}

pub async fn set_policy(
    State(s): State<Arc<Surface>>,
    Path(tld): Path<String>,
    ApiJson(b): ApiJson<PolicyBody>,
) -> Answer {
    let policy = AsyncPolicy {
        poll_every_secs: b.poll_every_secs,
        timeout_secs: b.timeout_secs,
    };
    let mut app = s.app.lock().await;
    let row = settings::set_policy(&mut app, &tld, b.transfer, policy, s.actor()).await?;
    Ok(Json(json!(row)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryConnection {
    /// The connection to ask; default: the one the domain's TLD is routed to.
    pub registrar: Option<String>,
}

async fn ask(s: &Surface, domain: &str, registrar: Option<String>, check_transfer: bool) -> Answer {
    let name = DomainName::parse(domain).map_err(AdminError::from)?;
    let client = {
        let mut app = s.app.lock().await;
        app.catch_up().await?;
        let title = match registrar {
            Some(r) => r,
            None => app.models.route(name.tld())?.ok_or_else(|| {
                AdminError::NotOrderable(format!(
                    ".{} has no OpenSRS connection; give ?registrar=TITLE",
                    name.tld()
                ))
            })?,
        };
        if app.models.registrar(&title)?.is_none() {
            return Err(AdminError::from(SettingsError::UnknownRegistrar(title)).into());
        }
        crate::engine::client_for(&app, &title).map_err(AdminError::Registrar)?
    };
    let command = if check_transfer {
        Command::CheckTransfer {
            domain: name.to_string(),
            check_status: true,
        }
    } else {
        Command::Lookup {
            domain: name.to_string(),
        }
    };
    let exchange = client.call(&command).await;
    if !matches!(exchange.classification.class, Class::Done | Class::Pending) {
        let c = &exchange.classification;
        return Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "registrar_error",
            match c.code {
                Some(code) => format!("OpenSRS refused: {code} {}", c.text),
                None => format!("no answer from OpenSRS: {}", c.text),
            },
        ));
    }
    Ok(Json(exchange.to_json(name.as_str())))
}

pub async fn lookup(
    State(s): State<Arc<Surface>>,
    Path(domain): Path<String>,
    ApiQuery(q): ApiQuery<QueryConnection>,
) -> Answer {
    ask(&s, &domain, q.registrar, false).await
}

pub async fn transfer_status(
    State(s): State<Arc<Surface>>,
    Path(domain): Path<String>,
    ApiQuery(q): ApiQuery<QueryConnection>,
) -> Answer {
    ask(&s, &domain, q.registrar, true).await
}
