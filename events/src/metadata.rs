//! Who and what caused an event: kept beside every event so an audit can explain it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Actor;

/// Metadata recorded with each event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    pub actor: Actor,
    /// Shared by every event that one request or one engine step caused.
    pub correlation_id: Uuid,
    /// The event (or request) that directly caused this one.
    pub causation_id: Option<Uuid>,
    /// When the fact happened, by the engine's clock (a controlled clock in tests).
    pub at: DateTime<Utc>,
}

impl EventMetadata {
    pub fn new(actor: Actor, correlation_id: Uuid, at: DateTime<Utc>) -> Self {
        EventMetadata {
            actor,
            correlation_id,
            causation_id: None,
            at,
        }
    }

    pub fn caused_by(mut self, cause: Uuid) -> Self {
        self.causation_id = Some(cause);
        self
    }
}
