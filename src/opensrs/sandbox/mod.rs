//! An OpenSRS-compatible server for tests and for trying domreg without an OpenSRS
//! account. It checks signatures, keeps real state (balances, domains, orders, transfers),
//! answers every command the engine uses from that state, completes asynchronous
//! registrations and transfers later, and injects faults on demand. See docs/opensrs.md.

pub mod admin;
pub mod faults;
pub mod feed;
pub mod handlers;
pub mod http;
pub mod state;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::SeedableRng;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use self::faults::Fault;
use self::state::{Settings, State};
use super::client::Secret;
use super::codec::{self, Envelope};
use super::signature;

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub listen: SocketAddr,
    /// Reseller logins and their keys.
    pub users: Vec<(String, Secret)>,
    /// Starting balance of each reseller, in cents.
    pub balance_cents: i64,
    pub settings: Settings,
    /// Serve HTTPS with a fresh self-signed certificate for `localhost` and 127.0.0.1.
    pub tls: bool,
    /// Seed for fault rates, so a failing run can be replayed.
    pub seed: u64,
}

impl SandboxConfig {
    pub fn new(listen: SocketAddr, user: &str, key: &str) -> Self {
        SandboxConfig {
            listen,
            users: vec![(user.to_string(), Secret::new(key))],
            balance_cents: 1_000_000,
            settings: Settings::default(),
            tls: false,
            seed: 1,
        }
    }
}

/// A running sandbox. Dropping it stops the server.
pub struct Sandbox {
    pub addr: SocketAddr,
    /// The self-signed certificate (PEM) when serving TLS.
    pub cert_pem: Option<String>,
    pub state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot set up TLS: {0}")]
    Tls(String),
}

struct Shared {
    keys: HashMap<String, Secret>,
    state: Arc<Mutex<State>>,
}

impl Sandbox {
    pub async fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| SandboxError::Listen {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SandboxError::Listen {
                addr: config.listen,
                source,
            })?;
        let users: Vec<String> = config.users.iter().map(|(u, _)| u.clone()).collect();
        let state = Arc::new(Mutex::new(State::new(
            config.settings.clone(),
            &users,
            config.balance_cents,
            rand::rngs::StdRng::seed_from_u64(config.seed),
        )));
        let shared = Arc::new(Shared {
            keys: config.users.iter().cloned().collect(),
            state: state.clone(),
        });
        let (acceptor, cert_pem) = if config.tls {
            let (acceptor, pem) = tls_acceptor()?;
            (Some(acceptor), Some(pem))
        } else {
            (None, None)
        };
        let task = tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors, say: back off instead of spinning.
                        tracing::warn!(error = %e, "sandbox cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let shared = shared.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match acceptor {
                        Some(acceptor) => {
                            let handshake =
                                tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp));
                            if let Ok(Ok(tls)) = handshake.await {
                                serve_connection(tls, peer, &shared).await;
                            }
                        }
                        None => serve_connection(tcp, peer, &shared).await,
                    }
                });
            }
        });
        Ok(Sandbox {
            addr,
            cert_pem,
            state,
            task,
        })
    }

    /// Locks the state for inspection or scripting from the same process.
    pub fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }
}

