//! The daily expiry round: one warning per domain and expiry date inside the connection's
//! warning window, and one renewal order per expiry date inside its renew window for
//! domains with auto-renew on. Expiry dates are the registrar's (from Confirmed,
//! BELONGS_TO_RSP, GET DOMAIN), never local arithmetic.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use domreg_events::expiry::expiry_due;
use domreg_events::settings::{PriceKind, RegistrarConfig};
use domreg_events::*;

use super::EngineError;
use crate::app::App;
use crate::unit_of_work::{load, UnitError, UnitOfWork, Written};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExpiryRound {
    /// Expiry dates corrected from the registrar's GET DOMAIN.
    pub synced: usize,
    pub warned: usize,
    pub renewals: usize,
    /// Renewals due that the account could not pay (not sent).
    pub unpaid: usize,
    /// Domains that should renew but cannot (no renew price), for the admin.
    pub problems: Vec<String>,
}

/// `clients` are the connections' clients, to re-read a domain's expiry from the registrar
/// (GET DOMAIN) before warning or renewing: a renewal made elsewhere (the Reseller Web
/// Interface, a registry auto-renew) moves the date, and acting on a stale date would
/// warn wrongly or renew twice. H-Sphere never re-read it.
pub async fn expiry_round(
    app: &mut App,
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
        let mut state = load(&app.store, &domain).await?;
        let Some(expires) = state.expires_at else {
            continue;
        };
        if !expiry_due(&state, &config, now).any() {
            continue;
        }
        let holder_connection = state.connection.clone().unwrap_or(connection.clone());
        if let Some(reported) = match clients.get(&holder_connection) {
            Some(client) => registry_expiry(client, &domain).await,
            None => None,
        }
        .filter(|t| *t != expires)
        {
            let sync = Command::SyncExpiry {
                expires_at: reported,
                source: "GET DOMAIN".into(),
            };
            let written = UnitOfWork::new(&app.store, Actor::Engine, now)
                .run(&domain, |_| vec![sync.clone()])
                .await;
            match written {
                Ok(w) => {
                    round.synced += usize::from(matches!(w, Written::Appended { .. }));
                    state = w.state().clone();
                }
                Err(UnitError::Refused { .. } | UnitError::Contended { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let due = expiry_due(&state, &config, now);
        let years = state.auto_renew_years.unwrap_or(config.renew_years);
        // The renewal's price, also at the warning: the holder is told ahead of time if
        // the account cannot pay it.
        let renews_later = due.warning.is_some() && state.auto_renew;
        let price = match due.renewal || renews_later {
            true => app
                .models
                .price(domain.tld(), PriceKind::Renew, Some(years.get()))?,
            false => None,
        };
        if due.renewal && price.is_none() {
            round.problems.push(format!(
                "{domain} should renew automatically for {} year(s) but .{} has no renew price for that term",
                years.get(),
                domain.tld()
            ));
        }
        let order_id = OrderId(Uuid::now_v7());
        let holder = state.holder.clone();
        // Paid or not: a renewal is only placed with its price held on the account (the
        // same turn-taking as a customer's order), and never sent unpaid.
        let mut unpaid = None;
        let mut held = false;
        if let (Some(price), Some(account)) = (price, &holder) {
            let paid = if due.renewal {
                super::funds::hold(app, account, order_id, &domain, price, &Actor::Engine, now)
                    .await
                    .map(|()| held = true)
            } else {
                super::funds::check(app, account, price, now).await
            };
            match paid {
                Ok(()) => {}
                Err(super::funds::FundsError::Short(s)) => unpaid = Some(s.missing),
                Err(e) => {
                    round.problems.push(format!(
                        "{domain}: the renewal's funds could not be checked: {e}"
                    ));
                    continue;
                }
            }
        }
        let plan = |s: &Domain| {
            let due = expiry_due(s, &config, now);
            let mut commands = Vec::new();
            if let Some(expires_at) = due.warning {
                commands.push(Command::RecordExpiryWarning {
                    expires_at,
                    renewal_unpaid: unpaid.filter(|_| s.auto_renew),
                });
            }
            if let (true, Some(price), Some(missing)) = (due.renewal, price, unpaid) {
                commands.push(Command::RecordRenewalUnpaid { price, missing });
                return commands;
            }
            if due.expired && !due.renewal {
                commands.push(Command::RecordExpiryPassed);
            }
            if let (true, Some(price), Some(holder)) = (due.renewal, price, s.holder.clone()) {
                commands.push(Command::Request {
                    order_id,
                    domain: domain.clone(),
                    account: holder,
                    kind: OrderKind::Renew,
                    period: years,
                    // An existing domain stays with the connection that holds it.
                    connection: s.connection.clone().unwrap_or(connection.clone()),
                    price,
                });
                commands.push(Command::RecordCharge { order_id });
            }
            commands
        };
        let written = UnitOfWork::new(&app.store, Actor::Engine, now)
            .from(state)
            .run(&domain, plan)
            .await;
        let placed = matches!(&written, Ok(w) if w.event_types().contains(&"Requested"));
        if let (true, false, Some(account)) = (held, placed, &holder) {
            super::funds::release(
                app,
                account,
                order_id,
                "the renewal was not placed",
                &Actor::Engine,
                now,
            )
            .await;
        }
        match written {
            Ok(w) => {
                let types = w.event_types();
                round.warned += types.iter().filter(|t| **t == "ExpiryWarned").count();
                round.renewals += types.iter().filter(|t| **t == "Requested").count();
                round.unpaid += types.iter().filter(|t| **t == "RenewalUnpaid").count();
            }
            Err(UnitError::Refused { error, .. }) => {
                tracing::debug!(%domain, %error, "expiry round: nothing to do");
            }
            Err(UnitError::Contended { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    for p in &round.problems {
        tracing::warn!("{p}");
    }
    Ok(round)
}

/// The expiry date the registry reports (GET DOMAIN), if it answers.
pub(crate) async fn registry_expiry(
    client: &crate::opensrs::Client,
    domain: &DomainName,
) -> Option<DateTime<Utc>> {
    let e = client
        .call(&crate::opensrs::Command::GetDomain {
            domain: domain.to_string(),
        })
        .await;
    let reply = e.outcome.ok()?;
    reply
        .attr("registry_expiredate")
        .or(reply.attr("expiredate"))
        .and_then(super::steps::registry_date)
}
