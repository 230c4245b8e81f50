//! How each model folds one event. Pure SQL on the open transaction; no I/O besides it.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

use domreg_events::event::*;
use domreg_events::settings::*;
use domreg_events::{AnyEvent, DomainEvent, End, OrderKind, SettingsEvent, Stage};

use crate::{stream_domain, ts, Envelope, Model, ModelError};

pub(crate) fn apply(model: Model, tx: &Transaction<'_>, e: &Envelope) -> Result<(), ModelError> {
    match model {
        Model::AsyncManager => async_manager(tx, e),
        Model::Ledger => ledger(tx, e),
        Model::Domains => domains(tx, e),
        Model::Registrars => registrars(tx, e),
        // Only events that could not be folded reach this model (`ReadModels::apply_page`).
        Model::Quarantine => Ok(()),
    }
}

fn tld_of(domain: &str) -> String {
    domreg_events::DomainName::parse(domain)
        .map(|d| d.tld().to_string())
        .unwrap_or_default()
}

fn answer_text(a: &RegistrarAnswer) -> String {
    match a.code {
        Some(code) => format!("{code} {}", a.text.trim()),
        None => a.text.trim().to_string(),
    }
}

fn set_stage(
    tx: &Transaction<'_>,
    order: &domreg_events::OrderId,
    stage: &str,
) -> Result<(), ModelError> {
    tx.prepare_cached("UPDATE am_orders SET stage = ?2 WHERE order_id = ?1")?
        .execute(params![order.to_string(), stage])?;
    Ok(())
}

fn async_manager(tx: &Transaction<'_>, e: &Envelope) -> Result<(), ModelError> {
    let AnyEvent::Domain(event) = &e.event else {
        return Ok(());
    };
    match event {
        DomainEvent::Requested(r) => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO am_orders VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'accepted', NULL, NULL)",
            )?
            .execute(params![
                r.order_id.to_string(),
                r.domain.as_str(),
                r.domain.tld(),
                r.account.as_str(),
                r.kind.as_str(),
                r.connection,
                ts(e.at)
            ])?;
        }
        DomainEvent::Charged(c) => set_stage(tx, &c.order_id, "charged")?,
        DomainEvent::Submitted(s) => {
            tx.prepare_cached(
                "UPDATE am_orders SET stage = 'submitted', lease_until = ?2 WHERE order_id = ?1",
            )?
            .execute(params![
                s.order_id.to_string(),
                s.lease.as_ref().map(|l| ts(l.until))
            ])?;
        }
        DomainEvent::Resubmitted(r) => {
            tx.prepare_cached(
                "UPDATE am_orders SET stage = 'charged', lease_until = NULL, retry_at = NULL WHERE order_id = ?1",
            )?
            .execute([r.order_id.to_string()])?;
            tx.prepare_cached("DELETE FROM am_pending WHERE order_id = ?1")?
                .execute([r.order_id.to_string()])?;
        }
        DomainEvent::SendFailed(f) => {
            tx.prepare_cached(
                "UPDATE am_orders SET stage = 'charged', lease_until = NULL, retry_at = ?2 WHERE order_id = ?1",
            )?
            .execute(params![f.order_id.to_string(), ts(f.retry_at)])?;
        }
        DomainEvent::UnknownStatus(u) => {
            set_stage(tx, &u.order_id, "pending")?;
            let next_poll = e.at
                + chrono::Duration::seconds(
                    i64::try_from(u.poll_every_secs).unwrap_or(i64::MAX / 2),
                );
            tx.prepare_cached(
                "INSERT OR REPLACE INTO am_pending
                 SELECT order_id, domain, tld, account, kind, connection, requested_at, ?2, ?3, ?4, 0, ?5, ?6, ?7, ?8, NULL
                 FROM am_orders WHERE order_id = ?1",
            )?
            .execute(params![
                u.order_id.to_string(),
                ts(e.at),
                serde_json::to_value(u.reason).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
                u.registrar_order_id,
                u.answer.as_ref().map(answer_text),
                u.poll_every_secs as i64,
                ts(next_poll),
                ts(u.deadline),
            ])?;
        }
        DomainEvent::Polled(p) => {
            let answer = match &p.result {
                PollResult::StillPending { answer } => answer_text(answer),
                PollResult::TransientError { message } => format!("error: {message}"),
            };
            tx.prepare_cached(
                "UPDATE am_pending SET polls = polls + 1, last_answer = ?2, next_poll_at = ?3 WHERE order_id = ?1",
            )?
            .execute(params![p.order_id.to_string(), answer, ts(p.next_poll_at)])?;
        }
        DomainEvent::Refunded(r) => {
            tx.prepare_cached(
                "UPDATE am_finished SET refunded_minor = ?2, currency = ?3 WHERE order_id = ?1",
            )?
            .execute(params![
                r.order_id.to_string(),
                r.amount.minor,
                r.amount.currency.code()
            ])?;
        }
        DomainEvent::RegistrarOrderFound(f) => {
            tx.prepare_cached("UPDATE am_pending SET registrar_order_id = ?2 WHERE order_id = ?1")?
                .execute(params![f.order_id.to_string(), f.registrar_order_id])?;
        }
        DomainEvent::Escalated(x) => {
            tx.prepare_cached("UPDATE am_pending SET escalated = ?2 WHERE order_id = ?1")?
                .execute(params![x.order_id.to_string(), x.reason])?;
        }
        DomainEvent::DeadlineReset(d) => {
            tx.prepare_cached(
                "UPDATE am_pending SET deadline = ?2, next_poll_at = ?3, escalated = NULL WHERE order_id = ?1",
            )?
            .execute(params![d.order_id.to_string(), ts(d.deadline), ts(e.at)])?;
        }
        DomainEvent::Confirmed(Confirmed { order_id, .. })
        | DomainEvent::Rejected(Rejected { order_id, .. })
        | DomainEvent::TimedOut(TimedOut { order_id, .. })
        | DomainEvent::Cancelled(Cancelled { order_id, .. }) => {
            let id = order_id.to_string();
            let (ending, answer) = match event {
                DomainEvent::Confirmed(c) => (End::Confirmed, Some(answer_text(&c.answer))),
                DomainEvent::Rejected(r) => (End::Rejected, Some(answer_text(&r.answer))),
                DomainEvent::TimedOut(_) => (End::TimedOut, None),
                _ => (End::Cancelled, None),
            };
            let ending = ending.as_str();
            tx.prepare_cached(
                "INSERT OR REPLACE INTO am_finished
                 SELECT o.order_id, o.domain, o.tld, o.account, o.kind, o.connection, o.requested_at,
                        ?2, ?3, COALESCE(?4, p.last_answer), NULL, NULL
                 FROM am_orders o LEFT JOIN am_pending p ON p.order_id = o.order_id
                 WHERE o.order_id = ?1",
            )?
            .execute(params![id, ts(e.at), ending, answer])?;
            tx.prepare_cached("DELETE FROM am_pending WHERE order_id = ?1")?
                .execute([&id])?;
            tx.prepare_cached("DELETE FROM am_orders WHERE order_id = ?1")?
                .execute([&id])?;
        }
        _ => {}
    }
    Ok(())
}

