//! The queue between the store's handles and its writer thread.
//!
//! A channel wakes the writer for every request it sends while the writer waits, so 64
//! writers joining one group commit cost 64 thread wake-ups on two cores. Here a sender
//! wakes the writer only when the writer waits and the group it waits for is complete
//! (or it waits for a first request): one wake-up per group commit. While the writer
//! commits, requests only queue.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long the writer looks for a lone writer's next append before it sleeps.
const SPIN: Duration = Duration::from_micros(50);

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

    /// Stops the writer once it has committed what is queued.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_one();
    }

    /// The next group for one commit: up to `max_events` events' worth of the queued
    /// requests (always at least one), once `group` requests are queued or `delay` has
    /// passed since the call with at least one queued. The delay counts from the end of
    /// the previous commit, so a group that served many writers gets a moment to form
    /// again, and a request after a quiet spell is committed at once. `None` once closed
    /// and empty.
    pub fn next_group(
        &self,
        group: usize,
        delay: Duration,
        max_events: usize,
    ) -> Option<Vec<WriteRequest>> {
        let deadline = Instant::now() + delay;
        if group <= 1 {
            // A lone writer sends its next append within microseconds of its reply:
            // looking for it that long saves waking a sleeping thread on every append.
            let until = Instant::now() + SPIN;
            while self.queued.load(Ordering::Relaxed) == 0 && Instant::now() < until {
                std::hint::spin_loop();
            }
        }
        let mut state = self.lock();
        loop {
            let queued = state.requests.len();
            if queued >= group.max(1) || state.closed {
                break;
            }
            match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() && group > 1 => {
                    state.wanted = group;
                    state = self
                        .ready
                        .wait_timeout(state, left)
                        .map(|(s, _)| s)
                        .unwrap_or_else(|p| p.into_inner().0);
                }
                _ if queued > 0 => break,
                _ => {
                    state.wanted = 1;
                    state = self.ready.wait(state).unwrap_or_else(|p| p.into_inner());
                }
            }
        }
        if state.requests.is_empty() {
            return None; // closed
        }
        state.wanted = 0;
        let mut events = 0;
        let mut taken = Vec::new();
        while let Some(next) = state.requests.front() {
            if !taken.is_empty() && events + next.events.len() > max_events {
                break;
            }
            events += next.events.len();
            taken.extend(state.requests.pop_front());
        }
        self.queued.store(state.requests.len(), Ordering::Relaxed);
        Some(taken)
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
            stream: "s".into(),
            expected: ExpectedVersion::Any,
            events: vec![event; events],
            reply: tokio::sync::oneshot::channel().0,
        }
    }

    #[test]
    fn a_group_waits_for_its_size_and_never_exceeds_the_event_bound() {
        let queue = Queue::default();
        for _ in 0..5 {
            assert!(queue.send(request(10)).is_ok());
        }
        let long = Duration::from_secs(60);
        // Five queued, three wanted: taken at once, up to the bound of 30 events.
        assert_eq!(queue.next_group(3, long, 30).map(|g| g.len()), Some(3));
        // Two left, more wanted: the delay passes, then what is there is taken.
        let short = Duration::from_millis(5);
        assert_eq!(queue.next_group(64, short, 1_000).map(|g| g.len()), Some(2));
        // One request over the bound still goes alone.
        assert!(queue.send(request(50)).is_ok());
        assert_eq!(queue.next_group(1, short, 30).map(|g| g.len()), Some(1));
    }

    #[test]
    fn a_waiting_writer_is_woken_by_the_request_that_completes_its_group() {
        let queue = Arc::new(Queue::default());
        let sender = queue.clone();
        let writer = std::thread::spawn(move || queue.next_group(4, Duration::from_secs(60), 100));
        for _ in 0..4 {
            std::thread::sleep(Duration::from_millis(2));
            assert!(sender.send(request(1)).is_ok());
        }
        let group = writer.join().ok().flatten().map(|g| g.len());
        assert_eq!(
            group,
            Some(4),
            "woken with the whole group, long before the delay"
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
        let delay = Duration::from_secs(60);
        assert_eq!(queue.next_group(8, delay, 100).map(|g| g.len()), Some(1));
        assert!(queue.next_group(8, delay, 100).is_none());
    }
}
