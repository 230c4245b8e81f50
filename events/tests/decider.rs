//! Given / when / then tests of the Domain decider's rules, one rule per test.

mod harness;

use chrono::Duration;
use domreg_events::event::*;
use domreg_events::*;
use harness::*;

#[test]
fn a_registration_is_requested_then_charged_its_price() {
    let state = given([])
        .when(request(1, Register))
        .then([requested(1, Register)]);
    assert!(state.orders[&oid(1)].charged.is_none());
    given([requested(1, Register)])
        .when(Command::RecordCharge { order_id: oid(1) })
        .then([charged(1)]);
}

#[test]
fn a_second_charge_is_refused() {
    given([requested(1, Register), charged(1)])
        .when(Command::RecordCharge { order_id: oid(1) })
        .then_refused(DomainError::AlreadyCharged(oid(1)));
}

#[test]
fn an_uncharged_order_is_not_submitted() {
    given([requested(1, Register)])
        .when(Command::RecordSubmission {
            order_id: oid(1),
            lease: None,
        })
        .then_refused(DomainError::NotCharged(oid(1)));
}

#[test]
fn one_open_order_per_domain() {
    given([requested(1, Register), charged(1)])
        .when(request(2, Register))
        .then_refused_as(|e| matches!(e, DomainError::OrderInProgress { .. }));
}

#[test]
fn renewal_needs_a_registered_domain() {
    given([])
        .when(request(1, Renew))
        .then_refused(DomainError::NotRegistered("example.de".into()));
    given(registered(1))
        .when(request(2, Renew))
        .then([requested(2, Renew)]);
}

#[test]
fn renewal_needs_the_holders_account() {
    let bob = Command::Request {
        order_id: oid(3),
        domain: name(),
        account: AccountId::parse("bob").unwrap(),
        kind: Renew,
        period: Period::ONE_YEAR,
        connection: "main".into(),
        price: usd(1299),
    };
    given(registered(1))
        .when(bob)
        .then_refused_as(|e| matches!(e, DomainError::WrongAccount { .. }));
}

#[test]
fn a_registered_domain_is_not_registered_again() {
    given(registered(1))
        .when(request(4, Register))
        .then_refused(DomainError::AlreadyRegistered("example.de".into()));
}

#[test]
fn a_transfer_runs_one_year() {
    let mut cmd = request(1, Transfer);
    if let Command::Request { period, .. } = &mut cmd {
        *period = Period::years(2).unwrap();
    }
    given([])
        .when(cmd)
        .then_refused(DomainError::TransferPeriod(Period::years(2).unwrap()));
}

#[test]
fn a_pending_order_does_not_time_out_before_its_deadline() {
    let deadline = now() + Duration::hours(50);
    given(pending_until(1, deadline))
        .when(Command::TimeOut { order_id: oid(1) })
        .then_refused(DomainError::DeadlineNotReached {
            order: oid(1),
            deadline,
            now: now(),
        });
}

#[test]
fn a_timed_out_order_is_refunded() {
    let deadline = now() + Duration::hours(50);
    given(pending_until(1, deadline))
        .at(deadline)
        .when(Command::TimeOut { order_id: oid(1) })
        .then([
            TimedOut {
                order_id: oid(1),
                deadline,
            }
            .into(),
            refunded(1),
        ]);
}

#[test]
fn reset_moves_the_deadline() {
    let later = now() + Duration::hours(50);
    given(pending_until(1, now()))
        .when(Command::ResetDeadline {
            order_id: oid(1),
            deadline: later,
        })
        .then([DeadlineReset {
            order_id: oid(1),
            deadline: later,
        }
        .into()]);
}

#[test]
fn reset_refuses_a_deadline_in_the_past() {
    given(pending_until(1, now()))
        .when(Command::ResetDeadline {
            order_id: oid(1),
            deadline: now(),
        })
        .then_refused(DomainError::DeadlineInPast(now()));
}

#[test]
fn a_submitted_order_cannot_be_cancelled_until_its_outcome_is_known() {
    given(sent(1))
        .when(Command::Cancel {
            order_id: oid(1),
            reason: "x".into(),
        })
        .then_refused_as(|e| matches!(e, DomainError::WrongStage { .. }));
}

#[test]
fn a_cancel_refunds_exactly_the_charge() {
    given(pending_until(1, now()))
        .when(Command::Cancel {
            order_id: oid(1),
            reason: "customer asked".into(),
        })
        .then([
            Cancelled {
                order_id: oid(1),
                reason: "customer asked".into(),
            }
            .into(),
            refunded(1),
        ]);
}

#[test]
fn a_confirmed_order_is_never_refunded() {
    given(registered(1))
        .when(Command::Refund { order_id: oid(1) })
        .then_refused(DomainError::NotRefundable {
            order: oid(1),
            end: End::Confirmed,
        });
}

