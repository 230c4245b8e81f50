//! Admin sessions: signing in with the admin token sets an HttpOnly, Secure, SameSite
//! cookie naming a server-side session, which carries the CSRF token every form must echo.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use rand::distr::{Alphanumeric, SampleString};

pub const COOKIE: &str = "domreg_admin";
const LIFETIME: Duration = Duration::from_secs(8 * 3600);

#[derive(Clone)]
pub struct Session {
    pub csrf: String,
    expires: Instant,
}

#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

fn random() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 40)
}

impl Sessions {
    /// A new session; returns its id (for the cookie).
    pub fn create(&self) -> String {
        let id = random();
        if let Ok(mut map) = self.0.lock() {
            let now = Instant::now();
            map.retain(|_, s| s.expires > now);
            map.insert(
                id.clone(),
                Session {
                    csrf: random(),
                    expires: now + LIFETIME,
                },
            );
        }
        id
    }

    /// The live session named by the request's cookie.
    pub fn find(&self, headers: &HeaderMap) -> Option<(String, Session)> {
        let id = cookie(headers, COOKIE)?;
        let map = self.0.lock().ok()?;
        map.get(&id)
            .filter(|s| s.expires > Instant::now())
            .map(|s| (id.clone(), s.clone()))
    }

    pub fn remove(&self, id: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(id);
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

/// The `Set-Cookie` value for a session (or, with `None`, one that clears it).
pub fn set_cookie(id: Option<&str>) -> String {
    match id {
        Some(id) => format!(
            "{COOKIE}={id}; Path=/admin; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
            LIFETIME.as_secs()
        ),
        None => format!("{COOKIE}=; Path=/admin; HttpOnly; Secure; SameSite=Strict; Max-Age=0"),
    }
}
