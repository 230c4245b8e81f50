//! `domreg register|transfer|renew`, `domreg account contacts`, `domreg serve`, and the
//! Async Manager controls `domreg async cancel|reset|check`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use domreg_events::*;

use crate::admin;
use crate::app::{cli_actor, App};
use crate::clock::SystemClock;
use crate::engine::place::{place_order, OrderRequest, PlacedOrder};
use crate::engine::steps;
use crate::engine::Engine;

#[derive(Debug, Args)]
pub struct OrderArgs {
    pub domain: String,
    #[arg(long)]
    pub account: String,
    /// Period in years (a transfer runs exactly 1).
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub years: i64,
    /// Contacts as JSON (`{"owner": {...}, "admin": ..., "billing": ..., "tech": ...}`);
    /// default: the account's stored contacts.
    #[arg(long)]
    pub contacts: Option<PathBuf>,
    /// Nameservers (repeat); default: the connection's.
    #[arg(long = "ns")]
    pub nameservers: Vec<String>,
    /// Transfer authorisation (EPP) code. Prefer --auth-code-file: a flag's value shows
    /// in `ps` to every user of the machine.
    #[arg(long, value_parser = secret_arg, conflicts_with = "auth_code_file")]
    pub auth_code: Option<crate::opensrs::Secret>,
    /// Read the transfer code from this file (`-`: standard input).
    #[arg(long)]
    pub auth_code_file: Option<PathBuf>,
    /// Makes the order safe to retry: the same key (per account) always names the same
    /// order, so running the command again answers with the first order and charges
    /// nothing more.
    #[arg(long, conflicts_with = "order_id")]
    pub idempotency_key: Option<String>,
    /// Choose the order's id (a UUID) instead of a new one; retrying with it is safe.
    #[arg(long)]
    pub order_id: Option<String>,
    /// Wait until the order ends and print how.
    #[arg(long)]
    pub wait: bool,
    /// Give up waiting after this long.
    #[arg(long, default_value = "10m", value_parser = super::args::duration)]
    pub wait_timeout: Duration,
    #[arg(long)]
    pub json: bool,
}

/// A secret given on the command line, kept out of `Debug` output from here on.
pub use crate::opensrs::secret_arg;

/// A secret read from a file, or from standard input for `-`.
fn read_secret(path: &Path) -> anyhow::Result<crate::opensrs::Secret> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).map_err(|e| {
            anyhow::anyhow!("cannot read the transfer code from standard input: {e}")
        })?
    } else {
        std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!("cannot read the transfer code from {}: {e}", path.display())
        })?
    };
    Ok(crate::opensrs::Secret::new(text.trim()))
}

fn read_contacts(path: &Path) -> anyhow::Result<ContactSet> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let set: ContactSet = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not a contact set: {e}", path.display()))?;
    set.validate()?;
    Ok(set)
}

