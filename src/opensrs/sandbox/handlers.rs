//! The sandbox's answers to each command, computed from and applied to [`State`].

use chrono::{DateTime, Datelike, Duration, Utc};

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
        ("SW_REGISTER", "DOMAIN") => h.sw_register(attrs),
        ("RENEW", "DOMAIN") => h.renew(attrs),
        ("CHECK_TRANSFER", "DOMAIN") => h.check_transfer(attrs),
        ("BELONGS_TO_RSP", "DOMAIN") => h.belongs_to_rsp(attrs),
        ("GET_ORDER_INFO", "DOMAIN") => h.get_order_info(attrs),
        ("GET_ORDERS_BY_DOMAIN", "DOMAIN") => h.get_orders_by_domain(attrs),
        ("GET", "DOMAIN") => h.get_domain(body, attrs),
        ("GET_BALANCE", "BALANCE") => h.get_balance(),
        ("PROCESS_PENDING", "DOMAIN") => h.process_pending(attrs),
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

    fn lookup(&mut self, attrs: &Value) -> Value {
        let name = match self.domain(attrs) {
            Checked::Name(n) => n,
            Checked::Reply(r) => return r,
        };
        self.state.probe(&name);
        if self.state.waiting.contains_key(&name) {
            return self.ok(
                221,
                "Domain taken (a registration is waiting at the registry)",
                Value::assoc().with("status", "taken"),
            );
        }
        if self.state.domains.contains_key(&name) {
            return self.ok(211, "Domain taken", Value::assoc().with("status", "taken"));
        }
        self.ok(
            210,
            "Domain available",
            Value::assoc().with("status", "available"),
        )
    }

    fn sw_register(&mut self, attrs: &Value) -> Value {
        let name = match self.domain(attrs) {
            Checked::Name(n) => n,
            Checked::Reply(r) => return r,
        };
        *self
            .state
            .counters
            .sw_register_by_domain
            .entry(name.clone())
            .or_default() += 1;
        for field in ["reg_type", "reg_username", "reg_password"] {
            if attrs.text(field).is_none() {
                return self.fail(460, &format!("Missing required field: {field}"));
            }
        }
        for role in ["owner", "admin", "billing", "tech"] {
            let contact = attrs.path(&["contact_set", role]);
            let complete = contact.is_some_and(|c| {
                [
                    "first_name",
                    "last_name",
                    "address1",
                    "city",
                    "country",
                    "postal_code",
                    "phone",
                    "email",
                ]
                .iter()
                .all(|f| c.text(f).is_some())
            });
            if !complete {
                return self.fail(460, &format!("Missing required field: contact_set.{role}"));
            }
        }
        match attrs.text("reg_type") {
            Some("new") => self.register_new(&name, attrs),
            Some("transfer") => self.transfer_in(&name, attrs),
            Some(other) => self.fail(465, &format!("Invalid registration type: {other}")),
            None => self.fail(460, "Missing required field: reg_type"),
        }
    }

    fn register_new(&mut self, name: &str, attrs: &Value) -> Value {
        let period = match self.period(attrs, 1) {
            Ok(p) => p,
            Err(r) => return r,
        };
        if self.state.waiting.contains_key(name) {
            return self.fail(
                486,
                "Domain already exists in a processing state; retry later",
            );
        }
        if name.starts_with("invalid-") {
            return self.fail(
                465,
                "Invalid data: the registry refused the registrant's contact data",
            );
        }
        if self.state.domains.contains_key(name) || self.state.transfers.contains_key(name) {
            return self.fail(485, "Domain taken");
        }
        let cost = self.state.settings.price_per_year_cents * i64::from(period);
        if let Err(r) = self.charge(cost) {
            return r;
        }
        let email = attrs
            .path(&["contact_set", "admin", "email"])
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if self.state.is_async(name) {
            let id = self.new_order(name, "new", OrderStatus::Waiting, period, cost);
            let now = self.state.now();
            let settings = &self.state.settings;
            let waiting = Waiting {
                order_id: id,
                polls_left: settings
                    .async_delay_secs
                    .is_none()
                    .then(|| settings.async_polls.unwrap_or(1).max(1)),
                ready_at: settings
                    .async_delay_secs
                    .map(|s| now + Duration::seconds(s)),
                decline: self.state.is_declined(name),
            };
            self.state.waiting.insert(name.to_string(), waiting);
            return self.ok(
                250,
                "Registration request submitted to the registry; it completes asynchronously",
                Value::assoc()
                    .with("id", id.to_string())
                    .with("registration_code", "250")
                    .with("registration_text", "Submitted to registry")
                    .with("async_reason", "registry"),
            );
        }
        let id = self.new_order(name, "new", OrderStatus::Completed, period, cost);
        let now = self.state.now();
        let nameservers = attrs
            .get("nameserver_list")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|n| n.text("name").map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        self.state.domains.insert(
            name.to_string(),
            DomainRecord {
                owner: self.user.to_string(),
                created: now,
                expires: domreg_events::calendar::years_later(now, period),
                auto_renew: attrs.flag("auto_renew").unwrap_or(false),
                transferable: true,
                nameservers,
                renewed_from_year: None,
            },
        );
        self.ok(
            200,
            "Domain registration successfully completed",
            Value::assoc()
                .with("id", id.to_string())
                .with("domain_id", (id + 7_000_000).to_string())
                .with("registration_code", "200")
                .with(
                    "registration_text",
                    "Domain registration successfully completed",
                )
                .with("admin_email", email),
        )
    }

    fn transfer_in(&mut self, name: &str, attrs: &Value) -> Value {
        let _ = attrs;
        if self.state.transfers.get(name).is_some_and(|t| {
            matches!(
                t.status,
                TransferStatus::PendingOwner | TransferStatus::PendingRegistry
            )
        }) {
            return self.fail(486, "A transfer of this domain is already in progress");
        }
        match self.state.domains.get(name) {
            None => return self.fail(487, "Domain not transferable: it is not registered"),
            Some(d) if d.owner == self.user => {
                return self.fail(
                    487,
                    "Domain not transferable: it is already in your account",
                )
            }
            Some(d) if !d.transferable => {
                return self.fail(
                    487,
                    "Domain status clientTransferProhibited does not allow for transfer",
                )
            }
            Some(_) => {}
        }
        let cost = self.state.settings.price_per_year_cents;
        if let Err(r) = self.charge(cost) {
            return r;
        }
        let id = self.new_order(name, "transfer", OrderStatus::Pending, 1, cost);
        let now = self.state.now();
        let transfer = Transfer {
            order_id: id,
            reseller: self.user.to_string(),
            status: TransferStatus::PendingOwner,
            requested: now,
            stage_ends: now + Duration::seconds(self.state.settings.transfer_owner_secs),
            refuse: self.state.is_declined(name),
        };
        self.state.transfers.insert(name.to_string(), transfer);
        self.ok(
            200,
            "Transfer request has been successfully sent",
            Value::assoc()
                .with("id", id.to_string())
                .with("transfer_id", (id + 9_000_000).to_string())
                .with("registration_code", "200")
                .with(
                    "registration_text",
                    "Transfer request has been successfully sent",
                ),
        )
    }

    fn renew(&mut self, attrs: &Value) -> Value {
        let name = match self.domain(attrs) {
            Checked::Name(n) => n,
            Checked::Reply(r) => return r,
        };
        *self
            .state
            .counters
            .renew_by_domain
            .entry(name.clone())
            .or_default() += 1;
        let period = match self.period(attrs, 1) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let Some(year) = attrs.text("currentexpirationyear") else {
            return self.fail(460, "Missing required field: currentexpirationyear");
        };
        let Ok(year) = year.parse::<i32>() else {
            return self.fail(465, &format!("Invalid currentexpirationyear: {year}"));
        };
        let record = match self.state.domains.get(&name) {
            Some(d) if d.owner == self.user => d.clone(),
            _ => return self.fail(480, "Domain not found in your account"),
        };
        if record.renewed_from_year == Some(year) {
            return self.fail(555, "Domain has already been successfully renewed, with the current expiration year matching the year provided by the user");
        }
        if record.expires.year() != year {
            return self.fail(
                541,
                &format!(
                    "Current expiration year {year} does not match the registry ({})",
                    record.expires.year()
                ),
            );
        }
        let cost = self.state.settings.price_per_year_cents * i64::from(period);
        if let Err(r) = self.charge(cost) {
            return r;
        }
        let id = self.new_order(&name, "renewal", OrderStatus::Completed, period, cost);
        let expires = domreg_events::calendar::years_later(record.expires, period);
        if let Some(d) = self.state.domains.get_mut(&name) {
            d.expires = expires;
            d.renewed_from_year = Some(year);
            d.auto_renew = attrs.flag("auto_renew").unwrap_or(d.auto_renew);
        }
        self.ok(
            200,
            "Command completed successfully",
            Value::assoc()
                .with("order_id", id.to_string())
                .with("id", id.to_string())
                .with("auto_renew", if record.auto_renew { "1" } else { "0" })
                .with("registration expiration date", date(expires)),
        )
    }

    fn check_transfer(&mut self, attrs: &Value) -> Value {
        let name = match self.domain(attrs) {
            Checked::Name(n) => n,
            Checked::Reply(r) => return r,
        };
        let now = self.state.now();
        if let Some(t) = self.state.transfers.get_mut(&name) {
            // OpenSRS: a status check of a pending_registry transfer has it complete
            // within five minutes.
            if attrs.flag("check_status") == Some(true)
                && t.status == TransferStatus::PendingRegistry
            {
                t.stage_ends = t.stage_ends.min(now + Duration::minutes(5));
            }
            let t = t.clone();
            let in_progress = matches!(
                t.status,
                TransferStatus::PendingOwner | TransferStatus::PendingRegistry
            );
            return self.ok(
                200,
                "Query successful",
                Value::assoc()
                    .with("transferrable", "0")
                    .with(
                        "reason",
                        if in_progress {
                            "Transfer in progress"
                        } else {
                            ""
                        },
                    )
                    .with("status", t.status.as_str())
                    .with("request_address", "owner@example.com")
                    .with(
                        "timestamp",
                        t.requested.format("%a %b %e %H:%M:%S %Y").to_string(),
                    )
                    .with("unixtime", t.requested.timestamp().to_string())
                    .with("noservice", "0"),
            );
        }
        let (transferrable, reason) = match self.state.domains.get(&name) {
            None => ("0", "Domain is not registered"),
            Some(d) if d.owner == self.user => ("0", "Domain is already in your account"),
            Some(d) if !d.transferable => (
                "0",
                "Domain status clientTransferProhibited does not allow for transfer",
            ),
            Some(_) => ("1", ""),
        };
        self.ok(
            200,
            "Query successful",
            Value::assoc()
                .with("transferrable", transferrable)
                .with("reason", reason)
                .with("status", "")
                .with("noservice", "0"),
        )
    }

    fn belongs_to_rsp(&mut self, attrs: &Value) -> Value {
        let name = match self.domain(attrs) {
            Checked::Name(n) => n,
            Checked::Reply(r) => return r,
        };
        self.state.probe(&name);
        match self.state.domains.get(&name) {
            Some(d) if d.owner == self.user => self.ok(
                200,
                "Query successful",
                Value::assoc()
                    .with("belongs_to_rsp", "1")
                    .with("domain_expdate", date(d.expires)),
            ),
            _ => self.ok(
                200,
                "Query successful",
                Value::assoc().with("belongs_to_rsp", "0"),
            ),
        }
    }

    fn get_order_info(&mut self, attrs: &Value) -> Value {
        let Some(id) = attrs.text("order_id") else {
            return self.fail(460, "Missing required field: order_id");
        };
        let order = id
            .parse::<u64>()
            .ok()
            .and_then(|id| self.state.orders.get(&id))
            .cloned();
        let Some(order) = order.filter(|o| o.reseller == self.user) else {
            return self.fail(480, &format!("Order {id} not found"));
        };
        let order = self.state.orders.get(&order.id).cloned().unwrap_or(order);
        let status = serde_json::to_value(order.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let fields = Value::assoc()
            .with("id", order.id.to_string())
            .with("domain", order.domain.as_str())
            .with("reg_type", order.reg_type.as_str())
            .with("status", status)
            .with("period", order.period.to_string())
            .with("cost", cents(order.cost_cents))
            .with("order_date", order.created.timestamp().to_string())
            .with(
                "completed_date",
                order
                    .completed
                    .map(|t| t.timestamp().to_string())
                    .unwrap_or_default(),
            );
        self.ok(
            200,
            "Query successful",
            Value::assoc().with("field_hash", fields),
        )
    }

    /// The reseller's orders for a name, newest first (`orders`: id, order_date, status,
    /// type), as OpenSRS lists them.
    fn get_orders_by_domain(&mut self, attrs: &Value) -> Value {
        let name = match self.domain(attrs) {
            Checked::Name(n) => n,
            Checked::Reply(r) => return r,
        };
        let mut orders: Vec<&Order> = self
            .state
            .orders
            .values()
            .filter(|o| o.domain == name && o.reseller == self.user)
            .collect();
        orders.sort_by_key(|o| std::cmp::Reverse(o.id));
        let list: Vec<Value> = orders
            .iter()
            .map(|o| {
                let status = serde_json::to_value(o.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                Value::assoc()
                    .with("id", o.id.to_string())
                    .with("order_date", o.created.timestamp().to_string())
                    .with("status", status)
                    .with("type", o.reg_type.as_str())
            })
            .collect();
        self.ok(
            200,
            "Query successful",
            Value::assoc()
                .with("page_size", list.len().to_string())
                .with("orders", list),
        )
    }

    fn get_domain(&mut self, body: &Value, attrs: &Value) -> Value {
        let holder = if body.text("domain").is_some() {
            body
        } else {
            attrs
        };
        let name = match self.domain(holder) {
            Checked::Name(n) => n,
            Checked::Reply(r) => return r,
        };
        let Some(d) = self
            .state
            .domains
            .get(&name)
            .filter(|d| d.owner == self.user)
            .cloned()
        else {
            return self.fail(480, "Domain not found in your account");
        };
        let nameservers: Vec<Value> = d
            .nameservers
            .iter()
            .enumerate()
            .map(|(i, n)| {
                Value::assoc()
                    .with("name", n.as_str())
                    .with("sortorder", (i + 1).to_string())
            })
            .collect();
        self.ok(
            200,
            "Query Successful",
            Value::assoc()
                .with("expiredate", date(d.expires))
                .with("registry_expiredate", date(d.expires))
                .with("registry_createdate", date(d.created))
                .with("auto_renew", if d.auto_renew { "1" } else { "0" })
                .with("let_expire", "0")
                .with("sponsoring_rsp", "1")
                .with("tld_data", "")
                .with("nameserver_list", nameservers),
        )
    }

    fn get_balance(&mut self) -> Value {
        let balance = self
            .state
            .balances_cents
            .get(self.user)
            .copied()
            .unwrap_or(0);
        self.ok(
            200,
            "Command successful",
            Value::assoc()
                .with("balance", cents(balance))
                .with("hold_balance", "0.00"),
        )
    }

    fn process_pending(&mut self, attrs: &Value) -> Value {
        let Some(id) = attrs.text("order_id") else {
            return self.fail(460, "Missing required field: order_id");
        };
        let order = id
            .parse::<u64>()
            .ok()
            .and_then(|id| self.state.orders.get(&id))
            .cloned();
        let Some(order) = order.filter(|o| o.reseller == self.user) else {
            return self.fail(480, &format!("Order {id} not found"));
        };
        if !matches!(order.status, OrderStatus::Pending | OrderStatus::Waiting) {
            return self.fail(465, &format!("Order {id} is not pending"));
        }
        if attrs.text("command") == Some("cancel") {
            self.state.waiting.remove(&order.domain);
            if let Some(t) = self.state.transfers.get_mut(&order.domain) {
                t.status = TransferStatus::Cancelled;
            }
            self.state
                .close_order(order.id, OrderStatus::Cancelled, true);
            return self.ok(
                200,
                "Order cancelled",
                Value::assoc()
                    .with("order_id", id)
                    .with("status", "cancelled"),
            );
        }
        self.ok(
            200,
            "Order is being processed",
            Value::assoc()
                .with("order_id", id)
                .with("status", "waiting"),
        )
    }
}
