//! The sandbox's registry and reseller accounts: real state that commands read and change.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use super::faults::FaultRule;

/// Settings a test may change while the sandbox runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// TLDs whose registrations complete later (250 now, done after polls or a delay).
    pub async_tlds: Vec<String>,
    /// A waiting registration completes at the N-th probe (LOOKUP or BELONGS_TO_RSP) of
    /// its domain...
    pub async_polls: Option<u32>,
    /// ...or, when set, this many seconds after submission (sandbox clock).
    pub async_delay_secs: Option<i64>,
    /// A transfer waits for the owner's approval this long, then for the registry this long.
    pub transfer_owner_secs: i64,
    pub transfer_registry_secs: i64,
    /// What OpenSRS charges the reseller per year, in cents.
    pub price_per_year_cents: i64,
    /// Domains the registry will decline (async) or whose transfer the owner refuses.
    /// Labels starting `decline-` behave so without being listed.
    pub declined: Vec<String>,
    /// Client IPs allowed; empty = any.
    pub allowed_ips: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            async_tlds: vec!["de".into(), "ca".into(), "co.uk".into()],
            async_polls: Some(3),
            async_delay_secs: None,
            transfer_owner_secs: 3_600,
            transfer_registry_secs: 4 * 3_600,
            price_per_year_cents: 1_000,
            declined: Vec::new(),
            allowed_ips: Vec::new(),
        }
    }
}

/// Who holds a domain record.
pub const OTHER_REGISTRAR: &str = "(other registrar)";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DomainRecord {
    /// Reseller login, or [`OTHER_REGISTRAR`].
    pub owner: String,
    pub created: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    pub auto_renew: bool,
    pub transferable: bool,
    pub nameservers: Vec<String>,
    /// The expiry year before the last renewal: RENEW with it again gets 555.
    pub renewed_from_year: Option<i32>,
}

/// A child nameserver: the domain it is named under and its addresses.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostRecord {
    pub domain: String,
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
}

/// A domain that another registrar took from a reseller.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransferredAway {
    pub domain: String,
    pub reseller: String,
    pub gaining_registrar: String,
    pub completed: DateTime<Utc>,
}

/// A domain's registrant profile: the credentials SET COOKIE checks and the contacts
/// GET DOMAIN shows (role -> field -> value).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Profile {
    pub reg_username: String,
    /// Never shown by the control endpoint.
    #[serde(skip_serializing, default)]
    pub reg_password: String,
    pub contacts: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Waiting,
    Completed,
    Declined,
    Cancelled,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Order {
    pub id: u64,
    pub domain: String,
    pub reseller: String,
    /// `new`, `transfer` or `renewal`.
    pub reg_type: String,
    pub status: OrderStatus,
    pub period: u8,
    pub cost_cents: i64,
    pub created: DateTime<Utc>,
    pub completed: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Waiting {
    pub order_id: u64,
    pub polls_left: Option<u32>,
    pub ready_at: Option<DateTime<Utc>>,
    pub decline: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    PendingOwner,
    PendingRegistry,
    Completed,
    Cancelled,
}

impl TransferStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TransferStatus::PendingOwner => "pending_owner",
            TransferStatus::PendingRegistry => "pending_registry",
            TransferStatus::Completed => "completed",
            TransferStatus::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Transfer {
    pub order_id: u64,
    pub reseller: String,
    pub status: TransferStatus,
    pub requested: DateTime<Utc>,
    /// When the current stage ends.
    pub stage_ends: DateTime<Utc>,
    pub refuse: bool,
}

/// Calls seen, for tests that count (e.g. at most one SW_REGISTER per order).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Counters {
    pub calls: BTreeMap<String, u64>,
    pub sw_register_by_domain: BTreeMap<String, u32>,
    pub renew_by_domain: BTreeMap<String, u32>,
    pub auth_failures: u64,
}