#[test]
fn a_refund_is_given_once() {
    let state = given(pending_until(1, now()))
        .when(Command::Cancel {
            order_id: oid(1),
            reason: "x".into(),
        })
        .then_types(&["Cancelled", "Refunded"]);
    assert_eq!(state.orders[&oid(1)].refunded, Some(usd(1299)));
    given(
        pending_until(1, now()).into_iter().chain([
            Cancelled {
                order_id: oid(1),
                reason: "x".into(),
            }
            .into(),
            refunded(1),
        ]),
    )
    .when(Command::Refund { order_id: oid(1) })
    .then_refused(DomainError::AlreadyRefunded(oid(1)));
}

#[test]
fn one_expiry_warning_per_expiry_date() {
    let expires_at = now() + Duration::days(365);
    let warned = ExpiryWarned {
        account: alice(),
        expires_at,
        renewal_unpaid: None,
    };
    let warn = Command::RecordExpiryWarning {
        expires_at,
        renewal_unpaid: None,
    };
    given(registered(1))
        .when(warn.clone())
        .then([warned.clone().into()]);
    given(registered(1).into_iter().chain([warned.into()]))
        .when(warn)
        .then_refused(DomainError::AlreadyWarned(expires_at));
}

#[test]
fn an_unpaid_renewal_is_recorded_once_per_expiry_date() {
    let usd = |m| Money::new(m, Currency::USD);
    let unpaid = Command::RecordRenewalUnpaid {
        price: usd(1100),
        missing: usd(350),
    };
    let recorded = RenewalUnpaid {
        account: alice(),
        expires_at: now() + Duration::days(365),
        price: usd(1100),
        missing: usd(350),
    };
    given(registered(1))
        .when(unpaid.clone())
        .then([recorded.clone().into()]);
    given(registered(1).into_iter().chain([recorded.into()]))
        .when(unpaid)
        .then([]);
}

#[test]
fn an_escalated_order_never_times_out_on_its_own() {
    given(pending_until(1, now()).into_iter().chain([escalated(1)]))
        .at(now() + Duration::days(3))
        .when(Command::TimeOut { order_id: oid(1) })
        .then_refused_as(|e| matches!(e, DomainError::Escalated { .. }));
}

#[test]
fn a_reset_hands_an_escalated_order_back_to_the_engine() {
    let reset = DeadlineReset {
        order_id: oid(1),
        deadline: now() + Duration::hours(1),
    };
    given(
        pending_until(1, now())
            .into_iter()
            .chain([escalated(1), reset.into()]),
    )
    .at(now() + Duration::hours(2))
    .when(Command::TimeOut { order_id: oid(1) })
    .then_types(&["TimedOut", "Refunded"]);
}

#[test]
fn a_registrar_order_id_learned_late_is_recorded_whatever_the_stage() {
    let timed_out = TimedOut {
        order_id: oid(1),
        deadline: now(),
    };
    let found = Command::RecordRegistrarOrder {
        order_id: oid(1),
        registrar_order_id: "3000042".into(),
        answer: RegistrarAnswer::new(Some(200), "late answer"),
    };
    let history: Vec<DomainEvent> = pending_until(1, now())
        .into_iter()
        .chain([timed_out.into(), refunded(1)])
        .collect();
    let state = given(history.clone())
        .when(found.clone())
        .then_types(&["RegistrarOrderFound"]);
    assert_eq!(
        state.orders[&oid(1)].registrar_order_id.as_deref(),
        Some("3000042")
    );
    // The same id again records nothing.
    let again = Domain::replay(&history).version;
    assert_eq!(state.version, again + 1);
}

