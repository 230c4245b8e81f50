//! The "drift" scenario: domains registered through the engine are changed at OpenSRS
//! behind its back (renewed elsewhere, expiry corrected, transferred away, deleted, and
//! names registered by hand) while `serve` is killed again and again. With the event
//! feed and `serve`'s reconciliation round running, domreg's view must end equal to the
//! sandbox's, and a last `domreg sync` must find nothing left to record.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use super::world::{cli, World};

const DOMAINS: usize = 24;
const ROUNDS: usize = 6;

async fn domains(dir: &std::path::Path) -> BTreeMap<String, Value> {
    let out = cli(dir, &["domains", "--json", "--limit", "100000"])
        .await
        .expect("domreg domains");
    serde_json::from_str::<Vec<Value>>(&out)
        .expect("JSON")
        .into_iter()
        .map(|d| (d["name"].as_str().unwrap_or_default().to_string(), d))
        .collect()
}

fn seconds(v: &Value) -> Option<i64> {
    v.as_str()
        .and_then(|t| t.parse::<DateTime<Utc>>().ok())
        .map(|t| t.timestamp())
}

pub async fn scenario(seed: u64) -> bool {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let serve_args = ["--event-feed-every", "1s", "--sync-every", "3s"]
        .map(String::from)
        .to_vec();
    let mut world = World::start(dir.path(), serve_args, None).await;
    let ep = world.ep.clone();
    let mut rng = StdRng::seed_from_u64(seed);
    println!("reliability[drift]: seed {seed}, {DOMAINS} domains, {ROUNDS} kills with changes behind the engine's back");
    let names: Vec<String> = (0..DOMAINS)
        .map(|i| format!("drift-{seed}-{i}.com"))
        .collect();
    for name in &names {
        cli(&ep.dir, &["register", name, "--account", "acct0", "--json"])
            .await
            .expect("the order is accepted");
    }
    let start = Instant::now();
    loop {
        let view = domains(&ep.dir).await;
        if names
            .iter()
            .all(|n| view.get(n).is_some_and(|d| d["status"] == "registered"))
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "registered within 2 minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut ours: Vec<String> = names.clone();
    let mut unknown = BTreeSet::new();
    let mut changes = BTreeMap::<&str, usize>::new();
    for round in 0..ROUNDS {
        tokio::time::sleep(Duration::from_millis(rng.random_range(200..2_500))).await;
        world.kill_serve().await;
        for _ in 0..3 {
            if ours.is_empty() {
                break;
            }
            let name = ours[rng.random_range(0..ours.len())].clone();
            let (action, body) = match rng.random_range(0..4) {
                0 => (
                    "renew",
                    json!({"action": "renew", "name": name, "years": 1}),
                ),
                1 => {
                    let expires = Utc::now() + chrono::Duration::days(rng.random_range(400..900));
                    (
                        "set_expiry",
                        json!({"action": "set_expiry", "name": name, "expires": expires}),
                    )
                }
                2 => (
                    "transfer_away",
                    json!({"action": "transfer_away", "name": name}),
                ),
                _ => ("delete", json!({"action": "delete", "name": name})),
            };
            ep.sandbox_post("/sandbox/behind", body).await;
            *changes.entry(action).or_default() += 1;
            if matches!(action, "transfer_away" | "delete") {
                ours.retain(|n| *n != name);
            }
        }
        let by_hand = format!("hand-{seed}-{round}.com");
        ep.sandbox_post(
            "/sandbox/domains",
            json!({"name": by_hand, "owner": "reseller"}),
        )
        .await;
        unknown.insert(by_hand);
        world.start_serve().await;
    }
    // Undisturbed: the feed is read every second, the reconciliation every 3 s.
    tokio::time::sleep(Duration::from_secs(10)).await;
    world.stop_serve().await;

    let mut violations = Vec::new();
    let last = cli(&ep.dir, &["sync", "--json"])
        .await
        .expect("domreg sync");
    let last: Value = serde_json::from_str(&last).expect("JSON");
    if last[0]["recorded"] != 0 {
        violations.push(format!(
            "the last sync still had facts to record: {}",
            last[0]
        ));
    }
    let listed_unknown: BTreeSet<String> = last[0]["unknown"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u.as_str().map(str::to_string))
        .collect();
    if listed_unknown != unknown {
        violations.push(format!(
            "unknown here: {listed_unknown:?}, registered by hand: {unknown:?}"
        ));
    }
    let sandbox = ep.sandbox_get("/sandbox/state").await;
    let view = domains(&ep.dir).await;
    for name in &names {
        let at_opensrs = sandbox["domains"]
            .get(name)
            .filter(|d| d["owner"] == "reseller");
        let here = &view[name];
        match at_opensrs {
            Some(_) if here["status"] != "registered" => violations.push(format!(
                "{name} is in the account at OpenSRS but {} here",
                here["status"]
            )),
            Some(d) if seconds(&d["expires"]) != seconds(&here["expires_at"]) => {
                violations.push(format!(
                    "{name} expires {} at OpenSRS but {} here",
                    d["expires"], here["expires_at"]
                ))
            }
            None if here["status"] != "gone" => violations.push(format!(
                "{name} left the account at OpenSRS but is {} here",
                here["status"]
            )),
            _ => {}
        }
    }
    world.shutdown().await;
    println!(
        "reliability[drift] seed={seed} changes behind the back: {} | unknown {} | violations: {}",
        changes
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        unknown.len(),
        violations.len()
    );
    for v in &violations {
        println!("  VIOLATION: {v}");
    }
    if !violations.is_empty() {
        println!("  replay with: cargo test --test reliability -- --seed {seed} --only drift");
        println!("  data kept in {}", dir.keep().display());
    }
    violations.is_empty()
}
