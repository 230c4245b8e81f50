//! What a reply means for the engine: done, pending, unknown, rejected, or retry later.
//!
//! | class | meaning | engine action |
//! |---|---|---|
//! | done | the command did what was asked | record the outcome |
//! | pending | accepted; the registry answers later (250, 300, queued, transfer started, renewal in flight) | poll |
//! | unknown | the outcome cannot be known (timeout after sending, dropped reply, HTTP error, unreadable reply, 400 internal error, 404, 436, 702–705) | never resend; probe until the order's state is known |
//! | rejected | refused for good (taken, invalid data, not transferable, wrong expiry year, no funds, authentication, ...) | refund; configuration errors alert the admin |
//! | retry later | nothing was done (could not connect, 310, 350, 437, 486) | try again after a pause |
//!
//! For read-only commands an unknown outcome is simply retryable: asking again is harmless.
//! The rules follow `../shared/reference/opensrs-protocol.md` §4–§5; `tests` has one case
//! per code.

use serde::Serialize;

use super::command::CommandKind;
use super::reply::{Reply, TransportError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Done,
    Pending,
    Unknown,
    Rejected,
    RetryLater,
}

/// Why an order is pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingKind {
    AsyncRegistry,
    Queued,
    TransferInProgress,
    RenewalInFlight,
}

/// The engine's reading of one exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classification {
    pub class: Class,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingKind>,
    /// Whether the failure is a configuration problem (authentication, IP allow-list)
    /// that stops every order on this connection until an admin fixes it.
    pub configuration_error: bool,
    pub code: Option<u16>,
    pub text: String,
    /// OpenSRS's order id (`id` of SW_REGISTER, `order_id` of RENEW).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The id of an order OpenSRS created but parked (`forced_pending`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forced_pending: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_request_id: Option<String>,
    /// New expiry as sent (`YYYY-MM-DD HH:MM:SS`), when the reply carries one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

impl Classification {
    fn new(class: Class, code: Option<u16>, text: impl Into<String>) -> Self {
        Classification {
            class,
            pending: None,
            configuration_error: false,
            code,
            text: text.into(),
            order_id: None,
            forced_pending: None,
            queue_request_id: None,
            expires_at: None,
        }
    }
}

/// Classifies an exchange. Total: every reply and every failure has a class.
pub fn classify(kind: CommandKind, outcome: &Result<Reply, TransportError>) -> Classification {
    let mut c = match outcome {
        Err(e) => transport(kind, e),
        Ok(reply) => from_reply(kind, reply),
    };
    if !kind.is_mutating() && c.class == Class::Unknown {
        c.class = Class::RetryLater;
    }
    c
}

fn transport(kind: CommandKind, e: &TransportError) -> Classification {
    let class = if e.nothing_sent() {
        Class::RetryLater
    } else {
        Class::Unknown
    };
    let _ = kind;
    Classification::new(class, None, e.to_string())
}

fn from_reply(kind: CommandKind, reply: &Reply) -> Classification {
    let text = reply.text.trim();
    let mut c = Classification::new(Class::Rejected, Some(reply.code), text);
    c.order_id = match kind {
        CommandKind::Renew | CommandKind::ProcessPending => {
            reply.attr("order_id").or(reply.attr("id"))
        }
        _ => reply.attr("id"),
    }
    .map(str::to_string);
    c.forced_pending = reply.attr("forced_pending").map(str::to_string);
    c.queue_request_id = reply.attr("queue_request_id").map(str::to_string);
    c.expires_at = reply
        .attr("registration expiration date")
        .or(reply.attr("domain_expdate"))
        .or(reply.attr("registry_expiredate"))
        .or(reply.attr("expiredate"))
        .map(str::to_string);

    // Signals that override the code, in the reference's order (§5.2).
    if kind.is_mutating() && c.queue_request_id.is_some() {
        c.class = Class::Pending;
        c.pending = Some(PendingKind::Queued);
        return c;
    }
    if matches!(kind, CommandKind::Register | CommandKind::Transfer) && c.forced_pending.is_some() {
        // An order exists but is parked (no funds, failed validation): not a registration.
        c.class = Class::Rejected;
        return c;
    }
    let (class, pending) = code_class(kind, reply.code, text, reply.is_success);
    c.class = class;
    c.pending = pending;
    c.configuration_error = matches!(reply.code, 401 | 410)
        || (reply.code == 400 && text.to_ascii_lowercase().contains("access denied"));
    if kind == CommandKind::Register
        && class == Class::Done
        && reply
            .attr("registration_code")
            .is_some_and(|rc| rc != "200")
    {
        // 200 overall but the registry step did not complete: not known to be done.
        c.class = Class::Unknown;
    }
    c
}

