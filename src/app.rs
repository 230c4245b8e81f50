//! What a CLI verb works with: the event log, the read models (kept current by catching
//! up from the log), and the secret store, all under one data directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use domreg_events::{Actor, AnyEvent, EventMetadata, SettingsEvent};
use domreg_projections::{Envelope, ModelError, ReadModels};

use crate::clock::{Clock, SystemClock};
use crate::secrets::SecretStore;
use crate::store::{
    AppendResult, EventStore, ExpectedVersion, LogStore, NewEvent, Position, RecordedEvent,
    StoreError, StoreUrl,
};

pub struct App {
    pub data_dir: PathBuf,
    pub store: LogStore,
    /// The read models' file: local, whichever log they fold.
    models_path: PathBuf,
    pub models: ReadModels,
    pub secrets: SecretStore,
    /// Where admin operations and pages read "now".
    pub clock: Arc<dyn Clock>,
}

static CHOSEN_STORE: std::sync::OnceLock<StoreUrl> = std::sync::OnceLock::new();

/// Chooses the log that every later [`App::connect`] opens (`main` does, once, from
/// `--store` / `DOMREG_STORE`). Without a choice, the embedded log in the data directory.
pub fn choose_store(url: StoreUrl) {
    let _ = CHOSEN_STORE.set(url);
}

/// The log chosen at start with `--store` / `DOMREG_STORE`, if any.
pub fn chosen_store() -> Option<&'static StoreUrl> {
    CHOSEN_STORE.get()
}

/// The chosen log alone (verbs that only read it: `log`, `audit`).
pub async fn open_log(data_dir: &Path) -> Result<LogStore, StoreError> {
    let url = crate::store::remembered::effective(data_dir, CHOSEN_STORE.get())?;
    LogStore::open(&url).await
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Models(#[from] ModelError),
    #[error("event at position {position} cannot be read: {detail}")]
    Unreadable { position: Position, detail: String },
}

/// Turns a recorded event into what the read models fold.
pub fn envelope(e: &RecordedEvent) -> Result<Envelope, AppError> {
    let event = AnyEvent::decode(&e.event_type, e.schema_version, &e.data).map_err(|err| {
        AppError::Unreadable {
            position: e.position,
            detail: err.to_string(),
        }
    })?;
    Ok(Envelope {
        position: (e.position.commit, e.position.prepare),
        stream: e.stream.clone(),
        event_id: e.id,
        at: e.metadata.at,
        event,
    })
}

/// Folds every event after the models' lowest checkpoint into them; `progress` is told
/// how many events were applied so far.
pub async fn catch_up(
    store: &impl EventStore,
    models: &mut ReadModels,
    mut progress: impl FnMut(u64),
) -> Result<u64, AppError> {
    let mut after = models
        .lowest_checkpoint()?
        .map(|(commit, prepare)| Position { commit, prepare });
    let mut applied = 0;
    loop {
        let page = store.read_all(after, 5_000).await?;
        let Some(last) = page.last() else {
            return Ok(applied);
        };
        after = Some(last.position);
        // An event this build cannot read is quarantined (with an alarm) and passed
        // over; it never stops the models.
        let mut envelopes = Vec::with_capacity(page.len());
        let mut unreadable = Vec::new();
        for e in &page {
            match envelope(e) {
                Ok(env) => envelopes.push(env),
                Err(err) => unreadable.push(domreg_projections::Quarantined {
                    position: (e.position.commit, e.position.prepare),
                    stream: e.stream.clone(),
                    event_id: e.id,
                    event_type: format!("{} v{}", e.event_type, e.schema_version),
                    detail: err.to_string(),
                }),
            }
        }
        models.apply_page(
            &envelopes,
            unreadable,
            Some((last.position.commit, last.position.prepare)),
        )?;
        applied += page.len() as u64;
        progress(applied);
    }
}

impl App {
    /// Whether the log is this directory's own embedded file, which no engine of another
    /// directory can write (the directory's lock then makes an engine the only one).
    pub fn log_is_the_directorys_own(&self) -> bool {
        matches!(&self.store, LogStore::Sqlite(s) if s.path() == self.data_dir.join("events.db"))
    }

    /// Opens the data directory with its embedded log.
    pub fn open(data_dir: &Path) -> Result<App, AppError> {
        prepare(data_dir)?;
        let store = LogStore::Sqlite(crate::store::SqliteStore::open(data_dir.join("events.db"))?);
        App::with_store(data_dir, store, data_dir.join("readmodels.db"))
    }

    /// Opens the data directory with the log chosen at start ([`choose_store`]).
    pub async fn connect(data_dir: &Path) -> Result<App, AppError> {
        match crate::store::remembered::effective(data_dir, CHOSEN_STORE.get())? {
            StoreUrl::Sqlite(path) if path == data_dir.join("events.db") => App::open(data_dir),
            url => App::open_at(data_dir, &url).await,
        }
    }

    /// Opens the data directory with the log at `url`. The read models stay in the data
    /// directory, in a file of that log's own, so two logs never mix in one model.
    pub async fn open_at(data_dir: &Path, url: &StoreUrl) -> Result<App, AppError> {
        prepare(data_dir)?;
        let models = match url {
            StoreUrl::Sqlite(path) if *path == data_dir.join("events.db") => {
                data_dir.join("readmodels.db")
            }
            other => data_dir.join(format!(
                "readmodels-{}.db",
                crate::secrets::file_name(&other.describe())
            )),
        };
        App::with_store(data_dir, LogStore::open(url).await?, models)
    }

    fn with_store(data_dir: &Path, store: LogStore, models_path: PathBuf) -> Result<App, AppError> {
        Ok(App {
            data_dir: data_dir.to_path_buf(),
            store,
            models: ReadModels::open(&models_path)?,
            models_path,
            secrets: SecretStore::new(data_dir),
            clock: Arc::new(SystemClock),
        })
    }

    /// Reads time from `clock` (tests move it by hand).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub async fn catch_up(&mut self) -> Result<u64, AppError> {
        catch_up(&self.store, &mut self.models, |_| {}).await
    }

    /// Appends settings events to `stream` by `actor` at `now`, then refreshes the models.
    pub async fn append_settings(
        &mut self,
        stream: &str,
        expected: ExpectedVersion,
        events: &[SettingsEvent],
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<AppendResult, AppError> {
        let correlation = Uuid::now_v7();
        let new: Vec<NewEvent> = events
            .iter()
            .map(|e| NewEvent {
                id: Uuid::now_v7(),
                event_type: e.event_type().to_string(),
                schema_version: e.schema_version(),
                data: e.encode(),
                metadata: EventMetadata::new(actor.clone(), correlation, now),
            })
            .collect();
        let result = self.store.append(stream, expected, new).await?;
        self.refresh_after_append().await;
        Ok(result)
    }

    /// Catches up after a successful append. The append is durable and acknowledged
    /// whatever happens here: reporting a failure now (a full disk under the read models)
    /// would make a caller retry a write that was kept, and charge or credit twice. The
    /// models catch up from the log on the next read.
    pub async fn refresh_after_append(&mut self) {
        if let Err(e) = self.catch_up().await {
            tracing::warn!(error = %e, "written to the log; the read models will catch up later");
            eprintln!("warning: written to the log, but the read models could not be updated yet ({e}); they catch up on the next command");
        }
    }
}

fn prepare(data_dir: &Path) -> Result<(), AppError> {
    std::fs::create_dir_all(data_dir).map_err(|e| {
        StoreError::Unavailable(format!("cannot create {}: {e}", data_dir.display()))
    })?;
    owner_only(data_dir);
    Ok(())
}

/// The data directory holds registrants' contact details: only its owner may read it.
/// A directory others can read is tightened (with a warning) when this user owns it.
fn owner_only(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(dir) else {
            return;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0
            && std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).is_ok()
        {
            tracing::warn!(dir = %dir.display(), mode = format!("{mode:o}"), "the data directory was readable by others; it is now 0700");
        }
    }
}

