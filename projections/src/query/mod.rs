//! The read models' queries, each served by an index, one file per model.

mod access;
mod domains;
mod ledger;
mod orders;
mod registrars;

use domreg_events::settings::PriceKind;
use domreg_events::{Currency, Money};

use crate::ModelError;

pub use access::*;
pub use domains::*;
pub use ledger::*;
pub use orders::*;
pub use registrars::*;

fn money(minor: i64, currency: &str) -> Result<Money, ModelError> {
    Currency::parse(currency)
        .map(|c| Money::new(minor, c))
        .map_err(|e| ModelError::Data(e.to_string()))
}

fn kind_of(s: &str) -> Result<PriceKind, ModelError> {
    PriceKind::ALL
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| ModelError::Data(format!("bad price kind {s:?}")))
}
