//! Settings an admin changes: OpenSRS connections, TLD routes, prices, async policies,
//! payments received and account contacts. Shared by the CLI and the HTTP API.

use serde::{Deserialize, Serialize};

use domreg_events::settings::*;
use domreg_events::{AccountId, Actor, ContactSet, Currency, EventMetadata, Money, Period};
use domreg_projections::{PolicyRow, PriceRow};

use super::AdminError;
use crate::app::App;
use crate::opensrs::client::{DEFAULT_PORT, LIVE_HOST, TEST_HOST};
use crate::opensrs::{Class, Command, Secret};
use crate::store::{EventStore, ExpectedVersion, NewEvent};

/// Fields of a connection; on update, only those given change.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrarFields {
    pub server: Option<String>,
    pub port: Option<u16>,
    /// Empty: the system's default address.
    pub source_ip: Option<String>,
    pub login: Option<String>,
    pub license_agreement: Option<String>,
    pub warn_days: Option<i64>,
    pub renew_days: Option<i64>,
    pub test_mode: Option<bool>,
    pub plain_http: Option<bool>,
    pub nameservers: Option<Vec<String>>,
    pub auto_renew_default: Option<bool>,
    /// The reseller's private key: required to add, optional to update; write-only.
    pub key: Option<Secret>,
}

