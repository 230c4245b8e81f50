//! The event vocabulary of a domain's stream, with stable type names and schema versions.
//!
//! Each event type is a struct; [`DomainEvent`] is their union. The store keeps the type
//! name and schema version beside the JSON payload, so a payload never needs a tag.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::change::{ChangeApplied, ChangeRefused, ChangeRequested, ChangeSubmitted};
use crate::{AccountId, DomainName, Money, OrderId, OrderKind, Period};

/// What OpenSRS said, kept verbatim for audits (code and text; never credentials).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrarAnswer {
    /// The `response_code`, when a reply arrived at all.
    pub code: Option<u16>,
    pub text: String,
    /// Content addresses (SHA-256) of the exchanges this answer sums up: the request
    /// sent (secrets and contact data redacted) and the reply body, kept beside the log
    /// (`domreg audit DOMAIN --evidence`). Absent in events written before evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

impl RegistrarAnswer {
    /// The longest text kept: a registrar's answer is evidence, not a payload to store whole.
    pub const MAX_TEXT: usize = 1_000;

    pub fn new(code: Option<u16>, text: impl Into<String>) -> Self {
        let mut text = text.into();
        if text.len() > Self::MAX_TEXT {
            let mut cut = Self::MAX_TEXT;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str(" [truncated]");
        }
        RegistrarAnswer {
            code,
            text,
            evidence: Vec::new(),
        }
    }

    /// `435 Request failed validation...`, or the text alone when no reply came.
    pub fn line(&self) -> String {
        match self.code {
            Some(code) => format!("{code} {}", self.text.trim()),
            None => self.text.trim().to_string(),
        }
    }

    /// Links the evidence of the exchanges behind this answer.
    pub fn with_evidence(mut self, hashes: impl IntoIterator<Item = String>) -> Self {
        self.evidence.extend(hashes);
        self
    }
}

/// Why an order is pending rather than done or rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingReason {
    /// An asynchronous registry (.de, .ca, .co.uk) will answer later (250).
    AsyncRegistry,
    /// OpenSRS queued the request (`queue_request_id`).
    Queued,
    /// A transfer has started and waits for the owner or the losing registry.
    TransferInProgress,
    /// The call was made but its answer was lost (timeout, dropped reply, 70x, crash).
    OutcomeLost,
    /// OpenSRS created the order but parked it (`forced_pending`) and did not confirm
    /// its cancellation: it must be cancelled there before any refund.
    Parked,
}

/// The result of one poll of a pending order that did not end it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum PollResult {
    /// OpenSRS answered: not done yet.
    StillPending { answer: RegistrarAnswer },
    /// The poll itself failed (network, rate limit, 70x): the order stays pending.
    TransientError { message: String },
}

/// An account asked for a registration, transfer or renewal, at this price, through this
/// OpenSRS connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requested {
    pub order_id: OrderId,
    pub domain: DomainName,
    pub account: AccountId,
    pub kind: OrderKind,
    pub period: Period,
    /// Title of the OpenSRS connection that serves this order; fixed for its whole life.
    pub connection: String,
    pub price: Money,
}

/// The registrant contacts and nameservers of a registration or transfer, recorded when
/// the order is accepted (personal data, not secrets: the registry publishes most of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDetailsRecorded {
    pub order_id: OrderId,
    pub contacts: Box<crate::ContactSet>,
    /// Empty: the connection's default nameservers.
    pub nameservers: Vec<String>,
}

/// The customer accepted the connection's license agreement for this order: which text
/// (its version, a SHA-256 of the text), who, and from where. Written with the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementAccepted {
    pub order_id: OrderId,
    pub account: AccountId,
    pub connection: String,
    /// Hex SHA-256 of the agreement's text as shown.
    pub version: String,
    /// The address the acceptance came from (the customer's browser or API client).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// The account was charged the price of the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charged {
    pub order_id: OrderId,
    pub account: AccountId,
    pub amount: Money,
}

/// The engine is about to send the order to OpenSRS. Written *before* the call: a
/// Submitted with no outcome means the call may have happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    pub order_id: OrderId,
    pub connection: String,
    /// The engine making the call and how long it owns it. Until then no other engine
    /// treats the submission as lost; absent in events written before leases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<Lease>,
}

/// Which engine owns a submission, and until when (its call timeout and a margin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub engine: String,
    pub until: DateTime<Utc>,
}

/// OpenSRS accepted the order but could not say yet, or its answer was lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownStatus {
    pub order_id: OrderId,
    pub reason: PendingReason,
    pub answer: Option<RegistrarAnswer>,
    /// OpenSRS's own order id, when the reply carried one.
    pub registrar_order_id: Option<String>,
    pub poll_every_secs: u64,
    pub deadline: DateTime<Utc>,
}

/// The engine asked OpenSRS about a pending order; it is still pending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Polled {
    pub order_id: OrderId,
    pub result: PollResult,
    pub next_poll_at: DateTime<Utc>,
}

