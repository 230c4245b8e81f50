//! One engine step for one order: submit it, resolve a lost outcome, or poll it. Each reads
//! the order's stream, decides, and appends with the expected version, so a duplicate
//! delivery or a second engine cannot write a second outcome; only the engine whose
//! `Submitted` append won ever calls OpenSRS for the order.

use chrono::{DateTime, Datelike, Duration, Utc};
use rand::distr::{Alphanumeric, SampleString};
use uuid::Uuid;

use domreg_events::calendar::years_later;
use domreg_events::policy::{after_outcome, after_send_failure};
use domreg_events::settings::AsyncPolicy;
use domreg_events::*;

use crate::opensrs::{self, Class, Client, Exchange, PendingKind, RegType, SwRegister};
use crate::secrets::SecretStore;
use crate::store::{EventStore, StoreError};
pub use crate::unit_of_work::load;
use crate::unit_of_work::{UnitError, UnitOfWork, Written};

/// What a step needs besides the order.
#[derive(Clone)]
pub struct StepContext<S: EventStore + Clone> {
    pub store: S,
    pub secrets: SecretStore,
    pub now: DateTime<Utc>,
    /// Names the engine in the leases of its submissions.
    pub engine: String,
    /// How long a submission is owned by its engine: the call timeout and a margin.
    pub lease: Duration,
}

impl<S: EventStore + Clone> StepContext<S> {
    /// A context for one step outside an engine round (the Async Manager's check).
    pub fn once(store: S, secrets: SecretStore, now: DateTime<Utc>) -> Self {
        StepContext {
            store,
            secrets,
            now,
            engine: engine_id(),
            lease: Duration::seconds(150),
        }
    }
}

/// This process's name in leases: host, pid and a random tag (a restarted engine with a
/// reused pid is still another engine).
pub fn engine_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!(
        "{host}:{}:{}",
        std::process::id(),
        &Uuid::new_v4().simple().to_string()[..8]
    )
}

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Unit(#[from] UnitError),
    #[error("order {0} is not in {1}")]
    NoOrder(OrderId, String),
}

impl From<StoreError> for StepError {
    fn from(e: StoreError) -> Self {
        StepError::Unit(UnitError::Store(e))
    }
}

/// What happened to the order in this step (for logs, tests and `async check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// Nothing to do: another engine or an earlier delivery already moved the order.
    Skipped,
    Recorded(Vec<&'static str>),
}

/// Records what `plan` decides on `state` through the unit of work. A refusal or a
/// lost race means the order moved on: nothing to record.
pub(super) async fn record<S: EventStore>(
    store: &S,
    domain: &DomainName,
    state: Domain,
    policy: Policy,
    plan: impl FnMut(&Domain) -> Vec<Command>,
    now: DateTime<Utc>,
) -> Result<StepOutcome, StepError> {
    match UnitOfWork::new(store, Actor::Engine, now)
        .policy(policy)
        .from(state)
        .run(domain, plan)
        .await
    {
        Ok(w @ Written::Appended { .. }) => Ok(StepOutcome::Recorded(w.event_types())),
        Ok(Written::Unchanged { .. }) => Ok(StepOutcome::Skipped),
        Err(UnitError::Refused { error, .. }) => {
            tracing::debug!(%domain, %error, "nothing to record");
            Ok(StepOutcome::Skipped)
        }
        Err(UnitError::Contended { .. }) => Ok(StepOutcome::Skipped),
        Err(e) => Err(e.into()),
    }
}

fn answer(exchange: &Exchange) -> RegistrarAnswer {
    RegistrarAnswer::new(
        exchange.classification.code,
        exchange.classification.text.clone(),
    )
    .with_evidence(exchange.evidence.clone())
}

/// Reads OpenSRS's date forms (`YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD`) as UTC.
pub use crate::opensrs::listing::listing_date as registry_date;

fn pending_reason(kind: OrderKind, class: &opensrs::Classification) -> PendingReason {
    match (class.class, class.pending) {
        (Class::Pending, Some(PendingKind::Queued)) => PendingReason::Queued,
        (Class::Pending, Some(PendingKind::TransferInProgress)) => {
            PendingReason::TransferInProgress
        }
        (Class::Pending, _) if kind == OrderKind::Transfer => PendingReason::TransferInProgress,
        (Class::Pending, _) => PendingReason::AsyncRegistry,
        _ => PendingReason::OutcomeLost,
    }
}