/// A connection as shown to admins: the key only ever redacted.
#[derive(Debug, Clone, Serialize)]
pub struct RegistrarView {
    #[serde(flatten)]
    pub config: RegistrarConfig,
    pub key: String,
    pub tlds: Vec<String>,
    pub production: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn apply(config: &mut RegistrarConfig, f: &RegistrarFields) -> Result<(), AdminError> {
    if let Some(t) = f.test_mode {
        // Test mode decides the host: switching it moves a connection between OpenSRS's
        // live and test systems (a non-OpenSRS host, such as the sandbox, stays).
        if t != config.test_mode && f.server.is_none() {
            match (t, config.server.as_str()) {
                (true, LIVE_HOST) => config.server = TEST_HOST.into(),
                (false, TEST_HOST) => config.server = LIVE_HOST.into(),
                _ => {}
            }
        }
        config.test_mode = t;
    }
    if let Some(s) = &f.server {
        config.server = s.trim().to_string();
    }
    if let Some(p) = f.port {
        config.port = p;
    }
    if let Some(ip) = &f.source_ip {
        config.source_ip = (!ip.trim().is_empty()).then(|| ip.trim().to_string());
    }
    if let Some(l) = &f.login {
        config.login = l.trim().to_string();
    }
    if let Some(text) = &f.license_agreement {
        config.license_agreement = text.clone();
    }
    if let Some(d) = f.warn_days {
        config.warn_days = validate_days("warn-days", d)?;
    }
    if let Some(d) = f.renew_days {
        config.renew_days = validate_days("renew-days", d)?;
    }
    if let Some(p) = f.plain_http {
        config.plain_http = p;
    }
    if let Some(ns) = f.nameservers.as_ref().filter(|ns| !ns.is_empty()) {
        config.nameservers = ns.iter().map(|n| n.trim().to_ascii_lowercase()).collect();
    }
    if let Some(a) = f.auto_renew_default {
        config.auto_renew_default = a;
    }
    Ok(())
}

fn tlds_of(app: &App, title: &str) -> Result<Vec<String>, AdminError> {
    Ok(app
        .models
        .routes()?
        .into_iter()
        .filter(|(_, r)| r == title)
        .map(|(t, _)| t)
        .collect())
}

fn view(
    app: &App,
    config: RegistrarConfig,
    warnings: Vec<Warning>,
) -> Result<RegistrarView, AdminError> {
    let key = app
        .secrets
        .get(&config.title)
        .map(|k| k.redacted())
        .unwrap_or_else(|e| format!("MISSING: {e}"));
    Ok(RegistrarView {
        tlds: tlds_of(app, &config.title)?,
        production: config.is_production(),
        key,
        config,
        warnings: warnings.into_iter().map(|w| w.0).collect(),
    })
}

/// Appends one settings event to a stream whose order needs no check (routes, prices,
/// policies, payments, contacts: each event stands on its own).
async fn record(
    app: &mut App,
    stream: &str,
    event: SettingsEvent,
    actor: Actor,
) -> Result<(), AdminError> {
    app.append_settings(
        stream,
        ExpectedVersion::Any,
        &[event],
        actor,
        app.clock.now(),
    )
    .await?;
    Ok(())
}

async fn stream_version(
    store: &impl EventStore,
    stream: &str,
) -> Result<ExpectedVersion, AdminError> {
    let len = store.read_stream(stream, 0, usize::MAX).await?.len() as u64;
    Ok(ExpectedVersion::after(len))
}

pub fn registrars(app: &App) -> Result<Vec<RegistrarView>, AdminError> {
    app.models
        .registrars()?
        .into_iter()
        .map(|c| view(app, c, vec![]))
        .collect()
}

pub fn registrar(app: &App, title: &str) -> Result<RegistrarView, AdminError> {
    let c = app
        .models
        .registrar(title)?
        .ok_or_else(|| SettingsError::UnknownRegistrar(title.to_string()))?;
    view(app, c, vec![])
}

fn non_empty_key(key: Secret) -> Result<Secret, AdminError> {
    if key.expose().trim().is_empty() {
        return Err(SettingsError::EmptyKey.into());
    }
    Ok(Secret::new(key.expose().trim().to_string()))
}

pub async fn add_registrar(
    app: &mut App,
    title: &str,
    fields: &RegistrarFields,
    actor: Actor,
) -> Result<RegistrarView, AdminError> {
    app.catch_up().await?;
    validate_title(title)?;
    let key = fields.key.clone().ok_or(SettingsError::EmptyKey)?;
    if app.models.registrar(title)?.is_some() {
        return Err(SettingsError::RegistrarExists(title.to_string()).into());
    }
    let key = non_empty_key(key)?;
    let test_mode = fields.test_mode.unwrap_or(false);
    let mut config = RegistrarConfig {
        title: title.to_string(),
        server: if test_mode { TEST_HOST } else { LIVE_HOST }.to_string(),
        port: DEFAULT_PORT,
        source_ip: None,
        login: String::new(),
        license_agreement: String::new(),
        warn_days: 30,
        renew_days: 14,
        test_mode,
        plain_http: false,
        nameservers: Vec::new(),
        auto_renew_default: true,
    };
    apply(&mut config, fields)?;
    let warnings = config.validate()?;
    // The key goes to the secret store first: a connection in the log is never left
    // without its key.
    app.secrets.put(title, &key)?;
    let stream = registrar_stream(title);
    let expected = stream_version(&app.store, &stream).await?;
    let event = RegistrarAdded {
        config: config.clone(),
    };
    app.append_settings(&stream, expected, &[event.into()], actor, app.clock.now())
        .await?;
    view(app, config, warnings)
}

pub async fn update_registrar(
    app: &mut App,
    title: &str,
    fields: &RegistrarFields,
    actor: Actor,
) -> Result<RegistrarView, AdminError> {
    let key = fields.key.clone();
    app.catch_up().await?;
    let mut config = app
        .models
        .registrar(title)?
        .ok_or_else(|| SettingsError::UnknownRegistrar(title.to_string()))?;
    apply(&mut config, fields)?;
    // A change that is fine alone but not with the connection's other settings (plain
    // HTTP to a host that is not loopback, a known OpenSRS host against test mode)
    // conflicts with the current state.
    let warnings = config.validate().map_err(|e| match e {
        SettingsError::PlainHttp(_) | SettingsError::TestModeContradiction { .. } => {
            AdminError::Conflict(e.to_string())
        }
        other => other.into(),
    })?;
    let key = key.map(non_empty_key).transpose()?;
    let stream = registrar_stream(title);
    let expected = stream_version(&app.store, &stream).await?;
    let mut events: Vec<SettingsEvent> = vec![RegistrarUpdated {
        config: config.clone(),
    }
    .into()];
    if let Some(key) = &key {
        app.secrets.put(title, key)?;
        events.push(
            RegistrarKeyReplaced {
                title: title.to_string(),
            }
            .into(),
        );
    }
    app.append_settings(&stream, expected, &events, actor, app.clock.now())
        .await?;
    view(app, config, warnings)
}

/// Removes a connection no TLD and no pending order uses, with its stored key.
pub async fn remove_registrar(app: &mut App, title: &str, actor: Actor) -> Result<(), AdminError> {
    app.catch_up().await?;
    app.models
        .registrar(title)?
        .ok_or_else(|| SettingsError::UnknownRegistrar(title.to_string()))?;
    let tlds = tlds_of(app, title)?;
    if !tlds.is_empty() {
        return Err(AdminError::Conflict(format!(
            "{title} still serves {}; assign those TLDs to another connection first (`domreg tld assign TLD --registrar OTHER`)",
            tlds.join(", ")
        )));
    }
    // Removing the connection that holds domains would silently stop their warnings
    // and renewals (each domain stays with the reseller account that holds it).
    let (domains, orders) = app.models.connection_usage(title)?;
    if domains > 0 || orders > 0 {
        return Err(AdminError::Conflict(format!(
            "{title} still holds {domains} domains and {orders} open orders; their warnings, renewals and polls go through it, so it stays. To change its login, key or host, use `domreg registrar update {title:?}` instead"
        )));
    }
    let stream = registrar_stream(title);
    let expected = stream_version(&app.store, &stream).await?;
    let event = RegistrarRemoved {
        title: title.to_string(),
    };
    app.append_settings(&stream, expected, &[event.into()], actor, app.clock.now())
        .await?;
    app.secrets.remove(title);
    Ok(())
}

/// The result of GET_BALANCE through a connection.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionTest {
    pub title: String,
    pub ok: bool,
    pub message: String,
    pub code: Option<u16>,
}

