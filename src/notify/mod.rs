//! Email notifications. The engine turns events into messages (`compose`), writes each to
//! a spool directory under a name derived from its cause (so a repeat writes nothing), and
//! delivers the spool over SMTP (lettre), or, without a relay, moves it to a file outbox.
//! A message that cannot be sent stays in the spool and is tried again next round: email
//! never blocks or loses an order.

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
}

pub struct Mailer {
    settings: MailSettings,
    pub(crate) dir: PathBuf,
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
        for sub in ["spool", "sent", "outbox"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        Ok(Mailer { settings, dir })
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
        if ["spool", "sent", "outbox"]
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
            let result = match &self.settings.smtp {
                Some(relay) => self
                    .send(relay, &mail)
                    .await
                    .map(|_| self.dir.join("sent").join(name)),
                None => Ok(self.dir.join("outbox").join(name)),
            };
            match result.and_then(|dest| std::fs::rename(&path, dest).map_err(|e| e.to_string())) {
                Ok(()) => {
                    delivery.sent += 1;
                    Metrics::add(&metrics::global().emails_sent, 1);
                }
                Err(e) => {
                    delivery.failed += 1;
                    Metrics::add(&metrics::global().emails_failed, 1);
                    tracing::warn!(to = %mail.to, subject = %mail.subject, error = %e, "email not sent; it stays queued and is retried");
                }
            }
        }
        delivery
    }

    async fn send(&self, relay: &SmtpRelay, mail: &Mail) -> Result<(), String> {
        let message = lettre::Message::builder()
            .from(
                self.settings
                    .from
                    .parse()
                    .map_err(|e| format!("bad from address: {e}"))?,
            )
            .to(mail
                .to
                .parse()
                .map_err(|e| format!("bad address {:?}: {e}", mail.to))?)
            .subject(mail.subject.clone())
            .body(mail.body.clone())
            .map_err(|e| e.to_string())?;
        let builder = if relay.tls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&relay.host)
                .map_err(|e| e.to_string())?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&relay.host)
        };
        let mut builder = builder
            .port(relay.port)
            .timeout(Some(Duration::from_secs(20)));
        if let (Some(user), Some(password)) = (&relay.user, &relay.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        builder
            .build()
            .send(message)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }
}