/// One money movement of an account.
struct Movement<'a> {
    account: &'a str,
    kind: &'static str,
    signed_minor: i64,
    currency: &'a str,
    order: Option<String>,
    note: &'a str,
}

fn ledger_entry(tx: &Transaction<'_>, e: &Envelope, m: Movement<'_>) -> Result<(), ModelError> {
    let Movement {
        account,
        kind,
        signed_minor,
        currency,
        order,
        note,
    } = m;
    let current: i64 = tx
        .prepare_cached(
            "SELECT balance_minor FROM ledger_balances WHERE account = ?1 AND currency = ?2",
        )?
        .query_row(params![account, currency], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let balance = current
        .checked_add(signed_minor)
        .ok_or_else(|| ModelError::Data(format!("balance of {account} overflows")))?;
    tx.prepare_cached("INSERT OR REPLACE INTO ledger_balances VALUES (?1, ?2, ?3)")?
        .execute(params![account, currency, balance])?;
    tx.prepare_cached("INSERT OR REPLACE INTO ledger_entries VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")?
        .execute(params![
            e.position.0 as i64,
            e.position.1 as i64,
            e.event_id.to_string(),
            account,
            kind,
            signed_minor,
            currency,
            order,
            stream_domain(&e.stream),
            note,
            ts(e.at),
            balance
        ])?;
    Ok(())
}

/// Balances are what the account has paid in minus what it was charged: credits add,
/// charges subtract, refunds add back.
fn ledger(tx: &Transaction<'_>, e: &Envelope) -> Result<(), ModelError> {
    match &e.event {
        AnyEvent::Domain(DomainEvent::Charged(c)) => ledger_entry(
            tx,
            e,
            Movement {
                account: c.account.as_str(),
                kind: "charge",
                signed_minor: -c.amount.minor,
                currency: c.amount.currency.code(),
                order: Some(c.order_id.to_string()),
                note: "",
            },
        ),
        AnyEvent::Domain(DomainEvent::Refunded(r)) => ledger_entry(
            tx,
            e,
            Movement {
                account: r.account.as_str(),
                kind: "refund",
                signed_minor: r.amount.minor,
                currency: r.amount.currency.code(),
                order: Some(r.order_id.to_string()),
                note: "",
            },
        ),
        AnyEvent::Domain(DomainEvent::LateCompletionSettled(LateCompletionSettled {
            order_id,
            account,
            choice: LateChoice::ChargeAgain { amount },
            ..
        })) => ledger_entry(
            tx,
            e,
            Movement {
                account: account.as_str(),
                kind: "charge",
                signed_minor: -amount.minor,
                currency: amount.currency.code(),
                order: Some(order_id.to_string()),
                note: "late completion: charged again",
            },
        ),
        AnyEvent::Settings(SettingsEvent::AccountCredited(c)) => ledger_entry(
            tx,
            e,
            Movement {
                account: c.account.as_str(),
                kind: "credit",
                signed_minor: c.amount.minor,
                currency: c.amount.currency.code(),
                order: None,
                note: &c.note,
            },
        ),
        _ => Ok(()),
    }
}

fn domains(tx: &Transaction<'_>, e: &Envelope) -> Result<(), ModelError> {
    let AnyEvent::Domain(event) = &e.event else {
        return Ok(());
    };
    let Some(name) = stream_domain(&e.stream) else {
        return Ok(());
    };
    let order_of =
        |id: &domreg_events::OrderId| -> Result<Option<(String, String, String)>, ModelError> {
            Ok(tx
                .prepare_cached(
                    "SELECT account, kind, connection FROM dm_orders WHERE order_id = ?1",
                )?
                .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?)
        };
    let state = match event {
        DomainEvent::Submitted(_) => Some(Stage::Submitted.as_str()),
        DomainEvent::SendFailed(_) | DomainEvent::Resubmitted(_) => Some(Stage::Accepted.as_str()),
        DomainEvent::UnknownStatus(_) => Some(Stage::Pending.as_str()),
        DomainEvent::Confirmed(_) => Some(End::Confirmed.as_str()),
        DomainEvent::Rejected(_) => Some(End::Rejected.as_str()),
        DomainEvent::TimedOut(_) => Some(End::TimedOut.as_str()),
        DomainEvent::Cancelled(_) => Some(End::Cancelled.as_str()),
        _ => None,
    };
    if let (Some(state), Some(order)) = (state, event.order_id()) {
        tx.prepare_cached("UPDATE dm_orders SET state = ?2 WHERE order_id = ?1")?
            .execute(params![order.to_string(), state])?;
    }
    match event {
        DomainEvent::Requested(r) => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO dm_orders VALUES (?1, ?2, ?3, ?4, ?5, 'accepted')",
            )?
            .execute(params![
                r.order_id.to_string(),
                name,
                r.account.as_str(),
                r.kind.as_str(),
                r.connection
            ])?;
            let status = match r.kind {
                OrderKind::Register => "registering",
                OrderKind::Transfer => "transferring",
                OrderKind::Renew => "renewing",
            };
            // A renewal keeps the row; a new registration or transfer creates it.
            tx.prepare_cached(
                "INSERT INTO dm_domains VALUES (?1, ?2, ?3, ?4, ?5, NULL, 0, ?6, ?7)
                 ON CONFLICT (name) DO UPDATE SET status = ?3, open_order = ?6, updated_at = ?7",
            )?
            .execute(params![
                name,
                tld_of(name),
                status,
                r.account.as_str(),
                r.connection,
                r.order_id.to_string(),
                ts(e.at)
            ])?;
        }
        DomainEvent::Confirmed(c) => {
            if let Some((account, _kind, connection)) = order_of(&c.order_id)? {
                tx.prepare_cached(
                    "UPDATE dm_domains SET status = 'registered', account = ?2, connection = ?3, expires_at = ?4,
                     open_order = NULL, updated_at = ?5 WHERE name = ?1",
                )?
                .execute(params![name, account, connection, ts(c.expires_at), ts(e.at)])?;
            }
        }
        DomainEvent::Rejected(Rejected { order_id, .. })
        | DomainEvent::TimedOut(TimedOut { order_id, .. })
        | DomainEvent::Cancelled(Cancelled { order_id, .. }) => {
            if let Some((_, kind, _)) = order_of(order_id)? {
                if kind == "renew" {
                    tx.prepare_cached("UPDATE dm_domains SET status = 'registered', open_order = NULL, updated_at = ?2 WHERE name = ?1")?
                        .execute(params![name, ts(e.at)])?;
                } else {
                    // Never registered here: the domain leaves the account.
                    tx.prepare_cached(
                        "DELETE FROM dm_domains WHERE name = ?1 AND expires_at IS NULL",
                    )?
                    .execute([name])?;
                    tx.prepare_cached("UPDATE dm_domains SET open_order = NULL, status = 'registered', updated_at = ?2 WHERE name = ?1")?
                        .execute(params![name, ts(e.at)])?;
                }
            }
        }
        DomainEvent::AutoRenewSet(a) => {
            tx.prepare_cached(
                "UPDATE dm_domains SET auto_renew = ?2, updated_at = ?3 WHERE name = ?1",
            )?
            .execute(params![name, a.enabled, ts(e.at)])?;
        }
        DomainEvent::ExpirySynced(x) => {
            tx.prepare_cached(
                "UPDATE dm_domains SET expires_at = ?2, updated_at = ?3 WHERE name = ?1",
            )?
            .execute(params![name, ts(x.expires_at), ts(e.at)])?;
        }
        DomainEvent::Imported(i) => held(
            tx,
            name,
            (
                i.account.as_str(),
                &i.connection,
                i.expires_at,
                i.auto_renew,
            ),
            e,
        )?,
        DomainEvent::LateCompletionSettled(LateCompletionSettled {
            order_id,
            account,
            choice: LateChoice::ChargeAgain { .. },
            expires_at,
            ..
        }) => {
            if let Some((_, _, connection)) = order_of(order_id)? {
                held(
                    tx,
                    name,
                    (account.as_str(), &connection, *expires_at, false),
                    e,
                )?;
            }
        }
        DomainEvent::ChangeRequested(c) => {
            change_state(tx, &c.change_id, name, "requested", None, e)?
        }
        DomainEvent::ChangeSubmitted(c) => {
            change_state(tx, &c.change_id, name, "submitted", Some(c.lease.until), e)?
        }
        DomainEvent::ChangeApplied(c) => change_state(tx, &c.change_id, name, "applied", None, e)?,
        DomainEvent::ChangeRefused(c) => change_state(tx, &c.change_id, name, "refused", None, e)?,
        DomainEvent::LeftAccount(_) => set_gone(tx, name, e)?,
        DomainEvent::RegistrarReported(r) if r.kind() == "DOMAIN DELETED" => set_gone(tx, name, e)?,
        _ => {}
    }
    Ok(())
}

