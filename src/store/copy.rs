//! Moving a log (`domreg store copy --from URL --to URL`): every event with its id,
//! stream, version, type, data, metadata and time, in the source's order; resumable
//! after a crash from a checkpoint; then verified, stream by stream (count and digest),
//! before it says so.
//!
//! A page is copied as appends of runs of consecutive events of one stream, each with
//! the version it must follow, queued in order. The checkpoint is the last source
//! position whose page was copied completely, so a run started again copies the same
//! page from the same place: its appends are exact retries (answered from the target,
//! nothing written twice), and a page that changed meanwhile is copied event by event.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Append, EventStore, ExpectedVersion, NewEvent, Position, RecordedEvent, StoreError};

const PAGE: usize = 2_000;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Checkpoint {
    after: Option<Position>,
    copied: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CopyReport {
    /// Events copied by this run (a resumed run counts only what it added).
    pub copied: u64,
    /// Events in the target after the copy.
    pub events: u64,
    pub streams: u64,
    /// Streams whose count or digest differs between the logs (empty: verified).
    pub mismatched: Vec<String>,
}

fn checkpoint_path(data_dir: &Path, key: &str) -> PathBuf {
    let digest = Sha256::digest(key.as_bytes());
    let name = crate::hex::hex(&digest[..8]);
    data_dir.join("copy").join(format!("{name}.json"))
}

fn read_checkpoint(path: &Path) -> Checkpoint {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn write_checkpoint(path: &Path, c: &Checkpoint) -> Result<(), StoreError> {
    let cannot = |e: std::io::Error| {
        StoreError::Unavailable(format!("cannot write {}: {e}", path.display()))
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(cannot)?;
    }
    let tmp = path.with_extension("tmp");
    let body = serde_json::to_vec(c).map_err(|e| StoreError::Backend(e.to_string()))?;
    std::fs::write(&tmp, body).map_err(cannot)?;
    std::fs::rename(&tmp, path).map_err(cannot)
}

fn as_new(e: &RecordedEvent) -> NewEvent {
    NewEvent {
        id: e.id,
        event_type: e.event_type.clone(),
        schema_version: e.schema_version,
        data: e.data.clone(),
        metadata: e.metadata.clone(),
    }
}

fn expected_before(version: u64) -> ExpectedVersion {
    ExpectedVersion::after(version)
}

/// Runs of consecutive events of one stream, each an append after its first version.
fn runs(page: &[RecordedEvent]) -> Vec<Append> {
    let mut out: Vec<Append> = Vec::new();
    for e in page {
        match out.last_mut() {
            Some(last) if last.stream == e.stream => last.events.push(as_new(e)),
            _ => out.push(Append {
                stream: e.stream.clone(),
                expected: expected_before(e.version),
                events: vec![as_new(e)],
            }),
        }
    }
    out
}

fn refused(e: StoreError) -> StoreError {
    match e {
        StoreError::WrongExpectedVersion { .. } | StoreError::IdempotencyConflict { .. } => {
            StoreError::InvalidAppend(format!(
                "the target log holds events that are not this copy's ({e}); copy into an empty log"
            ))
        }
        other => other,
    }
}

/// Copies `source` into `target`, keeping the checkpoint under `data_dir` for `key`
/// (the two logs' names), calling `progress` with the events copied so far.
pub async fn copy(
    source: &dyn EventStore,
    target: &dyn EventStore,
    data_dir: &Path,
    key: &str,
    mut progress: impl FnMut(u64),
) -> Result<CopyReport, StoreError> {
    let path = checkpoint_path(data_dir, key);
    let mut checkpoint = read_checkpoint(&path);
    let mut copied = 0;
    loop {
        let page = source.read_all(checkpoint.after, PAGE).await?;
        let Some(last) = page.last().map(|e| e.position) else {
            break;
        };
        let results = target.append_in_order(runs(&page)).await;
        if let Some(e) = results.into_iter().find_map(Result::err) {
            match e {
                // The page differs from the one a crashed run copied part of (the source
                // grew): event by event, each either an exact retry or new.
                StoreError::IdempotencyConflict { .. } => {
                    for e in &page {
                        target
                            .append(&e.stream, expected_before(e.version), vec![as_new(e)])
                            .await
                            .map_err(refused)?;
                    }
                }
                other => return Err(refused(other)),
            }
        }
        copied += page.len() as u64;
        checkpoint.copied += page.len() as u64;
        checkpoint.after = Some(last);
        write_checkpoint(&path, &checkpoint)?;
        progress(checkpoint.copied);
    }
    let (want, got) = (digests(source).await?, digests(target).await?);
    let mut mismatched: Vec<String> = want
        .iter()
        .filter(|(s, d)| got.get(*s) != Some(d))
        .map(|(s, _)| s.clone())
        .collect();
    mismatched.extend(got.keys().filter(|s| !want.contains_key(*s)).cloned());
    Ok(CopyReport {
        copied,
        events: got.values().map(|(n, _)| n).sum(),
        streams: got.len() as u64,
        mismatched,
    })
}

/// Per stream: how many events and a digest of everything each one holds but its
/// position (which is the log's own).
pub async fn digests(
    store: &dyn EventStore,
) -> Result<BTreeMap<String, (u64, String)>, StoreError> {
    let mut hashers: BTreeMap<String, (u64, Sha256)> = BTreeMap::new();
    let mut after = None;
    loop {
        let page = store.read_all(after, PAGE).await?;
        let Some(last) = page.last() else {
            break;
        };
        after = Some(last.position);
        for e in &page {
            let (n, h) = hashers
                .entry(e.stream.clone())
                .or_insert_with(|| (0, Sha256::new()));
            *n += 1;
            let m = &e.metadata;
            h.update(e.id.as_bytes());
            h.update(e.version.to_be_bytes());
            h.update(e.event_type.as_bytes());
            h.update(e.schema_version.to_be_bytes());
            h.update((e.data.len() as u64).to_be_bytes());
            h.update(&e.data);
            h.update(super::actor::actor_column(&m.actor).as_bytes());
            h.update(m.correlation_id.as_bytes());
            h.update(m.causation_id.map(|c| *c.as_bytes()).unwrap_or_default());
            h.update(m.at.timestamp_micros().to_be_bytes());
        }
    }
    Ok(hashers
        .into_iter()
        .map(|(s, (n, h))| (s, (n, crate::hex::hex(&h.finalize()))))
        .collect())
}
