//! What each open order has been charged and not given back: what cancelling it refunds
//! (the model's rule, `domreg_events::policy::refund_on_cancel`, read from the ledger).

use std::collections::HashMap;

use domreg_events::{Currency, Money};

use crate::{ModelError, ReadModels};

impl ReadModels {
    /// The charge, net of refunds, of every order of `account` that has one.
    pub fn unrefunded_charges(&self, account: &str) -> Result<HashMap<String, Money>, ModelError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT order_id, currency, -SUM(amount_minor) FROM ledger_entries
             WHERE account = ?1 AND order_id IS NOT NULL AND kind IN ('charge', 'refund')
             GROUP BY order_id, currency HAVING SUM(amount_minor) < 0",
        )?;
        let rows = stmt
            .query_map([account], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(order, currency, minor)| {
                let currency = Currency::parse(&currency)
                    .map_err(|e| ModelError::Data(format!("order {order}: {e}")))?;
                Ok((order, Money::new(minor, currency)))
            })
            .collect()
    }
}
