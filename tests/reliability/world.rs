//! The product as a user runs it: `domreg sandbox` and `domreg serve` as separate
//! processes on loopback, configured through the CLI, driven through the CLI and the API.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::process::{Child, Command};

pub const KEY: &str = "reliability-opensrs-key-0123456789";
pub const TOKEN: &str = "reliability-api-token-0123456789";
pub const ACCOUNTS: usize = 8;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Where things are: enough to drive the product, shared by the load's callers.
#[derive(Clone)]
pub struct Endpoints {
    pub dir: PathBuf,
    pub sandbox_url: String,
    pub api_url: String,
    pub http: reqwest::Client,
    /// The PostgreSQL log the engines share, when the scenario runs on one.
    pub store: Option<String>,
}

/// A second engine on the shared log: a data directory of its own, no API.
pub struct Peer {
    pub dir: PathBuf,
    pub child: Option<Child>,
}

pub struct World {
    pub ep: Endpoints,
    pub sandbox: Child,
    pub serve: Option<Child>,
    /// Extra `serve` arguments (the soak's shorter OpenSRS timeout).
    pub serve_args: Vec<String>,
    /// On a shared log, the second engine; the kills alternate between the two.
    pub peer: Option<Peer>,
    kills: u64,
}

fn domreg() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_domreg"));
    c.stdin(Stdio::null()).kill_on_drop(true);
    c
}

