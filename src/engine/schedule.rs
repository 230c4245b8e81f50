//! The daily expiry round: one warning per domain and expiry date inside the connection's
//! warning window, and one renewal order per expiry date inside its renew window for
//! domains with auto-renew on. Expiry dates are the registrar's (from Confirmed,
//! BELONGS_TO_RSP, GET DOMAIN), never local arithmetic.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use domreg_events::settings::{PriceKind, RegistrarConfig};
use domreg_events::*;

use super::steps::{append_decisions, load};
use super::EngineError;
use crate::app::App;
use crate::store::StoreError;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExpiryRound {
    /// Expiry dates corrected from the registrar's GET DOMAIN.
    pub synced: usize,
    pub warned: usize,
    pub renewals: usize,
    /// Domains that should renew but cannot (no renew price), for the admin.
    pub problems: Vec<String>,
}

/// `clients` are the connections' clients, to re-read a domain's expiry from the registrar
/// (GET DOMAIN) before warning or renewing: a renewal made elsewhere (the Reseller Web
/// Interface, a registry auto-renew) moves the date, and acting on a stale date would
/// warn wrongly or renew twice. H-Sphere never re-read it.
pub async fn expiry_round(
    app: &App,
    clients: &HashMap<String, std::sync::Arc<crate::opensrs::Client>>,
    now: DateTime<Utc>,
) -> Result<ExpiryRound, EngineError> {
    let mut round = ExpiryRound::default();
    let mut configs: HashMap<String, Option<RegistrarConfig>> = HashMap::new();
    for (name, connection) in app
        .models
        .domains_expiring_before(now + Duration::days(366))?
    {
        let config = match configs.get(&connection) {
            Some(c) => c.clone(),
            None => {
                let c = app.models.registrar(&connection)?;
                configs.insert(connection.clone(), c.clone());
                c
            }
        };
        let (Some(config), Ok(domain)) = (config, DomainName::parse(&name)) else {
            continue;
        };
        let mut synced = false;
        for _attempt in 0..4 {
            let state = load(&app.store, &domain).await.map_err(|e| {
                EngineError::App(crate::app::AppError::Unreadable {
                    position: Default::default(),
                    detail: e.to_string(),
                })
            })?;
            let (Some(expires), Some(holder)) = (state.expires_at, state.holder.clone()) else {
                break;
            };
            let mut commands = Vec::new();
            let warn_from = expires - Duration::days(i64::from(config.warn_days));
            if now >= warn_from && now < expires && !state.warned_for.contains(&expires) {
                commands.push(Command::RecordExpiryWarning {
                    expires_at: expires,
                });
            }
            let renew_from = expires - Duration::days(i64::from(config.renew_days));
            let wants_renewal = state.auto_renew
                && now >= renew_from
                && state.open_order().is_none()
                && !state.renewal_requested_for.contains(&expires);
            let due = !commands.is_empty() || wants_renewal;
            if due && !synced {
                synced = true;
                if let Some(client) =
                    clients.get(state.connection.as_deref().unwrap_or(&connection))
                {
                    let e = client
                        .call(&crate::opensrs::Command::GetDomain {
                            domain: domain.to_string(),
                        })
                        .await;
                    let reported = e.outcome.as_ref().ok().and_then(|r| {
                        r.attr("registry_expiredate")
                            .or(r.attr("expiredate"))
                            .and_then(super::steps::registry_date)
                    });
                    if let Some(t) = reported.filter(|t| *t != expires) {
                        let sync = Command::SyncExpiry {
                            expires_at: t,
                            source: "GET DOMAIN".into(),
                        };
                        match append_decisions(&app.store, &state, vec![sync], now).await {
                            Ok(_) | Err(StoreError::WrongExpectedVersion { .. }) => {
                                round.synced += 1;
                                continue;
                            }
                            Err(e) => return Err(EngineError::App(e.into())),
                        }
                    }
                }
            }
            let mut renewing = false;
            if wants_renewal {
                match app.models.price(domain.tld(), PriceKind::Renew, Some(1))? {
                    Some(price) => {
                        let order_id = OrderId(Uuid::now_v7());
                        commands.push(Command::Request {
                            order_id,
                            domain: domain.clone(),
                            account: holder.clone(),
                            kind: OrderKind::Renew,
                            period: Period::ONE_YEAR,
                            // An existing domain stays with the connection that holds it.
                            connection: state.connection.clone().unwrap_or(connection.clone()),
                            price,
                        });
                        commands.push(Command::RecordCharge { order_id });
                        renewing = true;
                    }
                    None => round.problems.push(format!(
                        "{domain} should renew automatically but .{} has no 1-year renew price",
                        domain.tld()
                    )),
                }
            }
            if commands.is_empty() {
                break;
            }
            let warned = usize::from(
                commands
                    .iter()
                    .any(|c| matches!(c, Command::RecordExpiryWarning { .. })),
            );
            match append_decisions(&app.store, &state, commands, now).await {
                Ok(Ok(_)) => {
                    round.warned += warned;
                    round.renewals += usize::from(renewing);
                    break;
                }
                Ok(Err(refused)) => {
                    tracing::debug!(%domain, %refused, "expiry round: nothing to do");
                    break;
                }
                Err(StoreError::WrongExpectedVersion { .. }) => continue,
                Err(e) => return Err(EngineError::App(e.into())),
            }
        }
    }
    for p in &round.problems {
        tracing::warn!("{p}");
    }
    Ok(round)
}
