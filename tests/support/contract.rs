//! The event-store contract, written once and run against every backend.
//!
//! Each check uses streams under its own `prefix`, so it can run against a shared server
//! whose global log holds other data.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use domreg::store::{EventStore, ExpectedVersion, NewEvent, RecordedEvent, StoreError};
use domreg_events::{Actor, EventMetadata};
use futures::StreamExt;
use uuid::Uuid;

pub fn event(n: u32) -> NewEvent {
    NewEvent {
        id: Uuid::new_v4(),
        event_type: "ContractTested".into(),
        schema_version: 1,
        data: format!("{{\"n\":{n}}}").into_bytes(),
        metadata: EventMetadata::new(Actor::Engine, Uuid::new_v4(), Utc::now()),
    }
}

fn mine<'a>(events: &'a [RecordedEvent], prefix: &str) -> Vec<&'a RecordedEvent> {
    events
        .iter()
        .filter(|e| e.stream.starts_with(prefix))
        .collect()
}

/// Reads the whole global log (only sensible for test-sized logs).
async fn read_everything(store: &dyn EventStore) -> Vec<RecordedEvent> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store.read_all(after, 1000).await.unwrap();
        if page.is_empty() {
            return out;
        }
        after = page.last().map(|e| e.position);
        out.extend(page);
    }
}

pub async fn concurrency_conflicts(store: Arc<dyn EventStore>, prefix: &str) {
    let s = format!("{prefix}-a");
    let r = store
        .append(&s, ExpectedVersion::NoStream, vec![event(0)])
        .await
        .unwrap();
    assert_eq!(r.last_version, 0);
    let err = store
        .append(&s, ExpectedVersion::NoStream, vec![event(1)])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::WrongExpectedVersion {
                actual: Some(0),
                ..
            }
        ),
        "{err}"
    );
    let err = store
        .append(&s, ExpectedVersion::Exact(5), vec![event(1)])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::WrongExpectedVersion { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains(&s),
        "error names the stream: {err}"
    );
    let r = store
        .append(&s, ExpectedVersion::Exact(0), vec![event(1), event(2)])
        .await
        .unwrap();
    assert_eq!(r.last_version, 2);
    let r = store
        .append(&s, ExpectedVersion::Any, vec![event(3)])
        .await
        .unwrap();
    assert_eq!(r.last_version, 3);

    // Racing writers expecting the same version: exactly one wins.
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let s = s.clone();
            tokio::spawn(async move {
                store
                    .append(&s, ExpectedVersion::Exact(3), vec![event(10 + i)])
                    .await
            })
        })
        .collect();
    let mut wins = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(_) => wins += 1,
            Err(StoreError::WrongExpectedVersion { .. }) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(store.read_stream(&s, 0, 100).await.unwrap().len(), 5);
}

pub async fn failed_append_writes_nothing(store: Arc<dyn EventStore>, prefix: &str) {
    let s = format!("{prefix}-atomic");
    store
        .append(&s, ExpectedVersion::NoStream, vec![event(0)])
        .await
        .unwrap();
    let batch = vec![event(1), event(2), event(3)];
    assert!(store
        .append(&s, ExpectedVersion::NoStream, batch)
        .await
        .is_err());
    let dup = event(4);
    let twice = vec![dup.clone(), dup];
    assert!(matches!(
        store.append(&s, ExpectedVersion::Any, twice).await,
        Err(StoreError::InvalidAppend(_))
    ));
    assert!(matches!(
        store.append(&s, ExpectedVersion::Any, vec![]).await,
        Err(StoreError::InvalidAppend(_))
    ));
    assert_eq!(store.read_stream(&s, 0, 100).await.unwrap().len(), 1);
}

