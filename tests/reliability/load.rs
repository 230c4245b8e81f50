//! The load: orders of every kind through the CLI and the API, while the engine is
//! killed with SIGKILL at random moments and restarted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use super::world::{cli, Endpoints, World, ACCOUNTS};

/// What the callers were told.
#[derive(Debug, Default)]
pub struct Acks {
    /// Order ids acknowledged to a caller (CLI exit 0 or API 201).
    pub orders: Vec<String>,
    pub by_cli: u64,
    pub by_api: u64,
    /// Commands refused with an error (a domain busy, the API down during a restart).
    pub refused: u64,
    pub cancels: u64,
    pub kills: u64,
    /// `serve --once` started beside the running engine (a cron job), and how many of
    /// them the data directory's lock refused.
    pub second_engines: u64,
    pub second_engines_refused: u64,
    pub seconds: f64,
}

fn order_id(v: &Value) -> Option<String> {
    v["order"]["order_id"].as_str().map(str::to_string)
}

/// Places one order through the CLI or the API; the order id if acknowledged.
async fn place(
    w: &Endpoints,
    by_api: bool,
    kind: &str,
    domain: &str,
    account: &str,
) -> Option<String> {
    if by_api {
        let body = json!({ "kind": kind, "domain": domain, "account": account, "auth_code": (kind == "transfer").then_some("EPP-REL") });
        let (status, v) = w.api("POST", "/api/v1/orders", Some(&body)).await;
        return (status == 201).then(|| order_id(&v)).flatten();
    }
    let mut args = vec![kind, domain, "--account", account, "--json"];
    if kind == "transfer" {
        args.extend(["--auth-code", "EPP-REL"]);
    }
    let out = cli(&w.dir, &args).await.ok()?;
    order_id(&serde_json::from_str(&out).ok()?)
}

/// Runs `orders` order attempts with `workers` callers while killing `serve` `kills`
/// times at random moments; returns what was acknowledged.
pub async fn run(world: Arc<Mutex<World>>, seed: u64, orders: u64, kills: u64) -> Acks {
    let started = Instant::now();
    let acks = Arc::new(Mutex::new(Acks::default()));
    let next = Arc::new(AtomicU64::new(0));
    let registered = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let view = Arc::new(world.lock().await.ep.clone());
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..4u64 {
        let (acks, next, registered, w) =
            (acks.clone(), next.clone(), registered.clone(), view.clone());
        tasks.spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed.wrapping_add(worker * 7919));
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= orders {
                    return;
                }
                let by_api = rng.random_bool(0.5);
                let account = format!("acct{}", rng.random_range(0..ACCOUNTS));
                let roll = rng.random_range(0..100);
                let (kind, domain) = match roll {
                    0..35 => ("register", format!("rel-{seed}-{i}.com")),
                    35..55 => ("register", format!("rel-{seed}-{i}.de")),
                    55..67 => {
                        let d = format!("xfer-{seed}-{i}.net");
                        w.seed_transferable(&d).await;
                        ("transfer", d)
                    }
                    67..80 => {
                        let pick = {
                            let r = registered.lock().await;
                            (!r.is_empty()).then(|| r[rng.random_range(0..r.len())].clone())
                        };
                        match pick {
                            Some((d, a)) => {
                                let id = place(&w, by_api, "renew", &d, &a).await;
                                record(&acks, id, by_api).await;
                                continue;
                            }
                            None => ("register", format!("rel-{seed}-{i}.com")),
                        }
                    }
                    80..92 => ("register", format!("taken-rel-{seed}-{i}.com")),
                    _ => {
                        // The Async Manager: cancel some pending order through the API.
                        let (status, list) = w.api("GET", "/api/v1/async?limit=20", None).await;
                        if let (200, Some(first)) =
                            (status, list.as_array().and_then(|l| l.first()))
                        {
                            let id = first["order_id"].as_str().unwrap_or_default();
                            let (s, _) = w
                                .api("POST", &format!("/api/v1/async/{id}/cancel"), None)
                                .await;
                            if s == 200 {
                                acks.lock().await.cancels += 1;
                            }
                        }
                        continue;
                    }
                };
                let id = place(&w, by_api, kind, &domain, &account).await;
                if id.is_some()
                    && kind == "register"
                    && domain.ends_with(".com")
                    && !domain.starts_with("taken")
                {
                    registered
                        .lock()
                        .await
                        .push((domain.clone(), account.clone()));
                }
                record(&acks, id, by_api).await;
            }
        });
    }
    // The killer: SIGKILL at random moments, restart at once.
    let killer = {
        let world = world.clone();
        let acks = acks.clone();
        tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
            for _ in 0..kills {
                tokio::time::sleep(Duration::from_millis(rng.random_range(100..700))).await;
                let mut w = world.lock().await;
                w.kill_serve().await;
                w.start_serve().await;
                acks.lock().await.kills += 1;
                // Now and then a second engine, as cron would start one: it must be
                // refused, or (if it won the race for the lock) be harmless.
                if rng.random_range(0..3) == 0 {
                    let dir = w.ep.dir.clone();
                    drop(w);
                    tokio::time::sleep(Duration::from_millis(rng.random_range(50..300))).await;
                    let refused = cli(&dir, &["serve", "--once"]).await.is_err();
                    {
                        let mut a = acks.lock().await;
                        a.second_engines += 1;
                        a.second_engines_refused += u64::from(refused);
                    }
                    world.lock().await.ensure_serve().await;
                }
            }
        })
    };
    while let Some(r) = tasks.join_next().await {
        r.expect("a load worker panicked");
    }
    killer.await.expect("the killer panicked");
    let mut acks = Arc::try_unwrap(acks).expect("all tasks done").into_inner();
    acks.seconds = started.elapsed().as_secs_f64();
    acks
}

async fn record(acks: &Mutex<Acks>, id: Option<String>, by_api: bool) {
    let mut a = acks.lock().await;
    match id {
        Some(id) => {
            a.orders.push(id);
            if by_api {
                a.by_api += 1;
            } else {
                a.by_cli += 1;
            }
        }
        None => a.refused += 1,
    }
}
