//! Taking an order: price and connection from the settings, contacts checked, then
//! Requested (+ details) + Charged appended to the domain's stream in one append.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use domreg_events::settings::PriceKind;
use domreg_events::*;

use crate::app::{App, AppError};
use crate::opensrs::Secret;
use crate::unit_of_work::{load, UnitError, UnitOfWork, Written};

/// What a customer (or an admin for them) asks for.
#[derive(Debug, Clone)]
pub struct OrderRequest {
    pub domain: String,
    pub account: String,
    pub kind: OrderKind,
    pub years: i64,
    /// The order's own contacts; otherwise the account's stored ones.
    pub contacts: Option<ContactSet>,
    /// Otherwise the connection's defaults.
    pub nameservers: Vec<String>,
    /// EPP code for a transfer (kept as a secret until submission).
    pub auth_code: Option<Secret>,
    /// The order's id, when the client chose it (directly, or through an idempotency
    /// key): placing the same order again then answers with the first one and writes
    /// nothing. Otherwise a new id.
    pub order_id: Option<OrderId>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PlacedOrder {
    pub order_id: OrderId,
    pub domain: String,
    pub account: String,
    pub kind: OrderKind,
    pub period: Period,
    pub price: Money,
    pub connection: String,
    /// The order existed already (a retried request): nothing was written or charged.
    #[serde(skip)]
    pub repeated: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error(transparent)]
    Name(#[from] DomainNameError),
    #[error(transparent)]
    Id(#[from] IdError),
    #[error(".{0} cannot be ordered: no OpenSRS connection is assigned to it (`domreg tld assign {0} --registrar TITLE`)")]
    NoConnection(String),
    #[error(".{tld} cannot be ordered: no {kind} price{years} is set (`domreg price set {tld} --kind {kind} ...`)")]
    NoPrice {
        tld: String,
        kind: &'static str,
        years: String,
    },
    #[error("no contacts for account {0}: give --contacts FILE or store them with `domreg account contacts {0} --file FILE`")]
    NoContacts(String),
    #[error(transparent)]
    Refused(#[from] DomainError),
    /// A renewal past the registry's grace period, with what a restore costs.
    #[error("{refusal}; {restore}")]
    RestoreNeeded {
        refusal: DomainError,
        restore: String,
    },
    #[error(transparent)]
    App(#[from] AppError),
    #[error("order {order} already exists for {existing}; an order id (or idempotency key) names one order: use a new key for a different order")]
    IdReused { order: OrderId, existing: String },
    #[error(transparent)]
    Write(#[from] UnitError),
    #[error("cannot keep the transfer code: {0}")]
    Secret(#[from] crate::secrets::SecretError),
    #[error(transparent)]
    Funds(#[from] super::funds::FundsError),
    #[error("placing order {0} took too long between holding its price and charging it; nothing was charged, try again")]
    HoldLapsed(OrderId),
}

/// Places an order for `actor` at `now`: decides and appends Requested, the order's
/// details (registrations and transfers) and Charged together, or nothing.
pub async fn place_order(
    app: &mut App,
    req: OrderRequest,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<PlacedOrder, OrderError> {
    place_accepted_order(app, req, None, actor, now).await
}

/// The customer's acceptance of the connection's agreement, recorded with the order.
#[derive(Debug, Clone)]
pub struct Acceptance {
    /// The version (hex SHA-256 of the text) the customer was shown.
    pub version: String,
    pub from: Option<String>,
}

/// [`place_order`], with the agreement the customer accepted written in the same append.
pub async fn place_accepted_order(
    app: &mut App,
    req: OrderRequest,
    acceptance: Option<Acceptance>,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<PlacedOrder, OrderError> {
    app.catch_up().await?;
    let domain = DomainName::parse(&req.domain)?;
    let account = AccountId::parse(&req.account)?;
    if let Some(id) = req.order_id {
        if let Some(other) = app
            .models
            .order_domain(&id.to_string())
            .map_err(AppError::from)?
        {
            if other != domain.as_str() {
                return Err(OrderError::IdReused {
                    order: id,
                    existing: other,
                });
            }
        }
    }
    // A transfer runs one year: the decider refuses any other period, by name.
    let period = Period::years(req.years)?;
    let tld = domain.tld().to_string();
    // A renewal (like every later change to a domain) goes through the connection that
    // holds the domain; the TLD's route is for new registrations and transfers only.
    let holder = match req.kind {
        OrderKind::Renew => load(&app.store, &domain).await?.connection,
        _ => None,
    };
    let connection = match holder {
        Some(c) => c,
        None => app
            .models
            .route(&tld)
            .map_err(AppError::from)?
            .ok_or_else(|| OrderError::NoConnection(tld.clone()))?,
    };
    let kind = PriceKind::of(req.kind);
    let price = app
        .models
        .price(&tld, kind, Some(period.get()))
        .map_err(AppError::from)?
        .ok_or_else(|| OrderError::NoPrice {
            tld: tld.clone(),
            kind: kind.as_str(),
            years: if kind.priced_once() {
                String::new()
            } else {
                format!(" for {period}")
            },
        })?;
    let details = if req.kind == OrderKind::Renew {
        None
    } else {
        let contacts = match req.contacts {
            Some(c) => c,
            None => app
                .models
                .account_contacts(account.as_str())
                .map_err(AppError::from)?
                .ok_or_else(|| OrderError::NoContacts(account.to_string()))?,
        };
        let nameservers = if req.nameservers.is_empty() {
            app.models
                .registrar(&connection)
                .map_err(AppError::from)?
                .map(|c| c.nameservers)
                .unwrap_or_default()
        } else {
            req.nameservers
                .iter()
                .map(|n| n.trim().to_ascii_lowercase())
                .collect()
        };
        Some((contacts, nameservers))
    };

    let auth_code = req.auth_code.filter(|c| !c.expose().trim().is_empty());
    let order_id = req.order_id.unwrap_or_else(|| OrderId(Uuid::now_v7()));
    if let Some(code) = &auth_code {
        app.secrets
            .put_auth_code(order_id, &Secret::new(code.expose().trim()))?;
    }
    // The price is held on the account's stream first, so that concurrent orders of one
    // account cannot together spend past its credit limit (see `funds`). An order placed
    // before (a retry, only possible with a chosen id) holds nothing new.
    let known = match req.order_id {
        Some(id) => load(&app.store, &domain).await?.orders.contains_key(&id),
        None => false,
    };
    if !known {
        // Real time, not the logical `now`: what matters is how long this process took.
        let started = std::time::Instant::now();
        if let Err(e) =
            super::funds::hold(app, &account, order_id, &domain, price, &actor, now).await
        {
            if auth_code.is_some() {
                app.secrets.forget_auth_code(order_id);
            }
            return Err(e.into());
        }
        if started.elapsed()
            > domreg_events::funds::HOLD_USABLE
                .to_std()
                .unwrap_or_default()
        {
            super::funds::release(
                app,
                &account,
                order_id,
                "the placement took too long",
                &actor,
                now,
            )
            .await;
            return Err(OrderError::HoldLapsed(order_id));
        }
    }
    // Another order for the same domain may be appended between our read and our append
    // (two customers, one name): the unit of work decides again on the new state, which
    // refuses with the reason (an open order, already registered), not a conflict.
    let written = UnitOfWork::new(&app.store, actor.clone(), now)
        .run(&domain, |state| {
            if state.orders.contains_key(&order_id) {
                return vec![]; // placed before: answered below, nothing written
            }
            let mut commands = order_commands(
                &domain,
                &account,
                req.kind,
                period,
                &connection,
                price,
                &details,
                order_id,
            );
            if let Some(a) = &acceptance {
                commands.insert(
                    1,
                    Command::RecordAcceptance {
                        order_id,
                        version: a.version.clone(),
                        from: a.from.clone(),
                    },
                );
            }
            commands
        })
        .await;
    let state = match written {
        Ok(Written::Appended { .. }) => None,
        Ok(Written::Unchanged { state }) => Some(state),
        Err(e) => {
            if auth_code.is_some() {
                app.secrets.forget_auth_code(order_id);
            }
            if !known {
                let reason = format!("the order was refused: {e}");
                super::funds::release(app, &account, order_id, &reason, &actor, now).await;
            }
            return Err(match e {
                UnitError::Refused {
                    error: error @ DomainError::RestoreNeeded { .. },
                    ..
                } => restore_needed(app, &tld, error),
                UnitError::Refused { error, .. } => OrderError::Refused(error),
                other => OrderError::Write(other),
            });
        }
    };
    if let Some(existing) = state.as_ref().and_then(|s| s.orders.get(&order_id)) {
        return repeat_of(&domain, existing, &account, req.kind, period);
    }
    app.refresh_after_append().await;
    Ok(PlacedOrder {
        order_id,
        domain: domain.to_string(),
        account: account.to_string(),
        kind: req.kind,
        period,
        price,
        connection,
        repeated: false,
    })
}

/// A renewal refused past the grace period, told with the restore price if one is set.
fn restore_needed(app: &App, tld: &str, refusal: DomainError) -> OrderError {
    let restore = match app.models.price(tld, PriceKind::Restore, None) {
        Ok(Some(p)) => format!("the admin restores it at OpenSRS; the .{tld} restore price is {p}"),
        _ => format!(
            "the admin restores it at OpenSRS; no .{tld} restore price is set (`domreg price set {tld} --kind restore AMOUNT`)"
        ),
    };
    OrderError::RestoreNeeded { refusal, restore }
}

/// The answer to an order placed again: the first order, if it is the same request.
fn repeat_of(
    domain: &DomainName,
    existing: &Order,
    account: &AccountId,
    kind: OrderKind,
    period: Period,
) -> Result<PlacedOrder, OrderError> {
    if existing.account != *account || existing.kind != kind || existing.period != period {
        return Err(OrderError::IdReused {
            order: existing.id,
            existing: format!(
                "a {} of {domain} for {} ({}), not this {kind} for {account} ({period})",
                existing.kind, existing.account, existing.period
            ),
        });
    }
    Ok(PlacedOrder {
        order_id: existing.id,
        domain: domain.to_string(),
        account: existing.account.to_string(),
        kind: existing.kind,
        period: existing.period,
        price: existing.price,
        connection: existing.connection.clone(),
        repeated: true,
    })
}

/// Requested (+ details) + Charged: a new order, all or nothing.
#[allow(clippy::too_many_arguments)]
fn order_commands(
    domain: &DomainName,
    account: &AccountId,
    kind: OrderKind,
    period: Period,
    connection: &str,
    price: Money,
    details: &Option<(ContactSet, Vec<String>)>,
    order_id: OrderId,
) -> Vec<Command> {
    let mut commands = vec![Command::Request {
        order_id,
        domain: domain.clone(),
        account: account.clone(),
        kind,
        period,
        connection: connection.to_string(),
        price,
    }];
    if let Some((contacts, nameservers)) = details {
        commands.push(Command::RecordDetails {
            order_id,
            contacts: Box::new(contacts.clone()),
            nameservers: nameservers.clone(),
        });
    }
    commands.push(Command::RecordCharge { order_id });
    commands
}
