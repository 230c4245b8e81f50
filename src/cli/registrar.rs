//! `domreg registrar add|update|list|show|remove|test`: OpenSRS connections.

use std::path::PathBuf;

use chrono::Utc;
use clap::{Args, Subcommand};

use domreg_events::settings::*;

use crate::app::{cli_actor, App};
use crate::opensrs::client::{DEFAULT_PORT, LIVE_HOST, TEST_HOST};
use crate::opensrs::{Class, Command, Secret};
use crate::store::{EventStore, ExpectedVersion};

#[derive(Debug, Args)]
pub struct RegistrarArgs {
    #[command(subcommand)]
    pub which: Which,
}

/// Fields of a connection; on `update`, only those given change.
#[derive(Debug, Args)]
pub struct Fields {
    /// OpenSRS host (default: the test host with --test-mode, else the live host).
    #[arg(long)]
    pub server: Option<String>,
    #[arg(long)]
    pub port: Option<u16>,
    /// Local IP address that OpenSRS has on its allow-list.
    #[arg(long)]
    pub source_ip: Option<String>,
    /// Reseller login.
    #[arg(long)]
    pub login: Option<String>,
    /// Reseller private key (stored as a secret, never in the log; prefer --key-file).
    #[arg(long, env = "DOMREG_NEW_OPENSRS_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// Read the key from this file.
    #[arg(long, conflicts_with = "key")]
    pub key_file: Option<PathBuf>,
    /// License agreement text shown to customers.
    #[arg(long)]
    pub license: Option<String>,
    /// Read the license agreement from this file.
    #[arg(long, conflicts_with = "license")]
    pub license_file: Option<PathBuf>,
    /// Warn holders this many days before expiry (0-365).
    #[arg(long, allow_negative_numbers = true)]
    pub warn_days: Option<i64>,
    /// Renew automatically this many days before expiry (0-365).
    #[arg(long, allow_negative_numbers = true)]
    pub renew_days: Option<i64>,
    /// OpenSRS's test system (horizon.opensrs.net).
    #[arg(long)]
    pub test_mode: Option<bool>,
    /// Plain HTTP, for a sandbox on loopback.
    #[arg(long)]
    pub plain_http: Option<bool>,
    /// Default nameservers (repeat).
    #[arg(long = "ns")]
    pub nameservers: Vec<String>,
    /// New domains renew automatically by default.
    #[arg(long)]
    pub auto_renew: Option<bool>,
}

