//! Given / when / then tests of the Domain decider's rules, one rule per test.

use chrono::{DateTime, Duration, TimeZone, Utc};
use domreg_events::event::*;
use domreg_events::*;
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}
fn oid(n: u128) -> OrderId {
    OrderId(Uuid::from_u128(n))
}
fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}
fn alice() -> AccountId {
    AccountId::parse("alice").unwrap()
}
fn name() -> DomainName {
    DomainName::parse("example.de").unwrap()
}

fn given(events: &[DomainEvent]) -> Domain {
    Domain::replay(events)
}

fn requested(n: u128, kind: OrderKind) -> DomainEvent {
    Requested {
        order_id: oid(n),
        domain: name(),
        account: alice(),
        kind,
        period: Period::ONE_YEAR,
        connection: "main".into(),
        price: usd(1299),
    }
    .into()
}
fn charged(n: u128) -> DomainEvent {
    Charged {
        order_id: oid(n),
        account: alice(),
        amount: usd(1299),
    }
    .into()
}
fn submitted(n: u128) -> DomainEvent {
    Submitted {
        order_id: oid(n),
        connection: "main".into(),
        lease: None,
    }
    .into()
}
fn pending(n: u128, deadline: DateTime<Utc>) -> DomainEvent {
    UnknownStatus {
        order_id: oid(n),
        reason: PendingReason::AsyncRegistry,
        answer: None,
        registrar_order_id: Some("123".into()),
        poll_every_secs: 3600,
        deadline,
    }
    .into()
}
fn confirmed(n: u128) -> DomainEvent {
    Confirmed {
        order_id: oid(n),
        expires_at: now() + Duration::days(365),
        registrar_order_id: None,
        answer: RegistrarAnswer::new(Some(200), "ok"),
    }
    .into()
}
fn request(n: u128, kind: OrderKind) -> Command {
    Command::Request {
        order_id: oid(n),
        domain: name(),
        account: alice(),
        kind,
        period: Period::ONE_YEAR,
        connection: "main".into(),
        price: usd(1299),
    }
}

#[test]
fn a_registration_is_requested_then_charged_its_price() {
    let events = decide(&given(&[]), request(1, OrderKind::Register), now()).unwrap();
    assert_eq!(events, vec![requested(1, OrderKind::Register)]);
    let events = decide(
        &given(&events),
        Command::RecordCharge { order_id: oid(1) },
        now(),
    )
    .unwrap();
    assert_eq!(events, vec![charged(1)]);
}

#[test]
fn a_second_charge_is_refused() {
    let state = given(&[requested(1, OrderKind::Register), charged(1)]);
    assert_eq!(
        decide(&state, Command::RecordCharge { order_id: oid(1) }, now()),
        Err(DomainError::AlreadyCharged(oid(1)))
    );
}

#[test]
fn an_uncharged_order_is_not_submitted() {
    let state = given(&[requested(1, OrderKind::Register)]);
    assert_eq!(
        decide(
            &state,
            Command::RecordSubmission {
                order_id: oid(1),
                lease: None
            },
            now()
        ),
        Err(DomainError::NotCharged(oid(1)))
    );
}

#[test]
fn one_open_order_per_domain() {
    let state = given(&[requested(1, OrderKind::Register), charged(1)]);
    assert!(matches!(
        decide(&state, request(2, OrderKind::Register), now()),
        Err(DomainError::OrderInProgress { .. })
    ));
}

#[test]
fn renewal_needs_a_registered_domain_of_the_same_account() {
    assert!(matches!(
        decide(&given(&[]), request(1, OrderKind::Renew), now()),
        Err(DomainError::NotRegistered(_))
    ));
    let state = given(&[
        requested(1, OrderKind::Register),
        charged(1),
        submitted(1),
        confirmed(1),
    ]);
    assert!(decide(&state, request(2, OrderKind::Renew), now()).is_ok());
    let bob = Command::Request {
        order_id: oid(3),
        domain: name(),
        account: AccountId::parse("bob").unwrap(),
        kind: OrderKind::Renew,
        period: Period::ONE_YEAR,
        connection: "main".into(),
        price: usd(1299),
    };
    assert!(matches!(
        decide(&state, bob, now()),
        Err(DomainError::WrongAccount { .. })
    ));
    assert!(matches!(
        decide(&state, request(4, OrderKind::Register), now()),
        Err(DomainError::AlreadyRegistered(_))
    ));
}

