//! The listener: one connection per process with `LISTEN domreg_events`, turning each
//! notification (the committed head, sent by any writer) into a wake-up for subscriptions.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::watch;
use tokio_postgres::{AsyncMessage, NoTls};

/// Waits between attempts to reconnect a lost listener.
const RECONNECT: Duration = Duration::from_secs(1);

pub(super) async fn run(url: String, committed: Arc<watch::Sender<u64>>) {
    while !committed.is_closed() {
        if let Err(e) = listen(&url, &committed).await {
            tracing::warn!("PostgreSQL listener: {e}; reconnecting");
        }
        tokio::time::sleep(RECONNECT).await;
    }
}

async fn listen(url: &str, committed: &watch::Sender<u64>) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = tokio_postgres::connect(url, NoTls).await?;
    let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
    let statement = format!("LISTEN {}", super::CHANNEL);
    let subscribe = client.batch_execute(&statement);
    tokio::pin!(subscribe);
    // The connection must be driven while LISTEN runs.
    loop {
        tokio::select! {
            done = &mut subscribe => { done?; break; }
            m = messages.next() => match m {
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
                Some(Ok(_)) => {}
            }
        }
    }
    // Whatever committed while we were away is picked up by the subscriptions' next read.
    committed.send_modify(|_| {});
    loop {
        let message = tokio::select! {
            m = messages.next() => m,
            // Every handle of the store is gone: stop listening.
            _ = committed.closed() => return Ok(()),
        };
        let Some(message) = message else {
            return Ok(());
        };
        if let AsyncMessage::Notification(n) = message? {
            if let Ok(head) = n.payload().parse::<u64>() {
                committed.send_if_modified(|p| {
                    let newer = head > *p;
                    *p = (*p).max(head);
                    newer
                });
            }
        }
    }
}
