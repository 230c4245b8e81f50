//! The billing ledger: entries and balances.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use domreg_events::Money;

use super::money;
use crate::{parse_ts, ModelError, ReadModels};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    pub position: u64,
    pub event_id: String,
    pub account: String,
    /// `charge`, `refund` or `credit`.
    pub kind: String,
    /// Signed: charges are negative.
    pub amount: Money,
    pub order_id: Option<String>,
    pub domain: Option<String>,
    pub note: String,
    pub at: DateTime<Utc>,
    pub balance_after: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balance {
    pub account: String,
    pub balance: Money,
}

impl ReadModels {
    /// An account's ledger (oldest first), or everyone's.
    pub fn ledger(
        &self,
        account: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LedgerEntry>, ModelError> {
        let filter = if account.is_some() {
            "account = ?1"
        } else {
            "?1 IS NULL"
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT commit_position, event_id, account, kind, amount_minor, currency, order_id, domain, note, at, balance_after
             FROM ledger_entries WHERE {filter}
             ORDER BY account, commit_position, prepare_position LIMIT ?2"
        ))?;
        let rows = stmt
            .query_map(params![account, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, String>(9)?,
                    r.get::<_, i64>(10)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(
                |(p, id, account, kind, amount, cur, order, domain, note, at, after)| {
                    Ok(LedgerEntry {
                        position: p as u64,
                        event_id: id,
                        account,
                        kind,
                        amount: money(amount, &cur)?,
                        order_id: order,
                        domain,
                        note,
                        at: parse_ts(&at)?,
                        balance_after: money(after, &cur)?,
                    })
                },
            )
            .collect()
    }

    pub fn balances(&self) -> Result<Vec<Balance>, ModelError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT account, currency, balance_minor FROM ledger_balances ORDER BY account, currency")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(account, cur, minor)| {
                Ok(Balance {
                    account,
                    balance: money(minor, &cur)?,
                })
            })
            .collect()
    }

    /// An account's balance in one currency (zero when it has no entries).
    pub fn balance(
        &self,
        account: &str,
        currency: domreg_events::Currency,
    ) -> Result<Money, ModelError> {
        let minor: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT balance_minor FROM ledger_balances WHERE account = ?1 AND currency = ?2",
            )?
            .query_row(params![account, currency.code()], |r| r.get(0))
            .optional()?;
        Ok(Money::new(minor.unwrap_or(0), currency))
    }

    /// An account's balance in `currency` and which of `orders` the ledger shows charged,
    /// read in one transaction. Read apart, another connection could fold a charge in
    /// between: its order would count as charged while the balance does not show the
    /// charge yet, and the money would be spendable twice.
    pub fn balance_and_charged<'a>(
        &self,
        account: &str,
        currency: domreg_events::Currency,
        orders: impl IntoIterator<Item = &'a str>,
    ) -> Result<(Money, BTreeSet<String>), ModelError> {
        // Deferred: the snapshot starts at the first read and ends when `tx` drops.
        let tx = self.conn.unchecked_transaction()?;
        let balance = self.balance(account, currency)?;
        let mut charged = BTreeSet::new();
        let mut stmt = tx.prepare_cached(
            "SELECT 1 FROM ledger_entries WHERE order_id = ?1 AND kind = 'charge' LIMIT 1",
        )?;
        for order in orders {
            if stmt.query_row([order], |_| Ok(())).optional()?.is_some() {
                charged.insert(order.to_string());
            }
        }
        Ok((balance, charged))
    }

    /// The credit limits that apply to an account: its own and the default (`account:
    /// None`), in every currency.
    pub fn credit_limits(
        &self,
        account: &str,
    ) -> Result<Vec<domreg_events::settings::CreditLimitSet>, ModelError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT account, currency, limit_minor FROM rc_credit_limits
             WHERE account = ?1 OR account = '*' ORDER BY account = ?1",
        )?;
        let rows = stmt
            .query_map([account], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(who, cur, minor)| {
                Ok(domreg_events::settings::CreditLimitSet {
                    account: match who.as_str() {
                        "*" => None,
                        a => Some(
                            domreg_events::AccountId::parse(a)
                                .map_err(|e| ModelError::Data(e.to_string()))?,
                        ),
                    },
                    limit: money(minor, &cur)?,
                })
            })
            .collect()
    }
}
