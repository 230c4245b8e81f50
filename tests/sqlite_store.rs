//! Guarantees of the embedded store beyond the shared contract: durability across reopen,
//! gap-free positions, other processes, and a process killed in the middle of appending.

// Only the sample-event helper of the contract suite is used here.
#[allow(dead_code)]
#[path = "support/contract.rs"]
mod contract;

use std::process::{Command, Stdio};
use std::time::Duration;

use domreg::store::{EventStore, ExpectedVersion, Position, SqliteStore, StoreError};
use futures::StreamExt;

fn domreg() -> Command {
    Command::new(env!("CARGO_BIN_EXE_domreg"))
}

async fn everything(store: &SqliteStore) -> Vec<domreg::store::RecordedEvent> {
    let mut out = Vec::new();
    loop {
        let page = store
            .read_all(
                out.last()
                    .map(|e: &domreg::store::RecordedEvent| e.position),
                5000,
            )
            .await
            .unwrap();
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

#[tokio::test]
async fn appends_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        store
            .append(
                "s",
                ExpectedVersion::NoStream,
                vec![contract::event(1), contract::event(2)],
            )
            .await
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let events = store.read_stream("s", 0, 10).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].data, b"{\"n\":2}");
    let r = store
        .append("s", ExpectedVersion::Exact(1), vec![contract::event(3)])
        .await
        .unwrap();
    assert_eq!(r.last_version, 2);
    assert_eq!(r.last_position, Position::at(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_are_gap_free_even_after_refused_appends() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("events.db")).unwrap();
    let mut tasks = Vec::new();
    for w in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..30u32 {
                let s = format!("s{}", (w + i) % 5);
                let batch = vec![contract::event(i), contract::event(i + 1)];
                // A third of the appends expect a version that is surely wrong.
                let expected = if i % 3 == 0 {
                    ExpectedVersion::Exact(100_000)
                } else {
                    ExpectedVersion::Any
                };
                let first = store.append(&s, expected, batch.clone()).await;
                if let Ok(original) = first {
                    // A retry of a stored append returns the original, storing nothing.
                    assert_eq!(
                        store.append(&s, ExpectedVersion::Any, batch).await.unwrap(),
                        original
                    );
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let all = everything(&store).await;
    let positions: Vec<u64> = all.iter().map(|e| e.position.commit).collect();
    assert_eq!(positions, (1..=all.len() as u64).collect::<Vec<_>>());
    assert_eq!(all.len(), 16 * 20 * 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_sees_appends_of_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let store = SqliteStore::open(&path).unwrap();
    store
        .append("mine", ExpectedVersion::NoStream, vec![contract::event(0)])
        .await
        .unwrap();
    let mut sub = store.subscribe_all(None);
    let status = domreg()
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "log",
            "append-sample",
            "--stream",
            "theirs",
            "--count",
            "50",
            "--batch",
            "5",
        ])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let mut theirs = 0;
    let mut positions = Vec::new();
    while theirs < 50 {
        let e = tokio::time::timeout(Duration::from_secs(10), sub.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        positions.push(e.position);
        if e.stream == "theirs" {
            theirs += 1;
        }
    }
    assert_eq!(positions.len(), 51);
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
    // Our own writer continues after theirs without conflict.
    let r = store
        .append("mine", ExpectedVersion::Exact(0), vec![contract::event(1)])
        .await
        .unwrap();
    assert_eq!(r.last_position, Position::at(52));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_writer_leaves_only_whole_appends() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..3u64 {
        let mut child = domreg()
            .args([
                "--data-dir",
                dir.path().to_str().unwrap(),
                "log",
                "append-sample",
                "--stream",
                "victim",
                "--count",
                "10000000",
                "--batch",
                "100",
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(400 + 150 * round));
        child.kill().unwrap(); // SIGKILL: no chance to clean up
        child.wait().unwrap();
    }
    let store = SqliteStore::open(dir.path().join("events.db")).unwrap();
    let all = everything(&store).await;
    assert!(
        !all.is_empty(),
        "the child appended something before it was killed"
    );
    assert_eq!(
        all.len() % 100,
        0,
        "{} events: a partial append survived",
        all.len()
    );
    let versions: Vec<u64> = all.iter().map(|e| e.version).collect();
    assert_eq!(versions, (0..all.len() as u64).collect::<Vec<_>>());
    for e in &all {
        e.decode_domain().unwrap();
    }
}

#[tokio::test]
async fn bad_stream_names_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("events.db")).unwrap();
    for bad in ["", "$all"] {
        let err = store
            .append(bad, ExpectedVersion::Any, vec![contract::event(0)])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::InvalidAppend(_)), "{err}");
        assert!(err.to_string().contains("stream name"), "{err}");
    }
    assert!(everything(&store).await.is_empty());
}

#[tokio::test]
async fn an_unknown_event_type_reads_back_as_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("events.db")).unwrap();
    store
        .append("s", ExpectedVersion::Any, vec![contract::event(0)])
        .await
        .unwrap();
    let e = &store.read_stream("s", 0, 1).await.unwrap()[0];
    let err = e.decode_domain().unwrap_err().to_string();
    assert!(
        err.contains("ContractTested") && err.contains("unknown event type"),
        "{err}"
    );
}

#[tokio::test]
async fn large_appends_are_idempotent_and_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("events.db")).unwrap();
    // 45 events: written as two multi-row chunks of 20 and five single rows.
    let batch: Vec<_> = (0..45).map(contract::event).collect();
    let first = store
        .append("big", ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    assert_eq!(
        (
            first.first_position,
            first.last_position,
            first.last_version
        ),
        (Position::at(1), Position::at(45), 44)
    );
    assert_eq!(
        store
            .append("big", ExpectedVersion::Any, batch.clone())
            .await
            .unwrap(),
        first
    );

    // A new append whose 30th event reuses a stored id is refused whole.
    let mut clash: Vec<_> = (0..45).map(contract::event).collect();
    clash[29].id = batch[3].id;
    let err = store
        .append("other", ExpectedVersion::Any, clash)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::IdempotencyConflict { .. }),
        "{err}"
    );
    assert!(store.read_stream("other", 0, 100).await.unwrap().is_empty());
    let next = store
        .append("other", ExpectedVersion::NoStream, vec![contract::event(0)])
        .await
        .unwrap();
    assert_eq!(
        next.last_position,
        Position::at(46),
        "no gap left by the refused append"
    );
}