/// The admin running the CLI, for event metadata.
pub fn cli_actor() -> Actor {
    Actor::Admin(
        std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "cli".into()),
    )
}

/// Apps for concurrent requests (the admin API and pages): each request takes one of its
/// own, so no request waits for another's OpenSRS call. They share one event log (and
/// its single writer); each has its own read-model connection, which catch-ups share
/// safely (they fold inside an IMMEDIATE transaction).
pub struct AppPool {
    idle: std::sync::Mutex<Vec<App>>,
    returned: tokio::sync::Notify,
    data_dir: PathBuf,
    models_path: PathBuf,
    store: LogStore,
    secrets: SecretStore,
    clock: Arc<dyn Clock>,
}

/// An [`App`] taken from an [`AppPool`]; it goes back when dropped.
pub struct PooledApp<'a> {
    app: Option<App>,
    pool: &'a AppPool,
}

/// Idle apps kept for reuse; more are opened under load and closed afterwards.
const IDLE_APPS: usize = 8;

impl AppPool {
    pub fn new(app: App) -> Self {
        AppPool {
            data_dir: app.data_dir.clone(),
            models_path: app.models_path.clone(),
            store: app.store.clone(),
            secrets: app.secrets.clone(),
            clock: app.clock.clone(),
            idle: std::sync::Mutex::new(vec![app]),
            returned: tokio::sync::Notify::new(),
        }
    }

    /// An app for one request: an idle one, a newly opened one, or (if opening fails)
    /// the next one another request gives back.
    pub async fn lock(&self) -> PooledApp<'_> {
        loop {
            let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
            if let Some(app) = idle {
                return PooledApp {
                    app: Some(app),
                    pool: self,
                };
            }
            match ReadModels::open(&self.models_path) {
                Ok(models) => {
                    let app = App {
                        data_dir: self.data_dir.clone(),
                        models_path: self.models_path.clone(),
                        store: self.store.clone(),
                        models,
                        secrets: self.secrets.clone(),
                        clock: self.clock.clone(),
                    };
                    return PooledApp {
                        app: Some(app),
                        pool: self,
                    };
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot open another read-model connection; waiting for one");
                    self.returned.notified().await;
                }
            }
        }
    }
}

impl std::ops::Deref for PooledApp<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.app
            .as_ref()
            .expect("a pooled app is present until dropped")
    }
}

impl std::ops::DerefMut for PooledApp<'_> {
    fn deref_mut(&mut self) -> &mut App {
        self.app
            .as_mut()
            .expect("a pooled app is present until dropped")
    }
}

impl Drop for PooledApp<'_> {
    fn drop(&mut self) {
        if let (Some(app), Ok(mut idle)) = (self.app.take(), self.pool.idle.lock()) {
            if idle.len() < IDLE_APPS {
                idle.push(app);
            }
        }
        self.pool.returned.notify_one();
    }
}
