//! `domreg registrar add|update|list|show|remove|test`: OpenSRS connections.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use domreg_events::settings::*;

use crate::admin::settings::{self, RegistrarFields, RegistrarView};
use crate::app::{cli_actor, App};
use crate::opensrs::Secret;

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
    /// New registrations are locked at the registry (default: true).
    #[arg(long)]
    pub lock_new: Option<bool>,
    /// Years each automatic renewal orders, 1 to 10 (default: 1).
    #[arg(long)]
    pub renew_years: Option<i64>,
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
    Ok(match (&fields.key, &fields.key_file) {
        (Some(k), _) => Some(Secret::new(k.clone())),
        (None, Some(path)) => Some(Secret::new(read_file(path, "key")?)),
        (None, None) => None,
    })
}

impl Fields {
    fn to_admin(&self) -> anyhow::Result<RegistrarFields> {
        let license_agreement = match (&self.license, &self.license_file) {
            (Some(text), _) => Some(text.clone()),
            (None, Some(path)) => Some(read_file(path, "license")?),
            _ => None,
        };
        Ok(RegistrarFields {
            server: self.server.clone(),
            port: self.port,
            source_ip: self.source_ip.clone(),
            login: self.login.clone(),
            license_agreement,
            warn_days: self.warn_days,
            renew_days: self.renew_days,
            test_mode: self.test_mode,
            plain_http: self.plain_http,
            nameservers: Some(self.nameservers.clone()),
            auto_renew_default: self.auto_renew,
            lock_new_registrations: self.lock_new,
            renew_years: self.renew_years,
            key: new_key(self)?,
        })
    }
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
        "{title}: {login}@{server}:{port} ({env}{plain})\n  source IP:   {ip}\n  key:         {key}\n  warn days:   {w}\n  renew days:  {r}\n  auto-renew:  {a}, {y} year(s) at a time\n  lock:        {l}\n  nameservers: {ns}\n  TLDs:        {tlds}\n",
        title = c.title,
        login = c.login,
        server = c.server,
        port = c.port,
        plain = if c.plain_http { ", plain HTTP" } else { "" },
        ip = c.source_ip.as_deref().unwrap_or("(system default)"),
        w = c.warn_days,
        r = c.renew_days,
        a = if c.auto_renew_default { "on for new domains" } else { "off for new domains" },
        y = c.renew_years.get(),
        l = if c.lock_new_registrations { "new registrations locked" } else { "new registrations unlocked" },
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

fn print_warnings(view: &RegistrarView) {
    for w in &view.warnings {
        eprintln!("warning: {w}");
    }
}

pub async fn run(data_dir: &std::path::Path, args: RegistrarArgs) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    app.catch_up().await?;
    match args.which {
        Which::Add { title, fields } => {
            let view =
                settings::add_registrar(&mut app, &title, &fields.to_admin()?, cli_actor()).await?;
            print_warnings(&view);
            print!("added {}", describe(&view.config, &view.key, &[]));
        }
        Which::Update { title, fields } => {
            let view =
                settings::update_registrar(&mut app, &title, &fields.to_admin()?, cli_actor())
                    .await?;
            print_warnings(&view);
            print!("updated {}", describe(&view.config, &view.key, &view.tlds));
        }
        Which::List { json } => {
            let all = settings::registrars(&app)?;
            if json {
                println!("{}", serde_json::to_value(&all)?);
            } else if all.is_empty() {
                println!("no OpenSRS connections; add one with `domreg registrar add TITLE --login L --key-file F`");
            } else {
                for v in &all {
                    let c = &v.config;
                    println!(
                        "{:<16} {}@{}:{}{}  TLDs: {}",
                        c.title,
                        c.login,
                        c.server,
                        c.port,
                        if v.production {
                            " (live)"
                        } else {
                            " (non-production)"
                        },
                        if v.tlds.is_empty() {
                            "-".into()
                        } else {
                            v.tlds.join(", ")
                        }
                    );
                }
            }
        }
        Which::Show { title, json } => {
            let v = settings::registrar(&app, &title)?;
            if json {
                println!("{}", serde_json::to_value(&v)?);
            } else {
                print!("{}", describe(&v.config, &v.key, &v.tlds));
            }
        }
        Which::Remove { title } => {
            settings::remove_registrar(&mut app, &title, cli_actor()).await?;
            println!("removed {title} and its stored key");
        }
        Which::Test { title, json } => {
            let t = settings::test_registrar(&mut app, &title).await?;
            if json {
                println!("{}", serde_json::to_value(&t)?);
            } else {
                println!("{}", t.message);
            }
            if !t.ok {
                std::process::exit(1);
            }
        }
    }
    Ok(())
}