/// Calls GET_BALANCE to check the login, key and IP allow-list, and explains a failure.
pub async fn test_registrar(app: &mut App, title: &str) -> Result<ConnectionTest, AdminError> {
    let c = app
        .models
        .registrar(title)?
        .ok_or_else(|| SettingsError::UnknownRegistrar(title.to_string()))?;
    let client = crate::engine::client_for(app, &c.title).map_err(AdminError::Registrar)?;
    let exchange = client.call(&Command::GetBalance).await;
    let cl = &exchange.classification;
    let (ok, message) = match (cl.class, cl.code) {
        (Class::Done, _) => {
            let balance = exchange.outcome.as_ref().ok().and_then(|r| r.attr("balance")).unwrap_or("?").to_string();
            (true, format!("OK: {title} reached {}:{} as {}; reseller balance {balance}", c.server, c.port, c.login))
        }
        (_, Some(401 | 410)) => (false, format!(
            "authentication failed: OpenSRS did not accept login {:?} with the stored key. Check both in the Reseller Web Interface and run `domreg registrar update {title} --login ... --key-file ...`",
            c.login
        )),
        (_, Some(400)) if cl.configuration_error => (false, format!(
            "OpenSRS refused this machine's IP address{}. Add it in the Reseller Web Interface under Profile Management > Add IPs for Script/API Access",
            c.source_ip.as_deref().map(|ip| format!(" ({ip})")).unwrap_or_default()
        )),
        (_, Some(code)) => (false, format!("OpenSRS answered {code}: {}", cl.text)),
        (_, None) => (false, format!("no answer from {}:{}: {}", c.server, c.port, cl.text)),
    };
    Ok(ConnectionTest {
        title: title.to_string(),
        ok,
        message,
        code: cl.code,
    })
}

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
