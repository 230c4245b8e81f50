//! The log chosen at start, by URL: `sqlite:PATH` (the default, `events.db` in the data
//! directory), a PostgreSQL server (`postgres://`, `postgresql://`) or an EventStoreDB /
//! KurrentDB server (`esdb://`, `esdb+discover://`, `kurrentdb://`,
//! `kurrentdb+discover://`). Code above the store sees only [`EventStore`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;

#[cfg(feature = "esdb")]
use super::esdb::EsdbStore;
use super::postgres::PgStore;
use super::{
    AppendResult, EventStore, EventStream, ExpectedVersion, NewEvent, Position, RecordedEvent,
    SqliteStore, StoreError,
};

/// Where the log lives.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    Sqlite(PathBuf),
    /// A server connection string; it may hold credentials, so it is never shown.
    Esdb {
        url: String,
        host: String,
    },
    Postgres {
        url: String,
        host: String,
    },
}

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

const SCHEMES: [&str; 4] = [
    "esdb://",
    "esdb+discover://",
    "kurrentdb://",
    "kurrentdb+discover://",
];

impl StoreUrl {
    /// The default: the embedded log in the data directory.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        StoreUrl::Sqlite(data_dir.join("events.db"))
    }

    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let url = url.trim();
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(StoreError::Unavailable(
                    "sqlite: needs a file path, as in sqlite:/var/lib/domreg/events.db".into(),
                ));
            }
            return Ok(StoreUrl::Sqlite(PathBuf::from(path)));
        }
        if let Some(scheme) = ["postgres://", "postgresql://"]
            .into_iter()
            .find(|s| url.starts_with(*s))
        {
            let rest = &url[scheme.len()..];
            let mut host = host_of(rest);
            if host.is_empty() {
                return Err(StoreError::Unavailable(format!(
                    "{scheme} needs a host, as in {scheme}domreg@db.example/domreg"
                )));
            }
            // The database too: two logs on one server get read models of their own.
            if let Some((_, db)) = rest.split('?').next().and_then(|r| r.split_once('/')) {
                if !db.is_empty() {
                    host = format!("{host}/{db}");
                }
            }
            return Ok(StoreUrl::Postgres {
                url: url.to_string(),
                host,
            });
        }
        if let Some(scheme) = SCHEMES.iter().find(|s| url.starts_with(**s)) {
            let host = host_of(&url[scheme.len()..]);
            if host.is_empty() {
                return Err(StoreError::Unavailable(format!(
                    "{scheme} needs a host, as in {scheme}localhost:2113?tls=false"
                )));
            }
            return Ok(StoreUrl::Esdb {
                url: url.to_string(),
                host,
            });
        }
        Err(StoreError::Unavailable(format!(
            "the store {:?} is not one domreg knows: use sqlite:PATH, postgres://USER@HOST/DB for PostgreSQL, or {} for EventStoreDB / KurrentDB",
            url.split("://").next().unwrap_or(url),
            SCHEMES.map(|s| format!("{s}HOST:PORT")).join(", ")
        )))
    }

    /// How the store is named in messages: the file, or the server's host (never a
    /// password).
    pub fn describe(&self) -> String {
        match self {
            StoreUrl::Sqlite(path) => format!("sqlite:{}", path.display()),
            StoreUrl::Esdb { host, .. } => format!("the EventStoreDB server at {host}"),
            StoreUrl::Postgres { host, .. } => format!("the PostgreSQL server at {host}"),
        }
    }
}

/// The host (and port) of a URL's authority, without the user or password.
fn host_of(rest: &str) -> String {
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    authority.rsplit('@').next().unwrap_or("").to_string()
}

/// The log behind every verb.
#[derive(Clone)]
pub enum LogStore {
    Sqlite(SqliteStore),
    Postgres(PgStore),
    #[cfg(feature = "esdb")]
    Esdb(Box<EsdbStore>),
}

/// How long opening a server log waits for its first answer.
const REACH_TIMEOUT: Duration = Duration::from_secs(10);

