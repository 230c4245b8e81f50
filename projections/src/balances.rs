//! Account balances: what each account owes, per currency, from charges and refunds.

use std::collections::BTreeMap;

use domreg_events::{AccountId, Currency, DomainEvent, MoneyError};

/// Net amount charged to each account, in minor units per currency (charges minus refunds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Balances {
    charged: BTreeMap<(AccountId, Currency), i64>,
}

impl Balances {
    /// Folds one event. Overflow is reported, never wrapped.
    pub fn apply(&mut self, event: &DomainEvent) -> Result<(), MoneyError> {
        let (account, amount, sign) = match event {
            DomainEvent::Charged(c) => (&c.account, c.amount, 1),
            DomainEvent::Refunded(r) => (&r.account, r.amount, -1),
            _ => return Ok(()),
        };
        let entry = self
            .charged
            .entry((account.clone(), amount.currency))
            .or_default();
        *entry = amount
            .minor
            .checked_mul(sign)
            .and_then(|delta| entry.checked_add(delta))
            .ok_or_else(|| MoneyError::Overflow(format!("balance of {account}")))?;
        Ok(())
    }

    /// The net charge of `account` in `currency` (0 when it has none).
    pub fn net_charged(&self, account: &AccountId, currency: Currency) -> i64 {
        self.charged
            .get(&(account.clone(), currency))
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domreg_events::event::{Charged, Refunded};
    use domreg_events::{Money, OrderId};

    #[test]
    fn charges_minus_refunds() {
        let alice = AccountId::parse("alice").unwrap();
        let order = OrderId(uuid::Uuid::nil());
        let fee = Money::new(1299, Currency::USD);
        let mut b = Balances::default();
        b.apply(
            &Charged {
                order_id: order,
                account: alice.clone(),
                amount: fee,
            }
            .into(),
        )
        .unwrap();
        b.apply(
            &Charged {
                order_id: order,
                account: alice.clone(),
                amount: fee,
            }
            .into(),
        )
        .unwrap();
        b.apply(
            &Refunded {
                order_id: order,
                account: alice.clone(),
                amount: fee,
            }
            .into(),
        )
        .unwrap();
        assert_eq!(b.net_charged(&alice, Currency::USD), 1299);
        assert_eq!(b.net_charged(&alice, Currency::EUR), 0);
        let huge = Money::new(i64::MAX, Currency::USD);
        assert!(b
            .apply(
                &Charged {
                    order_id: order,
                    account: alice,
                    amount: huge
                }
                .into()
            )
            .is_err());
    }
}
