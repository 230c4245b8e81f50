//! What the admin API and the admin pages share: one app per request, the admin's token
//! and the admin's name. Each surface builds its own router on it; only `serve` knows
//! both.

use subtle::ConstantTimeEq;

use domreg_events::Actor;

use crate::app::App;
use crate::opensrs::Secret;

pub struct Surface {
    /// The admin the token belongs to: the audit names them for every action taken
    /// through the API or the pages (never a name the caller sends).
    pub admin: String,
    /// One app per request (see `AppPool`): nothing is serialised behind a lock.
    pub app: crate::app::AppPool,
    pub token: Secret,
}

impl Surface {
    /// Names the admin who holds the token.
    pub fn with_admin(mut self, name: &str) -> Self {
        self.admin = name.to_string();
        self
    }

    /// Who acts when a request changes something.
    pub fn actor(&self) -> Actor {
        Actor::Admin(self.admin.clone())
    }

    pub fn new(app: App, token: Secret) -> Self {
        Surface {
            admin: "api".into(),
            app: crate::app::AppPool::new(app),
            token,
        }
    }
}

/// Whether `presented` is the configured token, compared in constant time (only the
/// length can be learnt from timing, which a long random token makes worthless).
pub fn token_matches(presented: &str, expected: &str) -> bool {
    bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}
