//! What the customer's forms do: order a name with the agreement accepted, switch a
//! domain's automatic renewal, set its nameservers. Each form is the signed-in
//! customer's, carries the session's CSRF token, and touches only the account's domains.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::{Extension, Form};
use serde::Deserialize;

use domreg_events::{AccountId, Actor, OrderKind};

use super::account::posting;
use super::{back, WebState};
use crate::admin::{self, storefront, AdminError};
use crate::engine::place::OrderRequest;

#[derive(Deserialize)]
pub struct OrderForm {
    csrf: String,
    domain: String,
    years: i64,
    agreement_version: String,
    accept: Option<String>,
}

pub async fn order(
    State(s): State<Arc<WebState>>,
    headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    Form(f): Form<OrderForm>,
) -> Response {
    let account = match posting(&s, &headers, &f.csrf) {
        Ok(a) => a,
        Err(answer) => return *answer,
    };
    if f.accept.as_deref() != Some("yes") {
        return back(
            &format!("/account/search?domain={}", super::encode(&f.domain)),
            Err("Accept the license agreement to order.".into()),
        );
    }
    let order = storefront::CustomerOrder {
        request: OrderRequest {
            domain: f.domain.clone(),
            account: account.to_string(),
            kind: OrderKind::Register,
            years: f.years,
            contacts: None,
            nameservers: vec![],
            auth_code: None,
            order_id: None,
        },
        agreement_version: f.agreement_version,
        from: peer.map(|Extension(ConnectInfo(a))| a.ip().to_string()),
    };
    let mut app = s.app.lock().await;
    match storefront::order(&mut app, &account, order, Actor::Customer(account.clone())).await {
        Ok(p) => back(
            "/account",
            Ok(format!(
                "Ordered {}: {} charged. We tell you when it is registered.",
                p.domain, p.price
            )),
        ),
        Err(e) => back(
            &format!("/account/search?domain={}", super::encode(&f.domain)),
            Err(e.to_string()),
        ),
    }
}

#[derive(Deserialize)]
pub struct AutoRenewForm {
    csrf: String,
    enabled: bool,
}

pub async fn auto_renew(
    State(s): State<Arc<WebState>>,
    headers: HeaderMap,
    Path(domain): Path<String>,
    Form(f): Form<AutoRenewForm>,
) -> Response {
    let (account, name) = match own_domain(&s, &headers, &f.csrf, &domain).await {
        Ok(held) => held,
        Err(answer) => return *answer,
    };
    let mut app = s.app.lock().await;
    match admin::orders::set_auto_renew(
        &mut app,
        name.as_str(),
        f.enabled,
        None,
        Actor::Customer(account),
    )
    .await
    {
        Ok(_) => back(
            "/account",
            Ok(format!(
                "Automatic renewal of {name} is {}.",
                if f.enabled { "on" } else { "off" }
            )),
        ),
        Err(e) => back("/account", Err(e.to_string())),
    }
}

#[derive(Deserialize)]
pub struct NameserversForm {
    csrf: String,
    nameservers: String,
}

/// The signed-in customer of a form posted about the path's domain, and that domain if
/// the customer holds it; otherwise the answer to give (sign-in, a refusal, or back).
async fn own_domain(
    s: &WebState,
    headers: &HeaderMap,
    csrf: &str,
    domain: &str,
) -> Result<(AccountId, domreg_events::DomainName), Box<Response>> {
    let account = posting(s, headers, csrf)?;
    let store = s.app.lock().await.store.clone();
    match storefront::held_by(&store, &account, domain).await {
        Ok((name, _)) => Ok((account, name)),
        Err(AdminError::NotFound(_)) => Err(Box::new(back(
            "/account",
            Err(format!("No domain {domain} in your account.")),
        ))),
        Err(e) => Err(Box::new(back("/account", Err(e.to_string())))),
    }
}

/// Replaces one of the account's domains' nameservers at OpenSRS, once.
pub async fn nameservers(
    State(s): State<Arc<WebState>>,
    headers: HeaderMap,
    Path(domain): Path<String>,
    Form(f): Form<NameserversForm>,
) -> Response {
    let (account, name) = match own_domain(&s, &headers, &f.csrf, &domain).await {
        Ok(held) => held,
        Err(answer) => return *answer,
    };
    let nameservers = f
        .nameservers
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    let change = domreg_events::change::DomainChange::Nameservers { nameservers };
    let mut app = s.app.lock().await;
    let said = admin::changes::apply(&mut app, name.as_str(), change, Actor::Customer(account))
        .await
        .map(|o| match o.state {
            "applied" => format!("{name}: {}.", o.change.describe()),
            _ => format!(
                "{name}: {} sent; the registry has not answered yet.",
                o.change.describe()
            ),
        })
        .map_err(|e| e.to_string());
    back("/account", said)
}