#[derive(Debug, Serialize)]
pub struct State {
    pub settings: Settings,
    /// Added to the real clock; tests move it forward.
    pub clock_offset_secs: i64,
    pub balances_cents: BTreeMap<String, i64>,
    pub domains: BTreeMap<String, DomainRecord>,
    pub orders: BTreeMap<u64, Order>,
    pub waiting: BTreeMap<String, Waiting>,
    pub transfers: BTreeMap<String, Transfer>,
    pub counters: Counters,
    pub faults: Vec<FaultRule>,
    /// Each reseller's event feed (EVENT POLL / ACK).
    pub feed: BTreeMap<String, std::collections::VecDeque<super::feed::FeedItem>>,
    /// Transfers away from a reseller (GET_TRANSFERS_AWAY), oldest first.
    #[serde(default)]
    pub transfers_away: Vec<TransferredAway>,
    /// Domains whose transfer code SEND_AUTHCODE mailed, in order.
    #[serde(default)]
    pub auth_codes_mailed: Vec<String>,
    /// Domains with WHOIS privacy on.
    #[serde(default)]
    pub privacy: std::collections::BTreeSet<String>,
    /// Child nameservers (NAMESERVER CREATE), by host name.
    #[serde(default)]
    pub hosts: BTreeMap<String, HostRecord>,
    /// The registrant profile given at SW_REGISTER, per domain.
    pub profiles: BTreeMap<String, Profile>,
    /// SET COOKIE sessions: cookie -> (reseller, domain).
    #[serde(skip)]
    pub cookies: BTreeMap<String, (String, String)>,
    pub next_id: u64,
    #[serde(skip)]
    pub rng: StdRng,
}

