//! domreg's domain model: domain names, money, the event vocabulary and the `Domain`
//! aggregate as a pure decider.
//!
//! Invariants of this crate: no I/O, no async, no clock reads (`now` is always a
//! parameter), no floating point near money.

#[macro_use]
mod union;

pub mod adopt;
pub mod calendar;
pub mod capabilities;
pub mod change;
pub mod command;
pub mod contact;
pub mod deadline;
pub mod decide;
pub mod domain;
pub mod domain_name;
pub mod event;
pub mod expiry;
pub mod funds;
pub mod ids;
pub mod metadata;
pub mod money;
pub mod policy;
pub mod settings;
pub mod upcast;

pub use contact::{Contact, ContactError, ContactRole, ContactSet};
pub use decide::{decide, Command, DomainError, Outcome};
pub use domain::{evolve, Domain, End, Order, Stage};
pub use domain_name::{DomainName, DomainNameError};
pub use event::{
    domain_stream, DecodeError, DomainEvent, Lease, PendingReason, PollResult, RegistrarAnswer,
    EVENT_TYPES,
};
pub use ids::{AccountId, Actor, IdError, OrderId, OrderKind, Period};
pub use metadata::EventMetadata;
pub use money::{Currency, Money, MoneyError};
pub use policy::{decide_all, react, Policy};
pub use settings::{SettingsEvent, SETTINGS_EVENT_TYPES};

/// Any event of the log: a domain's or a setting's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyEvent {
    Domain(DomainEvent),
    Settings(SettingsEvent),
}

impl AnyEvent {
    /// Decodes by type name (the two vocabularies share no names).
    pub fn decode(event_type: &str, version: u32, data: &[u8]) -> Result<Self, DecodeError> {
        if SETTINGS_EVENT_TYPES.iter().any(|(t, _)| *t == event_type) {
            SettingsEvent::decode(event_type, version, data).map(AnyEvent::Settings)
        } else {
            DomainEvent::decode(event_type, version, data).map(AnyEvent::Domain)
        }
    }
}
