//! Commands that change something: SW_REGISTER (new and transfer), RENEW, PROCESS_PENDING.

use chrono::{Datelike, Duration};

use super::super::state::*;
use super::{date, Checked, Handler};
use crate::opensrs::value::Value;

impl Handler<'_> {
    pub(super) fn sw_register(&mut self, attrs: &Value) -> Value {
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
        // With custom_tech_contact=0 OpenSRS uses the reseller's default tech contact.
        let own_tech = attrs.text("custom_tech_contact") != Some("0");
        let roles: &[&str] = if own_tech {
            &["owner", "admin", "billing", "tech"]
        } else {
            &["owner", "admin", "billing"]
        };
        for role in roles {
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
        let reply = match attrs.text("reg_type") {
            Some("new") => self.register_new(&name, attrs),
            Some("transfer") => self.transfer_in(&name, attrs),
            Some(other) => self.fail(465, &format!("Invalid registration type: {other}")),
            None => self.fail(460, "Missing required field: reg_type"),
        };
        if reply.text("is_success") == Some("1") {
            let profile = profile(attrs, own_tech);
            self.state.profiles.insert(name, profile);
        }
        reply
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
        if name.starts_with("parked-") {
            // As OpenSRS does when the registry refuses the data: the order is created
            // but parked, to be fixed and processed, or cancelled (which refunds it).
            if let Err(r) = self.charge(cost) {
                return r;
            }
            let id = self.new_order(name, "new", OrderStatus::Pending, period, cost);
            let text = "Request failed validation: Name server 'ns1.parked.example' is not found at the registry. Please double check the nameserver and re-submit.";
            return super::reply(
                self.object,
                false,
                435,
                text,
                Some(
                    Value::assoc()
                        .with("forced_pending", id.to_string())
                        .with("registration_text", text)
                        .with("registration_code", "435"),
                ),
            );
        }
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
                // f_lock_domain=1: registered with the registrar lock on.
                transferable: attrs.flag("f_lock_domain") != Some(true),
                nameservers,
                renewed_from_year: None,
            },
        );
        let user = self.user.to_string();
        let expires = domreg_events::calendar::years_later(now, period);
        self.state.raise_registered(&user, name, period, expires);
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

    pub(super) fn renew(&mut self, attrs: &Value) -> Value {
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
        if name.starts_with("norenew-") {
            // As a registry on hold does (serverRenewProhibited): nothing is charged.
            return self.fail(
                405,
                &format!(
                    "Registry error: the registry refused to renew {name} (serverRenewProhibited)"
                ),
            );
        }
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
        let user = self.user.to_string();
        self.state.raise(
            &user,
            "DOMAIN",
            "RENEWED",
            &[
                ("domain_name", name.clone()),
                ("expiration_date", super::super::feed::feed_date(expires)),
                ("period", period.to_string()),
            ],
        );
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

    pub(super) fn process_pending(&mut self, attrs: &Value) -> Value {
        let order = match self.reseller_order(attrs) {
            Ok(o) => o,
            Err(reply) => return reply,
        };
        let id = order.id.to_string();
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
        let parked = order.status == OrderStatus::Pending
            && order.reg_type == "new"
            && !self.state.waiting.contains_key(&order.domain);
        if parked && !self.state.domains.contains_key(&order.domain) {
            // Processing a parked registration registers the name.
            let now = self.state.now();
            let expires = domreg_events::calendar::years_later(now, order.period);
            self.state.domains.insert(
                order.domain.clone(),
                DomainRecord {
                    owner: order.reseller.clone(),
                    created: now,
                    expires,
                    auto_renew: false,
                    transferable: true,
                    nameservers: Vec::new(),
                    renewed_from_year: None,
                },
            );
            self.state
                .close_order(order.id, OrderStatus::Completed, false);
            let reseller = order.reseller.clone();
            self.state
                .raise_registered(&reseller, &order.domain, order.period, expires);
            return self.ok(
                200,
                "Order processed",
                Value::assoc()
                    .with("order_id", id)
                    .with("status", "completed"),
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

/// The registrant profile of a SW_REGISTER request; without a tech contact of its own,
/// the reseller's default (here: a copy of the admin contact, marked so).
fn profile(attrs: &Value, own_tech: bool) -> Profile {
    let contact = |role: &str| -> std::collections::BTreeMap<String, String> {
        attrs
            .path(&["contact_set", role])
            .and_then(Value::as_assoc)
            .map(|c| {
                c.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut contacts: std::collections::BTreeMap<_, _> = ["owner", "admin", "billing"]
        .into_iter()
        .map(|r| (r.to_string(), contact(r)))
        .collect();
    let tech = if own_tech {
        contact("tech")
    } else {
        let mut t = contact("admin");
        t.insert("org_name".into(), "Reseller default tech contact".into());
        t
    };
    contacts.insert("tech".into(), tech);
    Profile {
        reg_username: attrs.text("reg_username").unwrap_or_default().to_string(),
        reg_password: attrs.text("reg_password").unwrap_or_default().to_string(),
        contacts,
    }
}
