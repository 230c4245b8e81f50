//! `domreg nameservers` and `domreg lock`: changes to a registered domain, sent to
//! OpenSRS once and recorded.

use std::path::Path;

use clap::Args;

use domreg_events::change::DomainChange;

use crate::admin::changes::{apply, ChangeOutcome};
use crate::app::{cli_actor, App};

#[derive(Debug, Args)]
pub struct NameserversArgs {
    pub domain: String,
    /// The new set (2 to 13 host names), replacing the current one.
    #[arg(required = true, num_args = 1..)]
    pub nameservers: Vec<String>,
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

pub async fn nameservers(data_dir: &Path, args: NameserversArgs) -> anyhow::Result<()> {
    let change = DomainChange::Nameservers {
        nameservers: args.nameservers,
    };
    run(data_dir, &args.domain, change, args.json).await
}

pub async fn lock(data_dir: &Path, args: LockArgs) -> anyhow::Result<()> {
    let change = DomainChange::Lock {
        locked: args.state == "on",
    };
    run(data_dir, &args.domain, change, args.json).await
}

async fn run(
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

fn print(o: &ChangeOutcome) {
    let answer = o
        .answer
        .as_ref()
        .map(|a| {
            format!(
                "{}{}",
                a.code.map(|c| format!("{c} ")).unwrap_or_default(),
                a.text.trim()
            )
        })
        .unwrap_or_default();
    match o.state {
        "applied" => println!("{}: {} (OpenSRS: {answer})", o.domain, o.change.describe()),
        _ => println!(
            "{}: {} sent as change {}, no answer yet ({answer}); the engine reads the domain back and records the outcome",
            o.domain,
            o.change.describe(),
            o.change_id
        ),
    }
}
