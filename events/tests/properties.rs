//! Property tests of the money and lifecycle rules, over random command sequences.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use domreg_events::*;
use proptest::prelude::*;
use uuid::Uuid;

const ORDERS: u8 = 3;

#[derive(Debug, Clone)]
enum Step {
    Request {
        order: u8,
        account: u8,
        kind: OrderKind,
        years: i64,
        cents: i64,
    },
    Charge(u8),
    Details(u8),
    Accept(u8),
    Submit(u8),
    Confirm(u8),
    Unknown {
        order: u8,
        hours: i64,
    },
    Reject {
        order: u8,
        text: String,
    },
    Poll {
        order: u8,
        transient: bool,
    },
    TimeOut(u8),
    Cancel(u8),
    Found(u8),
    Escalate(u8),
    NotSent(u8),
    /// An event of OpenSRS's feed (ids 0..3, so some repeat).
    Reported(u8),
    Left,
    Resubmit(u8),
    Reset {
        order: u8,
        hours: i64,
    },
    Refund(u8),
    AutoRenew(bool),
    Warn(u8),
    Sync(u8),
    /// The holder told the domain's expiry passed.
    Expired,
    /// The automatic renewal due could not be paid.
    Unpaid,
    AuthCode,
    Import(u8),
    /// A change of the domain: nameservers (even) or the lock (odd).
    Change(u8),
    ChangeSent(u8),
    ChangeEnds {
        change: u8,
        applied: bool,
    },
    Late {
        order: u8,
        charge_again: bool,
    },
}

fn step() -> impl Strategy<Value = Step> {
    // Escalation is rare, so that it does not crowd out the timeouts it forbids.
    let o = 0..ORDERS;
    prop_oneof![
        30 => common_step(),
        1 => o.clone().prop_map(Step::Found),
        1 => o.clone().prop_map(Step::Escalate),
        1 => o.prop_map(Step::NotSent),
        1 => (0u8..3).prop_map(Step::Reported),
        1 => Just(Step::Left),
        1 => (0..ORDERS).prop_map(Step::Resubmit),
        1 => (0u8..2).prop_map(Step::Import),
        1 => (0u8..4).prop_map(Step::Change),
        1 => (0u8..4).prop_map(Step::ChangeSent),
        1 => (0u8..4, any::<bool>()).prop_map(|(change, applied)| Step::ChangeEnds { change, applied }),
        1 => (0..ORDERS, any::<bool>()).prop_map(|(order, charge_again)| Step::Late { order, charge_again }),
    ]
}

fn common_step() -> impl Strategy<Value = Step> {
    let o = 0..ORDERS;
    prop_oneof![
        (
            o.clone(),
            0u8..2,
            prop_oneof![
                Just(OrderKind::Register),
                Just(OrderKind::Transfer),
                Just(OrderKind::Renew)
            ],
            0i64..12,
            -5i64..5000
        )
            .prop_map(|(order, account, kind, years, cents)| Step::Request {
                order,
                account,
                kind,
                years,
                cents
            }),
        o.clone().prop_map(Step::Charge),
        o.clone().prop_map(Step::Details),
        o.clone().prop_map(Step::Accept),
        o.clone().prop_map(Step::Submit),
        o.clone().prop_map(Step::Confirm),
        (o.clone(), 1i64..60).prop_map(|(order, hours)| Step::Unknown { order, hours }),
        (o.clone(), any::<String>()).prop_map(|(order, text)| Step::Reject { order, text }),
        (o.clone(), any::<bool>()).prop_map(|(order, transient)| Step::Poll { order, transient }),
        o.clone().prop_map(Step::TimeOut),
        o.clone().prop_map(Step::Cancel),
        (o.clone(), -5i64..60).prop_map(|(order, hours)| Step::Reset { order, hours }),
        o.clone().prop_map(Step::Refund),
        any::<bool>().prop_map(Step::AutoRenew),
        (0u8..3).prop_map(Step::Warn),
        (0u8..4).prop_map(Step::Sync),
        Just(Step::Expired),
        Just(Step::Unpaid),
        Just(Step::AuthCode),
    ]
}

fn order_id(i: u8) -> OrderId {
    OrderId(Uuid::from_u128(0x1000 + u128::from(i)))
}

