//! What can be ordered: TLD routes, prices, async policies.

use serde::Serialize;

use domreg_events::settings::*;
use domreg_events::{Actor, Currency, Money, Period};
use domreg_projections::{PolicyRow, PriceRow};

use super::super::AdminError;
use super::record;
use crate::app::App;

#[derive(Debug, Clone, Serialize)]
pub struct TldRoute {
    pub tld: String,
    pub registrar: String,
    /// The connection the TLD went through before, if it changed.
    pub previous: Option<String>,
}

pub async fn assign_tld(
    app: &mut App,
    tld: &str,
    registrar: &str,
    actor: Actor,
) -> Result<TldRoute, AdminError> {
    app.catch_up().await?;
    let tld = parse_tld(tld)?;
    if tld == "*" {
        return Err(AdminError::invalid(
            "invalid_setting",
            "give a TLD such as com or co.uk; `*` is for policies only",
        ));
    }
    app.models
        .registrar(registrar)?
        .ok_or_else(|| SettingsError::UnknownRegistrar(registrar.to_string()))?;
    let previous = app.models.route(&tld)?.filter(|p| p != registrar);
    let event = TldAssigned {
        tld: tld.clone(),
        registrar: registrar.to_string(),
    };
    record(app, &tld_stream(&tld), event.into(), actor).await?;
    Ok(TldRoute {
        tld,
        registrar: registrar.to_string(),
        previous,
    })
}

pub async fn set_price(
    app: &mut App,
    tld: &str,
    kind: PriceKind,
    years: Option<i64>,
    amount: &str,
    currency: &str,
    actor: Actor,
) -> Result<PriceRow, AdminError> {
    let currency = Currency::parse(currency)?;
    let price = Money::parse(amount, currency)?;
    set_price_of(app, tld, kind, years, price, actor).await
}

/// [`set_price`] with the amount already parsed.
pub async fn set_price_of(
    app: &mut App,
    tld: &str,
    kind: PriceKind,
    years: Option<i64>,
    price: Money,
    actor: Actor,
) -> Result<PriceRow, AdminError> {
    app.catch_up().await?;
    let tld = parse_tld(tld)?;
    let currency = price.currency;
    let years = years.map(Period::years).transpose()?;
    validate_price(kind, years, price)?;
    if let Some(other) = app
        .models
        .prices(Some(&tld))?
        .iter()
        .find(|p| p.price.currency != currency)
    {
        return Err(AdminError::Conflict(format!(
            ".{tld} is priced in {}; all its prices must share one currency",
            other.price.currency
        )));
    }
    let event = PriceSet {
        tld: tld.clone(),
        kind,
        years,
        price,
    };
    record(app, &tld_stream(&tld), event.into(), actor).await?;
    Ok(PriceRow {
        tld,
        kind,
        years: years.map(Period::get),
        price,
    })
}

pub async fn remove_price(
    app: &mut App,
    tld: &str,
    kind: PriceKind,
    years: Option<i64>,
    actor: Actor,
) -> Result<(), AdminError> {
    app.catch_up().await?;
    let tld = parse_tld(tld)?;
    let years = years.map(Period::years).transpose()?;
    if app
        .models
        .price(&tld, kind, years.map(Period::get))?
        .is_none()
    {
        return Err(AdminError::NotFound(format!(
            ".{tld} has no such {} price",
            kind.as_str()
        )));
    }
    let event = PriceRemoved {
        tld: tld.clone(),
        kind,
        years,
    };
    record(app, &tld_stream(&tld), event.into(), actor).await?;
    Ok(())
}

pub async fn set_policy(
    app: &mut App,
    tld: &str,
    transfer: bool,
    policy: AsyncPolicy,
    actor: Actor,
) -> Result<PolicyRow, AdminError> {
    app.catch_up().await?;
    let tld = parse_tld(tld)?;
    policy.validate()?;
    let event = PolicySet {
        tld: tld.clone(),
        transfer,
        policy,
    };
    record(app, &tld_stream(&tld), event.into(), actor).await?;
    Ok(app.models.policy(&tld, transfer)?)
}
