//! The sandbox's answers to each command, computed from and applied to [`State`].

use chrono::{DateTime, Duration, Utc};

mod domain_info;
mod hosts;
mod manage;
mod orders;
mod queries;

use super::state::*;
use crate::opensrs::value::Value;
use domreg_events::DomainName;

/// An XCP reply body as OpenSRS writes it.
pub fn reply(
    object: &str,
    success: bool,
    code: u16,
    text: &str,
    attributes: Option<Value>,
) -> Value {
    let mut v = Value::assoc()
        .with("protocol", "XCP")
        .with("action", "REPLY")
        .with("object", object.to_ascii_uppercase())
        .with("is_success", if success { "1" } else { "0" })
        .with("response_code", code.to_string())
        .with("response_text", text);
    if let Some(a) = attributes {
        v = v.with("attributes", a);
    }
    v
}

fn date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn cents(c: i64) -> String {
    let sign = if c < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:02}",
        c.unsigned_abs() / 100,
        c.unsigned_abs() % 100
    )
}

/// Handles one request of reseller `user`. `body` is the parsed data block.
pub fn handle(state: &mut State, user: &str, body: &Value) -> Value {
    let action = body.text("action").unwrap_or_default().to_ascii_uppercase();
    let object = body.text("object").unwrap_or_default().to_ascii_uppercase();
    *state.counters.calls.entry(action.clone()).or_default() += 1;
    state.tick();
    let empty = Value::assoc();
    let attrs = body
        .get("attributes")
        .filter(|a| a.as_assoc().is_some())
        .unwrap_or(&empty);
    let mut h = Handler {
        state,
        user,
        object: &object,
    };
    match (action.as_str(), object.as_str()) {
        ("LOOKUP", "DOMAIN") => h.lookup(attrs),
        ("GET_PRICE", "DOMAIN") => h.get_price(attrs),
        ("SW_REGISTER", "DOMAIN") => h.sw_register(attrs),
        ("RENEW", "DOMAIN") => h.renew(attrs),
        ("CHECK_TRANSFER", "DOMAIN") => h.check_transfer(attrs),
        ("BELONGS_TO_RSP", "DOMAIN") => h.belongs_to_rsp(attrs),
        ("GET_ORDER_INFO", "DOMAIN") => h.get_order_info(attrs),
        ("GET_ORDERS_BY_DOMAIN", "DOMAIN") => h.get_orders_by_domain(attrs),
        ("GET", "DOMAIN") => h.get_domain(body, attrs),
        ("SET", "COOKIE") => h.set_cookie(attrs),
        ("ADVANCED_UPDATE_NAMESERVERS", "DOMAIN") => h.advanced_update_nameservers(body, attrs),
        ("MODIFY", "DOMAIN") => h.modify(body, attrs),
        ("SEND_AUTHCODE", "DOMAIN") => h.send_authcode(attrs),
        ("UPDATE_CONTACTS", "DOMAIN") => h.update_contacts(body, attrs),
        ("CREATE" | "MODIFY" | "DELETE" | "GET", "NAMESERVER") => {
            h.nameserver(&action, body, attrs)
        }
        ("GET_BALANCE", "BALANCE") => h.get_balance(),
        ("GET_DOMAINS_BY_EXPIREDATE", "DOMAIN") => h.get_domains_by_expiredate(attrs),
        ("GET_TRANSFERS_AWAY", "DOMAIN") => h.get_transfers_away(attrs),
        ("PROCESS_PENDING", "DOMAIN") => h.process_pending(attrs),
        ("POLL", "EVENT") => {
            let limit = attrs
                .text("limit")
                .and_then(|l| l.parse::<usize>().ok())
                .unwrap_or(1)
                .clamp(1, 100);
            let events = h.state.poll_events(user, limit);
            reply(&object, true, 200, "Command successful", Some(events))
        }
        ("ACK", "EVENT") => match attrs.text("event_id") {
            Some(id) if h.state.ack_event(user, id) => reply(
                &object,
                true,
                200,
                "Command successful",
                Some(Value::assoc().with("total", "0")),
            ),
            Some(id) => reply(&object, false, 480, &format!("Event {id} not found"), None),
            None => reply(
                &object,
                false,
                460,
                "Missing required field: event_id",
                None,
            ),
        },
        ("QUERY_QUEUED_REQUEST", "DOMAIN") => {
            reply(&object, false, 480, "Queued request not found", None)
        }
        _ => reply(
            &object,
            false,
            430,
            &format!("Invalid command: {action} {object}"),
            None,
        ),
    }
}

