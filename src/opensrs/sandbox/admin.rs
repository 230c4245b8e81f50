//! The sandbox's control endpoint: JSON under `/sandbox/`, so tests can inspect the state
//! and script scenarios (faults, clock, domains, settings, balances). Loopback use only.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::faults::FaultRule;
use super::state::{DomainRecord, Settings, State, OTHER_REGISTRAR};

#[derive(Deserialize)]
struct ClockChange {
    advance_secs: Option<i64>,
    now: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct SeedDomain {
    name: String,
    /// A reseller login; absent: another registrar.
    owner: Option<String>,
    expires: Option<DateTime<Utc>>,
    #[serde(default = "yes")]
    transferable: bool,
}

fn yes() -> bool {
    true
}

/// A change made at OpenSRS without the engine: through the reseller's control panel,
/// by the registry, or by another registrar.
#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
enum BehindTheBack {
    /// Another registrar took the domain (TRANSFER STATUS_CHANGE, completed, is raised).
    TransferAway { name: String },
    /// Deleted from the account (DOMAIN DELETED is raised).
    Delete { name: String },
    /// Renewed outside domreg (DOMAIN RENEWED is raised).
    Renew { name: String, years: u8 },
    /// The registry's date corrected; no event, so only a reconciliation finds it.
    SetExpiry {
        name: String,
        expires: DateTime<Utc>,
    },
}

#[derive(Deserialize)]
struct SetBalance {
    user: String,
    cents: i64,
}

/// Handles `method path` with a JSON `body`; returns `(status, json)`.
pub fn handle(state: &mut State, method: &str, path: &str, body: &[u8]) -> (&'static str, Json) {
    let parse = |body: &[u8]| -> Result<Json, String> {
        if body.is_empty() {
            Ok(Json::Null)
        } else {
            serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))
        }
    };
    let result: Result<Json, String> = (|| {
        match (method, path.trim_end_matches('/')) {
        ("GET", "/sandbox/state") => {
            state.tick();
            serde_json::to_value(&*state).map_err(|e| e.to_string())
        }
        ("GET", "/sandbox/counters") => serde_json::to_value(&state.counters).map_err(|e| e.to_string()),
        ("POST", "/sandbox/faults") => {
            let rules: Vec<FaultRule> = serde_json::from_value(parse(body)?).map_err(|e| format!("faults: {e}"))?;
            state.faults = rules;
            Ok(json!({ "faults": state.faults }))
        }
        ("DELETE", "/sandbox/faults") => {
            state.faults.clear();
            Ok(json!({ "faults": [] }))
        }
        ("POST", "/sandbox/clock") => {
            let change: ClockChange = serde_json::from_value(parse(body)?).map_err(|e| format!("clock: {e}"))?;
            // Bounded, so the sandbox's clock arithmetic can never overflow.
            const LIMIT: i64 = 100 * 366 * 24 * 3600;
            let mut offset = state.clock_offset_secs;
            if let Some(s) = change.advance_secs {
                offset = offset.saturating_add(s);
            }
            if let Some(now) = change.now {
                offset = now.signed_duration_since(Utc::now()).num_seconds();
            }
            if offset.abs() > LIMIT {
                return Err(format!("clock: the sandbox's clock may move at most 100 years from now, not {offset} s"));
            }
            state.clock_offset_secs = offset;
            state.tick();
            Ok(json!({ "now": state.now() }))
        }
        ("POST", "/sandbox/settings") => {
            let mut current = serde_json::to_value(&state.settings).map_err(|e| e.to_string())?;
            if let (Some(cur), Json::Object(changes)) = (current.as_object_mut(), parse(body)?) {
                cur.extend(changes);
            }
            state.settings = serde_json::from_value::<Settings>(current).map_err(|e| format!("settings: {e}"))?;
            Ok(json!({ "settings": state.settings }))
        }
        ("POST", "/sandbox/domains") => {
            let seed: SeedDomain = serde_json::from_value(parse(body)?).map_err(|e| format!("domain: {e}"))?;
            let now = state.now();
            let record = DomainRecord {
                owner: seed.owner.unwrap_or_else(|| OTHER_REGISTRAR.into()),
                created: now - Duration::days(30),
                expires: seed.expires.unwrap_or(domreg_events::calendar::years_later(now, 1)),
                auto_renew: false,
                transferable: seed.transferable,
                nameservers: Vec::new(),
                renewed_from_year: None,
            };
            state.domains.insert(seed.name.to_ascii_lowercase(), record.clone());
            serde_json::to_value(record).map_err(|e| e.to_string())
        }
        ("POST", "/sandbox/behind") => {
            let change: BehindTheBack = serde_json::from_value(parse(body)?)
                .map_err(|e| format!("behind: {e}; actions: transfer_away, delete, renew (years), set_expiry (expires)"))?;
            behind_the_back(state, change)
        }
        ("POST", "/sandbox/balance") => {
            let b: SetBalance = serde_json::from_value(parse(body)?).map_err(|e| format!("balance: {e}"))?;
            state.balances_cents.insert(b.user.clone(), b.cents);
            Ok(json!({ "user": b.user, "cents": b.cents }))
        }
        _ => Err(format!(
            "unknown sandbox admin route {method} {path}; routes: GET /sandbox/state, GET /sandbox/counters, \
             POST|DELETE /sandbox/faults, POST /sandbox/clock, POST /sandbox/settings, POST /sandbox/domains, POST /sandbox/behind, POST /sandbox/balance"
        )),
    }
    })();
    match result {
        Ok(v) => ("200 OK", v),
        Err(e) => ("400 Bad Request", json!({ "error": e })),
    }
}

