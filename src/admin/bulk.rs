//! One change applied to many domains (`domreg bulk`): one recorded change per domain,
//! each under an id derived from the bulk's key and the domain, so a run cut short and
//! started again with the same key finishes the rest and repeats none.

use serde::Serialize;

use domreg_events::change::DomainChange;
use domreg_events::*;

use super::changes::{apply_as, ChangeOutcome};
use super::AdminError;
use crate::app::App;

#[derive(Debug, Clone, Default, Serialize)]
pub struct BulkReport {
    pub key: String,
    pub domains: usize,
    /// Made by this run.
    pub applied: Vec<String>,
    /// Made or refused by an earlier run with the same key: not sent again.
    pub earlier: Vec<String>,
    /// Refused by OpenSRS (recorded) or by the model (nothing written), with why.
    pub refused: Vec<BulkRefusal>,
    /// Sent without an answer yet: the engine (or the next run, once the sender's lease
    /// has lapsed) reads the domain back.
    pub sent: Vec<String>,
}

/// What a bulk applies: a change sent to OpenSRS, or the domains' automatic renewal
/// (a setting kept here, written only where it differs).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum BulkChange {
    Registrar(DomainChange),
    AutoRenew(AutoRenewTerms),
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoRenewTerms {
    pub enabled: bool,
    /// Years per automatic renewal (1 to 10); absent: the connection's.
    #[serde(deserialize_with = "super::lenient::opt_int", default)]
    pub years: Option<i64>,
}

impl BulkChange {
    /// From the API's JSON: `{"change": "auto_renew", "enabled": true, "years": 2}` or
    /// any domain change (`nameservers`, `lock`, `privacy`, `contacts`).
    pub fn from_json(mut v: serde_json::Value) -> Result<Self, AdminError> {
        let bad = |e: String| {
            AdminError::invalid(
                "invalid_change",
                format!("{e}; a bulk change is nameservers, lock, privacy, contacts or auto_renew"),
            )
        };
        let change = if v.get("change").and_then(|c| c.as_str()) == Some("auto_renew") {
            if let Some(o) = v.as_object_mut() {
                o.remove("change");
            }
            BulkChange::AutoRenew(serde_json::from_value(v).map_err(|e| bad(e.to_string()))?)
        } else {
            BulkChange::Registrar(serde_json::from_value(v).map_err(|e| bad(e.to_string()))?)
        };
        change.checked()
    }

    /// Refuses what is never done in bulk, before any domain is touched.
    pub fn checked(self) -> Result<Self, AdminError> {
        match self {
            BulkChange::Registrar(
                c @ (DomainChange::IpsTag { .. } | DomainChange::ChildNameserver { .. }),
            ) => Err(AdminError::invalid(
                "invalid_change",
                format!(
                    "{} is made one domain at a time, never in bulk",
                    c.describe()
                ),
            )),
            BulkChange::Registrar(c) => Ok(BulkChange::Registrar(c.validated()?)),
            BulkChange::AutoRenew(t) => {
                if let Some(y) = t.years {
                    Period::years(y).map_err(|_| {
                        AdminError::invalid(
                            "invalid_years",
                            format!("years {y}: an automatic renewal orders 1 to 10 years"),
                        )
                    })?;
                }
                Ok(BulkChange::AutoRenew(t))
            }
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BulkRefusal {
    pub domain: String,
    pub reason: String,
}

/// Applies `change` to each of `domains` in turn.
pub async fn bulk(
    app: &mut App,
    domains: &[String],
    change: &BulkChange,
    key: &str,
    actor: Actor,
    timeout: Option<std::time::Duration>,
) -> Result<BulkReport, AdminError> {
    domreg_events::ids::check_idempotency_key(key)
        .map_err(|e| AdminError::invalid("invalid_key", e))?;
    let mut report = BulkReport {
        key: key.to_string(),
        domains: domains.len(),
        ..Default::default()
    };
    let change = match change.clone().checked()? {
        BulkChange::Registrar(c) => c,
        BulkChange::AutoRenew(terms) => {
            auto_renew(app, domains, &terms, actor, &mut report).await?;
            return Ok(report);
        }
    };
    for domain in domains {
        let refuse = |report: &mut BulkReport, reason: String| {
            report.refused.push(BulkRefusal {
                domain: domain.clone(),
                reason,
            })
        };
        let Ok(id) = OrderId::for_bulk_change(key, domain) else {
            refuse(&mut report, "no change id could be made for it".into());
            continue;
        };
        match apply_as(app, domain, change.clone(), actor.clone(), id, timeout).await {
            // An earlier run's change still without an answer (its sender's lease runs,
            // or the read back did not answer) is not done: it is reported as sent.
            Ok(o) if o.earlier && o.state == "sent" => report.sent.push(domain.clone()),
            Ok(ChangeOutcome { earlier: true, .. }) => report.earlier.push(domain.clone()),
            Ok(o) if o.state == "applied" => report.applied.push(domain.clone()),
            Ok(o) if o.state == "refused" => refuse(
                &mut report,
                o.answer.map(|a| a.text).unwrap_or_else(|| "refused".into()),
            ),
            Ok(_) => report.sent.push(domain.clone()),
            Err(AdminError::Internal(e)) => return Err(AdminError::Internal(e)),
            Err(e) => refuse(&mut report, e.to_string()),
        }
    }
    Ok(report)
}

/// Automatic renewal for each domain, written only where it differs (so a re-run
/// repeats nothing).
async fn auto_renew(
    app: &mut App,
    domains: &[String],
    terms: &AutoRenewTerms,
    actor: Actor,
    report: &mut BulkReport,
) -> Result<(), AdminError> {
    let years = terms.years.map(Period::years).transpose().ok().flatten();
    for domain in domains {
        let refuse = |report: &mut BulkReport, reason: String| {
            report.refused.push(BulkRefusal {
                domain: domain.clone(),
                reason,
            })
        };
        let Ok(name) = DomainName::parse(domain) else {
            refuse(report, format!("{domain:?} is not a domain name"));
            continue;
        };
        let state = crate::unit_of_work::load(&app.store, &name).await?;
        if state.auto_renew == terms.enabled && (years.is_none() || state.auto_renew_years == years)
        {
            report.earlier.push(domain.clone());
            continue;
        }
        match super::orders::set_auto_renew(app, domain, terms.enabled, years, actor.clone()).await
        {
            Ok(_) => report.applied.push(domain.clone()),
            Err(AdminError::Internal(e)) => return Err(AdminError::Internal(e)),
            Err(e) => refuse(report, e.to_string()),
        }
    }
    Ok(())
}

/// The default key of a bulk change: the change and the sorted domain list, so running
/// the same command again continues it.
pub fn default_key(change: &BulkChange, domains: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let mut sorted = domains.to_vec();
    sorted.sort();
    let text = format!(
        "{}\n{}",
        serde_json::to_string(change).unwrap_or_default(),
        sorted.join("\n")
    );
    let digest = Sha256::digest(text.as_bytes());
    format!("bulk-{}", crate::hex::hex(&digest[..12]))
}
