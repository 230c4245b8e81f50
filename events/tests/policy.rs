//! Given / when / then tests of the process manager's policy: what follows an outcome, a
//! poll, a deadline and an admin's cancel.

mod harness;

use chrono::Duration;
use domreg_events::deadline::{settle_grace, verdict, Settlement, Verdict};
use domreg_events::event::*;
use domreg_events::policy::*;
use domreg_events::*;
use harness::*;

fn outcome_rejected() -> Outcome {
    Outcome::Rejected {
        answer: RegistrarAnswer::new(Some(485), "Domain taken"),
    }
}
fn outcome_confirmed() -> Outcome {
    Outcome::Confirmed {
        expires_at: now() + Duration::days(365),
        registrar_order_id: None,
        answer: RegistrarAnswer::new(Some(200), "ok"),
    }
}
fn not_yet(report_verdict: Verdict) -> PollReport {
    PollReport {
        finding: Finding::NotYet(PollResult::TransientError {
            message: "no answer".into(),
        }),
        found: None,
        verdict: report_verdict,
    }
}

#[test]
fn a_rejection_is_refunded() {
    given(sent(1))
        .when(Command::RecordOutcome {
            order_id: oid(1),
            outcome: outcome_rejected(),
        })
        .then([rejected(1), refunded(1)]);
}

#[test]
fn a_confirmed_registration_takes_the_connections_auto_renew_default() {
    given(sent(1))
        .auto_renew_default()
        .when(Command::RecordOutcome {
            order_id: oid(1),
            outcome: outcome_confirmed(),
        })
        .then([confirmed(1), auto_renew_on()]);
}

#[test]
fn without_the_default_a_confirmed_registration_does_not_renew_on_its_own() {
    given(sent(1))
        .when(Command::RecordOutcome {
            order_id: oid(1),
            outcome: outcome_confirmed(),
        })
        .then([confirmed(1)]);
}

#[test]
fn a_renewal_leaves_auto_renew_as_the_holder_set_it() {
    let renewal = [requested(2, Renew), charged(2), submitted(2)];
    given(registered(1).into_iter().chain(renewal))
        .auto_renew_default()
        .when(Command::RecordOutcome {
            order_id: oid(2),
            outcome: outcome_confirmed(),
        })
        .then_types(&["Confirmed"]);
}

#[test]
fn a_late_answer_keeps_only_the_opensrs_order_id() {
    let late = Outcome::Confirmed {
        expires_at: now() + Duration::days(365),
        registrar_order_id: Some("3000042".into()),
        answer: RegistrarAnswer::new(Some(200), "ok"),
    };
    let history = pending_until(1, now()).into_iter().chain([
        TimedOut {
            order_id: oid(1),
            deadline: now(),
        }
        .into(),
        refunded(1),
    ]);
    let g = given(history);
    g.when_all(after_outcome(&g.state(), oid(1), &late))
        .then_types(&["RegistrarOrderFound"]);
}

#[test]
fn a_transient_error_keeps_the_order_pending() {
    given(pending_until(1, now() + Duration::hours(5)))
        .when_polled(1, not_yet(Verdict::Wait))
        .then_types(&["Polled"]);
}

#[test]
fn past_the_deadline_an_order_opensrs_cannot_complete_times_out_and_is_refunded() {
    given(pending_until(1, now()))
        .at(now() + Duration::minutes(1))
        .when_polled(1, not_yet(Verdict::TimeOut))
        .then_types(&["Polled", "TimedOut", "Refunded"]);
}

#[test]
fn past_the_deadline_an_unsettled_order_waits_then_goes_to_an_admin() {
    let deadline = now();
    let every = Duration::hours(1);
    let unanswered = Settlement::Unanswered("no answer".into());
    assert_eq!(
        verdict(&unanswered, deadline + Duration::hours(3), deadline, every),
        Verdict::Wait
    );
    let late = deadline + settle_grace(every);
    assert!(matches!(
        verdict(&unanswered, late, deadline, every),
        Verdict::Escalate(_)
    ));
    given(pending_until(1, deadline))
        .at(late)
        .when_polled(1, not_yet(verdict(&unanswered, late, deadline, every)))
        .then_types(&["Polled", "Escalated"]);
}

#[test]
fn a_refused_cancel_at_opensrs_goes_to_an_admin_at_once() {
    let refused = Settlement::CancelRefused("465 order is being processed".into());
    assert!(matches!(
        verdict(&refused, now(), now(), Duration::hours(1)),
        Verdict::Escalate(_)
    ));
}

#[test]
fn an_order_opensrs_cancelled_or_does_not_know_may_time_out() {
    for settled in [Settlement::NoneOpen, Settlement::CancelledThere] {
        assert_eq!(
            verdict(&settled, now(), now(), Duration::hours(1)),
            Verdict::TimeOut
        );
    }
}

#[test]
fn an_escalated_order_is_polled_but_never_refunded_by_the_engine() {
    given(pending_until(1, now()).into_iter().chain([escalated(1)]))
        .at(now() + Duration::days(2))
        .when_polled(1, not_yet(Verdict::TimeOut))
        .then_types(&["Polled"]);
}

#[test]
fn a_poll_that_finds_the_order_done_confirms_it() {
    let done = PollReport {
        finding: Finding::Done {
            expires_at: now() + Duration::days(365),
            answer: RegistrarAnswer::new(Some(200), "ok"),
        },
        found: None,
        verdict: Verdict::Wait,
    };
    let state = given(pending_until(1, now()))
        .when_polled(1, done)
        .then_types(&["Confirmed"]);
    assert_eq!(state.holder, Some(alice()));
}

