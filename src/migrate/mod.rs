//! `domreg migrate-opensrs-conf`: an H-Sphere 2.2 install's OpenSRS connection (and,
//! optionally, its flat domain price) brought over from `OpenSRS.conf`.
//!
//! Unlike H-Sphere's migrator it keeps the host the file names (live unless the file says
//! test), stops when the file contradicts itself, is idempotent (a second run changes
//! nothing), and explains every statement it could not read.

pub mod conf;

use domreg_events::settings::{parse_tld, PriceKind};
use domreg_events::{Actor, Currency, Money};

use crate::admin::settings::{self, RegistrarFields};
use crate::admin::AdminError;
use crate::app::App;
use crate::opensrs::client::{DEFAULT_PORT, LIVE_HOST, TEST_HOST};
use crate::opensrs::Secret;

pub use conf::{parse, LegacyConf, Note};

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("{0}")]
    File(String),
    #[error(transparent)]
    Admin(#[from] AdminError),
}

/// OpenSRS's live system or its test system (horizon).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Environment {
    Live,
    Test,
}

#[derive(Debug, Clone)]
pub struct MigrateOptions {
    /// Title of the connection to create.
    pub title: String,
    /// Flat legacy prices: n years cost n × the amount.
    pub prices: Vec<(String, String)>,
    pub currency: String,
    /// Overrides the environment the file gives (needed when it contradicts itself).
    pub environment: Option<Environment>,
    pub dry_run: bool,
    /// The address OpenSRS approved for this host (H-Sphere's connection IP), if any.
    pub source_ip: Option<String>,
}

/// One change, planned or made.
#[derive(Debug, Clone)]
enum Action {
    AddConnection(Box<RegistrarFields>),
    AssignTld(String),
    SetPrice {
        tld: String,
        kind: PriceKind,
        /// None for a transfer (priced once).
        years: Option<i64>,
        price: Money,
        previous: Option<Money>,
    },
}

/// What the migration did (or, with `--dry-run`, would do).
#[derive(Debug, Default)]
pub struct Report {
    /// One line per change.
    pub changes: Vec<String>,
    /// Things left as they are, and why.
    pub unchanged: Vec<String>,
    /// Hints about settings domreg does not take from the file.
    pub notes: Vec<String>,
    pub ignored: Vec<Note>,
    pub unreadable: Vec<Note>,
}

impl Report {
    pub fn render(&self, dry_run: bool) -> String {
        let mut out = String::new();
        let verb = if dry_run { "would" } else { "did" };
        if self.changes.is_empty() {
            out.push_str("Nothing to change: everything the file says is already configured.\n");
        } else {
            out.push_str(&format!(
                "{} changes{}:\n",
                self.changes.len(),
                if dry_run {
                    " (dry run: nothing written)"
                } else {
                    ""
                }
            ));
            for c in &self.changes {
                out.push_str(&format!("  {verb} {c}\n"));
            }
        }
        for u in &self.unchanged {
            out.push_str(&format!("  unchanged: {u}\n"));
        }
        for n in &self.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        for n in &self.ignored {
            out.push_str(&format!(
                "ignored line {}: {} ({})\n",
                n.line, n.text, n.why
            ));
        }
        for n in &self.unreadable {
            out.push_str(&format!(
                "could not read line {}: {} ({})\n",
                n.line, n.text, n.why
            ));
        }
        out
    }
}

/// A value given as a scalar and/or a `%OPENSRS` entry; the two must agree.
fn agreed(c: &LegacyConf, scalar: &str, entry: &str) -> Result<Option<String>, MigrateError> {
    match (c.scalars.get(scalar), c.opensrs.get(entry)) {
        (Some((a, la)), Some((b, lb))) if a != b => Err(MigrateError::File(format!(
            "${scalar} (line {la}) and the %OPENSRS entry {entry} (line {lb}) differ; make them agree and run again"
        ))),
        (Some((a, _)), _) => Ok(Some(a.clone())),
        (None, Some((b, _))) => Ok(Some(b.clone())),
        (None, None) => Ok(None),
    }
}

