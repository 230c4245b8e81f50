//! The read-model database: schema, batched application with checkpoints, reset, dump.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use crate::{apply, Envelope, LogPosition, Model, ModelError, Quarantined};

/// Bumped whenever `schema.sql` changes.
const SCHEMA_VERSION: i64 = 10;

pub struct ReadModels {
    pub(crate) conn: Connection,
    /// Test hook: fail every batch after writing the rows, before the checkpoints.
    #[doc(hidden)]
    pub crash_before_checkpoint: bool,
}

impl ReadModels {
    /// Opens (creating) the models at `path`. WAL and `synchronous=FULL`: a model and its
    /// checkpoint are durable together.
    pub fn open(path: &Path) -> Result<Self, ModelError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "cache_size", -65_536)?;
        Self::init(conn)
    }

    /// Fresh models in memory (for `verify`).
    pub fn open_in_memory() -> Result<Self, ModelError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self, ModelError> {
        // The query planner stability guarantee: without it a statement with a bound
        // `LIMIT ?` is planned again each time it is taken from the statement cache.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        // Read models are derived data: when the schema changes, they are dropped and
        // rebuilt from the log by the next catch-up.
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version != SCHEMA_VERSION {
            let tables: Vec<String> = conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for t in tables {
                conn.execute_batch(&format!("DROP TABLE IF EXISTS \"{t}\""))?;
            }
            conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
        conn.execute_batch(include_str!("sql/schema.sql"))?;
        Ok(ReadModels {
            conn,
            crash_before_checkpoint: false,
        })
    }

    pub fn checkpoint(&self, model: Model) -> Result<Option<LogPosition>, ModelError> {
        checkpoint_in(&self.conn, model)
    }

    /// The lowest checkpoint of all models: where catching up must start (`None`: from
    /// the beginning).
    pub fn lowest_checkpoint(&self) -> Result<Option<LogPosition>, ModelError> {
        let mut lowest = None;
        for model in Model::ALL {
            match self.checkpoint(model)? {
                None => return Ok(None),
                Some(p) => lowest = Some(lowest.map_or(p, |l: LogPosition| l.min(p))),
            }
        }
        Ok(lowest)
    }

    /// Applies a batch of events (in log order) to every model that has not seen them,
    /// and moves each model's checkpoint, all in one transaction.
    pub fn apply_batch(&mut self, events: &[Envelope]) -> Result<(), ModelError> {
        self.apply_page(events, Vec::new(), None)
    }

    /// [`ReadModels::apply_batch`] for one page of the log: `unreadable` are the page's
    /// events that could not be decoded, and `through` the page's last position (so the
    /// checkpoints pass an unreadable event at its end). An event a model cannot fold
    /// (its data would corrupt the model) is quarantined with the unreadable ones; every
    /// other event is folded as usual. Returns nothing, or what was quarantined anew.
    pub fn apply_page(
        &mut self,
        events: &[Envelope],
        mut unreadable: Vec<Quarantined>,
        through: Option<LogPosition>,
    ) -> Result<(), ModelError> {
        let last = events
            .last()
            .map(|e| e.position)
            .into_iter()
            .chain(unreadable.iter().map(|q| q.position))
            .chain(through)
            .max();
        let Some(last) = last else {
            return Ok(());
        };
        // The checkpoints are read inside a write (IMMEDIATE) transaction: another process
        // catching up at the same time waits, then sees this batch as applied, so no event
        // is ever folded twice.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let checkpoints: Vec<(Model, Option<LogPosition>)> = Model::ALL
            .iter()
            .map(|m| checkpoint_in(&tx, *m).map(|c| (*m, c)))
            .collect::<Result<_, _>>()?;
        let unseen = |c: &Option<LogPosition>, e: &Envelope| c.is_none_or(|c| e.position > c);
        // Fast path: the whole page at once. A data error sends it down the slow path,
        // event by event under a savepoint, quarantining what cannot be folded.
        tx.execute_batch("SAVEPOINT page")?;
        let mut fast = Ok(());
        'fast: for (model, checkpoint) in &checkpoints {
            for e in events.iter().filter(|e| unseen(checkpoint, e)) {
                if let Err(err) = apply::apply(*model, &tx, e) {
                    fast = Err(err);
                    break 'fast;
                }
            }
        }
        match fast {
            Ok(()) => tx.execute_batch("RELEASE page")?,
            Err(ModelError::Data(_)) => {
                tx.execute_batch("ROLLBACK TO page; RELEASE page")?;
                for e in events {
                    tx.execute_batch("SAVEPOINT one")?;
                    let mut folded = Ok(());
                    for (model, checkpoint) in &checkpoints {
                        if unseen(checkpoint, e) {
                            folded = apply::apply(*model, &tx, e);
                            if folded.is_err() {
                                break;
                            }
                        }
                    }
                    match folded {
                        Ok(()) => tx.execute_batch("RELEASE one")?,
                        Err(ModelError::Data(detail)) => {
                            tx.execute_batch("ROLLBACK TO one; RELEASE one")?;
                            unreadable.push(Quarantined {
                                position: e.position,
                                stream: e.stream.clone(),
                                event_id: e.event_id,
                                event_type: event_type_of(e),
                                detail,
                            });
                        }
                        Err(other) => return Err(other),
                    }
                }
            }
            Err(other) => return Err(other),
        }
        let quarantine_checkpoint = checkpoints
            .iter()
            .find(|(m, _)| *m == Model::Quarantine)
            .and_then(|(_, c)| *c);
        for q in &unreadable {
            if quarantine_checkpoint.is_none_or(|c| q.position > c) {
                tracing_alarm(q);
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO qt_events VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    q.position.0 as i64,
                    q.position.1 as i64,
                    q.stream,
                    q.event_id.to_string(),
                    q.event_type,
                    q.detail
                ])?;
            }
        }
        if self.crash_before_checkpoint {
            return Err(ModelError::SimulatedCrash); // `tx` rolls back on drop
        }
        for (model, checkpoint) in &checkpoints {
            if checkpoint.is_none_or(|c| last > c) {
                tx.prepare_cached("INSERT OR REPLACE INTO checkpoints VALUES (?1, ?2, ?3)")?
                    .execute(params![model.name(), last.0 as i64, last.1 as i64])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every quarantined event, in log order.
    pub fn quarantined(&self) -> Result<Vec<Quarantined>, ModelError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT commit_position, prepare_position, stream, event_id, event_type, detail
             FROM qt_events ORDER BY commit_position, prepare_position",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    (r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64),
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .into_iter()
            .map(|(position, stream, id, event_type, detail)| Quarantined {
                position,
                stream,
                event_id: id.parse().unwrap_or_default(),
                event_type,
                detail,
            })
            .collect())
    }

    /// Empties a model and its checkpoint, so the next catch-up rebuilds it from zero.
    pub fn reset(&mut self, model: Model) -> Result<(), ModelError> {
        let tx = self.conn.transaction()?;
        for table in model.tables() {
            tx.execute(&format!("DELETE FROM {table}"), [])?;
        }
        tx.execute("DELETE FROM checkpoints WHERE model = ?1", [model.name()])?;
        tx.commit()?;
        Ok(())
    }

    /// Every row of a model's tables as text, sorted: for comparing with a fresh replay.
    pub fn dump(&self, model: Model) -> Result<BTreeMap<String, Vec<String>>, ModelError> {
        let mut out = BTreeMap::new();
        for table in model.tables() {
            let mut stmt = self.conn.prepare(&format!("SELECT * FROM {table}"))?;
            let columns = stmt.column_count();
            let mut rows: Vec<String> = stmt
                .query_map([], |r| {
                    let cells: Vec<String> = (0..columns)
                        .map(|i| match r.get_ref(i) {
                            Ok(v) => format!("{v:?}"),
                            Err(e) => format!("<{e}>"),
                        })
                        .collect();
                    Ok(cells.join(" | "))
                })?
                .collect::<Result<_, _>>()?;
            rows.sort();
            out.insert(table.to_string(), rows);
        }
        Ok(out)
    }

    /// Direct SQL access for tests and benchmarks that need to tamper or inspect.
    #[doc(hidden)]
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

fn checkpoint_in(conn: &Connection, model: Model) -> Result<Option<LogPosition>, ModelError> {
    Ok(conn
        .query_row(
            "SELECT commit_position, prepare_position FROM checkpoints WHERE model = ?1",
            [model.name()],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )
        .optional()?)
}

fn event_type_of(e: &Envelope) -> String {
    match &e.event {
        domreg_events::AnyEvent::Domain(d) => d.event_type().to_string(),
        domreg_events::AnyEvent::Settings(s) => s.event_type().to_string(),
    }
}

/// A quarantined event is an operator's problem: it is said loudly, once, when found.
fn tracing_alarm(q: &Quarantined) {
    tracing::error!(
        event_id = %q.event_id,
        event_type = %q.event_type,
        stream = %q.stream,
        position = q.position.0,
        detail = %q.detail,
        "ALARM: an event cannot be read or folded by this build; it is quarantined and skipped"
    );
}
