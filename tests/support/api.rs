//! A small client for the admin API in tests: every answer is (status, JSON body).

use serde_json::Value;

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
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{path}", self.base));
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

    pub async fn send(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let (s, j, _) = self.send_as(method, path, body, Some(&self.token)).await;
        (s, j)
    }

    /// Like `send`, but the test fails unless the status is `want`.
    pub async fn expect(&self, method: &str, path: &str, body: Option<&Value>, want: u16) -> Value {
        let (s, j) = self.send(method, path, body).await;
        assert_eq!(s, want, "{method} {path}: {j}");
        j
    }
}