fn required(c: &LegacyConf, scalar: &str, entry: &str) -> Result<String, MigrateError> {
    agreed(c, scalar, entry)?
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| {
            let unread = if c.unreadable.is_empty() {
                String::new()
            } else {
                format!(
                    "; lines not read: {}",
                    c.unreadable
                        .iter()
                        .map(|n| format!("{} ({})", n.line, n.why))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            MigrateError::File(format!(
                "the file sets no ${scalar} (nor a %OPENSRS entry {entry}){unread}"
            ))
        })
}

/// The connection the file describes.
fn connection(
    c: &LegacyConf,
    forced: Option<Environment>,
    notes: &mut Vec<String>,
) -> Result<RegistrarFields, MigrateError> {
    let login = required(c, "USERNAME", "username")?;
    let key = required(c, "PRIVATE_KEY", "private_key")?;
    let flag = match c.scalars.get("TEST_SERVER") {
        None => None,
        Some((v, line)) => match v.trim() {
            "0" | "" => Some(Environment::Live),
            "1" => Some(Environment::Test),
            other => {
                return Err(MigrateError::File(format!(
                    "$TEST_SERVER on line {line} is {other:?}; it must be 0 (live) or 1 (test)"
                )))
            }
        },
    };
    let host = c
        .entry("REMOTE_HOST")
        .map(|h| h.trim().to_ascii_lowercase());
    let host_env = host.as_deref().map(|h| {
        if h.contains("horizon") || h == TEST_HOST {
            Environment::Test
        } else {
            Environment::Live
        }
    });
    let environment = match (forced, flag, host_env) {
        (Some(e), _, _) => e,
        (None, Some(f), Some(h)) if f != h => {
            return Err(MigrateError::File(format!(
                "the file contradicts itself: $TEST_SERVER says {} but REMOTE_HOST {} is the {} system; run again with --environment live or --environment test",
                if f == Environment::Test { "test" } else { "live" },
                host.as_deref().unwrap_or_default(),
                if h == Environment::Test { "test" } else { "live" },
            )))
        }
        (None, Some(f), _) => f,
        (None, None, Some(h)) => h,
        (None, None, None) => Environment::Live,
    };
    let server = match (&host, host_env) {
        (Some(h), Some(e)) if e == environment => h.clone(),
        _ => match environment {
            Environment::Live => LIVE_HOST.to_string(),
            Environment::Test => TEST_HOST.to_string(),
        },
    };
    let port = match c.entry("REMOTE_HTTPS_PORT") {
        None => DEFAULT_PORT,
        Some(p) => p
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| {
                MigrateError::File(format!("REMOTE_HTTPS_PORT {p:?} is not a port number"))
            })?,
    };
    if let Some(t) = c
        .entry("connection_type")
        .filter(|t| !t.eq_ignore_ascii_case("HTTPS"))
    {
        notes.push(format!(
            "connection_type {t} (port {}) is not used: domreg speaks the XML API over HTTPS, port {port}",
            c.entry("REMOTE_PORT").unwrap_or("55000")
        ));
    }
    if let Some(t) = c
        .entry("crypt_type")
        .filter(|t| t.eq_ignore_ascii_case("DES"))
    {
        notes.push(format!(
            "crypt_type {t}: an old DES key may not sign XML API requests; if `domreg registrar test` fails, generate a private key in the Reseller Web Interface"
        ));
    }
    if let Some(a) = c.scalar("ADMIN_EMAIL").filter(|a| !a.is_empty()) {
        notes.push(format!(
            "$ADMIN_EMAIL is {a}; to send the engine's digests there, run `domreg serve --admin-email {a}`"
        ));
    }
    if let Some(a) = c.scalar("RENEW_EMAIL").filter(|a| !a.is_empty()) {
        notes.push(format!(
            "$RENEW_EMAIL is {a}; domreg sends expiry warnings to each domain's customer instead"
        ));
    }
    Ok(RegistrarFields {
        server: Some(server),
        port: Some(port),
        login: Some(login),
        test_mode: Some(environment == Environment::Test),
        key: Some(Secret::new(key)),
        ..Default::default()
    })
}

