//! What must hold at the end, checked from the log itself, the read models (`domreg
//! verify`, `domreg domains`) and the sandbox's own state.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::load::Acks;
use super::world::{cli, Endpoints};

/// One order as the log tells it.
#[derive(Debug, Default, Clone)]
pub struct OrderFacts {
    pub domain: String,
    pub kind: String,
    pub charged: u32,
    pub refunded: u32,
    pub submitted: u32,
    /// Sends that provably never left the engine's machine (refused at connect).
    pub not_sent: u32,
    /// Sent once more after OpenSRS showed no trace of the first send.
    pub resubmitted: u32,
    pub ends: Vec<String>,
    pub requested_at: i64,
    pub ended_at: Option<i64>,
    /// Handed to the admin (and not reset since): open, but explained.
    pub escalated: bool,
}

/// `(event type, data, time)` of every event of the log the suite runs on, in order:
/// the data directory's own file, or the PostgreSQL log its engines share.
pub async fn log_rows(ep: &Endpoints) -> Vec<(String, Vec<u8>, i64)> {
    if let Some(url) = &ep.store {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("the PostgreSQL log answers");
        tokio::spawn(connection);
        let rows = client
            .query(
                "SELECT event_type, data, at_micros FROM domreg_events ORDER BY position",
                &[],
            )
            .await
            .expect("the PostgreSQL log reads");
        return rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
    }
    domreg::store::SqliteStore::read_file(ep.dir.join("events.db"))
        .expect("the log opens")
        .into_iter()
        .map(|e| (e.event_type, e.data, e.metadata.at.timestamp_micros()))
        .collect()
}

/// Every order in the log, by id.
pub async fn orders_in_log(ep: &Endpoints) -> BTreeMap<String, OrderFacts> {
    let rows = log_rows(ep).await;
    let mut orders: BTreeMap<String, OrderFacts> = BTreeMap::new();
    for (event_type, data, at) in rows {
        let v: Value = serde_json::from_slice(&data).unwrap_or(Value::Null);
        // Holds name the order they pay for, on the account's stream; an order is what a
        // domain's stream records (a hold whose placement was refused is no order).
        if matches!(
            event_type.as_str(),
            "AccountCredited" | "FundsHeld" | "FundsReleased"
        ) {
            continue;
        }
        let Some(id) = v["order_id"].as_str() else {
            continue;
        };
        let o = orders.entry(id.to_string()).or_default();
        match event_type.as_str() {
            "Requested" => {
                o.domain = v["domain"].as_str().unwrap_or_default().to_string();
                o.kind = v["kind"].as_str().unwrap_or_default().to_string();
                o.requested_at = at;
            }
            "Charged" => o.charged += 1,
            "Refunded" => o.refunded += 1,
            "Submitted" => o.submitted += 1,
            "SendFailed" => o.not_sent += 1,
            "Resubmitted" => o.resubmitted += 1,
            "Escalated" => o.escalated = true,
            "DeadlineReset" => o.escalated = false,
            "Confirmed" | "Rejected" | "TimedOut" | "Cancelled" => {
                o.ends.push(event_type.clone());
                o.ended_at.get_or_insert(at);
            }
            _ => {}
        }
    }
    orders
}

/// Orders that have not ended yet and wait for the engine (not for an admin).
pub async fn open_orders(ep: &Endpoints) -> usize {
    orders_in_log(ep)
        .await
        .values()
        .filter(|o| o.ends.is_empty() && !o.escalated)
        .count()
}

