//! A small client for the admin API in tests: every answer is (status, JSON body).

use std::sync::Arc;

use domreg::app::App;
use domreg::opensrs::sandbox::{Sandbox, SandboxConfig};
use domreg::opensrs::Secret;
use domreg::serve::listener;
use domreg::surface::Surface;
use serde_json::Value;

pub const KEY: &str = "api-test-opensrs-key-0123456789";
pub const TOKEN: &str = "api-test-token-abcdefghijklmnop";
/// The admin the test token belongs to.
#[allow(dead_code)]
pub const ADMIN: &str = "ops-alice";

/// A data directory, an in-process sandbox, and the admin API served on loopback.
pub struct ApiWorld {
    pub dir: tempfile::TempDir,
    pub sandbox: Sandbox,
    pub api: ApiClient,
}

pub async fn api_world() -> ApiWorld {
    let sandbox = Sandbox::start(SandboxConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        "reseller",
        KEY,
    ))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The token belongs to a named admin, and the audit names them.
    let state = Arc::new(
        Surface::new(App::open(dir.path()).unwrap(), Secret::new(TOKEN)).with_admin(ADMIN),
    );
    let listener = listener::bind("127.0.0.1:0".parse().unwrap(), &Secret::new(TOKEN))
        .await
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(listener::serve(listener, state, std::future::pending()));
    ApiWorld {
        dir,
        sandbox,
        api: ApiClient::new(base, TOKEN),
    }
}

impl ApiWorld {
    /// A client that does not follow redirects, and the session cookie of a sign-in to
    /// the admin pages.
    #[allow(dead_code)]
    pub async fn signed_in(&self) -> (reqwest::Client, String) {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = http
            .post(format!("{}/admin/login", self.api.base))
            .form(&[("token", TOKEN)])
            .send()
            .await
            .unwrap();
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        (http, cookie)
    }
}

/// The last position in the log (0 when empty): to show a rejected command wrote nothing.
#[allow(dead_code)]
pub fn log_head(dir: &std::path::Path) -> i64 {
    domreg::store::SqliteStore::read_file(dir.join("events.db"))
        .unwrap()
        .last()
        .map_or(0, |e| e.position.commit as i64)
}

pub struct ApiClient {
    pub base: String,
    pub token: String,
    http: reqwest::Client,
}

impl ApiClient {
    pub fn new(base: String, token: &str) -> Self {
        ApiClient {
            base,
            token: token.into(),
            http: reqwest::Client::new(),
        }
    }

    /// Sends `method path` with `body` as JSON and `token` (None: no Authorization).
    pub async fn send_as(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> (u16, Value, String) {
        self.send_with(method, path, body, token, &[]).await
    }

    /// [`ApiClient::send_as`] with extra request headers.
    pub async fn send_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> (u16, Value, String) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, json, text)
    }

    #[allow(dead_code)]
    pub async fn send(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let (s, j, _) = self.send_as(method, path, body, Some(&self.token)).await;
        (s, j)
    }

    /// Like `send`, but the test fails unless the status is `want`.
    #[allow(dead_code)]
    pub async fn expect(&self, method: &str, path: &str, body: Option<&Value>, want: u16) -> Value {
        let (s, j) = self.send(method, path, body).await;
        assert_eq!(s, want, "{method} {path}: {j}");
        j
    }
}
