//! The event-store contract against every backend: SQLite always, EventStoreDB when
//! `DOMREG_TEST_ESDB_URL` is set (otherwise each of those tests says it was skipped).

#[path = "support/contract.rs"]
mod contract;

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
contract_suite!(esdb);
