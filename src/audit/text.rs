//! The readable audit: plain lines a support person can paste into a reply.

use std::fmt::Write;

use super::{AuditReport, BalanceAt};

fn time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn balances(out: &mut String, title: &str, list: &[BalanceAt]) {
    if list.is_empty() {
        let _ = writeln!(out, "{title}: none");
        return;
    }
    let _ = writeln!(out, "{title}:");
    for b in list {
        let _ = writeln!(out, "  {:<20} {}", b.account.as_str(), b.balance);
    }
}

/// Renders a report as text.
pub fn render_text(r: &AuditReport) -> String {
    let mut out = String::new();
    let moment = match &r.as_of {
        Some(t) => format!("as of {}", time(t)),
        None => "complete history".to_string(),
    };
    let _ = writeln!(
        out,
        "Audit of {} ({moment}), replayed from the event log up to position {}",
        r.subject, r.log_position
    );
    if r.state.is_none() {
        balances(&mut out, "Opening balance", &r.opening_balances);
    }
    if r.entries.is_empty() {
        let _ = writeln!(out, "No events.");
    }
    for e in &r.entries {
        let order = e
            .order_id
            .map(|o| format!(" [order {o}]"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}  {:<18} {}{order}",
            time(&e.at),
            e.actor.to_string(),
            e.description
        );
        if let Some(a) = &e.registrar_answer {
            let code = a.code.map(|c| c.to_string()).unwrap_or_else(|| "-".into());
            let _ = writeln!(out, "    OpenSRS answered: {code} {}", a.text);
        }
        if let Some(m) = &e.money {
            let _ = writeln!(
                out,
                "    money: {} on account {}; balance after: {}",
                m.amount, m.account, m.balance_after
            );
        }
        let cause = e
            .causation_id
            .map(|c| format!(", caused by {c}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    event #{} {} in {}; correlation {}{cause}",
            e.position, e.event_type, e.stream, e.correlation_id
        );
    }
    if let Some(state) = &r.state {
        let _ = writeln!(out, "State of {} ({moment}):", state.domain);
        match &state.holder {
            Some(h) => {
                let _ = writeln!(
                    out,
                    "  registered to account {h}; expires {}; auto-renew {}",
                    state
                        .expires_at
                        .map(|t| t.format("%Y-%m-%d").to_string())
                        .unwrap_or_else(|| "unknown".into()),
                    if state.auto_renew { "on" } else { "off" }
                );
            }
            None => {
                let _ = writeln!(out, "  not registered through this engine");
            }
        }
        for o in &state.orders {
            let mut line = format!(
                "  order {} ({} for account {}): {}",
                o.order_id, o.kind, o.account, o.state
            );
            if o.state == "pending" {
                let _ = write!(line, ", {} polls", o.polls);
                if let Some(d) = o.deadline {
                    let _ = write!(line, ", deadline {}", time(&d));
                }
            }
            match (o.charged, o.refunded) {
                (Some(c), Some(r)) => {
                    let _ = write!(line, "; charged {c}, refunded {r}");
                }
                (Some(c), None) => {
                    let _ = write!(line, "; charged {c}, not refunded");
                }
                (None, _) => line.push_str("; not charged"),
            }
            let _ = writeln!(out, "{line}");
        }
    }
    let title = match &r.as_of {
        Some(t) => format!("Balance as of {}", time(t)),
        None => "Balance now".to_string(),
    };
    balances(&mut out, &title, &r.balances);
    out
}
