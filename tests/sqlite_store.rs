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

/// A fresh store at `events.db` in a temporary directory, holding event 0 in `mine`.
async fn a_store_with_one_append() -> (tempfile::TempDir, std::path::PathBuf, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let store = SqliteStore::open(&path).unwrap();
    store
        .append("mine", ExpectedVersion::NoStream, vec![contract::event(0)])
        .await
        .unwrap();
    (dir, path, store)
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
    let (dir, _path, store) = a_store_with_one_append().await;
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

/// Packed appends: reads that start and stop inside an append see exactly the events
/// asked for, with their own positions and versions.
#[tokio::test]
async fn reads_start_and_stop_inside_appends() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("events.db")).unwrap();
    let first: Vec<_> = (0..10).map(contract::event).collect();
    let second: Vec<_> = (10..15).map(contract::event).collect();
    store
        .append("s", ExpectedVersion::NoStream, first)
        .await
        .unwrap();
    store
        .append(
            "other",
            ExpectedVersion::NoStream,
            vec![contract::event(99)],
        )
        .await
        .unwrap();
    let r = store
        .append("s", ExpectedVersion::Exact(9), second)
        .await
        .unwrap();
    assert_eq!(
        (r.first_position, r.last_position),
        (Position::at(12), Position::at(16))
    );
    let page = store.read_all(Some(Position::at(3)), 4).await.unwrap();
    let positions: Vec<u64> = page.iter().map(|e| e.position.commit).collect();
    assert_eq!(positions, [4, 5, 6, 7]);
    assert_eq!(page[0].data, b"{\"n\":3}");
    let across = store.read_all(Some(Position::at(9)), 4).await.unwrap();
    let streams: Vec<(&str, u64)> = across
        .iter()
        .map(|e| (e.stream.as_str(), e.version))
        .collect();
    assert_eq!(streams, [("s", 9), ("other", 0), ("s", 10), ("s", 11)]);
    let stream = store.read_stream("s", 8, 5).await.unwrap();
    let versions: Vec<(u64, u64)> = stream
        .iter()
        .map(|e| (e.version, e.position.commit))
        .collect();
    assert_eq!(versions, [(8, 9), (9, 10), (10, 12), (11, 13), (12, 14)]);
    assert!(store.read_stream("s", 15, 5).await.unwrap().is_empty());
    assert!(store
        .read_all(Some(Position::at(16)), 5)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.head().await.unwrap(), 16);
}

/// An append whose 110th event reuses a stored id is refused whole: none of its ids stay
/// behind (they can be appended afterwards), and the stored events keep theirs.
#[tokio::test]
async fn an_append_overlapping_a_stored_id_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("events.db")).unwrap();
    let stored = vec![contract::event(0), contract::event(1), contract::event(2)];
    let original = store
        .append("a", ExpectedVersion::NoStream, stored.clone())
        .await
        .unwrap();
    let mut overlapping: Vec<_> = (0..120).map(contract::event).collect();
    overlapping[109] = stored[1].clone();
    let refused = store
        .append("b", ExpectedVersion::NoStream, overlapping.clone())
        .await;
    assert!(
        matches!(refused, Err(StoreError::IdempotencyConflict { .. })),
        "{refused:?}"
    );
    assert!(store.read_stream("b", 0, 200).await.unwrap().is_empty());
    assert_eq!(store.head().await.unwrap(), 3, "no position was taken");
    // The refused append's own ids were not kept: they append as new.
    overlapping.remove(109);
    let r = store
        .append("b", ExpectedVersion::NoStream, overlapping)
        .await
        .unwrap();
    assert_eq!((r.first_position, r.last_version), (Position::at(4), 118));
    // The stored append's ids are still there: its retry gets the original answer.
    let again = store
        .append("a", ExpectedVersion::NoStream, stored)
        .await
        .unwrap();
    assert_eq!(again, original);
}

/// The per-event table of schema 1, as domreg wrote it before appends were packed.
fn write_schema_one_log(path: &std::path::Path, rows: &[(&str, u64, &domreg::store::NewEvent)]) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(include_str!("../src/store/sqlite/sql/0001_events.sql"))
        .unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    for (stream, version, e) in rows {
        conn.execute(
            include_str!("../src/store/sqlite/sql/v1/insert_event.sql"),
            rusqlite::params![
                e.id.as_bytes().as_slice(),
                stream,
                *version as i64,
                e.event_type,
                e.schema_version,
                e.data,
                "engine",
                e.metadata.correlation_id.as_bytes().as_slice(),
                e.metadata
                    .causation_id
                    .as_ref()
                    .map(|c| c.as_bytes().as_slice()),
                e.metadata.at.timestamp_micros(),
            ],
        )
        .unwrap();
    }
}