fn tls_acceptor() -> Result<(tokio_rustls::TlsAcceptor, String), SandboxError> {
    use tokio_rustls::rustls;
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .map_err(|e| SandboxError::Tls(e.to_string()))?;
    let pem = certified.cert.pem();
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.key_pair.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SandboxError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(|e| SandboxError::Tls(e.to_string()))?;
    Ok((tokio_rustls::TlsAcceptor::from(Arc::new(config)), pem))
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// An XCP error reply in an envelope.
fn xml_error(code: u16, text: &str) -> Vec<u8> {
    codec::write(&Envelope::new(handlers::reply("", false, code, text, None))).into_bytes()
}

async fn serve_connection<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    peer: SocketAddr,
    shared: &Shared,
) {
    let request = match tokio::time::timeout(
        Duration::from_secs(30),
        http::read_request(&mut stream),
    )
    .await
    {
        Ok(Ok(r)) => r,
        Ok(Err(http::HttpError::Bad(why))) => {
            let _ = http::write_response(
                &mut stream,
                "200 OK",
                "text/xml",
                &xml_error(400, &format!("Invalid request: {why}")),
            )
            .await;
            return;
        }
        _ => return,
    };
    if request.path.starts_with("/sandbox") {
        // The control endpoint changes the registry's state: it takes a reseller's
        // signature like any OpenSRS command (of the body; of nothing for a GET).
        let (status, json) = if authentic(&request, shared) {
            admin::handle(
                &mut lock(&shared.state),
                &request.method,
                &request.path,
                &request.body,
            )
        } else {
            (
                "401 Unauthorized",
                serde_json::json!({ "error": "the sandbox control endpoint needs X-Username and X-Signature (the MD5 signature of the body with that reseller's key)" }),
            )
        };
        let _ = http::write_response(
            &mut stream,
            status,
            "application/json",
            json.to_string().as_bytes(),
        )
        .await;
        return;
    }
    let (body, fault) = answer(&request, peer.ip(), shared);
    let body = match fault {
        Some(Fault::Latency { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            body
        }
        Some(Fault::NoReply) => {
            // Hold the connection until the client gives up (or 10 minutes pass).
            let mut sink = [0u8; 256];
            let _ = tokio::time::timeout(Duration::from_secs(600), async {
                while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
            })
            .await;
            return;
        }
        Some(Fault::Drop) | Some(Fault::PerformThenDrop) => return,
        Some(Fault::Http500) => {
            let _ = http::write_response(&mut stream, "500 Internal Server Error", "text/xml", &xml_error(404, "Internal server error")).await;
            return;
        }
        Some(Fault::MalformedXml) => b"<?xml version='1.0'?><OPS_envelope><body><data_block><dt_assoc><item key=\"response_code\">20".to_vec(),
        Some(Fault::Registry705) => xml_error(705, "Timed out, resubmit request"),
        None => body,
    };
    let _ = http::write_response(&mut stream, "200 OK", "text/xml", &body).await;
}

/// Whether the request carries a known reseller's valid signature.
fn authentic(request: &http::Request, shared: &Shared) -> bool {
    let user = request.header("x-username").unwrap_or_default();
    let signature = request.header("x-signature").unwrap_or_default();
    shared
        .keys
        .get(user)
        .is_some_and(|key| signature::verify(&request.body, key.expose(), signature))
}

/// Authenticates and answers one OpenSRS request. Returns the reply body and the fault
/// to apply (the command has already been performed only for `PerformThenDrop` and
/// `Latency`).
fn answer(request: &http::Request, peer: IpAddr, shared: &Shared) -> (Vec<u8>, Option<Fault>) {
    if !request.method.eq_ignore_ascii_case("POST") {
        return (
            xml_error(400, "Invalid request: OpenSRS accepts POST only"),
            None,
        );
    }
    let user = request.header("x-username").unwrap_or_default();
    let authentic = authentic(request, shared);
    // Parsed before the lock is taken (the state is shared by every connection), and
    // only for a signed request.
    let parsed = authentic.then(|| codec::parse(&request.body));
    let mut state = lock(&shared.state);
    if !authentic {
        state.counters.auth_failures += 1;
        return (xml_error(401, "Authentication Failed"), None);
    }
    let allowed = &state.settings.allowed_ips;
    if !allowed.is_empty()
        && !allowed
            .iter()
            .any(|ip| ip.parse::<IpAddr>().is_ok_and(|ip| ip == peer))
    {
        return (xml_error(400, "Access denied: invalid IP address"), None);
    }
    let envelope = match parsed {
        Some(Ok(e)) => e,
        None => return (xml_error(401, "Authentication Failed"), None),
        Some(Err(e)) => {
            return (
                xml_error(430, &format!("Invalid command: malformed XML ({e})")),
                None,
            )
        }
    };
    let action = envelope
        .body
        .text("action")
        .unwrap_or_default()
        .to_ascii_uppercase();
    let State { faults, rng, .. } = &mut *state;
    let fault = faults::pick(faults, &action, rng);
    match fault {
        Some(
            Fault::Drop
            | Fault::NoReply
            | Fault::Http500
            | Fault::MalformedXml
            | Fault::Registry705,
        ) => {
            *state
                .counters
                .calls
                .entry(format!("{action} (faulted)"))
                .or_default() += 1;
            (Vec::new(), fault)
        }
        _ => {
            let reply = handlers::handle(&mut state, user, &envelope.body);
            drop(state);
            (codec::write(&Envelope::new(reply)).into_bytes(), fault)
        }
    }
}
