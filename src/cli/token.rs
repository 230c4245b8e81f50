//! `domreg token`: tokens for named admins and customer accounts (shown once).

use clap::{Args, Subcommand};

use crate::admin::access;
use crate::app::App;

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub which: TokenWhich,
}

#[derive(Debug, Subcommand)]
pub enum TokenWhich {
    /// Issue a token for a named admin (the audit names them) or a customer account (it
    /// opens only that account's routes and pages). Printed once; only a digest is kept.
    Issue {
        #[arg(
            long,
            conflicts_with = "customer",
            required_unless_present = "customer"
        )]
        admin: Option<String>,
        #[arg(long)]
        customer: Option<String>,
        /// A sign-in link's token for the customer's pages: good once, for a day.
        #[arg(long, requires = "customer")]
        link: bool,
        /// Revoke the holder's other tokens in the same step.
        #[arg(long)]
        rotate: bool,
        #[arg(long)]
        json: bool,
    },
    /// Every token issued, revoked ones too (never a token or its digest).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop a token working.
    Revoke { token_id: String },
}

pub async fn run(data_dir: &std::path::Path, args: TokenArgs) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    match args.which {
        TokenWhich::Issue {
            admin,
            customer,
            link,
            rotate,
            json,
        } => {
            let principal = access::principal(admin.as_deref(), customer.as_deref())?;
            let t =
                access::issue(&mut app, principal, link, rotate, crate::app::cli_actor()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&t)?);
                return Ok(());
            }
            println!("token {} for {}:", t.token_id, t.principal);
            match t.expires_at {
                Some(until) => println!(
                    "  /account/sign-in?link={}  (good once, until {until})",
                    t.token
                ),
                None => println!("  {}", t.token),
            }
            println!("shown once: domreg keeps only its digest");
            for id in &t.revoked {
                println!("revoked {id}");
            }
        }
        TokenWhich::List { json } => {
            app.catch_up().await?;
            let rows = access::list(&app)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(());
            }
            for r in rows {
                let state = match (r.revoked_at, r.expires_at) {
                    (Some(at), _) => format!("revoked {at}"),
                    (None, Some(until)) => format!("sign-in link until {until}"),
                    (None, None) => "live".into(),
                };
                println!(
                    "{}  {}  issued {}  {state}",
                    r.token_id, r.principal, r.issued_at
                );
            }
        }
        TokenWhich::Revoke { token_id } => {
            let r = access::revoke(
                &mut app,
                &token_id,
                "revoked by an admin",
                crate::app::cli_actor(),
            )
            .await?;
            println!("token {} of {} revoked", r.token_id, r.principal);
        }
    }
    Ok(())
}
