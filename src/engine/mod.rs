//! The engine: takes charged orders to OpenSRS and follows them to their end.
//!
//! Each round it folds new events into its read models (whose checkpoints are durable),
//! asks them what is due (charged orders to submit, submissions without an outcome,
//! pending orders to poll or time out) and runs one step per order, up to `concurrency`
//! at a time. Steps decide from the order's own stream and append with the expected
//! version (see `steps`), so rounds can repeat, overlap, crash and restart, or run in two
//! processes without an order being sent twice or ending twice.

pub mod change;
pub mod feed;
pub mod funds;
pub mod import;
pub mod place;
pub mod poll;
pub mod probe;
pub mod schedule;
mod settings_cache;
pub mod share;
pub mod steps;
pub mod sync;
pub mod sync_listing;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use domreg_events::settings::AsyncPolicy;
use domreg_events::{DomainName, OrderId, OrderKind, Policy};
use domreg_projections::Work;

use crate::app::{App, AppError};
use crate::clock::Clock;
use crate::opensrs::evidence::EvidenceStore;
use crate::opensrs::{Client, ConnectionSettings};
use steps::{StepContext, StepOutcome};

/// What one round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    pub recovered: usize,
    pub submitted: usize,
    pub polled: usize,
    /// Emails queued and delivered this round.
    pub mails_queued: usize,
    pub mail: crate::notify::Delivery,
    /// Set on the rounds that ran the daily expiry round.
    pub expiry: Option<schedule::ExpiryRound>,
    /// Domain changes whose answer was lost, resolved by reading the domain back.
    pub changes_recovered: usize,
    /// What reading OpenSRS's event feeds did this round.
    pub feed: feed::FeedRound,
    pub errors: Vec<String>,
}

impl Round {
    pub fn did_anything(&self) -> bool {
        let expiry = self.expiry.as_ref().map_or(0, |e| e.warned + e.renewals);
        let feed = self.feed.recorded + self.feed.followed;
        self.recovered + self.submitted + self.polled + expiry + feed + self.changes_recovered > 0
    }
}

pub struct Engine<C: Clock> {
    pub app: App,
    clock: C,
    clients: HashMap<String, Arc<Client>>,
    started: bool,
    last_expiry_round: Option<chrono::NaiveDate>,
    mailer: Option<crate::notify::Mailer>,
    /// Deliver mail at the end of each round (tests, `serve --once`) rather than leave it
    /// to the delivery task that `serve` runs beside the engine.
    deliver_in_round: bool,
    pub concurrency: usize,
    call_timeout: Option<Duration>,
    /// Names this engine in the leases of its submissions.
    id: String,
    /// Set when this engine holds the data directory's lock: no other engine can own a
    /// submission then, so at start every unfinished one is recovered at once.
    exclusive: bool,
    /// How often each connection's event feed is read (`None`: never).
    feed_every: Option<chrono::Duration>,
    last_feed: HashMap<String, chrono::DateTime<chrono::Utc>>,
    /// Which work is this engine's when several share the log.
    share: share::Share,
}