/// The registry completed the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmed {
    pub order_id: OrderId,
    /// The domain's expiry as the registrar reports it after this order.
    pub expires_at: DateTime<Utc>,
    pub registrar_order_id: Option<String>,
    pub answer: RegistrarAnswer,
}

/// OpenSRS refused the order for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    pub order_id: OrderId,
    pub answer: RegistrarAnswer,
}

/// A pending order passed its deadline without completing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedOut {
    pub order_id: OrderId,
    pub deadline: DateTime<Utc>,
}

/// An admin cancelled the order (Async Manager "cancel").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancelled {
    pub order_id: OrderId,
    pub reason: String,
}

/// An admin restarted the wait of a pending order (Async Manager "reset").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineReset {
    pub order_id: OrderId,
    pub deadline: DateTime<Utc>,
}

/// OpenSRS's order id for this order became known after its outcome was recorded: a
/// late answer to the submission, or a search of the domain's orders at OpenSRS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrarOrderFound {
    pub order_id: OrderId,
    pub registrar_order_id: String,
    /// What OpenSRS said when it named the order (kept for the audit).
    pub answer: RegistrarAnswer,
}

/// The engine could not establish where a pending order stands at OpenSRS, so it will
/// not refund it on its own: the order waits for an admin (it is still polled, so a
/// completion is still recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalated {
    pub order_id: OrderId,
    pub reason: String,
}

/// The submission never reached OpenSRS (the connection was refused, or DNS or TLS
/// failed before anything was written): the order goes back to be sent again at
/// `retry_at`. A send that did not happen is not a send, so this is no second call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendFailed {
    pub order_id: OrderId,
    pub reason: String,
    pub retry_at: DateTime<Utc>,
}

/// An order whose answer was lost, and of which OpenSRS has no trace after its whole
/// wait while the name is still available, goes back to be sent once more (never a
/// second time): a decision recorded before the call, like the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resubmitted {
    pub order_id: OrderId,
    pub reason: String,
}

/// The charge of an order that did not complete went back to the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refunded {
    pub order_id: OrderId,
    pub account: AccountId,
    pub amount: Money,
}

/// The holder was warned that the domain expires on `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiryWarned {
    pub account: AccountId,
    pub expires_at: DateTime<Utc>,
    /// The automatic renewal due before then could not be paid at the warning: this much
    /// was missing. Absent when it could, when auto-renew is off, or in older events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_unpaid: Option<Money>,
}

/// The automatic renewal for `expires_at` was due but not sent: the account could not
/// pay it (`missing` short of its balance and credit limit). Recorded, and told to the
/// holder and the admin, once per expiry date; the renewal is placed on a later round
/// once the account can pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalUnpaid {
    pub account: AccountId,
    pub expires_at: DateTime<Utc>,
    pub price: Money,
    pub missing: Money,
}

/// Automatic renewal was switched on or off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoRenewSet {
    pub enabled: bool,
    /// Years each automatic renewal orders, for this domain; absent: the connection's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub years: Option<Period>,
}

/// The domain's transfer code was given out (never the code itself): shown to an admin
/// on request, or e-mailed by OpenSRS to the admin contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthCodeDisclosed {
    /// `shown` or `emailed to the admin contact`.
    pub how: String,
}

/// The domain passed its expiry date unrenewed; the holder is told once per date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiryPassed {
    pub account: AccountId,
    pub expires_at: DateTime<Utc>,
}

/// An event from OpenSRS's feed (EVENT POLL) about this domain, kept as OpenSRS sent it.
/// It is a hint, never the truth: what it says is re-read (GET DOMAIN, the order's
/// probe) before anything else is recorded. Its `event_id` makes it recorded once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrarReported {
    /// The connection whose feed it came from.
    pub connection: String,
    /// OpenSRS's id (32 hex characters).
    pub event_id: String,
    /// `DOMAIN`, `ORDER` or `TRANSFER`.
    pub object: String,
    /// `REGISTERED`, `RENEWED`, `DELETED`, `STATUS_CHANGE`, ...
    pub event: String,
    /// As OpenSRS gave it (ISO 8601).
    pub event_date: String,
    /// `object_data`, flattened to text.
    pub data: std::collections::BTreeMap<String, String>,
}

impl RegistrarReported {
    /// `DOMAIN DELETED` and the like.
    pub fn kind(&self) -> String {
        format!("{} {}", self.object, self.event)
    }
}

/// The domain is no longer in the reseller's account at OpenSRS (transferred away,
/// deleted, expired past redemption), as a reconciliation found and confirmed: nothing
/// is warned about or renewed any more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftAccount {
    pub connection: String,
    /// What OpenSRS answered when asked (BELONGS_TO_RSP).
    pub reason: String,
}

