//! `domreg account`: payments received, stored contacts, credit limits and what an
//! account can spend.

use clap::{Args, Subcommand};

use crate::app::{cli_actor, App};

#[derive(Debug, Args)]
pub struct AccountArgs {
    #[command(subcommand)]
    pub which: AccountWhich,
}

#[derive(Debug, Subcommand)]
pub enum AccountWhich {
    /// Record a payment received from an account.
    Credit {
        account: String,
        #[arg(allow_hyphen_values = true)]
        amount: String,
        #[arg(long, default_value = "USD")]
        currency: String,
        #[arg(long, default_value = "")]
        note: String,
        /// Makes the credit safe to retry: the same key (per account) credits once.
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// Store the contacts the account's orders use by default (JSON contact set).
    Contacts(super::orders::ContactsArgs),
    /// Set the most an account may owe (0: no debt, the default): an order that would
    /// take its balance below minus this is refused and nothing is charged.
    Limit {
        account: String,
        amount: String,
        #[arg(long, default_value = "USD")]
        currency: String,
    },
    /// Set the credit limit of every account that has none of its own (0 unless set).
    DefaultLimit {
        amount: String,
        #[arg(long, default_value = "USD")]
        currency: String,
    },
    /// An account's balance, what is held for orders being placed, its credit limit and
    /// what it can spend now.
    Show {
        account: String,
        #[arg(long, default_value = "USD")]
        currency: String,
        #[arg(long)]
        json: bool,
    },
}

async fn set_limit(
    app: &mut App,
    account: Option<&str>,
    amount: &str,
    currency: &str,
) -> anyhow::Result<()> {
    let l = crate::admin::settings::set_credit_limit(app, account, amount, currency, cli_actor())
        .await?;
    match &l.account {
        Some(a) => println!("credit limit of {a} set to {}", l.limit),
        None => println!(
            "default credit limit set to {} (for accounts without their own)",
            l.limit
        ),
    }
    if let Some(s) = &l.standing {
        println!("can spend {} now", s.standing.available);
    }
    Ok(())
}

pub async fn account(data_dir: &std::path::Path, args: AccountArgs) -> anyhow::Result<()> {
    if let AccountWhich::Contacts(c) = args.which {
        return super::orders::store_contacts(data_dir, c).await;
    }
    let mut app = App::connect(data_dir).await?;
    app.catch_up().await?;
    match args.which {
        AccountWhich::Credit {
            account,
            amount,
            currency,
            note,
            idempotency_key,
        } => {
            let c = crate::admin::settings::credit(
                &mut app,
                &account,
                &amount,
                &currency,
                &note,
                idempotency_key.as_deref(),
                cli_actor(),
            )
            .await?;
            if c.repeated {
                println!(
                    "{} was already credited with {} under this key; nothing more credited; balance {}",
                    c.account, c.amount, c.balance
                );
            } else {
                println!(
                    "credited {} with {}; balance {}",
                    c.account, c.amount, c.balance
                );
            }
        }
        AccountWhich::Limit {
            account,
            amount,
            currency,
        } => set_limit(&mut app, Some(&account), &amount, &currency).await?,
        AccountWhich::DefaultLimit { amount, currency } => {
            set_limit(&mut app, None, &amount, &currency).await?
        }
        AccountWhich::Show {
            account,
            currency,
            json,
        } => {
            let s = crate::admin::settings::standing(&mut app, &account, &currency).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                let st = &s.standing;
                println!("account       {}", s.account);
                println!("balance       {}", st.balance);
                println!("held          {}", st.held);
                println!("credit limit  {}", st.credit_limit);
                println!("can spend     {}", st.available);
            }
        }
        AccountWhich::Contacts(_) => {}
    }
    Ok(())
}