fn change_state(
    tx: &Transaction<'_>,
    change: &domreg_events::OrderId,
    domain: &str,
    state: &str,
    lease_until: Option<DateTime<Utc>>,
    e: &Envelope,
) -> Result<(), ModelError> {
    tx.prepare_cached(
        "INSERT INTO dm_changes VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (change_id) DO UPDATE SET state = ?3, lease_until = ?4, updated_at = ?5",
    )?
    .execute(params![
        change.to_string(),
        domain,
        state,
        lease_until.map(ts),
        ts(e.at)
    ])?;
    Ok(())
}

/// The domain is held by `account` without an order completing here (imported, or a
/// late completion charged again).
fn held(
    tx: &Transaction<'_>,
    name: &str,
    (account, connection, expires_at, auto_renew): (&str, &str, DateTime<Utc>, bool),
    e: &Envelope,
) -> Result<(), ModelError> {
    tx.prepare_cached(
        "INSERT INTO dm_domains VALUES (?1, ?2, 'registered', ?3, ?4, ?5, ?6, NULL, ?7)
         ON CONFLICT (name) DO UPDATE SET status = 'registered', account = ?3, connection = ?4,
         expires_at = ?5, auto_renew = ?6, open_order = NULL, updated_at = ?7",
    )?
    .execute(params![
        name,
        tld_of(name),
        account,
        connection,
        ts(expires_at),
        auto_renew,
        ts(e.at)
    ])?;
    Ok(())
}