impl State {
    pub fn new(settings: Settings, users: &[String], balance_cents: i64, rng: StdRng) -> Self {
        State {
            settings,
            clock_offset_secs: 0,
            balances_cents: users.iter().map(|u| (u.clone(), balance_cents)).collect(),
            domains: BTreeMap::new(),
            orders: BTreeMap::new(),
            waiting: BTreeMap::new(),
            transfers: BTreeMap::new(),
            hosts: BTreeMap::new(),
            counters: Counters::default(),
            faults: Vec::new(),
            feed: BTreeMap::new(),
            transfers_away: Vec::new(),
            privacy: Default::default(),
            auth_codes_mailed: Vec::new(),
            profiles: BTreeMap::new(),
            cookies: BTreeMap::new(),
            next_id: 3_000_001,
            rng,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::seconds(self.clock_offset_secs)
    }

    /// Moves the registry's clock so it reads `at` now (tests start it beside a manual clock,
    /// so expiry dates agree with the engine's whatever day they run).
    pub fn set_now(&mut self, at: DateTime<Utc>) {
        self.clock_offset_secs = at.signed_duration_since(Utc::now()).num_seconds();
    }

    pub fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn is_async(&self, domain: &str) -> bool {
        self.settings
            .async_tlds
            .iter()
            .any(|tld| domain.ends_with(&format!(".{tld}")))
    }

    pub fn is_declined(&self, domain: &str) -> bool {
        domain.starts_with("decline-") || self.settings.declined.iter().any(|d| d == domain)
    }

    /// Moves time-driven work forward: delayed registrations and transfer stages.
    pub fn tick(&mut self) {
        let now = self.now();
        let ready: Vec<String> = self
            .waiting
            .iter()
            .filter(|(_, w)| w.ready_at.is_some_and(|t| t <= now))
            .map(|(d, _)| d.clone())
            .collect();
        for domain in ready {
            self.finish_waiting(&domain);
        }
        let names: Vec<String> = self.transfers.keys().cloned().collect();
        for name in names {
            self.advance_transfer(&name, now);
        }
    }

    /// A probe of `domain` (poll-count mode): the N-th probe completes its registration.
    pub fn probe(&mut self, domain: &str) {
        let done = match self.waiting.get_mut(domain) {
            Some(Waiting {
                polls_left: Some(n),
                ..
            }) => {
                *n = n.saturating_sub(1);
                *n == 0
            }
            _ => false,
        };
        if done {
            self.finish_waiting(domain);
        }
    }

    fn finish_waiting(&mut self, domain: &str) {
        let Some(w) = self.waiting.remove(domain) else {
            return;
        };
        let now = self.now();
        let Some(order) = self.orders.get_mut(&w.order_id) else {
            return;
        };
        order.completed = Some(now);
        let (reseller, order_id, period) = (order.reseller.clone(), order.id, order.period);
        if w.decline {
            order.status = OrderStatus::Declined;
            let cost = order.cost_cents;
            *self.balances_cents.entry(reseller.clone()).or_default() += cost;
            self.raise(
                &reseller,
                "ORDER",
                "STATUS_CHANGE",
                &[
                    ("domain_name", domain.to_string()),
                    ("order_id", order_id.to_string()),
                    ("order_status", "declined".into()),
                    ("order_reg_type", "new".into()),
                ],
            );
            return;
        }
        order.status = OrderStatus::Completed;
        let record = DomainRecord {
            owner: order.reseller.clone(),
            created: now,
            expires: domreg_events::calendar::years_later(now, order.period),
            auto_renew: false,
            transferable: true,
            nameservers: Vec::new(),
            renewed_from_year: None,
        };
        let expires = record.expires;
        self.domains.insert(domain.to_string(), record);
        self.raise_registered(&reseller, domain, period, expires);
    }

    /// DOMAIN CREATED and REGISTERED, as OpenSRS raises them when a registration completes.
    pub fn raise_registered(
        &mut self,
        reseller: &str,
        domain: &str,
        period: u8,
        expires: DateTime<Utc>,
    ) {
        let id = self.new_id().to_string();
        let expiry = super::feed::feed_date(expires);
        self.raise(
            reseller,
            "DOMAIN",
            "CREATED",
            &[
                ("domain_name", domain.to_string()),
                ("domain_id", id.clone()),
                ("expiration_date", expiry.clone()),
            ],
        );
        self.raise(
            reseller,
            "DOMAIN",
            "REGISTERED",
            &[
                ("domain_name", domain.to_string()),
                ("domain_id", id),
                ("expiration_date", expiry),
                ("period", period.to_string()),
            ],
        );
    }

    fn advance_transfer(&mut self, name: &str, now: DateTime<Utc>) {
        let Some(t) = self.transfers.get_mut(name) else {
            return;
        };
        match t.status {
            TransferStatus::PendingOwner if now >= t.stage_ends => {
                if t.refuse {
                    t.status = TransferStatus::Cancelled;
                    let (order_id, reseller) = (t.order_id, t.reseller.clone());
                    self.close_order(order_id, OrderStatus::Cancelled, true);
                    self.raise_transfer(&reseller, name, order_id, "cancelled");
                } else {
                    t.status = TransferStatus::PendingRegistry;
                    t.stage_ends = now + Duration::seconds(self.settings.transfer_registry_secs);
                }
            }
            TransferStatus::PendingRegistry if now >= t.stage_ends => {
                t.status = TransferStatus::Completed;
                let (order_id, reseller) = (t.order_id, t.reseller.clone());
                if let Some(d) = self.domains.get_mut(name) {
                    d.owner = reseller.clone();
                    d.expires = domreg_events::calendar::years_later(d.expires, 1);
                    d.transferable = false;
                }
                self.close_order(order_id, OrderStatus::Completed, false);
                self.raise_transfer(&reseller, name, order_id, "completed");
                if let Some(expires) = self.domains.get(name).map(|d| d.expires) {
                    let id = self.new_id().to_string();
                    self.raise(
                        &reseller,
                        "DOMAIN",
                        "CREATED",
                        &[
                            ("domain_name", name.to_string()),
                            ("domain_id", id),
                            ("expiration_date", super::feed::feed_date(expires)),
                        ],
                    );
                }
            }
            _ => {}
        }
    }

    fn raise_transfer(&mut self, reseller: &str, domain: &str, order_id: u64, status: &str) {
        let transfer_id = self.new_id().to_string();
        self.raise(
            reseller,
            "TRANSFER",
            "STATUS_CHANGE",
            &[
                ("domain_name", domain.to_string()),
                ("transfer_id", transfer_id),
                ("order_id", order_id.to_string()),
                ("transfer_status", status.into()),
            ],
        );
    }

    pub fn close_order(&mut self, id: u64, status: OrderStatus, refund: bool) {
        let now = self.now();
        if let Some(order) = self.orders.get_mut(&id) {
            order.status = status;
            order.completed = Some(now);
            if refund {
                let (reseller, cost) = (order.reseller.clone(), order.cost_cents);
                *self.balances_cents.entry(reseller).or_default() += cost;
            }
        }
    }
}