fn unknown(
    reason: PendingReason,
    answer: Option<RegistrarAnswer>,
    registrar_order_id: Option<String>,
    policy: AsyncPolicy,
    now: DateTime<Utc>,
) -> Outcome {
    Outcome::Unknown {
        reason,
        answer,
        registrar_order_id,
        poll_every: Duration::seconds(policy.poll_every_secs as i64),
        deadline: now + Duration::seconds(policy.timeout_secs as i64),
    }
}

/// Cancels the order OpenSRS parked (`forced_pending`) with PROCESS_PENDING. Confirmed:
/// the order is rejected (and refunded). Not confirmed: it is pending with the parked
/// order's id, so polling and its deadline (which cancels at OpenSRS before refunding)
/// resolve it; it is never refunded while OpenSRS may still process it.
async fn cancel_parked(
    client: &opensrs::Client,
    parked: &str,
    exchange: &Exchange,
    policy: AsyncPolicy,
    now: DateTime<Utc>,
) -> Outcome {
    let cancel = client
        .call(&opensrs::Command::ProcessPending {
            order_id: parked.to_string(),
            cancel: true,
        })
        .await;
    let refused = exchange.classification.text.trim();
    let evidence = [exchange.evidence.clone(), cancel.evidence.clone()];
    if cancel.classification.class == Class::Done {
        return Outcome::Rejected {
            answer: RegistrarAnswer::new(
                exchange.classification.code,
                format!(
                    "{refused}; the parked order {parked} was cancelled at OpenSRS ({})",
                    cancel.classification.text.trim()
                ),
            )
            .with_evidence(evidence.into_iter().flatten()),
        };
    }
    tracing::warn!(parked, answer = %super::probe::describe(&cancel), "a parked order could not be cancelled yet");
    unknown(
        PendingReason::Parked,
        Some(RegistrarAnswer::new(
            exchange.classification.code,
            format!(
                "{refused}; OpenSRS parked it as order {parked}, whose cancellation it did not confirm ({})",
                super::probe::describe(&cancel)
            ),
        )
        .with_evidence(evidence.into_iter().flatten())),
        Some(parked.to_string()),
        policy,
        now,
    )
}

/// Marks an order whose submission has no recorded outcome (the engine stopped between
/// `Submitted` and the outcome) as pending with a lost outcome. It is then resolved by
/// polling, never by sending it again.
pub async fn recover<S: EventStore + Clone>(
    ctx: &StepContext<S>,
    domain: &DomainName,
    order_id: OrderId,
    policy: AsyncPolicy,
) -> Result<StepOutcome, StepError> {
    let state = load(&ctx.store, domain).await?;
    let now = ctx.now;
    record(
        &ctx.store,
        domain,
        state,
        Policy::default(),
        |s| match s.orders.get(&order_id) {
            Some(o) if o.stage == Stage::Submitted => vec![Command::RecordOutcome {
                order_id,
                outcome: unknown(
                    PendingReason::OutcomeLost,
                    Some(RegistrarAnswer::new(
                        None,
                        "outcome lost: the engine stopped during the OpenSRS call",
                    )),
                    None,
                    policy,
                    now,
                ),
            }],
            _ => vec![],
        },
        now,
    )
    .await
}