#[test]
fn a_transfer_runs_one_year() {
    let mut cmd = request(1, OrderKind::Transfer);
    if let Command::Request { period, .. } = &mut cmd {
        *period = Period::years(2).unwrap();
    }
    assert!(matches!(
        decide(&given(&[]), cmd, now()),
        Err(DomainError::TransferPeriod(_))
    ));
}

#[test]
fn a_pending_order_times_out_only_after_its_deadline() {
    let deadline = now() + Duration::hours(50);
    let state = given(&[
        requested(1, OrderKind::Register),
        charged(1),
        submitted(1),
        pending(1, deadline),
    ]);
    assert!(matches!(
        decide(&state, Command::TimeOut { order_id: oid(1) }, now()),
        Err(DomainError::DeadlineNotReached { .. })
    ));
    let events = decide(&state, Command::TimeOut { order_id: oid(1) }, deadline).unwrap();
    assert_eq!(
        events,
        vec![TimedOut {
            order_id: oid(1),
            deadline
        }
        .into()]
    );
}

#[test]
fn reset_moves_the_deadline_and_refuses_the_past() {
    let state = given(&[
        requested(1, OrderKind::Register),
        charged(1),
        submitted(1),
        pending(1, now()),
    ]);
    let later = now() + Duration::hours(50);
    assert_eq!(
        decide(
            &state,
            Command::ResetDeadline {
                order_id: oid(1),
                deadline: later
            },
            now()
        )
        .unwrap(),
        vec![DeadlineReset {
            order_id: oid(1),
            deadline: later
        }
        .into()]
    );
    assert_eq!(
        decide(
            &state,
            Command::ResetDeadline {
                order_id: oid(1),
                deadline: now()
            },
            now()
        ),
        Err(DomainError::DeadlineInPast(now()))
    );
}

#[test]
fn a_submitted_order_cannot_be_cancelled_until_its_outcome_is_known() {
    let state = given(&[requested(1, OrderKind::Register), charged(1), submitted(1)]);
    assert!(matches!(
        decide(
            &state,
            Command::Cancel {
                order_id: oid(1),
                reason: "x".into()
            },
            now()
        ),
        Err(DomainError::WrongStage { .. })
    ));
}

#[test]
fn cancel_then_refund_returns_exactly_the_charge() {
    let state = given(&[
        requested(1, OrderKind::Register),
        charged(1),
        submitted(1),
        pending(1, now()),
    ]);
    let events = decide(
        &state,
        Command::Cancel {
            order_id: oid(1),
            reason: "customer asked".into(),
        },
        now(),
    )
    .unwrap();
    let state = events.iter().fold(state, evolve);
    let refund = decide(&state, Command::Refund { order_id: oid(1) }, now()).unwrap();
    assert_eq!(
        refund,
        vec![Refunded {
            order_id: oid(1),
            account: alice(),
            amount: usd(1299)
        }
        .into()]
    );
}

#[test]
fn a_confirmed_order_is_never_refunded() {
    let state = given(&[
        requested(1, OrderKind::Register),
        charged(1),
        submitted(1),
        confirmed(1),
    ]);
    assert!(matches!(
        decide(&state, Command::Refund { order_id: oid(1) }, now()),
        Err(DomainError::NotRefundable {
            end: End::Confirmed,
            ..
        })
    ));
    assert!(state.is_registered());
    assert_eq!(state.holder, Some(alice()));
}

