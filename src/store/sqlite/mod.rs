//! The embedded event store: one SQLite file in WAL mode with `synchronous=FULL`.
//!
//! Writes go through one writer thread that gathers every append queued while the previous
//! commit was syncing and commits them together (group commit): one WAL sync for all. Each
//! request is checked before any of its rows is written, so a refused one leaves no trace.
//! An append is acknowledged only after its commit returned, i.e. after the WAL was synced.
//! Readers use their own connections and see committed snapshots only. Other processes may
//! append to the same file: SQLite serialises their write transactions with ours, and
//! subscriptions poll the file, so they see those events too.

mod apply;
pub mod ceiling;
mod codec;
mod migrate;
mod queue;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::watch;

use super::{
    AppendResult, EventStore, EventStream, ExpectedVersion, NewEvent, Position, RecordedEvent,
    StoreError,
};

use migrate::migrate;
/// How long a write waits for another process's write transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Handle to an embedded store. Cheap to clone; the writer thread stops when the last
/// handle is dropped.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// Dropping it stops the checkpointer.
    _stop_checkpoints: std::sync::mpsc::Sender<()>,
    writes: Arc<queue::Queue>,
    writer: Arc<writer::Writer>,
    readers: Mutex<Vec<Connection>>,
    /// Last position committed (durably) by this process's writer; wakes subscriptions.
    committed: watch::Receiver<Position>,
}

impl Drop for Inner {
    /// The last handle is gone: the writer commits what is queued, then stops.
    fn drop(&mut self) {
        self.writes.close();
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and starts its writer thread.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let conn = open_connection(&path, false)?;
        migrate(&conn)?;
        let writes = Arc::new(queue::Queue::default());
        let requests = writes.clone();
        let (committed_tx, committed) = watch::channel(Position::default());
        let writer = Arc::new(writer::Writer::new(conn, committed_tx));
        let writing = writer.clone();
        std::thread::Builder::new()
            .name("domreg-sqlite-writer".into())
            .spawn(move || writer::run(&writing, &requests))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the writer thread: {e}")))?;
        let stop_checkpoints = start_checkpointer(&path)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                _stop_checkpoints: stop_checkpoints,
                writes,
                writer,
                readers: Mutex::new(Vec::new()),
                committed,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Every event of the log at `path`, read through a read-only connection (no writer
    /// thread, no migration): for tools and tests that look at a log another process
    /// writes, even on a full disk.
    pub fn read_file(path: impl AsRef<Path>) -> Result<Vec<RecordedEvent>, StoreError> {
        let conn = open_connection(path.as_ref(), true)?;
        read_all_sync(&conn, None, usize::MAX)
    }

    /// Runs `f` on a pooled read connection, off the async threads: for reads whose size
    /// the caller does not bound (pages of the whole log).
    async fn with_reader<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.read(f))
            .await
            .map_err(|e| StoreError::Backend(format!("read task failed: {e}")))?
    }
}

impl Inner {
    /// Runs `f` on a pooled read connection on this thread. A WAL reader never waits for
    /// the writer, so a short indexed read (one stream, the head) costs less here than
    /// the two thread hand-overs of the blocking pool.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self.readers.lock().ok().and_then(|mut pool| pool.pop());
        let conn = match pooled {
            Some(c) => c,
            None => open_connection(&self.path, true)?,
        };
        let result = f(&conn);
        if let Ok(mut pool) = self.readers.lock() {
            pool.push(conn);
        }
        result
    }
}

/// Starts the checkpointer of the file at `path` on a connection of its own; dropping the
/// returned sender stops it.
fn start_checkpointer(path: &Path) -> Result<std::sync::mpsc::Sender<()>, StoreError> {
    let (stop_checkpoints, stop) = std::sync::mpsc::channel();
    let conn = open_connection(path, false)?;
    std::thread::Builder::new()
        .name("domreg-sqlite-checkpoint".into())
        .spawn(move || checkpointer(conn, stop))
        .map_err(|e| StoreError::Unavailable(format!("cannot start the checkpoint thread: {e}")))?;
    Ok(stop_checkpoints)
}

/// Copies committed WAL frames into the database file every `CHECKPOINT_EVERY`, without
/// blocking the writer (a passive checkpoint), so commits only ever append to the WAL.
fn checkpointer(conn: Connection, stop: std::sync::mpsc::Receiver<()>) {
    use std::sync::mpsc::RecvTimeoutError;
    loop {
        let stopping = !matches!(
            stop.recv_timeout(CHECKPOINT_EVERY),
            Err(RecvTimeoutError::Timeout)
        );
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
        }
        if stopping {
            return;
        }
    }
}

