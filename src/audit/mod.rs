//! Audit replay: a domain's or an account's history read from the event log alone, with
//! who caused each step, what the registrar answered, the money moved and the running
//! balance, and the state as it was at any moment (`--at`).

mod describe;
mod text;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use domreg_events::*;

use crate::store::{EventStore, Position, RecordedEvent, StoreError};

pub use describe::{describe, money_delta};
pub use text::render_text;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("event at position {position} cannot be read: {source}")]
    Unreadable { position: u64, source: DecodeError },
    #[error("{0} has no order {1}")]
    NoSuchOrder(DomainName, OrderId),
}

/// A money movement and the account's balance right after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MoneyMove {
    pub account: AccountId,
    /// Negative for a charge.
    pub amount: Money,
    pub balance_after: Money,
}

/// One event of the history.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub position: u64,
    pub at: DateTime<Utc>,
    pub stream: String,
    pub event_type: String,
    pub actor: Actor,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub order_id: Option<OrderId>,
    pub description: String,
    /// What OpenSRS answered (response code and text), for events that record it.
    pub registrar_answer: Option<RegistrarAnswer>,
    pub money: Option<MoneyMove>,
    /// The event as stored, for tools.
    pub data: serde_json::Value,
}

/// An order as it stood at the audit's moment.
#[derive(Debug, Clone, Serialize)]
pub struct OrderAt {
    pub order_id: OrderId,
    pub kind: OrderKind,
    pub account: AccountId,
    /// `accepted`, `submitted`, `pending` or the end (`confirmed`, `rejected`, `timed_out`,
    /// `cancelled`).
    pub state: String,
    pub price: Money,
    pub charged: Option<Money>,
    pub refunded: Option<Money>,
    pub polls: u32,
    pub deadline: Option<DateTime<Utc>>,
    pub last_answer: Option<RegistrarAnswer>,
}

/// The domain as it stood at the audit's moment.
#[derive(Debug, Clone, Serialize)]
pub struct DomainAt {
    pub domain: String,
    pub holder: Option<AccountId>,
    pub expires_at: Option<DateTime<Utc>>,
    pub auto_renew: bool,
    pub orders: Vec<OrderAt>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BalanceAt {
    pub account: AccountId,
    pub balance: Money,
}

/// The answer to an audit: stable as JSON (`--json`), readable as text.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// `domain example.de` or `account acme`.
    pub subject: String,
    /// The moment the state and balances are shown for; `None`: now (the whole log).
    pub as_of: Option<DateTime<Utc>>,
    /// The last log position the replay read.
    pub log_position: u64,
    /// Balances just before the first entry shown (account audits with `--from`).
    pub opening_balances: Vec<BalanceAt>,
    pub entries: Vec<AuditEntry>,
    /// The domain's state (domain audits).
    pub state: Option<DomainAt>,
    pub balances: Vec<BalanceAt>,
}

impl AuditReport {
    /// An account's window that ends before it starts: nothing in it.
    fn empty_window(account: AccountId, to: DateTime<Utc>) -> Self {
        AuditReport {
            subject: format!("account {account}"),
            as_of: Some(to),
            log_position: 0,
            opening_balances: Vec::new(),
            entries: Vec::new(),
            state: None,
            balances: Vec::new(),
        }
    }
}

/// A domain's history, optionally of one order and as of a moment.
#[derive(Debug, Clone)]
pub struct DomainAudit {
    pub domain: DomainName,
    pub order: Option<OrderId>,
    pub at: Option<DateTime<Utc>>,
}

/// An account's ledger history between two moments (both optional).
#[derive(Debug, Clone)]
pub struct AccountAudit {
    pub account: AccountId,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Types that move money: the only ones an account's balance needs decoded.
const MONEY_TYPES: [&str; 3] = ["Charged", "Refunded", "AccountCredited"];

/// Running balances per account and currency, in log order.
#[derive(Default)]
struct Balances(BTreeMap<(AccountId, String), Money>);

impl Balances {
    fn apply(&mut self, delta: &describe::MoneyDelta) -> Money {
        let key = (
            delta.account.clone(),
            delta.amount.currency.code().to_string(),
        );
        let entry = self
            .0
            .entry(key)
            .or_insert(Money::zero(delta.amount.currency));
        // Balances are sums of i64 minor units; saturate rather than panic on absurd data.
        entry.minor = entry.minor.saturating_add(delta.amount.minor);
        *entry
    }