#[tokio::test]
async fn a_log_of_the_per_event_schema_is_migrated_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let events: Vec<_> = (0..5).map(contract::event).collect();
    let mut caused = events[4].clone();
    caused.metadata.causation_id = Some(uuid::Uuid::new_v4());
    let rows = [
        ("x", 0, &events[0]),
        ("y", 0, &events[1]),
        ("x", 1, &events[2]),
        ("x", 2, &events[3]),
        ("y", 1, &caused),
    ];
    write_schema_one_log(&path, &rows);

    let store = SqliteStore::open(&path).unwrap();
    let log = everything(&store).await;
    assert_eq!(log.len(), 5);
    for (i, ((stream, version, e), got)) in rows.iter().zip(&log).enumerate() {
        assert_eq!(got.position, Position::at(i as u64 + 1));
        assert_eq!((got.stream.as_str(), got.version), (*stream, *version));
        assert_eq!(
            (got.id, &got.data, &got.event_type),
            (e.id, &e.data, &e.event_type)
        );
        let (m, want) = (&got.metadata, &e.metadata);
        assert_eq!(
            (&m.actor, m.correlation_id, m.causation_id),
            (&want.actor, want.correlation_id, want.causation_id)
        );
        // The log keeps microseconds.
        assert_eq!(m.at.timestamp_micros(), want.at.timestamp_micros());
    }
    // Stream reads, retries and new appends carry on from the migrated log.
    assert_eq!(store.read_stream("x", 1, 10).await.unwrap().len(), 2);
    let retry = store
        .append(
            "x",
            ExpectedVersion::NoStream,
            vec![events[2].clone(), events[3].clone()],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            retry.first_position,
            retry.last_position,
            retry.last_version
        ),
        (Position::at(3), Position::at(4), 2)
    );
    assert!(matches!(
        store
            .append("x", ExpectedVersion::Exact(1), vec![contract::event(9)])
            .await,
        Err(StoreError::WrongExpectedVersion { .. })
    ));
    let next = store
        .append("x", ExpectedVersion::Exact(2), vec![contract::event(10)])
        .await
        .unwrap();
    assert_eq!(
        (next.first_position, next.last_version),
        (Position::at(6), 3)
    );
    drop(store);
    // The old table is gone and the file says schema 2; opening again changes nothing.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
    let old: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'events'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old, 0);
    drop(conn);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(everything(&store).await.len(), 6);
}

#[tokio::test]
async fn a_migration_that_cannot_read_a_row_keeps_the_old_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let events: Vec<_> = (0..2).map(contract::event).collect();
    write_schema_one_log(&path, &[("x", 0, &events[0]), ("x", 1, &events[1])]);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE events SET event_id = x'0102' WHERE position = 2",
        [],
    )
    .unwrap();
    drop(conn);
    let err = SqliteStore::open(&path)
        .err()
        .expect("the damaged row is refused");
    let message = err.to_string();
    assert!(
        message.contains("migration 2") && message.contains("position 2"),
        "{message}"
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    let rows: i64 = conn
        .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .unwrap();
    let new_tables: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('appends', 'event_ids')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        (version, rows, new_tables),
        (1, 2, 0),
        "nothing of the migration was kept"
    );
}

#[test]
fn a_log_of_a_newer_schema_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 9).unwrap();
    drop(conn);
    let message = SqliteStore::open(&path).err().expect("refused").to_string();
    assert!(message.contains("newer schema (9)"), "{message}");
}

/// A lone writer's append is committed on its caller's thread, but never waits there for
/// another process's write lock: that wait is the writer thread's, so the async runtime
/// (here a single thread) goes on meanwhile, and the append lands once the lock is free.
#[tokio::test]
async fn a_lone_append_waits_for_another_process_lock_off_the_async_thread() {
    let (_dir, path, store) = a_store_with_one_append().await;
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();

    let waiting = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .append("mine", ExpectedVersion::Exact(0), vec![contract::event(1)])
                .await
        }
    });
    let start = std::time::Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "the runtime's only thread was held for {:?}",
        start.elapsed()
    );
    assert!(
        !waiting.is_finished(),
        "it cannot land while the lock is held"
    );

    other.execute_batch("COMMIT").unwrap();
    let landed = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(landed.last_position, Position::at(2));
    assert_eq!(everything(&store).await.len(), 2);
}
