//! The log a data directory belongs to, kept in `DATA_DIR/store.url` (`domreg store use`),
//! so every verb run there uses it without `--store`, and a verb given another log is
//! refused instead of writing half the history somewhere else. The URL may hold a
//! password: the file is the owner's alone, like the data directory.

use std::path::{Path, PathBuf};

use super::{StoreError, StoreUrl};

fn file(data_dir: &Path) -> PathBuf {
    data_dir.join("store.url")
}

/// The log `data_dir` was told to use, if any.
pub fn remembered(data_dir: &Path) -> Result<Option<StoreUrl>, StoreError> {
    match std::fs::read_to_string(file(data_dir)) {
        Ok(text) if !text.trim().is_empty() => StoreUrl::parse(text.trim()).map(Some),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::Unavailable(format!(
            "cannot read {}: {e}",
            file(data_dir).display()
        ))),
    }
}

/// Makes `url` the log of `data_dir`.
pub fn remember(data_dir: &Path, url: &str) -> Result<(), StoreError> {
    StoreUrl::parse(url)?;
    let path = file(data_dir);
    let cannot = |e: std::io::Error| {
        StoreError::Unavailable(format!("cannot write {}: {e}", path.display()))
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(&path).map_err(cannot)?;
    std::io::Write::write_all(&mut f, format!("{}\n", url.trim()).as_bytes()).map_err(cannot)?;
    f.sync_all().map_err(cannot)
}

/// The log to open: the one chosen at start (`--store`, `DOMREG_STORE`), the data
/// directory's own, or the embedded file. A choice that contradicts the directory's own
/// log is refused.
pub fn effective(data_dir: &Path, chosen: Option<&StoreUrl>) -> Result<StoreUrl, StoreError> {
    let own = remembered(data_dir)?;
    match (chosen, own) {
        (Some(c), Some(o)) if *c != o => Err(StoreError::Unavailable(format!(
            "{} belongs to {} (its store.url), but {} was named: use that log here, or another data directory",
            data_dir.display(),
            o.describe(),
            c.describe()
        ))),
        (Some(c), _) => Ok(c.clone()),
        (None, Some(o)) => Ok(o),
        (None, None) => Ok(StoreUrl::in_data_dir(data_dir)),
    }
}
