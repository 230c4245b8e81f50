//! What can be asked of a domain (`Command`), what the registrar answered (`Outcome`), and
//! why the decider refuses (`DomainError`).

use chrono::{DateTime, Duration, Utc};

use crate::domain::End;
use crate::event::*;
use crate::{AccountId, DomainName, Money, OrderId, OrderKind, Period};

/// What the registrar said about a submitted order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Confirmed {
        expires_at: DateTime<Utc>,
        registrar_order_id: Option<String>,
        answer: RegistrarAnswer,
    },
    Unknown {
        reason: PendingReason,
        answer: Option<RegistrarAnswer>,
        registrar_order_id: Option<String>,
        poll_every: Duration,
        deadline: DateTime<Utc>,
    },
    Rejected {
        answer: RegistrarAnswer,
    },
}

/// Everything that can be asked of a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Request {
        order_id: OrderId,
        domain: DomainName,
        account: AccountId,
        kind: OrderKind,
        period: Period,
        connection: String,
        price: Money,
    },
    /// Record the contacts and nameservers of an accepted registration or transfer.
    RecordDetails {
        order_id: OrderId,
        contacts: Box<crate::ContactSet>,
        nameservers: Vec<String>,
    },
    /// Charge the order's price to its account.
    RecordCharge {
        order_id: OrderId,
    },
    RecordSubmission {
        order_id: OrderId,
        /// The submitting engine's lease (none in tests that model a bare submission).
        lease: Option<Lease>,
    },
    /// Record OpenSRS's order id learned after the outcome (a late answer, a search).
    RecordRegistrarOrder {
        order_id: OrderId,
        registrar_order_id: String,
        answer: RegistrarAnswer,
    },
    /// Hand a pending order whose state at OpenSRS cannot be established to an admin.
    Escalate {
        order_id: OrderId,
        reason: String,
    },
    RecordOutcome {
        order_id: OrderId,
        outcome: Outcome,
    },
    /// Send once more an order of which OpenSRS has no trace (at most once).
    Resubmit {
        order_id: OrderId,
        reason: String,
    },
    /// The submission provably never reached OpenSRS: send it again at `retry_at`.
    RecordSendFailure {
        order_id: OrderId,
        reason: String,
        retry_at: DateTime<Utc>,
    },
    RecordPoll {
        order_id: OrderId,
        result: PollResult,
        next_poll_at: DateTime<Utc>,
    },
    TimeOut {
        order_id: OrderId,
    },
    Cancel {
        order_id: OrderId,
        reason: String,
    },
    ResetDeadline {
        order_id: OrderId,
        deadline: DateTime<Utc>,
    },
    /// Give back the charge of an order that ended without completing.
    Refund {
        order_id: OrderId,
    },
    SetAutoRenew {
        enabled: bool,
        /// Years per automatic renewal for this domain (`None`: the connection's).
        years: Option<Period>,
    },
    /// Tell the holder the domain passed its expiry unrenewed (once per date).
    RecordExpiryPassed,
    /// Record that the transfer code was given out (`how`), never the code.
    RecordAuthCodeDisclosed {
        how: String,
    },
    RecordExpiryWarning {
        expires_at: DateTime<Utc>,
        /// What the account lacked for the automatic renewal, if it could not pay it.
        renewal_unpaid: Option<Money>,
    },
    /// The customer accepted the agreement (its version) for an order just requested.
    RecordAcceptance {
        order_id: OrderId,
        version: String,
        from: Option<String>,
    },
    /// The automatic renewal is due and the account cannot pay it (once per date).
    RecordRenewalUnpaid {
        price: Money,
        missing: Money,
    },
    SyncExpiry {
        expires_at: DateTime<Utc>,
        source: String,
    },
    /// Record that the domain left the reseller's account at OpenSRS.
    RecordLeftAccount {
        connection: String,
        reason: String,
    },
    /// Keep an event of OpenSRS's feed about this domain (once per event id).
    RecordRegistrarEvent(Box<RegistrarReported>),
    /// Adopt a domain of the account at OpenSRS that domreg never ordered.
    Import(Box<Imported>),
    /// Ask for a change of a registered domain (nameservers, lock).
    RequestChange {
        change_id: OrderId,
        change: crate::change::DomainChange,
        /// Charged to the holder with the request (a priced change); refunded if refused.
        price: Option<Money>,
    },
    RecordChangeSubmission {
        change_id: OrderId,
        lease: Lease,
    },
    RecordChangeOutcome {
        change_id: OrderId,
        applied: bool,
        answer: RegistrarAnswer,
    },
    /// The admin's choice about an order that completed at OpenSRS after it ended here.
    SettleLateCompletion {
        order_id: OrderId,
        charge_again: bool,
        expires_at: DateTime<Utc>,
        reason: String,
    },
}