fn open_connection(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
    // A 64 MiB page cache keeps the id index hot (random UUIDs touch every page). No
    // memory map: SQLite unmaps it at the start of every read transaction that follows
    // another connection's commit (`sqlite3OsUnfetch`), and on a log written all the time
    // that was every read, each a munmap with its TLB shootdown on the other core. Plain
    // reads from the page cache measured faster (docs/benchmarks.md, 2026-12-05).
    conn.pragma_update(None, "cache_size", -65_536)
        .map_err(backend)?;
    conn.pragma_update(None, "mmap_size", 0).map_err(backend)?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(backend)?;
        // The checkpointer thread copies the WAL into the file every `CHECKPOINT_EVERY`; a
        // commit checkpoints in line (syncing the file on the writer's time) only as a
        // backstop, when the WAL has grown past 64 MiB because readers held it back.
        conn.pragma_update(None, "wal_autocheckpoint", 16_384)
            .map_err(backend)?;
    }
    stable_plans(&conn)?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

/// Turns on SQLite's query planner stability guarantee. Without it a bound `LIMIT ?`
/// marks its statement for re-planning whenever the value bound changes, and rusqlite
/// clears a cached statement's bindings when it is returned, so every stream and page
/// read was parsed and planned again (9 % of the engine's CPU in `bench engine`). The
/// store's queries are plain index lookups whose plan never depends on a value.
pub(crate) fn stable_plans(conn: &Connection) -> Result<(), StoreError> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map(drop)
    .map_err(backend)
}

fn backend(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::*;
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        let what = match f.code {
            DiskFull => Some("the disk is full"),
            SystemIoFailure => Some("the disk could not be written (is it full or failing?)"),
            ReadOnly => Some("the event log is read-only"),
            CannotOpen => Some("the event log cannot be opened"),
            _ => None,
        };
        if let Some(what) = what {
            return StoreError::Unavailable(format!(
                "{what} ({e}); nothing of this write was kept: free space or fix permissions, then retry"
            ));
        }
    }
    StoreError::Backend(e.to_string())
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        let append = super::Append {
            stream: stream.to_string(),
            expected,
            events,
        };
        if super::check_batch(stream, &append.events).is_ok() {
            if let Some(result) = self.inner.writer.commit_here(&self.inner.writes, &append) {
                return result;
            }
        }
        let mut results = self.append_in_order(vec![append]).await;
        results
            .pop()
            .unwrap_or_else(|| Err(StoreError::Backend("the writer gave no answer".into())))
    }

    async fn append_in_order(
        &self,
        appends: Vec<super::Append>,
    ) -> Vec<Result<AppendResult, StoreError>> {
        super::queue_in_order(appends, "writer thread", |a, reply| {
            self.inner
                .writes
                .send(writer::WriteRequest { append: a, reply })
                .is_ok()
        })
        .await
    }

    async fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
        max: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.read(|conn| {
            let mut stmt = conn
                .prepare_cached(include_str!("sql/select_stream.sql"))
                .map_err(backend)?;
            let rows = stmt
                .query(rusqlite::params![stream, from_version as i64])
                .map_err(backend)?;
            // A stream is read whole (`max` is huge) and is mostly short.
            codec::collect(rows, 0, from_version, max, max.min(16))
        })
    }

    async fn read_all(
        &self,
        after: Option<Position>,
        max: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.with_reader(move |conn| read_all_sync(conn, after, max))
            .await
    }

    fn subscribe_all(&self, after: Option<Position>) -> EventStream {
        // Appends by other processes do not wake us; this is how soon they are seen.
        super::subscribe::catch_up(
            self.clone(),
            self.inner.committed.clone(),
            after,
            Duration::from_millis(50),
        )
    }

    /// The last position in the log (0 when empty), as any process has written it.
    async fn head(&self) -> Result<u64, StoreError> {
        self.inner
            .read(|conn| next_position(conn).map(|next| next - 1))
    }
}

fn read_all_sync(
    conn: &Connection,
    after: Option<Position>,
    max: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut stmt = conn
        .prepare_cached(include_str!("sql/select_all.sql"))
        .map_err(backend)?;
    let after = after.map_or(0, |p| p.commit);
    let rows = stmt.query([after as i64]).map_err(backend)?;
    // The log is read in pages of `max`; a huge `max` means "the rest".
    codec::collect(rows, after, 0, max, max.min(10_000))
}

/// The position the next append starts at (1 in an empty log).
fn next_position(conn: &Connection) -> Result<u64, StoreError> {
    use rusqlite::OptionalExtension;
    conn.prepare_cached(include_str!("sql/select_next_position.sql"))
        .and_then(|mut s| s.query_row([], |r| r.get::<_, i64>(0)).optional())
        .map(|p| p.map_or(1, |p| p as u64))
        .map_err(backend)
}
