//! `decide`: the rules of the `Domain` aggregate. A pure function of state, command and `now`.

use chrono::{DateTime, Utc};

use crate::domain::{Domain, Stage};
use crate::event::*;
use crate::{OrderId, OrderKind, Period};

pub use crate::command::{Command, DomainError, Outcome};

/// Decides what happens when `command` meets `state` at `now`.
///
/// Returns the events to append (possibly none when the command changes nothing, as with
/// switching auto-renew to its current value), or the reason the command is refused.
/// Never reads a clock or performs I/O.
pub fn decide(
    state: &Domain,
    command: Command,
    now: DateTime<Utc>,
) -> Result<Vec<DomainEvent>, DomainError> {
    match command {
        Command::Request {
            order_id,
            domain,
            account,
            kind,
            period,
            connection,
            price,
        } => {
            if state.orders.contains_key(&order_id) {
                return Err(DomainError::OrderExists(order_id));
            }
            if let Some(stream) = &state.name {
                if *stream != domain {
                    return Err(DomainError::WrongDomain {
                        stream: stream.to_string(),
                        command: domain.to_string(),
                    });
                }
            }
            if connection.trim().is_empty() {
                return Err(DomainError::NoConnection);
            }
            if !price.is_positive() {
                return Err(DomainError::NonPositivePrice(price));
            }
            if price.bounded().is_err() {
                return Err(DomainError::PriceTooLarge(price));
            }
            if let Some(open) = state.open_order() {
                return Err(DomainError::OrderInProgress {
                    domain: domain.to_string(),
                    order: open.id,
                    kind: open.kind,
                });
            }
            match kind {
                OrderKind::Register | OrderKind::Transfer => {
                    if state.is_registered() {
                        return Err(DomainError::AlreadyRegistered(domain.to_string()));
                    }
                    if kind == OrderKind::Transfer && period != Period::ONE_YEAR {
                        return Err(DomainError::TransferPeriod(period));
                    }
                }
                OrderKind::Renew => match &state.holder {
                    None => return Err(DomainError::NotRegistered(domain.to_string())),
                    Some(holder) if *holder != account => {
                        return Err(DomainError::WrongAccount {
                            domain: domain.to_string(),
                            holder: holder.clone(),
                            account,
                        })
                    }
                    Some(_) => crate::expiry::renewable(state, now)?,
                },
            }
            Ok(vec![Requested {
                order_id,
                domain,
                account,
                kind,
                period,
                connection,
                price,
            }
            .into()])
        }
        Command::RecordAcceptance {
            order_id,
            version,
            from,
        } => {
            let order = order(state, order_id)?;
            expect_stage(
                order_id,
                order.stage,
                Stage::Accepted,
                "accepted an agreement",
            )?;
            if order.agreement.is_some() {
                return Ok(vec![]);
            }
            Ok(vec![AgreementAccepted {
                order_id,
                account: order.account.clone(),
                connection: order.connection.clone(),
                version,
                from,
            }
            .into()])
        }
        Command::RecordDetails {
            order_id,
            contacts,
            nameservers,
        } => {
            let order = order(state, order_id)?;
            expect_stage(order_id, order.stage, Stage::Accepted, "given details")?;
            if order.contacts.is_some() {
                return Err(DomainError::DetailsRecorded(order_id));
            }
            contacts.validate()?;
            Ok(vec![OrderDetailsRecorded {
                order_id,
                contacts,
                nameservers,
            }
            .into()])
        }
        Command::RecordCharge { order_id } => {
            let order = order(state, order_id)?;
            if order.charged.is_some() {
                return Err(DomainError::AlreadyCharged(order_id));
            }
            expect_stage(order_id, order.stage, Stage::Accepted, "charged")?;
            Ok(vec![Charged {
                order_id,
                account: order.account.clone(),
                amount: order.price,
            }
            .into()])
        }
        Command::RecordSubmission { order_id, lease } => {
            let order = order(state, order_id)?;
            expect_stage(order_id, order.stage, Stage::Accepted, "submitted")?;
            if order.charged.is_none() {
                return Err(DomainError::NotCharged(order_id));
            }
            if let Some(at) = order.retry_at.filter(|at| now < *at) {
                return Err(DomainError::RetryNotDue {
                    order: order_id,
                    at,
                });
            }
            Ok(vec![Submitted {
                order_id,
                connection: order.connection.clone(),
                lease,
            }
            .into()])
        }
        Command::RecordRegistrarOrder {
            order_id,
            registrar_order_id,
            answer,
        } => {
            // A fact about the registrar, kept whatever the order's stage: an id learned
            // after a refund is what lets an admin find the registration that went through.
            let order = order(state, order_id)?;
            if registrar_order_id.trim().is_empty()
                || order.registrar_order_id.as_deref() == Some(registrar_order_id.as_str())
            {
                return Ok(vec![]);
            }
            Ok(vec![RegistrarOrderFound {
                order_id,
                registrar_order_id,
                answer,
            }
            .into()])
        }
        Command::Escalate { order_id, reason } => {
            let order = order(state, order_id)?;
            expect_stage(order_id, order.stage, Stage::Pending, "handed to an admin")?;
            if order.escalated.is_some() {
                return Ok(vec![]);
            }
            Ok(vec![Escalated { order_id, reason }.into()])
        }
        Command::RecordOutcome { order_id, outcome } => {
            let order = order(state, order_id)?;
            match outcome {
                Outcome::Confirmed {
                    expires_at,
                    registrar_order_id,
                    answer,
                } => {
                    expect_open_after_submission(order_id, order.stage, "confirmed")?;
                    Ok(vec![Confirmed {
                        order_id,
                        expires_at,
                        registrar_order_id,
                        answer,
                    }
                    .into()])
                }
                Outcome::Rejected { answer } => {
                    expect_open_after_submission(order_id, order.stage, "rejected")?;
                    Ok(vec![Rejected { order_id, answer }.into()])
                }
                Outcome::Unknown {
                    reason,
                    answer,
                    registrar_order_id,
                    poll_every,
                    deadline,
                } => {
                    expect_stage(order_id, order.stage, Stage::Submitted, "made pending")?;
                    let poll_every_secs = u64::try_from(poll_every.num_seconds())
                        .ok()
                        .filter(|s| *s > 0)
                        .ok_or(DomainError::BadPollInterval)?;
                    Ok(vec![UnknownStatus {
                        order_id,
                        reason,
                        answer,
                        registrar_order_id,
                        poll_every_secs,
                        deadline,
                    }
                    .into()])
                }
            }
        }
        Command::Resubmit { order_id, reason } => {
            let order = order(state, order_id)?;
            expect_stage(order_id, order.stage, Stage::Pending, "sent once more")?;
            if order.resubmitted {
                return Err(DomainError::AlreadyResubmitted(order_id));
            }
            if order.registrar_order_id.is_some() {
                return Err(wrong_stage(
                    order_id,
                    order.stage,
                    "sent once more: OpenSRS has an order for it",
                ));
            }
            Ok(vec![Resubmitted { order_id, reason }.into()])
        }
        Command::RecordSendFailure {
            order_id,
            reason,
            retry_at,
        } => {
            let order = order(state, order_id)?;
            expect_stage(order_id, order.stage, Stage::Submitted, "sent again")?;
            Ok(vec![SendFailed {
                order_id,
                reason,
                retry_at,
            }
            .into()])
        }
        Command::RecordPoll {
            order_id,
            result,
            next_poll_at,
        } => {
            let order = order(state, order_id)?;
            expect_stage(order_id, order.stage, Stage::Pending, "polled")?;
            Ok(vec![Polled {
                order_id,
                result,
                next_poll_at,
            }
            .into()])
        }
        Command::TimeOut { order_id } => {
            let order = order(state, order_id)?;
            expect_stage(order_id, order.stage, Stage::Pending, "timed out")?;
            if let Some(reason) = &order.escalated {
                return Err(DomainError::Escalated {
                    order: order_id,
                    reason: reason.clone(),
                });
            }
            let deadline = order.deadline.unwrap_or(now);
            if now < deadline {
                return Err(DomainError::DeadlineNotReached {
                    order: order_id,
                    deadline,
                    now,
                });
            }
            Ok(vec![TimedOut { order_id, deadline }.into()])
        }
        Command::Cancel { order_id, reason } => {
            let order = order(state, order_id)?;
            // A Submitted order may already exist at the registry: it must first be made
            // pending (outcome lost) and can then be cancelled like any pending order.
            match order.stage {
                Stage::Accepted | Stage::Pending => Ok(vec![Cancelled { order_id, reason }.into()]),
                stage => Err(wrong_stage(order_id, stage, "cancelled")),
            }
        }
        Command::ResetDeadline { order_id, deadline } => {
            let order = order(state, order_id)?;
            expect_stage(order_id, order.stage, Stage::Pending, "reset")?;
            if deadline <= now {
                return Err(DomainError::DeadlineInPast(deadline));
            }
            Ok(vec![DeadlineReset { order_id, deadline }.into()])
        }
        Command::Refund { order_id } => {
            let order = order(state, order_id)?;
            let end = match order.stage {
                Stage::Ended(end) => end,
                stage => return Err(wrong_stage(order_id, stage, "refunded")),
            };
            if !end.is_refundable() {
                return Err(DomainError::NotRefundable {
                    order: order_id,
                    end,
                });
            }
            let amount = order.charged.ok_or(DomainError::NotCharged(order_id))?;
            if order.refunded.is_some() {
                return Err(DomainError::AlreadyRefunded(order_id));
            }
            Ok(vec![Refunded {
                order_id,
                account: order.account.clone(),
                amount,
            }
            .into()])
        }
        Command::SetAutoRenew { enabled, years } => {
            registered_name(state)?;
            if state.auto_renew == enabled && state.auto_renew_years == years {
                return Ok(vec![]);
            }
            Ok(vec![AutoRenewSet { enabled, years }.into()])
        }
        Command::RecordAuthCodeDisclosed { how } => {
            registered_name(state)?;
            if state.gone.is_some() {
                return Err(DomainError::NotRegistered(registered_name(state)?));
            }
            Ok(vec![AuthCodeDisclosed { how }.into()])
        }
        Command::RecordExpiryPassed => {
            let holder = state.holder.clone().ok_or_else(|| {
                DomainError::NotRegistered(registered_name(state).unwrap_or_default())
            })?;
            match state.expires_at {
                Some(t) if now >= t && state.gone.is_none() => {
                    if state.expired_noticed_for.contains(&t) {
                        return Ok(vec![]);
                    }
                    Ok(vec![ExpiryPassed {
                        account: holder,
                        expires_at: t,
                    }
                    .into()])
                }
                _ => Ok(vec![]),
            }
        }
        Command::RecordRenewalUnpaid { price, missing } => {
            let holder = state.holder.clone().ok_or_else(|| {
                DomainError::NotRegistered(registered_name(state).unwrap_or_default())
            })?;
            match state.expires_at {
                Some(t) if !state.unpaid_noticed_for.contains(&t) && state.gone.is_none() => {
                    Ok(vec![RenewalUnpaid {
                        account: holder,
                        expires_at: t,
                        price,
                        missing,
                    }
                    .into()])
                }
                _ => Ok(vec![]),
            }
        }
        Command::RecordExpiryWarning {
            expires_at,
            renewal_unpaid,
        } => {
            let holder = state.holder.clone().ok_or_else(|| {
                DomainError::NotRegistered(registered_name(state).unwrap_or_default())
            })?;
            if state.warned_for.contains(&expires_at) {
                return Err(DomainError::AlreadyWarned(expires_at));
            }
            Ok(vec![ExpiryWarned {
                account: holder,
                expires_at,
                renewal_unpaid,
            }
            .into()])
        }
        Command::SyncExpiry { expires_at, source } => {
            registered_name(state)?;
            if state.expires_at == Some(expires_at) {
                return Ok(vec![]);
            }
            Ok(vec![ExpirySynced { expires_at, source }.into()])
        }
        Command::RecordLeftAccount { connection, reason } => {
            registered_name(state)?;
            if state.gone.is_some() {
                return Ok(vec![]);
            }
            Ok(vec![LeftAccount { connection, reason }.into()])
        }
        Command::Import(i) => crate::adopt::import(state, *i),
        Command::RequestChange {
            change_id,
            change,
            price,
        } => crate::change::request(state, change_id, change, price),
        Command::RecordChangeSubmission { change_id, lease } => {
            crate::change::submit(state, change_id, lease)
        }
        Command::RecordChangeOutcome {
            change_id,
            applied,
            answer,
        } => crate::change::outcome(state, change_id, applied, answer),
        Command::SettleLateCompletion {
            order_id,
            charge_again,
            expires_at,
            reason,
        } => crate::adopt::settle_late(state, order_id, charge_again, expires_at, reason),
        Command::RecordRegistrarEvent(e) => {
            if state.registrar_events.contains(&e.event_id) {
                return Ok(vec![]);
            }
            if let (Some(stream), Some(named)) = (&state.name, e.data.get("domain_name")) {
                if !stream.as_str().eq_ignore_ascii_case(named.trim()) {
                    return Err(DomainError::WrongDomain {
                        stream: stream.to_string(),
                        command: named.clone(),
                    });
                }
            }
            Ok(vec![(*e).into()])
        }
    }
}

