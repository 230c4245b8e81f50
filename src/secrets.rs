//! Secrets kept outside the event log: OpenSRS keys, in files only their owner can read
//! (`<data dir>/secrets/opensrs-<title>.key`, mode 0600), or from the environment
//! (`DOMREG_OPENSRS_KEY_<TITLE>`, which wins).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::opensrs::Secret;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("no key for OpenSRS connection {title:?}: set {env} or run `domreg registrar update {title} --key ...`")]
    Missing { title: String, env: String },
    #[error("cannot store the key of {title:?} in {dir}: {source}")]
    Write {
        title: String,
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the key of {title:?}: {source}")]
    Read {
        title: String,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone)]
pub struct SecretStore {
    dir: PathBuf,
}

/// The environment variable that overrides a connection's key file.
pub fn env_name(title: &str) -> String {
    let upper: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("DOMREG_OPENSRS_KEY_{upper}")
}

/// A title as a file name: unchanged when it is letters, digits, '.', '_' and '-' (as
/// every title was before titles took any text), otherwise those characters with '_' for
/// the rest and a hash of the whole title, so two titles never share a file.
pub fn file_name(title: &str) -> String {
    let plain = title
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !title.starts_with('.');
    if plain {
        return title.to_string();
    }
    let safe: String = title
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    // FNV-1a: stable across builds and platforms.
    let hash = title.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{safe}-{hash:016x}")
}

impl SecretStore {
    pub fn new(data_dir: &Path) -> Self {
        SecretStore {
            dir: data_dir.join("secrets"),
        }
    }

    fn path(&self, title: &str) -> PathBuf {
        self.dir.join(format!("opensrs-{}.key", file_name(title)))
    }

    /// Stores (or replaces) a key: written to a temporary file created with mode 0600,
    /// then renamed over the old one.
    pub fn put(&self, title: &str, key: &Secret) -> Result<(), SecretError> {
        let err = |source| SecretError::Write {
            title: title.to_string(),
            dir: self.dir.clone(),
            source,
        };
        fs::create_dir_all(&self.dir).map_err(err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700)).map_err(err)?;
        }
        let tmp = self
            .dir
            .join(format!(".opensrs-{}.key.tmp", file_name(title)));
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(err)?;
        file.write_all(key.expose().as_bytes()).map_err(err)?;
        file.sync_all().map_err(err)?;
        fs::rename(&tmp, self.path(title)).map_err(err)
    }

    pub fn get(&self, title: &str) -> Result<Secret, SecretError> {
        if let Ok(v) = std::env::var(env_name(title)) {
            if !v.is_empty() {
                return Ok(Secret::new(v));
            }
        }
        match fs::read_to_string(self.path(title)) {
            Ok(s) if !s.trim().is_empty() => Ok(Secret::new(s.trim().to_string())),
            Ok(_) => Err(self.missing(title)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(self.missing(title)),
            Err(source) => Err(SecretError::Read {
                title: title.to_string(),
                source,
            }),
        }
    }

    fn missing(&self, title: &str) -> SecretError {
        SecretError::Missing {
            title: title.to_string(),
            env: env_name(title),
        }
    }

    pub fn remove(&self, title: &str) {
        let _ = fs::remove_file(self.path(title));
    }

    /// Keeps a transfer's EPP code until the order is sent to OpenSRS.
    pub fn put_auth_code(
        &self,
        order: domreg_events::OrderId,
        code: &Secret,
    ) -> Result<(), SecretError> {
        self.put(&auth_title(order), code)
    }

    /// The EPP code kept for an order (from its file only: never from the environment).
    pub fn auth_code(&self, order: domreg_events::OrderId) -> Option<Secret> {
        let s = fs::read_to_string(self.path(&auth_title(order))).ok()?;
        Some(Secret::new(s.trim().to_string())).filter(|s| !s.expose().is_empty())
    }

    /// Forgets an order's EPP code once it was sent (or the order was not placed).
    pub fn forget_auth_code(&self, order: domreg_events::OrderId) {
        self.remove(&auth_title(order));
    }
}

fn auth_title(order: domreg_events::OrderId) -> String {
    format!("auth-{order}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_owner_only_and_replaceable() {
        let dir = tempfile::tempdir().unwrap();
        let store = SecretStore::new(dir.path());
        assert!(matches!(store.get("t1"), Err(SecretError::Missing { .. })));
        store.put("t1", &Secret::new("first-key")).unwrap();
        store.put("t1", &Secret::new("second-key")).unwrap();
        assert_eq!(store.get("t1").unwrap().expose(), "second-key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(store.path("t1")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(env_name("main-2.x"), "DOMREG_OPENSRS_KEY_MAIN_2_X");
        let e = store.get("absent").unwrap_err().to_string();
        assert!(e.contains("DOMREG_OPENSRS_KEY_ABSENT"), "{e}");
    }
}
