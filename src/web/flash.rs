//! Messages shown after an action. The redirect carries only a random id; the text stays
//! on the server, so a crafted link cannot make the pages show words of its choosing.

use std::collections::VecDeque;
use std::sync::Mutex;

use rand::distr::{Alphanumeric, SampleString};

/// Recent messages, newest last; older ones fall off (a reload long after shows none).
static MESSAGES: Mutex<VecDeque<(String, String, bool)>> = Mutex::new(VecDeque::new());
const KEPT: usize = 1_000;

/// Keeps `text` and returns the id a redirect carries.
pub fn put(text: &str, error: bool) -> String {
    let id = Alphanumeric.sample_string(&mut rand::rng(), 24);
    if let Ok(mut m) = MESSAGES.lock() {
        if m.len() >= KEPT {
            m.pop_front();
        }
        m.push_back((id.clone(), text.to_string(), error));
    }
    id
}

/// The message of `id`, and whether it is an error.
pub fn get(id: &str) -> Option<(String, bool)> {
    let m = MESSAGES.lock().ok()?;
    m.iter()
        .find(|(i, _, _)| i == id)
        .map(|(_, text, error)| (text.clone(), *error))
}
