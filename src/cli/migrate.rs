//! `domreg migrate-opensrs-conf`: bring an H-Sphere 2.2 `OpenSRS.conf` over.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::app::{cli_actor, App};
use crate::migrate::{self, Environment, MigrateOptions};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The legacy Perl configuration file (H-Sphere 2.2 kept it at /etc/OpenSRS.conf).
    pub path: PathBuf,
    /// Show what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply the plan without asking (otherwise it is shown first, and applied only when
    /// confirmed on a terminal).
    #[arg(long, short = 'y', conflicts_with = "dry_run")]
    pub yes: bool,
    /// The address OpenSRS approved for this host (H-Sphere's connection IP): requests
    /// leave from it.
    #[arg(long)]
    pub source_ip: Option<String>,
    /// Title of the connection to create.
    #[arg(long, default_value = "opensrs")]
    pub title: String,
    /// A flat legacy price per TLD, such as com=12.00: n years cost n times it (repeat).
    #[arg(long = "price", value_parser = price_pair)]
    pub prices: Vec<(String, String)>,
    #[arg(long, default_value = "USD")]
    pub currency: String,
    /// Use this system whatever the file says (needed when the file contradicts itself).
    #[arg(long, value_enum)]
    pub environment: Option<Environment>,
}

fn price_pair(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(t, a)| (t.trim().to_string(), a.trim().to_string()))
        .filter(|(t, a)| !t.is_empty() && !a.is_empty())
        .ok_or_else(|| format!("{s:?} is not TLD=AMOUNT, such as com=12.00"))
}

pub async fn run(data_dir: &Path, args: MigrateArgs) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.path.display()))?;
    // Old installs may hold Latin-1 comments; the values that matter are ASCII.
    let text = String::from_utf8_lossy(&bytes);
    let mut app = App::connect(data_dir).await?;
    let mut opts = MigrateOptions {
        title: args.title,
        prices: args.prices,
        currency: args.currency,
        environment: args.environment,
        dry_run: true,
        source_ip: args.source_ip,
    };
    // The plan first: nothing is written unless asked for.
    let plan = migrate::migrate(&mut app, &text, &opts, cli_actor()).await?;
    if args.dry_run || plan.changes.is_empty() {
        print!("{}", plan.render(true));
        return Ok(());
    }
    if !args.yes {
        print!("{}", plan.render(true));
        if !confirmed()? {
            println!("Nothing written. Run again with --yes to apply this plan.");
            return Ok(());
        }
    }
    opts.dry_run = false;
    let report = migrate::migrate(&mut app, &text, &opts, cli_actor()).await?;
    print!("{}", report.render(false));
    Ok(())
}

/// Asks on a terminal; anything else (a pipe, cron) is a no.
fn confirmed() -> anyhow::Result<bool> {
    use std::io::{IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    print!("Apply these changes? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
