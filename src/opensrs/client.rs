//! The OpenSRS client: signed XML over HTTPS (plain HTTP only when asked, for a sandbox on
//! loopback), one request per connection, read-only commands retried, mutating ones never.

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::classify::{classify, Class, Classification};
use super::codec::{self, Envelope};
use super::command::{Command, CommandKind};
use super::reply::{Reply, TransportError};
use super::signature;

/// OpenSRS's live and test hosts.
pub const LIVE_HOST: &str = "rr-n1-tor.opensrs.net";
pub const TEST_HOST: &str = "horizon.opensrs.net";
pub const DEFAULT_PORT: u16 = 55443;

/// A secret string (the reseller's private key). Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// Reads a secret given on the command line (clap's value parser), never echoed back.
pub fn secret_arg(s: &str) -> Result<Secret, String> {
    Ok(Secret::new(s))
}

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `ab…yz` style hint, enough to tell two keys apart.
    pub fn redacted(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() < 12 {
            "********".into()
        } else {
            format!(
                "{}…{} ({} chars)",
                chars[..2].iter().collect::<String>(),
                chars[chars.len() - 2..].iter().collect::<String>(),
                chars.len()
            )
        }
    }
}

/// Read from JSON request bodies (the HTTP API's write-only key); never serialized.
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How to reach one OpenSRS reseller account.
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    pub title: String,
    pub server: String,
    pub port: u16,
    /// Bind outgoing connections to this local address (OpenSRS accepts approved IPs only).
    pub source_ip: Option<IpAddr>,
    pub login: String,
    pub key: Secret,
    /// Plain `http://`: only for a sandbox on loopback, and only when asked for.
    pub plain_http: bool,
    /// Extra trusted root certificate (PEM), e.g. a sandbox's self-signed one.
    pub extra_root_pem: Option<Vec<u8>>,
    pub connect_timeout: Duration,
    /// Whole-call limit (H-Sphere used 120 s).
    pub timeout: Duration,
    /// Attempts for read-only commands (mutating commands are sent once).
    pub read_attempts: u32,
}

impl ConnectionSettings {
    pub fn new(title: &str, server: &str, port: u16, login: &str, key: Secret) -> Self {
        ConnectionSettings {
            title: title.to_string(),
            server: server.to_string(),
            port,
            source_ip: None,
            login: login.to_string(),
            key,
            plain_http: false,
            extra_root_pem: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(120),
            read_attempts: 3,
        }
    }

    pub fn url(&self) -> String {
        let scheme = if self.plain_http { "http" } else { "https" };
        let host = if self.server.contains(':') && !self.server.starts_with('[') {
            format!("[{}]", self.server)
        } else {
            self.server.clone()
        };
        format!("{scheme}://{host}:{}/", self.port)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("plain HTTP is allowed only to a loopback sandbox, not to {0}")]
    PlainHttpNotLoopback(String),
    #[error("invalid extra root certificate: {0}")]
    Certificate(String),
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

/// One command's outcome: what came back and what it means. What was sent is kept, with
/// its secrets and contacts redacted, in the evidence of a mutating call
/// ([`super::evidence`]); nothing else needs the request again, so it is not encoded twice.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub kind: CommandKind,
    /// The raw reply body, when one arrived.
    pub reply_body: Option<String>,
    pub outcome: Result<Reply, TransportError>,
    pub classification: Classification,
    pub attempts: u32,
    pub elapsed: Duration,
    /// The address of this exchange's evidence, for mutating calls of a client that
    /// keeps it.
    pub evidence: Option<String>,
}

impl Exchange {
    /// The exchange as `lookup --json` and the HTTP API show it: no request, no key.
    pub fn to_json(&self, domain: &str) -> serde_json::Value {
        let attributes = self
            .outcome
            .as_ref()
            .map(|r| r.attributes.to_json())
            .unwrap_or(serde_json::Value::Null);
        serde_json::json!({
            "domain": domain,
            "command": self.kind,
            "classification": self.classification,
            "code": self.classification.code,
            "text": self.classification.text,
            "attributes": attributes,
        })
    }
}