pub async fn order(data_dir: &Path, kind: OrderKind, args: OrderArgs) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    let contacts = args.contacts.as_deref().map(read_contacts).transpose()?;
    let order_id = admin::orders::chosen_order_id(
        &args.account,
        args.order_id.as_deref(),
        args.idempotency_key.as_deref(),
    )?;
    let request = OrderRequest {
        domain: args.domain.clone(),
        account: args.account.clone(),
        kind,
        years: args.years,
        contacts,
        nameservers: args.nameservers.clone(),
        auth_code: match &args.auth_code_file {
            Some(path) => Some(read_secret(path)?),
            None => args.auth_code.clone(),
        },
        order_id,
    };
    let now = app.clock.now();
    let placed = place_order(&mut app, request, cli_actor(), now).await?;
    if !args.wait {
        if args.json {
            println!(
                "{}",
                serde_json::json!({ "order": placed, "status": "charged", "repeated": placed.repeated })
            );
        } else {
            let verb = if placed.repeated {
                "was already placed; nothing more charged"
            } else {
                "charged"
            };
            println!(
                "order {}: {} {} for {} ({}), {} {verb}; OpenSRS connection {}",
                placed.order_id,
                placed.kind,
                placed.domain,
                placed.account,
                placed.period,
                placed.price,
                placed.connection
            );
        }
        return Ok(());
    }
    let ended = wait_for_end(&app, &placed, args.wait_timeout).await?;
    let order = &ended.orders[&placed.order_id];
    let end = order.end().map(End::as_str);
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "order": placed,
                "status": end,
                "answer": order.last_answer.as_ref().map(|a| serde_json::json!({"code": a.code, "text": a.text})),
                "refunded": order.refunded,
                "expires_at": ended.expires_at,
            })
        );
    } else {
        let mut line = format!(
            "order {}: {} {} ended {}",
            placed.order_id,
            placed.kind,
            placed.domain,
            end.unwrap_or_default()
        );
        if let Some(a) = &order.last_answer {
            line.push_str(&format!(
                " ({} {})",
                a.code.map(|c| c.to_string()).unwrap_or_default(),
                a.text
            ));
        }
        if let Some(r) = order.refunded {
            line.push_str(&format!("; {r} refunded"));
        }
        if let (Some(End::Confirmed), Some(t)) = (order.end(), ended.expires_at) {
            line.push_str(&format!("; expires {}", t.format("%Y-%m-%d")));
        }
        println!("{line}");
    }
    Ok(())
}