/// The domain left the account at OpenSRS: shown as `gone`, and no longer expiring here.
fn set_gone(tx: &Transaction<'_>, name: &str, e: &Envelope) -> Result<(), ModelError> {
    tx.prepare_cached("UPDATE dm_domains SET status = 'gone', updated_at = ?2 WHERE name = ?1")?
        .execute(params![name, ts(e.at)])?;
    Ok(())
}

fn registrars(tx: &Transaction<'_>, e: &Envelope) -> Result<(), ModelError> {
    let AnyEvent::Settings(event) = &e.event else {
        return Ok(());
    };
    let json = |c: &RegistrarConfig| {
        serde_json::to_string(c).map_err(|err| ModelError::Data(err.to_string()))
    };
    match event {
        SettingsEvent::RegistrarAdded(RegistrarAdded { config })
        | SettingsEvent::RegistrarUpdated(RegistrarUpdated { config }) => {
            tx.prepare_cached(
                "INSERT INTO rc_registrars VALUES (?1, ?2, NULL) ON CONFLICT (title) DO UPDATE SET config = ?2",
            )?
            .execute(params![config.title, json(config)?])?;
        }
        SettingsEvent::RegistrarKeyReplaced(k) => {
            tx.prepare_cached("UPDATE rc_registrars SET key_replaced_at = ?2 WHERE title = ?1")?
                .execute(params![k.title, ts(e.at)])?;
        }
        SettingsEvent::RegistrarRemoved(r) => {
            tx.prepare_cached("DELETE FROM rc_registrars WHERE title = ?1")?
                .execute([&r.title])?;
        }
        SettingsEvent::TldAssigned(t) => {
            tx.prepare_cached("INSERT OR REPLACE INTO rc_routes VALUES (?1, ?2, ?3)")?
                .execute(params![t.tld, t.registrar, ts(e.at)])?;
        }
        SettingsEvent::PriceSet(p) => {
            tx.prepare_cached("INSERT OR REPLACE INTO rc_prices VALUES (?1, ?2, ?3, ?4, ?5)")?
                .execute(params![
                    p.tld,
                    p.kind.as_str(),
                    p.years.map_or(0, |y| i64::from(y.get())),
                    p.price.minor,
                    p.price.currency.code()
                ])?;
        }
        SettingsEvent::PriceRemoved(p) => {
            tx.prepare_cached("DELETE FROM rc_prices WHERE tld = ?1 AND kind = ?2 AND years = ?3")?
                .execute(params![
                    p.tld,
                    p.kind.as_str(),
                    p.years.map_or(0, |y| i64::from(y.get()))
                ])?;
        }
        SettingsEvent::PolicySet(p) => {
            tx.prepare_cached("INSERT OR REPLACE INTO rc_policies VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![
                    p.tld,
                    p.transfer,
                    p.policy.poll_every_secs as i64,
                    p.policy.timeout_secs as i64
                ])?;
        }
        SettingsEvent::AccountContactsSet(c) => {
            let json = serde_json::to_string(&c.contacts)
                .map_err(|err| ModelError::Data(err.to_string()))?;
            tx.prepare_cached("INSERT OR REPLACE INTO rc_contacts VALUES (?1, ?2)")?
                .execute(params![c.account.as_str(), json])?;
        }
        SettingsEvent::CreditLimitSet(l) => {
            tx.prepare_cached("INSERT OR REPLACE INTO rc_credit_limits VALUES (?1, ?2, ?3)")?
                .execute(params![
                    l.account.as_ref().map_or("*", |a| a.as_str()),
                    l.limit.currency.code(),
                    l.limit.minor
                ])?;
        }
        SettingsEvent::TokenIssued(t) => {
            let (kind, principal) = match &t.principal {
                Principal::Admin(name) => ("admin", name.as_str()),
                Principal::Customer(account) => ("customer", account.as_str()),
            };
            tx.prepare_cached(
                "INSERT OR REPLACE INTO rc_tokens VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)",
            )?
            .execute(params![
                t.token_id.to_string(),
                t.digest,
                kind,
                principal,
                ts(e.at),
                t.expires_at.map(ts)
            ])?;
        }
        SettingsEvent::TokenRevoked(t) => {
            tx.prepare_cached(
                "UPDATE rc_tokens SET revoked_at = ?2 WHERE token_id = ?1 AND revoked_at IS NULL",
            )?
            .execute(params![t.token_id.to_string(), ts(e.at)])?;
        }
        SettingsEvent::AccountCredited(_)
        | SettingsEvent::FundsHeld(_)
        | SettingsEvent::FundsReleased(_) => {}
    }
    Ok(())
}
