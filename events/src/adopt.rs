//! Domains domreg did not order itself but that are in the account at OpenSRS: adopted by
//! import, or completed late after their order ended here. Pure decisions.

use chrono::{DateTime, Utc};

use crate::decide::DomainError;
use crate::domain::{Domain, End};
use crate::event::*;
use crate::OrderId;

/// Adopts `import`ed domain. A second import of the same domain to the same account
/// records nothing; to another account it is refused, as is one with an order open.
pub fn import(state: &Domain, import: Imported) -> Result<Vec<DomainEvent>, DomainError> {
    if let Some(order) = state.open_order() {
        return Err(DomainError::OrderInProgress {
            domain: import.domain.to_string(),
            order: order.id,
            kind: order.kind,
        });
    }
    match (&state.holder, &state.gone) {
        (Some(holder), None) if *holder == import.account => Ok(vec![]),
        (Some(holder), None) => Err(DomainError::HeldByAnother {
            domain: import.domain.to_string(),
            holder: holder.clone(),
            account: import.account,
        }),
        // Never held here, or gone and back in the account: adopt it.
        _ => Ok(vec![import.into()]),
    }
}

/// The admin's choice about `order_id`, which ended without completing while OpenSRS
/// holds the domain for the reseller: charge its account again (it gets the domain), or
/// let it go. Made once per order.
pub fn settle_late(
    state: &Domain,
    order_id: OrderId,
    charge_again: bool,
    expires_at: DateTime<Utc>,
    reason: String,
) -> Result<Vec<DomainEvent>, DomainError> {
    let order = state
        .orders
        .get(&order_id)
        .ok_or(DomainError::UnknownOrder(order_id))?;
    let not_late = |why: &str| {
        Err(DomainError::NotLate {
            order: order_id,
            why: why.to_string(),
        })
    };
    match order.end() {
        None => return not_late("it is still open"),
        Some(End::Confirmed) => return not_late("it completed here"),
        Some(_) => {}
    }
    if order.kind == crate::OrderKind::Renew {
        return not_late("it is a renewal");
    }
    if order.late.is_some() {
        return not_late("the choice about it was already made");
    }
    if state.is_registered() && state.gone.is_none() {
        return not_late("the domain is held by an account here");
    }
    let choice = if charge_again {
        LateChoice::ChargeAgain {
            amount: order.price,
        }
    } else {
        LateChoice::LetGo
    };
    Ok(vec![LateCompletionSettled {
        order_id,
        account: order.account.clone(),
        choice,
        expires_at,
        reason,
    }
    .into()])
}
