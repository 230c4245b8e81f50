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

#[derive(Debug, Clone, Serialize)]
pub struct BulkRefusal {
    pub domain: String,
    pub reason: String,
}

/// Applies `change` to each of `domains` in turn.
pub async fn bulk(
    app: &mut App,
    domains: &[String],
    change: &DomainChange,
    key: &str,
    actor: Actor,
    timeout: Option<std::time::Duration>,
) -> Result<BulkReport, AdminError> {
    domreg_events::ids::check_idempotency_key(key)
        .map_err(|e| AdminError::invalid("invalid_key", e))?;
    let change = change.clone().validated()?;
    let mut report = BulkReport {
        key: key.to_string(),
        domains: domains.len(),
        ..Default::default()
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

/// The default key of a bulk change: the change and the sorted domain list, so running
/// the same command again continues it.
pub fn default_key(change: &DomainChange, domains: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let mut sorted = domains.to_vec();
    sorted.sort();
    let text = format!(
        "{}\n{}",
        serde_json::to_string(change).unwrap_or_default(),
        sorted.join("\n")
    );
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("bulk-{hex}")
}
