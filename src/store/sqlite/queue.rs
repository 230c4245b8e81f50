//! The queue between the store's handles and its writer thread.
//!
//! A channel wakes the writer for every request it sends while the writer waits, so 64
//! writers joining one group commit cost 64 thread wake-ups on two cores. Here a sender
//! wakes the writer only when the writer sleeps and as many requests are queued as it
//! asked for: one for a commit's first request (often none: the writer spins for it
//! when requests have been coming fast), a few at a time while it writes the rest of a
//! group. While the writer commits, requests only queue.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long the writer looks for the next request before it sleeps.
pub(super) const SPIN: Duration = Duration::from_micros(50);

use super::writer::WriteRequest;

#[derive(Default)]
pub(super) struct Queue {
    state: Mutex<State>,
    ready: Condvar,
    /// The queue's length, readable without the lock while the writer spins.
    queued: AtomicUsize,
}

#[derive(Default)]
struct State {
    requests: VecDeque<WriteRequest>,
    /// How many queued requests the waiting writer wants before it is woken (0: it is
    /// not waiting, it is committing).
    wanted: usize,
    closed: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held left plain data (a queue and two numbers) that
        // is still consistent: carry on with it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues `request`; gives it back when the writer has stopped.
    pub fn send(&self, request: WriteRequest) -> Result<(), WriteRequest> {
        let mut state = self.lock();
        if state.closed {
            return Err(request);
        }
        state.requests.push_back(request);
        self.queued.store(state.requests.len(), Ordering::Relaxed);
        if state.wanted > 0 && state.requests.len() >= state.wanted {
            state.wanted = 0;
            self.ready.notify_one();
        }
        Ok(())
    }

    /// Nothing is queued (a hint: a request may be on its way).
    pub fn is_empty(&self) -> bool {
        self.queued.load(Ordering::Relaxed) == 0
    }

    /// Stops the writer once it has committed what is queued.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_one();
    }

    /// The first requests of the next commit: what is queued, up to `max_events` events'
    /// worth (always at least one request), waiting for one if none is. With `spin` it
    /// looks for a request for `SPIN` before it sleeps: writers that were just answered
    /// send their next append within microseconds, and waking a sleeping thread for it
    /// costs more than that. `None` once closed and empty.
    pub fn first(&self, spin: bool, max_events: usize) -> Option<Vec<WriteRequest>> {
        if spin {
            let until = Instant::now() + SPIN;
            while self.queued.load(Ordering::Relaxed) == 0 && Instant::now() < until {
                std::hint::spin_loop();
            }
        }
        let mut state = self.lock();
        while state.requests.is_empty() && !state.closed {
            state.wanted = 1;
            state = self.ready.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        if state.requests.is_empty() {
            return None; // closed
        }
        Some(self.take(&mut state, max_events, true))
    }

    /// More requests for the commit being written: what is queued, up to `max_events`
    /// events' worth. When nothing is, the writer sleeps until `wanted` requests are
    /// queued or `deadline` passes, so the writer inserts one part of a group while the
    /// rest is still being sent. Empty when the deadline passed, the queue closed, or the
    /// next request would not fit: time to commit.
    pub fn more(&self, deadline: Instant, wanted: usize, max_events: usize) -> Vec<WriteRequest> {
        let mut state = self.lock();
        let wanted = if state.requests.is_empty() {
            wanted.max(1)
        } else {
            0
        };
        while state.requests.len() < wanted && !state.closed {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state.wanted = wanted;
            state = self
                .ready
                .wait_timeout(state, left)
                .map(|(s, _)| s)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        self.take(&mut state, max_events, false)
    }

    /// Takes queued requests in order up to `max_events` events (the first one even
    /// over the bound when `at_least_one`).
    fn take(&self, state: &mut State, max_events: usize, at_least_one: bool) -> Vec<WriteRequest> {
        state.wanted = 0;
        let mut events = 0;
        let mut taken = Vec::new();
        while let Some(next) = state.requests.front() {
            let first_anyway = at_least_one && taken.is_empty();
            if !first_anyway && events + next.append.events.len() > max_events {
                break;
            }
            events += next.append.events.len();
            taken.extend(state.requests.pop_front());
        }
        self.queued.store(state.requests.len(), Ordering::Relaxed);
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ExpectedVersion;
    use std::sync::Arc;

    fn request(events: usize) -> WriteRequest {
        let event = crate::bench::store::sample_event(0);
        WriteRequest {
            append: crate::store::Append {
                stream: "s".into(),
                expected: ExpectedVersion::Any,
                events: vec![event; events],
            },
            reply: tokio::sync::oneshot::channel().0,
        }
    }

    #[test]
    fn a_commit_takes_what_is_queued_within_the_event_bound() {
        let queue = Queue::default();
        for _ in 0..5 {
            assert!(queue.send(request(10)).is_ok());
        }
        // Five queued, a bound of 30 events: three go into the first part.
        assert_eq!(queue.first(false, 30).map(|g| g.len()), Some(3));
        // The rest join while they fit.
        let later = Instant::now() + Duration::from_secs(60);
        assert_eq!(queue.more(later, 8, 15).len(), 1);
        assert_eq!(queue.more(later, 8, 15).len(), 1);
        // A first request over the bound still goes alone; one that joins does not.
        assert!(queue.send(request(50)).is_ok());
        assert_eq!(queue.more(later, 8, 30).len(), 0);
        assert_eq!(queue.first(true, 30).map(|g| g.len()), Some(1));
    }

    #[test]
    fn nothing_joins_after_the_deadline() {
        let queue = Queue::default();
        let start = Instant::now();
        let joined = queue.more(start + Duration::from_millis(5), 8, 100);
        assert!(joined.is_empty());
        assert!(
            start.elapsed() >= Duration::from_millis(5),
            "it waited for the deadline"
        );
    }

    #[test]
    fn a_sleeping_writer_is_woken_once_the_requests_it_wants_are_queued() {
        let queue = Arc::new(Queue::default());
        let sender = queue.clone();
        let writer = std::thread::spawn(move || {
            queue
                .more(Instant::now() + Duration::from_secs(60), 4, 100)
                .len()
        });
        while sender.lock().wanted != 4 {
            std::thread::yield_now(); // until the writer sleeps, wanting four
        }
        for _ in 0..3 {
            assert!(sender.send(request(1)).is_ok());
        }
        std::thread::sleep(Duration::from_millis(20));
        assert!(!writer.is_finished(), "three of four do not wake it");
        assert!(sender.send(request(1)).is_ok());
        assert_eq!(
            writer.join().ok(),
            Some(4),
            "the fourth does, long before the deadline"
        );
    }

    #[test]
    fn closing_hands_over_what_is_queued_then_stops_and_refuses_more() {
        let queue = Queue::default();
        assert!(queue.send(request(1)).is_ok());
        queue.close();
        assert!(
            queue.send(request(1)).is_err(),
            "a closed queue takes nothing"
        );
        assert_eq!(queue.first(false, 100).map(|g| g.len()), Some(1));
        assert!(queue.first(false, 100).is_none());
        assert!(queue
            .more(Instant::now() + Duration::from_secs(60), 8, 100)
            .is_empty());
    }
}
