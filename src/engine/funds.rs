//! Holding an order's price on its account's stream before the charge (the decision is
//! `domreg_events::funds`): concurrent orders of one account take turns through the
//! stream's expected version, so together they cannot spend past the credit limit.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use domreg_events::funds::{self, AccountFunds, Shortfall};
use domreg_events::settings::{account_stream, FundsReleased, SettingsEvent};
use domreg_events::{AccountId, Actor, DomainName, EventMetadata, Money, OrderId};

use crate::app::{App, AppError};
use crate::store::{EventStore, ExpectedVersion, NewEvent, StoreError};

/// Turns taken before giving up on a hold: each lost turn means another order of the
/// same account got its hold in first, so this bounds a burst, not a wait.
const TURNS: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum FundsError {
    #[error("{0}; nothing was charged")]
    Short(Shortfall),
    #[error(
        "too many orders of account {0} are being placed at once; nothing was charged, try again"
    )]
    Busy(AccountId),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<StoreError> for FundsError {
    fn from(e: StoreError) -> Self {
        FundsError::App(e.into())
    }
}

/// What an account has, may owe and holds, in the currency of `like`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Standing {
    pub balance: Money,
    pub held: Money,
    pub credit_limit: Money,
    /// What it can spend now: balance less holds plus the limit.
    pub available: Money,
}

async fn read_funds(app: &mut App, account: &AccountId) -> Result<AccountFunds, FundsError> {
    let mut f = AccountFunds::default();
    for e in app
        .store
        .read_stream(&account_stream(account), 0, usize::MAX)
        .await?
    {
        match SettingsEvent::decode(&e.event_type, e.schema_version, &e.data) {
            Ok(event) => f.evolve(&event),
            // Still counted: the version is the stream's, whatever the event.
            Err(_) => f.events += 1,
        }
    }
    Ok(f)
}

/// The balance in the currency of `like` and what the account's open holds keep back,
/// as of one moment of the ledger: a hold stops counting exactly when its charge is in
/// the balance.
fn balance_and_held(
    app: &App,
    account: &AccountId,
    f: &AccountFunds,
    like: Money,
    now: DateTime<Utc>,
) -> Result<(Money, i64), FundsError> {
    let open: Vec<String> = f
        .open_holds(like.currency, now)
        .map(|h| h.order_id.to_string())
        .collect();
    let (balance, charged) = app
        .models
        .balance_and_charged(
            account.as_str(),
            like.currency,
            open.iter().map(String::as_str),
        )
        .map_err(AppError::from)?;
    let held = f.held(like.currency, now, |order| {
        charged.contains(&order.to_string())
    });
    Ok((balance, held))
}

fn limit_of(app: &App, account: &AccountId, like: Money) -> Result<Money, FundsError> {
    let limits = app
        .models
        .credit_limits(account.as_str())
        .map_err(AppError::from)?;
    Ok(funds::credit_limit(&limits, account, like.currency))
}

/// Where an account stands in the currency of `like` (the customer's page, a warning).
pub async fn standing(
    app: &mut App,
    account: &AccountId,
    like: Money,
    now: DateTime<Utc>,
) -> Result<Standing, FundsError> {
    let f = read_funds(app, account).await?;
    let (balance, held) = balance_and_held(app, account, &f, like, now)?;
    let credit_limit = limit_of(app, account, like)?;
    let available = balance.minor - held + credit_limit.minor;
    Ok(Standing {
        balance,
        held: Money::new(held, like.currency),
        credit_limit,
        available: Money::new(available, like.currency),
    })
}

/// Whether the account could pay `price` now, without holding anything.
pub async fn check(
    app: &mut App,
    account: &AccountId,
    price: Money,
    now: DateTime<Utc>,
) -> Result<(), FundsError> {
    let s = standing(app, account, price, now).await?;
    funds::afford(account, s.balance, s.held.minor, s.credit_limit, price)
        .map_err(FundsError::Short)
}

/// Holds `price` for `order_id` on the account's stream, or refuses with what is missing.
/// A hold the order already has (a retried placement) is kept, not taken twice.
pub async fn hold(
    app: &mut App,
    account: &AccountId,
    order_id: OrderId,
    domain: &DomainName,
    price: Money,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), FundsError> {
    let stream = account_stream(account);
    let credit_limit = limit_of(app, account, price)?;
    for turn in 0..TURNS {
        let f = read_funds(app, account).await?;
        if f.holds.contains_key(&order_id) && !f.released.contains(&order_id) {
            return Ok(());
        }
        let (balance, held) = balance_and_held(app, account, &f, price, now)?;
        funds::afford(account, balance, held, credit_limit, price).map_err(FundsError::Short)?;
        let event: SettingsEvent = funds::hold(account, order_id, domain, price, now).into();
        let new = NewEvent {
            id: funds::hold_event_id(order_id),
            event_type: event.event_type().to_string(),
            schema_version: event.schema_version(),
            data: event.encode(),
            metadata: EventMetadata::new(actor.clone(), Uuid::now_v7(), now),
        };
        match app
            .store
            .append(&stream, ExpectedVersion::after(f.events), vec![new])
            .await
        {
            Ok(_) => return Ok(()),
            Err(StoreError::WrongExpectedVersion { .. }) => {
                // Another order of this account held first: decide again on its hold.
                if turn > 8 {
                    tokio::time::sleep(std::time::Duration::from_micros(
                        200 + rand::random::<u64>() % 2_000,
                    ))
                    .await;
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(FundsError::Busy(account.clone()))
}

/// Gives a hold back: its order was refused before anything was charged. Best effort:
/// a hold not released lapses on its own (`funds::HOLD_LIFETIME`).
pub async fn release(
    app: &mut App,
    account: &AccountId,
    order_id: OrderId,
    reason: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) {
    let event: SettingsEvent = FundsReleased {
        account: account.clone(),
        order_id,
        reason: reason.chars().take(300).collect(),
    }
    .into();
    let new = NewEvent {
        id: Uuid::now_v7(),
        event_type: event.event_type().to_string(),
        schema_version: event.schema_version(),
        data: event.encode(),
        metadata: EventMetadata::new(actor.clone(), Uuid::now_v7(), now),
    };
    if let Err(e) = app
        .store
        .append(&account_stream(account), ExpectedVersion::Any, vec![new])
        .await
    {
        tracing::warn!(%account, %order_id, error = %e, "could not release a hold; it lapses on its own");
    }
}