#[derive(Debug, Subcommand)]
pub enum Which {
    /// Add an OpenSRS connection.
    Add {
        title: String,
        #[command(flatten)]
        fields: Fields,
    },
    /// Change a connection (only the fields given).
    Update {
        title: String,
        #[command(flatten)]
        fields: Fields,
    },
    /// List connections.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one connection, its TLDs and its license agreement.
    Show {
        title: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a connection (refused while TLDs or pending orders use it).
    Remove { title: String },
    /// Call GET_BALANCE to check the login, key and IP allow-list.
    Test {
        title: String,
        #[arg(long)]
        json: bool,
    },
}

fn read_file(path: &PathBuf, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {what} file {}: {e}", path.display()))
}

fn new_key(fields: &Fields) -> anyhow::Result<Option<Secret>> {
    let key = match (&fields.key, &fields.key_file) {
        (Some(k), _) => Some(k.trim().to_string()),
        (None, Some(path)) => Some(read_file(path, "key")?.trim().to_string()),
        (None, None) => None,
    };
    match key {
        Some(k) if k.is_empty() => Err(SettingsError::EmptyKey.into()),
        Some(k) => Ok(Some(Secret::new(k))),
        None => Ok(None),
    }
}

fn apply_fields(config: &mut RegistrarConfig, fields: &Fields) -> anyhow::Result<()> {
    if let Some(t) = fields.test_mode {
        config.test_mode = t;
    }
    if let Some(s) = &fields.server {
        config.server = s.trim().to_string();
    }
    if let Some(p) = fields.port {
        config.port = p;
    }
    if let Some(ip) = &fields.source_ip {
        config.source_ip = (!ip.trim().is_empty()).then(|| ip.trim().to_string());
    }
    if let Some(l) = &fields.login {
        config.login = l.trim().to_string();
    }
    match (&fields.license, &fields.license_file) {
        (Some(text), _) => config.license_agreement = text.clone(),
        (None, Some(path)) => config.license_agreement = read_file(path, "license")?,
        _ => {}
    }
    if let Some(d) = fields.warn_days {
        config.warn_days = validate_days("warn-days", d)?;
    }
    if let Some(d) = fields.renew_days {
        config.renew_days = validate_days("renew-days", d)?;
    }
    if let Some(p) = fields.plain_http {
        config.plain_http = p;
    }
    if !fields.nameservers.is_empty() {
        config.nameservers = fields
            .nameservers
            .iter()
            .map(|n| n.trim().to_ascii_lowercase())
            .collect();
    }
    if let Some(a) = fields.auto_renew {
        config.auto_renew_default = a;
    }
    Ok(())
}

fn describe(c: &RegistrarConfig, key: &str, tlds: &[String]) -> String {
    let env = if c.is_production() {
        "live"
    } else if c.test_mode {
        "test system"
    } else {
        "non-production host"
    };
    let mut out = format!(
        "{title}: {login}@{server}:{port} ({env}{plain})\n  source IP:   {ip}\n  key:         {key}\n  warn days:   {w}\n  renew days:  {r}\n  auto-renew:  {a}\n  nameservers: {ns}\n  TLDs:        {tlds}\n",
        title = c.title,
        login = c.login,
        server = c.server,
        port = c.port,
        plain = if c.plain_http { ", plain HTTP" } else { "" },
        ip = c.source_ip.as_deref().unwrap_or("(system default)"),
        w = c.warn_days,
        r = c.renew_days,
        a = if c.auto_renew_default { "on for new domains" } else { "off for new domains" },
        ns = if c.nameservers.is_empty() { "(OpenSRS defaults)".into() } else { c.nameservers.join(", ") },
        tlds = if tlds.is_empty() { "(none)".into() } else { tlds.join(", ") },
    );
    if !c.license_agreement.is_empty() {
        out.push_str("  license agreement:\n");
        for line in c.license_agreement.lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    out
}

fn redacted_key(app: &App, title: &str) -> String {
    app.secrets
        .get(title)
        .map(|k| k.redacted())
        .unwrap_or_else(|e| format!("MISSING: {e}"))
}

fn json_of(app: &App, c: &RegistrarConfig, tlds: &[String]) -> serde_json::Value {
    let mut v = serde_json::to_value(c).unwrap_or_default();
    if let Some(obj) = v.as_object_mut() {
        obj.insert("key".into(), redacted_key(app, &c.title).into());
        obj.insert("tlds".into(), tlds.into());
        obj.insert("production".into(), c.is_production().into());
    }
    v
}

pub async fn run(data_dir: &std::path::Path, args: RegistrarArgs) -> anyhow::Result<()> {
    let mut app = App::open(data_dir)?;
    app.catch_up().await?;
    let tlds_of = |app: &App, title: &str| -> anyhow::Result<Vec<String>> {
        Ok(app
            .models
            .routes()?
            .into_iter()
            .filter(|(_, r)| r == title)
            .map(|(t, _)| t)
            .collect())
    };
    match args.which {
        Which::Add { title, fields } => {
            validate_title(&title)?;
            if app.models.registrar(&title)?.is_some() {
                return Err(SettingsError::RegistrarExists(title).into());
            }
            let key = new_key(&fields)?.ok_or(SettingsError::EmptyKey)?;
            let test_mode = fields.test_mode.unwrap_or(false);
            let mut config = RegistrarConfig {
                title: title.clone(),
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
            apply_fields(&mut config, &fields)?;
            let warnings = config.validate()?;
            // The key goes to the secret store first: a connection in the log is never
            // left without its key.
            app.secrets.put(&title, &key)?;
            let stream = registrar_stream(&title);
            let version = app.store.read_stream(&stream, 0, usize::MAX).await?.len() as u64;
            app.append_settings(
                &stream,
                ExpectedVersion::after(version),
                &[RegistrarAdded {
                    config: config.clone(),
                }
                .into()],
                cli_actor(),
                Utc::now(),
            )
            .await?;
            for w in warnings {
                eprintln!("warning: {}", w.0);
            }
            print!("added {}", describe(&config, &key.redacted(), &[]));
        }
        Which::Update { title, fields } => {
            let mut config = app
                .models
                .registrar(&title)?
                .ok_or_else(|| SettingsError::UnknownRegistrar(title.clone()))?;
            apply_fields(&mut config, &fields)?;
            let warnings = config.validate()?;
            let key = new_key(&fields)?;
            let stream = registrar_stream(&title);
            let version = app.store.read_stream(&stream, 0, usize::MAX).await?.len() as u64;
            let mut events: Vec<SettingsEvent> = vec![RegistrarUpdated {
                config: config.clone(),
            }
            .into()];
            if let Some(key) = &key {
                app.secrets.put(&title, key)?;
                events.push(
                    RegistrarKeyReplaced {
                        title: title.clone(),
                    }
                    .into(),
                );
            }
            app.append_settings(
                &stream,
                ExpectedVersion::after(version),
                &events,
                cli_actor(),
                Utc::now(),
            )
            .await?;
            for w in warnings {
                eprintln!("warning: {}", w.0);
            }
            let tlds = tlds_of(&app, &title)?;
            print!(
                "updated {}",
                describe(&config, &redacted_key(&app, &title), &tlds)
            );
        }
        Which::List { json } => {
            let all = app.models.registrars()?;
            if json {
                let list: Vec<_> = all
                    .iter()
                    .map(|c| tlds_of(&app, &c.title).map(|t| json_of(&app, c, &t)))
                    .collect::<anyhow::Result<_>>()?;
                println!("{}", serde_json::Value::Array(list));
            } else if all.is_empty() {
                println!("no OpenSRS connections; add one with `domreg registrar add TITLE --login L --key-file F`");
            } else {
                for c in &all {
                    let tlds = tlds_of(&app, &c.title)?;
                    println!(
                        "{:<16} {}@{}:{}{}  TLDs: {}",
                        c.title,
                        c.login,
                        c.server,
                        c.port,
                        if c.is_production() {
                            " (live)"
                        } else {
                            " (non-production)"
                        },
                        if tlds.is_empty() {
                            "-".into()
                        } else {
                            tlds.join(", ")
                        }
                    );
                }
            }
        }
        Which::Show { title, json } => {
            let c = app
                .models
                .registrar(&title)?
                .ok_or(SettingsError::UnknownRegistrar(title.clone()))?;
            let tlds = tlds_of(&app, &title)?;
            if json {
                println!("{}", json_of(&app, &c, &tlds));
            } else {
                print!("{}", describe(&c, &redacted_key(&app, &title), &tlds));
            }
        }
        Which::Remove { title } => {
            app.models
                .registrar(&title)?
                .ok_or(SettingsError::UnknownRegistrar(title.clone()))?;
            let tlds = tlds_of(&app, &title)?;
            if !tlds.is_empty() {
                anyhow::bail!(
                    "{title} still serves {}; assign those TLDs to another connection first (`domreg tld assign TLD --registrar OTHER`)",
                    tlds.join(", ")
                );
            }
            let pending = app
                .models
                .pending_orders(&domreg_projections::PendingQuery {
                    limit: 1_000_000,
                    ..Default::default()
                })?;
            let using = pending.iter().filter(|p| p.connection == title).count();
            if using > 0 {
                anyhow::bail!("{using} pending orders still use {title}; they keep their connection until they end");
            }
            let stream = registrar_stream(&title);
            let version = app.store.read_stream(&stream, 0, usize::MAX).await?.len() as u64;
            app.append_settings(
                &stream,
                ExpectedVersion::after(version),
                &[RegistrarRemoved {
                    title: title.clone(),
                }
                .into()],
                cli_actor(),
                Utc::now(),
            )
            .await?;
            app.secrets.remove(&title);
            println!("removed {title} and its stored key");
        }
        Which::Test { title, json } => {
            let c = app
                .models
                .registrar(&title)?
                .ok_or(SettingsError::UnknownRegistrar(title.clone()))?;
            let client =
                crate::engine::client_for(&app, &c.title).map_err(|e| anyhow::anyhow!(e))?;
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
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "title": title, "ok": ok, "message": message, "code": cl.code })
                );
            } else {
                println!("{message}");
            }
            if !ok {
                std::process::exit(1);
            }
        }
    }
    Ok(())
}
