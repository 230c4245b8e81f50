//! The process manager's safety rules as properties: one order driven by the policy
//! through random registrar answers, polls, deadlines and admin cancels, against a
//! simulated registry that knows the truth.
//!
//! - the order reaches OpenSRS at most once (a send that never left this machine is
//!   tried again; one OpenSRS has no trace of is sent once more, at most once);
//! - a transient error keeps a pending order pending;
//! - no refund while OpenSRS could still complete the order;
//! - the order reaches at most one end, and is refunded at most once, only if not
//!   confirmed, for exactly its charge.

mod harness;

use chrono::Duration;
use domreg_events::deadline::{verdict, Settlement, Verdict};
use domreg_events::event::*;
use domreg_events::policy::*;
use domreg_events::*;
use harness::*;
use proptest::prelude::*;

/// What the registry does with the order, unknown to the engine except through answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Truth {
    NotSent,
    /// OpenSRS has an open order that may still complete.
    Open,
    Completed,
    Refused,
    /// Cancelled at OpenSRS: it can no longer complete.
    CancelledThere,
}

#[derive(Debug, Clone)]
enum Action {
    /// The engine submits; OpenSRS answers done, refused, pending, or nothing.
    Submit(u8),
    /// Time passes (hours).
    Wait(u8),
    /// The registry moves on its own: 0 nothing, 1 completes, 2 refuses.
    Registry(u8),
    /// The engine polls: the probe (or the network) answers, and past the deadline the
    /// settlement with OpenSRS may be answered or not.
    Poll {
        probe_answers: bool,
        settle_answers: bool,
        cancel_accepted: bool,
    },
    /// An admin cancels.
    Cancel { registrar_confirms: bool },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (0u8..7).prop_map(Action::Submit),
        (0u8..40).prop_map(Action::Wait),
        (0u8..3).prop_map(Action::Registry),
        (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(p, s, c)| Action::Poll {
            probe_answers: p,
            settle_answers: s,
            cancel_accepted: c
        }),
        any::<bool>().prop_map(|c| Action::Cancel {
            registrar_confirms: c
        }),
    ]
}

