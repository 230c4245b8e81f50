//! What the admin API and the admin pages share: one app per request, the admin's token
//! and the admin's name. Each surface builds its own router on it; only `serve` knows
//! both.

use subtle::ConstantTimeEq;

use domreg_events::settings::Principal;
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

    /// Who acts when a request changes something: the holder of the request's token (a
    /// named admin, a customer), else the admin of the configured token.
    pub fn actor(&self) -> Actor {
        match caller() {
            Some(Principal::Admin(name)) => Actor::Admin(name),
            Some(Principal::Customer(account)) => Actor::Customer(account),
            None => Actor::Admin(self.admin.clone()),
        }
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

tokio::task_local! {
    /// Who sent the request being served (set by the authentication layer).
    static CALLER: Principal;
}

/// Runs `f` as a request of `principal`.
pub async fn as_caller<F: std::future::Future>(principal: Principal, f: F) -> F::Output {
    CALLER.scope(principal, f).await
}

/// Who sent the request being served, if a layer said.
pub fn caller() -> Option<Principal> {
    CALLER.try_with(Clone::clone).ok()
}

/// Who a presented token belongs to: the configured admin token, or a live issued one
/// (a named admin, a customer account). The API and the pages both sign in with it.
pub async fn holder(state: &Surface, presented: &str) -> Option<Principal> {
    if token_matches(presented, state.token.expose()) {
        return Some(Principal::Admin(state.admin.clone()));
    }
    if presented.is_empty() {
        return None;
    }
    let mut app = state.app.lock().await;
    if let Some(p) = crate::admin::access::authenticate(&app, presented) {
        return Some(p);
    }
    // A token issued a moment ago may not be folded yet.
    app.catch_up().await.ok()?;
    crate::admin::access::authenticate(&app, presented)
}
