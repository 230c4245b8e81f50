//! What an account may spend: its balance, its credit limit and the holds of orders being
//! placed. Pure: the shell reads the account's stream and the ledger, this decides.
//!
//! Why holds: an order's charge is written to its domain's stream, so two orders of one
//! account land on two streams and no single append sees both. Each order first holds
//! its price on the account's stream, appended at the version the decision read; a
//! concurrent hold makes that append fail and the decision is taken again. A hold counts
//! against the balance until the ledger shows its charge, it is released, or it lapses
//! (a placement that died between the hold and the charge).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::settings::{CreditLimitSet, FundsHeld, SettingsEvent};
use crate::{AccountId, Currency, Money, OrderId};

/// How long a hold counts without its charge: far longer than any placement takes from
/// hold to charge (the shell gives up after [`HOLD_USABLE`]), and far longer than the
/// read models lag behind the log.
pub const HOLD_LIFETIME: Duration = Duration::minutes(10);
/// A placement whose hold is older than this writes no charge (it releases and refuses),
/// so a charge never lands after its hold stopped counting.
pub const HOLD_USABLE: Duration = Duration::minutes(1);

/// The holds of an account, folded from its stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFunds {
    pub holds: BTreeMap<OrderId, FundsHeld>,
    pub released: BTreeSet<OrderId>,
    /// Events read from the stream: the version the next hold must follow.
    pub events: u64,
}

impl AccountFunds {
    pub fn evolve(&mut self, event: &SettingsEvent) {
        self.events += 1;
        match event {
            SettingsEvent::FundsHeld(h) => {
                self.holds.insert(h.order_id, h.clone());
            }
            SettingsEvent::FundsReleased(r) => {
                self.released.insert(r.order_id);
            }
            _ => {}
        }
    }

    /// What holds still count against the balance in `currency` at `now`: neither
    /// charged (as far as the ledger shows), released nor lapsed.
    pub fn held(
        &self,
        currency: Currency,
        now: DateTime<Utc>,
        mut charged: impl FnMut(&OrderId) -> bool,
    ) -> i64 {
        self.open_holds(currency, now)
            .filter(|h| !charged(&h.order_id))
            .map(|h| h.amount.minor)
            .sum()
    }

    /// Holds in `currency` neither released nor lapsed at `now`: the ones whose charge
    /// the ledger must be asked about.
    pub fn open_holds(
        &self,
        currency: Currency,
        now: DateTime<Utc>,
    ) -> impl Iterator<Item = &FundsHeld> + '_ {
        self.holds
            .values()
            .filter(move |h| h.amount.currency == currency)
            .filter(move |h| now < h.until)
            .filter(|h| !self.released.contains(&h.order_id))
    }
}

/// Why an account cannot pay: what it has, what it may owe, and what is missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortfall {
    pub account: AccountId,
    pub price: Money,
    pub balance: Money,
    /// Held for orders being placed at this moment.
    pub held: Money,
    pub credit_limit: Money,
    pub missing: Money,
}

impl std::fmt::Display for Shortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "account {} cannot pay {}: its balance is {}",
            self.account, self.price, self.balance
        )?;
        if self.held.minor != 0 {
            write!(f, ", {} of it held for orders being placed", self.held)?;
        }
        write!(
            f,
            ", its credit limit {}; {} is missing (credit the account or raise its limit)",
            self.credit_limit, self.missing
        )
    }
}

/// Whether `account` can pay `price`: the balance, less what is held, less the price,
/// must stay at or above minus the credit limit.
pub fn afford(
    account: &AccountId,
    balance: Money,
    held_minor: i64,
    credit_limit: Money,
    price: Money,
) -> Result<(), Shortfall> {
    let after = i128::from(balance.minor) - i128::from(held_minor) - i128::from(price.minor);
    let floor = -i128::from(credit_limit.minor);
    if after >= floor {
        return Ok(());
    }
    // Every amount is bounded by Money::MAX_MINOR, so the missing part fits an i64.
    let missing = i64::try_from(floor - after).unwrap_or(i64::MAX);
    Err(Shortfall {
        account: account.clone(),
        price,
        balance,
        held: Money::new(held_minor, price.currency),
        credit_limit,
        missing: Money::new(missing, price.currency),
    })
}