impl LogStore {
    /// Opens the log at `url`. A server is asked once, so a wrong address fails here,
    /// with a clear message, rather than at the first write.
    pub async fn open(url: &StoreUrl) -> Result<Self, StoreError> {
        match url {
            StoreUrl::Sqlite(path) => Ok(LogStore::Sqlite(SqliteStore::open(path)?)),
            StoreUrl::Postgres { url, host } => {
                match tokio::time::timeout(REACH_TIMEOUT, PgStore::open(url)).await {
                    Ok(Ok(store)) => Ok(LogStore::Postgres(store)),
                    Ok(Err(e)) => Err(StoreError::Unavailable(format!(
                        "cannot reach the PostgreSQL server at {host}: {e}"
                    ))),
                    Err(_) => Err(StoreError::Unavailable(format!(
                        "cannot reach the PostgreSQL server at {host}: no answer within {REACH_TIMEOUT:?}"
                    ))),
                }
            }
            #[cfg(feature = "esdb")]
            StoreUrl::Esdb { url: conn, host } => {
                let cannot = |why: String| {
                    StoreError::Unavailable(format!(
                        "cannot reach the EventStoreDB server at {host}: {why}"
                    ))
                };
                let store = EsdbStore::connect(conn).map_err(|e| cannot(e.to_string()))?;
                match tokio::time::timeout(REACH_TIMEOUT, store.head()).await {
                    Ok(Ok(_)) => Ok(LogStore::Esdb(Box::new(store))),
                    Ok(Err(StoreError::Unavailable(why) | StoreError::Backend(why))) => {
                        Err(cannot(why))
                    }
                    Ok(Err(e)) => Err(cannot(e.to_string())),
                    Err(_) => Err(cannot(format!("no answer within {REACH_TIMEOUT:?}"))),
                }
            }
            #[cfg(not(feature = "esdb"))]
            StoreUrl::Esdb { host, .. } => Err(StoreError::Unavailable(format!(
                "this build has no EventStoreDB support (feature `esdb`), so {host} cannot be used"
            ))),
        }
    }

    /// The embedded log, when that is the one in use (`verify`'s integrity check).
    pub fn as_sqlite(&self) -> Option<&SqliteStore> {
        match self {
            LogStore::Sqlite(s) => Some(s),
            LogStore::Postgres(_) => None,
            #[cfg(feature = "esdb")]
            LogStore::Esdb(_) => None,
        }
    }
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            LogStore::Sqlite($s) => $e,
            LogStore::Postgres($s) => $e,
            #[cfg(feature = "esdb")]
            LogStore::Esdb($s) => $e,
        }
    };
}

#[async_trait]
impl EventStore for LogStore {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        each!(self, s => s.append(stream, expected, events).await)
    }

    async fn append_in_order(
        &self,
        appends: Vec<super::Append>,
    ) -> Vec<Result<AppendResult, StoreError>> {
        each!(self, s => s.append_in_order(appends).await)
    }

    async fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
        max: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        each!(self, s => s.read_stream(stream, from_version, max).await)
    }

    async fn read_all(
        &self,
        after: Option<Position>,
        max: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        each!(self, s => s.read_all(after, max).await)
    }

    fn subscribe_all(&self, after: Option<Position>) -> EventStream {
        each!(self, s => s.subscribe_all(after))
    }

    async fn head(&self) -> Result<u64, StoreError> {
        each!(self, s => s.head().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_the_store_and_never_the_password() {
        let u = StoreUrl::parse("esdb://admin:changeit@db.example:2113?tls=false").unwrap();
        assert_eq!(u.describe(), "the EventStoreDB server at db.example:2113");
        assert!(!format!("{u:?}").contains("changeit"));
        assert_eq!(
            StoreUrl::parse("sqlite:/tmp/x.db").unwrap(),
            StoreUrl::Sqlite("/tmp/x.db".into())
        );
        let pg = StoreUrl::parse("postgres://domreg:s3cret@db.example:5432/domreg").unwrap();
        assert_eq!(
            pg.describe(),
            "the PostgreSQL server at db.example:5432/domreg"
        );
        assert!(!format!("{pg:?}").contains("s3cret"));
        let e = StoreUrl::parse("mysql://x").unwrap_err().to_string();
        assert!(
            e.contains("sqlite:PATH") && e.contains("postgres://") && e.contains("esdb://"),
            "{e}"
        );
        assert!(StoreUrl::parse("esdb://").is_err());
    }
}
