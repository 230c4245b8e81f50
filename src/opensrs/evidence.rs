//! Evidence for billing disputes: what was sent to OpenSRS and what it answered, for every
//! mutating call (SW_REGISTER, RENEW, PROCESS_PENDING), kept beside the log and addressed
//! by content. The order's events carry the SHA-256 (`RegistrarAnswer::evidence`);
//! `domreg audit DOMAIN --evidence` shows the bodies.
//!
//! The request is kept with registrant passwords and transfer codes redacted (as every
//! request record is) and with the contact data redacted too: the contacts are in the
//! log already (`OrderDetailsRecorded`), and evidence files are copied around in disputes.
//! The reseller key never appears (it only enters the signature).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::client::Exchange;
use super::command::{Command, REDACTED};
use super::value::Value;

/// One exchange as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub connection: String,
    pub command: String,
    /// The request XML, redacted.
    pub request: String,
    /// The raw reply body; absent when none arrived.
    pub reply: Option<String>,
    /// Why no reply was read, when none was.
    pub transport_error: Option<String>,
    pub response_code: Option<u16>,
}

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("{0:?} is not an evidence address (64 hexadecimal digits)")]
    BadAddress(String),
    #[error("evidence {hash} is not kept here ({path}): {why}")]
    Missing {
        hash: String,
        path: String,
        why: String,
    },
    #[error("evidence {0} does not match its address: the file was changed")]
    Tampered(String),
}

/// The evidence directory of a data directory.
#[derive(Debug, Clone)]
pub struct EvidenceStore {
    dir: PathBuf,
}

impl EvidenceStore {
    pub fn new(data_dir: &Path) -> Self {
        EvidenceStore {
            dir: data_dir.join("evidence"),
        }
    }

    fn path(&self, hash: &str) -> PathBuf {
        self.dir.join(&hash[..2]).join(format!("{hash}.json"))
    }

    /// Keeps `evidence` (once per content) and returns its address. Written to a
    /// temporary file, synced and renamed, so a crash leaves either all of it or nothing.
    pub fn keep(&self, evidence: &Evidence) -> std::io::Result<String> {
        let bytes = serde_json::to_vec_pretty(evidence)?;
        let hash = hex(&Sha256::digest(&bytes));
        let path = self.path(&hash);
        if path.exists() {
            return Ok(hash);
        }
        let dir = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        tmp.write_all(&bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(hash)
    }

    /// Reads the evidence at `hash`, checking that its content still has that address.
    pub fn read(&self, hash: &str) -> Result<Evidence, EvidenceError> {
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(EvidenceError::BadAddress(hash.to_string()));
        }
        let hash = hash.to_ascii_lowercase();
        let path = self.path(&hash);
        let missing = |why: String| EvidenceError::Missing {
            hash: hash.clone(),
            path: path.display().to_string(),
            why,
        };
        let bytes = std::fs::read(&path).map_err(|e| missing(e.to_string()))?;
        if hex(&Sha256::digest(&bytes)) != hash {
            return Err(EvidenceError::Tampered(hash));
        }
        serde_json::from_slice(&bytes).map_err(|e| missing(e.to_string()))
    }

    /// Keeps the evidence of a mutating `exchange`; `None` (logged) when it could not be
    /// written: the call's outcome is recorded all the same.
    pub async fn keep_exchange(
        &self,
        connection: &str,
        command: &Command,
        exchange: &Exchange,
    ) -> Option<String> {
        let evidence = Evidence {
            connection: connection.to_string(),
            command: command.action_object().0.to_string(),
            request: super::codec::write(&super::codec::Envelope::new(redact_contacts(
                command.to_redacted_value(),
            ))),
            reply: exchange.reply_body.clone(),
            transport_error: exchange.outcome.as_ref().err().map(|e| e.to_string()),
            response_code: exchange.classification.code,
        };
        // Off the async threads: the sync waits for the disk, and concurrent calls' syncs
        // then share the file system's journal commits.
        let store = self.clone();
        let kept = tokio::task::spawn_blocking(move || store.keep(&evidence))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
        match kept {
            Ok(hash) => Some(hash),
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, "evidence of an OpenSRS call could not be kept");
                None
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Replaces every value under `contact_set` with the redaction mark.
fn redact_contacts(mut value: Value) -> Value {
    fn blank(v: &mut Value) {
        match v {
            Value::Scalar(s) => *s = REDACTED.to_string(),
            Value::Assoc(map) => map.values_mut().for_each(blank),
            Value::Array(items) => items.iter_mut().for_each(blank),
        }
    }
    fn walk(v: &mut Value) {
        match v {
            Value::Assoc(map) => {
                for (key, child) in map.iter_mut() {
                    if key == "contact_set" {
                        blank(child);
                    } else {
                        walk(child);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            Value::Scalar(_) => {}
        }
    }
    walk(&mut value);
    value
}
