//! Which events become which emails. Customers hear when a pending registration or
//! transfer completes, fails or times out, and when an expiry warning is due; the admin
//! gets one digest per engine round with the completions, and a separate list of the
//! orders that timed out or were cancelled.

use std::path::PathBuf;

use domreg_events::*;

use super::{Mail, Mailer};
use crate::store::postgres::PgStore;
use crate::store::{EventStore, Position, RecordedEvent, StoreError};

/// Where the notifier has read the log to, kept in `mail/cursor`.
pub struct Cursor {
    path: PathBuf,
}

impl Cursor {
    pub fn new(mailer: &Mailer) -> Self {
        Cursor {
            path: mailer.dir.join("cursor"),
        }
    }

    pub fn load(&self) -> Option<Position> {
        read(&std::fs::read_to_string(&self.path).ok()?)
    }

    pub fn save(&self, p: Position) -> std::io::Result<()> {
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, show(p))?;
        std::fs::rename(tmp, &self.path)
    }
}

fn owner_email(state: &Domain) -> Option<String> {
    state
        .orders
        .values()
        .rev()
        .find_map(|o| {
            o.contacts
                .as_ref()
                .map(|c| c.owner.email.trim().to_string())
        })
        .filter(|e| !e.is_empty())
}

#[derive(Default)]
struct Digest {
    completed: Vec<String>,
    ended_otherwise: Vec<String>,
    /// Domains found no longer in the account at OpenSRS (deleted, transferred away).
    gone: Vec<String>,
    /// Automatic renewals the account cannot pay (at the warning, and when due).
    unpaid: Vec<String>,
    first: Option<Position>,
    last: Option<Position>,
}

/// Where the notifier has read the log to: `mail/cursor` in the data directory when the
/// engine is alone on its log; in the shared store when several engines share one, so
/// the mail is composed once whichever engine composes it.
pub struct MailCursor<'a> {
    local: Cursor,
    shared: Option<&'a PgStore>,
}

/// The shared cursor's name.
const SHARED: &str = "mail";

fn show(p: Position) -> String {
    format!("{}/{}", p.commit, p.prepare)
}

fn read(text: &str) -> Option<Position> {
    let (c, p) = text.trim().split_once('/')?;
    Some(Position {
        commit: c.parse().ok()?,
        prepare: p.parse().ok()?,
    })
}

impl<'a> MailCursor<'a> {
    pub fn new(mailer: &Mailer, shared: Option<&'a PgStore>) -> Self {
        MailCursor {
            local: Cursor::new(mailer),
            shared,
        }
    }

    /// The position mailed to, and the shared value it was read as (for the swap).
    async fn load(&self) -> Result<(Option<Position>, Option<String>), StoreError> {
        let Some(store) = self.shared else {
            return Ok((self.local.load(), None));
        };
        match store.cursor(SHARED).await? {
            Some(raw) => Ok((read(&raw), Some(raw))),
            // The first engine to share the log carries on from where it mailed alone.
            None => Ok((self.local.load(), None)),
        }
    }

    /// Moves the cursor from what `load` read to `to`; false if another engine moved
    /// the shared one first (its mail for these events is composed, so ours is dropped).
    async fn save(&self, read: Option<String>, to: Position) -> Result<bool, StoreError> {
        let local = self
            .local
            .save(to)
            .map_err(|e| StoreError::Unavailable(format!("cannot save the mail cursor: {e}")));
        match self.shared {
            None => local.map(|()| true),
            Some(store) => {
                store
                    .advance_cursor(SHARED, read.as_deref(), &show(to))
                    .await
            }
        }
    }
}