/// The hold an order places, lapsing at `now + HOLD_LIFETIME`.
pub fn hold(
    account: &AccountId,
    order_id: OrderId,
    domain: &crate::DomainName,
    price: Money,
    now: DateTime<Utc>,
) -> FundsHeld {
    FundsHeld {
        account: account.clone(),
        order_id,
        domain: domain.clone(),
        amount: price,
        until: now + HOLD_LIFETIME,
    }
}

/// The id of an order's hold: one per order, so a retried placement holds once.
pub fn hold_event_id(order_id: OrderId) -> uuid::Uuid {
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x2d7e_61a4_0b3c_4f19_8e52_c1a0_f00d_5e11);
    uuid::Uuid::new_v5(&NAMESPACE, format!("hold\n{order_id}").as_bytes())
}

/// The limit that applies to `account` in `currency`: its own, else the default set for
/// every account, else zero (no debt).
pub fn credit_limit(limits: &[CreditLimitSet], account: &AccountId, currency: Currency) -> Money {
    let of = |who: Option<&AccountId>| {
        limits
            .iter()
            .rev()
            .find(|l| l.account.as_ref() == who && l.limit.currency == currency)
            .map(|l| l.limit)
    };
    of(Some(account))
        .or_else(|| of(None))
        .unwrap_or(Money::zero(currency))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::FundsReleased;

    fn usd(m: i64) -> Money {
        Money::new(m, Currency::USD)
    }

    #[test]
    fn the_balance_less_holds_and_price_stays_above_the_limit() {
        let a = AccountId::parse("alice").unwrap();
        assert!(afford(&a, usd(1000), 0, usd(0), usd(1000)).is_ok());
        let s = afford(&a, usd(1000), 500, usd(0), usd(1000)).unwrap_err();
        assert_eq!(s.missing, usd(500));
        assert!(afford(&a, usd(0), 0, usd(2000), usd(1999)).is_ok());
        let s = afford(&a, usd(-100), 0, usd(0), usd(1299)).unwrap_err();
        assert_eq!(s.missing, usd(1399));
        assert!(s.to_string().contains("13.99 USD is missing"), "{s}");
    }

    #[test]
    fn a_hold_counts_until_charged_released_or_lapsed() {
        let a = AccountId::parse("alice").unwrap();
        let d = crate::DomainName::parse("a.com").unwrap();
        let now = Utc::now();
        let ids: Vec<OrderId> = (0..3).map(|_| OrderId(uuid::Uuid::now_v7())).collect();
        let mut f = AccountFunds::default();
        for id in &ids {
            f.evolve(&hold(&a, *id, &d, usd(100), now).into());
        }
        assert_eq!(f.held(Currency::USD, now, |_| false), 300);
        assert_eq!(f.held(Currency::USD, now, |o| *o == ids[0]), 200);
        f.evolve(
            &FundsReleased {
                account: a.clone(),
                order_id: ids[1],
                reason: "refused".into(),
            }
            .into(),
        );
        assert_eq!(f.held(Currency::USD, now, |o| *o == ids[0]), 100);
        assert_eq!(f.held(Currency::USD, now + HOLD_LIFETIME, |_| false), 0);
        assert_eq!(f.held(Currency::EUR, now, |_| false), 0);
        assert_eq!(f.events, 4);
    }

    #[test]
    fn an_accounts_own_limit_wins_over_the_default() {
        let a = AccountId::parse("alice").unwrap();
        let b = AccountId::parse("bob").unwrap();
        let limits = vec![
            CreditLimitSet {
                account: None,
                limit: usd(5000),
            },
            CreditLimitSet {
                account: Some(a.clone()),
                limit: usd(100),
            },
        ];
        assert_eq!(credit_limit(&limits, &a, Currency::USD), usd(100));
        assert_eq!(credit_limit(&limits, &b, Currency::USD), usd(5000));
        assert_eq!(
            credit_limit(&limits, &b, Currency::EUR),
            Money::zero(Currency::EUR)
        );
        assert_eq!(credit_limit(&[], &b, Currency::USD), usd(0));
    }
}
