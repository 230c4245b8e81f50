//! OpenSRS: the OPS XML codec, typed commands and replies, the reply classification, the
//! signing HTTPS client, and an OpenSRS-compatible sandbox server.

pub mod classify;
pub mod client;
pub mod codec;
pub mod command;
pub mod evidence;
pub mod feed;
pub mod listing;
pub mod manage;
pub mod reply;
pub mod sandbox;
pub mod signature;
mod transport;
pub mod value;

pub use classify::{classify, Class, Classification, PendingKind};
pub use client::{secret_arg, Client, ConnectionSettings, Exchange, Secret};
pub use command::{Command, CommandKind, RegType, SwRegister};
pub use domreg_events::{Contact, ContactSet};
pub use manage::ManageCommand;
pub use reply::{Reply, TransportError};
pub use value::Value;
