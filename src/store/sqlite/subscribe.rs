//! Catch-up subscriptions: page through history, then wait for new commits.

use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::SqliteStore;
use crate::store::{EventStore, EventStream, Position};

const PAGE: usize = 1024;
/// Appends by other processes do not wake us; this is how soon they are seen.
const POLL_OTHER_WRITERS: Duration = Duration::from_millis(50);

pub(super) fn subscribe(store: SqliteStore, after: Option<Position>) -> EventStream {
    let (tx, rx) = mpsc::channel(PAGE);
    let mut committed = store.inner.committed.clone();
    tokio::spawn(async move {
        let mut last = after;
        loop {
            // Mark the current commit as seen *before* reading, so a commit landing
            // between the read and the wait still wakes us.
            committed.borrow_and_update();
            let page = match store.read_all(last, PAGE).await {
                Ok(page) => page,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            if page.is_empty() {
                tokio::select! {
                    _ = committed.changed() => {}
                    _ = tokio::time::sleep(POLL_OTHER_WRITERS) => {}
                    _ = tx.closed() => return,
                }
                continue;
            }
            for event in page {
                last = Some(event.position);
                if tx.send(Ok(event)).await.is_err() {
                    return;
                }
            }
        }
    });
    ReceiverStream::new(rx).boxed()
}
