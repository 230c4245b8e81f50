//! The event-store contract against every backend: SQLite always, PostgreSQL on a
//! throw-away cluster where its programs are installed (CI requires them), EventStoreDB
//! when `DOMREG_TEST_ESDB_URL` is set (otherwise each of those tests says it was skipped).

#[path = "support/contract.rs"]
mod contract;
#[path = "support/postgres.rs"]
mod pg;

use std::io::Write;
use std::sync::Arc;

use domreg::store::{EventStore, SqliteStore};

fn prefix() -> String {
    format!("contract{}", uuid::Uuid::new_v4().simple())
}

async fn sqlite() -> Option<(Arc<dyn EventStore>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("events.db")).unwrap();
    Some((Arc::new(store), dir))
}

async fn postgres() -> Option<(Arc<dyn EventStore>, pg::Postgres)> {
    let cluster = tokio::task::block_in_place(|| pg::start("the event-store contract"))?;
    let store = domreg::store::postgres::PgStore::open(&cluster.url)
        .await
        .expect("the throw-away cluster answers");
    Some((Arc::new(store), cluster))
}

#[cfg(feature = "esdb")]
async fn esdb() -> Option<(Arc<dyn EventStore>, ())> {
    let Ok(url) = std::env::var("DOMREG_TEST_ESDB_URL") else {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: EventStoreDB contract test (set DOMREG_TEST_ESDB_URL=esdb://host:2113?tls=false to run it)"
        );
        return None;
    };
    let store = domreg::store::esdb::EsdbStore::connect(&url).expect("valid DOMREG_TEST_ESDB_URL");
    Some((Arc::new(store), ()))
}

#[cfg(not(feature = "esdb"))]
async fn esdb() -> Option<(Arc<dyn EventStore>, ())> {
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: EventStoreDB contract test (built without the esdb feature)"
    );
    None
}

macro_rules! contract_suite {
    ($backend:ident) => {
        mod $backend {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrency_conflicts() {
                let Some((store, _keep)) = super::$backend().await else {
                    return;
                };
                contract::concurrency_conflicts(store, &prefix()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn failed_append_writes_nothing() {
                let Some((store, _keep)) = super::$backend().await else {
                    return;
                };
                contract::failed_append_writes_nothing(store, &prefix()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn idempotent_retry() {
                let Some((store, _keep)) = super::$backend().await else {
                    return;
                };
                contract::idempotent_retry(store, &prefix()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn ordering() {
                let Some((store, _keep)) = super::$backend().await else {
                    return;
                };
                contract::ordering(store, &prefix()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn subscription_history_then_live() {
                let Some((store, _keep)) = super::$backend().await else {
                    return;
                };
                contract::subscription_history_then_live(store, &prefix()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn subscription_from_position() {
                let Some((store, _keep)) = super::$backend().await else {
                    return;
                };
                contract::subscription_from_position(store, &prefix()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn many_concurrent_writers() {
                let Some((store, _keep)) = super::$backend().await else {
                    return;
                };
                contract::many_concurrent_writers(store, &prefix(), 32, 40).await;
            }
        }
    };
}

contract_suite!(sqlite);
contract_suite!(postgres);
contract_suite!(esdb);

/// Writers in three "processes" (three stores, three connections each holding the head
/// lock in turn) and a subscriber in a fourth: it sees every event exactly once, at
/// positions 1, 2, 3, ... with no gap, however the commits interleave. With positions from
/// a sequence, an event committed late would be skipped by a reader already past it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_writers_in_several_processes_are_read_without_a_gap() {
    use domreg::store::postgres::PgStore;
    use domreg::store::ExpectedVersion;
    use futures::StreamExt;
    let Some(cluster) = tokio::task::block_in_place(|| pg::start("several writers")) else {
        return;
    };
    let mut writers = Vec::new();
    for _ in 0..3 {
        writers.push(PgStore::open(&cluster.url).await.unwrap());
    }
    let reader = PgStore::open(&cluster.url).await.unwrap();
    let mut sub = reader.subscribe_all(None);
    let tasks: Vec<_> = (0..24)
        .map(|t| {
            let store = writers[t % 3].clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..25 {
                    let batch: Vec<_> = (0..1 + i % 3).map(|k| contract::event(k as u32)).collect();
                    ids.extend(batch.iter().map(|e| e.id));
                    let stream = format!("gap-{}", (t * 5 + i) % 16);
                    store
                        .append(&stream, ExpectedVersion::Any, batch)
                        .await
                        .unwrap();
                }
                ids
            })
        })
        .collect();
    let mut sent = std::collections::HashSet::new();
    for t in tasks {
        sent.extend(t.await.unwrap());
    }
    let mut seen = Vec::new();
    while seen.len() < sent.len() {
        let next = tokio::time::timeout(std::time::Duration::from_secs(30), sub.next())
            .await
            .expect("the subscription keeps up")
            .unwrap()
            .unwrap();
        seen.push(next);
    }
    let positions: Vec<u64> = seen.iter().map(|e| e.position.commit).collect();
    assert_eq!(positions, (1..=sent.len() as u64).collect::<Vec<_>>());
    let ids: std::collections::HashSet<_> = seen.iter().map(|e| e.id).collect();
    assert_eq!(ids, sent);
    assert_eq!(reader.head().await.unwrap(), sent.len() as u64);
}
