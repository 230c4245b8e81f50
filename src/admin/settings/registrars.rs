//! OpenSRS connections: add, change, remove, test.

use serde::{Deserialize, Serialize};

use domreg_events::settings::*;
use domreg_events::Actor;

use super::super::AdminError;
use super::stream_version;
use crate::app::App;
use crate::opensrs::client::{DEFAULT_PORT, LIVE_HOST, TEST_HOST};
use crate::opensrs::{Class, Command, Secret};

/// Fields of a connection; on update, only those given change.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrarFields {
    pub server: Option<String>,
    #[serde(deserialize_with = "crate::admin::lenient::opt_int", default)]
    pub port: Option<u16>,
    /// Empty: the system's default address.
    pub source_ip: Option<String>,
    pub login: Option<String>,
    pub license_agreement: Option<String>,
    #[serde(deserialize_with = "crate::admin::lenient::opt_int", default)]
    pub warn_days: Option<i64>,
    #[serde(deserialize_with = "crate::admin::lenient::opt_int", default)]
    pub renew_days: Option<i64>,
    pub test_mode: Option<bool>,
    pub plain_http: Option<bool>,
    pub nameservers: Option<Vec<String>>,
    pub auto_renew_default: Option<bool>,
    /// New registrations are locked at the registry (where the TLD has a lock).
    pub lock_new_registrations: Option<bool>,
    /// Years each automatic renewal orders (1 to 10).
    #[serde(deserialize_with = "crate::admin::lenient::opt_int", default)]
    pub renew_years: Option<i64>,
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
    if let Some(l) = f.lock_new_registrations {
        config.lock_new_registrations = l;
    }
    if let Some(y) = f.renew_years {
        config.renew_years = domreg_events::Period::years(y).map_err(|_| {
            AdminError::invalid(
                "invalid_renew_years",
                format!("renew years {y}: an automatic renewal orders 1 to 10 years"),
            )
        })?;
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
        warn_days: domreg_events::expiry::DEFAULT_WARN_DAYS,
        renew_days: domreg_events::expiry::DEFAULT_RENEW_DAYS,
        test_mode,
        plain_http: false,
        nameservers: Vec::new(),
        auto_renew_default: true,
        lock_new_registrations: true,
        renew_years: domreg_events::Period::ONE_YEAR,
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