pub async fn idempotent_retry(store: Arc<dyn EventStore>, prefix: &str) {
    let s = format!("{prefix}-retry");
    let batch = vec![event(0), event(1)];
    let first = store
        .append(&s, ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    let again = store
        .append(&s, ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    assert_eq!(first, again, "a retry returns the original result");
    store
        .append(&s, ExpectedVersion::Exact(1), vec![event(2)])
        .await
        .unwrap();
    let late = store
        .append(&s, ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    assert_eq!(
        first, late,
        "a late retry still returns the original result"
    );
    let stored = store.read_stream(&s, 0, 100).await.unwrap();
    assert_eq!(stored.len(), 3, "nothing was stored twice");
    assert_eq!(stored[0].id, batch[0].id);
}

pub async fn ordering(store: Arc<dyn EventStore>, prefix: &str) {
    let (a, b) = (format!("{prefix}-ord-a"), format!("{prefix}-ord-b"));
    for i in 0..10u32 {
        let s = if i % 2 == 0 { &a } else { &b };
        store
            .append(s, ExpectedVersion::Any, vec![event(i)])
            .await
            .unwrap();
    }
    let all = read_everything(&*store).await;
    let ours = mine(&all, &format!("{prefix}-ord"));
    assert_eq!(ours.len(), 10);
    assert!(
        all.windows(2).all(|w| w[0].position < w[1].position),
        "positions increase"
    );
    let ns: Vec<String> = ours
        .iter()
        .map(|e| String::from_utf8_lossy(&e.data).into_owned())
        .collect();
    let expected: Vec<String> = (0..10).map(|n| format!("{{\"n\":{n}}}")).collect();
    assert_eq!(ns, expected, "global order is append order");
    let sa = store.read_stream(&a, 0, 100).await.unwrap();
    assert_eq!(
        sa.iter().map(|e| e.version).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
    let tail = store.read_stream(&a, 3, 100).await.unwrap();
    assert_eq!(
        tail.iter().map(|e| e.version).collect::<Vec<_>>(),
        vec![3, 4]
    );
    assert_eq!(store.read_stream(&a, 0, 2).await.unwrap().len(), 2);
    assert!(store
        .read_stream(&format!("{prefix}-none"), 0, 10)
        .await
        .unwrap()
        .is_empty());
}

/// Takes `n` events of this test's streams from a subscription, with a time limit.
async fn take_mine(
    sub: &mut domreg::store::EventStream,
    prefix: &str,
    n: usize,
) -> Vec<RecordedEvent> {
    let mut got = Vec::new();
    while got.len() < n {
        let next = tokio::time::timeout(Duration::from_secs(20), sub.next())
            .await
            .expect("subscription delivered in time")
            .expect("subscription still open")
            .expect("no error");
        if next.stream.starts_with(prefix) {
            got.push(next);
        }
    }
    got
}

pub async fn subscription_history_then_live(store: Arc<dyn EventStore>, prefix: &str) {
    let s = format!("{prefix}-sub");
    let mut sent = Vec::new();
    for i in 0..5 {
        let e = event(i);
        sent.push(e.id);
        store
            .append(&s, ExpectedVersion::Any, vec![e])
            .await
            .unwrap();
    }
    let mut sub = store.subscribe_all(None);
    let history = take_mine(&mut sub, prefix, 5).await;
    for i in 5..10 {
        let e = event(i);
        sent.push(e.id);
        store
            .append(&s, ExpectedVersion::Any, vec![e])
            .await
            .unwrap();
    }
    let live = take_mine(&mut sub, prefix, 5).await;
    let got: Vec<Uuid> = history.iter().chain(&live).map(|e| e.id).collect();
    assert_eq!(got, sent, "every event once, in order");
    // Nothing more arrives for our stream.
    let extra = tokio::time::timeout(Duration::from_millis(300), async {
        loop {
            match sub.next().await {
                Some(Ok(e)) if e.stream.starts_with(prefix) => return Some(e),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await;
    assert!(
        extra.is_err() || extra.unwrap().is_none(),
        "no duplicate delivered"
    );
}

pub async fn subscription_from_position(store: Arc<dyn EventStore>, prefix: &str) {
    let s = format!("{prefix}-from");
    let mut results = Vec::new();
    for i in 0..6 {
        results.push(
            store
                .append(&s, ExpectedVersion::Any, vec![event(i)])
                .await
                .unwrap(),
        );
    }
    let mut sub = store.subscribe_all(Some(results[2].last_position));
    let got = take_mine(&mut sub, prefix, 3).await;
    let versions: Vec<u64> = got.iter().map(|e| e.version).collect();
    assert_eq!(versions, vec![3, 4, 5]);
    assert_eq!(got[0].position, results[3].first_position);
}

pub async fn many_concurrent_writers(
    store: Arc<dyn EventStore>,
    prefix: &str,
    writers: usize,
    appends: usize,
) {
    let mut sub = store.subscribe_all(None);
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let store = store.clone();
            let prefix = prefix.to_string();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..appends {
                    let s = format!("{prefix}-many-{}", (w * 7 + i) % (writers * 2));
                    let batch: Vec<NewEvent> = (0..1 + i % 3).map(|k| event(k as u32)).collect();
                    ids.extend(batch.iter().map(|e| e.id));
                    store.append(&s, ExpectedVersion::Any, batch).await.unwrap();
                }
                ids
            })
        })
        .collect();
    let mut sent = HashSet::new();
    for t in tasks {
        sent.extend(t.await.unwrap());
    }
    let all = read_everything(&*store).await;
    let ours = mine(&all, &format!("{prefix}-many"));
    let stored: HashSet<Uuid> = ours.iter().map(|e| e.id).collect();
    assert_eq!(ours.len(), sent.len(), "no event duplicated");
    assert_eq!(stored, sent, "no event lost");
    let mut versions: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for e in &ours {
        versions.entry(&e.stream).or_default().push(e.version);
    }
    for (stream, v) in versions {
        assert_eq!(
            v,
            (0..v.len() as u64).collect::<Vec<_>>(),
            "{stream} has gap-free versions in position order"
        );
    }
    let live = take_mine(&mut sub, &format!("{prefix}-many"), sent.len()).await;
    let live_ids: Vec<Uuid> = live.iter().map(|e| e.id).collect();
    let log_ids: Vec<Uuid> = ours.iter().map(|e| e.id).collect();
    assert_eq!(live_ids, log_ids, "the subscription saw the log's order");
}
