//! `domreg store copy`: a log moved from the embedded file to another file and to
//! PostgreSQL, killed halfway and started again, then verified stream by stream; a
//! target that holds other events is refused.

#[path = "support/postgres.rs"]
mod pg;
#[path = "support/cli.rs"]
mod support_cli;

use std::path::Path;
use std::time::{Duration, Instant};

use domreg::bench::store::sample_event;
use domreg::store::{EventStore, ExpectedVersion, SqliteStore};
use serde_json::Value;
use support_cli::{domreg, domreg_ok};

const STREAMS: u64 = 2_000;

/// A log of `events` events over `STREAMS` streams, appended interleaved in runs of 1 to 3.
async fn source_log(path: &Path, events: u64) {
    let store = SqliteStore::open(path).unwrap();
    let mut n = 0;
    let mut appends = Vec::new();
    while n < events {
        let run = (1 + n % 3).min(events - n);
        let stream = format!("domain-copy{}.com", (n * 7919) % STREAMS);
        let batch: Vec<_> = (n..n + run).map(sample_event).collect();
        appends.push(domreg::store::Append {
            stream,
            expected: ExpectedVersion::Any,
            events: batch,
        });
        n += run;
    }
    for chunk in appends.chunks(5_000) {
        for r in store.append_in_order(chunk.to_vec()).await {
            r.unwrap();
        }
    }
}

fn copy_json(dir: &Path, from: &str, to: &str) -> Value {
    let out = domreg_ok(
        dir,
        &["store", "copy", "--from", from, "--to", to, "--json"],
    );
    serde_json::from_str(&out).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_is_copied_resumed_after_a_kill_and_verified() {
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("source.db");
    source_log(&source, 60_000).await;
    let from = format!("sqlite:{}", source.display());

    // File to file, always.
    let data = work.path().join("data");
    let to_file = format!("sqlite:{}", work.path().join("copy.db").display());
    let report = copy_json(&data, &from, &to_file);
    assert_eq!(report["copied"], 60_000, "{report}");
    assert_eq!(report["events"], 60_000, "{report}");
    assert_eq!(report["streams"], STREAMS, "{report}");
    assert_eq!(report["mismatched"], serde_json::json!([]), "{report}");

    // Into a log that holds other events: refused, nothing claimed.
    let other = work.path().join("other.db");
    source_log(&other, 10).await;
    let r = domreg(
        &data,
        &[
            "store",
            "copy",
            "--from",
            &from,
            "--to",
            &format!("sqlite:{}", other.display()),
        ],
    );
    assert!(!r.ok && r.err.contains("not this copy's"), "{r:?}");

    // To PostgreSQL, killed once it has copied part, then started again.
    let Some(cluster) = tokio::task::block_in_place(|| pg::start("store copy")) else {
        return;
    };
    let data = work.path().join("data-pg");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_domreg"))
        .args(["--data-dir", data.to_str().unwrap(), "store", "copy"])
        .args(["--from", &from, "--to", &cluster.url])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // Only the renamed checkpoint counts: the `.tmp` beside it is not yet one, and a
    // kill before the rename leaves the run to start over.
    let checkpoint = || {
        std::fs::read_dir(data.join("copy"))
            .ok()
            .and_then(|d| {
                d.filter_map(Result::ok)
                    .find(|e| e.path().extension().is_some_and(|x| x == "json"))
            })
            .and_then(|e| std::fs::read(e.path()).ok())
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v["copied"].as_u64())
            .unwrap_or(0)
    };
    while checkpoint() == 0 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    let _ = child.wait();
    let before = checkpoint();
    assert!(before > 0 && before < 60_000, "killed halfway: {before}");
    let resumed = tokio::task::block_in_place(|| copy_json(&data, &from, &cluster.url));
    assert_eq!(resumed["events"], 60_000, "{resumed}");
    assert_eq!(resumed["mismatched"], serde_json::json!([]), "{resumed}");
    assert!(
        resumed["copied"].as_u64().unwrap() <= 60_000 - before,
        "only the rest was copied: {resumed}"
    );
    let again = tokio::task::block_in_place(|| copy_json(&data, &from, &cluster.url));
    assert_eq!(again["copied"], 0, "{again}");
    assert_eq!(again["events"], 60_000, "{again}");
}
