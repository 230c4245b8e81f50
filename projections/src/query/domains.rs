//! The domain list and what expires.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use crate::{parse_ts, ts, ModelError, ReadModels};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainRow {
    pub name: String,
    pub tld: String,
    /// `registering`, `transferring`, `renewing`, `registered` or `gone` (no longer in
    /// the account at OpenSRS).
    pub status: String,
    pub account: String,
    pub connection: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub auto_renew: bool,
    pub open_order: Option<String>,
}

impl ReadModels {
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

    /// Changes sent to OpenSRS whose engine's lease has lapsed without an outcome:
    /// `(domain, change id)`, for the engine to resolve without sending them again.
    pub fn lapsed_changes(&self, now: DateTime<Utc>) -> Result<Vec<(String, String)>, ModelError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT domain, change_id FROM dm_changes
             WHERE state = 'submitted' AND lease_until <= ?1 ORDER BY lease_until LIMIT 1000",
        )?;
        let rows = stmt
            .query_map([crate::ts(now)], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}
