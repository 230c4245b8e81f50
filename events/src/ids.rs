//! Small value types shared by commands and events: ids, accounts, periods, kinds, actors.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Identifies one order (a registration, transfer or renewal) across its whole life.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(pub Uuid);

impl OrderId {
    /// Order ids are chosen at the edge (the CLI or API) so that a retried command can
    /// carry the same id and be recognised.
    pub fn from_uuid(id: Uuid) -> Self {
        OrderId(id)
    }

    /// The order an `Idempotency-Key` names for an account: the same key always names
    /// the same order, so a retried request finds the order it placed the first time.
    pub fn for_idempotency_key(account: &AccountId, key: &str) -> Result<Self, IdError> {
        Ok(OrderId(idempotent_uuid("order", account, key)?))
    }

    /// The id of the next attempt at a change OpenSRS never made (`Change::never_made`):
    /// derived from this one, so a run cut short again continues the same chain of
    /// attempts instead of starting another.
    pub fn next_attempt(self) -> Self {
        const NAMESPACE: Uuid = Uuid::from_u128(0x0b7e_93d2_51a6_4c0f_8d3e_a9f4_11c2_7e05);
        OrderId(Uuid::new_v5(&NAMESPACE, self.0.as_bytes()))
    }

    /// The id of one domain's change in a bulk change `key`: the same on every run, so a
    /// re-run finds what the last one did.
    pub fn for_bulk_change(key: &str, domain: &str) -> Result<Self, IdError> {
        const NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2b0e_4d55_4a3e_9a0b_d0e4_7265_6702);
        let key = check_idempotency_key(key)?;
        Ok(OrderId(Uuid::new_v5(
            &NAMESPACE,
            format!("bulk\n{key}\n{domain}").as_bytes(),
        )))
    }
}

/// A key a client sends to make a request safe to retry: 1 to 200 printable ASCII
/// characters (an `Idempotency-Key` header, `--idempotency-key`).
pub fn check_idempotency_key(key: &str) -> Result<&str, IdError> {
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(IdError::IdempotencyKey(key.chars().take(60).collect()));
    }
    Ok(key)
}

/// A name-based (v5) UUID for `(what, account, key)`: deterministic, and distinct for
/// orders and credits and for each account.
pub fn idempotent_uuid(what: &str, account: &AccountId, key: &str) -> Result<Uuid, IdError> {
    const NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2b0e_4d55_4a3e_9a0b_d0e4_7265_6701);
    let key = check_idempotency_key(key)?;
    let name = format!("{what}\n{}\n{key}", account.as_str());
    Ok(Uuid::new_v5(&NAMESPACE, name.as_bytes()))
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrderId({})", self.0)
    }
}

impl std::str::FromStr for OrderId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim()).map(OrderId)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("account id {0:?} is invalid: use 1 to 64 characters of letters, digits, '.', '_', '-' or '@'")]
    Account(String),
    #[error("period of {0} years is not allowed: registrations and renewals run 1 to 10 years")]
    Period(i64),
    #[error(
        "idempotency key {0:?} is invalid: use 1 to 200 printable ASCII characters without spaces"
    )]
    IdempotencyKey(String),
    #[error("order kind {0:?} is unknown: use register, transfer or renew")]
    UnknownKind(String),
}

/// A customer account of the hosting provider, as the provider's panel names it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        Self::from_owned(s.to_string())
    }

    /// Checks an owned string and keeps it: decoding an event allocates the id once.
    fn from_owned(s: String) -> Result<Self, IdError> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
        if ok {
            Ok(AccountId(s))
        } else {
            Err(IdError::Account(s))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.0)
    }
}

impl TryFrom<String> for AccountId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        AccountId::from_owned(s)
    }
}

impl From<AccountId> for String {
    fn from(a: AccountId) -> String {
        a.0
    }
}

impl std::str::FromStr for AccountId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccountId::parse(s)
    }
}

/// A registration or renewal period in whole years, 1 to 10 (the registries' limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Period(u8);

impl Period {
    pub const ONE_YEAR: Period = Period(1);

    pub fn years(years: i64) -> Result<Self, IdError> {
        if (1..=10).contains(&years) {
            Ok(Period(years as u8))
        } else {
            Err(IdError::Period(years))
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for Period {
    type Error = IdError;
    fn try_from(y: i64) -> Result<Self, Self::Error> {
        Period::years(y)
    }
}

impl From<Period> for i64 {
    fn from(p: Period) -> i64 {
        i64::from(p.0)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("1 year"),
            n => write!(f, "{n} years"),
        }
    }
}

/// What an order asks the registrar to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    Register,
    Transfer,
    Renew,
}

impl OrderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderKind::Register => "register",
            OrderKind::Transfer => "transfer",
            OrderKind::Renew => "renew",
        }
    }
}

impl std::str::FromStr for OrderKind {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "register" => Ok(OrderKind::Register),
            "transfer" => Ok(OrderKind::Transfer),
            "renew" => Ok(OrderKind::Renew),
            _ => Err(IdError::UnknownKind(s.to_string())),
        }
    }
}

impl fmt::Display for OrderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who caused an event: kept in every event's metadata so an audit can say who did what.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// A customer acting on their own account.
    Customer(AccountId),
    /// A named administrator (CLI user, API token holder).
    Admin(String),
    /// The engine itself (process manager, scheduler).
    Engine,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Customer(a) => write!(f, "customer {a}"),
            Actor::Admin(a) => write!(f, "admin {a}"),
            Actor::Engine => f.write_str("engine"),
        }
    }
}
