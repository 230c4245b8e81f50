//! Settings as events: OpenSRS connections, TLD routing, prices, async policies and
//! account credits. Secrets (the OpenSRS key) are never part of these events.

use serde::{Deserialize, Serialize};

use crate::{AccountId, Money, OrderKind, Period};

/// An OpenSRS connection as configured (its key is kept apart, as a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrarConfig {
    pub title: String,
    pub server: String,
    pub port: u16,
    /// Local address outgoing calls are bound to (OpenSRS's IP allow-list).
    pub source_ip: Option<String>,
    pub login: String,
    /// The registrar's agreement, shown to customers before they order.
    pub license_agreement: String,
    /// Warn holders this many days before expiry.
    pub warn_days: u16,
    /// Renew automatically this many days before expiry.
    pub renew_days: u16,
    /// Connected to OpenSRS's test system rather than the live one.
    pub test_mode: bool,
    /// Plain HTTP, for a sandbox on loopback only.
    pub plain_http: bool,
    /// Nameservers used when an order names none.
    pub nameservers: Vec<String>,
    /// Whether new domains renew automatically unless the customer says otherwise.
    pub auto_renew_default: bool,
    /// Whether new registrations are locked at the registry (`f_lock_domain`), where the
    /// TLD has a registrar lock. Absent in events written before: on, as it always was.
    #[serde(default = "locked_by_default")]
    pub lock_new_registrations: bool,
    /// Years each automatic renewal orders, unless the domain says otherwise.
    #[serde(default = "one_year")]
    pub renew_years: crate::Period,
}

fn one_year() -> crate::Period {
    crate::Period::ONE_YEAR
}

fn locked_by_default() -> bool {
    true
}

/// What a price is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceKind {
    Register,
    Transfer,
    Renew,
    /// Switching WHOIS privacy on (charged once, refunded if OpenSRS refuses).
    Privacy,
    /// Restoring a domain past its renewal grace period (told to the admin).
    Restore,
}

impl PriceKind {
    pub const ALL: [PriceKind; 5] = [
        PriceKind::Register,
        PriceKind::Transfer,
        PriceKind::Renew,
        PriceKind::Privacy,
        PriceKind::Restore,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PriceKind::Register => "register",
            PriceKind::Transfer => "transfer",
            PriceKind::Renew => "renew",
            PriceKind::Privacy => "privacy",
            PriceKind::Restore => "restore",
        }
    }

    /// Priced once rather than per period (no `--years`).
    pub fn priced_once(self) -> bool {
        !matches!(self, PriceKind::Register | PriceKind::Renew)
    }

    pub fn of(kind: OrderKind) -> Self {
        match kind {
            OrderKind::Register => PriceKind::Register,
            OrderKind::Transfer => PriceKind::Transfer,
            OrderKind::Renew => PriceKind::Renew,
        }
    }
}

mod rules;
pub use rules::*;

/// A connection was added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrarAdded {
    pub config: RegistrarConfig,
}

/// A connection's settings changed (the whole new configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrarUpdated {
    pub config: RegistrarConfig,
}

/// The connection's key was replaced (the key itself is never recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrarKeyReplaced {
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrarRemoved {
    pub title: String,
}

/// New orders for `tld` go through `registrar` (orders already placed keep theirs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TldAssigned {
    pub tld: String,
    pub registrar: String,
}

/// The price of an order kind and period for a TLD (absolute per period).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceSet {
    pub tld: String,
    pub kind: PriceKind,
    pub years: Option<Period>,
    pub price: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceRemoved {
    pub tld: String,
    pub kind: PriceKind,
    pub years: Option<Period>,
}

/// The async policy of a TLD (`*`: the default), for registrations or transfers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySet {
    pub tld: String,
    pub transfer: bool,
    pub policy: AsyncPolicy,
}

/// A payment received from an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountCredited {
    pub account: AccountId,
    pub amount: Money,
    pub note: String,
}

/// The contacts an account's registrations use unless an order gives its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountContactsSet {
    pub account: AccountId,
    pub contacts: Box<crate::ContactSet>,
}

/// The most an account may owe in a currency: an order that would take its balance below
/// minus this is refused. `account: None` sets the default of accounts without their own;
/// with neither, the limit is zero (no debt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditLimitSet {
    pub account: Option<AccountId>,
    pub limit: Money,
}

/// An order's price set aside on the account's stream before its charge is written (see
/// `funds.rs`): it counts against the balance until the charge shows, or `until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundsHeld {
    pub account: AccountId,
    pub order_id: crate::OrderId,
    pub domain: crate::DomainName,
    pub amount: Money,
    pub until: chrono::DateTime<chrono::Utc>,
}

/// A hold given back: its order was refused before anything was charged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundsReleased {
    pub account: AccountId,
    pub order_id: crate::OrderId,
    pub reason: String,
}

/// Who a token lets in: a named admin (every account), or one customer account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Principal {
    Admin(String),
    Customer(AccountId),
}

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Principal::Admin(name) => write!(f, "admin {name}"),
            Principal::Customer(account) => write!(f, "customer {account}"),
        }
    }
}

/// A token was issued. Only its SHA-256 digest is kept: the token itself is shown once,
/// to the admin who issued it, and never written anywhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenIssued {
    pub token_id: uuid::Uuid,
    pub principal: Principal,
    /// Hex SHA-256 of the token.
    pub digest: String,
    /// A sign-in link's token: good once, until `expires_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A token stops working: revoked, rotated, or a sign-in link used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRevoked {
    pub token_id: uuid::Uuid,
    pub reason: String,
}

