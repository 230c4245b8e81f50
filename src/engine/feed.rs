//! The consumer of OpenSRS's event feed (EVENT POLL / ACK), one connection at a time.
//!
//! Each event is recorded on its domain's stream (`RegistrarReported`, once per OpenSRS
//! event id) before it is acknowledged, so a crash between the two re-reads the same
//! event and records nothing more. An event is a hint, never the truth: a pending order
//! of its domain is polled at once (a .de registration completes on its REGISTERED event,
//! not at the next hourly poll), and a renewal or expiry made outside domreg is re-read
//! with GET DOMAIN. Polling stays the fallback.

use domreg_events::event::RegistrarReported;
use domreg_events::*;

use super::poll::poll;
use super::steps::{StepContext, StepOutcome};
use crate::opensrs::feed::{events, FeedEvent};
use crate::opensrs::{self, Class, Client};
use crate::store::EventStore;
use crate::unit_of_work::{UnitError, UnitOfWork, Written};

/// Events read per POLL (OpenSRS's most), and POLLs per round at most.
const PAGE: u8 = 100;
const PAGES_PER_ROUND: usize = 10;
/// Domains of one page handled at once: their events are independent, and each costs
/// two or three calls to OpenSRS and two appends, mostly spent waiting.
const CONCURRENT_DOMAINS: usize = 16;

/// What one pass over a connection's feed did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FeedRound {
    /// Events newly recorded in the log.
    pub recorded: usize,
    /// Events OpenSRS was told are done with.
    pub acknowledged: usize,
    /// Orders polled, or expiries re-read, because of an event.
    pub followed: usize,
    pub errors: Vec<String>,
}

/// Reads the feed of `connection` through `client` until it is empty (or for a bounded
/// number of pages), recording, acknowledging and following each event.
pub async fn consume<S: EventStore + Clone>(
    ctx: &StepContext<S>,
    client: &Client,
    connection: &str,
    policy: Policy,
) -> FeedRound {
    let mut round = FeedRound::default();
    for _ in 0..PAGES_PER_ROUND {
        let e = client
            .call(&opensrs::Command::PollEvents { limit: PAGE })
            .await;
        let reply = match (&e.classification.class, &e.outcome) {
            (Class::Done, Ok(reply)) => reply,
            _ => {
                round.errors.push(format!(
                    "EVENT POLL on {connection}: {}",
                    super::probe::describe(&e)
                ));
                return round;
            }
        };
        let (page, skipped) = events(reply);
        round.errors.extend(skipped);
        if page.is_empty() {
            return round;
        }
        let stopped = take_page(ctx, client, connection, page, policy, &mut round).await;
        if stopped {
            return round;
        }
    }
    round
}

/// Handles one page, the events of different domains at once and those of one domain in
/// their order; whether an event was left for the next pass (the round then ends).
async fn take_page<S: EventStore + Clone>(
    ctx: &StepContext<S>,
    client: &Client,
    connection: &str,
    page: Vec<FeedEvent>,
    policy: Policy,
    round: &mut FeedRound,
) -> bool {
    use futures::StreamExt;
    let mut by_domain: Vec<Vec<FeedEvent>> = Vec::new();
    let mut group_of: std::collections::HashMap<String, usize> = Default::default();
    for event in page {
        // An event naming no domain is a group of its own.
        let Some(key) = event.domain().map(str::to_ascii_lowercase) else {
            by_domain.push(vec![event]);
            continue;
        };
        match group_of.get(&key) {
            Some(&at) => by_domain[at].push(event),
            None => {
                group_of.insert(key, by_domain.len());
                by_domain.push(vec![event]);
            }
        }
    }
    let parts: Vec<(FeedRound, bool)> = futures::stream::iter(by_domain)
        .map(|events| take_domain(ctx, client, connection, events, policy))
        .buffer_unordered(CONCURRENT_DOMAINS)
        .collect()
        .await;
    let mut stopped = false;
    for (part, left) in parts {
        round.recorded += part.recorded;
        round.acknowledged += part.acknowledged;
        round.followed += part.followed;
        round.errors.extend(part.errors);
        stopped |= left;
    }
    stopped
}

