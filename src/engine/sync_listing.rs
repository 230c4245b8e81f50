//! The account listing a reconciliation reads (GET_DOMAINS_BY_EXPIREDATE, page by page),
//! paced to a rate of calls per connection and checkpointed, so a crash mid-listing
//! resumes at the next page instead of starting over.
//!
//! The checkpoint is a JSON-lines file in the data directory (`sync/<connection>.jsonl`):
//! a header, then one line per page read. Appending a page costs only that page, however
//! large the account. A checkpoint older than [`RESUME_WITHIN`] is ignored (the listing
//! would be stale), and a finished listing removes it.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Datelike, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::sync::SyncError;
use crate::opensrs::listing::{page, Listed};
use crate::opensrs::{self, Class, Client};

/// Domains per listing page.
pub const PAGE_SIZE: u32 = 500;
/// A checkpoint younger than this is resumed.
const RESUME_WITHIN: Duration = Duration::hours(6);

/// How fast a reconciliation may call OpenSRS (OpenSRS throttles resellers).
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub calls_per_second: u32,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            calls_per_second: 10,
        }
    }
}

/// Spaces calls `1 / calls_per_second` apart.
pub struct Pacer {
    gap: StdDuration,
    next: tokio::time::Instant,
}

impl Pacer {
    pub fn new(pace: Pace) -> Self {
        Pacer {
            gap: StdDuration::from_secs(1) / pace.calls_per_second.max(1),
            next: tokio::time::Instant::now(),
        }
    }

    /// Waits until the next call may be made.
    pub async fn ready(&mut self) {
        tokio::time::sleep_until(self.next).await;
        self.next = tokio::time::Instant::now().max(self.next) + self.gap;
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    started_at: DateTime<Utc>,
    from: String,
    to: String,
}

#[derive(Serialize, Deserialize)]
struct PageLine {
    page: u32,
    remainder: bool,
    domains: Vec<(String, Option<DateTime<Utc>>, Option<bool>)>,
}

/// The whole listing and how many pages it took (read now or resumed).
pub struct Listing {
    pub domains: BTreeMap<String, Listed>,
    pub pages: u32,
    pub resumed_from_page: Option<u32>,
}

fn checkpoint_path(data_dir: &Path, connection: &str) -> PathBuf {
    let safe: String = connection
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    data_dir.join("sync").join(format!("{safe}.jsonl"))
}

fn resume(path: &Path, now: DateTime<Utc>) -> Option<(Header, Vec<PageLine>)> {
    let file = std::fs::File::open(path).ok()?;
    let mut lines = std::io::BufReader::new(file).lines();
    let header: Header = serde_json::from_str(&lines.next()?.ok()?).ok()?;
    if now - header.started_at > RESUME_WITHIN || header.started_at > now {
        return None;
    }
    // A torn last line (a crash mid-write) ends the resumable part.
    let pages = lines
        .map_while(|l| {
            l.ok()
                .and_then(|l| serde_json::from_str::<PageLine>(&l).ok())
        })
        .collect();
    Some((header, pages))
}

fn listing_error(connection: &str, why: impl std::fmt::Display) -> SyncError {
    SyncError::Listing {
        connection: connection.into(),
        why: why.to_string(),
    }
}

/// Every domain of the account, paged until OpenSRS says nothing remains (and stopping
/// on an empty page, so an off-by-one in its paging can neither loop nor skip silently).
pub async fn listing(
    client: &Client,
    connection: &str,
    now: DateTime<Utc>,
    data_dir: &Path,
    pacer: &mut Pacer,
) -> Result<Listing, SyncError> {
    let path = checkpoint_path(data_dir, connection);
    let mut domains = BTreeMap::new();
    let mut pages = 0;
    let mut resumed_from_page = None;
    let (header, done) = match resume(&path, now) {
        Some((header, done)) => (header, done),
        None => (
            Header {
                started_at: now,
                from: "2000-01-01".into(),
                to: format!("{}-12-31", now.year() + 11),
            },
            Vec::new(),
        ),
    };
    let mut finished = false;
    for line in &done {
        pages = line.page;
        for (name, expires, auto_renew) in &line.domains {
            domains.insert(
                name.clone(),
                Listed {
                    name: name.clone(),
                    expires: *expires,
                    auto_renew: *auto_renew,
                },
            );
        }
        finished = !line.remainder || line.domains.is_empty();
    }
    let mut out = if done.is_empty() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| listing_error(connection, e))?;
        }
        let mut f = std::fs::File::create(&path).map_err(|e| listing_error(connection, e))?;
        let head = serde_json::to_string(&header).map_err(|e| listing_error(connection, e))?;
        writeln!(f, "{head}").map_err(|e| listing_error(connection, e))?;
        f
    } else {
        resumed_from_page = Some(pages + 1);
        tracing::info!(connection, page = pages + 1, "resuming the account listing");
        rewrite_whole(&path, &header, &done).map_err(|e| listing_error(connection, e))?
    };
    while !finished && pages < 10_000 {
        pacer.ready().await;
        let number = pages + 1;
        let e = client
            .call(&opensrs::Command::GetDomainsByExpiredate {
                from: header.from.clone(),
                to: header.to.clone(),
                page: number,
                limit: PAGE_SIZE,
            })
            .await;
        let reply = match (&e.classification.class, &e.outcome) {
            (Class::Done, Ok(r)) => r,
            _ => return Err(listing_error(connection, super::probe::describe(&e))),
        };
        let p = page(reply);
        pages = number;
        finished = !p.remainder || p.domains.is_empty();
        let line = PageLine {
            page: number,
            remainder: p.remainder,
            domains: p
                .domains
                .iter()
                .map(|d| (d.name.clone(), d.expires, d.auto_renew))
                .collect(),
        };
        let text = serde_json::to_string(&line).map_err(|e| listing_error(connection, e))?;
        writeln!(out, "{text}").map_err(|e| listing_error(connection, e))?;
        for d in p.domains {
            domains.insert(d.name.clone(), d);
        }
    }
    drop(out);
    let _ = std::fs::remove_file(&path);
    Ok(Listing {
        domains,
        pages,
        resumed_from_page,
    })
}

/// Rewrites the checkpoint without a torn last line, then opens it for appending.
fn rewrite_whole(
    path: &Path,
    header: &Header,
    done: &[PageLine],
) -> std::io::Result<std::fs::File> {
    let mut text = serde_json::to_string(header)?;
    text.push('\n');
    for line in done {
        text.push_str(&serde_json::to_string(line)?);
        text.push('\n');
    }
    std::fs::write(path, text)?;
    std::fs::OpenOptions::new().append(true).open(path)
}