struct Handler<'a> {
    state: &'a mut State,
    user: &'a str,
    object: &'a str,
}

enum Checked {
    Name(String),
    Reply(Value),
}

impl Handler<'_> {
    fn ok(&self, code: u16, text: &str, attrs: Value) -> Value {
        reply(self.object, true, code, text, Some(attrs))
    }

    fn fail(&self, code: u16, text: &str) -> Value {
        reply(self.object, false, code, text, None)
    }

    /// The order `order_id` names, if it is this reseller's; otherwise the refusal.
    fn reseller_order(&self, attrs: &Value) -> Result<Order, Value> {
        let Some(id) = attrs.text("order_id") else {
            return Err(self.fail(460, "Missing required field: order_id"));
        };
        id.parse::<u64>()
            .ok()
            .and_then(|id| self.state.orders.get(&id))
            .filter(|o| o.reseller == self.user)
            .cloned()
            .ok_or_else(|| self.fail(480, &format!("Order {id} not found")))
    }

    /// The `domain` attribute, validated; names under the sandbox's conventions
    /// (`taken-*`, `locked-*`) get a record at another registrar on first sight.
    fn domain(&mut self, attrs: &Value) -> Checked {
        let Some(raw) = attrs.text("domain") else {
            return Checked::Reply(self.fail(460, "Missing required field: domain"));
        };
        match DomainName::parse(raw) {
            Ok(name) if name.as_str() == raw.to_ascii_lowercase() => {
                let name = name.to_string();
                self.conventional(&name);
                Checked::Name(name)
            }
            _ => Checked::Reply(self.fail(465, &format!("Invalid domain syntax: {raw}"))),
        }
    }

    fn conventional(&mut self, name: &str) {
        let locked = name.starts_with("locked-");
        if (name.starts_with("taken-") || locked) && !self.state.domains.contains_key(name) {
            let now = self.state.now();
            self.state.domains.insert(
                name.to_string(),
                DomainRecord {
                    owner: OTHER_REGISTRAR.into(),
                    created: now - Duration::days(400),
                    expires: now + Duration::days(200),
                    auto_renew: false,
                    transferable: !locked,
                    nameservers: vec!["ns1.elsewhere.example".into()],
                    renewed_from_year: None,
                },
            );
        }
    }

    fn period(&self, attrs: &Value, default: u8) -> Result<u8, Value> {
        match attrs.text("period") {
            None => Ok(default),
            Some(p) => match p.parse::<u8>() {
                Ok(n) if (1..=10).contains(&n) => Ok(n),
                _ => Err(self.fail(465, &format!("Invalid period: {p} (1 to 10 years)"))),
            },
        }
    }

    fn charge(&mut self, cost: i64) -> Result<(), Value> {
        let balance = self
            .state
            .balances_cents
            .entry(self.user.to_string())
            .or_default();
        if *balance < cost {
            return Err(reply(
                self.object,
                false,
                440,
                &format!(
                    "Insufficient funds: balance {} is below {}; check for sufficient funds",
                    cents(*balance),
                    cents(cost)
                ),
                None,
            ));
        }
        *balance -= cost;
        Ok(())
    }

    fn new_order(
        &mut self,
        domain: &str,
        reg_type: &str,
        status: OrderStatus,
        period: u8,
        cost: i64,
    ) -> u64 {
        let id = self.state.new_id();
        let now = self.state.now();
        self.state.orders.insert(
            id,
            Order {
                id,
                domain: domain.to_string(),
                reseller: self.user.to_string(),
                reg_type: reg_type.to_string(),
                status,
                period,
                cost_cents: cost,
                created: now,
                completed: (status == OrderStatus::Completed).then_some(now),
            },
        );
        id
    }
}