fn behind_the_back(state: &mut State, change: BehindTheBack) -> Result<Json, String> {
    let name = match &change {
        BehindTheBack::TransferAway { name }
        | BehindTheBack::Delete { name }
        | BehindTheBack::Renew { name, .. }
        | BehindTheBack::SetExpiry { name, .. } => name.to_ascii_lowercase(),
    };
    let record = state
        .domains
        .get(&name)
        .filter(|d| d.owner != OTHER_REGISTRAR)
        .cloned()
        .ok_or_else(|| format!("behind: {name} is in no reseller's account"))?;
    let reseller = record.owner.clone();
    let now = state.now();
    match change {
        BehindTheBack::TransferAway { .. } => {
            if let Some(d) = state.domains.get_mut(&name) {
                d.owner = OTHER_REGISTRAR.into();
            }
            state.profiles.remove(&name);
            state.transfers_away.push(super::state::TransferredAway {
                domain: name.clone(),
                reseller: reseller.clone(),
                gaining_registrar: "Example Gaining Registrar, Inc.".into(),
                completed: now,
            });
            state.raise(
                &reseller,
                "TRANSFER",
                "STATUS_CHANGE",
                &[
                    ("domain_name", name.clone()),
                    ("transfer_status", "completed".into()),
                    ("type", "transfer_away".into()),
                ],
            );
        }
        BehindTheBack::Delete { .. } => {
            state.domains.remove(&name);
            state.profiles.remove(&name);
            state.raise(
                &reseller,
                "DOMAIN",
                "DELETED",
                &[
                    ("domain_name", name.clone()),
                    ("reason", "deleted by the reseller".into()),
                ],
            );
        }
        BehindTheBack::Renew { years, .. } => {
            if !(1..=10).contains(&years) {
                return Err(format!("behind: renew by 1 to 10 years, not {years}"));
            }
            let expires = domreg_events::calendar::years_later(record.expires, years);
            if let Some(d) = state.domains.get_mut(&name) {
                d.expires = expires;
            }
            state.raise(
                &reseller,
                "DOMAIN",
                "RENEWED",
                &[
                    ("domain_name", name.clone()),
                    ("expiration_date", super::feed::feed_date(expires)),
                    ("period", years.to_string()),
                ],
            );
        }
        BehindTheBack::SetExpiry { expires, .. } => {
            if (expires - now).num_days().abs() > 20 * 366 {
                return Err(format!(
                    "behind: an expiry within 20 years of now, not {expires}"
                ));
            }
            if let Some(d) = state.domains.get_mut(&name) {
                d.expires = expires;
            }
        }
    }
    Ok(json!({ "domain": name, "record": state.domains.get(&name) }))
}