fn answer() -> RegistrarAnswer {
    RegistrarAnswer::new(Some(200), "ok")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_policy_keeps_the_registrars_truth(actions in proptest::collection::vec(action(), 1..40)) {
        let mut now = now();
        let policy = Policy::default();
        let mut state = Domain::default();
        let mut truth = Truth::NotSent;
        let mut events: Vec<DomainEvent> = Vec::new();
        // Requests that reached OpenSRS.
        let mut arrived = 0;
        let apply = |state: &mut Domain, commands: Vec<Command>, now, truth: Truth, events: &mut Vec<DomainEvent>| {
            let new = decide_all(state, commands, &policy, now).expect("the policy names only allowed commands");
            for e in &new {
                if matches!(e, DomainEvent::Refunded(_)) {
                    prop_assert!(
                        !matches!(truth, Truth::Open | Truth::Completed),
                        "refunded while OpenSRS {truth:?}"
                    );
                }
            }
            *state = new.iter().fold(state.clone(), evolve);
            events.extend(new);
            Ok(())
        };
        apply(&mut state, vec![request(1, Register), Command::RecordCharge { order_id: oid(1) }], now, truth, &mut events)?;
        for a in actions {
            let stage = state.orders[&oid(1)].stage;
            match a {
                Action::Submit(answer_kind) => {
                    if stage != Stage::Accepted { continue; }
                    if state.orders[&oid(1)].retry_at.is_some_and(|at| now < at) { continue; }
                    apply(&mut state, vec![Command::RecordSubmission { order_id: oid(1), lease: None }], now, truth, &mut events)?;
                    if answer_kind == 6 {
                        // Lost before it arrived: the engine cannot tell it from a lost answer.
                        let outcome = Outcome::Unknown { reason: PendingReason::OutcomeLost, answer: None, registrar_order_id: None, poll_every: Duration::hours(1), deadline: now + Duration::hours(50) };
                        let commands = after_outcome(&state, oid(1), &outcome);
                        apply(&mut state, commands, now, truth, &mut events)?;
                        continue;
                    }
                    if answer_kind >= 4 {
                        // The connection was refused: nothing reached OpenSRS.
                        let commands = after_send_failure(&state, oid(1), "connection refused", now);
                        apply(&mut state, commands, now, truth, &mut events)?;
                        continue;
                    }
                    truth = Truth::Open;
                    arrived += 1;
                    let outcome = match answer_kind {
                        0 => { truth = Truth::Completed; Outcome::Confirmed { expires_at: now + Duration::days(365), registrar_order_id: Some("9".into()), answer: answer() } }
                        1 => { truth = Truth::Refused; Outcome::Rejected { answer: answer() } }
                        2 => Outcome::Unknown { reason: PendingReason::AsyncRegistry, answer: None, registrar_order_id: Some("9".into()), poll_every: Duration::hours(1), deadline: now + Duration::hours(50) },
                        _ => Outcome::Unknown { reason: PendingReason::OutcomeLost, answer: None, registrar_order_id: None, poll_every: Duration::hours(1), deadline: now + Duration::hours(50) },
                    };
                    let commands = after_outcome(&state, oid(1), &outcome);
                    apply(&mut state, commands, now, truth, &mut events)?;
                }
                Action::Wait(h) => now += Duration::hours(i64::from(h)),
                Action::Registry(r) => if truth == Truth::Open {
                    truth = match r { 1 => Truth::Completed, 2 => Truth::Refused, _ => Truth::Open };
                },
                Action::Poll { probe_answers, settle_answers, cancel_accepted } => {
                    if stage != Stage::Pending { continue; }
                    let o = &state.orders[&oid(1)];
                    let finding = match (probe_answers, truth) {
                        (false, _) => Finding::NotYet(PollResult::TransientError { message: "no answer".into() }),
                        (true, Truth::Completed) => Finding::Done { expires_at: now + Duration::days(365), answer: answer() },
                        (true, Truth::Refused) => Finding::Refused(answer()),
                        (true, _) => Finding::NotYet(PollResult::StillPending { answer: answer() }),
                    };
                    let deadline = o.deadline.unwrap();
                    let mut report = PollReport { finding: finding.clone(), found: None, verdict: Verdict::Wait };
                    if matches!(finding, Finding::NotYet(_)) && now >= deadline && o.escalated.is_none() {
                        let settlement = match (settle_answers, truth) {
                            (false, _) => Settlement::Unanswered("no answer".into()),
                            (true, Truth::Open) if cancel_accepted => { truth = Truth::CancelledThere; Settlement::CancelledThere }
                            (true, Truth::Open) => Settlement::CancelRefused("refused".into()),
                            (true, Truth::NotSent) if !o.resubmitted && o.registrar_order_id.is_none() => Settlement::NoTrace("no trace".into()),
                            (true, Truth::CancelledThere | Truth::NotSent | Truth::Refused) => Settlement::NoneOpen,
                            (true, Truth::Completed) => Settlement::CancelRefused("completed".into()),
                        };
                        report.verdict = verdict(&settlement, now, deadline, o.poll_every.unwrap());
                    }
                    let transient_wait = matches!(report.finding, Finding::NotYet(PollResult::TransientError { .. })) && report.verdict == Verdict::Wait;
                    let commands = after_poll(&state, oid(1), &report, now);
                    apply(&mut state, commands, now, truth, &mut events)?;
                    if transient_wait {
                        prop_assert_eq!(state.orders[&oid(1)].stage, Stage::Pending, "a transient error ended the order");
                    }
                }
                Action::Cancel { registrar_confirms } => {
                    let Ok(plan) = cancel_plan(&state, oid(1)) else { continue };
                    if let CancelPlan::CancelAtRegistrar { .. } = plan {
                        // OpenSRS confirms only an order it can still cancel.
                        if !(registrar_confirms && truth == Truth::Open) { continue; }
                        truth = Truth::CancelledThere;
                    }
                    let cancel = Command::Cancel { order_id: oid(1), reason: "admin".into() };
                    apply(&mut state, vec![cancel], now, truth, &mut events)?;
                }
            }
        }
        let count = |t: &str| events.iter().filter(|e| e.event_type() == t).count();
        prop_assert!(arrived <= 1, "OpenSRS received the order {arrived} times");
        prop_assert!(count("Resubmitted") <= 1, "sent once more, twice");
        let ends = count("Confirmed") + count("Rejected") + count("TimedOut") + count("Cancelled");
        prop_assert!(ends <= 1, "{ends} ends");
        prop_assert!(count("Refunded") <= usize::from(ends == 1 && count("Confirmed") == 0));
        let o = &state.orders[&oid(1)];
        if let Some(end) = o.end() {
            prop_assert_eq!(o.refunded.is_some(), end != End::Confirmed, "refund after {:?}", end);
            if let Some(r) = o.refunded { prop_assert_eq!(Some(r), o.charged); }
        }
    }
}