/// The code table. `text` matters only for the documented 400 and 465 sub-cases.
fn code_class(
    kind: CommandKind,
    code: u16,
    text: &str,
    is_success: bool,
) -> (Class, Option<PendingKind>) {
    use Class::*;
    let lower = text.to_ascii_lowercase();
    match code {
        200 if kind == CommandKind::Transfer => (Pending, Some(PendingKind::TransferInProgress)),
        200 | 210 | 211 | 212 | 221 => (Done, None),
        250 | 300 => (Pending, Some(PendingKind::AsyncRegistry)),
        310 | 350 | 437 | 486 => (RetryLater, None),
        400 if lower.contains("invalid command") || lower.contains("access denied") => {
            (Rejected, None)
        }
        400 if lower.contains("already renewed") => (Pending, Some(PendingKind::RenewalInFlight)),
        400 | 404 | 436 | 702 | 703 | 704 | 705 => (Unknown, None),
        // OT&E answers an already-renewed domain with 465 and this text (live: 555).
        465 if kind == CommandKind::Renew && lower.starts_with("domain already renewed") => {
            (Done, None)
        }
        555 if kind == CommandKind::Renew => (Done, None),
        401 | 405 | 410 | 415 | 420 | 430 | 435 | 440 | 445 | 447 | 460 | 465 | 470 | 480 | 485
        | 487 | 541 | 552 | 555 | 557 | 599 | 701 | 3001 => (Rejected, None),
        c if (200..300).contains(&c) && is_success => (Done, None),
        // A code this table does not know: for an order, assume nothing.
        _ if kind.is_mutating() => (Unknown, None),
        _ => (Rejected, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opensrs::value::Value;
    use CommandKind::*;

    fn reply(
        code: u16,
        success: bool,
        text: &str,
        attrs: &[(&str, &str)],
    ) -> Result<Reply, TransportError> {
        let mut a = Value::assoc();
        for (k, v) in attrs {
            a = a.with(k, *v);
        }
        let body = Value::assoc()
            .with("protocol", "XCP")
            .with("is_success", if success { "1" } else { "0" })
            .with("response_code", code.to_string())
            .with("response_text", text)
            .with("attributes", a);
        Ok(Reply::from_body(body).unwrap())
    }

    fn class(kind: CommandKind, code: u16, text: &str) -> Class {
        classify(kind, &reply(code, (200..300).contains(&code), text, &[])).class
    }

    #[test]
    fn every_code_of_the_table() {
        let cases: &[(u16, &str, Class)] = &[
            (
                200,
                "Domain registration successfully completed",
                Class::Done,
            ),
            (250, "Submitted to registry", Class::Pending),
            (300, "Request deferred", Class::Pending),
            (310, "Too many connections", Class::RetryLater),
            (350, "Command limit exceeded", Class::RetryLater),
            (400, "Internal server error", Class::Unknown),
            (
                400,
                "Unable to complete registration. Please retry",
                Class::Unknown,
            ),
            (400, "Invalid Command", Class::Rejected),
            (400, "Access denied: invalid IP address", Class::Rejected),
            (401, "Authentication Failed", Class::Rejected),
            (404, "Internal server error", Class::Unknown),
            (405, "Registry error", Class::Rejected),
            (410, "Reseller authentication error", Class::Rejected),
            (415, "Registrant authentication error", Class::Rejected),
            (420, "Failed to create registrant contact", Class::Rejected),
            (430, "Invalid command", Class::Rejected),
            (435, "Request failed validation", Class::Rejected),
            (436, "Cannot interpret registry answer", Class::Unknown),
            (437, "Another request is waiting", Class::RetryLater),
            (440, "Check for sufficient funds", Class::Rejected),
            (445, "Nameserver quota exceeded", Class::Rejected),
            (447, "Sub-user limit exceeded", Class::Rejected),
            (460, "Missing required field", Class::Rejected),
            (465, "Invalid data", Class::Rejected),
            (470, "Invalid contact format", Class::Rejected),
            (480, "Item not found", Class::Rejected),
            (485, "Domain taken", Class::Rejected),
            (486, "Entity in a processing state", Class::RetryLater),
            (487, "Domain not transferable", Class::Rejected),
            (541, "Expiration year does not match", Class::Rejected),
            (552, "Transfer refused", Class::Rejected),
            (557, "Nameserver locked", Class::Rejected),
            (599, "Failed to create contact", Class::Rejected),
            (701, "Unknown TLD", Class::Rejected),
            (702, "Communication error", Class::Unknown),
            (703, "Could not send command", Class::Unknown),
            (704, "Read empty message", Class::Unknown),
            (705, "Timed out, resubmit request", Class::Unknown),
            (3001, "Over quota", Class::Rejected),
            (999, "Something new", Class::Unknown),
        ];
        for (code, text, expected) in cases {
            assert_eq!(
                class(Register, *code, text),
                *expected,
                "SW_REGISTER {code} {text}"
            );
        }
    }

    #[test]
    fn renewal_specific_codes() {
        assert_eq!(
            class(Renew, 555, "Domain has already been successfully renewed"),
            Class::Done
        );
        assert_eq!(
            class(Renew, 465, "Domain Already Renewed, blah"),
            Class::Done
        );
        assert_eq!(class(Register, 555, "already renewed"), Class::Rejected);
        let c = classify(Renew, &reply(400, false, "Domain already renewed; another renewal cannot be applied until the first request completes", &[]));
        assert_eq!(
            (c.class, c.pending),
            (Class::Pending, Some(PendingKind::RenewalInFlight))
        );
        let c = classify(
            Renew,
            &reply(
                200,
                true,
                "ok",
                &[
                    ("order_id", "77"),
                    ("registration expiration date", "2028-01-01 00:00:00"),
                ],
            ),
        );
        assert_eq!(
            (c.class, c.order_id.as_deref(), c.expires_at.as_deref()),
            (Class::Done, Some("77"), Some("2028-01-01 00:00:00"))
        );
    }

    #[test]
    fn sub_signals_override_the_code() {
        let c = classify(
            Register,
            &reply(200, true, "queued", &[("queue_request_id", "q1")]),
        );
        assert_eq!(
            (c.class, c.pending),
            (Class::Pending, Some(PendingKind::Queued))
        );
        let c = classify(
            Register,
            &reply(200, true, "ok", &[("forced_pending", "9")]),
        );
        assert_eq!(
            (c.class, c.forced_pending.as_deref()),
            (Class::Rejected, Some("9"))
        );
        let c = classify(
            Register,
            &reply(
                200,
                true,
                "ok",
                &[("id", "5"), ("registration_code", "200")],
            ),
        );
        assert_eq!((c.class, c.order_id.as_deref()), (Class::Done, Some("5")));
        let c = classify(
            Register,
            &reply(
                200,
                true,
                "ok",
                &[("id", "5"), ("registration_code", "250")],
            ),
        );
        assert_eq!(c.class, Class::Unknown);
        let c = classify(
            Transfer,
            &reply(
                200,
                true,
                "Transfer request has been successfully sent",
                &[("id", "6")],
            ),
        );
        assert_eq!(
            (c.class, c.pending),
            (Class::Pending, Some(PendingKind::TransferInProgress))
        );
    }

    #[test]
    fn lookups_branch_on_the_code_not_is_success() {
        for code in [210, 211, 221] {
            assert_eq!(class(Lookup, code, "x"), Class::Done);
        }
        assert_eq!(class(Lookup, 465, "Invalid domain syntax"), Class::Rejected);
    }

    #[test]
    fn configuration_errors_are_flagged() {
        assert!(
            classify(GetBalance, &reply(401, false, "Authentication Failed", &[]))
                .configuration_error
        );
        assert!(
            classify(
                GetBalance,
                &reply(410, false, "Reseller authentication error", &[])
            )
            .configuration_error
        );
        assert!(
            classify(
                GetBalance,
                &reply(400, false, "Access denied: invalid IP address", &[])
            )
            .configuration_error
        );
        assert!(
            !classify(GetBalance, &reply(400, false, "Internal server error", &[]))
                .configuration_error
        );
    }

    #[test]
    fn transport_failures() {
        let cases = [
            (TransportError::Connect("refused".into()), Class::RetryLater),
            (TransportError::Timeout("30s".into()), Class::Unknown),
            (TransportError::Broken("reset".into()), Class::Unknown),
            (TransportError::HttpStatus(500), Class::Unknown),
            (TransportError::Empty, Class::Unknown),
            (
                TransportError::Unparseable("bad xml".into()),
                Class::Unknown,
            ),
        ];
        for (e, expected) in cases {
            assert_eq!(classify(Register, &Err(e.clone())).class, expected, "{e}");
            // Read-only commands can simply be asked again.
            let read_only = if expected == Class::Unknown {
                Class::RetryLater
            } else {
                expected
            };
            assert_eq!(
                classify(BelongsToRsp, &Err(e.clone())).class,
                read_only,
                "{e}"
            );
        }
        assert_eq!(class(GetOrderInfo, 705, "Timed out"), Class::RetryLater);
    }
}