fn change_id(i: u8) -> OrderId {
    OrderId(Uuid::from_u128(0x2000 + u128::from(i)))
}

fn to_command(step: &Step, now: DateTime<Utc>) -> Option<Command> {
    let domain = DomainName::parse("example.com").unwrap();
    Some(match step.clone() {
        Step::Request {
            order,
            account,
            kind,
            years,
            cents,
        } => Command::Request {
            order_id: order_id(order),
            domain,
            account: AccountId::parse(["alice", "bob"][account as usize]).unwrap(),
            kind,
            period: Period::years(years).ok()?,
            connection: "main".into(),
            price: Money::new(cents, Currency::USD),
        },
        Step::Accept(o) => Command::RecordAcceptance {
            order_id: order_id(o),
            version: "ab".repeat(32),
            from: Some("192.0.2.7".into()),
        },
        Step::Details(o) => Command::RecordDetails {
            order_id: order_id(o),
            contacts: Box::new(ContactSet::all(Contact {
                first_name: "Owen".into(),
                last_name: "Ottway".into(),
                org_name: String::new(),
                address1: "32 Oak Street".into(),
                address2: String::new(),
                address3: String::new(),
                city: "SomeCity".into(),
                state: "CA".into(),
                country: "US".into(),
                postal_code: "90210".into(),
                phone: "+1.4165550123".into(),
                fax: String::new(),
                email: "owen@example.com".into(),
            })),
            nameservers: vec!["ns1.example.net".into()],
        },
        Step::Charge(o) => Command::RecordCharge {
            order_id: order_id(o),
        },
        Step::Submit(o) => Command::RecordSubmission {
            order_id: order_id(o),
            lease: None,
        },
        Step::Confirm(o) => Command::RecordOutcome {
            order_id: order_id(o),
            outcome: Outcome::Confirmed {
                expires_at: now + Duration::days(365),
                registrar_order_id: Some(format!("{o}")),
                answer: RegistrarAnswer::new(
                    Some(200),
                    "Domain registration successfully completed",
                ),
            },
        },
        Step::Unknown { order, hours } => Command::RecordOutcome {
            order_id: order_id(order),
            outcome: Outcome::Unknown {
                reason: PendingReason::AsyncRegistry,
                answer: Some(RegistrarAnswer::new(Some(250), "Submitted to registry")),
                registrar_order_id: None,
                poll_every: Duration::hours(1),
                deadline: now + Duration::hours(hours),
            },
        },
        Step::Reject { order, text } => Command::RecordOutcome {
            order_id: order_id(order),
            outcome: Outcome::Rejected {
                answer: RegistrarAnswer::new(Some(485), text),
            },
        },
        Step::Poll { order, transient } => Command::RecordPoll {
            order_id: order_id(order),
            result: if transient {
                PollResult::TransientError {
                    message: "connection reset".into(),
                }
            } else {
                PollResult::StillPending {
                    answer: RegistrarAnswer::new(Some(200), "waiting"),
                }
            },
            next_poll_at: now + Duration::hours(1),
        },
        Step::TimeOut(o) => Command::TimeOut {
            order_id: order_id(o),
        },
        Step::Cancel(o) => Command::Cancel {
            order_id: order_id(o),
            reason: "admin".into(),
        },
        Step::Found(o) => Command::RecordRegistrarOrder {
            order_id: order_id(o),
            registrar_order_id: format!("30000{o}"),
            answer: RegistrarAnswer::new(Some(200), "GET_ORDERS_BY_DOMAIN: order waiting"),
        },
        Step::Escalate(o) => Command::Escalate {
            order_id: order_id(o),
            reason: "OpenSRS did not answer".into(),
        },
        Step::Reported(n) => Command::RecordRegistrarEvent(Box::new(event::RegistrarReported {
            connection: "main".into(),
            event_id: format!("{n:032x}"),
            object: "DOMAIN".into(),
            event: "RENEWED".into(),
            event_date: "2026-11-28T12:00:00Z".into(),
            data: Default::default(),
        })),
        Step::Resubmit(o) => Command::Resubmit {
            order_id: order_id(o),
            reason: "no trace at OpenSRS".into(),
        },
        Step::Left => Command::RecordLeftAccount {
            connection: "main".into(),
            reason: "BELONGS_TO_RSP: not ours".into(),
        },
        Step::NotSent(o) => Command::RecordSendFailure {
            order_id: order_id(o),
            reason: "connection refused".into(),
            retry_at: now,
        },
        Step::Reset { order, hours } => Command::ResetDeadline {
            order_id: order_id(order),
            deadline: now + Duration::hours(hours),
        },
        Step::Refund(o) => Command::Refund {
            order_id: order_id(o),
        },
        Step::AutoRenew(on) => Command::SetAutoRenew {
            enabled: on,
            years: on.then_some(Period::ONE_YEAR),
        },
        Step::Expired => Command::RecordExpiryPassed,
        Step::Unpaid => Command::RecordRenewalUnpaid {
            price: Money::new(1100, Currency::USD),
            missing: Money::new(100, Currency::USD),
        },
        Step::AuthCode => Command::RecordAuthCodeDisclosed {
            how: "shown".into(),
        },
        Step::Warn(d) => Command::RecordExpiryWarning {
            expires_at: Utc
                .with_ymd_and_hms(2030, 1, 1 + u32::from(d), 0, 0, 0)
                .unwrap(),
            renewal_unpaid: (d == 2).then_some(Money::new(500, Currency::USD)),
        },
        Step::Import(a) => Command::Import(Box::new(event::Imported {
            domain,
            account: AccountId::parse(["alice", "bob"][a as usize]).unwrap(),
            connection: "main".into(),
            expires_at: Utc.with_ymd_and_hms(2032, 1, 1, 0, 0, 0).unwrap(),
            auto_renew: false,
            source: "import test.csv line 1".into(),
        })),
        Step::Change(c) => Command::RequestChange {
            change_id: change_id(c),
            change: match c {
                3 => change::DomainChange::Privacy { enabled: true },
                _ if c % 2 == 0 => change::DomainChange::Nameservers {
                    nameservers: vec!["ns1.example.net".into(), format!("ns{c}.example.org")],
                },
                _ => change::DomainChange::Lock { locked: c == 1 },
            },
            // A priced change: charged with the request, refunded if OpenSRS refuses it.
            price: (c == 3).then_some(Money::new(500, Currency::USD)),
        },
        Step::ChangeSent(c) => Command::RecordChangeSubmission {
            change_id: change_id(c),
            lease: Lease {
                engine: "engine-1".into(),
                until: now + Duration::minutes(2),
            },
        },
        Step::ChangeEnds { change, applied } => Command::RecordChangeOutcome {
            change_id: change_id(change),
            applied,
            answer: RegistrarAnswer::new(Some(if applied { 200 } else { 435 }), "answer"),
        },
        Step::Late {
            order,
            charge_again,
        } => Command::SettleLateCompletion {
            order_id: order_id(order),
            charge_again,
            expires_at: Utc.with_ymd_and_hms(2033, 1, 1, 0, 0, 0).unwrap(),
            reason: "found by sync".into(),
        },
        Step::Sync(d) => Command::SyncExpiry {
            // The last one lies in the past: the expiry has passed.
            expires_at: Utc
                .with_ymd_and_hms(
                    if d == 3 { 2025 } else { 2031 },
                    1,
                    1 + u32::from(d),
                    0,
                    0,
                    0,
                )
                .unwrap(),
            source: "GET DOMAIN".into(),
        },
    })
}

