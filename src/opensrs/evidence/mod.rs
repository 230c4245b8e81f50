//! Evidence for billing disputes: what was sent to OpenSRS and what it answered, for every
//! mutating call (SW_REGISTER, RENEW, PROCESS_PENDING), kept beside the log and addressed
//! by content: in `evidence/evidence.db` ([`pack`]), or, for exchanges kept before
//! that file, one JSON file each in `evidence/xx/`. The order's events carry the SHA-256
//! (`RegistrarAnswer::evidence`); `domreg audit DOMAIN --evidence` shows the bodies.
//!
//! The request is kept with registrant passwords and transfer codes redacted (as every
//! request record is) and with the contact data redacted too: the contacts are in the
//! log already (`OrderDetailsRecorded`), and evidence files are copied around in disputes.
//! The reseller key never appears (it only enters the signature).

mod pack;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::client::Exchange;
use super::command::{Command, REDACTED};
use super::value::Value;
use crate::hex::hex;

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
    #[error("evidence {0} does not match its address: what is kept was changed")]
    Tampered(String),
}

/// The evidence directory of a data directory.
#[derive(Debug, Clone)]
pub struct EvidenceStore {
    dir: PathBuf,
    /// The writer, started by the first exchange kept (reading never starts one).
    pack: OnceLock<Arc<pack::Pack>>,
}

impl EvidenceStore {
    pub fn new(data_dir: &Path) -> Self {
        EvidenceStore {
            dir: data_dir.join("evidence"),
            pack: OnceLock::new(),
        }
    }

    /// Where an exchange kept before the evidence file was (one JSON file each).
    fn file_path(&self, hash: &str) -> PathBuf {
        self.dir.join(&hash[..2]).join(format!("{hash}.json"))
    }

    /// Keeps `evidence` (once per content), durably, and returns its address; exchanges
    /// kept at the same moment share one commit.
    pub async fn keep(&self, evidence: &Evidence) -> Result<String, String> {
        let bytes = serde_json::to_vec_pretty(evidence).map_err(|e| e.to_string())?;
        let hash = hex(&Sha256::digest(&bytes));
        let pack = match self.pack.get() {
            Some(p) => p.clone(),
            None => {
                let p = pack::Pack::for_dir(&self.dir).map_err(|e| e.to_string())?;
                self.pack.get_or_init(|| p).clone()
            }
        };
        pack.keep(hash.clone(), bytes).await?;
        Ok(hash)
    }

    /// Reads the evidence at `hash`, checking that its content still has that address.
    pub fn read(&self, hash: &str) -> Result<Evidence, EvidenceError> {
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(EvidenceError::BadAddress(hash.to_string()));
        }
        let hash = hash.to_ascii_lowercase();
        let file = self.file_path(&hash);
        let missing = |path: &Path, why: String| EvidenceError::Missing {
            hash: hash.clone(),
            path: path.display().to_string(),
            why,
        };
        let kept = pack::read(&self.dir, &hash)
            .map_err(|e| missing(&self.dir.join(pack::FILE_NAME), e.to_string()))?;
        let bytes = match kept {
            Some(bytes) => bytes,
            None => std::fs::read(&file).map_err(|e| {
                let db = self.dir.join(pack::FILE_NAME);
                missing(&file, format!("not in {} either; {e}", db.display()))
            })?,
        };
        if hex(&Sha256::digest(&bytes)) != hash {
            return Err(EvidenceError::Tampered(hash));
        }
        serde_json::from_slice(&bytes).map_err(|e| missing(&file, e.to_string()))
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
        match self.keep(&evidence).await {
            Ok(hash) => Some(hash),
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, "evidence of an OpenSRS call could not be kept");
                None
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(n: usize) -> Evidence {
        Evidence {
            connection: "main".into(),
            command: "SW_REGISTER".into(),
            request: format!("<request {n}/>"),
            reply: Some(format!("<reply {n}/>")),
            transport_error: None,
            response_code: Some(200),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn exchanges_kept_at_once_are_all_readable_and_kept_once_per_content() {
        let dir = tempfile::tempdir().unwrap();
        let store = EvidenceStore::new(dir.path());
        let kept = futures::future::join_all((0..64).map(|n| {
            let store = store.clone();
            async move { store.keep(&exchange(n % 32)).await.unwrap() }
        }))
        .await;
        for (n, hash) in kept.iter().enumerate() {
            assert_eq!(store.read(hash).unwrap(), exchange(n % 32));
        }
        let db =
            rusqlite::Connection::open(dir.path().join("evidence").join(pack::FILE_NAME)).unwrap();
        let rows: i64 = db
            .query_row("SELECT count(*) FROM evidence", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 32, "one row per content");
        assert!(matches!(
            store.read(&"0".repeat(64)),
            Err(EvidenceError::Missing { .. })
        ));
        assert!(matches!(
            store.read("not-an-address"),
            Err(EvidenceError::BadAddress(_))
        ));
    }
}