/// Each account's balance summed by the suite itself from the log's money events:
/// credits minus charges plus refunds, per `(account, currency)`.
pub async fn balances_from_log(ep: &Endpoints) -> BTreeMap<(String, String), i64> {
    let rows = log_rows(ep).await;
    let mut sums = BTreeMap::new();
    for (t, data, _) in rows {
        if !matches!(t.as_str(), "AccountCredited" | "Charged" | "Refunded") {
            continue;
        }
        let v: Value = serde_json::from_slice(&data).unwrap_or(Value::Null);
        let key = (
            v["account"].as_str().unwrap_or_default().to_string(),
            v["amount"]["currency"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
        let minor = v["amount"]["minor"].as_i64().unwrap_or(0);
        *sums.entry(key).or_insert(0i64) += if t == "Charged" { -minor } else { minor };
    }
    sums
}

#[derive(Debug, Default)]
pub struct Verdict {
    pub violations: Vec<String>,
    pub ends: BTreeMap<String, u64>,
    pub still_pending: u64,
    /// Open orders the engine handed to the admin, with the reason in the log.
    pub escalated: u64,
    pub sw_register_calls: u64,
    pub renew_calls: u64,
    /// Requested → end of synchronous (.com) registrations, in milliseconds.
    pub sync_latencies_ms: Vec<f64>,
}

pub async fn check(ep: &Endpoints, acks: &Acks) -> Verdict {
    let mut v = Verdict::default();
    let orders = orders_in_log(ep).await;

    for id in &acks.orders {
        if !orders.contains_key(id) {
            v.violations
                .push(format!("acknowledged order {id} is not in the log"));
        }
    }
    let mut submitted_by_domain: BTreeMap<(String, bool), u32> = BTreeMap::new();
    // Sends that may have reached the sandbox, registrations and renewals apart.
    let mut sends: BTreeMap<bool, u64> = BTreeMap::new();
    for (id, o) in &orders {
        match o.ends.as_slice() {
            [] if o.escalated => v.escalated += 1,
            [] => {
                v.still_pending += 1;
                v.violations.push(format!(
                    "order {id} ({} {}) never ended and was not handed to the admin",
                    o.kind, o.domain
                ));
            }
            [end] => *v.ends.entry(end.clone()).or_default() += 1,
            many => v.violations.push(format!(
                "order {id} ({}) ended {} times: {many:?}",
                o.domain,
                many.len()
            )),
        }
        if o.charged > 1 {
            v.violations.push(format!(
                "order {id} ({}) was charged {} times",
                o.domain, o.charged
            ));
        }
        if o.refunded > o.charged {
            v.violations.push(format!(
                "order {id} ({}) was refunded more than charged",
                o.domain
            ));
        }
        if let [end] = o.ends.as_slice() {
            let should_refund = u32::from(end != "Confirmed" && o.charged == 1);
            if o.refunded != should_refund {
                v.violations.push(format!(
                    "order {id} ({}) ended {end} with {} refunds, not {should_refund}",
                    o.domain, o.refunded
                ));
            }
        }
        // One send, plus those that never left this machine, plus at most one more
        // after OpenSRS showed no trace of the first.
        if o.resubmitted > 1 || o.submitted > 1 + o.not_sent + o.resubmitted {
            v.violations.push(format!(
                "order {id} ({}) was submitted {} times ({} never sent, {} sent once more)",
                o.domain, o.submitted, o.not_sent, o.resubmitted
            ));
        }
        if o.submitted > 0 {
            // What OpenSRS may have performed: one per order.
            *submitted_by_domain
                .entry((o.domain.clone(), o.kind == "renew"))
                .or_default() += 1;
        }
        *sends.entry(o.kind == "renew").or_default() +=
            u64::from(o.submitted - o.not_sent.min(o.submitted));
        if o.kind == "register" && o.domain.ends_with(".com") && !o.domain.starts_with("taken") {
            if let Some(end) = o.ended_at {
                v.sync_latencies_ms
                    .push((end - o.requested_at) as f64 / 1000.0);
            }
        }
    }

    // The sandbox: never more calls that act than orders submitted.
    let counters = ep.sandbox_get("/sandbox/counters").await;
    for (field, renew) in [("sw_register_by_domain", false), ("renew_by_domain", true)] {
        for (domain, n) in counters[field].as_object().cloned().unwrap_or_default() {
            let n = n.as_u64().unwrap_or(0) as u32;
            let allowed = submitted_by_domain
                .get(&(domain.clone(), renew))
                .copied()
                .unwrap_or(0);
            if n > allowed {
                v.violations.push(format!(
                    "the sandbox performed {n} {} for {domain}, but only {allowed} orders were submitted",
                    if renew { "RENEW" } else { "SW_REGISTER" }
                ));
            }
        }
    }
    let calls = &counters["calls"];
    let count = |k: &str| calls[k].as_u64().unwrap_or(0);
    v.sw_register_calls = count("SW_REGISTER") + count("SW_REGISTER (faulted)");
    v.renew_calls = count("RENEW") + count("RENEW (faulted)");
    let submitted_registers: u64 = sends.get(&false).copied().unwrap_or(0);
    if v.sw_register_calls > submitted_registers {
        v.violations.push(format!(
            "the sandbox received {} SW_REGISTER calls for {submitted_registers} sends",
            v.sw_register_calls
        ));
    }

    // Money: the ledger's balances equal the suite's own sum of the log's money events.
    let expected = balances_from_log(ep).await;
    match cli(&ep.dir, &["ledger", "--json", "--limit", "1"]).await {
        Ok(out) => {
            let ledger: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
            let mut shown = BTreeMap::new();
            for b in ledger["balances"].as_array().cloned().unwrap_or_default() {
                shown.insert(
                    (
                        b["account"].as_str().unwrap_or_default().to_string(),
                        b["balance"]["currency"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    ),
                    b["balance"]["minor"].as_i64().unwrap_or(0),
                );
            }
            for (key, minor) in &expected {
                if shown.get(key) != Some(minor) {
                    v.violations.push(format!(
                        "balance of {key:?}: the suite sums {minor} from the log, the ledger says {:?}",
                        shown.get(key)
                    ));
                }
            }
            if shown.len() != expected.len() {
                v.violations.push(format!(
                    "the ledger shows {} balances, the log has money for {}",
                    shown.len(),
                    expected.len()
                ));
            }
        }
        Err(e) => v.violations.push(format!("domreg ledger: {e}")),
    }

    // Read models equal a fresh replay.
    if let Err(e) = cli(&ep.dir, &["verify"]).await {
        v.violations.push(format!("domreg verify: {e}"));
    }

    // Domains: the sandbox's and the engine's agree.
    let state = ep.sandbox_get("/sandbox/state").await;
    let at_sandbox: BTreeSet<String> = state["domains"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, d)| d["owner"] == "reseller")
                .map(|(n, _)| n.clone())
                .collect()
        })
        .unwrap_or_default();
    let ours: BTreeSet<String> =
        match cli(&ep.dir, &["domains", "--json", "--limit", "1000000"]).await {
            Ok(out) => serde_json::from_str::<Value>(&out)
                .ok()
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter(|d| d["expires_at"].is_string())
                .filter_map(|d| d["name"].as_str().map(str::to_string))
                .collect(),
            Err(e) => {
                v.violations.push(format!("domreg domains: {e}"));
                BTreeSet::new()
            }
        };
    for d in at_sandbox.difference(&ours) {
        v.violations.push(format!(
            "{d} is registered at the sandbox but the engine does not know it"
        ));
    }
    for d in ours.difference(&at_sandbox) {
        v.violations
            .push(format!("the engine holds {d} but the sandbox does not"));
    }
    v
}

/// The `q`-quantile of `values` (sorted in place).
pub fn quantile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let i = ((values.len() as f64 - 1.0) * q).round() as usize;
    values[i]
}
