//! Email notifications. The engine turns events into messages (`compose`), writes each to
//! a spool directory under a name derived from its cause (so a repeat writes nothing), and
//! delivers the spool over SMTP (lettre), or, without a relay, moves it to a file outbox.
//! A message that cannot be sent stays in the spool and is tried again later; one the relay
//! refuses for good (a 5xx answer, a malformed address), or that failed too often, goes to
//! `mail/dead/` with the reason. Each message has a time limit, and under `serve` delivery
//! runs on a task of its own (`Mailer::run`): email never blocks or loses an order.

pub mod compose;

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::metrics::{self, Metrics};

/// One message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// Names the cause (an event id, a digest round): the same cause never mails twice.
    pub key: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Failed deliveries so far.
    #[serde(default)]
    pub attempts: u32,
}

/// Where mail goes.
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub from: String,
    /// The admin's address, for digests.
    pub admin: Option<String>,
    pub smtp: Option<SmtpRelay>,
}

#[derive(Clone)]
pub struct SmtpRelay {
    pub host: String,
    pub port: u16,
    /// STARTTLS (required for any relay but loopback).
    pub tls: bool,
    pub user: Option<String>,
    pub password: Option<crate::opensrs::Secret>,
}

impl std::fmt::Debug for SmtpRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SmtpRelay({}:{}, tls {}, user {:?})",
            self.host, self.port, self.tls, self.user
        )
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub failed: usize,
    /// Given up for good this time (moved to `mail/dead/`).
    pub dead: usize,
}

#[derive(Clone)]
pub struct Mailer {
    settings: MailSettings,
    pub(crate) dir: PathBuf,
    /// The most one message may take, connect to last reply.
    message_timeout: Duration,
}

/// Failed tries after which a message goes to the dead letters.
pub const MAX_ATTEMPTS: u32 = 50;

const SPOOL_DIRS: [&str; 4] = ["spool", "sent", "outbox", "dead"];

/// Why one message was not sent.
enum SendError {
    /// Worth another try later (relay down, slow, 4xx).
    Transient(String),
    /// The relay or the message says no for good.
    Permanent(String),
}

fn key_file(key: &str) -> String {
    let safe: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.json")
}

