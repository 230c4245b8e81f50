//! Queries of the read models, each served by an index.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use domreg_events::settings::{AsyncPolicy, PriceKind, RegistrarConfig};
use domreg_events::{Currency, Money};

use crate::{parse_ts, ts, ModelError, ReadModels};

/// A row of the Async Manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingOrder {
    pub order_id: String,
    pub domain: String,
    pub tld: String,
    pub account: String,
    pub kind: String,
    pub connection: String,
    pub requested_at: DateTime<Utc>,
    pub pending_since: DateTime<Utc>,
    pub reason: String,
    pub registrar_order_id: Option<String>,
    pub polls: u32,
    pub last_answer: Option<String>,
    pub poll_every_secs: u64,
    pub next_poll_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// Set when the engine handed the order to an admin instead of refunding it blind.
    pub escalated: Option<String>,
}

/// A finished order: how it ended, the refund, OpenSRS's last answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FinishedOrder {
    pub order_id: String,
    pub domain: String,
    pub tld: String,
    pub account: String,
    pub kind: String,
    pub connection: String,
    pub requested_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    /// `confirmed`, `rejected`, `timed_out` or `cancelled`.
    pub end: String,
    pub last_answer: Option<String>,
    pub refunded: Option<Money>,
}

/// Which finished orders: newest first, by end and time window.
#[derive(Debug, Clone, Default)]
pub struct FinishedQuery {
    pub end: Option<String>,
    pub account: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: usize,
    pub offset: usize,
}

