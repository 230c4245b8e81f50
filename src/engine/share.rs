//! Several engines on one log: who does which piece of work.
//!
//! Every engine on a server log beats into it (see `store::postgres::peers`) every third
//! of its lease; the engines seen within the lease are the living. Each piece of work has
//! a key (an order, a connection's event feed, the daily expiry round, the mail, the
//! change recovery, a connection's reconciliation) and belongs to the living engine that
//! scores highest for it (rendezvous hashing): the engines agree without talking to each
//! other, every key has one owner, and when an engine joins or dies only its own share of
//! the keys moves. A dead engine's work is taken over once its lease lapses and the others
//! have beaten again: within `lease + lease / 3` and a round.
//!
//! Views can disagree for a moment (one engine has seen a newcomer, another not yet).
//! Then a key may have two owners for a round: that costs a duplicate poll at most, since
//! every step appends with the expected version and a submission is owned by its lease.

use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use crate::store::postgres::PgStore;
use crate::store::LogStore;

/// The rendezvous owner of `key` among `engines`, if there are any.
pub fn owner<'a>(engines: &'a [String], key: &str) -> Option<&'a str> {
    engines
        .iter()
        .max_by_key(|e| (score(e, key), e.as_str()))
        .map(String::as_str)
}

/// A stable 64-bit score of (engine, key): FNV-1a, then a finaliser that spreads it
/// (the same in every build and process, unlike `std`'s hasher).
fn score(engine: &str, key: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in engine.bytes().chain([0xff]).chain(key.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// How long an engine stays among the living without beating, unless told otherwise.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// This engine's place among the engines sharing its log.
#[derive(Clone)]
pub struct Share {
    inner: Option<Arc<Shared>>,
}

struct Shared {
    store: PgStore,
    me: String,
    lease: Duration,
    living: RwLock<Vec<String>>,
}

impl Share {
    /// Works alone: every key is this engine's (the embedded log, or a log whose engines
    /// cannot coordinate).
    pub fn alone() -> Share {
        Share { inner: None }
    }

    /// Joins the engines sharing `store` as `me`, beating every third of `lease` on a
    /// task of its own (so a long round never lets the lease lapse) until the last clone
    /// of the share is dropped. A store that cannot coordinate means working alone.
    pub async fn join(store: &LogStore, me: &str, lease: Duration) -> Share {
        let LogStore::Postgres(store) = store else {
            return Share::alone();
        };
        let shared = Arc::new(Shared {
            store: store.clone(),
            me: me.to_string(),
            lease,
            living: RwLock::new(vec![me.to_string()]),
        });
        shared.beat().await;
        tokio::spawn(beat_until_dropped(Arc::downgrade(&shared)));
        Share {
            inner: Some(shared),
        }
    }

    /// Whether `key`'s work is this engine's.
    pub fn owns(&self, key: &str) -> bool {
        let Some(s) = &self.inner else {
            return true;
        };
        let mut living = s.living.read().map(|l| l.clone()).unwrap_or_default();
        // Never orphan our own keys, even if our last beat was missed.
        if !living.contains(&s.me) {
            living.push(s.me.clone());
        }
        owner(&living, key) == Some(s.me.as_str())
    }

    /// The shared store, when there is one (for the shared cursors).
    pub fn store(&self) -> Option<&PgStore> {
        self.inner.as_ref().map(|s| &s.store)
    }

    /// Leaves the living at once (a clean stop), so the others take over without waiting
    /// for the lease.
    pub async fn leave(&self) {
        if let Some(s) = &self.inner {
            if let Err(e) = s.store.leave(&s.me).await {
                tracing::warn!(error = %e, "could not sign off; the others wait for the lease");
            }
        }
    }
}

impl Shared {
    async fn beat(&self) {
        match self.store.beat(&self.me, self.lease).await {
            Ok(living) => {
                crate::metrics::global()
                    .engines_sharing
                    .store(living.len() as u64, std::sync::atomic::Ordering::Relaxed);
                if let Ok(mut l) = self.living.write() {
                    if *l != living {
                        tracing::info!(engines = ?living, "the engines sharing the log changed");
                    }
                    *l = living;
                }
            }
            // The store is unreachable: nothing can be recorded anyway; keep the last view.
            Err(e) => tracing::warn!(error = %e, "could not beat into the shared log"),
        }
    }
}

async fn beat_until_dropped(shared: Weak<Shared>) {
    loop {
        let every = match shared.upgrade() {
            Some(s) => s.lease / 3,
            None => return,
        };
        tokio::time::sleep(every.max(Duration::from_millis(100))).await;
        match shared.upgrade() {
            Some(s) => s.beat().await,
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engines(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("host{i}:100{i}:abcdef0{i}"))
            .collect()
    }

    #[test]
    fn every_key_has_one_owner_and_the_shares_are_even() {
        let living = engines(3);
        let mut counts = [0usize; 3];
        for k in 0..30_000 {
            let o = owner(&living, &format!("order-{k}")).unwrap();
            counts[living.iter().position(|e| e == o).unwrap()] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "uneven shares: {counts:?}");
        }
    }

    #[test]
    fn when_an_engine_dies_only_its_keys_move() {
        let three = engines(3);
        let two: Vec<String> = three[..2].to_vec();
        for k in 0..10_000 {
            let key = format!("order-{k}");
            let before = owner(&three, &key).unwrap();
            let after = owner(&two, &key).unwrap();
            if before != three[2] {
                assert_eq!(before, after, "{key} moved though its owner lives");
            }
        }
        assert_eq!(owner(&[], "x"), None);
    }
}
