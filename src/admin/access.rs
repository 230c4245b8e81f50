//! Access tokens: named admins and customer accounts, each with their own token. A token
//! is shown once when issued; the log keeps only its SHA-256 digest, so neither a copy
//! of the log nor the read models can be used to sign in.

use chrono::{DateTime, Duration, Utc};
use rand::distr::{Alphanumeric, SampleString};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use domreg_events::settings::{Principal, SettingsEvent, TokenIssued, TokenRevoked, ACCESS_STREAM};
use domreg_events::{AccountId, Actor};
use domreg_projections::TokenRow;

use super::AdminError;
use crate::app::App;
use crate::store::ExpectedVersion;

/// How long a customer's sign-in link works (once).
pub const LINK_LIFETIME: Duration = Duration::hours(24);

/// A token just issued: the only time the token itself exists outside its holder.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    pub token_id: Uuid,
    pub principal: Principal,
    pub token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Tokens of the same holder revoked by a rotation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revoked: Vec<String>,
}

pub fn digest(token: &str) -> String {
    crate::hex::hex(&Sha256::digest(token.as_bytes()))
}

/// The principal a `--admin NAME` or `--customer ACCOUNT` names, checked.
pub fn principal(admin: Option<&str>, customer: Option<&str>) -> Result<Principal, AdminError> {
    match (admin, customer) {
        (Some(name), None) => {
            let ok = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
            if !ok {
                return Err(AdminError::invalid(
                    "invalid_admin",
                    format!("{name:?} is not an admin name: 1 to 64 letters, digits, '-', '_', '.' or '@'"),
                ));
            }
            Ok(Principal::Admin(name.to_string()))
        }
        (None, Some(account)) => Ok(Principal::Customer(AccountId::parse(account)?)),
        _ => Err(AdminError::invalid(
            "invalid_principal",
            "name exactly one holder: an admin (`admin`) or a customer account (`customer`)",
        )),
    }
}

/// Issues a token for `principal`. `link`: a sign-in link's token, good once for a day.
/// `rotate`: the holder's other tokens stop working in the same append.
pub async fn issue(
    app: &mut App,
    principal: Principal,
    link: bool,
    rotate: bool,
    actor: Actor,
) -> Result<IssuedToken, AdminError> {
    if link && !matches!(principal, Principal::Customer(_)) {
        return Err(AdminError::invalid(
            "invalid_principal",
            "sign-in links are for customers; an admin signs in with their token",
        ));
    }
    app.catch_up().await?;
    let now = app.clock.now();
    let prefix = match principal {
        Principal::Admin(_) => "dra",
        Principal::Customer(_) => "drc",
    };
    let token = format!(
        "{prefix}_{}",
        Alphanumeric.sample_string(&mut rand::rng(), 40)
    );
    let token_id = Uuid::now_v7();
    let expires_at = link.then(|| now + LINK_LIFETIME);
    let revoked: Vec<TokenRow> = match rotate {
        true => live(app, now)?
            .into_iter()
            .filter(|t| t.principal == principal)
            .collect(),
        false => Vec::new(),
    };
    let mut events: Vec<SettingsEvent> = revoked
        .iter()
        .filter_map(|t| t.token_id.parse().ok())
        .map(|id| {
            TokenRevoked {
                token_id: id,
                reason: "rotated".into(),
            }
            .into()
        })
        .collect();
    events.push(
        TokenIssued {
            token_id,
            principal: principal.clone(),
            digest: digest(&token),
            expires_at,
        }
        .into(),
    );
    app.append_settings(ACCESS_STREAM, ExpectedVersion::Any, &events, actor, now)
        .await?;
    Ok(IssuedToken {
        token_id,
        principal,
        token,
        expires_at,
        revoked: revoked.into_iter().map(|t| t.token_id).collect(),
    })
}

fn live(app: &App, now: DateTime<Utc>) -> Result<Vec<TokenRow>, AdminError> {
    Ok(app
        .models
        .tokens()?
        .into_iter()
        .filter(|t| t.revoked_at.is_none() && t.expires_at.is_none_or(|e| now < e))
        .collect())
}

/// Stops a token working.
pub async fn revoke(
    app: &mut App,
    token_id: &str,
    reason: &str,
    actor: Actor,
) -> Result<TokenRow, AdminError> {
    app.catch_up().await?;
    let id: Uuid = token_id.trim().parse().map_err(|_| {
        AdminError::invalid(
            "invalid_token_id",
            format!("{token_id:?} is not a token id (a UUID, as `token list` shows)"),
        )
    })?;
    let row = app
        .models
        .tokens()?
        .into_iter()
        .find(|t| t.token_id == id.to_string())
        .ok_or_else(|| AdminError::NotFound(format!("no token {id}")))?;
    if row.revoked_at.is_none() {
        let event: SettingsEvent = TokenRevoked {
            token_id: id,
            reason: reason.chars().take(200).collect(),
        }
        .into();
        let now = app.clock.now();
        app.append_settings(ACCESS_STREAM, ExpectedVersion::Any, &[event], actor, now)
            .await?;
    }
    Ok(app
        .models
        .tokens()?
        .into_iter()
        .find(|t| t.token_id == id.to_string())
        .unwrap_or(row))
}

pub fn list(app: &App) -> Result<Vec<TokenRow>, AdminError> {
    Ok(app.models.tokens()?)
}

/// Who `presented` lets in at `now`: a live token's holder. Links are refused here (they
/// only open a session, once: [`use_link`]).
pub fn authenticate(app: &App, presented: &str) -> Option<Principal> {
    let row = app.models.token_by_digest(&digest(presented)).ok()??;
    (row.revoked_at.is_none() && row.expires_at.is_none()).then_some(row.principal)
}

/// Uses a sign-in link: the customer it names, if the link is live. Its revocation is
/// the first event of the link's own stream (expected: no stream), so of two uses at
/// once only one opens a session.
pub async fn use_link(app: &mut App, presented: &str) -> Result<Option<AccountId>, AdminError> {
    app.catch_up().await?;
    let now = app.clock.now();
    let Some(row) = app.models.token_by_digest(&digest(presented))? else {
        return Ok(None);
    };
    let live = row.revoked_at.is_none() && row.expires_at.is_some_and(|e| now < e);
    let Principal::Customer(account) = row.principal.clone() else {
        return Ok(None);
    };
    if !live {
        return Ok(None);
    }
    let id: Uuid = row
        .token_id
        .parse()
        .map_err(|_| AdminError::Internal(format!("token id {} is not a UUID", row.token_id)))?;
    let event: SettingsEvent = TokenRevoked {
        token_id: id,
        reason: "sign-in link used".into(),
    }
    .into();
    match app
        .append_settings(
            &format!("link-{id}"),
            ExpectedVersion::NoStream,
            &[event],
            Actor::Customer(account.clone()),
            now,
        )
        .await
    {
        Ok(_) => Ok(Some(account)),
        Err(crate::app::AppError::Store(crate::store::StoreError::WrongExpectedVersion {
            ..
        })) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