/// Submits a charged order to OpenSRS, exactly once.
pub async fn submit<S: EventStore + Clone>(
    ctx: &StepContext<S>,
    client: &Client,
    domain: &DomainName,
    order_id: OrderId,
    policy: AsyncPolicy,
    connection: Policy,
) -> Result<StepOutcome, StepError> {
    let state = load(&ctx.store, domain).await?;
    let Some(order) = state.orders.get(&order_id).cloned() else {
        return Err(StepError::NoOrder(order_id, domain.to_string()));
    };
    // The intent goes into the log before the call. Losing this race means another
    // engine submits the order; this one must not call OpenSRS.
    let lease = Lease {
        engine: ctx.engine.clone(),
        until: ctx.now + ctx.lease,
    };
    let submission = UnitOfWork::new(&ctx.store, Actor::Engine, ctx.now)
        .from(state)
        .run(domain, |s| match s.orders.get(&order_id) {
            Some(o) if o.stage == Stage::Accepted && o.charged.is_some() => {
                vec![Command::RecordSubmission {
                    order_id,
                    lease: Some(lease.clone()),
                }]
            }
            _ => vec![],
        })
        .await;
    let state = match submission {
        Ok(Written::Appended { state, .. }) => state,
        Ok(Written::Unchanged { .. })
        | Err(UnitError::Refused { .. } | UnitError::Contended { .. }) => {
            return Ok(StepOutcome::Skipped)
        }
        Err(e) => return Err(e.into()),
    };
    let command = match order.kind {
        OrderKind::Register | OrderKind::Transfer => {
            let auth_info = ctx
                .secrets
                .auth_code(order_id)
                .map(|s| s.expose().to_string());
            let contacts = order
                .contacts
                .clone()
                .ok_or_else(|| StepError::NoOrder(order_id, "its contact details".into()))?;
            let user: String = order
                .account
                .as_str()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(16)
                .collect();
            opensrs::Command::SwRegister(Box::new(SwRegister {
                domain: domain.to_string(),
                reg_type: if order.kind == OrderKind::Transfer {
                    RegType::Transfer
                } else {
                    RegType::New
                },
                period: order.period.get(),
                contacts,
                nameservers: order.nameservers.clone(),
                reg_username: format!("{user}{}", &order_id.0.simple().to_string()[..4]),
                // Only needed for OpenSRS's registrant profile; domreg works in reseller mode.
                reg_password: Alphanumeric.sample_string(&mut rand::rng(), 16),
                auth_info,
                auto_renew: false,
                lock: connection.lock_new_registrations
                    && domreg_events::capabilities::of(domain.tld()).registrar_lock,
            }))
        }
        OrderKind::Renew => opensrs::Command::Renew {
            domain: domain.to_string(),
            current_expiration_year: state
                .expires_at
                .map(|t| t.year())
                .unwrap_or_else(|| ctx.now.year()),
            period: order.period.get(),
            auto_renew: false,
        },
    };
    let exchange = client.call(&command).await;
    if let Some(e) = exchange.outcome.as_ref().err().filter(|e| e.nothing_sent()) {
        // Nothing reached OpenSRS: the order goes back to be sent again (the transfer
        // code is kept for that), not to a wait for an answer that cannot come.
        let reason = e.to_string();
        let now = ctx.now;
        return record(
            &ctx.store,
            domain,
            state,
            connection,
            |s| after_send_failure(s, order_id, &reason, now),
            now,
        )
        .await;
    }
    ctx.secrets.forget_auth_code(order_id);
    let c = &exchange.classification;
    let outcome = match c.class {
        Class::Done => {
            let expires_at = match order.kind {
                OrderKind::Renew => c.expires_at.as_deref().and_then(registry_date),
                _ => super::probe::confirmed_expiry(client, domain).await,
            }
            .unwrap_or_else(|| {
                years_later(state.expires_at.unwrap_or(ctx.now), order.period.get())
            });
            Outcome::Confirmed {
                expires_at,
                registrar_order_id: c.order_id.clone(),
                answer: answer(&exchange),
            }
        }
        Class::Rejected => match c.forced_pending.clone() {
            // A parked order exists at OpenSRS: someone processing it later would
            // register the name after the refund. Cancel it there first.
            Some(parked) if order.kind != OrderKind::Renew => {
                cancel_parked(client, &parked, &exchange, policy, ctx.now).await
            }
            _ => Outcome::Rejected {
                answer: answer(&exchange),
            },
        },
        // Pending, unknown, and even "retry later": the order is never sent again; polling
        // finds out what became of it.
        Class::Pending | Class::Unknown | Class::RetryLater => unknown(
            pending_reason(order.kind, c),
            Some(answer(&exchange)),
            c.order_id.clone().or(c.forced_pending.clone()),
            policy,
            ctx.now,
        ),
    };
    record_outcome(ctx, domain, state, order_id, &outcome, connection).await
}

/// Records a submission's outcome, retrying a failed append (a full disk, a store error)
/// with back-off: the answer is the only record of what OpenSRS did. If every try fails,
/// the order stays submitted until its lease lapses and a later round recovers it.
async fn record_outcome<S: EventStore + Clone>(
    ctx: &StepContext<S>,
    domain: &DomainName,
    state: Domain,
    order_id: OrderId,
    outcome: &Outcome,
    connection: Policy,
) -> Result<StepOutcome, StepError> {
    let mut wait = std::time::Duration::from_millis(100);
    let mut state = state;
    let mut attempt = 0;
    loop {
        let plan = |s: &Domain| after_outcome(s, order_id, outcome);
        match record(&ctx.store, domain, state.clone(), connection, plan, ctx.now).await {
            Err(StepError::Unit(UnitError::Store(e))) if attempt < 5 => {
                tracing::warn!(%domain, %order_id, error = %e, "outcome not recorded yet; retrying");
                tokio::time::sleep(wait).await;
                wait *= 2;
                attempt += 1;
                if let Ok(fresh) = load(&ctx.store, domain).await {
                    state = fresh;
                }
            }
            other => return other,
        }
    }
}