/// Plans the changes against the current settings; applies them unless `dry_run`.
pub async fn migrate(
    app: &mut App,
    text: &str,
    opts: &MigrateOptions,
    actor: Actor,
) -> Result<Report, MigrateError> {
    app.catch_up().await.map_err(AdminError::from)?;
    let c = parse(text);
    let mut report = Report {
        ignored: c.ignored.clone(),
        unreadable: c.unreadable.clone(),
        ..Default::default()
    };
    let wanted = connection(&c, opts.environment, &mut report.notes)?;
    let mut actions = Vec::new();
    let describe = |f: &RegistrarFields| {
        format!(
            "{}@{}:{} ({})",
            f.login.as_deref().unwrap_or_default(),
            f.server.as_deref().unwrap_or_default(),
            f.port.unwrap_or_default(),
            if f.test_mode == Some(true) {
                "test system"
            } else {
                "live"
            }
        )
    };
    match app
        .models
        .registrar(&opts.title)
        .map_err(AdminError::from)?
    {
        None => {
            let mut fields = wanted.clone();
            fields.source_ip = opts.source_ip.clone();
            actions.push(Action::AddConnection(Box::new(fields)))
        }
        Some(have) => {
            let same_key = app
                .secrets
                .get(&opts.title)
                .ok()
                .zip(wanted.key.as_ref())
                .is_some_and(|(a, b)| a.expose() == b.expose());
            let same = Some(&have.server) == wanted.server.as_ref()
                && Some(have.port) == wanted.port
                && Some(&have.login) == wanted.login.as_ref()
                && Some(have.test_mode) == wanted.test_mode
                && same_key;
            if same {
                report
                    .unchanged
                    .push(format!("connection {} {}", opts.title, describe(&wanted)));
            } else {
                report.unchanged.push(format!(
                    "connection {} exists and differs from the file (file: {}; now: {}@{}:{}{}); it is left as it is: change it with `domreg registrar update {}`",
                    opts.title,
                    describe(&wanted),
                    have.login,
                    have.server,
                    have.port,
                    if same_key { "" } else { ", another key" },
                    opts.title
                ));
            }
        }
    }
    let currency = Currency::parse(&opts.currency).map_err(AdminError::from)?;
    for (tld, amount) in &opts.prices {
        let tld = parse_tld(tld).map_err(AdminError::from)?;
        let per_year = Money::parse(amount, currency).map_err(AdminError::from)?;
        if !per_year.is_positive() {
            return Err(AdminError::invalid(
                "invalid_amount",
                format!("the price of .{tld} must be more than zero, not {per_year}"),
            )
            .into());
        }
        match app.models.route(&tld).map_err(AdminError::from)? {
            None => actions.push(Action::AssignTld(tld.clone())),
            Some(r) if r == opts.title => {}
            Some(r) => report
                .unchanged
                .push(format!(".{tld} stays routed through {r}")),
        }
        // Registrations and renewals for 1 to 10 years at n times the legacy price, and
        // transfers at it once: a migrated TLD can be ordered, renewed (automatic renewals
        // included) and transferred in.
        let periods = (1..=10i64)
            .flat_map(|y| [(PriceKind::Register, Some(y)), (PriceKind::Renew, Some(y))])
            .chain([(PriceKind::Transfer, None)]);
        for (kind, years) in periods {
            let price = per_year
                .checked_mul(years.unwrap_or(1))
                .and_then(Money::bounded)
                .map_err(AdminError::from)?;
            let previous = app
                .models
                .price(&tld, kind, years.map(|y| y as u8))
                .map_err(AdminError::from)?;
            if previous == Some(price) {
                continue;
            }
            actions.push(Action::SetPrice {
                tld: tld.clone(),
                kind,
                years,
                price,
                previous,
            });
        }
    }
    for action in actions {
        let line = match &action {
            Action::AddConnection(f) => format!(
                "add OpenSRS connection {} {}, key stored as a secret",
                opts.title,
                describe(f)
            ),
            Action::AssignTld(tld) => format!("route .{tld} through {}", opts.title),
            Action::SetPrice {
                tld,
                kind,
                years,
                price,
                previous,
            } => format!(
                "set the .{tld} {} price{} to {price}{}",
                match kind {
                    PriceKind::Register => "registration",
                    PriceKind::Renew => "renewal",
                    PriceKind::Transfer => "transfer",
                    PriceKind::Privacy => "privacy",
                    PriceKind::Restore => "restore",
                },
                years
                    .map(|y| format!(" for {y} year(s)"))
                    .unwrap_or_default(),
                previous.map(|p| format!(" (was {p})")).unwrap_or_default()
            ),
        };
        report.changes.push(line);
        if opts.dry_run {
            continue;
        }
        match action {
            Action::AddConnection(f) => {
                settings::add_registrar(app, &opts.title, &f, actor.clone()).await?;
            }
            Action::AssignTld(tld) => {
                settings::assign_tld(app, &tld, &opts.title, actor.clone()).await?;
            }
            Action::SetPrice {
                tld,
                kind,
                years,
                price,
                ..
            } => {
                settings::set_price_of(app, &tld, kind, years, price, actor.clone()).await?;
            }
        }
    }
    Ok(report)
}
