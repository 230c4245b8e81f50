//! domreg's read models: state folded from the global event log for queries.
//!
//! Every model is a pure fold (`apply(&mut self, position, &event)`); storage and
//! checkpoints are the caller's. Dependencies point one way: this crate knows the events,
//! never the stores or the engine.

pub mod balances;

pub use balances::Balances;