    fn of(&self, accounts: &BTreeSet<AccountId>) -> Vec<BalanceAt> {
        self.0
            .iter()
            .filter(|((a, _), _)| accounts.contains(a))
            .map(|((a, _), m)| BalanceAt {
                account: a.clone(),
                balance: *m,
            })
            .collect()
    }
}

fn decode(e: &RecordedEvent) -> Result<AnyEvent, AuditError> {
    AnyEvent::decode(&e.event_type, e.schema_version, &e.data).map_err(|source| {
        AuditError::Unreadable {
            position: e.position.commit,
            source,
        }
    })
}

fn entry(e: &RecordedEvent, event: &AnyEvent, money: Option<MoneyMove>) -> AuditEntry {
    let order_id = match event {
        AnyEvent::Domain(d) => d.order_id(),
        AnyEvent::Settings(_) => None,
    };
    AuditEntry {
        position: e.position.commit,
        at: e.metadata.at,
        stream: e.stream.clone(),
        event_type: e.event_type.clone(),
        actor: e.metadata.actor.clone(),
        correlation_id: e.metadata.correlation_id,
        causation_id: e.metadata.causation_id,
        order_id,
        description: describe(event),
        registrar_answer: describe::answer_of(event),
        money,
        data: serde_json::from_slice(&e.data).unwrap_or(serde_json::Value::Null),
    }
}

/// Reads the whole log once, in pages, handing each event to `visit`.
async fn scan(
    store: &impl EventStore,
    mut visit: impl FnMut(&RecordedEvent) -> Result<(), AuditError>,
) -> Result<u64, AuditError> {
    let mut after: Option<Position> = None;
    let mut last = 0;
    loop {
        let page = store.read_all(after, 10_000).await?;
        let Some(tail) = page.last() else {
            return Ok(last);
        };
        after = Some(tail.position);
        last = tail.position.commit;
        for e in &page {
            visit(e)?;
        }
    }
}

fn is_money_type(t: &str) -> bool {
    MONEY_TYPES.contains(&t)
}

fn in_time(e: &RecordedEvent, at: Option<DateTime<Utc>>) -> bool {
    at.is_none_or(|t| e.metadata.at <= t)
}

/// A domain's audit: its stream's events, with each money movement's running balance
/// (over every event of the account, not only this domain's), and its state at `at`.
pub async fn domain_audit(
    store: &impl EventStore,
    q: &DomainAudit,
) -> Result<AuditReport, AuditError> {
    let stream = domain_stream(&q.domain);
    let mut recorded = Vec::new();
    loop {
        let page = store
            .read_stream(&stream, recorded.len() as u64, 10_000)
            .await?;
        if page.is_empty() {
            break;
        }
        recorded.extend(page);
    }
    let mut events = Vec::new();
    for e in recorded.iter().filter(|e| in_time(e, q.at)) {
        events.push((e, decode(e)?));
    }
    let domain_events: Vec<DomainEvent> = events
        .iter()
        .filter_map(|(_, ev)| match ev {
            AnyEvent::Domain(d) => Some(d.clone()),
            AnyEvent::Settings(_) => None,
        })
        .collect();
    let state = Domain::replay(&domain_events);
    if let Some(order) = q.order {
        let exists_ever = recorded
            .iter()
            .any(|e| matches!(e.decode_domain(), Ok(d) if d.order_id() == Some(order)));
        if !exists_ever {
            return Err(AuditError::NoSuchOrder(q.domain.clone(), order));
        }
    }
    let accounts: BTreeSet<AccountId> = events
        .iter()
        .filter_map(|(_, ev)| describe::account_of(ev).cloned())
        .collect();
    // Running balances: every money event of these accounts, in log order.
    let mine: BTreeSet<u64> = events.iter().map(|(e, _)| e.position.commit).collect();
    let mut balances = Balances::default();
    let mut after_mine: BTreeMap<u64, Money> = BTreeMap::new();
    let log_position = scan(store, |e| {
        if !is_money_type(&e.event_type) || !in_time(e, q.at) {
            return Ok(());
        }
        let ev = decode(e)?;
        if let Some(delta) = money_delta(&ev).filter(|d| accounts.contains(&d.account)) {
            let after = balances.apply(&delta);
            if mine.contains(&e.position.commit) {
                after_mine.insert(e.position.commit, after);
            }
        }
        Ok(())
    })
    .await?;
    let entries = events
        .iter()
        .filter(|(_, ev)| match (q.order, ev) {
            (None, _) => true,
            (Some(o), AnyEvent::Domain(d)) => d.order_id() == Some(o),
            (Some(_), AnyEvent::Settings(_)) => false,
        })
        .map(|(e, ev)| {
            let money = money_delta(ev).and_then(|d| {
                after_mine
                    .get(&e.position.commit)
                    .map(|balance_after| MoneyMove {
                        account: d.account,
                        amount: d.amount,
                        balance_after: *balance_after,
                    })
            });
            entry(e, ev, money)
        })
        .collect();
    let orders = state
        .orders
        .values()
        .filter(|o| q.order.is_none_or(|id| id == o.id))
        .map(order_at)
        .collect();
    Ok(AuditReport {
        subject: format!("domain {}", q.domain),
        as_of: q.at,
        log_position,
        opening_balances: Vec::new(),
        entries,
        state: Some(DomainAt {
            domain: q.domain.to_string(),
            holder: state.holder.clone(),
            expires_at: state.expires_at,
            auto_renew: state.auto_renew,
            orders,
        }),
        balances: balances.of(&accounts),
    })
}

fn order_at(o: &Order) -> OrderAt {
    let state = match o.stage {
        Stage::Accepted => "accepted".to_string(),
        Stage::Submitted => "submitted".to_string(),
        Stage::Pending => "pending".to_string(),
        Stage::Ended(end) => serde_json::to_value(end)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| format!("{end:?}")),
    };
    OrderAt {
        order_id: o.id,
        kind: o.kind,
        account: o.account.clone(),
        state,
        price: o.price,
        charged: o.charged,
        refunded: o.refunded,
        polls: o.polls,
        deadline: o.deadline,
        last_answer: o.last_answer.clone(),
    }
}