impl Mailer {
    pub fn new(data_dir: &Path, settings: MailSettings) -> std::io::Result<Self> {
        let dir = data_dir.join("mail");
        for sub in SPOOL_DIRS {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        Ok(Mailer {
            settings,
            dir,
            message_timeout: Duration::from_secs(30),
        })
    }

    /// Gives up on a message after `timeout` (default 30 s); it is tried again later.
    pub fn with_message_timeout(mut self, timeout: Duration) -> Self {
        self.message_timeout = timeout;
        self
    }

    /// Delivers the spool every few seconds until `stop` turns true: the delivery task
    /// `serve` runs beside the engine.
    pub async fn run(&self, mut stop: tokio::sync::watch::Receiver<bool>) {
        while !*stop.borrow() {
            tokio::select! {
                _ = self.deliver() => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }

    /// Messages given up on, with why.
    pub fn dead_letters(&self) -> Vec<(Mail, String)> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("dead")) else {
            return Vec::new();
        };
        let mut out: Vec<(Mail, String)> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter_map(|p| {
                let mail = serde_json::from_slice(&std::fs::read(&p).ok()?).ok()?;
                let why = std::fs::read_to_string(p.with_extension("reason")).unwrap_or_default();
                Some((mail, why))
            })
            .collect();
        out.sort_by(|a, b| a.0.key.cmp(&b.0.key));
        out
    }

    pub fn settings(&self) -> &MailSettings {
        &self.settings
    }

    pub fn outbox(&self) -> PathBuf {
        self.dir.join("outbox")
    }

    /// Queues a message unless one with the same key was queued or sent before.
    pub fn queue(&self, mail: &Mail) -> std::io::Result<bool> {
        let name = key_file(&mail.key);
        if SPOOL_DIRS
            .iter()
            .any(|d| self.dir.join(d).join(&name).exists())
        {
            return Ok(false);
        }
        let tmp = self.dir.join("spool").join(format!(".{name}.tmp"));
        std::fs::write(&tmp, serde_json::to_vec(mail).unwrap_or_default())?;
        std::fs::rename(&tmp, self.dir.join("spool").join(name))?;
        Ok(true)
    }

    /// Tries to deliver everything in the spool.
    pub async fn deliver(&self) -> Delivery {
        let mut delivery = Delivery::default();
        let Ok(entries) = std::fs::read_dir(self.dir.join("spool")) else {
            return delivery;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for path in files {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let Ok(mail) = serde_json::from_slice::<Mail>(&bytes) else {
                continue;
            };
            let Some(name) = path.file_name() else {
                continue;
            };
            let sent = match &self.settings.smtp {
                Some(relay) => {
                    match tokio::time::timeout(self.message_timeout, self.send(relay, &mail)).await
                    {
                        Ok(result) => result,
                        Err(_) => Err(SendError::Transient(format!(
                            "the relay did not finish within {:?}",
                            self.message_timeout
                        ))),
                    }
                    .map(|_| self.dir.join("sent").join(name))
                }
                None => Ok(self.dir.join("outbox").join(name)),
            };
            let moved = sent.and_then(|dest| {
                std::fs::rename(&path, dest).map_err(|e| SendError::Transient(e.to_string()))
            });
            match moved {
                Ok(()) => {
                    delivery.sent += 1;
                    Metrics::add(&metrics::global().emails_sent, 1);
                }
                Err(e) => {
                    delivery.failed += 1;
                    Metrics::add(&metrics::global().emails_failed, 1);
                    let mut mail = mail;
                    mail.attempts += 1;
                    let (why, dead) = match e {
                        SendError::Permanent(why) => (why, true),
                        SendError::Transient(why) => (why, mail.attempts >= MAX_ATTEMPTS),
                    };
                    if dead && self.bury(&path, name, &mail, &why).is_ok() {
                        delivery.dead += 1;
                        tracing::error!(to = %mail.to, subject = %mail.subject, error = %why, "email given up: moved to mail/dead");
                    } else {
                        let _ =
                            std::fs::write(&path, serde_json::to_vec(&mail).unwrap_or_default());
                        tracing::warn!(to = %mail.to, subject = %mail.subject, error = %why, "email not sent; it stays queued and is retried");
                    }
                }
            }
        }
        delivery
    }

    /// Moves a message to the dead letters with the reason beside it.
    fn bury(
        &self,
        path: &Path,
        name: &std::ffi::OsStr,
        mail: &Mail,
        why: &str,
    ) -> std::io::Result<()> {
        let dest = self.dir.join("dead").join(name);
        std::fs::write(dest.with_extension("reason"), why)?;
        std::fs::write(&dest, serde_json::to_vec(mail).unwrap_or_default())?;
        std::fs::remove_file(path)
    }

    async fn send(&self, relay: &SmtpRelay, mail: &Mail) -> Result<(), SendError> {
        let permanent = SendError::Permanent;
        let message = lettre::Message::builder()
            .from(
                self.settings
                    .from
                    .parse()
                    .map_err(|e| permanent(format!("bad from address: {e}")))?,
            )
            .to(mail
                .to
                .parse()
                .map_err(|e| permanent(format!("bad address {:?}: {e}", mail.to)))?)
            .subject(mail.subject.clone())
            .body(mail.body.clone())
            .map_err(|e| permanent(e.to_string()))?;
        let builder = if relay.tls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&relay.host)
                .map_err(|e| SendError::Transient(e.to_string()))?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&relay.host)
        };
        let mut builder = builder.port(relay.port).timeout(Some(self.message_timeout));
        if let (Some(user), Some(password)) = (&relay.user, &relay.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        builder.build().send(message).await.map(drop).map_err(|e| {
            if e.is_permanent() {
                SendError::Permanent(e.to_string())
            } else {
                SendError::Transient(e.to_string())
            }
        })
    }
}