/// Runs the steps through decide/evolve, advancing the clock, and returns the log.
fn run(steps: &[(Step, i64)]) -> (Domain, Vec<DomainEvent>) {
    let mut now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let mut state = Domain::default();
    let mut log = Vec::new();
    for (step, advance_minutes) in steps {
        now += Duration::minutes(*advance_minutes);
        let Some(command) = to_command(step, now) else {
            continue;
        };
        if let Ok(events) = decide(&state, command, now) {
            for event in events {
                state = evolve(state, &event);
                log.push(event);
            }
        }
    }
    (state, log)
}

fn steps() -> impl Strategy<Value = Vec<(Step, i64)>> {
    prop::collection::vec((step(), 0i64..600), 0..80)
}

fn is_final(e: &DomainEvent) -> bool {
    matches!(
        e,
        DomainEvent::Confirmed(_)
            | DomainEvent::Rejected(_)
            | DomainEvent::TimedOut(_)
            | DomainEvent::Cancelled(_)
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(768))]

    #[test]
    fn charged_at_most_once_refunded_at_most_once_and_only_if_charged(s in steps()) {
        let (_, log) = run(&s);
        for i in 0..ORDERS {
            let id = order_id(i);
            let of: Vec<_> = log.iter().filter(|e| e.order_id() == Some(id)).collect();
            let charges = of.iter().filter(|e| matches!(e, DomainEvent::Charged(_))).count();
            let refunds: Vec<usize> = of.iter().enumerate()
                .filter(|(_, e)| matches!(e, DomainEvent::Refunded(_))).map(|(i, _)| i).collect();
            prop_assert!(charges <= 1);
            prop_assert!(refunds.len() <= 1);
            if let Some(&r) = refunds.first() {
                let charged_before = of[..r].iter().any(|e| matches!(e, DomainEvent::Charged(_)));
                prop_assert!(charged_before, "refund without charge for {id}");
            }
        }
    }

    #[test]
    fn confirmed_never_refunded_and_other_ends_refund_exactly_the_charge(s in steps()) {
        let (state, log) = run(&s);
        for order in state.orders.values() {
            match order.end() {
                Some(End::Confirmed) => prop_assert!(order.refunded.is_none()),
                Some(_) => {
                    if let Some(refund) = order.refunded {
                        prop_assert_eq!(Some(refund), order.charged);
                    }
                }
                None => prop_assert!(order.refunded.is_none()),
            }
        }
        // Every refundable end can be refunded exactly once, for exactly its charge.
        let mut state = state;
        let now = Utc.with_ymd_and_hms(2040, 1, 1, 0, 0, 0).unwrap();
        for id in state.orders.keys().copied().collect::<Vec<_>>() {
            let order = state.orders[&id].clone();
            let refundable = order.end().is_some_and(End::is_refundable)
                && order.charged.is_some() && order.refunded.is_none();
            let first = decide(&state, Command::Refund { order_id: id }, now);
            prop_assert_eq!(first.is_ok(), refundable, "{:?} -> {:?}", order, first);
            if let Ok(events) = first {
                match &events[..] {
                    [DomainEvent::Refunded(r)] => prop_assert_eq!(Some(r.amount), order.charged),
                    other => prop_assert!(false, "unexpected {:?}", other),
                }
                for e in &events { state = evolve(state, e); }
                prop_assert_eq!(
                    decide(&state, Command::Refund { order_id: id }, now),
                    Err(DomainError::AlreadyRefunded(id))
                );
            }
        }
        let _ = log;
    }

    #[test]
    fn final_states_are_exclusive_and_only_a_refund_follows(s in steps()) {
        let (_, log) = run(&s);
        for i in 0..ORDERS {
            let id = order_id(i);
            let of: Vec<_> = log.iter().filter(|e| e.order_id() == Some(id)).collect();
            let finals: Vec<usize> = of.iter().enumerate().filter(|(_, e)| is_final(e)).map(|(i, _)| i).collect();
            prop_assert!(finals.len() <= 1, "{} final events for {}", finals.len(), id);
            if let Some(&f) = finals.first() {
                // A refund, or a fact about the registrar (its order id learned late),
                // which changes nothing about how the order ended, or the admin's one
                // choice about an order that completed at OpenSRS after it ended here.
                for later in &of[f + 1..] {
                    prop_assert!(
                        matches!(later, DomainEvent::Refunded(_) | DomainEvent::RegistrarOrderFound(_) | DomainEvent::LateCompletionSettled(_)),
                        "{:?} after the end", later
                    );
                }
                let late = of.iter().filter(|e| matches!(e, DomainEvent::LateCompletionSettled(_))).count();
                prop_assert!(late <= 1, "{} choices about {}", late, id);
                if late == 1 {
                    prop_assert!(!matches!(of[f], DomainEvent::Confirmed(_)), "a late choice about a confirmed order");
                }
            }
        }
    }

    #[test]
    fn an_order_handed_to_the_admin_never_times_out_until_its_deadline_is_reset(s in steps()) {
        let (_, log) = run(&s);
        for i in 0..ORDERS {
            let id = order_id(i);
            let mut escalated = false;
            for e in log.iter().filter(|e| e.order_id() == Some(id)) {
                match e {
                    DomainEvent::Escalated(_) => escalated = true,
                    DomainEvent::DeadlineReset(_) => escalated = false,
                    DomainEvent::TimedOut(_) => prop_assert!(!escalated, "{} timed out while with the admin", id),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn folding_a_then_b_equals_folding_b_onto_a(s in steps(), cut in any::<prop::sample::Index>()) {
        let (whole, log) = run(&s);
        let at = if log.is_empty() { 0 } else { cut.index(log.len() + 1) };
        let (a, b) = log.split_at(at);
        let left = a.iter().fold(Domain::default(), evolve);
        let both = b.iter().fold(left, evolve);
        prop_assert_eq!(&both, &Domain::replay(&log));
        prop_assert_eq!(both, whole);
    }

    #[test]
    fn every_event_survives_a_json_round_trip(s in steps()) {
        let (_, log) = run(&s);
        for event in &log {
            let bytes = event.encode();
            let back = DomainEvent::decode(event.event_type(), event.schema_version(), &bytes).unwrap();
            prop_assert_eq!(&back, event);
        }
    }

    #[test]
    fn money_is_conserved_per_account(s in steps()) {
        let (state, log) = run(&s);
        let mut net: BTreeMap<AccountId, i64> = BTreeMap::new();
        for e in &log {
            match e {
                DomainEvent::Charged(c) => *net.entry(c.account.clone()).or_default() += c.amount.minor,
                DomainEvent::Refunded(r) => *net.entry(r.account.clone()).or_default() -= r.amount.minor,
                DomainEvent::LateCompletionSettled(l) => {
                    if let event::LateChoice::ChargeAgain { amount } = l.choice {
                        *net.entry(l.account.clone()).or_default() += amount.minor;
                    }
                }
                _ => {}
            }
        }
        let mut kept: BTreeMap<AccountId, i64> = BTreeMap::new();
        for o in state.orders.values() {
            if let (Some(charge), None) = (o.charged, o.refunded) {
                *kept.entry(o.account.clone()).or_default() += charge.minor;
            }
            // A late completion charged again: once, at the order's price.
            if let Some(event::LateChoice::ChargeAgain { amount }) = o.late {
                prop_assert_eq!(amount, o.price);
                *kept.entry(o.account.clone()).or_default() += amount.minor;
            }
        }
        // A priced change (WHOIS privacy): its charge is kept unless it was refunded.
        for c in state.changes.values() {
            if let (Some((account, charge)), false) = (&c.charged, c.refunded) {
                *kept.entry(account.clone()).or_default() += charge.minor;
            }
        }
        net.retain(|_, v| *v != 0);
        kept.retain(|_, v| *v != 0);
        prop_assert_eq!(net, kept);
    }
}

/// Guards the properties above against vacuity: random sequences must reach every event type.
#[test]
fn the_generator_reaches_every_event_type() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..30_000 {
        let s = steps().new_tree(&mut runner).unwrap().current();
        for e in run(&s).1 {
            seen.insert(e.event_type());
        }
    }
    let all: std::collections::BTreeSet<_> = EVENT_TYPES.iter().map(|(t, _)| *t).collect();
    let missing: Vec<_> = all.difference(&seen).collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Any input, however hostile: the parser answers Ok or a clear error, never panics;
    /// whatever it accepts is canonical and parses back to itself.
    #[test]
    fn the_domain_name_parser_never_panics_and_accepts_only_canonical_names(
        input in prop_oneof![
            any::<String>(),
            "[a-zA-Z0-9.\\-]{0,80}",
            "(xn--)?[a-z0-9\\-]{1,20}\\.(com|de|co\\.uk|xn--p1ai)",
            "[\\p{Cyrillic}\\p{Latin}\\p{Greek}]{1,12}\\.com",
        ]
    ) {
        if let Ok(name) = DomainName::parse(&input) {
            let s = name.as_str();
            prop_assert!(s.len() <= 253);
            prop_assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'));
            prop_assert_eq!(DomainName::parse(s).map(|d| d.as_str().to_string()), Ok(s.to_string()));
        }
    }
}