/// Turns the events after the cursor into queued mails and moves the cursor. Without a
/// cursor (a fresh install) it starts at the end of the log: history is not mailed.
///
/// Alone, the mail is queued before the cursor moves (a crash between the two mails
/// nothing twice: a mail's key is its event's). Shared, the cursor is swapped first and
/// only the winner queues, so two engines never both mail one event.
pub async fn compose<S: EventStore>(
    store: &S,
    mailer: &Mailer,
    cursor: &MailCursor<'_>,
) -> Result<usize, StoreError> {
    let (start, raw) = cursor.load().await?;
    let mut after = match start {
        Some(p) => Some(p),
        None => {
            let mut last = None;
            loop {
                let page = store.read_all(last, 10_000).await?;
                match page.last() {
                    Some(e) => last = Some(e.position),
                    None => break,
                }
            }
            if let Some(p) = last {
                cursor.save(raw.clone(), p).await?;
            }
            return Ok(0);
        }
    };
    let mut mails = Vec::new();
    let mut digest = Digest::default();
    loop {
        let page = store.read_all(after, 1_000).await?;
        let Some(last) = page.last().map(|e| e.position) else {
            break;
        };
        for e in &page {
            mail_for(store, e, &mut digest, &mut mails).await?;
        }
        after = Some(last);
    }
    if let (Some(admin), Some(first), Some(last)) =
        (&mailer.settings().admin, digest.first, digest.last)
    {
        let mut body = String::new();
        if !digest.completed.is_empty() {
            body.push_str(&format!("Completed ({}):\n", digest.completed.len()));
            for line in &digest.completed {
                body.push_str(&format!("  {line}\n"));
            }
        }
        if !digest.ended_otherwise.is_empty() {
            body.push_str(&format!(
                "\nTimed out, cancelled, refused renewals (refunded) and expired domains ({}):\n",
                digest.ended_otherwise.len()
            ));
            for line in &digest.ended_otherwise {
                body.push_str(&format!("  {line}\n"));
            }
        }
        if !digest.gone.is_empty() {
            body.push_str(&format!(
                "\nNo longer in the account at OpenSRS; not warned about or renewed any more ({}):\n",
                digest.gone.len()
            ));
            for line in &digest.gone {
                body.push_str(&format!("  {line}\n"));
            }
        }
        if !digest.unpaid.is_empty() {
            body.push_str(&format!(
                "\nAutomatic renewals the account cannot pay ({}):\n",
                digest.unpaid.len()
            ));
            for line in &digest.unpaid {
                body.push_str(&format!("  {line}\n"));
            }
        }
        let mail = Mail {
            key: format!("digest-{}-{}", first, last),
            to: admin.clone(),
            subject: format!(
                "domreg: {} completed, {} timed out or cancelled{}{}",
                digest.completed.len(),
                digest.ended_otherwise.len(),
                if digest.gone.is_empty() {
                    String::new()
                } else {
                    format!(", {} gone from OpenSRS", digest.gone.len())
                },
                if digest.unpaid.is_empty() {
                    String::new()
                } else {
                    format!(", {} renewals unpaid", digest.unpaid.len())
                }
            ),
            body,
            attempts: 0,
        };
        mails.push(mail);
    }
    let Some(to) = after.filter(|p| Some(*p) != start) else {
        return Ok(0);
    };
    let queue = |mails: &[Mail]| -> Result<usize, StoreError> {
        let mut queued = 0;
        for mail in mails {
            let new = mailer
                .queue(mail)
                .map_err(|err| StoreError::Unavailable(err.to_string()))?;
            queued += usize::from(new);
        }
        Ok(queued)
    };
    if cursor.shared.is_some() {
        if !cursor.save(raw, to).await? {
            return Ok(0);
        }
        queue(&mails)
    } else {
        let queued = queue(&mails)?;
        cursor.save(raw, to).await?;
        Ok(queued)
    }
}

