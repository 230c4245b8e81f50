//! Accounts: payments received (credits) and stored contacts.

use serde::Serialize;

use domreg_events::settings::*;
use domreg_events::{AccountId, Actor, ContactSet, Currency, EventMetadata, Money};

use super::super::AdminError;
use super::record;
use crate::app::App;
use crate::store::{EventStore, ExpectedVersion, NewEvent};

#[derive(Debug, Clone, Serialize)]
pub struct Credit {
    pub account: AccountId,
    pub amount: Money,
    pub balance: Money,
    /// The key had credited this already: nothing was written.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub repeated: bool,
}

/// Records a payment received from an account. With an idempotency key, the credit's
/// event id is derived from it, so a retry finds the first credit and writes nothing.
pub async fn credit(
    app: &mut App,
    account: &str,
    amount: &str,
    currency: &str,
    note: &str,
    idempotency_key: Option<&str>,
    actor: Actor,
) -> Result<Credit, AdminError> {
    app.catch_up().await?;
    let account = AccountId::parse(account)?;
    let event_id = idempotency_key
        .map(|key| domreg_events::ids::idempotent_uuid("credit", &account, key))
        .transpose()?;
    let amount = Money::parse(amount, Currency::parse(currency)?)?;
    if !amount.is_positive() {
        return Err(AdminError::invalid(
            "invalid_amount",
            format!("a credit must be more than zero, not {amount}"),
        ));
    }
    if note.chars().count() > 1_000 || note.chars().any(char::is_control) {
        return Err(AdminError::invalid(
            "invalid_note",
            "the note must be at most 1000 characters without control characters",
        ));
    }
    // Headroom before the append: a balance must stay within the bound every amount
    // keeps, so no later fold of this account can overflow.
    let current = app
        .models
        .balances()?
        .into_iter()
        .find(|b| b.account == account.as_str() && b.balance.currency == amount.currency)
        .map_or(0, |b| b.balance.minor);
    if current
        .checked_add(amount.minor)
        .is_none_or(|after| after > Money::MAX_MINOR)
    {
        return Err(AdminError::Conflict(
            format!(
                "a credit of {amount} would take the balance of {account} over {}, the most domreg keeps; nothing was credited",
                Money::limit(amount.currency)
            ),
        ));
    }
    let stream = account_stream(&account);
    if let Some(id) = event_id {
        if let Some(first) = earlier_credit(&app.store, &stream, id).await? {
            if first.amount != amount {
                return Err(AdminError::Conflict(format!(
                    "this idempotency key already credited {} to {account}, not {amount}; use a new key for another payment",
                    first.amount
                )));
            }
            return Ok(Credit {
                balance: balance_of(app, &account, amount)?,
                account,
                amount,
                repeated: true,
            });
        }
    }
    let event = AccountCredited {
        account: account.clone(),
        amount,
        note: note.to_string(),
    };
    match event_id {
        None => record(app, &stream, event.into(), actor).await?,
        Some(id) => {
            let e: SettingsEvent = event.into();
            let new = NewEvent {
                id,
                event_type: e.event_type().to_string(),
                schema_version: e.schema_version(),
                data: e.encode(),
                metadata: EventMetadata::new(actor, uuid::Uuid::now_v7(), app.clock.now()),
            };
            // The same id from a concurrent retry is stored once (the log's idempotency).
            app.store
                .append(&stream, ExpectedVersion::Any, vec![new])
                .await?;
            app.refresh_after_append().await;
        }
    }
    Ok(Credit {
        balance: balance_of(app, &account, amount)?,
        account,
        amount,
        repeated: false,
    })
}

/// Stores the contacts an account's orders use unless an order gives its own.
pub async fn store_contacts(
    app: &mut App,
    account: &str,
    contacts: ContactSet,
    actor: Actor,
) -> Result<AccountId, AdminError> {
    let account = AccountId::parse(account)?;
    contacts.validate()?;
    let event = AccountContactsSet {
        account: account.clone(),
        contacts: Box::new(contacts),
    };
    record(app, &account_stream(&account), event.into(), actor).await?;
    Ok(account)
}

fn balance_of(app: &App, account: &AccountId, like: Money) -> Result<Money, AdminError> {
    Ok(app
        .models
        .balances()?
        .into_iter()
        .find(|b| b.account == account.as_str() && b.balance.currency == like.currency)
        .map(|b| b.balance)
        .unwrap_or(Money::zero(like.currency)))
}

/// The credit stored under `id` in an account's stream, if any.
async fn earlier_credit(
    store: &impl EventStore,
    stream: &str,
    id: uuid::Uuid,
) -> Result<Option<AccountCredited>, AdminError> {
    let events = store.read_stream(stream, 0, usize::MAX).await?;
    Ok(events
        .iter()
        .find(|e| e.id == id)
        .and_then(|e| SettingsEvent::decode(&e.event_type, e.schema_version, &e.data).ok())
        .and_then(|e| match e {
            SettingsEvent::AccountCredited(c) => Some(c),
            _ => None,
        }))
}

/// What an account has and may spend, in one currency.
#[derive(Debug, Clone, Serialize)]
pub struct AccountStanding {
    pub account: AccountId,
    #[serde(flatten)]
    pub standing: crate::engine::funds::Standing,
}

/// Sets the most an account may owe (`account: None`: the default of every account
/// without its own). Zero means no debt: orders need the balance to cover them.
pub async fn set_credit_limit(
    app: &mut App,
    account: Option<&str>,
    amount: &str,
    currency: &str,
    actor: Actor,
) -> Result<CreditLimit, AdminError> {
    let account = account.map(AccountId::parse).transpose()?;
    let limit = Money::parse(amount, Currency::parse(currency)?)?;
    if limit.minor < 0 {
        return Err(AdminError::invalid(
            "invalid_amount",
            format!("a credit limit is what the account may owe: zero or more, not {limit}"),
        ));
    }
    let stream = match &account {
        Some(a) => account_stream(a),
        None => ACCOUNTS_STREAM.to_string(),
    };
    let event = CreditLimitSet {
        account: account.clone(),
        limit,
    };
    record(app, &stream, event.into(), actor).await?;
    let standing = match &account {
        Some(a) => Some(standing(app, a.as_str(), limit.currency.code()).await?),
        None => None,
    };
    Ok(CreditLimit {
        account,
        limit,
        standing,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct CreditLimit {
    /// `null`: the default of every account without its own.
    pub account: Option<AccountId>,
    pub limit: Money,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standing: Option<AccountStanding>,
}

/// An account's balance, holds, credit limit and what it can spend now.
pub async fn standing(
    app: &mut App,
    account: &str,
    currency: &str,
) -> Result<AccountStanding, AdminError> {
    app.catch_up().await?;
    let account = AccountId::parse(account)?;
    let like = Money::zero(Currency::parse(currency)?);
    let now = app.clock.now();
    let standing = crate::engine::funds::standing(app, &account, like, now).await?;
    Ok(AccountStanding { account, standing })
}