/// Why a command was refused. Each names the order or domain and the state that forbids it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("order {0} already exists")]
    OrderExists(OrderId),
    #[error("no order {0} on this domain")]
    UnknownOrder(OrderId),
    #[error("{domain} has an open {kind} order {order}; wait for it to end or cancel it")]
    OrderInProgress {
        domain: String,
        order: OrderId,
        kind: OrderKind,
    },
    #[error("{0} is already registered")]
    AlreadyRegistered(String),
    #[error("{0} is not registered here, so it cannot be renewed")]
    NotRegistered(String),
    #[error("{domain} is held by account {holder}, not {account}")]
    WrongAccount {
        domain: String,
        holder: AccountId,
        account: AccountId,
    },
    #[error("a transfer runs for exactly 1 year, not {0}")]
    TransferPeriod(Period),
    #[error("the price must be more than zero, not {0}")]
    NonPositivePrice(Money),
    #[error("the price {0} is more than the most domreg charges for one order (100000000000.00)")]
    PriceTooLarge(Money),
    #[error("a command names domain {command} but this stream holds {stream}")]
    WrongDomain { stream: String, command: String },
    #[error("connection title must not be empty")]
    NoConnection,
    #[error("order {0} is already charged")]
    AlreadyCharged(OrderId),
    #[error("order {0} was never charged, so there is nothing to refund")]
    NotCharged(OrderId),
    #[error("order {0} is already refunded")]
    AlreadyRefunded(OrderId),
    #[error("order {order} cannot be {action}: it is {stage}")]
    WrongStage {
        order: OrderId,
        action: &'static str,
        stage: String,
    },
    #[error(
        "order {order} ended {end}; only a refund may follow an end, and {end} is not refundable"
    )]
    NotRefundable { order: OrderId, end: End },
    #[error("order {order} waits until {deadline}; it cannot time out at {now}")]
    DeadlineNotReached {
        order: OrderId,
        deadline: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    #[error("order {order} waits for an admin ({reason}); it does not time out on its own: check it, reset its deadline or cancel it")]
    Escalated { order: OrderId, reason: String },
    #[error("order {order} could not reach OpenSRS; it is sent again at {at}, not before")]
    RetryNotDue { order: OrderId, at: DateTime<Utc> },
    #[error("order {0} was already sent once more; it is not sent a third time")]
    AlreadyResubmitted(OrderId),
    #[error("a new deadline must lie in the future, not at {0}")]
    DeadlineInPast(DateTime<Utc>),
    #[error("the holder was already warned about the expiry on {0}")]
    AlreadyWarned(DateTime<Utc>),
    #[error("the poll interval must be positive")]
    BadPollInterval,
    #[error("order {0} already has its details")]
    DetailsRecorded(OrderId),
    #[error(
        "{domain} is already held by account {holder}; an import may not give it to {account}"
    )]
    HeldByAnother {
        domain: String,
        holder: AccountId,
        account: AccountId,
    },
    #[error("{domain} has a change in progress ({what}, {change}); wait for it to end")]
    ChangeInProgress {
        domain: String,
        change: OrderId,
        what: String,
    },
    #[error("change {change} cannot be sent: {why}")]
    ChangeNotOpen { change: OrderId, why: String },
    #[error("{0}")]
    BadChange(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("changing the registrant of {0} starts ICANN's 60-day lock on transfers to another registrar; confirm with transfer_lock \"accept\" (--accept-transfer-lock) or record that the registrant opted out with \"opt_out\" (--opt-out-of-transfer-lock)")]
    TransferLockChoice(String),
    #[error("{domain} expired on {expired} and its registry's renewal grace period ended on {grace_ended}: it can no longer be renewed, only restored (REDEEM)")]
    RestoreNeeded {
        domain: String,
        expired: chrono::NaiveDate,
        grace_ended: chrono::NaiveDate,
    },
    #[error("order {order} is not a late completion: {why}")]
    NotLate { order: OrderId, why: String },
    #[error(transparent)]
    Contact(#[from] crate::ContactError),
}
