//! Commands that only read: LOOKUP, CHECK_TRANSFER, BELONGS_TO_RSP, GET_ORDER_INFO,
//! GET_ORDERS_BY_DOMAIN, GET_BALANCE, GET_DOMAINS_BY_EXPIREDATE.

use chrono::Duration;

use super::super::state::*;
use super::{cents, date, Checked, Handler};
use crate::opensrs::value::Value;

impl Handler<'_> {
    pub(super) fn lookup(&mut self, attrs: &Value) -> Value {
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

    /// Names beginning `premium-` are registry-premium (500.00 a year), as OpenSRS marks
    /// them with `is_registry_premium`; the rest cost 10.00.
    pub(super) fn get_price(&mut self, attrs: &Value) -> Value {
        let name = match self.domain(attrs) {
            Checked::Name(n) => n,
            Checked::Reply(r) => return r,
        };
        let years: u32 = attrs
            .get("period")
            .and_then(Value::as_str)
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        let premium = name.starts_with("premium-");
        let per_year = if premium { 500 } else { 10 };
        let mut a = Value::assoc().with("price", format!("{}.00", per_year * years));
        if premium {
            a = a
                .with("is_registry_premium", "1")
                .with("registry_premium_group", "tier-1");
        }
        self.ok(200, "Command completed successfully", a)
    }

    pub(super) fn check_transfer(&mut self, attrs: &Value) -> Value {
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

    pub(super) fn belongs_to_rsp(&mut self, attrs: &Value) -> Value {
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

    pub(super) fn get_order_info(&mut self, attrs: &Value) -> Value {
        let order = match self.reseller_order(attrs) {
            Ok(o) => o,
            Err(reply) => return reply,
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
    pub(super) fn get_orders_by_domain(&mut self, attrs: &Value) -> Value {
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

    /// The reseller's transfers away, of one domain when `domain` is given.
    pub(super) fn get_transfers_away(&mut self, attrs: &Value) -> Value {
        let only = attrs.text("domain").map(str::to_ascii_lowercase);
        let transfers: Vec<Value> = self
            .state
            .transfers_away
            .iter()
            .filter(|t| t.reseller == self.user)
            .filter(|t| only.as_deref().is_none_or(|d| d == t.domain))
            .take(40)
            .map(|t| {
                Value::assoc()
                    .with("domain", t.domain.as_str())
                    .with("gaining_registrar", t.gaining_registrar.as_str())
                    .with("status", "completed")
                    .with("req_date", t.completed.timestamp().to_string())
                    .with("completed_date", t.completed.timestamp().to_string())
            })
            .collect();
        let total = transfers.len().to_string();
        self.ok(
            200,
            "Query successful",
            Value::assoc()
                .with("transfers", transfers)
                .with("total", total)
                .with("page", "1"),
        )
    }

    pub(super) fn get_balance(&mut self) -> Value {
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

    /// The reseller's domains expiring between `exp_from` and `exp_to`, by expiry, one
    /// page of `limit` (default 40) at a time; pages count from 1.
    pub(super) fn get_domains_by_expiredate(&mut self, attrs: &Value) -> Value {
        let day = |k: &str| {
            attrs
                .text(k)
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        };
        let (Some(from), Some(to)) = (day("exp_from"), day("exp_to")) else {
            return self.fail(460, "exp_from and exp_to are required, as YYYY-MM-DD");
        };
        let limit = attrs
            .text("limit")
            .and_then(|l| l.parse::<usize>().ok())
            .unwrap_or(40)
            .max(1);
        let page = attrs
            .text("page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        let mut mine: Vec<(&String, &DomainRecord)> = self
            .state
            .domains
            .iter()
            .filter(|(_, d)| {
                d.owner == self.user
                    && d.expires.date_naive() >= from
                    && d.expires.date_naive() <= to
            })
            .collect();
        mine.sort_by_key(|(name, d)| (d.expires, (*name).clone()));
        let total = mine.len();
        let items: Vec<Value> = mine
            .iter()
            .skip((page - 1) * limit)
            .take(limit)
            .map(|(name, d)| {
                Value::assoc()
                    .with("name", name.as_str())
                    .with(
                        "expiredate",
                        d.expires.format("%Y-%m-%d %H:%M:%S").to_string(),
                    )
                    .with("f_auto_renew", if d.auto_renew { "Y" } else { "N" })
                    .with("f_let_expire", "N")
            })
            .collect();
        let remainder = page * limit < total;
        self.ok(
            200,
            "Command successful",
            Value::assoc()
                .with("exp_domains", items)
                .with("page", page.to_string())
                .with("remainder", if remainder { "1" } else { "0" })
                .with("total", total.to_string()),
        )
    }
}
