//! The completed-registrations digest.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{parse_ts, ModelError, ReadModels};

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

impl ReadModels {
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
