//! Folding the read models: incremental folds in random chunks equal a rebuild from zero,
//! the ledger agrees with the domain model's money conservation, and a crash between the
//! rows and the checkpoint leaves nothing half-written.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use domreg_events::settings::AccountCredited;
use domreg_events::*;
use domreg_projections::{Envelope, Model, ModelError, PendingQuery, ReadModels};
use proptest::prelude::*;
use uuid::Uuid;

const DOMAINS: [&str; 3] = ["alpha.com", "beta.de", "gamma.co.uk"];
const ACCOUNTS: [&str; 2] = ["alice", "bob"];

#[derive(Debug, Clone)]
enum Step {
    Order {
        domain: usize,
        order: u8,
        account: usize,
        kind: u8,
    },
    Charge(usize, u8),
    Submit(usize, u8),
    Confirm(usize, u8),
    Pend(usize, u8),
    Poll(usize, u8),
    Reject(usize, u8),
    Cancel(usize, u8),
    TimeOut(usize, u8),
    Refund(usize, u8),
    Credit {
        account: usize,
        cents: i64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let d = 0..DOMAINS.len();
    let o = 0u8..3;
    prop_oneof![
        (d.clone(), o.clone(), 0..ACCOUNTS.len(), 0u8..3).prop_map(
            |(domain, order, account, kind)| Step::Order {
                domain,
                order,
                account,
                kind
            }
        ),
        (d.clone(), o.clone()).prop_map(|(d, o)| Step::Charge(d, o)),
        (d.clone(), o.clone()).prop_map(|(d, o)| Step::Submit(d, o)),
        (d.clone(), o.clone()).prop_map(|(d, o)| Step::Confirm(d, o)),
        (d.clone(), o.clone()).prop_map(|(d, o)| Step::Pend(d, o)),
        (d.clone(), o.clone()).prop_map(|(d, o)| Step::Poll(d, o)),
        (d.clone(), o.clone()).prop_map(|(d, o)| Step::Reject(d, o)),
        (d.clone(), o.clone()).prop_map(|(d, o)| Step::Cancel(d, o)),
        (d.clone(), o.clone()).prop_map(|(d, o)| Step::TimeOut(d, o)),
        (d, o).prop_map(|(d, o)| Step::Refund(d, o)),
        (0..ACCOUNTS.len(), 1i64..10_000)
            .prop_map(|(account, cents)| Step::Credit { account, cents }),
    ]
}

fn oid(d: usize, o: u8) -> OrderId {
    OrderId(Uuid::from_u128((d as u128) << 8 | u128::from(o)))
}

/// Runs the steps through the real decider and returns the log as envelopes.
fn log(steps: &[Step]) -> (Vec<Envelope>, BTreeMap<String, Domain>) {
    let mut states: BTreeMap<String, Domain> = BTreeMap::new();
    let mut out = Vec::new();
    let mut now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    for step in steps {
        now += Duration::minutes(37);
        let (stream, events): (String, Vec<AnyEvent>) = match step {
            Step::Credit { account, cents } => {
                let account = AccountId::parse(ACCOUNTS[*account]).unwrap();
                let e = AccountCredited {
                    account: account.clone(),
                    amount: Money::new(*cents, Currency::USD),
                    note: "payment".into(),
                };
                (
                    format!("account-{account}"),
                    vec![AnyEvent::Settings(e.into())],
                )
            }
            other => {
                let (d, command) = command(other, now);
                let name = DOMAINS[d].to_string();
                let state = states.entry(name.clone()).or_default();
                let Ok(events) = decide(state, command, now) else {
                    continue;
                };
                for e in &events {
                    *state = evolve(std::mem::take(state), e);
                }
                (
                    format!("domain-{name}"),
                    events.into_iter().map(AnyEvent::Domain).collect(),
                )
            }
        };
        for event in events {
            let n = out.len() as u64 + 1;
            out.push(Envelope {
                position: (n, n),
                stream: stream.clone(),
                event_id: Uuid::from_u128(n as u128),
                at: now,
                event,
            });
        }
    }
    (out, states)
}

fn command(step: &Step, now: DateTime<Utc>) -> (usize, Command) {
    let answer = |code| RegistrarAnswer::new(Some(code), "answer");
    match *step {
        Step::Order {
            domain,
            order,
            account,
            kind,
        } => (
            domain,
            Command::Request {
                order_id: oid(domain, order),
                domain: DomainName::parse(DOMAINS[domain]).unwrap(),
                account: AccountId::parse(ACCOUNTS[account]).unwrap(),
                kind: [OrderKind::Register, OrderKind::Transfer, OrderKind::Renew][kind as usize],
                period: Period::ONE_YEAR,
                connection: "main".into(),
                price: Money::new(1299, Currency::USD),
            },
        ),
        Step::Charge(d, o) => (
            d,
            Command::RecordCharge {
                order_id: oid(d, o),
            },
        ),
        Step::Submit(d, o) => (
            d,
            Command::RecordSubmission {
                order_id: oid(d, o),
                lease: None,
            },
        ),
        Step::Confirm(d, o) => (
            d,
            Command::RecordOutcome {
                order_id: oid(d, o),
                outcome: Outcome::Confirmed {
                    expires_at: now + Duration::days(365),
                    registrar_order_id: None,
                    answer: answer(200),
                },
            },
        ),
        Step::Pend(d, o) => (
            d,
            Command::RecordOutcome {
                order_id: oid(d, o),
                outcome: Outcome::Unknown {
                    reason: PendingReason::AsyncRegistry,
                    answer: Some(answer(250)),
                    registrar_order_id: Some("77".into()),
                    poll_every: Duration::hours(1),
                    deadline: now + Duration::hours(5),
                },
            },
        ),
        Step::Poll(d, o) => (
            d,
            Command::RecordPoll {
                order_id: oid(d, o),
                result: PollResult::StillPending {
                    answer: answer(200),
                },
                next_poll_at: now + Duration::hours(1),
            },
        ),
        Step::Reject(d, o) => (
            d,
            Command::RecordOutcome {
                order_id: oid(d, o),
                outcome: Outcome::Rejected {
                    answer: answer(485),
                },
            },
        ),
        Step::Cancel(d, o) => (
            d,
            Command::Cancel {
                order_id: oid(d, o),
                reason: "admin".into(),
            },
        ),
        Step::TimeOut(d, o) => (
            d,
            Command::TimeOut {
                order_id: oid(d, o),
            },
        ),
        Step::Refund(d, o) => (
            d,
            Command::Refund {
                order_id: oid(d, o),
            },
        ),
        Step::Credit { .. } => unreachable!(),
    }
}

fn dump_all(m: &ReadModels) -> Vec<BTreeMap<String, Vec<String>>> {
    Model::ALL
        .iter()
        .map(|model| m.dump(*model).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn folding_in_random_chunks_equals_a_rebuild(steps in prop::collection::vec(step(), 0..120), cuts in prop::collection::vec(1usize..15, 1..40)) {
        let (events, _) = log(&steps);
        let mut whole = ReadModels::open_in_memory().unwrap();
        whole.apply_batch(&events).unwrap();
        let mut chunked = ReadModels::open_in_memory().unwrap();
        let mut rest = &events[..];
        let mut cut = cuts.iter().cycle();
        while !rest.is_empty() {
            let n = (*cut.next().unwrap()).min(rest.len());
            chunked.apply_batch(&rest[..n]).unwrap();
            // Re-delivering what was applied changes nothing.
            chunked.apply_batch(&rest[..n]).unwrap();
            rest = &rest[n..];
        }
        prop_assert_eq!(dump_all(&whole), dump_all(&chunked));
    }

    #[test]
    fn ledger_balances_agree_with_money_conservation(steps in prop::collection::vec(step(), 0..150)) {
        let (events, states) = log(&steps);
        let mut models = ReadModels::open_in_memory().unwrap();
        models.apply_batch(&events).unwrap();
        let mut expected: BTreeMap<String, i64> = BTreeMap::new();
        for e in &events {
            if let AnyEvent::Settings(SettingsEvent::AccountCredited(c)) = &e.event {
                *expected.entry(c.account.to_string()).or_default() += c.amount.minor;
            }
        }
        // What the domain model says each account still pays: charges of orders not refunded.
        for state in states.values() {
            for o in state.orders.values() {
                if let (Some(charge), None) = (o.charged, o.refunded) {
                    *expected.entry(o.account.to_string()).or_default() -= charge.minor;
                }
            }
        }
        let mut got: BTreeMap<String, i64> = models.balances().unwrap().into_iter().map(|b| (b.account, b.balance.minor)).collect();
        got.retain(|_, v| *v != 0);
        expected.retain(|_, v| *v != 0);
        prop_assert_eq!(got, expected);
        // Each entry's running balance is the sum of the account's entries so far.
        let mut running: BTreeMap<String, i64> = BTreeMap::new();
        for entry in models.ledger(None, usize::MAX >> 1).unwrap() {
            let r = running.entry(entry.account.clone()).or_default();
            *r += entry.amount.minor;
            prop_assert_eq!(*r, entry.balance_after.minor);
        }
        // The Async Manager lists exactly the orders the domain model has pending.
        let pending: usize = states.values().map(|s| s.orders.values().filter(|o| o.stage == Stage::Pending).count()).sum();
        prop_assert_eq!(models.pending_count().unwrap() as usize, pending);
    }
}

#[test]
fn a_crash_between_rows_and_checkpoint_leaves_the_models_as_they_were() {
    let steps = vec![
        Step::Order {
            domain: 1,
            order: 0,
            account: 0,
            kind: 0,
        },
        Step::Charge(1, 0),
        Step::Submit(1, 0),
        Step::Pend(1, 0),
        Step::Credit {
            account: 0,
            cents: 5000,
        },
    ];
    let (events, _) = log(&steps);
    let mut models = ReadModels::open_in_memory().unwrap();
    models.apply_batch(&events[..2]).unwrap();
    let before = dump_all(&models);
    let checkpoint = models.checkpoint(Model::Ledger).unwrap();
    models.crash_before_checkpoint = true;
    assert!(matches!(
        models.apply_batch(&events[2..]),
        Err(ModelError::SimulatedCrash)
    ));
    assert_eq!(
        dump_all(&models),
        before,
        "no row of the failed batch remains"
    );
    assert_eq!(models.checkpoint(Model::Ledger).unwrap(), checkpoint);
    models.crash_before_checkpoint = false;
    models.apply_batch(&events[2..]).unwrap();
    let mut fresh = ReadModels::open_in_memory().unwrap();
    fresh.apply_batch(&events).unwrap();
    assert_eq!(dump_all(&models), dump_all(&fresh));
    let pending = models.pending_orders(&PendingQuery::default()).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (
            pending[0].domain.as_str(),
            pending[0].polls,
            pending[0].account.as_str()
        ),
        ("beta.de", 0, "alice")
    );
}

#[test]
fn a_model_can_be_rebuilt_alone() {
    let steps = vec![
        Step::Order {
            domain: 0,
            order: 0,
            account: 1,
            kind: 0,
        },
        Step::Charge(0, 0),
        Step::Submit(0, 0),
        Step::Confirm(0, 0),
    ];
    let (events, _) = log(&steps);
    let mut models = ReadModels::open_in_memory().unwrap();
    models.apply_batch(&events).unwrap();
    let before = dump_all(&models);
    models.reset(Model::Domains).unwrap();
    assert!(models.domains(None, 10).unwrap().is_empty());
    assert_eq!(models.checkpoint(Model::Domains).unwrap(), None);
    assert_eq!(models.lowest_checkpoint().unwrap(), None);
    models.apply_batch(&events).unwrap();
    assert_eq!(dump_all(&models), before);
    let d = &models.domains(None, 10).unwrap()[0];
    assert_eq!(
        (d.name.as_str(), d.status.as_str(), d.account.as_str()),
        ("alpha.com", "registered", "bob")
    );
}

/// Several processes catch up the same models file at once (the CLI, the API and the
/// engine all do): every event is folded exactly once.
#[test]
fn concurrent_catch_ups_on_one_file_fold_each_event_once() {
    let mut steps = Vec::new();
    for d in 0..DOMAINS.len() {
        steps.push(Step::Order {
            domain: d,
            order: 0,
            account: d % ACCOUNTS.len(),
            kind: 0,
        });
        steps.push(Step::Charge(d, 0));
    }
    for i in 0..60 {
        steps.push(Step::Credit {
            account: i % ACCOUNTS.len(),
            cents: 100 + i as i64,
        });
    }
    let (events, _) = log(&steps);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("readmodels.db");
    drop(ReadModels::open(&path).unwrap());
    let events = std::sync::Arc::new(events);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (events, path) = (events.clone(), path.clone());
            std::thread::spawn(move || {
                let mut models = ReadModels::open(&path).unwrap();
                // Each "process" folds the same log in small batches, as catch-up does.
                for chunk in events.chunks(3) {
                    models.apply_batch(chunk).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let models = ReadModels::open(&path).unwrap();
    let mut fresh = ReadModels::open_in_memory().unwrap();
    fresh.apply_batch(&events).unwrap();
    assert_eq!(dump_all(&models), dump_all(&fresh));
}

/// The funds decision asks for a balance and which orders are charged: a charge folded by
/// another connection while it asks is in both answers or in neither.
#[test]
fn a_balance_and_its_charged_orders_are_one_moment_of_the_ledger() {
    let steps = vec![
        Step::Credit {
            account: 0,
            cents: 5000,
        },
        Step::Order {
            domain: 0,
            order: 0,
            account: 0,
            kind: 0,
        },
        Step::Charge(0, 0),
    ];
    let (events, _) = log(&steps);
    let charge_at = events
        .iter()
        .position(|e| matches!(e.event, AnyEvent::Domain(DomainEvent::Charged(_))))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("readmodels.db");
    let mut folder = ReadModels::open(&path).unwrap();
    folder.apply_batch(&events[..charge_at]).unwrap();
    let asker = ReadModels::open(&path).unwrap();
    let order = oid(0, 0).to_string();
    // The charge is folded after the balance is read and before the order is asked about.
    let mut folder = Some(folder);
    let orders = std::iter::once(()).map(|()| {
        if let Some(mut f) = folder.take() {
            f.apply_batch(&events[charge_at..]).unwrap();
        }
        order.as_str()
    });
    let (balance, charged) = asker
        .balance_and_charged("alice", Currency::USD, orders)
        .unwrap();
    assert_eq!(balance.minor, 5000, "the balance before the charge");
    assert!(charged.is_empty(), "so the order is not charged either");
    let (balance, charged) = asker
        .balance_and_charged("alice", Currency::USD, [order.as_str()])
        .unwrap();
    assert!(
        balance.minor < 5000 && charged.contains(&order),
        "{balance:?}"
    );
}
