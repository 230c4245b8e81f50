//! The engine's one question: which orders need it now, and for what.

use chrono::{DateTime, Utc};
use rusqlite::params;

use domreg_events::{OrderId, OrderKind};

use crate::{ts, ModelError, ReadModels};

/// What the engine has to do for an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Sent, no outcome recorded, its engine's lease lapsed: find out, never resend.
    Recover,
    /// Charged, not sent yet (or a send that never reached OpenSRS is due again).
    Submit,
    /// Pending, and its next poll or its deadline has come.
    Poll,
}

/// An order that needs the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueOrder {
    pub work: Work,
    pub order_id: OrderId,
    pub domain: String,
    pub kind: OrderKind,
    pub connection: String,
}

impl ReadModels {
    /// The orders due at `now`, oldest first in each kind of work, at most `limit` of
    /// each. With `every_submission`, every unfinished submission is recovered whatever
    /// its lease (an engine that holds the data directory's lock knows at start that
    /// nobody else is sending).
    pub fn due_work(
        &self,
        now: DateTime<Utc>,
        every_submission: bool,
        limit: usize,
    ) -> Result<Vec<DueOrder>, ModelError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT 'recover', order_id, domain, kind, connection FROM (
                 SELECT * FROM am_orders WHERE stage = 'submitted'
                   AND (?2 OR lease_until IS NULL OR lease_until <= ?1)
                 ORDER BY requested_at LIMIT ?3)
             UNION ALL SELECT 'submit', order_id, domain, kind, connection FROM (
                 SELECT * FROM am_orders WHERE stage = 'charged'
                   AND (retry_at IS NULL OR retry_at <= ?1)
                 ORDER BY requested_at LIMIT ?3)
             UNION ALL SELECT 'poll', order_id, domain, kind, connection FROM (
                 -- Due at the next poll, or at the deadline unless a poll past the deadline
                 -- already set the next try (its back-off): past the deadline an order that
                 -- cannot be ended is not retried every round.
                 SELECT * FROM am_pending WHERE next_poll_at <= ?1
                    OR (deadline <= ?1 AND next_poll_at <= deadline)
                 ORDER BY next_poll_at LIMIT ?3)",
        )?;
        let rows = stmt
            .query_map(params![ts(now), every_submission, limit as i64], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(work, order, domain, kind, connection)| {
                let bad = |what: &str| ModelError::Data(format!("order {order}: {what}"));
                Ok(DueOrder {
                    work: match work.as_str() {
                        "recover" => Work::Recover,
                        "submit" => Work::Submit,
                        _ => Work::Poll,
                    },
                    order_id: order.parse().map_err(|_| bad("not an order id"))?,
                    kind: kind.parse().map_err(|_| bad("unknown kind"))?,
                    domain,
                    connection,
                })
            })
            .collect()
    }
}
