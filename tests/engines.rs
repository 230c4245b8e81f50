//! Several `domreg serve` processes on one PostgreSQL log, each with its own data
//! directory and read models, against one sandbox over real HTTP: three engines make no
//! more OpenSRS calls for the same orders than one does (within 10%), each takes a share,
//! the admin API answers on any of them, and when one is killed the other two finish its
//! orders within a bounded time, sending nothing twice.

#[path = "support/postgres.rs"]
mod pg;
#[path = "support/cli.rs"]
mod support_cli;
#[path = "support/contacts.rs"]
mod support_contacts;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use domreg::opensrs::sandbox::{Sandbox, SandboxConfig};
use serde_json::{json, Value};
use support_cli::{connect_sandbox, domreg_ok, free_port};

const KEY: &str = "engines-test-opensrs-key-0123456789";
const TOKEN: &str = "engines-test-token-abcdefghijklmn";
/// How long a silent engine keeps its share.
const LEASE: &str = "3s";

struct Engine {
    child: Child,
    api: String,
}

impl Engine {
    fn start(dir: &Path) -> Engine {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_domreg"))
            .args(["--data-dir", dir.to_str().unwrap(), "serve"])
            .args(["--tick", "200ms", "--engine-lease", LEASE])
            // The event feed and the reconciliation are one engine's each too, but they run
            // by the clock, not per order: left out of the count.
            .args(["--opensrs-timeout", "5s", "--sync-every", "0s"])
            .args(["--event-feed-every", "0s"])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("DOMREG_API_TOKEN", TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Engine {
            child,
            api: format!("http://127.0.0.1:{port}"),
        }
    }

    /// SIGTERM: the engine signs off and the others take over at once.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    /// SIGKILL: no sign-off; the others wait for its lease.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn api(
    http: &reqwest::Client,
    e: &Engine,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http
        .request(method.parse().unwrap(), format!("{}{path}", e.api))
        .bearer_auth(TOKEN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

async fn wait_up(http: &reqwest::Client, e: &Engine) {
    for _ in 0..300 {
        if api(http, e, "GET", "/api/v1/domains?limit=1", None).await.0 == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the engine's API at {} did not come up", e.api);
}

async fn place(http: &reqwest::Client, e: &Engine, names: &[String]) {
    for name in names {
        let (status, body) = api(
            http,
            e,
            "POST",
            "/api/v1/orders",
            Some(json!({"kind": "register", "domain": name, "account": "alice"})),
        )
        .await;
        assert_eq!(status, 201, "ordering {name} from {}: {body}", e.api);
    }
}

/// Waits until every one of `names` is registered, as `e`'s own read models say.
async fn registered(http: &reqwest::Client, e: &Engine, names: &[String], within: Duration) {
    let started = Instant::now();
    loop {
        let (_, list) = api(http, e, "GET", "/api/v1/domains?limit=100000", None).await;
        let done = list
            .as_array()
            .map(|l| {
                l.iter()
                    .filter(|d| {
                        d["status"] == "registered" && names.iter().any(|n| d["name"] == n.as_str())
                    })
                    .count()
            })
            .unwrap_or(0);
        if done == names.len() {
            return;
        }
        assert!(
            started.elapsed() < within,
            "{done} of {} registered after {within:?} (as {} sees it)",
            names.len(),
            e.api
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn all_calls(sandbox: &Sandbox) -> std::collections::BTreeMap<String, u64> {
    sandbox.with_state(|s| s.counters.calls.clone())
}

fn total_calls(sandbox: &Sandbox) -> u64 {
    sandbox.with_state(|s| s.counters.calls.values().sum())
}

fn calls(sandbox: &Sandbox, action: &str) -> u64 {
    sandbox.with_state(|s| s.counters.calls.get(action).copied().unwrap_or(0))
}

/// The engines `store show` counts as alive (seen within the lease).
fn living(dir: &Path) -> usize {
    domreg_ok(dir, &["store", "show"])
        .lines()
        .filter_map(|l| l.split("last seen ").nth(1))
        .filter_map(|rest| rest.split(' ').next()?.parse::<f64>().ok())
        .filter(|ago| *ago < 3.0)
        .count()
}

async fn metric(http: &reqwest::Client, e: &Engine, name: &str) -> u64 {
    let text = http
        .get(format!("{}/metrics", e.api))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(0)
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{prefix}{i}.{}", if i % 2 == 0 { "com" } else { "de" }))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_engines_share_the_work_and_finish_a_killed_ones() {
    let Some(cluster) = tokio::task::block_in_place(|| pg::start("several engines")) else {
        return;
    };
    let mut config = SandboxConfig::new("127.0.0.1:0".parse().unwrap(), "reseller", KEY);
    config.balance_cents = 100_000_000;
    let sandbox = Sandbox::start(config).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let dirs: Vec<PathBuf> = ["a", "b", "c"]
        .iter()
        .map(|n| work.path().join(n))
        .collect();
    tokio::task::block_in_place(|| {
        for d in &dirs {
            domreg_ok(d, &["store", "use", &cluster.url]);
        }
        let a = &dirs[0];
        connect_sandbox(a, sandbox.addr.port(), KEY, &["com", "de"]);
        for tld in ["*", "de"] {
            domreg_ok(
                a,
                &[
                    "policy",
                    "set",
                    tld,
                    "--poll-every",
                    "1s",
                    "--timeout",
                    "1h",
                ],
            );
        }
        domreg_ok(a, &["account", "credit", "alice", "100000.00"]);
        let contacts = support_contacts::owen_file(work.path());
        domreg_ok(
            a,
            &[
                "account",
                "contacts",
                "alice",
                "--file",
                contacts.to_str().unwrap(),
            ],
        );
        // The key is a secret of each data directory, never in the shared log.
        for d in &dirs[1..] {
            domreg_ok(d, &["registrar", "update", "main", "--key", KEY]);
        }
    });
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    // One engine: the calls these orders cost.
    let alone = Engine::start(&dirs[0]);
    wait_up(&http, &alone).await;
    let before = total_calls(&sandbox);
    let first = names("alone-", 40);
    place(&http, &alone, &first).await;
    registered(&http, &alone, &first, Duration::from_secs(120)).await;
    let one = total_calls(&sandbox) - before;
    alone.stop();

    // Three engines, orders placed on one, watched on another.
    let engines: Vec<Engine> = dirs.iter().map(|d| Engine::start(d)).collect();
    for e in &engines {
        wait_up(&http, e).await;
    }
    // Each engine must count the other two before the orders come: one that has not
    // seen a newcomer yet also takes the newcomer's orders (safely: the loser of each
    // race is refused by the log, but the newcomer may then have none to show).
    let started = Instant::now();
    while tokio::task::block_in_place(|| living(&dirs[0])) < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the three engines never beat"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for e in &engines {
        while metric(&http, e, "domreg_engines_sharing_log").await < 3 {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{} never saw the other two engines",
                e.api
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let before = total_calls(&sandbox);
    let by_action = all_calls(&sandbox);
    let second = names("shared-", 40);
    place(&http, &engines[1], &second).await;
    registered(&http, &engines[2], &second, Duration::from_secs(120)).await;
    let three = total_calls(&sandbox) - before;
    println!("OpenSRS calls for 40 orders: one engine {one}, three engines {three}");
    for (action, n) in all_calls(&sandbox) {
        let earlier = by_action.get(&action).copied().unwrap_or(0);
        println!("  {action}: {} with three, {earlier} before", n - earlier);
    }
    assert!(
        three as f64 <= one as f64 * 1.10,
        "three engines made {three} OpenSRS calls where one made {one}"
    );
    for e in &engines {
        let submitted = metric(&http, e, "domreg_submissions_total").await;
        assert!(submitted > 0, "{} took no share of the orders", e.api);
    }

    // One of three killed while its orders wait at the registry.
    let third = names("failover-", 30);
    let registers = calls(&sandbox, "SW_REGISTER");
    place(&http, &engines[0], &third).await;
    let started = Instant::now();
    while calls(&sandbox, "SW_REGISTER") < registers + third.len() as u64 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the orders were not all submitted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let the last answers be recorded: the kill is meant for polling, not a submission
    // in flight (that one waits for its own, longer lease).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut engines = engines.into_iter();
    let (a, b, c) = (
        engines.next().unwrap(),
        engines.next().unwrap(),
        engines.next().unwrap(),
    );
    c.kill();
    let killed = Instant::now();
    registered(&http, &a, &third, Duration::from_secs(45)).await;
    println!(
        "after one of three engines was killed, its orders finished in {:.1} s",
        killed.elapsed().as_secs_f64()
    );
    assert_eq!(
        calls(&sandbox, "SW_REGISTER"),
        registers + third.len() as u64,
        "an order was sent to OpenSRS twice"
    );
    assert_eq!(
        calls(&sandbox, "SW_REGISTER"),
        (first.len() + second.len() + third.len()) as u64
    );
    b.stop();
    a.stop();
}