#[derive(Clone)]
pub struct Client {
    transport: super::transport::Transport,
    settings: ConnectionSettings,
    /// Where the evidence of mutating calls is kept, when it is.
    evidence: Option<super::evidence::EvidenceStore>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("settings", &self.settings)
            .finish()
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Client {
    pub fn new(settings: ConnectionSettings) -> Result<Self, ClientError> {
        if settings.plain_http && !is_loopback(&settings.server) {
            return Err(ClientError::PlainHttpNotLoopback(settings.server.clone()));
        }
        let transport = super::transport::Transport::new(&settings)?;
        Ok(Client {
            transport,
            settings,
            evidence: None,
        })
    }

    /// Keeps the evidence of every mutating call in `store`.
    pub fn with_evidence(mut self, store: super::evidence::EvidenceStore) -> Self {
        self.evidence = Some(store);
        self
    }

    pub fn settings(&self) -> &ConnectionSettings {
        &self.settings
    }

    /// Sends `command` and classifies the outcome. Read-only commands are retried (up to
    /// `read_attempts`) when the outcome is retryable; mutating commands are sent once.
    pub async fn call(&self, command: &Command) -> Exchange {
        let kind = command.kind();
        let body = codec::write(&Envelope::new(command.to_value()));
        let started = Instant::now();
        let attempts_allowed = if kind.is_mutating() {
            1
        } else {
            self.settings.read_attempts.max(1)
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (reply_body, outcome) = self.send(body.as_bytes()).await;
            let classification = classify(kind, &outcome);
            let retry = classification.class == Class::RetryLater
                && attempt < attempts_allowed
                && !kind.is_mutating();
            if !retry {
                tracing::debug!(
                    connection = %self.settings.title,
                    command = ?kind,
                    class = ?classification.class,
                    code = ?classification.code,
                    "OpenSRS call"
                );
                let result = classification
                    .code
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "no_reply".into());
                crate::metrics::global().record_call(&kind.label(), &result, started.elapsed());
                let mut exchange = Exchange {
                    kind,
                    reply_body,
                    outcome,
                    classification,
                    attempts: attempt,
                    elapsed: started.elapsed(),
                    evidence: None,
                };
                if let (true, Some(store)) = (kind.is_mutating(), &self.evidence) {
                    exchange.evidence = store
                        .keep_exchange(&self.settings.title, command, &exchange)
                        .await;
                }
                return exchange;
            }
            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
        }
    }

    /// Signs and posts the exact bytes, and reads the reply.
    async fn send(&self, body: &[u8]) -> (Option<String>, Result<Reply, TransportError>) {
        let signature = signature::sign(body, self.settings.key.expose());
        let reply = match self.transport.post(&self.settings, body, signature).await {
            Ok(r) => r,
            Err(e) => return (None, Err(e)),
        };
        let (status, bytes) = (reply.status, reply.body);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if !(200..300).contains(&status) {
            return (Some(text), Err(TransportError::HttpStatus(status)));
        }
        if text.trim().is_empty() {
            return (Some(text), Err(TransportError::Empty));
        }
        let outcome = codec::parse(&bytes)
            .map_err(|e| TransportError::Unparseable(e.to_string()))
            .and_then(|env| Reply::from_body(env.body).map_err(TransportError::Unparseable));
        (Some(text), outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show() {
        let s = Secret::new("0123456789abcdef0123456789abcdef");
        assert!(!format!("{s:?} {s}").contains("0123456789"));
        assert!(s.redacted().starts_with("01…ef"));
        let settings = ConnectionSettings::new("main", TEST_HOST, DEFAULT_PORT, "reseller", s);
        assert!(!format!("{settings:?}").contains("0123456789"));
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let mut s = ConnectionSettings::new("x", "example.net", 80, "u", Secret::new("k"));
        s.plain_http = true;
        assert!(matches!(
            Client::new(s.clone()),
            Err(ClientError::PlainHttpNotLoopback(_))
        ));
        s.server = "127.0.0.1".into();
        assert!(Client::new(s).is_ok());
    }
}
