//! Catch-up subscriptions for the SQL stores: page through history, then wait for the
//! writer's (or a listener's) signal that something committed, or poll.

use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;

use super::{EventStore, EventStream, Position};

const PAGE: usize = 1024;

/// Every event after `after` of `store`, woken by `committed` and at least every `poll`
/// (for commits nothing signals: another process's, or a missed notification).
pub(crate) fn catch_up<S, T>(
    store: S,
    mut committed: watch::Receiver<T>,
    after: Option<Position>,
    poll: Duration,
) -> EventStream
where
    S: EventStore + Clone + 'static,
    T: Send + Sync + 'static,
{
    let (tx, rx) = mpsc::channel(PAGE);
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
                    _ = tokio::time::sleep(poll) => {}
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
