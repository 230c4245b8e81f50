//! The expiry rules: one warning per domain and expiry date inside the connection's
//! warning window, one automatic renewal per expiry date inside its renew window for
//! domains with auto-renew on. Expiry dates are the registrar's, never local arithmetic.

use chrono::{DateTime, Duration, Utc};

use crate::domain::Domain;
use crate::settings::RegistrarConfig;

/// Warn holders this many days before expiry, unless the connection says otherwise.
pub const DEFAULT_WARN_DAYS: u16 = 30;
/// Renew automatically this many days before expiry, unless the connection says otherwise.
pub const DEFAULT_RENEW_DAYS: u16 = 14;

/// Where an expiry date stands for a connection's windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Outside,
    /// Inside the warning window (so many days).
    Warning(u16),
    /// Inside the renew window (so many days).
    Renewal(u16),
    Expired,
}

/// For display: the windows as the expiry round applies them.
pub fn window(expires_at: DateTime<Utc>, config: &RegistrarConfig, now: DateTime<Utc>) -> Window {
    if now >= expires_at {
        Window::Expired
    } else if now >= expires_at - Duration::days(i64::from(config.renew_days)) {
        Window::Renewal(config.renew_days)
    } else if now >= expires_at - Duration::days(i64::from(config.warn_days)) {
        Window::Warning(config.warn_days)
    } else {
        Window::Outside
    }
}

/// When `tld`'s registry stops renewing a domain that expired at `expires` (its renewal
/// grace period, from the capability table); after it only a restore helps.
pub fn grace_ends(expires: DateTime<Utc>, tld: &str) -> DateTime<Utc> {
    expires + Duration::days(i64::from(crate::capabilities::of(tld).renewal_grace_days))
}

/// Refuses a renewal of a domain past its renewal grace period.
pub fn renewable(state: &Domain, now: DateTime<Utc>) -> Result<(), crate::DomainError> {
    let (Some(name), Some(expires)) = (&state.name, state.expires_at) else {
        return Ok(());
    };
    let ends = grace_ends(expires, name.tld());
    if now < ends {
        return Ok(());
    }
    Err(crate::DomainError::RestoreNeeded {
        domain: name.to_string(),
        expired: expires.date_naive(),
        grace_ended: ends.date_naive(),
    })
}

/// What the expiry round owes a domain at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExpiryDue {
    /// Warn the holder about this expiry date.
    pub warning: Option<DateTime<Utc>>,
    /// Place an automatic renewal for the current expiry date.
    pub renewal: bool,
    /// Tell the holder the expiry date passed unrenewed.
    pub expired: bool,
}

impl ExpiryDue {
    pub fn any(&self) -> bool {
        self.warning.is_some() || self.renewal || self.expired
    }
}

pub fn expiry_due(state: &Domain, config: &RegistrarConfig, now: DateTime<Utc>) -> ExpiryDue {
    let (Some(expires), true, None) = (state.expires_at, state.is_registered(), &state.gone) else {
        return ExpiryDue::default();
    };
    let days = |d: u16| Duration::days(i64::from(d));
    let warning = now >= expires - days(config.warn_days)
        && now < expires
        && !state.warned_for.contains(&expires);
    let renewal = state.auto_renew
        && now >= expires - days(config.renew_days)
        && renewable(state, now).is_ok()
        && state.open_order().is_none()
        && !state.renewal_requested_for.contains(&expires);
    let expired = now >= expires
        && state.open_order().is_none()
        && !state.expired_noticed_for.contains(&expires);
    ExpiryDue {
        warning: warning.then_some(expires),
        renewal,
        expired,
    }
}