#[test]
fn a_poll_that_finds_the_order_refused_refunds_it() {
    let refused = PollReport {
        finding: Finding::Refused(RegistrarAnswer::new(Some(485), "taken")),
        found: None,
        verdict: Verdict::Wait,
    };
    given(pending_until(1, now()))
        .when_polled(1, refused)
        .then_types(&["Rejected", "Refunded"]);
}

#[test]
fn an_order_never_sent_is_cancelled_without_asking_opensrs() {
    let g = given([requested(1, Register), charged(1)]);
    assert_eq!(
        cancel_plan(&g.state(), oid(1)),
        Ok(CancelPlan::NothingToUndo)
    );
}

#[test]
fn an_order_being_sent_cannot_be_cancelled() {
    let g = given(sent(1));
    assert_eq!(
        cancel_plan(&g.state(), oid(1)),
        Err(CancelRefusal::BeingSubmitted(oid(1)))
    );
}

#[test]
fn a_pending_order_is_cancelled_at_opensrs_first() {
    let g = given(pending_until(1, now()));
    assert_eq!(
        cancel_plan(&g.state(), oid(1)),
        Ok(CancelPlan::CancelAtRegistrar {
            registrar_order_id: "123".into()
        })
    );
}

#[test]
fn a_pending_order_without_opensrs_order_id_cannot_be_cancelled() {
    let g = given([
        requested(1, Register),
        charged(1),
        submitted(1),
        pending_lost(1, now()),
    ]);
    assert_eq!(
        cancel_plan(&g.state(), oid(1)),
        Err(CancelRefusal::RegistrarOrderUnknown(oid(1)))
    );
}

#[test]
fn only_an_escalated_order_is_cancelled_on_the_admins_word() {
    let g = given(pending_until(1, now()));
    assert_eq!(
        cancel_checked_by_hand(&g.state(), oid(1), "ann"),
        Err(CancelRefusal::NotEscalated(oid(1)))
    );
    let g = given(pending_until(1, now()).into_iter().chain([escalated(1)]));
    let cancel = cancel_checked_by_hand(&g.state(), oid(1), "ann").unwrap();
    g.when(cancel).then_types(&["Cancelled", "Refunded"]);
}

#[test]
fn a_cancel_would_refund_the_charge_once() {
    let g = given(pending_until(1, now()));
    assert_eq!(refund_on_cancel(&g.state(), oid(1)), Some(usd(1299)));
    let g = given([requested(1, Register)]);
    assert_eq!(refund_on_cancel(&g.state(), oid(1)), None);
}

#[test]
fn a_send_that_never_reached_opensrs_goes_back_to_be_sent_again() {
    let g = given(sent(1));
    let state = g
        .when_all(after_send_failure(
            &g.state(),
            oid(1),
            "connection refused",
            now(),
        ))
        .then_types(&["SendFailed"]);
    assert_eq!(state.orders[&oid(1)].stage, Stage::Accepted);
    given(sent(1).into_iter().chain([send_failed(1)]))
        .when(Command::RecordSubmission {
            order_id: oid(1),
            lease: None,
        })
        .then_refused_as(|e| matches!(e, DomainError::RetryNotDue { .. }));
    given(sent(1).into_iter().chain([send_failed(1)]))
        .at(now() + Duration::minutes(2))
        .when(Command::RecordSubmission {
            order_id: oid(1),
            lease: None,
        })
        .then([submitted(1)]);
}

#[test]
fn after_the_last_try_an_order_nothing_was_sent_for_is_cancelled_and_refunded() {
    let mut history: Vec<DomainEvent> = vec![requested(1, Register), charged(1)];
    for _ in 1..domreg_events::deadline::MAX_SENDS {
        history.extend([submitted(1), send_failed(1)]);
    }
    history.push(submitted(1));
    let g = given(history);
    g.when_all(after_send_failure(
        &g.state(),
        oid(1),
        "connection refused",
        now(),
    ))
    .then_types(&["SendFailed", "Cancelled", "Refunded"]);
}

#[test]
fn an_order_opensrs_has_no_trace_of_is_sent_once_more_not_refunded() {
    let report = PollReport {
        finding: Finding::NotYet(PollResult::TransientError {
            message: "not ours".into(),
        }),
        found: None,
        verdict: verdict(
            &Settlement::NoTrace("no trace".into()),
            now(),
            now(),
            Duration::hours(1),
        ),
    };
    let lost = [
        requested(1, Register),
        charged(1),
        submitted(1),
        pending_lost(1, now()),
    ];
    let state = given(lost.clone())
        .at(now() + Duration::minutes(1))
        .when_polled(1, report)
        .then_types(&["Polled", "Resubmitted"]);
    assert_eq!(state.orders[&oid(1)].stage, Stage::Accepted);
    let resubmitted: DomainEvent = event::Resubmitted {
        order_id: oid(1),
        reason: "no trace".into(),
    }
    .into();
    let again = lost
        .into_iter()
        .chain([resubmitted, submitted(1), pending_lost(1, now())]);
    given(again)
        .when(Command::Resubmit {
            order_id: oid(1),
            reason: "x".into(),
        })
        .then_refused(DomainError::AlreadyResubmitted(oid(1)));
}