/// Records, acknowledges and follows one domain's events in order; the counts, and
/// whether one was left for the next pass.
async fn take_domain<S: EventStore + Clone>(
    ctx: &StepContext<S>,
    client: &Client,
    connection: &str,
    events: Vec<FeedEvent>,
    policy: Policy,
) -> (FeedRound, bool) {
    let mut round = FeedRound::default();
    for event in events {
        match record(ctx, connection, &event).await {
            Ok(domain) => {
                if let Some((_, true)) = &domain {
                    round.recorded += 1;
                }
                // Recorded (now or before): OpenSRS may forget it.
                let ack = client
                    .call(&opensrs::Command::AckEvent {
                        event_id: event.event_id.clone(),
                    })
                    .await;
                // A refusal of a repeated ACK means it was already taken off.
                if ack.classification.class == Class::Done || ack.classification.code.is_some() {
                    round.acknowledged += 1;
                } else {
                    round.errors.push(format!(
                        "EVENT ACK {} on {connection} got no answer; it is read again",
                        event.event_id
                    ));
                    return (round, true);
                }
                if let Some((domain, _)) = domain {
                    if follow(ctx, client, &domain, &event, policy).await {
                        round.followed += 1;
                    }
                }
            }
            Err(why) => {
                // Not acknowledged: the next pass reads it again.
                round.errors.push(format!(
                    "event {} on {connection} not recorded yet: {why}",
                    event.event_id
                ));
                return (round, true);
            }
        }
    }
    (round, false)
}

/// Records `event` on its domain's stream. `Ok(None)`: it names no domain domreg can
/// keep (it is acknowledged and only logged); `Ok(Some((domain, newly recorded)))`.
async fn record<S: EventStore + Clone>(
    ctx: &StepContext<S>,
    connection: &str,
    event: &FeedEvent,
) -> Result<Option<(DomainName, bool)>, String> {
    let Some(domain) = event.domain().and_then(|d| DomainName::parse(d).ok()) else {
        tracing::warn!(event_id = %event.event_id, object = %event.object, event = %event.event, "an OpenSRS event without a usable domain name; acknowledged, not recorded");
        return Ok(None);
    };
    let reported = RegistrarReported {
        connection: connection.to_string(),
        event_id: event.event_id.clone(),
        object: event.object.clone(),
        event: event.event.clone(),
        event_date: event.event_date.clone(),
        data: event.data.clone(),
    };
    let command = Command::RecordRegistrarEvent(Box::new(reported));
    match UnitOfWork::new(&ctx.store, Actor::Engine, ctx.now)
        .run(&domain, |_| vec![command.clone()])
        .await
    {
        Ok(Written::Appended { .. }) => Ok(Some((domain, true))),
        Ok(Written::Unchanged { .. }) => Ok(Some((domain, false))),
        Err(UnitError::Refused { error, .. }) => {
            tracing::warn!(%domain, %error, "an OpenSRS event that does not fit its domain; acknowledged, not recorded");
            Ok(None)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Acts on what an event hints at; whether it did anything.
async fn follow<S: EventStore + Clone>(
    ctx: &StepContext<S>,
    client: &Client,
    domain: &DomainName,
    event: &FeedEvent,
    policy: Policy,
) -> bool {
    let Ok(state) = crate::unit_of_work::load(&ctx.store, domain).await else {
        return false;
    };
    if let Some(order) = state.open_order().filter(|o| o.stage == Stage::Pending) {
        return matches!(
            poll(ctx, client, domain, order.id, policy).await,
            Ok(StepOutcome::Recorded(_))
        );
    }
    let changes_expiry = matches!(
        (event.object.as_str(), event.event.as_str()),
        ("DOMAIN", "RENEWED" | "EXPIRED" | "CREATED")
    );
    if !(changes_expiry && state.is_registered() && state.open_order().is_none()) {
        return false;
    }
    // A CREATED or RENEWED naming the expiry already recorded says nothing new (a
    // registration's CREATED names the expiry its confirmation has just read from
    // OpenSRS): only a different or missing date is worth a GET DOMAIN. An EXPIRED is
    // always read back: the date that passed is the recorded one by nature.
    let agrees = event
        .expiry()
        .is_some_and(|hinted| state.expires_at == Some(hinted));
    if agrees && event.event != "EXPIRED" {
        return false;
    }
    let Some(expires_at) = super::schedule::registry_expiry(client, domain).await else {
        return false;
    };
    let sync = Command::SyncExpiry {
        expires_at,
        source: format!("GET DOMAIN after OpenSRS event {}", event.event_id),
    };
    matches!(
        UnitOfWork::new(&ctx.store, Actor::Engine, ctx.now)
            .run(domain, |_| vec![sync.clone()])
            .await,
        Ok(Written::Appended { .. })
    )
}