/// Runs a CLI verb; `Ok(stdout)` on success, `Err(stderr)` otherwise.
pub async fn cli(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = domreg()
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .await
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

async fn must(dir: &Path, args: &[&str]) {
    if let Err(e) = cli(dir, args).await {
        panic!("domreg {}: {e}", args.join(" "));
    }
}

impl World {
    /// Starts the sandbox and configures `dir`; with `store` (a PostgreSQL URL) the data
    /// directory uses that log and a second engine with a directory of its own shares it.
    pub async fn start(dir: &Path, serve_args: Vec<String>, store: Option<String>) -> World {
        if let Some(url) = &store {
            must(dir, &["store", "use", url]).await;
        }
        let port = free_port();
        let sandbox = domreg()
            .args([
                "sandbox",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--user",
                "reseller",
                "--key",
                KEY,
                "--balance",
                "10000000.00",
                "--async-polls",
                "2",
                "--transfer-owner-delay",
                "1s",
                "--transfer-registry-delay",
                "1s",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("domreg sandbox starts");
        let sandbox_url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        wait_until_up(&http, &format!("{sandbox_url}/sandbox/counters")).await;
        let d = dir;
        let port_s = port.to_string();
        must(
            d,
            &[
                "registrar",
                "add",
                "main",
                "--login",
                "reseller",
                "--key",
                KEY,
                "--server",
                "127.0.0.1",
                "--port",
                &port_s,
                "--plain-http",
                "true",
            ],
        )
        .await;
        for tld in ["com", "de", "net"] {
            must(d, &["tld", "assign", tld, "--registrar", "main"]).await;
            must(
                d,
                &[
                    "price", "set", tld, "--kind", "register", "--years", "1", "--amount", "12.99",
                ],
            )
            .await;
            must(
                d,
                &[
                    "price", "set", tld, "--kind", "renew", "--years", "1", "--amount", "11.00",
                ],
            )
            .await;
            must(
                d,
                &[
                    "price", "set", tld, "--kind", "transfer", "--amount", "9.99",
                ],
            )
            .await;
        }
        // The accounts order without paying in first.
        must(d, &["account", "default-limit", "100000"]).await;
        // Fast registries: poll every second, give up after the minimum of a minute.
        must(
            d,
            &[
                "policy",
                "set",
                "*",
                "--poll-every",
                "1s",
                "--timeout",
                "60s",
            ],
        )
        .await;
        must(
            d,
            &[
                "policy",
                "set",
                "de",
                "--poll-every",
                "1s",
                "--timeout",
                "60s",
            ],
        )
        .await;
        must(
            d,
            &[
                "policy",
                "set",
                "*",
                "--transfer",
                "--poll-every",
                "1s",
                "--timeout",
                "60s",
            ],
        )
        .await;
        let contacts = dir.join("contacts.json");
        std::fs::write(&contacts, CONTACTS).unwrap();
        for a in 0..ACCOUNTS {
            let account = format!("acct{a}");
            must(d, &["account", "credit", &account, "100000.00"]).await;
            must(
                d,
                &[
                    "account",
                    "contacts",
                    &account,
                    "--file",
                    contacts.to_str().unwrap(),
                ],
            )
            .await;
        }
        let mut w = World {
            ep: Endpoints {
                dir: dir.to_path_buf(),
                sandbox_url,
                api_url: format!("http://127.0.0.1:{}", free_port()),
                http,
                store: store.clone(),
            },
            sandbox,
            serve: None,
            serve_args,
            peer: None,
            kills: 0,
        };
        if let Some(url) = &store {
            // The key is each data directory's secret, never in the shared log.
            let peer = dir.join("second-engine");
            must(&peer, &["store", "use", url]).await;
            must(&peer, &["registrar", "update", "main", "--key", KEY]).await;
            w.peer = Some(Peer {
                dir: peer,
                child: None,
            });
        }
        w.start_serve().await;
        w
    }

    /// Starts whichever engine is not running.
    pub async fn start_serve(&mut self) {
        if self.serve.is_none() {
            let addr = self.ep.api_url.trim_start_matches("http://").to_string();
            let child = self
                .engine(&self.ep.dir)
                .args(["--listen", &addr])
                .spawn()
                .expect("domreg serve starts");
            self.serve = Some(child);
        }
        if let Some(peer) = self.peer.as_ref().filter(|p| p.child.is_none()) {
            let child = self.engine(&peer.dir).spawn().expect("domreg serve starts");
            if let Some(p) = self.peer.as_mut() {
                p.child = Some(child);
            }
        }
    }

    fn engine(&self, dir: &Path) -> Command {
        let mut c = domreg();
        c.arg("--data-dir")
            .arg(dir)
            .args(["serve", "--tick", "200ms"])
            .args(&self.serve_args)
            .env("DOMREG_API_TOKEN", TOKEN)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    }

    /// Starts `serve` again if it exited (a second engine held the lock as it started).
    pub async fn ensure_serve(&mut self) {
        let exited = match self.serve.as_mut() {
            Some(child) => child.try_wait().ok().flatten().is_some(),
            None => true,
        };
        if exited {
            self.start_serve().await;
        }
    }

    /// SIGKILL: no chance to finish anything. On a shared log, every other kill hits
    /// the second engine.
    pub async fn kill_serve(&mut self) {
        self.kills += 1;
        let child = match self.peer.as_mut() {
            Some(peer) if self.kills.is_multiple_of(2) => peer.child.take(),
            _ => self.serve.take(),
        };
        if let Some(mut child) = child {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// SIGTERM, then wait (both engines, on a shared log).
    pub async fn stop_serve(&mut self) {
        let peer = self.peer.as_mut().and_then(|p| p.child.take());
        for child in [self.serve.take(), peer].into_iter().flatten() {
            stop(child).await;
        }
    }

    pub async fn shutdown(mut self) {
        self.stop_serve().await;
        let _ = self.sandbox.start_kill();
        let _ = self.sandbox.wait().await;
    }
}

async fn stop(mut child: Child) {
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
    if tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .is_err()
    {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
}

impl Endpoints {
    pub async fn sandbox_get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}{path}", self.sandbox_url))
            .header("X-Username", "reseller")
            .header("X-Signature", domreg::opensrs::signature::sign(b"", KEY))
            .send()
            .await
            .unwrap();
        serde_json::from_str(&r.text().await.unwrap()).unwrap()
    }

    pub async fn sandbox_post(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}{path}", self.sandbox_url))
            .header("X-Username", "reseller")
            .header(
                "X-Signature",
                domreg::opensrs::signature::sign(body.to_string().as_bytes(), KEY),
            )
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        serde_json::from_str(&r.text().await.unwrap()).unwrap()
    }

    /// A domain at another registrar that can be transferred in.
    pub async fn seed_transferable(&self, name: &str) {
        self.sandbox_post(
            "/sandbox/domains",
            json!({ "name": name, "transferable": true }),
        )
        .await;
    }

    /// `(status, body)` of an API call; status 0 when the API did not answer at all.
    pub async fn api(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.api_url))
            .header("authorization", format!("Bearer {TOKEN}"));
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        match req.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                let text = r.text().await.unwrap_or_default();
                (status, serde_json::from_str(&text).unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }
}

async fn wait_until_up(http: &reqwest::Client, url: &str) {
    for _ in 0..200 {
        if http.get(url).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} did not come up");
}

pub const CONTACTS: &str = r#"{"owner": {"first_name": "Rel", "last_name": "Iability", "org_name": "Crash & <Test> \"Co\"", "address1": "1 Loop Road", "address2": "", "address3": "", "city": "Localhost", "state": "CA", "country": "US", "postal_code": "90210", "phone": "+1.4165550123", "fax": "", "email": "rel@example.com"},
"admin": {"first_name": "Rel", "last_name": "Iability", "org_name": "", "address1": "1 Loop Road", "address2": "", "address3": "", "city": "Localhost", "state": "CA", "country": "US", "postal_code": "90210", "phone": "+1.4165550123", "fax": "", "email": "rel@example.com"},
"billing": {"first_name": "Rel", "last_name": "Iability", "org_name": "", "address1": "1 Loop Road", "address2": "", "address3": "", "city": "Localhost", "state": "CA", "country": "US", "postal_code": "90210", "phone": "+1.4165550123", "fax": "", "email": "rel@example.com"},
"tech": {"first_name": "Rel", "last_name": "Iability", "org_name": "", "address1": "1 Loop Road", "address2": "", "address3": "", "city": "Localhost", "state": "CA", "country": "US", "postal_code": "90210", "phone": "+1.4165550123", "fax": "", "email": "rel@example.com"}}"#;
