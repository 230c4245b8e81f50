//! The rules of a pending order's deadline.
//!
//! Past the deadline an order is refunded only once OpenSRS cannot complete it any more:
//! its order was cancelled there, or OpenSRS shows no open order for the name. When
//! neither can be established (OpenSRS does not answer, or refuses to cancel an order
//! that has not completed), the engine keeps asking with a growing back-off and, 24 poll
//! intervals past the deadline (at most a day), hands the order to an admin instead of
//! refunding it blind.

use chrono::{DateTime, Duration, Utc};

/// The longest the engine keeps trying, past the deadline, to settle an order with
/// OpenSRS before it asks an admin.
pub const SETTLE_GRACE: Duration = Duration::days(1);

/// The longest wait between tries past the deadline.
pub const MAX_BACKOFF: Duration = Duration::hours(6);

/// How long past the deadline an order polled every `every` is tried before it goes to
/// an admin: 24 poll intervals (a day for an hourly registry), at most [`SETTLE_GRACE`].
pub fn settle_grace(every: Duration) -> Duration {
    (every * 24).min(SETTLE_GRACE)
}

/// When to try again past the deadline: the poll interval at first, then as long as the
/// order has been overdue (so the waits double), at most [`MAX_BACKOFF`].
pub fn overdue_retry_at(
    now: DateTime<Utc>,
    deadline: DateTime<Utc>,
    every: Duration,
) -> DateTime<Utc> {
    let overdue = (now - deadline).max(Duration::zero());
    now + every.max(overdue.min(MAX_BACKOFF))
}

/// When to poll next: every `every`, never past the deadline `due`; past it, with the
/// growing back-off.
pub fn next_poll_at(now: DateTime<Utc>, due: DateTime<Utc>, every: Duration) -> DateTime<Utc> {
    if now >= due {
        overdue_retry_at(now, due, every)
    } else {
        (now + every).min(due)
    }
}

/// How many times an order is tried when every try provably fails to reach OpenSRS.
/// After the last, it is cancelled and refunded: nothing was ever sent, so nothing can
/// complete at the registry.
pub const MAX_SENDS: u32 = 12;

/// When to send again after `failures` sends that never reached OpenSRS: one minute,
/// doubling, at most an hour (twelve tries span about seven hours).
pub fn send_retry_at(now: DateTime<Utc>, failures: u32) -> DateTime<Utc> {
    let wait = Duration::minutes(1) * 2i32.saturating_pow(failures.min(10));
    now + wait.min(Duration::hours(1))
}

/// What the deadline allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not past the deadline, or not settled yet: poll again later.
    Wait,
    /// OpenSRS cannot complete the order any more: time out and refund.
    TimeOut,
    /// Nothing more the engine can establish on its own.
    Escalate(String),
    /// OpenSRS has no trace of an order whose answer was lost and the name is still
    /// available: send it once more rather than refund it.
    Resubmit(String),
}

/// What trying to settle a past-deadline order with OpenSRS established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// OpenSRS shows no open order for the name.
    NoneOpen,
    /// OpenSRS has no order of this kind for the name at all, and the name is still
    /// available (only asked for an order whose answer was lost and that was not yet
    /// sent once more).
    NoTrace(String),
    /// OpenSRS confirmed the cancel of its order.
    CancelledThere,
    /// OpenSRS answered, and refused to cancel (the order may have just completed).
    CancelRefused(String),
    /// OpenSRS did not answer: the search or the cancel (why).
    Unanswered(String),
}

/// The verdict on a past-deadline order polled every `every` at `now`.
pub fn verdict(
    settlement: &Settlement,
    now: DateTime<Utc>,
    deadline: DateTime<Utc>,
    every: Duration,
) -> Verdict {
    match settlement {
        Settlement::NoneOpen | Settlement::CancelledThere => Verdict::TimeOut,
        Settlement::NoTrace(why) => Verdict::Resubmit(why.clone()),
        Settlement::CancelRefused(why) => Verdict::Escalate(why.clone()),
        Settlement::Unanswered(why) => {
            let grace = settle_grace(every);
            if now >= deadline + grace {
                Verdict::Escalate(format!(
                    "{why}; still unsettled {} min past the deadline, so it is not refunded blind",
                    grace.num_minutes()
                ))
            } else {
                Verdict::Wait
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn past_the_deadline_the_waits_grow_to_six_hours() {
        let deadline = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let every = Duration::minutes(1);
        let mut now = deadline;
        let mut waits = Vec::new();
        for _ in 0..16 {
            let next = overdue_retry_at(now, deadline, every);
            waits.push((next - now).num_minutes());
            now = next;
        }
        assert_eq!(&waits[..5], &[1, 1, 2, 4, 8]);
        assert_eq!(*waits.last().unwrap(), 360);
        // One day of an unanswering OpenSRS costs a few dozen tries, not millions.
        let mut t = deadline;
        let mut tries = 0;
        while t < deadline + SETTLE_GRACE {
            t = overdue_retry_at(t, deadline, every);
            tries += 1;
        }
        assert!(tries < 30, "{tries}");
    }
}
