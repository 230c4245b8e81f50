//! The one way to write to a domain's stream: load the domain, decide (with the commands
//! the policy's reactions call for), append expecting the version that was read, and on a
//! conflict load and decide again, a bounded number of times. Placing orders, every
//! engine step, the expiry round and the Async Manager's controls write through here;
//! nothing else appends to a domain stream.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use domreg_events::*;

use crate::store::{EventStore, ExpectedVersion, NewEvent, StoreError};

/// How many times a write is decided again after another writer moved the stream.
pub const ATTEMPTS: u32 = 5;

/// What a unit of work did.
#[derive(Debug, Clone)]
pub enum Written {
    /// Its events were appended; `state` is the domain after them.
    Appended {
        events: Vec<DomainEvent>,
        state: Domain,
    },
    /// Nothing was to be written (the plan named no command, or none changed anything):
    /// another writer got there first, or the order had moved on. `state` is as read.
    Unchanged { state: Domain },
}

impl Written {
    pub fn state(&self) -> &Domain {
        match self {
            Written::Appended { state, .. } | Written::Unchanged { state } => state,
        }
    }

    pub fn event_types(&self) -> Vec<&'static str> {
        match self {
            Written::Appended { events, .. } => events.iter().map(|e| e.event_type()).collect(),
            Written::Unchanged { .. } => vec![],
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UnitError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("event in {stream} cannot be read: {detail}")]
    Unreadable { stream: String, detail: String },
    /// The decider refused the plan; `state` is what it was decided on.
    #[error("{error}")]
    Refused {
        error: DomainError,
        state: Box<Domain>,
    },
    #[error("{stream} kept changing: {attempts} writes in a row lost to other writers; try again")]
    Contended { stream: String, attempts: u32 },
}

/// Reads a domain's state from its stream.
pub async fn load<S: EventStore + ?Sized>(
    store: &S,
    domain: &DomainName,
) -> Result<Domain, UnitError> {
    let stream = domain_stream(domain);
    let mut state = Domain::default();
    for e in store.read_stream(&stream, 0, usize::MAX).await? {
        let event = e.decode_domain().map_err(|err| UnitError::Unreadable {
            stream: stream.clone(),
            detail: err.to_string(),
        })?;
        state = evolve(state, &event);
    }
    Ok(state)
}

/// A write to one domain on behalf of `actor` at `now`.
pub struct UnitOfWork<'a, S: EventStore + ?Sized> {
    store: &'a S,
    actor: Actor,
    now: DateTime<Utc>,
    policy: Policy,
    known: Option<Domain>,
}

impl<'a, S: EventStore + ?Sized> UnitOfWork<'a, S> {
    pub fn new(store: &'a S, actor: Actor, now: DateTime<Utc>) -> Self {
        UnitOfWork {
            store,
            actor,
            now,
            policy: Policy::default(),
            known: None,
        }
    }

    /// The settings of the order's connection that reactions depend on.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Decide first on a state already read (a step that read it before calling
    /// OpenSRS); a conflict still reloads.
    pub fn from(mut self, state: Domain) -> Self {
        self.known = Some(state);
        self
    }

    /// Runs `plan` on the domain's state and appends what it decides, all or nothing.
    pub async fn run(
        self,
        domain: &DomainName,
        mut plan: impl FnMut(&Domain) -> Vec<Command>,
    ) -> Result<Written, UnitError> {
        let stream = domain_stream(domain);
        let mut state = match self.known {
            Some(s) => s,
            None => load(self.store, domain).await?,
        };
        for _ in 0..ATTEMPTS {
            let commands = plan(&state);
            let events = match decide_all(&state, commands, &self.policy, self.now) {
                Ok(events) => events,
                Err(error) => {
                    return Err(UnitError::Refused {
                        error,
                        state: Box::new(state),
                    })
                }
            };
            if events.is_empty() {
                return Ok(Written::Unchanged { state });
            }
            let correlation = Uuid::now_v7();
            let metadata = EventMetadata::new(self.actor.clone(), correlation, self.now);
            let new: Vec<NewEvent> = events
                .iter()
                .map(|e| NewEvent::domain(e, metadata.clone()))
                .collect();
            match self
                .store
                .append(&stream, ExpectedVersion::after(state.version), new)
                .await
            {
                Ok(_) => {
                    let state = events.iter().fold(state, evolve);
                    return Ok(Written::Appended { events, state });
                }
                Err(StoreError::WrongExpectedVersion { .. }) => {
                    state = load(self.store, domain).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(UnitError::Contended {
            stream,
            attempts: ATTEMPTS,
        })
    }
}