async fn mail_for<S: EventStore>(
    store: &S,
    e: &RecordedEvent,
    digest: &mut Digest,
    out: &mut Vec<Mail>,
) -> Result<usize, StoreError> {
    let Ok(event) = e.decode_domain() else {
        return Ok(0);
    };
    let interesting = matches!(
        event,
        DomainEvent::Confirmed(_)
            | DomainEvent::Rejected(_)
            | DomainEvent::TimedOut(_)
            | DomainEvent::Cancelled(_)
            | DomainEvent::ExpiryWarned(_)
            | DomainEvent::ExpiryPassed(_)
            | DomainEvent::RenewalUnpaid(_)
            | DomainEvent::LeftAccount(_)
            | DomainEvent::RegistrarReported(_)
    );
    let Some(name) = e.stream.strip_prefix("domain-").filter(|_| interesting) else {
        return Ok(0);
    };
    let Ok(domain) = DomainName::parse(name) else {
        return Ok(0);
    };
    let state = crate::unit_of_work::load(store, &domain)
        .await
        .map_err(|err| StoreError::Backend(err.to_string()))?;
    let to = owner_email(&state);
    let order = event.order_id().and_then(|id| state.orders.get(&id));
    let mut mails = Vec::new();
    let subject_kind = |o: &Order| match o.kind {
        OrderKind::Register => "registration",
        OrderKind::Transfer => "transfer",
        OrderKind::Renew => "renewal",
    };
    match (&event, order) {
        (DomainEvent::Confirmed(c), Some(o)) => {
            if o.kind != OrderKind::Renew {
                digest.completed.push(format!(
                    "{domain} ({} for {}, expires {})",
                    subject_kind(o),
                    o.account,
                    c.expires_at.format("%Y-%m-%d")
                ));
            }
            // Only orders that went pending: synchronous ones were answered at once.
            if o.deadline.is_some() {
                mails.push((format!("Your {} of {domain} is complete", subject_kind(o)), format!(
                    "The {} of {domain} for account {} is complete.\nThe domain now expires on {}.\n",
                    subject_kind(o), o.account, c.expires_at.format("%Y-%m-%d")
                )));
            }
        }
        // A renewal that failed, pending or not: the domain may lapse.
        (DomainEvent::Rejected(r), Some(o)) if o.kind == OrderKind::Renew => {
            digest.ended_otherwise.push(format!(
                "{domain} (renewal for {}, refused: {})",
                o.account,
                r.answer.text.trim()
            ));
            mails.push((format!("The renewal of {domain} failed"), format!(
                "The registry refused the renewal of {domain}: {}.\nThe fee of {} is refunded to account {}. The domain still expires on {}; renew it before then to keep it.\n",
                r.answer.text.trim(), o.price, o.account,
                state.expires_at.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()
            )));
        }
        (DomainEvent::Rejected(r), Some(o)) if o.deadline.is_some() => {
            mails.push((format!("Your {} of {domain} failed", subject_kind(o)), format!(
                "The registry refused the {} of {domain}: {}.\nThe fee of {} is refunded to account {}.\n",
                subject_kind(o), r.answer.text.trim(), o.price, o.account
            )));
        }
        (DomainEvent::TimedOut(_), Some(o)) => {
            digest.ended_otherwise.push(format!(
                "{domain} ({} for {}, timed out)",
                subject_kind(o),
                o.account
            ));
            mails.push((format!("Your {} of {domain} did not complete", subject_kind(o)), format!(
                "The registry did not complete the {} of {domain} in time.\nThe fee of {} is refunded to account {}.\n",
                subject_kind(o), o.price, o.account
            )));
        }
        (DomainEvent::Cancelled(c), Some(o)) => {
            digest.ended_otherwise.push(format!(
                "{domain} ({} for {}, cancelled: {})",
                subject_kind(o),
                o.account,
                c.reason
            ));
        }
        (DomainEvent::ExpiryWarned(w), _) => {
            let renew = match (state.auto_renew, w.renewal_unpaid) {
                (true, Some(missing)) => {
                    digest.unpaid.push(format!(
                        "{domain} (account {}, expires {}): {missing} short of its renewal, warned",
                        w.account,
                        w.expires_at.format("%Y-%m-%d")
                    ));
                    format!("It is set to renew automatically, but account {} cannot pay the renewal: {missing} is missing. Add funds before then, or it will not be renewed.", w.account)
                }
                (true, None) => "It will be renewed automatically before then.".to_string(),
                (false, _) => "Renew it before then to keep it.".to_string(),
            };
            mails.push((
                format!("{domain} expires on {}", w.expires_at.format("%Y-%m-%d")),
                format!(
                    "The registration of {domain} (account {}) expires on {}.\n{renew}\n",
                    w.account,
                    w.expires_at.format("%Y-%m-%d")
                ),
            ));
        }
        (DomainEvent::RenewalUnpaid(u), _) => {
            digest.unpaid.push(format!(
                "{domain} (account {}, expires {}): automatic renewal not sent, {} missing of {}",
                u.account,
                u.expires_at.format("%Y-%m-%d"),
                u.missing,
                u.price
            ));
            mails.push((
                format!("{domain} was not renewed: payment needed"),
                format!(
                    "The automatic renewal of {domain} (account {}) is due, but the account cannot pay it: it costs {}, and {} is missing.\nThe domain expires on {}. Add funds and it will be renewed on our next daily round.\n",
                    u.account,
                    u.price,
                    u.missing,
                    u.expires_at.format("%Y-%m-%d")
                ),
            ));
        }
        (DomainEvent::ExpiryPassed(x), _) => {
            let tld = state.name.as_ref().map(|n| n.tld()).unwrap_or_default();
            let grace = domreg_events::expiry::grace_ends(x.expires_at, tld);
            let renew = if grace > x.expires_at {
                format!(
                    "It can still be renewed until {}; after that the registry deletes it or it must be restored, at a higher fee.",
                    grace.format("%Y-%m-%d")
                )
            } else {
                "Its registry has no renewal grace period: it can only be restored, at a higher fee.".to_string()
            };
            digest.ended_otherwise.push(format!(
                "{domain} (account {}, expired unrenewed on {}; renewable until {})",
                x.account,
                x.expires_at.format("%Y-%m-%d"),
                grace.format("%Y-%m-%d")
            ));
            mails.push((
                format!("{domain} has expired"),
                format!(
                    "The registration of {domain} (account {}) expired on {} and was not renewed.\n{renew}\n",
                    x.account,
                    x.expires_at.format("%Y-%m-%d")
                ),
            ));
        }
        (DomainEvent::LeftAccount(_), _) | (DomainEvent::RegistrarReported(_), _)
            if gone_now(&event) =>
        {
            if let Some(holder) = &state.holder {
                let why = state.gone.clone().unwrap_or_default();
                digest
                    .gone
                    .push(format!("{domain} (account {holder}): {why}"));
                mails.push((
                    format!("{domain} is no longer registered through us"),
                    format!(
                        "{domain} (account {holder}) is no longer in our account at the registrar: {why}.\nWe will not renew it or remind you of its expiry. If you did not move or delete it, contact us.\n"
                    ),
                ));
            }
        }
        _ => {}
    }
    let in_digest = |d: &Digest| {
        !(d.completed.is_empty()
            && d.ended_otherwise.is_empty()
            && d.gone.is_empty()
            && d.unpaid.is_empty())
    };
    if digest.first.is_none() && in_digest(digest) {
        digest.first = Some(e.position);
    }
    if in_digest(digest) {
        digest.last = Some(e.position);
    }
    let mut queued = 0;
    for (i, (subject, body)) in mails.into_iter().enumerate() {
        let Some(to) = to.clone() else {
            tracing::warn!(%domain, "no contact address to mail {subject:?} to");
            continue;
        };
        let mail = Mail {
            key: format!("{}-{i}", e.id),
            to,
            subject,
            body,
            attempts: 0,
        };
        out.push(mail);
        queued += 1;
    }
    Ok(queued)
}

/// Whether `event` is the fact that a domain left the account at OpenSRS.
fn gone_now(event: &DomainEvent) -> bool {
    match event {
        DomainEvent::LeftAccount(_) => true,
        DomainEvent::RegistrarReported(r) => r.kind() == "DOMAIN DELETED",
        _ => false,
    }
}
