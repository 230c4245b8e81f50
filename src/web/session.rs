//! Sessions: signing in sets an HttpOnly, Secure, SameSite cookie naming a server-side
//! session, which carries the CSRF token every form must echo. Admins and customers
//! have separate sessions (cookies scoped to `/admin` and `/account`); a customer's
//! session names its account.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use rand::distr::{Alphanumeric, SampleString};

use domreg_events::AccountId;

pub const COOKIE: &str = "domreg_admin";
const LIFETIME: Duration = Duration::from_secs(8 * 3600);

#[derive(Clone)]
pub struct Session {
    pub csrf: String,
    /// The customer signed in (customer sessions only).
    pub account: Option<AccountId>,
    /// The admin signed in (admin sessions): the audit names them.
    pub admin: Option<String>,
    expires: Instant,
}

pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
    cookie: &'static str,
    path: &'static str,
}

impl Default for Sessions {
    /// The admins' sessions.
    fn default() -> Self {
        Sessions {
            map: Mutex::default(),
            cookie: COOKIE,
            path: "/admin",
        }
    }
}

fn random() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 40)
}

impl Sessions {
    /// The customers' sessions.
    pub fn customers() -> Self {
        Sessions {
            map: Mutex::default(),
            cookie: "domreg_account",
            path: "/account",
        }
    }

    /// A new session; returns its id (for the cookie).
    pub fn create(&self, account: Option<AccountId>) -> String {
        self.create_for(account, None)
    }

    /// A new session of a named admin.
    pub fn create_for(&self, account: Option<AccountId>, admin: Option<String>) -> String {
        let id = random();
        if let Ok(mut map) = self.map.lock() {
            let now = Instant::now();
            map.retain(|_, s| s.expires > now);
            map.insert(
                id.clone(),
                Session {
                    csrf: random(),
                    account,
                    admin,
                    expires: now + LIFETIME,
                },
            );
        }
        id
    }

    /// The live session named by the request's cookie.
    pub fn find(&self, headers: &HeaderMap) -> Option<(String, Session)> {
        let id = cookie(headers, self.cookie)?;
        let map = self.map.lock().ok()?;
        map.get(&id)
            .filter(|s| s.expires > Instant::now())
            .map(|s| (id.clone(), s.clone()))
    }

    pub fn remove(&self, id: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(id);
        }
    }

    /// The `Set-Cookie` value for a session (or, with `None`, one that clears it).
    pub fn set_cookie(&self, id: Option<&str>) -> String {
        let (cookie, path) = (self.cookie, self.path);
        match id {
            Some(id) => format!(
                "{cookie}={id}; Path={path}; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
                LIFETIME.as_secs()
            ),
            None => format!("{cookie}=; Path={path}; HttpOnly; Secure; SameSite=Strict; Max-Age=0"),
        }
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}