/// How often the event feeds are read unless told otherwise.
pub const DEFAULT_FEED_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// The client's default call timeout, when none is set.
const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Models(#[from] domreg_projections::ModelError),
    #[error(transparent)]
    Write(#[from] crate::unit_of_work::UnitError),
}

enum Job {
    Recover(DomainName, OrderId, AsyncPolicy),
    Submit(DomainName, OrderId, AsyncPolicy, Arc<Client>, Policy),
    Poll(DomainName, OrderId, Arc<Client>, Policy),
}

impl<C: Clock> Engine<C> {
    pub fn new(app: App, clock: C) -> Self {
        Engine {
            app,
            clock,
            clients: HashMap::new(),
            started: false,
            last_expiry_round: None,
            mailer: None,
            deliver_in_round: true,
            concurrency: 64,
            call_timeout: None,
            id: steps::engine_id(),
            exclusive: false,
            feed_every: Some(DEFAULT_FEED_EVERY),
            last_feed: HashMap::new(),
            share: share::Share::alone(),
        }
    }

    /// Shares the work with the other engines on a server log (see `share`): this engine
    /// does only the orders, feeds and rounds it owns, and takes over a dead engine's
    /// share once that engine's `lease` lapses. On the embedded log it works alone.
    pub async fn sharing(mut self, lease: Duration) -> Self {
        self.share = share::Share::join(&self.app.store, &self.id, lease).await;
        self
    }

    /// This engine's place among the engines sharing its log.
    pub fn share(&self) -> &share::Share {
        &self.share
    }

    /// Reads every connection's event feed this often (`None` or zero: not at all).
    pub fn with_event_feed(mut self, every: Option<chrono::Duration>) -> Self {
        self.feed_every = every.filter(|d| *d > chrono::Duration::zero());
        self
    }

    /// Reads the event feed of every connection whose interval has passed.
    async fn read_feeds(
        &mut self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<feed::FeedRound, EngineError> {
        let mut total = feed::FeedRound::default();
        let Some(every) = self.feed_every else {
            return Ok(total);
        };
        let ctx = StepContext {
            store: self.app.store.clone(),
            secrets: self.app.secrets.clone(),
            now,
            engine: self.id.clone(),
            lease: self.lease(),
        };
        for config in self.app.models.registrars()? {
            if self
                .last_feed
                .get(&config.title)
                .is_some_and(|t| now < *t + every)
                || !self.share.owns(&format!("feed {}", config.title))
            {
                continue;
            }
            let Ok(client) = self.client(&config.title) else {
                continue; // reported by the orders that need it
            };
            self.last_feed.insert(config.title.clone(), now);
            let policy = settings_cache::connection_policy(&self.app.models, &config.title)?;
            let r = feed::consume(&ctx, &client, &config.title, policy).await;
            total.recorded += r.recorded;
            total.acknowledged += r.acknowledged;
            total.followed += r.followed;
            total.errors.extend(r.errors);
        }
        Ok(total)
    }

    /// Resolves domain changes whose sender died or got no answer (read back, not resent).
    async fn recover_changes(
        &mut self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize, EngineError> {
        if !self.share.owns("change recovery") || self.app.models.lapsed_changes(now)?.is_empty() {
            return Ok(0);
        }
        let mut clients = HashMap::new();
        for config in self.app.models.registrars()? {
            if let Ok(c) = self.client(&config.title) {
                clients.insert(config.title.clone(), c);
            }
        }
        let mut pick = |title: &str| clients.get(title).cloned();
        let n = change::recover_lapsed(&self.app, &mut pick, now).await?;
        if n > 0 {
            self.app.catch_up().await?;
        }
        Ok(n)
    }

    /// Marks this engine as the holder of its data directory's lock. That makes it the
    /// only engine on its log only when the log is the directory's own embedded file: on
    /// any other log, engines of other directories may hold submissions' leases.
    pub fn with_exclusive_lock(mut self, _lock: &crate::lock::DataDirLock) -> Self {
        self.exclusive = self.app.log_is_the_directorys_own();
        self
    }

    /// How long this engine owns a submission: its call timeout and a margin.
    fn lease(&self) -> chrono::Duration {
        let call = self.call_timeout.unwrap_or(DEFAULT_CALL_TIMEOUT);
        chrono::Duration::from_std(call).unwrap_or(chrono::Duration::seconds(120))
            + chrono::Duration::seconds(30)
    }

    /// The longest one job of a round may take (a probe makes up to four calls): a round
    /// never waits on one stuck call for long. A cut submission is recovered by lease.
    fn job_limit(&self) -> Duration {
        self.call_timeout.unwrap_or(DEFAULT_CALL_TIMEOUT) * 5
    }

    /// Gives up on an OpenSRS call after `timeout` (default: the client's 120 s). The
    /// order is then pending with its outcome unknown and is resolved by polling.
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = Some(timeout);
        self.clients.clear();
        self
    }

    /// Sends notifications through `mailer` at the end of every round.
    pub fn with_mail(mut self, mailer: crate::notify::Mailer) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// Queues notifications each round but leaves their delivery to a task of its own
    /// (`Mailer::run`), so no order ever waits for a mail relay.
    pub fn with_background_mail(mut self, mailer: crate::notify::Mailer) -> Self {
        self.mailer = Some(mailer);
        self.deliver_in_round = false;
        self
    }

    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The client of a connection, built once (settings and key are read when first used).
    pub fn client(&mut self, title: &str) -> Result<Arc<Client>, String> {
        if let Some(c) = self.clients.get(title) {
            return Ok(c.clone());
        }
        let client = client_with(&self.app, title, self.call_timeout)?;
        self.clients.insert(title.to_string(), client.clone());
        Ok(client)
    }

    /// Forgets built clients, so changed settings or keys take effect.
    pub fn reload_connections(&mut self) {
        self.clients.clear();
    }

    /// One round of work. Returns what it did; errors of single orders are collected in
    /// the round (the order is retried next round), not returned.
    pub async fn run_once(&mut self) -> Result<Round, EngineError> {
        self.app.catch_up().await?;
        let now = self.clock.now();
        let mut jobs = Vec::new();
        let mut round = Round::default();
        // Warnings and automatic renewals: at start, then once a day.
        if self.last_expiry_round != Some(now.date_naive()) && self.share.owns("expiry round") {
            let mut clients = HashMap::new();
            for config in self.app.models.registrars()? {
                if let Ok(client) = self.client(&config.title) {
                    clients.insert(config.title.clone(), client);
                }
            }
            round.expiry = Some(schedule::expiry_round(&mut self.app, &clients, now).await?);
            self.last_expiry_round = Some(now.date_naive());
            self.app.catch_up().await?;
        }
        round.changes_recovered = self.recover_changes(now).await?;
        round.feed = self.read_feeds(now).await?;
        round.errors.extend(round.feed.errors.clone());
        if round.feed.recorded + round.feed.followed > 0 {
            self.app.catch_up().await?;
        }
        // Submissions without an outcome are recovered once their engine's lease has
        // lapsed (it died, or its outcome could not be recorded). While the lease runs,
        // the submitting engine may still be waiting for OpenSRS's answer, so nobody else
        // touches the order. An engine holding the data directory's lock knows at start
        // that nobody else can.
        let every_submission = self.exclusive && !self.started;
        self.started = true;
        let mut settings = settings_cache::SettingsCache::default();
        for due in self.app.models.due_work(now, every_submission, 10_000)? {
            if !self.share.owns(&due.order_id.to_string()) {
                continue;
            }
            let Ok(domain) = DomainName::parse(&due.domain) else {
                continue;
            };
            let transfer = due.kind == OrderKind::Transfer;
            let order = due.order_id;
            match due.work {
                Work::Recover => {
                    let policy = settings.policy(&self.app.models, &domain, transfer)?;
                    jobs.push(Job::Recover(domain, order, policy));
                }
                Work::Submit | Work::Poll => match self.client(&due.connection) {
                    Ok(client) => {
                        let connection = settings.connection(&self.app.models, &due.connection)?;
                        jobs.push(if due.work == Work::Submit {
                            let policy = settings.policy(&self.app.models, &domain, transfer)?;
                            Job::Submit(domain, order, policy, client, connection)
                        } else {
                            Job::Poll(domain, order, client, connection)
                        });
                    }
                    Err(e) => round.errors.push(format!("order {order}: {e}")),
                },
            }
        }
        let ctx = StepContext {
            store: self.app.store.clone(),
            secrets: self.app.secrets.clone(),
            now,
            engine: self.id.clone(),
            lease: self.lease(),
        };
        let limit = self.job_limit();
        let mut set = JoinSet::new();
        let mut jobs = jobs.into_iter();
        let mut finished_since_fold = 0;
        loop {
            while set.len() < self.concurrency.max(1) {
                let Some(job) = jobs.next() else { break };
                let ctx = ctx.clone();
                set.spawn(async move {
                    let what = match &job {
                        Job::Recover(..) => "recovered",
                        Job::Submit(..) => "submitted",
                        Job::Poll(..) => "polled",
                    };
                    let step = async {
                        match job {
                            Job::Recover(d, o, p) => steps::recover(&ctx, &d, o, p).await,
                            Job::Submit(d, o, p, c, a) => {
                                steps::submit(&ctx, &c, &d, o, p, a).await
                            }
                            Job::Poll(d, o, c, a) => poll::poll(&ctx, &c, &d, o, a).await,
                        }
                    };
                    (what, run_step(limit, step).await)
                });
            }
            let Some(done) = set.join_next().await else {
                break;
            };
            match done {
                Ok((what, Ok(StepOutcome::Recorded(_)))) => match what {
                    "recovered" => round.recovered += 1,
                    "submitted" => round.submitted += 1,
                    _ => round.polled += 1,
                },
                Ok((_, Ok(StepOutcome::Skipped))) => {}
                Ok((what, Err(e))) => round.errors.push(format!("{what}: {e}")),
                Err(e) => round.errors.push(format!("step failed: {e}")),
            }
            // The models follow a long round as it goes (the Async Manager shows its
            // progress), and the fold shares the cores with the steps instead of
            // running alone after them. A failure here only delays the fold: the steps
            // still in flight must not be dropped for it.
            finished_since_fold += 1;
            if finished_since_fold == FOLD_EVERY {
                finished_since_fold = 0;
                if let Err(e) = self.app.catch_up().await {
                    tracing::warn!(error = %e, "the read models could not follow the round; they catch up at its end");
                }
            }
        }
        for e in &round.errors {
            tracing::warn!(error = %e, "engine step failed; it is retried next round");
        }
        if round.did_anything() {
            self.app.catch_up().await?;
        }
        if let Some(mailer) = &self.mailer {
            // One engine composes the mail of a shared log, from the shared cursor; each
            // delivers what it queued.
            if self.share.owns("mail") {
                let cursor = crate::notify::compose::MailCursor::new(mailer, self.share.store());
                match crate::notify::compose::compose(&self.app.store, mailer, &cursor).await {
                    Ok(n) => round.mails_queued = n,
                    Err(e) => round.errors.push(format!("notifications: {e}")),
                }
            }
            if self.deliver_in_round {
                round.mail = mailer.deliver().await;
            }
        }
        let m = crate::metrics::global();
        m.round_done(self.clock.now());
        crate::metrics::Metrics::add(&m.polls, round.polled as u64);
        crate::metrics::Metrics::add(&m.submissions, round.submitted as u64);
        Ok(round)
    }
}

/// Steps finished between two folds of the read models during a round.
const FOLD_EVERY: usize = 256;

/// Runs one step, giving up after `limit`: what the step had appended stays, and an
/// interrupted submission is recovered once its lease lapses.
async fn run_step<F>(limit: Duration, step: F) -> Result<StepOutcome, String>
where
    F: std::future::Future<Output = Result<StepOutcome, steps::StepError>>,
{
    match tokio::time::timeout(limit, step).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err(format!("step gave up after {limit:?}; it is retried")),
    }
}

/// A client for a configured connection, with its secret key.
pub fn client_for(app: &App, title: &str) -> Result<Arc<Client>, String> {
    client_with(app, title, None)
}

/// [`client_for`] with a call timeout other than the client's default.
pub fn client_with(
    app: &App,
    title: &str,
    timeout: Option<Duration>,
) -> Result<Arc<Client>, String> {
    let config = app
        .models
        .registrar(title)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("OpenSRS connection {title:?} is not configured"))?;
    let key = app.secrets.get(title).map_err(|e| e.to_string())?;
    let mut settings = ConnectionSettings::new(
        &config.title,
        &config.server,
        config.port,
        &config.login,
        key,
    );
    settings.plain_http = config.plain_http;
    if let Some(t) = timeout {
        settings.timeout = t;
        settings.connect_timeout = settings.connect_timeout.min(t);
    }
    settings.source_ip = config
        .source_ip
        .as_deref()
        .and_then(|ip| ip.parse::<IpAddr>().ok());
    Client::new(settings)
        .map(|c| Arc::new(c.with_evidence(EvidenceStore::new(&app.data_dir))))
        .map_err(|e| e.to_string())
}
