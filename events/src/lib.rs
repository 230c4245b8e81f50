//! domreg's domain model: domain names, money, the event vocabulary and the `Domain`
//! aggregate as a pure decider.
//!
//! Invariants of this crate: no I/O, no async, no clock reads (`now` is always a
//! parameter), no floating point near money.

pub mod decide;
pub mod domain;
pub mod domain_name;
pub mod event;
pub mod ids;
pub mod metadata;
pub mod money;
pub mod upcast;

pub use decide::{decide, Command, DomainError, Outcome};
pub use domain::{evolve, Domain, End, Order, Stage};
pub use domain_name::{DomainName, DomainNameError};
pub use event::{
    domain_stream, DecodeError, DomainEvent, PendingReason, PollResult, RegistrarAnswer,
    EVENT_TYPES,
};
pub use ids::{AccountId, Actor, IdError, OrderId, OrderKind, Period};
pub use metadata::EventMetadata;
pub use money::{Currency, Money, MoneyError};