/// A domain registered before domreg (by H-Sphere, by hand) adopted from the account at
/// OpenSRS: from now on it is warned about, renewed and reconciled like any other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Imported {
    pub domain: DomainName,
    pub account: AccountId,
    pub connection: String,
    /// The registry's expiry as OpenSRS reported it at import.
    pub expires_at: DateTime<Utc>,
    pub auto_renew: bool,
    /// Where the mapping came from, e.g. `import mapping.csv line 7`.
    pub source: String,
}

/// The admin's choice about a late completion: an order that ended here without
/// completing (timed out, refused, cancelled, refunded) while OpenSRS registered the
/// domain to the reseller after all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "choice", rename_all = "snake_case")]
pub enum LateChoice {
    /// The customer gets the domain and is charged for it again.
    ChargeAgain { amount: Money },
    /// The customer is not charged; the domain stays in the reseller's account.
    LetGo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateCompletionSettled {
    pub order_id: OrderId,
    pub account: AccountId,
    pub choice: LateChoice,
    /// The registry's expiry when the choice was made (what a charge-again holds).
    pub expires_at: DateTime<Utc>,
    pub reason: String,
}

/// The registrar reported the domain's expiry (BELONGS_TO_RSP, GET DOMAIN), outside any order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpirySynced {
    pub expires_at: DateTime<Utc>,
    /// The command that reported it, e.g. `GET DOMAIN`.
    pub source: String,
}

/// Why a stored event could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown event type {event_type:?} (version {version}); this build knows: {known}")]
    UnknownType {
        event_type: String,
        version: u32,
        known: String,
    },
    #[error("event {event_type:?} has schema version {version}, newer than this build's {supported}; upgrade domreg")]
    FutureVersion {
        event_type: String,
        version: u32,
        supported: u32,
    },
    #[error("event {event_type:?} v{version} has no upcaster from that version")]
    NoUpcaster { event_type: String, version: u32 },
    #[error("event {event_type:?} v{version} is not valid JSON for its type: {source}")]
    Json {
        event_type: String,
        version: u32,
        source: serde_json::Error,
    },
}

event_union! {
    /// Every fact about a domain, in the order it happened.
    DomainEvent, EVENT_TYPES;
    Requested = 1,
    OrderDetailsRecorded = 1,
    Charged = 1,
    Submitted = 1,
    UnknownStatus = 1,
    Polled = 1,
    Confirmed = 1,
    Rejected = 1,
    TimedOut = 1,
    Cancelled = 1,
    DeadlineReset = 1,
    Refunded = 1,
    ExpiryWarned = 1,
    AutoRenewSet = 1,
    ExpiryPassed = 1,
    AuthCodeDisclosed = 1,
    ExpirySynced = 1,
    RegistrarOrderFound = 1,
    Escalated = 1,
    SendFailed = 1,
    RegistrarReported = 1,
    LeftAccount = 1,
    Resubmitted = 1,
    Imported = 1,
    LateCompletionSettled = 1,
    ChangeRequested = 1,
    ChangeSubmitted = 1,
    ChangeApplied = 1,
    ChangeRefused = 1,
    RenewalUnpaid = 1,
    AgreementAccepted = 1,
}

impl DomainEvent {
    /// The order this event belongs to; `None` for domain-level events.
    pub fn order_id(&self) -> Option<OrderId> {
        use DomainEvent::*;
        match self {
            Requested(e) => Some(e.order_id),
            OrderDetailsRecorded(e) => Some(e.order_id),
            AgreementAccepted(e) => Some(e.order_id),
            Charged(e) => Some(e.order_id),
            Submitted(e) => Some(e.order_id),
            UnknownStatus(e) => Some(e.order_id),
            Polled(e) => Some(e.order_id),
            Confirmed(e) => Some(e.order_id),
            Rejected(e) => Some(e.order_id),
            TimedOut(e) => Some(e.order_id),
            Cancelled(e) => Some(e.order_id),
            DeadlineReset(e) => Some(e.order_id),
            Refunded(e) => Some(e.order_id),
            RegistrarOrderFound(e) => Some(e.order_id),
            Escalated(e) => Some(e.order_id),
            SendFailed(e) => Some(e.order_id),
            Resubmitted(e) => Some(e.order_id),
            LateCompletionSettled(e) => Some(e.order_id),
            // A change is not an order; its id is its own (`change_id`).
            ChangeRequested(_) | ChangeSubmitted(_) | ChangeApplied(_) | ChangeRefused(_) => None,
            ExpiryWarned(_) | ExpiryPassed(_) | RenewalUnpaid(_) | AuthCodeDisclosed(_)
            | Imported(_) | AutoRenewSet(_) | ExpirySynced(_) | RegistrarReported(_)
            | LeftAccount(_) => None,
        }
    }
}

/// The stream that holds one domain's whole life.
pub fn domain_stream(domain: &DomainName) -> String {
    format!("domain-{}", domain.as_str())
}
