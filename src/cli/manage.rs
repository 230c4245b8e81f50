//! `domreg nameservers`, `lock`, `privacy`, `auth-code`, `contacts` and `ips-tag`:
//! changes to a registered domain, sent to OpenSRS once and recorded.

use std::path::Path;

use clap::Args;

use domreg_events::change::{DomainChange, TransferLock};

use crate::admin::changes::{apply, ChangeOutcome};
use crate::app::{cli_actor, App};

#[derive(Debug, Args)]
pub struct NameserversArgs {
    pub domain: String,
    /// The new set (2 to 13 host names), replacing the current one.
    #[arg(required_unless_present = "defaults", conflicts_with = "defaults", num_args = 1..)]
    pub nameservers: Vec<String>,
    /// Back to the nameservers of the domain's OpenSRS connection.
    #[arg(long)]
    pub defaults: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LockArgs {
    pub domain: String,
    /// `on` (no transfer away) or `off`.
    #[arg(value_parser = ["on", "off"])]
    pub state: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PrivacyArgs {
    pub domain: String,
    /// `on` (contact data hidden in WHOIS) or `off`.
    #[arg(value_parser = ["on", "off"])]
    pub state: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AuthCodeArgs {
    pub domain: String,
    #[arg(long)]
    pub json: bool,
}

/// Shows the transfer code (or has OpenSRS mail it), as the TLD allows.
pub async fn auth_code(data_dir: &Path, args: AuthCodeArgs) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    let out = crate::admin::auth_code::give_out(&mut app, &args.domain, cli_actor()).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        match &out.auth_code {
            Some(code) => println!("{}: transfer code {}", out.domain, code.expose()),
            None => println!("{}: the transfer code was {}", out.domain, out.how),
        }
    }
    Ok(())
}

pub async fn privacy(data_dir: &Path, args: PrivacyArgs) -> anyhow::Result<()> {
    let change = DomainChange::Privacy {
        enabled: args.state == "on",
    };
    run(data_dir, &args.domain, change, args.json).await
}

pub async fn nameservers(data_dir: &Path, args: NameserversArgs) -> anyhow::Result<()> {
    let nameservers = if args.defaults {
        let mut app = App::connect(data_dir).await?;
        crate::admin::changes::connection_nameservers(&mut app, &args.domain).await?
    } else {
        args.nameservers
    };
    let change = DomainChange::Nameservers { nameservers };
    run(data_dir, &args.domain, change, args.json).await
}

#[derive(Debug, Args)]
pub struct ContactsArgs {
    pub domain: String,
    /// The contact, as JSON with OpenSRS's field names (the form of `--contacts` files
    /// for one contact: first_name, last_name, org_name, address1, city, state, country,
    /// postal_code, phone, email).
    #[arg(long)]
    pub file: std::path::PathBuf,
    /// The roles it takes: owner, admin, billing, tech (comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    pub roles: Vec<String>,
    /// A change of registrant on a generic TLD starts ICANN's 60-day transfer lock:
    /// accept it...
    #[arg(long, conflicts_with = "opt_out_of_transfer_lock")]
    pub accept_transfer_lock: bool,
    /// ...or record that the registrant opted out of it.
    #[arg(long)]
    pub opt_out_of_transfer_lock: bool,
    #[arg(long)]
    pub json: bool,
}

pub async fn contacts(data_dir: &Path, args: ContactsArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.file.display()))?;
    let contact: domreg_events::Contact = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not one contact as JSON: {e}", args.file.display()))?;
    let roles = args
        .roles
        .iter()
        .map(|r| domreg_events::ContactRole::parse(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let transfer_lock = match (args.accept_transfer_lock, args.opt_out_of_transfer_lock) {
        (true, _) => Some(TransferLock::Accept),
        (_, true) => Some(TransferLock::OptOut),
        _ => None,
    };
    let change = DomainChange::Contacts {
        roles,
        contact: Box::new(contact),
        transfer_lock,
    };
    run(data_dir, &args.domain, change, args.json).await
}

#[derive(Debug, Args)]
pub struct IpsTagArgs {
    pub domain: String,
    /// The gaining registrar's Nominet tag.
    pub tag: String,
    /// Confirms that the domain leaves this account at once and cannot be taken back.
    #[arg(long, required = true)]
    pub release: bool,
    #[arg(long)]
    pub json: bool,
}

pub async fn ips_tag(data_dir: &Path, args: IpsTagArgs) -> anyhow::Result<()> {
    let change = DomainChange::IpsTag { tag: args.tag };
    run(data_dir, &args.domain, change, args.json).await
}

pub async fn lock(data_dir: &Path, args: LockArgs) -> anyhow::Result<()> {
    let change = DomainChange::Lock {
        locked: args.state == "on",
    };
    run(data_dir, &args.domain, change, args.json).await
}

pub(super) async fn run(
    data_dir: &Path,
    domain: &str,
    change: DomainChange,
    json: bool,
) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    let out = apply(&mut app, domain, change, cli_actor()).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print(&out);
    }
    Ok(())
}

pub(super) fn print(o: &ChangeOutcome) {
    let answer = o.answer.as_ref().map(|a| a.line()).unwrap_or_default();
    let charged = match (o.charged, o.refunded) {
        (Some(m), false) => format!("; {m} charged"),
        (Some(m), true) => format!("; {m} refunded"),
        (None, _) => String::new(),
    };
    match o.state {
        "applied" => println!(
            "{}: {} (OpenSRS: {answer}){charged}",
            o.domain,
            o.change.describe()
        ),
        _ => println!(
            "{}: {} sent as change {}, no answer yet ({answer}); the engine reads the domain back and records the outcome",
            o.domain,
            o.change.describe(),
            o.change_id
        ),
    }
}
