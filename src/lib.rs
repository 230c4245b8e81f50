//! domreg: an event-sourced engine that registers, transfers and renews domains through
//! OpenSRS for hosting providers.
//!
//! The pure domain model lives in `domreg-events`, the read models in
//! `domreg-projections`; this crate holds the edges: the event stores, the CLI and the
//! benchmarks.

pub mod admin;
pub mod app;
pub mod audit;
pub mod bench;
pub mod cli;
pub mod clock;
pub mod demo;
pub mod engine;
pub mod hex;
pub mod http;
pub mod lock;
pub mod metrics;
pub mod migrate;
pub mod notify;
pub mod opensrs;
pub mod secrets;
pub mod serve;
pub mod store;
pub mod surface;
pub mod unit_of_work;
pub mod web;
