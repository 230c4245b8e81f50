//! What engines sharing one PostgreSQL log agree on outside it: who is alive, and the
//! shared cursors. Operational state, not facts, so it lives in tables of its own and is
//! never replayed.

use std::time::Duration;

use super::{backend, PgStore};
use crate::store::StoreError;

impl PgStore {
    /// Records that engine `me` is alive now (the server's time) and returns every engine
    /// seen within `lease`, sorted, `me` included.
    pub async fn beat(&self, me: &str, lease: Duration) -> Result<Vec<String>, StoreError> {
        let client = self.reader().await?;
        client
            .execute(
                "INSERT INTO domreg_engines (id, seen_at) VALUES ($1, now())
                 ON CONFLICT (id) DO UPDATE SET seen_at = now()",
                &[&me],
            )
            .await
            .map_err(backend)?;
        // Engines gone for a day are forgotten, so the table stays small.
        client
            .execute(
                "DELETE FROM domreg_engines WHERE seen_at < now() - interval '1 day'",
                &[],
            )
            .await
            .map_err(backend)?;
        let rows = client
            .query(
                "SELECT id FROM domreg_engines
                 WHERE seen_at > now() - make_interval(secs => $1) ORDER BY id",
                &[&lease.as_secs_f64()],
            )
            .await
            .map_err(backend)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Takes engine `me` out of the living at once (a clean stop), so the others need not
    /// wait for its lease to lapse.
    pub async fn leave(&self, me: &str) -> Result<(), StoreError> {
        let client = self.reader().await?;
        client
            .execute("DELETE FROM domreg_engines WHERE id = $1", &[&me])
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// Every engine that beat within the last day, with how many seconds ago it last did.
    pub async fn engines_seen(&self) -> Result<Vec<(String, f64)>, StoreError> {
        let client = self.reader().await?;
        let rows = client
            .query(
                "SELECT id, EXTRACT(EPOCH FROM now() - seen_at)::float8 FROM domreg_engines
                 WHERE seen_at > now() - interval '1 day' ORDER BY id",
                &[],
            )
            .await
            .map_err(backend)?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// The shared cursor `name`, if it was ever set.
    pub async fn cursor(&self, name: &str) -> Result<Option<String>, StoreError> {
        let client = self.reader().await?;
        let row = client
            .query_opt("SELECT value FROM domreg_cursors WHERE name = $1", &[&name])
            .await
            .map_err(backend)?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Moves cursor `name` from `from` (`None`: unset) to `to`; false if another engine
    /// moved it first.
    pub async fn advance_cursor(
        &self,
        name: &str,
        from: Option<&str>,
        to: &str,
    ) -> Result<bool, StoreError> {
        let client = self.reader().await?;
        let changed = match from {
            None => client
                .execute(
                    "INSERT INTO domreg_cursors (name, value) VALUES ($1, $2)
                     ON CONFLICT (name) DO NOTHING",
                    &[&name, &to],
                )
                .await
                .map_err(backend)?,
            Some(from) => client
                .execute(
                    "UPDATE domreg_cursors SET value = $3 WHERE name = $1 AND value = $2",
                    &[&name, &from, &to],
                )
                .await
                .map_err(backend)?,
        };
        Ok(changed == 1)
    }
}
