//! What an admin can do, as typed operations: the CLI and the HTTP API both call these,
//! so the two give the same answers for the same data.

pub mod access;
pub mod auth_code;
pub mod bulk;
pub mod changes;
mod error;
mod gauges;
pub mod hosts;
pub mod late;
pub mod lenient;
pub mod orders;
pub mod settings;
pub mod storefront;

pub use error::AdminError;
pub use gauges::gauges;
