//! What a customer sees before ordering, and their order: availability through the
//! connection that serves the TLD (LOOKUP, then GET_PRICE for registry-premium names),
//! the prices, and the connection's license agreement with its version (a SHA-256 of the
//! text). An order must name the version it was shown; it is recorded with the order.

use serde::Serialize;
use sha2::{Digest, Sha256};

use domreg_events::settings::{PriceKind, RegistrarConfig};
use domreg_events::{AccountId, Actor, DomainName, OrderKind};
use domreg_projections::PriceRow;

use super::AdminError;
use crate::app::App;
use crate::engine::client_for;
use crate::engine::place::{place_accepted_order, Acceptance, OrderRequest, PlacedOrder};
use crate::opensrs;

#[derive(Debug, Clone, Serialize)]
pub struct Agreement {
    pub connection: String,
    /// Hex SHA-256 of `text`: what an order must name to accept this text.
    pub version: String,
    pub text: String,
}

pub fn agreement_of(config: &RegistrarConfig) -> Agreement {
    Agreement {
        connection: config.title.clone(),
        version: crate::hex::hex(&Sha256::digest(config.license_agreement.as_bytes())),
        text: config.license_agreement.clone(),
    }
}

/// A name as the catalogue offers it.
#[derive(Debug, Clone, Serialize)]
pub struct Offer {
    pub domain: DomainName,
    /// `available`, `taken`, or `premium` (available, but at the registry's premium
    /// price, which domreg does not sell at its standard one).
    pub status: &'static str,
    pub orderable: bool,
    /// Why it cannot be ordered, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What OpenSRS answered to LOOKUP.
    pub registrar_answer: String,
    /// The standard prices of the TLD, per kind and period.
    pub prices: Vec<PriceRow>,
    pub agreement: Agreement,
}

fn connection_for(app: &App, domain: &DomainName) -> Result<RegistrarConfig, AdminError> {
    let tld = domain.tld();
    let title = app.models.route(tld)?.ok_or_else(|| {
        AdminError::NotOrderable(format!(
            ".{tld} is not offered: no OpenSRS connection serves it"
        ))
    })?;
    app.models.registrar(&title)?.ok_or_else(|| {
        AdminError::NotOrderable(format!("the connection {title} of .{tld} is gone"))
    })
}

/// Whether OpenSRS prices the name as registry-premium (GET_PRICE `is_registry_premium`).
async fn premium(client: &opensrs::Client, domain: &DomainName) -> Result<bool, AdminError> {
    let e = client
        .call(&opensrs::Command::GetPrice {
            domain: domain.to_string(),
            period: 1,
        })
        .await;
    match e.outcome {
        Ok(reply) if reply.is_success => Ok(reply.attr("is_registry_premium") == Some("1")),
        _ => Err(AdminError::Registrar(format!(
            "OpenSRS could not price {domain}: {}",
            e.classification.text
        ))),
    }
}

/// Availability, prices and the agreement for `domain`.
pub async fn offer(app: &mut App, domain: &str) -> Result<Offer, AdminError> {
    app.catch_up().await?;
    let domain = DomainName::parse(domain)?;
    let config = connection_for(app, &domain)?;
    let prices = app.models.prices(Some(domain.tld()))?;
    let client = client_for(app, &config.title).map_err(AdminError::Registrar)?;
    let e = client
        .call(&opensrs::Command::Lookup {
            domain: domain.to_string(),
        })
        .await;
    let (code, text) = (e.classification.code, e.classification.text.clone());
    let answer = match code {
        Some(c) => format!("{c} {}", text.trim()),
        None => text.trim().to_string(),
    };
    let (status, reason) = match code {
        Some(210) if premium(&client, &domain).await? => (
            "premium",
            Some(format!(
                "{domain} is a premium name at its registry: it is not sold at the standard price; ask us for a quote"
            )),
        ),
        Some(210) => ("available", None),
        Some(211) | Some(221) => (
            "taken",
            Some(format!("{domain} is registered already; a transfer needs its transfer code")),
        ),
        _ => return Err(AdminError::Registrar(format!("OpenSRS could not look up {domain}: {answer}"))),
    };
    let priced = prices.iter().any(|p| p.kind == PriceKind::Register);
    let (orderable, reason) = match (status, priced) {
        ("available", false) => (
            false,
            Some(format!(".{} has no registration price yet", domain.tld())),
        ),
        ("available", true) => (true, None),
        _ => (false, reason),
    };
    Ok(Offer {
        domain,
        status,
        orderable,
        reason,
        registrar_answer: answer,
        prices,
        agreement: agreement_of(&config),
    })
}

/// `domain` and its state, if `account` holds it; otherwise not found (a customer learns
/// nothing of other accounts' domains).
pub async fn held_by(
    store: &crate::store::LogStore,
    account: &AccountId,
    domain: &str,
) -> Result<(DomainName, domreg_events::Domain), AdminError> {
    let name = DomainName::parse(domain)?;
    let state = crate::unit_of_work::load(store, &name).await?;
    if state.holder.as_ref() != Some(account) {
        return Err(AdminError::NotFound(format!(
            "no domain {name} in account {account}"
        )));
    }
    Ok((name, state))
}

/// A customer's order, with the agreement version they were shown.
#[derive(Debug, Clone)]
pub struct CustomerOrder {
    pub request: OrderRequest,
    pub agreement_version: String,
    /// Where the request came from.
    pub from: Option<String>,
}

/// Places a customer's order: refused if the agreement changed since it was shown, or if
/// a registration's name is registry-premium; recorded with who accepted which text.
pub async fn order(
    app: &mut App,
    account: &AccountId,
    order: CustomerOrder,
    actor: Actor,
) -> Result<PlacedOrder, AdminError> {
    app.catch_up().await?;
    let domain = DomainName::parse(&order.request.domain)?;
    if order.request.account != account.as_str() {
        return Err(AdminError::NotFound(format!(
            "no account {}",
            order.request.account
        )));
    }
    let config = match order.request.kind {
        // A renewal goes through the connection that holds the domain.
        OrderKind::Renew => {
            let (_, state) = held_by(&app.store, account, domain.as_str()).await?;
            match state.connection {
                Some(title) => app.models.registrar(&title)?.ok_or_else(|| {
                    AdminError::NotOrderable(format!("the connection {title} of {domain} is gone"))
                })?,
                None => connection_for(app, &domain)?,
            }
        }
        _ => connection_for(app, &domain)?,
    };
    let current = agreement_of(&config);
    if order.agreement_version.trim() != current.version {
        return Err(AdminError::AgreementChanged(format!(
            "the license agreement of {} is now version {}, not the version {:?} this order accepted; show the customer the current text and order again",
            config.title, current.version, order.agreement_version
        )));
    }
    if order.request.kind == OrderKind::Register {
        let client = client_for(app, &config.title).map_err(AdminError::Registrar)?;
        if premium(&client, &domain).await? {
            return Err(AdminError::NotOrderable(format!(
                "{domain} is a premium name at its registry: it is not sold at the standard price; nothing was charged"
            )));
        }
    }
    let acceptance = Acceptance {
        version: current.version,
        from: order.from,
    };
    let now = app.clock.now();
    Ok(place_accepted_order(app, order.request, Some(acceptance), actor, now).await?)
}
