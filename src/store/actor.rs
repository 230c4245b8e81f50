//! How an event's actor is stored by the SQL stores.

use domreg_events::{AccountId, Actor};

/// Actors are stored as `engine`, `admin:<name>` or `customer:<account>`.
pub(crate) fn actor_column(actor: &Actor) -> String {
    match actor {
        Actor::Engine => "engine".into(),
        Actor::Admin(name) => format!("admin:{name}"),
        Actor::Customer(account) => format!("customer:{account}"),
    }
}

pub(crate) fn parse_actor(s: &str) -> Option<Actor> {
    match s.split_once(':') {
        None if s == "engine" => Some(Actor::Engine),
        Some(("admin", name)) => Some(Actor::Admin(name.to_string())),
        Some(("customer", account)) => AccountId::parse(account).ok().map(Actor::Customer),
        _ => None,
    }
}
