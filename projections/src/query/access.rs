//! Access tokens: who a digest lets in, and the tokens an admin has issued.

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;
use serde::Serialize;

use domreg_events::settings::Principal;
use domreg_events::AccountId;

use crate::{parse_ts, ModelError, ReadModels};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRow {
    pub token_id: String,
    pub principal: Principal,
    pub issued_at: DateTime<Utc>,
    /// A sign-in link's token lapses then.
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

type Raw = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn row(raw: Raw) -> Result<TokenRow, ModelError> {
    let (token_id, kind, principal, issued, expires, revoked) = raw;
    let principal = match kind.as_str() {
        "admin" => Principal::Admin(principal),
        _ => Principal::Customer(
            AccountId::parse(&principal).map_err(|e| ModelError::Data(e.to_string()))?,
        ),
    };
    Ok(TokenRow {
        token_id,
        principal,
        issued_at: parse_ts(&issued)?,
        expires_at: expires.as_deref().map(parse_ts).transpose()?,
        revoked_at: revoked.as_deref().map(parse_ts).transpose()?,
    })
}

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

const COLUMNS: &str = "token_id, kind, principal, issued_at, expires_at, revoked_at";

impl ReadModels {
    /// The token with this digest, revoked or not.
    pub fn token_by_digest(&self, digest: &str) -> Result<Option<TokenRow>, ModelError> {
        let raw: Option<Raw> = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM rc_tokens WHERE digest = ?1"
            ))?
            .query_row([digest], read)
            .optional()?;
        raw.map(row).transpose()
    }

    /// Every token issued (newest first), revoked ones too.
    pub fn tokens(&self) -> Result<Vec<TokenRow>, ModelError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM rc_tokens ORDER BY issued_at DESC, token_id"
        ))?;
        let raws = stmt.query_map([], read)?.collect::<Result<Vec<Raw>, _>>()?;
        raws.into_iter().map(row).collect()
    }
}