fn order(state: &Domain, id: OrderId) -> Result<&crate::domain::Order, DomainError> {
    state.orders.get(&id).ok_or(DomainError::UnknownOrder(id))
}

fn registered_name(state: &Domain) -> Result<String, DomainError> {
    let name = state
        .name
        .as_ref()
        .map(|n| n.to_string())
        .unwrap_or_default();
    if state.is_registered() {
        Ok(name)
    } else {
        Err(DomainError::NotRegistered(name))
    }
}

fn stage_name(stage: Stage) -> String {
    match stage {
        Stage::Accepted => "accepted, not yet submitted".into(),
        Stage::Submitted => "submitted, outcome not yet recorded".into(),
        Stage::Pending => "pending at the registry".into(),
        Stage::Ended(end) => format!("ended {end}"),
    }
}

fn wrong_stage(order: OrderId, stage: Stage, action: &'static str) -> DomainError {
    DomainError::WrongStage {
        order,
        action,
        stage: stage_name(stage),
    }
}

fn expect_stage(
    order: OrderId,
    stage: Stage,
    expected: Stage,
    action: &'static str,
) -> Result<(), DomainError> {
    if stage == expected {
        Ok(())
    } else {
        Err(wrong_stage(order, stage, action))
    }
}

fn expect_open_after_submission(
    order: OrderId,
    stage: Stage,
    action: &'static str,
) -> Result<(), DomainError> {
    match stage {
        Stage::Submitted | Stage::Pending => Ok(()),
        other => Err(wrong_stage(order, other, action)),
    }
}
