//! The long-running process of `domreg serve` (and `domreg demo --listen`): engine rounds
//! and, when asked, the admin HTTP API beside them, until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::app::App;
use crate::clock::Clock;
use crate::engine::Engine;
use crate::surface::Surface;

pub mod listener;
pub mod reconcile;
use crate::opensrs::Secret;

/// Where and how the admin API listens.
#[derive(Debug, Clone, clap::Args)]
pub struct ApiArgs {
    /// Serve the admin HTTP API on this address (e.g. 127.0.0.1:8080).
    #[arg(long, env = "DOMREG_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// File holding the API's bearer token (or set DOMREG_API_TOKEN).
    #[arg(long, env = "DOMREG_API_TOKEN_FILE")]
    pub api_token_file: Option<PathBuf>,
    /// The API's bearer token; prefer the environment variable or --api-token-file.
    #[arg(long, env = "DOMREG_API_TOKEN", hide_env_values = true, hide = true, value_parser = crate::opensrs::secret_arg)]
    pub api_token: Option<Secret>,
    /// Allow --listen on an address other than loopback without TLS (put a TLS proxy in
    /// front: the token and the session cookie would otherwise cross the network in clear).
    #[arg(long)]
    pub allow_plain_http: bool,
    /// The admin who holds the token: the audit names them for every change made
    /// through the API and the pages.
    #[arg(long, env = "DOMREG_API_ADMIN", default_value = "api")]
    pub api_admin: String,
}

impl ApiArgs {
    /// The configured token, if any.
    pub fn token(&self) -> anyhow::Result<Option<Secret>> {
        match (&self.api_token, &self.api_token_file) {
            (Some(t), _) => Ok(Some(Secret::new(t.expose().trim()))),
            (None, Some(path)) => {
                let t = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("cannot read the API token file {}: {e}", path.display())
                })?;
                Ok(Some(Secret::new(t.trim())))
            }
            (None, None) => Ok(None),
        }
    }
}

/// A bound API listener and its token.
pub struct Api {
    pub listener: tokio::net::TcpListener,
    pub token: Secret,
    /// Whom the token belongs to (see `ApiArgs::api_admin`).
    pub admin: String,
}

impl Api {
    pub async fn bind(
        addr: SocketAddr,
        token: Secret,
        allow_plain_http: bool,
    ) -> anyhow::Result<Api> {
        if !addr.ip().is_loopback() && !allow_plain_http {
            anyhow::bail!(
                "--listen {addr} is not a loopback address and domreg serves plain HTTP: the admin token would cross the network in clear. Listen on 127.0.0.1 behind a TLS proxy, or pass --allow-plain-http if the network is private"
            );
        }
        if !addr.ip().is_loopback() {
            tracing::warn!(%addr, "the admin API listens beyond loopback without TLS");
            eprintln!("WARNING: the admin API listens on {addr} without TLS; anyone on the network path can read the token");
        }
        let listener = listener::bind(addr, &token).await?;
        Ok(Api {
            listener,
            token,
            admin: "api".into(),
        })
    }

    /// Names the token's admin (1 to 64 printable characters).
    pub fn with_admin(mut self, name: &str) -> anyhow::Result<Api> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            anyhow::bail!("--api-admin must be 1 to 64 printable characters, not {name:?}");
        }
        self.admin = name.to_string();
        Ok(self)
    }

    pub fn addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Runs engine rounds every `tick` (at once again when a round did something) and the API,
/// until a stop signal; with `once`, one round and no API. `mail`, when given, is
/// delivered by a task of its own beside the rounds. A stop signal ends the process
/// within a second whatever the round is doing: a call it cuts short leaves a submission
/// whose lease lapses, and the next engine finds out from OpenSRS what became of it.
pub async fn run<C: Clock>(
    data_dir: &Path,
    mut engine: Engine<C>,
    api: Option<Api>,
    tick: Duration,
    once: bool,
    mail: Option<crate::notify::Mailer>,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut server = None;
    let mut mail_task = None;
    if let (Some(mailer), false) = (mail, once) {
        let rx = stop_rx.clone();
        mail_task = Some(tokio::spawn(async move { mailer.run(rx).await }));
    }
    if let (Some(api), false) = (api, once) {
        let state =
            Arc::new(Surface::new(App::connect(data_dir).await?, api.token).with_admin(&api.admin));
        let mut rx = stop_rx.clone();
        let shutdown = async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        server = Some(tokio::spawn(listener::serve(api.listener, state, shutdown)));
    }
    let stop = stop_signal();
    tokio::pin!(stop);
    let mut failures = 0u32;
    loop {
        let result = tokio::select! {
            r = engine.run_once() => r,
            _ = &mut stop => break,
        };
        let round = match result {
            Ok(round) => {
                failures = 0;
                round
            }
            // The log or the read models cannot be written (a full disk, say): nothing
            // half-done was kept, so wait and try the round again rather than exit.
            Err(e) if !once => {
                failures += 1;
                let wait = tick.max(Duration::from_millis(100)) * failures.min(30);
                tracing::error!(error = %e, retry_in = ?wait, "engine round failed");
                eprintln!("engine round failed, retrying in {wait:?}: {e}");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => continue,
                    _ = &mut stop => break,
                }
            }
            Err(e) => return Err(e.into()),
        };
        if round.did_anything() {
            tracing::info!(
                submitted = round.submitted,
                polled = round.polled,
                recovered = round.recovered,
                "round"
            );
        }
        if once {
            break;
        }
        if !round.did_anything() {
            tokio::select! {
                _ = tokio::time::sleep(tick.max(Duration::from_millis(10))) => {}
                _ = &mut stop => break,
            }
        }
    }
    let _ = stop_tx.send(true);
    if let Some(task) = mail_task {
        // Delivery stops between messages; a message cut short is sent again next start.
        let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
    }
    if let Some(server) = server {
        match tokio::time::timeout(Duration::from_secs(1), server).await {
            Ok(joined) => joined??,
            Err(_) => tracing::warn!("the admin API did not close its connections within a second"),
        }
    }
    Ok(())
}
