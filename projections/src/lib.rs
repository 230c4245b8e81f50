//! domreg's read models: state folded from the global event log, kept in SQLite for
//! queries, each with its checkpoint written in the same transaction as its rows.
//!
//! Models: the Async Manager (pending orders), the billing ledger (charges, refunds,
//! credits and balances), domains, the registrar configuration (connections, routing,
//! prices, policies), and the quarantine of unreadable events. Every model can be
//! rebuilt from zero; `ReadModels::dump` lets a fresh replay be compared with the stored models.

mod apply;
pub mod query;
mod refunds;
mod store;
mod work;

use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use domreg_events::AnyEvent;

pub use query::*;
pub use store::ReadModels;
pub use work::{DueOrder, Work};

/// A position in the log, `(commit, prepare)`, as the event store reports it.
pub type LogPosition = (u64, u64);

/// One recorded event as the models need it.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub position: LogPosition,
    pub stream: String,
    pub event_id: Uuid,
    pub at: DateTime<Utc>,
    pub event: AnyEvent,
}

/// The read models, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Model {
    AsyncManager,
    Ledger,
    Domains,
    Registrars,
    /// Events that could not be read or folded (see [`Quarantined`]).
    Quarantine,
}

/// A recorded event this build could not decode, or that a model could not fold (a
/// balance that would overflow, say). It is skipped by every model and listed, so one
/// bad event raises an alarm instead of stopping the system.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Quarantined {
    pub position: LogPosition,
    pub stream: String,
    pub event_id: Uuid,
    pub event_type: String,
    pub detail: String,
}

impl Model {
    pub const ALL: [Model; 5] = [
        Model::AsyncManager,
        Model::Ledger,
        Model::Domains,
        Model::Registrars,
        Model::Quarantine,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Model::AsyncManager => "async",
            Model::Ledger => "ledger",
            Model::Domains => "domains",
            Model::Registrars => "registrars",
            Model::Quarantine => "quarantine",
        }
    }

    pub fn parse(name: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The tables this model owns.
    pub fn tables(self) -> &'static [&'static str] {
        match self {
            Model::AsyncManager => &["am_orders", "am_pending", "am_finished"],
            Model::Ledger => &["ledger_entries", "ledger_balances"],
            Model::Domains => &["dm_orders", "dm_domains"],
            Model::Registrars => &[
                "rc_registrars",
                "rc_routes",
                "rc_prices",
                "rc_policies",
                "rc_contacts",
            ],
            Model::Quarantine => &["qt_events"],
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("read model storage: {0}")]
    Sql(rusqlite::Error),
    /// The read models' file could not be written: nothing of the batch was kept, and
    /// the models catch up from the log once there is room again.
    #[error("{what} ({source}); nothing of this write was kept in the read models: free space, then retry (they catch up from the log)")]
    Disk {
        what: &'static str,
        source: rusqlite::Error,
    },
    #[error("read model data: {0}")]
    Data(String),
    #[error("simulated crash between the model rows and the checkpoint")]
    SimulatedCrash,
}

/// Timestamps are stored in one fixed RFC 3339 form, so text order is time order.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>, ModelError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| ModelError::Data(format!("bad time {s:?}: {e}")))
}

/// The domain name of a `domain-<name>` stream.
pub(crate) fn stream_domain(stream: &str) -> Option<&str> {
    stream.strip_prefix("domain-")
}

impl From<rusqlite::Error> for ModelError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::*;
        let what = match &e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                DiskFull => Some("the disk is full"),
                SystemIoFailure => Some("the disk could not be written (is it full or failing?)"),
                ReadOnly => Some("the read models are read-only"),
                _ => None,
            },
            _ => None,
        };
        match what {
            Some(what) => ModelError::Disk { what, source: e },
            None => ModelError::Sql(e),
        }
    }
}
