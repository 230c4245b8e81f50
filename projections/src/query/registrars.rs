//! Connections, routes, prices, policies and stored contacts.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use domreg_events::settings::{AsyncPolicy, PriceKind, RegistrarConfig};
use domreg_events::Money;

use super::{kind_of, money};
use crate::{ModelError, ReadModels};

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

impl ReadModels {
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
        let years = if kind.priced_once() {
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
}
