//! A given / when / then harness for the decider and the process manager's policy: a
//! rule in three lines.
//!
//! ```ignore
//! given([requested(1, Register), charged(1)])
//!     .when(Command::RecordCharge { order_id: oid(1) })
//!     .then_refused(DomainError::AlreadyCharged(oid(1)));
//! ```
//!
//! `when` decides the command and every command its events call for (`decide_all`, what
//! the engine's unit of work appends), so a rule and its consequences read together.
#![allow(dead_code, unused_imports)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use domreg_events::event::*;
use domreg_events::policy::{after_poll, PollReport};
use domreg_events::*;
use uuid::Uuid;

pub use OrderKind::{Register, Renew, Transfer};

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}
pub fn oid(n: u128) -> OrderId {
    OrderId(Uuid::from_u128(n))
}
pub fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}
pub fn alice() -> AccountId {
    AccountId::parse("alice").unwrap()
}
pub fn name() -> DomainName {
    DomainName::parse("example.de").unwrap()
}

/// The history of one domain, the moment and the connection's settings.
pub struct Given {
    events: Vec<DomainEvent>,
    now: DateTime<Utc>,
    policy: Policy,
}

pub fn given(events: impl IntoIterator<Item = DomainEvent>) -> Given {
    Given {
        events: events.into_iter().collect(),
        now: now(),
        policy: Policy::default(),
    }
}

impl Given {
    pub fn at(mut self, now: DateTime<Utc>) -> Self {
        self.now = now;
        self
    }
    pub fn auto_renew_default(mut self) -> Self {
        self.policy.auto_renew_default = true;
        self
    }
    pub fn state(&self) -> Domain {
        Domain::replay(&self.events)
    }
    pub fn when(&self, command: Command) -> Then {
        self.when_all(vec![command])
    }
    pub fn when_all(&self, commands: Vec<Command>) -> Then {
        let state = self.state();
        Then {
            result: decide_all(&state, commands, &self.policy, self.now),
            state,
        }
    }
    /// The engine polled the order and found `report`.
    pub fn when_polled(&self, order: u128, report: PollReport) -> Then {
        self.when_all(after_poll(&self.state(), oid(order), &report, self.now))
    }
}

pub struct Then {
    pub result: Result<Vec<DomainEvent>, DomainError>,
    state: Domain,
}

impl Then {
    #[track_caller]
    pub fn then(self, expected: impl IntoIterator<Item = DomainEvent>) -> Domain {
        let expected: Vec<_> = expected.into_iter().collect();
        assert_eq!(self.result, Ok(expected.clone()));
        expected.iter().fold(self.state, evolve)
    }
    /// The event types recorded, in order.
    #[track_caller]
    pub fn then_types(self, expected: &[&str]) -> Domain {
        let events = self.result.expect("the command was refused");
        let types: Vec<_> = events.iter().map(|e| e.event_type()).collect();
        assert_eq!(types, expected);
        events.iter().fold(self.state, evolve)
    }
    #[track_caller]
    pub fn then_nothing(self) {
        assert_eq!(self.result, Ok(vec![]));
    }
    #[track_caller]
    pub fn then_refused(self, expected: DomainError) {
        assert_eq!(self.result, Err(expected));
    }
    #[track_caller]
    pub fn then_refused_as(self, is: impl Fn(&DomainError) -> bool) {
        match &self.result {
            Err(e) if is(e) => {}
            other => panic!("expected a refusal of that kind, got {other:?}"),
        }
    }
}

pub fn requested(n: u128, kind: OrderKind) -> DomainEvent {
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
pub fn charged(n: u128) -> DomainEvent {
    Charged {
        order_id: oid(n),
        account: alice(),
        amount: usd(1299),
    }
    .into()
}
pub fn submitted(n: u128) -> DomainEvent {
    Submitted {
        order_id: oid(n),
        connection: "main".into(),
        lease: None,
    }
    .into()
}
pub fn pending(n: u128, deadline: DateTime<Utc>) -> DomainEvent {
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
/// Pending with OpenSRS's order id unknown (the answer was lost).
pub fn pending_lost(n: u128, deadline: DateTime<Utc>) -> DomainEvent {
    UnknownStatus {
        order_id: oid(n),
        reason: PendingReason::OutcomeLost,
        answer: None,
        registrar_order_id: None,
        poll_every_secs: 3600,
        deadline,
    }
    .into()
}
pub fn confirmed(n: u128) -> DomainEvent {
    Confirmed {
        order_id: oid(n),
        expires_at: now() + Duration::days(365),
        registrar_order_id: None,
        answer: RegistrarAnswer::new(Some(200), "ok"),
    }
    .into()
}
pub fn rejected(n: u128) -> DomainEvent {
    Rejected {
        order_id: oid(n),
        answer: RegistrarAnswer::new(Some(485), "Domain taken"),
    }
    .into()
}
pub fn escalated(n: u128) -> DomainEvent {
    Escalated {
        order_id: oid(n),
        reason: "OpenSRS did not answer".into(),
    }
    .into()
}
pub fn refunded(n: u128) -> DomainEvent {
    Refunded {
        order_id: oid(n),
        account: alice(),
        amount: usd(1299),
    }
    .into()
}
pub fn send_failed(n: u128) -> DomainEvent {
    SendFailed {
        order_id: oid(n),
        reason: "connection refused".into(),
        retry_at: now() + Duration::minutes(1),
    }
    .into()
}
pub fn auto_renew_on() -> DomainEvent {
    AutoRenewSet {
        enabled: true,
        years: None,
    }
    .into()
}
/// A registration, charged and sent.
pub fn sent(n: u128) -> [DomainEvent; 3] {
    [requested(n, Register), charged(n), submitted(n)]
}
/// A registration pending at the registry until `deadline`.
pub fn pending_until(n: u128, deadline: DateTime<Utc>) -> [DomainEvent; 4] {
    [
        requested(n, Register),
        charged(n),
        submitted(n),
        pending(n, deadline),
    ]
}
/// A registered domain (order `n` confirmed).
pub fn registered(n: u128) -> [DomainEvent; 4] {
    [
        requested(n, Register),
        charged(n),
        submitted(n),
        confirmed(n),
    ]
}
pub fn request(n: u128, kind: OrderKind) -> Command {
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
