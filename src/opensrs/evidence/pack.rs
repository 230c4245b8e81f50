//! The evidence file: one SQLite database (WAL, `synchronous=FULL`) in the evidence
//! directory, written by one thread per process and data directory that commits every
//! exchange waiting at that moment in one transaction. 64 calls in flight then cost one
//! disk sync, not 64 file syncs and renames (and a rename's directory entry, which the
//! one-file-per-exchange form never synced, is no longer needed for durability).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension};

/// Exchanges committed together at most: bounds one transaction's size and latency.
const MAX_PER_COMMIT: usize = 256;
/// How long a writer waits for another process holding the file (a CLI verb beside
/// `serve`) before the exchange is reported as not kept.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub(super) const FILE_NAME: &str = "evidence.db";

struct Job {
    hash: String,
    bytes: Vec<u8>,
    done: tokio::sync::oneshot::Sender<Result<(), String>>,
}

/// The writer of one evidence file; the thread ends when the last handle is dropped.
pub(super) struct Pack {
    path: PathBuf,
    jobs: mpsc::Sender<Job>,
}

/// One writer per evidence file in this process, however many clients keep evidence.
fn writers() -> &'static Mutex<HashMap<PathBuf, Weak<Pack>>> {
    static WRITERS: OnceLock<Mutex<HashMap<PathBuf, Weak<Pack>>>> = OnceLock::new();
    WRITERS.get_or_init(Default::default)
}

impl Pack {
    /// The writer of the evidence file in `dir`, started when none runs yet.
    pub(super) fn for_dir(dir: &Path) -> std::io::Result<Arc<Pack>> {
        let path = dir.join(FILE_NAME);
        let mut all = writers()
            .lock()
            .map_err(|_| std::io::Error::other("the evidence writers' table is poisoned"))?;
        if let Some(pack) = all.get(&path).and_then(Weak::upgrade) {
            return Ok(pack);
        }
        all.retain(|_, w| w.strong_count() > 0);
        let (send, receive) = mpsc::channel();
        let thread_path = path.clone();
        std::thread::Builder::new()
            .name("evidence-writer".into())
            .spawn(move || write_loop(&thread_path, &receive))?;
        let pack = Arc::new(Pack {
            path: path.clone(),
            jobs: send,
        });
        all.insert(path, Arc::downgrade(&pack));
        Ok(pack)
    }

    /// Keeps `bytes` at `hash`, durably, once per content.
    pub(super) async fn keep(&self, hash: String, bytes: Vec<u8>) -> Result<(), String> {
        let (done, answer) = tokio::sync::oneshot::channel();
        let job = Job { hash, bytes, done };
        self.jobs
            .send(job)
            .map_err(|_| "the evidence writer has stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the evidence writer stopped before answering".to_string())?
    }
}

impl std::fmt::Debug for Pack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pack").field("path", &self.path).finish()
    }
}

fn open(path: &Path) -> Result<Connection, String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    open_file(path).map_err(|e| e.to_string())
}

fn open_file(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS evidence (
             hash TEXT PRIMARY KEY NOT NULL,
             body BLOB NOT NULL
         )",
    )?;
    Ok(conn)
}

/// Takes the exchanges waiting, commits them in one transaction and answers each; the
/// file is opened (again) on the first group after a failure to open it.
fn write_loop(path: &Path, jobs: &mpsc::Receiver<Job>) {
    let mut conn: Option<Connection> = None;
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_PER_COMMIT {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        // Opened on the first group, and again after a failed open, not per group.
        let opened = match conn.take() {
            Some(c) => Ok(c),
            None => open(path),
        };
        let result = opened
            .and_then(|mut c| {
                let committed = commit(&mut c, &group).map_err(|e| e.to_string());
                conn = Some(c);
                committed
            })
            .map_err(|e| format!("{}: {e}", path.display()));
        for job in group {
            let _ = job.done.send(result.clone());
        }
    }
}

fn commit(conn: &mut Connection, group: &[Job]) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut insert =
            tx.prepare_cached("INSERT OR IGNORE INTO evidence (hash, body) VALUES (?1, ?2)")?;
        for job in group {
            insert.execute(rusqlite::params![job.hash, job.bytes])?;
        }
    }
    tx.commit()
}

/// The body kept at `hash` in the evidence file of `dir`, if the file holds it.
pub(super) fn read(dir: &Path, hash: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    let path = dir.join(FILE_NAME);
    if !path.exists() {
        return Ok(None);
    }
    let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.query_row("SELECT body FROM evidence WHERE hash = ?1", [hash], |row| {
        row.get(0)
    })
    .optional()
}