/// An account's ledger: every money movement with its running balance, between `from`
/// and `to`, with the balances before `from` and at `to`.
pub async fn account_audit(
    store: &impl EventStore,
    q: &AccountAudit,
) -> Result<AuditReport, AuditError> {
    // A window that ends before it starts holds nothing; it is not an error (the API
    // answers such a query with an empty window too).
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if from > to {
            return Ok(AuditReport::empty_window(q.account.clone(), to));
        }
    }
    let accounts = BTreeSet::from([q.account.clone()]);
    let mut balances = Balances::default();
    let mut opening = None;
    let mut entries = Vec::new();
    let log_position = scan(store, |e| {
        if !is_money_type(&e.event_type) || !in_time(e, q.to) {
            return Ok(());
        }
        let ev = decode(e)?;
        let Some(delta) = money_delta(&ev).filter(|d| d.account == q.account) else {
            return Ok(());
        };
        let shown = q.from.is_none_or(|f| e.metadata.at >= f);
        if shown && opening.is_none() {
            opening = Some(balances.of(&accounts));
        }
        let balance_after = balances.apply(&delta);
        if shown {
            let money = MoneyMove {
                account: delta.account,
                amount: delta.amount,
                balance_after,
            };
            entries.push(entry(e, &ev, Some(money)));
        }
        Ok(())
    })
    .await?;
    let balances_now = balances.of(&accounts);
    Ok(AuditReport {
        subject: format!("account {}", q.account),
        as_of: q.to,
        log_position,
        opening_balances: opening.unwrap_or_else(|| balances_now.clone()),
        entries,
        state: None,
        balances: balances_now,
    })
}

/// Parses a moment: RFC 3339 (`2026-11-28T10:00:00Z`, any offset), or UTC as
/// `2026-11-28 10:00[:00]` or `2026-11-28` (midnight).
pub fn parse_moment(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Ok(Utc.from_utc_datetime(&t));
        }
    }
    if let Some(t) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
    {
        return Ok(Utc.from_utc_datetime(&t));
    }
    Err(format!(
        "{s:?} is not a time: write 2026-11-28T10:00:00Z, 2026-11-28 10:00 (UTC) or 2026-11-28"
    ))
}