event_union! {
    /// Every change of settings, each in its configuration stream.
    SettingsEvent, SETTINGS_EVENT_TYPES;
    RegistrarAdded = 1,
    RegistrarUpdated = 1,
    RegistrarKeyReplaced = 1,
    RegistrarRemoved = 1,
    TldAssigned = 1,
    PriceSet = 1,
    PriceRemoved = 1,
    PolicySet = 1,
    AccountCredited = 1,
    AccountContactsSet = 1,
    CreditLimitSet = 1,
    FundsHeld = 1,
    FundsReleased = 1,
    TokenIssued = 1,
    TokenRevoked = 1,
}

/// Where tokens are issued and revoked.
pub const ACCESS_STREAM: &str = "access";

/// Where the default credit limit of every account is kept.
pub const ACCOUNTS_STREAM: &str = "accounts";

pub fn registrar_stream(title: &str) -> String {
    format!("registrar-{title}")
}

pub fn tld_stream(tld: &str) -> String {
    format!("tld-{tld}")
}

pub fn account_stream(account: &AccountId) -> String {
    format!("account-{account}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    pub fn config() -> RegistrarConfig {
        RegistrarConfig {
            title: "main".into(),
            server: "rr-n1-tor.opensrs.net".into(),
            port: 55443,
            source_ip: Some("203.0.113.5".into()),
            login: "reseller".into(),
            license_agreement: "Be nice.".into(),
            warn_days: 30,
            renew_days: 14,
            test_mode: false,
            plain_http: false,
            nameservers: vec!["ns1.example.net".into()],
            auto_renew_default: true,
            lock_new_registrations: true,
            renew_years: crate::Period::ONE_YEAR,
        }
    }

    #[test]
    fn registrar_validation_names_the_problem() {
        assert_eq!(config().validate(), Ok(vec![]));
        type Mutation = fn(&mut RegistrarConfig);
        let cases: Vec<(Mutation, &str)> = vec![
            (|c| c.title = " leading space".into(), "title"),
            (|c| c.title = "tab\tinside".into(), "title"),
            (|c| c.port = 55000, "legacy socket protocol"),
            (
                |c| {
                    c.test_mode = true;
                    c.server = "rr-n1-tor.opensrs.net".into()
                },
                "test mode is on",
            ),
            (|c| c.server = "bad_host!".into(), "neither a host name"),
            (|c| c.port = 0, "port 0"),
            (|c| c.source_ip = Some("1.2.3".into()), "not an IP address"),
            (|c| c.login = String::new(), "login"),
            (|c| c.warn_days = 400, "warn-days of 400 days"),
            (|c| c.plain_http = true, "plain HTTP"),
            (|c| c.nameservers = vec!["ns 1".into()], "nameserver"),
        ];
        for (mutate, expected) in cases {
            let mut c = config();
            mutate(&mut c);
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains(expected), "{e}");
        }
        let mut c = config();
        c.renew_days = 40;
        let w = c.validate().unwrap();
        assert!(w[0]
            .0
            .contains("renew-days (40) is greater than warn-days (30)"));
        c.server = "127.0.0.1".into();
        c.plain_http = true;
        c.renew_days = 1;
        assert_eq!(c.validate(), Ok(vec![]));
    }

    #[test]
    fn tlds_prices_and_policies() {
        assert_eq!(parse_tld(".CO.UK").unwrap(), "co.uk");
        assert_eq!(parse_tld("*").unwrap(), "*");
        assert!(parse_tld("c_o").is_err());
        assert!(parse_tld("123").is_err());
        let usd = |m| Money::new(m, Currency::USD);
        assert!(validate_price(PriceKind::Register, Some(Period::ONE_YEAR), usd(1299)).is_ok());
        assert!(validate_price(PriceKind::Transfer, None, usd(999)).is_ok());
        assert!(validate_price(PriceKind::Transfer, Some(Period::ONE_YEAR), usd(999)).is_err());
        assert!(validate_price(PriceKind::Renew, None, usd(999)).is_err());
        assert!(validate_price(PriceKind::Register, Some(Period::ONE_YEAR), usd(0)).is_err());
        assert_eq!(
            AsyncPolicy::default_for("ca", false),
            AsyncPolicy::hours(12, 180)
        );
        assert_eq!(
            AsyncPolicy::default_for("co.uk", false),
            AsyncPolicy::hours(1, 25)
        );
        assert_eq!(
            AsyncPolicy::default_for("de", false),
            AsyncPolicy::hours(1, 50)
        );
        assert_eq!(
            AsyncPolicy::default_for("de", true),
            AsyncPolicy::hours(1, 168)
        );
        assert_eq!(
            AsyncPolicy::default_for("com", false),
            AsyncPolicy::hours(1, 48)
        );
        assert!(AsyncPolicy {
            poll_every_secs: 0,
            timeout_secs: 100
        }
        .validate()
        .is_err());
        assert!(AsyncPolicy {
            poll_every_secs: 3600,
            timeout_secs: 1800
        }
        .validate()
        .is_err());
    }

    #[test]
    fn settings_events_round_trip() {
        let e: SettingsEvent = RegistrarAdded { config: config() }.into();
        let back = SettingsEvent::decode(e.event_type(), e.schema_version(), &e.encode()).unwrap();
        assert_eq!(back, e);
        assert!(
            !String::from_utf8(e.encode()).unwrap().contains("key"),
            "no key field in the event"
        );
    }
}