/// Which pending orders, and which page.
#[derive(Debug, Clone, Default)]
pub struct PendingQuery {
    pub tld: Option<String>,
    pub account: Option<String>,
    /// Only orders whose next poll is due at or before this time.
    pub due_by: Option<DateTime<Utc>>,
    pub limit: usize,
    pub offset: usize,
}

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainRow {
    pub name: String,
    pub tld: String,
    /// `registering`, `transferring`, `renewing` or `registered`.
    pub status: String,
    pub account: String,
    pub connection: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub auto_renew: bool,
    pub open_order: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriceRow {
    pub tld: String,
    pub kind: PriceKind,
    /// `None` for transfers.
    pub years: Option<u8>,
    pub price: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyRow {
    pub tld: String,
    pub transfer: bool,
    pub policy: AsyncPolicy,
    /// Whether an admin set it (otherwise it is the default).
    pub configured: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestEntry {
    pub position: u64,
    pub order_id: String,
    pub domain: String,
    pub account: String,
    pub kind: String,
    pub outcome: String,
    pub at: DateTime<Utc>,
}

fn money(minor: i64, currency: &str) -> Result<Money, ModelError> {
    Currency::parse(currency)
        .map(|c| Money::new(minor, c))
        .map_err(|e| ModelError::Data(e.to_string()))
}

fn kind_of(s: &str) -> Result<PriceKind, ModelError> {
    match s {
        "register" => Ok(PriceKind::Register),
        "transfer" => Ok(PriceKind::Transfer),
        "renew" => Ok(PriceKind::Renew),
        other => Err(ModelError::Data(format!("bad price kind {other:?}"))),
    }
}

fn pending_row(r: &Row<'_>) -> rusqlite::Result<[String; 16]> {
    let text = |i: usize| -> rusqlite::Result<String> {
        Ok(match r.get_ref(i)? {
            rusqlite::types::ValueRef::Null => String::new(),
            rusqlite::types::ValueRef::Integer(n) => n.to_string(),
            v => v.as_str().map(str::to_string).unwrap_or_default(),
        })
    };
    Ok([
        text(0)?,
        text(1)?,
        text(2)?,
        text(3)?,
        text(4)?,
        text(5)?,
        text(6)?,
        text(7)?,
        text(8)?,
        text(9)?,
        text(10)?,
        text(11)?,
        text(12)?,
        text(13)?,
        text(14)?,
        text(15)?,
    ])
}

impl ReadModels {
    /// A page of pending orders, oldest first (or by next poll when `due_by` is given).
    pub fn pending_orders(&self, q: &PendingQuery) -> Result<Vec<PendingOrder>, ModelError> {
        let order = if q.due_by.is_some() {
            "next_poll_at"
        } else {
            "pending_since, order_id"
        };
        let sql = format!(
            "SELECT order_id, domain, tld, account, kind, connection, requested_at, pending_since, reason,
                    registrar_order_id, polls, last_answer, poll_every_secs, next_poll_at, deadline, escalated
             FROM am_pending
             WHERE (?1 IS NULL OR tld = ?1) AND (?2 IS NULL OR account = ?2) AND (?3 IS NULL OR next_poll_at <= ?3)
             ORDER BY {order} LIMIT ?4 OFFSET ?5"
        );
        let limit = if q.limit == 0 { 50 } else { q.limit };
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(
                params![
                    q.tld,
                    q.account,
                    q.due_by.map(ts),
                    limit as i64,
                    q.offset as i64
                ],
                pending_row,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|c| {
                let opt = |s: &String| (!s.is_empty()).then(|| s.clone());
                Ok(PendingOrder {
                    order_id: c[0].clone(),
                    domain: c[1].clone(),
                    tld: c[2].clone(),
                    account: c[3].clone(),
                    kind: c[4].clone(),
                    connection: c[5].clone(),
                    requested_at: parse_ts(&c[6])?,
                    pending_since: parse_ts(&c[7])?,
                    reason: c[8].clone(),
                    registrar_order_id: opt(&c[9]),
                    polls: c[10].parse().unwrap_or(0),
                    last_answer: opt(&c[11]),
                    poll_every_secs: c[12].parse().unwrap_or(0),
                    next_poll_at: parse_ts(&c[13])?,
                    deadline: parse_ts(&c[14])?,
                    escalated: opt(&c[15]),
                })
            })
            .collect()
    }

    /// Finished orders, newest first.
    pub fn finished_orders(&self, q: &FinishedQuery) -> Result<Vec<FinishedOrder>, ModelError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT order_id, domain, tld, account, kind, connection, requested_at, ended_at, ending,
                    last_answer, refunded_minor, currency
             FROM am_finished
             WHERE (?1 IS NULL OR ending = ?1) AND (?2 IS NULL OR account = ?2)
               AND (?3 IS NULL OR ended_at >= ?3) AND (?4 IS NULL OR ended_at < ?4)
             ORDER BY ended_at DESC, order_id LIMIT ?5 OFFSET ?6",
        )?;
        let limit = if q.limit == 0 { 50 } else { q.limit };
        let rows = stmt
            .query_map(
                params![
                    q.end,
                    q.account,
                    q.since.map(ts),
                    q.until.map(ts),
                    limit as i64,
                    q.offset as i64
                ],
                |r| {
                    Ok((
                        [
                            r.get::<_, String>(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                            r.get(6)?,
                            r.get(7)?,
                            r.get(8)?,
                        ],
                        r.get::<_, Option<String>>(9)?,
                        r.get::<_, Option<i64>>(10)?,
                        r.get::<_, Option<String>>(11)?,
                    ))
                },
            )?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(c, last_answer, minor, currency)| {
                let refunded = match (minor, currency) {
                    (Some(m), Some(cur)) => Some(money(m, &cur)?),
                    _ => None,
                };
                Ok(FinishedOrder {
                    order_id: c[0].clone(),
                    domain: c[1].clone(),
                    tld: c[2].clone(),
                    account: c[3].clone(),
                    kind: c[4].clone(),
                    connection: c[5].clone(),
                    requested_at: parse_ts(&c[6])?,
                    ended_at: parse_ts(&c[7])?,
                    end: c[8].clone(),
                    last_answer,
                    refunded,
                })
            })
            .collect()
    }

    /// What still uses a connection: registered domains it holds, and open orders of any
    /// stage (accepted, charged, submitted, pending) sent or to be sent through it.
    pub fn connection_usage(&self, connection: &str) -> Result<(u64, u64), ModelError> {
        let domains: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM dm_domains WHERE connection = ?1 AND expires_at IS NOT NULL",
            )?
            .query_row([connection], |r| r.get(0))?;
        let orders: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM am_orders WHERE connection = ?1")?
            .query_row([connection], |r| r.get(0))?;
        Ok((domains as u64, orders as u64))
    }

    /// The domain of any order, open or ended.
    pub fn order_domain(&self, order: &str) -> Result<Option<String>, ModelError> {
        Ok(self
            .conn
            .prepare_cached("SELECT domain FROM dm_orders WHERE order_id = ?1")?
            .query_row([order], |r| r.get(0))
            .optional()?)
    }

    /// Submissions without an outcome whose engine's lease ran out before `now` (or that
    /// were written before leases), oldest first, as `(order_id, domain)`.
    pub fn lapsed_submissions(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<(String, String)>, ModelError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT order_id, domain FROM am_orders
             WHERE stage = 'submitted' AND (lease_until IS NULL OR lease_until <= ?1)
             ORDER BY requested_at LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![ts(now), limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Open orders in a stage (`accepted`, `charged`, `submitted`, `pending`), oldest
    /// first, as `(order_id, domain)`.
    pub fn orders_in_stage(
        &self,
        stage: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>, ModelError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT order_id, domain FROM am_orders WHERE stage = ?1 ORDER BY requested_at LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![stage, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// An account's stored contacts.
    pub fn account_contacts(
        &self,
        account: &str,
    ) -> Result<Option<domreg_events::ContactSet>, ModelError> {
        let json: Option<String> = self
            .conn
            .prepare_cached("SELECT contacts FROM rc_contacts WHERE account = ?1")?
            .query_row([account], |r| r.get(0))
            .optional()?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| ModelError::Data(e.to_string())))
            .transpose()
    }

    /// Pending orders whose next poll or deadline has come.
    pub fn pending_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<(String, String)>, ModelError> {
        let now = ts(now);
        let mut stmt = self.conn.prepare_cached(
            // Due at the next poll, or at the deadline unless a poll past the deadline
            // already set the next try (its back-off): past the deadline an order that
            // cannot be ended is not retried every round.
            "SELECT order_id, domain FROM am_pending WHERE next_poll_at <= ?1
             UNION SELECT order_id, domain FROM am_pending
               WHERE deadline <= ?1 AND next_poll_at <= deadline LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![now, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Registered domains expiring at or before `t`, as `(name, connection)`.
    pub fn domains_expiring_before(
        &self,
        t: DateTime<Utc>,
    ) -> Result<Vec<(String, String)>, ModelError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, connection FROM dm_domains WHERE expires_at <= ?1 ORDER BY expires_at",
        )?;
        let rows = stmt
            .query_map([ts(t)], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The domain of an open order.
    pub fn open_order_domain(&self, order_id: &str) -> Result<Option<String>, ModelError> {
        Ok(self
            .conn
            .prepare_cached("SELECT domain FROM am_orders WHERE order_id = ?1")?
            .query_row([order_id], |r| r.get(0))
            .optional()?)
    }

    /// Orders by state (`accepted`, `pending`, `confirmed`, ...), every state listed.
    pub fn order_counts(&self) -> Result<Vec<(String, u64)>, ModelError> {
        let mut counts: Vec<(String, u64)> = [
            "accepted",
            "submitted",
            "pending",
            "confirmed",
            "rejected",
            "timed_out",
            "cancelled",
        ]
        .iter()
        .map(|s| (s.to_string(), 0))
        .collect();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT state, COUNT(*) FROM dm_orders GROUP BY state")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (state, n) = row?;
            match counts.iter_mut().find(|(s, _)| *s == state) {
                Some(slot) => slot.1 = n as u64,
                None => counts.push((state, n as u64)),
            }
        }
        Ok(counts)
    }

    /// Orders charged since `t` (each order is charged once, when it is placed).
    pub fn charges_since(&self, t: DateTime<Utc>) -> Result<u64, ModelError> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'charge' AND at >= ?1",
            [ts(t)],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    pub fn pending_count(&self) -> Result<u64, ModelError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM am_pending", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }

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

    pub fn domains(
        &self,
        account: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DomainRow>, ModelError> {
        let (filter, order) = if account.is_some() {
            ("account = ?1", "account, name")
        } else {
            ("?1 IS NULL", "name")
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT name, tld, status, account, connection, expires_at, auto_renew, open_order FROM dm_domains
             WHERE {filter} ORDER BY {order} LIMIT ?2"
        ))?;
        let rows = stmt
            .query_map(params![account, limit as i64], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, bool>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(
                |(name, tld, status, account, connection, expires, auto_renew, open_order)| {
                    Ok(DomainRow {
                        name,
                        tld,
                        status,
                        account,
                        connection,
                        expires_at: expires.as_deref().map(parse_ts).transpose()?,
                        auto_renew,
                        open_order,
                    })
                },
            )
            .collect()
    }

    pub fn registrars(&self) -> Result<Vec<RegistrarConfig>, ModelError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT config FROM rc_registrars ORDER BY title")?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.iter()
            .map(|j| serde_json::from_str(j).map_err(|e| ModelError::Data(e.to_string())))
            .collect()
    }

    pub fn registrar(&self, title: &str) -> Result<Option<RegistrarConfig>, ModelError> {
        Ok(self.registrars()?.into_iter().find(|r| r.title == title))
    }

    /// `(tld, registrar)` routes.
    pub fn routes(&self) -> Result<Vec<(String, String)>, ModelError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT tld, registrar FROM rc_routes ORDER BY tld")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub fn route(&self, tld: &str) -> Result<Option<String>, ModelError> {
        Ok(self
            .conn
            .prepare_cached("SELECT registrar FROM rc_routes WHERE tld = ?1")?
            .query_row([tld], |r| r.get(0))
            .optional()?)
    }

    pub fn prices(&self, tld: Option<&str>) -> Result<Vec<PriceRow>, ModelError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT tld, kind, years, amount_minor, currency FROM rc_prices WHERE (?1 IS NULL OR tld = ?1)
             ORDER BY tld, kind, years",
        )?;
        let rows = stmt
            .query_map(params![tld], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(tld, kind, years, minor, cur)| {
                Ok(PriceRow {
                    tld,
                    kind: kind_of(&kind)?,
                    years: (years > 0).then_some(years as u8),
                    price: money(minor, &cur)?,
                })
            })
            .collect()
    }

    /// The price of an order, if the TLD sells it.
    pub fn price(
        &self,
        tld: &str,
        kind: PriceKind,
        years: Option<u8>,
    ) -> Result<Option<Money>, ModelError> {
        let years = if kind == PriceKind::Transfer {
            0
        } else {
            i64::from(years.unwrap_or(1))
        };
        let row = self
            .conn
            .prepare_cached("SELECT amount_minor, currency FROM rc_prices WHERE tld = ?1 AND kind = ?2 AND years = ?3")?
            .query_row(params![tld, kind.as_str(), years], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .optional()?;
        row.map(|(m, c)| money(m, &c)).transpose()
    }

    /// The policy for a TLD: its own, else the `*` default, else H-Sphere's default.
    pub fn policy(&self, tld: &str, transfer: bool) -> Result<PolicyRow, ModelError> {
        for key in [tld, "*"] {
            let row = self
                .conn
                .prepare_cached("SELECT poll_every_secs, timeout_secs FROM rc_policies WHERE tld = ?1 AND transfer = ?2")?
                .query_row(params![key, transfer], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
                .optional()?;
            if let Some((poll, timeout)) = row {
                return Ok(PolicyRow {
                    tld: key.to_string(),
                    transfer,
                    policy: AsyncPolicy {
                        poll_every_secs: poll as u64,
                        timeout_secs: timeout as u64,
                    },
                    configured: true,
                });
            }
        }
        Ok(PolicyRow {
            tld: tld.to_string(),
            transfer,
            policy: AsyncPolicy::default_for(tld, transfer),
            configured: false,
        })
    }

    /// Configured policies plus the defaults of the TLDs H-Sphere knew.
    pub fn policies(&self) -> Result<Vec<PolicyRow>, ModelError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT tld FROM rc_policies UNION SELECT tld FROM rc_routes")?;
        let mut tlds: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        tlds.extend(["ca", "co.uk", "de", "*"].map(String::from));
        tlds.sort();
        tlds.dedup();
        let mut out = Vec::new();
        for tld in tlds {
            for transfer in [false, true] {
                out.push(self.policy(&tld, transfer)?);
            }
        }
        Ok(out)
    }

    /// Digest entries after a position (completions, timeouts, cancellations, rejections).
    pub fn digest_after(&self, position: u64) -> Result<Vec<DigestEntry>, ModelError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT commit_position, order_id, domain, account, kind, outcome, at FROM dg_entries
             WHERE commit_position > ?1 ORDER BY commit_position, prepare_position",
        )?;
        let rows = stmt
            .query_map([position as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(p, order_id, domain, account, kind, outcome, at)| {
                Ok(DigestEntry {
                    position: p as u64,
                    order_id,
                    domain,
                    account,
                    kind,
                    outcome,
                    at: parse_ts(&at)?,
                })
            })
            .collect()
    }
}
