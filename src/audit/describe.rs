//! What one event means, in words a support person can paste into a reply, and the money
//! it moved. Pure: the same event always reads the same.

use domreg_events::settings::SettingsEvent;
use domreg_events::{AccountId, AnyEvent, DomainEvent, Money, PollResult, RegistrarAnswer};

/// A change to an account's balance: negative for a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoneyDelta {
    pub account: AccountId,
    pub amount: Money,
}

/// The money an event moves, if any.
pub fn money_delta(event: &AnyEvent) -> Option<MoneyDelta> {
    match event {
        AnyEvent::Domain(DomainEvent::Charged(e)) => Some(MoneyDelta {
            account: e.account.clone(),
            amount: Money::new(e.amount.minor.checked_neg()?, e.amount.currency),
        }),
        AnyEvent::Domain(DomainEvent::Refunded(e)) => Some(MoneyDelta {
            account: e.account.clone(),
            amount: e.amount,
        }),
        AnyEvent::Settings(SettingsEvent::AccountCredited(e)) => Some(MoneyDelta {
            account: e.account.clone(),
            amount: e.amount,
        }),
        _ => None,
    }
}

/// The account an event is about, where it names one.
pub fn account_of(event: &AnyEvent) -> Option<&AccountId> {
    match event {
        AnyEvent::Domain(DomainEvent::Requested(e)) => Some(&e.account),
        AnyEvent::Domain(DomainEvent::Charged(e)) => Some(&e.account),
        AnyEvent::Domain(DomainEvent::Refunded(e)) => Some(&e.account),
        AnyEvent::Settings(SettingsEvent::AccountCredited(e)) => Some(&e.account),
        _ => None,
    }
}

/// The registrar's answer an event records.
pub fn answer_of(event: &AnyEvent) -> Option<RegistrarAnswer> {
    match event {
        AnyEvent::Domain(DomainEvent::UnknownStatus(e)) => e.answer.clone(),
        AnyEvent::Domain(DomainEvent::Polled(e)) => match &e.result {
            PollResult::StillPending { answer } => Some(answer.clone()),
            PollResult::TransientError { message } => Some(RegistrarAnswer::new(None, message)),
        },
        AnyEvent::Domain(DomainEvent::Confirmed(e)) => Some(e.answer.clone()),
        AnyEvent::Domain(DomainEvent::Rejected(e)) => Some(e.answer.clone()),
        AnyEvent::Domain(DomainEvent::ChangeApplied(e)) => Some(e.answer.clone()),
        AnyEvent::Domain(DomainEvent::ChangeRefused(e)) => Some(e.answer.clone()),
        AnyEvent::Domain(DomainEvent::RegistrarOrderFound(e)) => Some(e.answer.clone()),
        _ => None,
    }
}

