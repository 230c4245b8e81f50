//! What OpenSRS says of a pending order: one probe per kind of order, and the search of a
//! domain's orders that finds an order whose answer was lost. Read-only calls only.

use chrono::{DateTime, Utc};

use domreg_events::policy::Finding;
use domreg_events::*;

use super::steps::registry_date;
use crate::opensrs::{self, Class, Client, Exchange};

/// The expiry OpenSRS reports for a domain in the reseller's account.
pub async fn confirmed_expiry(client: &Client, domain: &DomainName) -> Option<DateTime<Utc>> {
    let e = client
        .call(&opensrs::Command::BelongsToRsp {
            domain: domain.to_string(),
        })
        .await;
    e.outcome
        .ok()?
        .attr("domain_expdate")
        .and_then(registry_date)
}

/// What a search of the domain's orders at OpenSRS found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    /// An order of this kind that OpenSRS is still working on.
    Open { id: String, status: String },
    /// OpenSRS answered, and no order of this kind is open for the name.
    NoneOpen,
    /// OpenSRS answered, and has no order of this kind for the name at all.
    NoTrace,
    /// No usable answer.
    Unanswered(String),
}

/// GET_ORDERS_BY_DOMAIN: an open order of `kind` for `domain`, the newest first.
pub async fn search_orders(client: &Client, domain: &DomainName, kind: OrderKind) -> Search {
    let e = client
        .call(&opensrs::Command::GetOrdersByDomain {
            domain: domain.to_string(),
        })
        .await;
    let reply = match (&e.outcome, e.classification.class) {
        (Ok(reply), Class::Done) => reply,
        _ => return Search::Unanswered(describe(&e)),
    };
    let wanted = match kind {
        OrderKind::Register => "new",
        OrderKind::Transfer => "transfer",
        OrderKind::Renew => "renewal",
    };
    let orders = reply
        .attributes
        .get("orders")
        .and_then(opensrs::Value::as_array)
        .unwrap_or_default();
    let any_of_kind = orders
        .iter()
        .any(|o| o.text("type").unwrap_or("").eq_ignore_ascii_case(wanted));
    if !any_of_kind {
        return Search::NoTrace;
    }
    let mut open: Vec<(u64, String, String)> = orders
        .iter()
        .filter_map(|o| {
            let id = o.text("id")?.to_string();
            let status = o.text("status").unwrap_or("").to_ascii_lowercase();
            let kind = o.text("type").unwrap_or("").to_ascii_lowercase();
            let finished = matches!(
                status.as_str(),
                "completed" | "declined" | "cancelled" | "deleted"
            );
            (kind == wanted && !finished).then(|| (id.parse().unwrap_or(0), id, status))
        })
        .collect();
    open.sort();
    match open.pop() {
        Some((_, id, status)) => Search::Open { id, status },
        None => Search::NoneOpen,
    }
}

/// `code text` of an exchange, or why no reply came.
pub fn describe(e: &Exchange) -> String {
    format!(
        "{} {}",
        e.classification
            .code
            .map(|c| c.to_string())
            .unwrap_or_else(|| "no answer:".into()),
        e.classification.text
    )
    .trim()
    .to_string()
}

fn transient(e: &Exchange) -> Option<Finding> {
    match e.classification.class {
        Class::Done => None,
        _ => Some(Finding::NotYet(PollResult::TransientError {
            message: format!(
                "{} {}",
                e.classification
                    .code
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                e.classification.text
            )
            .trim()
            .to_string(),
        })),
    }
}

/// The probe for each kind of order: BELONGS_TO_RSP (and GET_ORDER_INFO when OpenSRS gave
/// an order id) for registrations, CHECK_TRANSFER for transfers, the expiry for renewals.
pub async fn probe(
    client: &Client,
    domain: &DomainName,
    order: &Order,
    known_expiry: Option<DateTime<Utc>>,
) -> Finding {
    let name = domain.to_string();
    if order.kind == OrderKind::Transfer {
        let e = client
            .call(&opensrs::Command::CheckTransfer {
                domain: name.clone(),
                check_status: true,
            })
            .await;
        if let Some(t) = transient(&e) {
            return t;
        }
        let status = e
            .outcome
            .as_ref()
            .ok()
            .and_then(|r| r.attr("status"))
            .unwrap_or("")
            .to_string();
        return match status.as_str() {
            "completed" => match confirmed_expiry(client, domain).await {
                Some(expires_at) => Finding::Done {
                    expires_at,
                    answer: RegistrarAnswer::new(Some(200), "transfer completed"),
                },
                None => Finding::NotYet(PollResult::StillPending {
                    answer: RegistrarAnswer::new(
                        Some(200),
                        "transfer completed; expiry not yet reported",
                    ),
                }),
            },
            "cancelled" => Finding::Refused(RegistrarAnswer::new(
                e.classification.code,
                format!(
                    "transfer cancelled: {}",
                    e.outcome
                        .as_ref()
                        .ok()
                        .and_then(|r| r.attr("reason"))
                        .unwrap_or("refused")
                ),
            )),
            other => Finding::NotYet(PollResult::StillPending {
                answer: RegistrarAnswer::new(
                    e.classification.code,
                    format!(
                        "transfer {}",
                        if other.is_empty() {
                            "not started"
                        } else {
                            other
                        }
                    ),
                ),
            }),
        };
    }
    let e = client
        .call(&opensrs::Command::BelongsToRsp {
            domain: name.clone(),
        })
        .await;
    if let Some(t) = transient(&e) {
        return t;
    }
    let reply = e.outcome.as_ref().ok();
    let belongs = reply
        .and_then(|r| r.attributes.flag("belongs_to_rsp"))
        .unwrap_or(false);
    let expiry = reply
        .and_then(|r| r.attr("domain_expdate"))
        .and_then(registry_date);
    match (order.kind, belongs, expiry) {
        (OrderKind::Renew, true, Some(t)) if known_expiry.is_none_or(|k| t > k) => {
            return Finding::Done {
                expires_at: t,
                answer: RegistrarAnswer::new(Some(200), "renewal completed"),
            }
        }
        (OrderKind::Register, true, Some(t)) => {
            return Finding::Done {
                expires_at: t,
                answer: RegistrarAnswer::new(Some(200), "registration completed"),
            }
        }
        _ => {}
    }
    if let Some(id) = &order.registrar_order_id {
        let info = client
            .call(&opensrs::Command::GetOrderInfo {
                order_id: id.clone(),
            })
            .await;
        let status = info
            .outcome
            .as_ref()
            .ok()
            .and_then(|r| r.attributes.path(&["field_hash", "status"]))
            .and_then(opensrs::Value::as_str)
            .unwrap_or("")
            .to_string();
        if matches!(status.as_str(), "declined" | "cancelled") {
            return Finding::Refused(RegistrarAnswer::new(
                info.classification.code,
                format!("order {id} {status} at the registry"),
            ));
        }
        if !status.is_empty() {
            return Finding::NotYet(PollResult::StillPending {
                answer: RegistrarAnswer::new(
                    info.classification.code,
                    format!("order {id} {status}"),
                ),
            });
        }
    }
    Finding::NotYet(PollResult::StillPending {
        answer: RegistrarAnswer::new(e.classification.code, "not in the account yet"),
    })
}