#[test]
fn one_expiry_warning_per_expiry_date() {
    let state = given(&[
        requested(1, OrderKind::Register),
        charged(1),
        submitted(1),
        confirmed(1),
    ]);
    let expiry = state.expires_at.unwrap();
    let events = decide(
        &state,
        Command::RecordExpiryWarning { expires_at: expiry },
        now(),
    )
    .unwrap();
    let state = events.iter().fold(state, evolve);
    assert_eq!(
        decide(
            &state,
            Command::RecordExpiryWarning { expires_at: expiry },
            now()
        ),
        Err(DomainError::AlreadyWarned(expiry))
    );
}

#[test]
fn v0_money_events_are_upcast() {
    let v0 = br#"{"order_id":"00000000-0000-0000-0000-000000000001","account":"alice","cents":1299,"currency":"USD"}"#;
    let event = DomainEvent::decode("Charged", 0, v0).unwrap();
    assert_eq!(event, charged(1));
}

#[test]
fn unknown_types_and_future_versions_are_clear_errors() {
    let e = DomainEvent::decode("Teleported", 1, b"{}")
        .unwrap_err()
        .to_string();
    assert!(e.contains("Teleported") && e.contains("Requested"), "{e}");
    let e = DomainEvent::decode("Charged", 9, b"{}")
        .unwrap_err()
        .to_string();
    assert!(e.contains("newer"), "{e}");
    let e = DomainEvent::decode("Charged", 1, b"{\"order_id\":1}")
        .unwrap_err()
        .to_string();
    assert!(e.contains("Charged"), "{e}");
}

fn escalated(n: u128) -> DomainEvent {
    Escalated {
        order_id: oid(n),
        reason: "OpenSRS did not answer".into(),
    }
    .into()
}

#[test]
fn an_escalated_order_never_times_out_on_its_own() {
    let late = now() + Duration::days(3);
    let state = given(&[
        requested(1, OrderKind::Register),
        charged(1),
        submitted(1),
        pending(1, now()),
        escalated(1),
    ]);
    assert!(matches!(
        decide(&state, Command::TimeOut { order_id: oid(1) }, late),
        Err(DomainError::Escalated { .. })
    ));
}

#[test]
fn a_reset_hands_an_escalated_order_back_to_the_engine() {
    let state = given(&[
        requested(1, OrderKind::Register),
        charged(1),
        submitted(1),
        pending(1, now()),
        escalated(1),
        DeadlineReset {
            order_id: oid(1),
            deadline: now() + Duration::hours(1),
        }
        .into(),
    ]);
    let late = now() + Duration::hours(2);
    assert!(decide(&state, Command::TimeOut { order_id: oid(1) }, late).is_ok());
}

#[test]
fn a_registrar_order_id_learned_late_is_recorded_whatever_the_stage() {
    let state = given(&[
        requested(1, OrderKind::Register),
        charged(1),
        submitted(1),
        pending(1, now()),
        TimedOut {
            order_id: oid(1),
            deadline: now(),
        }
        .into(),
    ]);
    let found = Command::RecordRegistrarOrder {
        order_id: oid(1),
        registrar_order_id: "3000042".into(),
        answer: RegistrarAnswer::new(Some(200), "late answer"),
    };
    let events = decide(&state, found.clone(), now()).unwrap();
    assert_eq!(events.len(), 1);
    let state = events.iter().fold(state, evolve);
    assert_eq!(
        state.orders[&oid(1)].registrar_order_id.as_deref(),
        Some("3000042")
    );
    // The same id again records nothing.
    assert_eq!(decide(&state, found, now()), Ok(vec![]));
}

#[test]
fn a_price_beyond_the_bound_is_refused() {
    let mut command = request(1, OrderKind::Register);
    if let Command::Request { price, .. } = &mut command {
        *price = usd(Money::MAX_MINOR + 1);
    }
    assert!(matches!(
        decide(&Domain::default(), command, now()),
        Err(DomainError::PriceTooLarge(_))
    ));
}

#[test]
fn a_registrars_answer_text_is_kept_at_most_a_thousand_bytes() {
    let answer = RegistrarAnswer::new(Some(200), "é".repeat(5_000));
    assert!(answer.text.len() <= RegistrarAnswer::MAX_TEXT + " [truncated]".len());
    assert!(answer.text.ends_with("[truncated]"));
}
