//! The Async Manager's queries: pending and finished orders, counts.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use domreg_events::Money;

use super::money;
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
}
