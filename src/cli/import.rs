//! `domreg import`: adopt domains of the account at OpenSRS from a mapping file.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::app::{cli_actor, App};
use crate::engine::import::{import, ImportReport};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The mapping: a CSV file of `domain,account` rows (a `domain,account` header is
    /// allowed; `#` starts a comment).
    pub mapping: PathBuf,
    /// The OpenSRS connection whose account holds the domains.
    #[arg(long)]
    pub registrar: String,
    /// Check every row and report; record nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long)]
    pub json: bool,
}

/// Mapping files larger than this are refused (a million rows is about 40 MB).
const MAX_MAPPING_BYTES: u64 = 64 << 20;

pub async fn run(data_dir: &Path, args: ImportArgs) -> anyhow::Result<()> {
    let size = std::fs::metadata(&args.mapping)
        .map_err(|e| anyhow::anyhow!("cannot read the mapping {}: {e}", args.mapping.display()))?
        .len();
    if size > MAX_MAPPING_BYTES {
        anyhow::bail!(
            "the mapping {} is {size} bytes; at most {MAX_MAPPING_BYTES} are read (split it)",
            args.mapping.display()
        );
    }
    let text = std::fs::read_to_string(&args.mapping).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the mapping {} as UTF-8 text: {e}",
            args.mapping.display()
        )
    })?;
    let mut app = App::connect(data_dir).await?;
    app.catch_up().await?;
    let client = crate::engine::client_for(&app, &args.registrar).map_err(anyhow::Error::msg)?;
    let source = args
        .mapping
        .file_name()
        .map_or_else(|| "mapping".into(), |n| n.to_string_lossy().into_owned());
    let report = import(
        &mut app,
        &client,
        &args.registrar,
        &text,
        &source,
        args.dry_run,
        cli_actor(),
    )
    .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print(&report);
    }
    Ok(())
}

fn print(r: &ImportReport) {
    println!(
        "{}: {} rows; {} {}, {} already here, {} refused",
        r.connection,
        r.rows,
        r.imported.len(),
        if r.dry_run {
            "would be imported (dry run)"
        } else {
            "imported"
        },
        r.already.len(),
        r.refused.len()
    );
    for i in &r.imported {
        println!(
            "  imported {} for {}: expires {}, automatic renewal {}",
            i.domain,
            i.account,
            i.expires_at.format("%Y-%m-%d"),
            if i.auto_renew { "on" } else { "off" }
        );
    }
    for f in &r.refused {
        println!("  line {}: {:?}: {}", f.line, f.row, f.reason);
    }
}