#[test]
fn the_same_registrar_order_id_twice_records_nothing() {
    let found = RegistrarOrderFound {
        order_id: oid(1),
        registrar_order_id: "3000042".into(),
        answer: RegistrarAnswer::new(Some(200), "late answer"),
    };
    given(
        pending_until(1, now())
            .into_iter()
            .chain([found.clone().into()]),
    )
    .when(Command::RecordRegistrarOrder {
        order_id: oid(1),
        registrar_order_id: "3000042".into(),
        answer: found.answer,
    })
    .then_nothing();
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

fn imported(account: &str) -> Imported {
    Imported {
        domain: name(),
        account: AccountId::parse(account).unwrap(),
        connection: "main".into(),
        expires_at: now() + Duration::days(300),
        auto_renew: true,
        source: "import mapping.csv line 2".into(),
    }
}

#[test]
fn an_import_adopts_the_domain_once_and_never_for_a_second_account() {
    let state = given([])
        .when(Command::Import(Box::new(imported("alice"))))
        .then([imported("alice").into()]);
    assert_eq!(state.holder, Some(alice()));
    assert!(state.auto_renew);
    given([imported("alice").into()])
        .when(Command::Import(Box::new(imported("alice"))))
        .then_nothing();
    given([imported("alice").into()])
        .when(Command::Import(Box::new(imported("bob"))))
        .then_refused_as(|e| matches!(e, DomainError::HeldByAnother { .. }));
    given([requested(1, Register), charged(1)])
        .when(Command::Import(Box::new(imported("alice"))))
        .then_refused_as(|e| matches!(e, DomainError::OrderInProgress { .. }));
}

fn settle(charge_again: bool) -> Command {
    Command::SettleLateCompletion {
        order_id: oid(1),
        charge_again,
        expires_at: now() + Duration::days(365),
        reason: "admin".into(),
    }
}

#[test]
fn a_late_completion_is_charged_again_at_the_orders_price_or_let_go_once() {
    let ended = [requested(1, Register), charged(1), rejected(1), refunded(1)];
    let state = given(ended.clone())
        .when(settle(true))
        .then_types(&["LateCompletionSettled"]);
    assert_eq!(state.holder, Some(alice()));
    assert_eq!(
        state.orders[&oid(1)].late,
        Some(LateChoice::ChargeAgain { amount: usd(1299) })
    );
    let state = given(ended.clone())
        .when(settle(false))
        .then_types(&["LateCompletionSettled"]);
    assert_eq!(state.holder, None);
    let mut twice = ended.to_vec();
    twice.extend(decide(&given(ended.clone()).state(), settle(false), now()).unwrap());
    given(twice)
        .when(settle(true))
        .then_refused_as(|e| matches!(e, DomainError::NotLate { .. }));
    given(registered(1))
        .when(settle(true))
        .then_refused_as(|e| matches!(e, DomainError::NotLate { .. }));
    given([requested(1, Register), charged(1)])
        .when(settle(true))
        .then_refused_as(|e| matches!(e, DomainError::NotLate { .. }));
}

fn change(n: u128) -> Command {
    Command::RequestChange {
        change_id: oid(100 + n),
        change: change::DomainChange::Nameservers {
            nameservers: vec!["NS1.Example.net.".into(), "ns2.example.net".into()],
        },
        price: None,
    }
}

#[test]
fn a_change_is_asked_of_a_registered_domain_sent_once_and_ends_once() {
    given([])
        .when(change(1))
        .then_refused_as(|e| matches!(e, DomainError::NotRegistered(_)));
    let state = given(registered(1))
        .when(change(1))
        .then_types(&["ChangeRequested"]);
    let asked = &state.changes[&oid(101)].change;
    assert_eq!(
        asked,
        &change::DomainChange::Nameservers {
            nameservers: vec!["ns1.example.net".into(), "ns2.example.net".into()]
        },
        "normalised"
    );
    let lease = Lease {
        engine: "e".into(),
        until: now() + Duration::minutes(2),
    };
    let mut log = registered(1).to_vec();
    log.extend(decide(&given(registered(1)).state(), change(1), now()).unwrap());
    given(log.clone())
        .when(change(2))
        .then_refused_as(|e| matches!(e, DomainError::ChangeInProgress { .. }));
    let sent = Command::RecordChangeSubmission {
        change_id: oid(101),
        lease: lease.clone(),
    };
    let s = given(log.clone()).state();
    log.extend(decide(&s, sent.clone(), now()).unwrap());
    given(log.clone())
        .when(sent)
        .then_refused_as(|e| matches!(e, DomainError::ChangeNotOpen { .. }));
    let ends = Command::RecordChangeOutcome {
        change_id: oid(101),
        applied: true,
        answer: RegistrarAnswer::new(Some(200), "Nameserver Update Successful"),
    };
    let s = given(log.clone())
        .when(ends.clone())
        .then_types(&["ChangeApplied"]);
    assert_eq!(s.nameservers.as_ref().map(Vec::len), Some(2));
    log.extend(decide(&given(log.clone()).state(), ends.clone(), now()).unwrap());
    given(log).when(ends).then_nothing();
}

#[test]
fn bad_nameservers_and_changes_during_an_order_are_refused_with_the_reason() {
    let bad = |list: &[&str]| Command::RequestChange {
        change_id: oid(200),
        change: change::DomainChange::Nameservers {
            nameservers: list.iter().map(|s| s.to_string()).collect(),
        },
        price: None,
    };
    given(registered(1))
        .when(bad(&["ns1.example.net"]))
        .then_refused_as(|e| matches!(e, DomainError::BadChange(m) if m.contains("2 to 13")));
    given(registered(1))
        .when(bad(&["ns1.example.net", "ns1.example.net"]))
        .then_refused_as(|e| matches!(e, DomainError::BadChange(m) if m.contains("twice")));
    given(registered(1))
        .when(bad(&["ns1.example.net", "not a host"]))
        .then_refused_as(|e| matches!(e, DomainError::BadChange(m) if m.contains("not a host")));
    let mut renewing = registered(1).to_vec();
    renewing.push(requested(2, Renew));
    given(renewing)
        .when(change(1))
        .then_refused_as(|e| matches!(e, DomainError::OrderInProgress { .. }));
}