fn day(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

fn minute(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn years(n: u8) -> String {
    if n == 1 {
        "1 year".into()
    } else {
        format!("{n} years")
    }
}

/// One line saying what happened.
pub fn describe(event: &AnyEvent) -> String {
    use DomainEvent as D;
    match event {
        AnyEvent::Domain(d) => match d {
            D::Requested(e) => format!(
                "{} of {} for {} ordered by account {} at {}, through OpenSRS connection {}",
                e.kind,
                e.domain,
                years(e.period.get()),
                e.account,
                e.price,
                e.connection
            ),
            D::AgreementAccepted(e) => format!(
                "account {} accepted the license agreement of connection {} (version {}){}",
                e.account,
                e.connection,
                &e.version[..e.version.len().min(16)],
                e.from
                    .as_ref()
                    .map(|f| format!(" from {f}"))
                    .unwrap_or_default()
            ),
            D::OrderDetailsRecorded(e) => format!(
                "registrant {} and {} recorded",
                owner_name(&e.contacts.owner),
                if e.nameservers.is_empty() {
                    "the connection's default nameservers".to_string()
                } else {
                    format!("nameservers {}", e.nameservers.join(", "))
                }
            ),
            D::Charged(e) => format!("account {} charged {}", e.account, e.amount),
            D::Submitted(e) => format!(
                "sent to OpenSRS (connection {}){}",
                e.connection,
                e.lease
                    .as_ref()
                    .map(|l| format!(
                        " by engine {} (owns the call until {})",
                        l.engine,
                        minute(&l.until)
                    ))
                    .unwrap_or_default()
            ),
            D::RegistrarOrderFound(e) => format!(
                "OpenSRS order {} identified: {}",
                e.registrar_order_id, e.answer.text
            ),
            D::Resubmitted(e) => format!("to be sent once more (never again after that): {}", e.reason),
            D::LeftAccount(e) => format!(
                "no longer in the account of connection {} at OpenSRS: {}; not warned about or renewed any more",
                e.connection, e.reason
            ),
            D::RegistrarReported(e) => format!(
                "OpenSRS reported {} (event {}, {}){}",
                e.kind(),
                e.event_id,
                e.event_date,
                e.data
                    .iter()
                    .filter(|(k, _)| k.as_str() != "domain_name")
                    .map(|(k, v)| format!(" {k}={v}"))
                    .collect::<String>()
            ),
            D::SendFailed(e) => format!(
                "never reached OpenSRS, so nothing was sent: {}; sent again at {}",
                e.reason,
                minute(&e.retry_at)
            ),
            D::Escalated(e) => format!(
                "handed to an admin, not refunded automatically: {}",
                e.reason
            ),
            D::UnknownStatus(e) => format!(
                "pending ({}){}; polled every {} until {}",
                reason_text(e.reason),
                e.registrar_order_id
                    .as_ref()
                    .map(|o| format!("; OpenSRS order {o}"))
                    .unwrap_or_default(),
                every(e.poll_every_secs),
                minute(&e.deadline)
            ),
            D::Polled(e) => match &e.result {
                PollResult::StillPending { .. } => {
                    format!(
                        "polled: still pending; next poll {}",
                        minute(&e.next_poll_at)
                    )
                }
                PollResult::TransientError { .. } => format!(
                    "poll failed (will retry); next poll {}",
                    minute(&e.next_poll_at)
                ),
            },
            D::Confirmed(e) => format!(
                "completed at the registry; the domain expires {}",
                day(&e.expires_at)
            ),
            D::Rejected(_) => "refused by the registrar".into(),
            D::TimedOut(e) => format!(
                "timed out: not completed by the deadline {}",
                minute(&e.deadline)
            ),
            D::Cancelled(e) => format!("cancelled ({})", e.reason),
            D::DeadlineReset(e) => format!("deadline reset to {}", minute(&e.deadline)),
            D::Refunded(e) => format!("{} refunded to account {}", e.amount, e.account),
            D::ExpiryWarned(e) => format!(
                "account {} warned that the domain expires {}{}",
                e.account,
                day(&e.expires_at),
                e.renewal_unpaid
                    .map(|m| format!(" (its automatic renewal cannot be paid: {m} missing)"))
                    .unwrap_or_default()
            ),
            D::AutoRenewSet(e) => format!(
                "automatic renewal switched {}{}",
                if e.enabled { "on" } else { "off" },
                e.years
                    .map(|y| format!(", {} at a time", years(y.get())))
                    .unwrap_or_default()
            ),
            D::AuthCodeDisclosed(e) => format!("transfer code given out: {}", e.how),
            D::RenewalUnpaid(e) => format!(
                "automatic renewal for {} not sent: account {} cannot pay {} ({} missing)",
                day(&e.expires_at),
                e.account,
                e.price,
                e.missing
            ),
            D::ExpiryPassed(e) => format!(
                "expired unrenewed on {}; account {} told",
                day(&e.expires_at),
                e.account
            ),
            D::Imported(e) => format!(
                "imported from the account of connection {} at OpenSRS for account {} ({}); expires {}, automatic renewal {}",
                e.connection,
                e.account,
                e.source,
                day(&e.expires_at),
                if e.auto_renew { "on" } else { "off" }
            ),
            D::LateCompletionSettled(e) => match &e.choice {
                domreg_events::event::LateChoice::ChargeAgain { amount } => format!(
                    "completed at OpenSRS after the order ended here: account {} charged {} again and holds the domain (expires {}; {})",
                    e.account, amount, day(&e.expires_at), e.reason
                ),
                domreg_events::event::LateChoice::LetGo => format!(
                    "completed at OpenSRS after the order ended here: let go, account {} not charged; the domain stays with the reseller ({})",
                    e.account, e.reason
                ),
            },
            D::ChangeRequested(e) => format!(
                "change {} asked: {} (connection {})",
                e.change_id,
                e.change.describe(),
                e.connection
            ),
            D::ChangeSubmitted(e) => format!(
                "change {} sent to OpenSRS by engine {} (owns the call until {})",
                e.change_id,
                e.lease.engine,
                minute(&e.lease.until)
            ),
            D::ChangeApplied(e) => format!("change {} applied at OpenSRS", e.change_id),
            D::ChangeRefused(e) => format!(
                "change {} not made: {}",
                e.change_id,
                e.answer.text.trim()
            ),
            D::ExpirySynced(e) => format!(
                "registrar reports expiry {} ({})",
                day(&e.expires_at),
                e.source
            ),
        },
        AnyEvent::Settings(SettingsEvent::AccountCredited(e)) => format!(
            "payment of {} received from account {}{}",
            e.amount,
            e.account,
            if e.note.is_empty() {
                String::new()
            } else {
                format!(" ({})", e.note)
            }
        ),
        AnyEvent::Settings(s) => format!("settings changed ({})", s.event_type()),
    }
}

/// `3600` → `1h`.
pub fn every(secs: u64) -> String {
    match secs {
        s if s % 86_400 == 0 && s > 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 && s > 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 && s > 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn reason_text(reason: domreg_events::PendingReason) -> &'static str {
    use domreg_events::PendingReason::*;
    match reason {
        AsyncRegistry => "the registry answers later",
        Queued => "queued at OpenSRS",
        TransferInProgress => "transfer in progress",
        OutcomeLost => "the answer was lost; the engine asks OpenSRS",
        Parked => "parked at OpenSRS (forced_pending); cancelled there before any refund",
    }
}

fn owner_name(c: &domreg_events::Contact) -> String {
    let name = format!("{} {}", c.first_name, c.last_name);
    if c.org_name.is_empty() {
        name
    } else {
        format!("{name} ({})", c.org_name)
    }
}
