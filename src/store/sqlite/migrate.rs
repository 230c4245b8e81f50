//! The embedded log's numbered migrations: each is schema SQL, sometimes followed by code
//! that moves the rows, applied in one transaction and recorded in `user_version`.

use rusqlite::Connection;

use super::backend;
use super::codec::{Packable, Packer};
use crate::store::StoreError;

/// Code that moves rows into a migration's new tables, inside its transaction.
type MoveRows = fn(&Connection) -> Result<(), String>;

pub(super) struct Migration {
    pub sql: &'static str,
    /// Moves existing rows into the new tables, in the migration's transaction.
    pub then: Option<MoveRows>,
}

pub(super) const MIGRATIONS: &[Migration] = &[
    Migration {
        sql: include_str!("sql/0001_events.sql"),
        then: None,
    },
    Migration {
        sql: include_str!("sql/0002_appends.sql"),
        then: Some(events_into_appends),
    },
];

/// Applies the migrations not yet recorded in `user_version`, each all or nothing.
pub(super) fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let current: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(backend)?;
    let current = usize::try_from(current).unwrap_or(0);
    if current > MIGRATIONS.len() {
        return Err(StoreError::Unavailable(format!(
            "the event log is of a newer schema ({current}) than this domreg knows ({}): use a newer domreg",
            MIGRATIONS.len()
        )));
    }
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(current) {
        let number = i + 1;
        let applied = conn
            .execute_batch(&format!("BEGIN IMMEDIATE; {}", migration.sql))
            .map_err(|e| e.to_string())
            .and_then(|()| migration.then.map_or(Ok(()), |move_rows| move_rows(conn)))
            .and_then(|()| {
                conn.execute_batch(&format!("PRAGMA user_version = {number}; COMMIT;"))
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = applied {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(StoreError::Backend(format!(
                "migration {number} failed, nothing of it was kept: {e}"
            )));
        }
    }
    Ok(())
}

/// Migration 2: every event of the per-event table becomes an append of one event at the
/// same position and version; then that table goes.
fn events_into_appends(conn: &Connection) -> Result<(), String> {
    let mut read = conn
        .prepare(
            "SELECT position, event_id, stream, version, event_type, schema_version, data,
                    actor, correlation_id, causation_id, at_micros
             FROM events ORDER BY position",
        )
        .map_err(|e| e.to_string())?;
    let mut append = conn
        .prepare(include_str!("sql/insert_append.sql"))
        .map_err(|e| e.to_string())?;
    let mut id = conn
        .prepare("INSERT INTO event_ids (event_id, position) VALUES (?1, ?2)")
        .map_err(|e| e.to_string())?;
    let mut rows = read.query([]).map_err(|e| e.to_string())?;
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
        let position: i64 = row.get(0).map_err(|e| e.to_string())?;
        let at = |what: &str, e: &dyn std::fmt::Display| {
            format!("event at position {position}: {what}: {e}")
        };
        let uuid = |i: usize, what: &str| -> Result<[u8; 16], String> {
            let bytes: Vec<u8> = row.get(i).map_err(|e| at(what, &e))?;
            <[u8; 16]>::try_from(bytes.as_slice()).map_err(|e| at(what, &e))
        };
        let event_id = uuid(1, "event id")?;
        let correlation_id = uuid(8, "correlation id")?;
        let causation_id = match row.get_ref(9).map_err(|e| at("causation id", &e))? {
            rusqlite::types::ValueRef::Null => None,
            _ => Some(uuid(9, "causation id")?),
        };
        let stream: String = row.get(2).map_err(|e| at("stream", &e))?;
        let version: i64 = row.get(3).map_err(|e| at("version", &e))?;
        let event_type: String = row.get(4).map_err(|e| at("event type", &e))?;
        let schema_version: i64 = row.get(5).map_err(|e| at("schema version", &e))?;
        let data: Vec<u8> = row.get(6).map_err(|e| at("data", &e))?;
        let actor: String = row.get(7).map_err(|e| at("actor", &e))?;
        let at_micros: i64 = row.get(10).map_err(|e| at("time", &e))?;
        let mut packer = Packer::with_capacity(80 + event_type.len() + data.len());
        packer.push(&Packable {
            id: &event_id,
            schema_version: u32::try_from(schema_version).map_err(|e| at("schema version", &e))?,
            at_micros,
            correlation_id: &correlation_id,
            causation_id: causation_id.as_ref(),
            event_type: &event_type,
            actor: &actor,
            data: &data,
        });
        append
            .execute(rusqlite::params![
                position,
                stream,
                version,
                1,
                packer.finish()
            ])
            .map_err(|e| at("append", &e))?;
        id.execute(rusqlite::params![event_id.as_slice(), position])
            .map_err(|e| at("event id", &e))?;
    }
    drop(rows);
    drop(read);
    conn.execute_batch("DROP TABLE events")
        .map_err(|e| e.to_string())
}