async fn wait_for_end(
    app: &App,
    placed: &PlacedOrder,
    timeout: Duration,
) -> anyhow::Result<Domain> {
    let name = DomainName::parse(&placed.domain)?;
    let give_up = tokio::time::Instant::now() + timeout;
    loop {
        let state = steps::load(&app.store, &name).await?;
        if state
            .orders
            .get(&placed.order_id)
            .is_some_and(|o| !o.is_open())
        {
            return Ok(state);
        }
        if tokio::time::Instant::now() >= give_up {
            anyhow::bail!("order {} has not ended yet (is `domreg serve` running?); follow it with `domreg async list`", placed.order_id);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[derive(Debug, Args)]
pub struct ContactsArgs {
    pub account: String,
    /// JSON contact set.
    #[arg(long)]
    pub file: PathBuf,
}

pub async fn store_contacts(data_dir: &Path, args: ContactsArgs) -> anyhow::Result<()> {
    let contacts = read_contacts(&args.file)?;
    let mut app = App::connect(data_dir).await?;
    let account =
        admin::settings::store_contacts(&mut app, &args.account, contacts, cli_actor()).await?;
    println!("stored the contacts of {account}");
    Ok(())
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Pause between rounds when there was nothing to do.
    #[arg(long, default_value = "1s", value_parser = super::args::duration)]
    pub tick: Duration,
    /// Run one round and exit.
    #[arg(long)]
    pub once: bool,
    /// Sender address of notifications.
    #[arg(long, env = "DOMREG_MAIL_FROM", default_value = "domreg@localhost")]
    pub mail_from: String,
    /// The admin's address, for the digest of each round.
    #[arg(long, env = "DOMREG_ADMIN_EMAIL")]
    pub admin_email: Option<String>,
    /// SMTP relay host; without one, mail goes to the file outbox `<data dir>/mail/outbox`.
    #[arg(long, env = "DOMREG_SMTP_HOST")]
    pub smtp_host: Option<String>,
    #[arg(long, env = "DOMREG_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,
    /// Use STARTTLS (on by default; only a relay on loopback may go without).
    #[arg(long, env = "DOMREG_SMTP_STARTTLS", default_value_t = true, action = clap::ArgAction::Set)]
    pub smtp_starttls: bool,
    #[arg(long, env = "DOMREG_SMTP_USER")]
    pub smtp_user: Option<String>,
    /// The SMTP password (prefer the environment variable).
    #[arg(long, env = "DOMREG_SMTP_PASSWORD", hide_env_values = true, value_parser = secret_arg)]
    pub smtp_password: Option<crate::opensrs::Secret>,
    /// The most one email may take, connect to last reply; it is tried again later.
    #[arg(long, env = "DOMREG_SMTP_TIMEOUT", default_value = "30s", value_parser = super::args::duration)]
    pub smtp_timeout: Duration,
    /// Give up waiting for an OpenSRS answer after this long (the order is then resolved
    /// by polling, never resent).
    #[arg(long, env = "DOMREG_OPENSRS_TIMEOUT", default_value = "120s", value_parser = super::args::duration)]
    pub opensrs_timeout: Duration,
    /// Read each connection's OpenSRS event feed this often (`0s`: not at all).
    #[arg(long, env = "DOMREG_EVENT_FEED_EVERY", default_value = "60s", value_parser = super::args::duration)]
    pub event_feed_every: Duration,
    /// Reconcile each connection with its account at OpenSRS this often, as `domreg
    /// sync` does (`0s`: never).
    #[arg(long, env = "DOMREG_SYNC_EVERY", default_value = "24h", value_parser = super::args::duration)]
    pub sync_every: Duration,
    /// Calls per second a reconciliation makes to OpenSRS at most.
    #[arg(long, env = "DOMREG_SYNC_CALLS_PER_SECOND", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub sync_calls_per_second: u32,
    /// With several engines on one server log: how long an engine that stops beating
    /// keeps its share of the work before the others take it over (3s to 10m).
    #[arg(long, env = "DOMREG_ENGINE_LEASE", default_value = "30s", value_parser = super::args::engine_lease)]
    pub engine_lease: Duration,
    #[command(flatten)]
    pub api: crate::serve::ApiArgs,
}

/// The mail settings of `serve`.
pub fn mail_settings(args: &ServeArgs) -> anyhow::Result<crate::notify::MailSettings> {
    let smtp = match &args.smtp_host {
        None => None,
        Some(host) => {
            if !args.smtp_starttls && !domreg_events::settings::is_loopback(host) {
                anyhow::bail!(
                    "--smtp-starttls false is allowed only for a relay on loopback, not {host}"
                );
            }
            Some(crate::notify::SmtpRelay {
                host: host.clone(),
                port: args.smtp_port,
                tls: args.smtp_starttls,
                user: args.smtp_user.clone(),
                password: args.smtp_password.clone(),
            })
        }
    };
    Ok(crate::notify::MailSettings {
        from: args.mail_from.clone(),
        admin: args.admin_email.clone(),
        smtp,
    })
}

pub async fn serve(data_dir: &Path, args: ServeArgs) -> anyhow::Result<()> {
    let lock = crate::lock::DataDirLock::acquire(data_dir)?;
    let mailer = crate::notify::Mailer::new(data_dir, mail_settings(&args)?)?
        .with_message_timeout(args.smtp_timeout);
    let engine = Engine::new(App::connect(data_dir).await?, SystemClock)
        .with_exclusive_lock(&lock)
        .with_call_timeout(args.opensrs_timeout)
        .with_event_feed(chrono::Duration::from_std(args.event_feed_every).ok())
        .sharing(args.engine_lease)
        .await;
    let share = engine.share().clone();
    // `--once` delivers its mail before it exits; `serve` delivers on a task of its own.
    let (engine, background_mail) = if args.once {
        (engine.with_mail(mailer), None)
    } else {
        (engine.with_background_mail(mailer.clone()), Some(mailer))
    };
    let api = match (args.api.listen, args.api.token()?) {
        (None, _) => None,
        (Some(addr), Some(token)) => Some(
            crate::serve::Api::bind(addr, token, args.api.allow_plain_http)
                .await?
                .with_admin(&args.api.api_admin)?,
        ),
        (Some(_), None) => anyhow::bail!(
            "--listen needs the admin token: set DOMREG_API_TOKEN or give --api-token-file FILE"
        ),
    };
    tracing::info!(data_dir = %data_dir.display(), "engine started");
    eprintln!(
        "domreg engine running on {} (Ctrl-C stops it)",
        data_dir.display()
    );
    if let Some(addr) = api.as_ref().and_then(|a| a.addr()) {
        eprintln!("admin API on http://{addr}/api/v1 (bearer token required)");
    }
    let reconcile = (!args.once && !args.sync_every.is_zero()).then(|| {
        let pace = crate::engine::sync_listing::Pace {
            calls_per_second: args.sync_calls_per_second,
        };
        tokio::spawn(crate::serve::reconcile::run(
            data_dir.to_path_buf(),
            args.sync_every,
            pace,
            share.clone(),
        ))
    });
    let result =
        crate::serve::run(data_dir, engine, api, args.tick, args.once, background_mail).await;
    // A reconciliation cut short resumes from its checkpoint next time.
    if let Some(task) = reconcile {
        task.abort();
    }
    share.leave().await;
    drop(lock);
    result
}

fn answer_text(a: &Option<RegistrarAnswer>) -> String {
    a.as_ref()
        .map(|a| {
            format!(
                "{} {}",
                a.code.map(|c| c.to_string()).unwrap_or_default(),
                a.text
            )
        })
        .unwrap_or_default()
}

pub async fn async_cancel(
    data_dir: &Path,
    order: &str,
    checked_at_opensrs: bool,
) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    let o = if checked_at_opensrs {
        admin::orders::cancel_checked_by_hand(&mut app, order, cli_actor()).await?
    } else {
        admin::orders::cancel(&mut app, order, cli_actor()).await?
    };
    let remote = o
        .registrar_call
        .as_ref()
        .map(|a| format!("; {}", answer_text(&Some(a.clone()))))
        .unwrap_or_default();
    match o.refunded {
        Some(r) => println!(
            "cancelled order {} ({} {}); {r} refunded to {}{remote}",
            o.order_id, o.kind, o.domain, o.account
        ),
        None => println!(
            "cancelled order {} ({} {}); it was never charged{remote}",
            o.order_id, o.kind, o.domain
        ),
    }
    Ok(())
}

pub async fn async_reset(data_dir: &Path, order: &str) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    let o = admin::orders::reset(&mut app, order, cli_actor()).await?;
    println!(
        "order {} ({} {}) waits again until {}",
        o.order_id,
        o.kind,
        o.domain,
        o.deadline
            .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default()
    );
    Ok(())
}

pub async fn async_check(data_dir: &Path, order: &str) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    let o = admin::orders::check(&mut app, order).await?;
    let answer = answer_text(&o.last_answer);
    if o.already_moved_on {
        println!("order {} was already moved on by the engine", o.order_id);
    } else if o.state == "pending" {
        println!(
            "order {} ({}) is still pending: {answer}",
            o.order_id, o.domain
        );
    } else {
        println!(
            "order {} ({}) ended {}: {answer}{}",
            o.order_id,
            o.domain,
            o.state,
            o.refunded
                .map(|r| format!("; {r} refunded"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct AutoRenewArgs {
    pub domain: String,
    /// `on` or `off`.
    #[arg(value_parser = ["on", "off"])]
    pub state: String,
    /// Years each automatic renewal of this domain orders, 1 to 10 (default: the
    /// connection's `--renew-years`).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=10))]
    pub years: Option<u8>,
}

pub async fn auto_renew(data_dir: &Path, args: AutoRenewArgs) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    let years = args
        .years
        .map(|y| domreg_events::Period::years(i64::from(y)))
        .transpose()?;
    let name = admin::orders::set_auto_renew(
        &mut app,
        &args.domain,
        args.state == "on",
        years,
        cli_actor(),
    )
    .await?;
    println!(
        "auto-renew of {name} is {}{}",
        args.state,
        years
            .map(|y| format!(", {} year(s) at a time", y.get()))
            .unwrap_or_default()
    );
    Ok(())
}
