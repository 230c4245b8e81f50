//! Changes to a registered domain: ADVANCED_UPDATE_NAMESERVERS (`assign`) and MODIFY
//! (`data=status`, the registrar lock), with OpenSRS's refusals.

use super::{Checked, Handler};
use crate::opensrs::value::Value;

impl Handler<'_> {
    /// The reseller's own domain named in the request (top level or attributes), or the
    /// refusal OpenSRS gives.
    fn own_domain(&mut self, body: &Value, attrs: &Value) -> Result<String, Value> {
        let holder = if body.text("domain").is_some() {
            body
        } else {
            attrs
        };
        let name = match self.domain(holder) {
            Checked::Name(n) => n,
            Checked::Reply(r) => return Err(r),
        };
        if self.state.waiting.contains_key(&name) {
            return Err(self.fail(437, "Another request is waiting for this domain"));
        }
        match self.state.domains.get(&name) {
            Some(d) if d.owner == self.user => Ok(name),
            _ => Err(self.fail(480, "Domain not found in your account")),
        }
    }

    pub(super) fn advanced_update_nameservers(&mut self, body: &Value, attrs: &Value) -> Value {
        let name = match self.own_domain(body, attrs) {
            Ok(n) => n,
            Err(r) => return r,
        };
        if attrs.text("op_type") != Some("assign") {
            return self.fail(465, "Invalid data: the sandbox knows op_type assign");
        }
        let hosts: Vec<String> = attrs
            .get("assign_ns")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|h| h.as_str().map(|h| h.trim().to_ascii_lowercase()))
                    .collect()
            })
            .unwrap_or_default();
        if hosts.is_empty() {
            return self.fail(460, "Missing required field: assign_ns");
        }
        if let Some(missing) = hosts
            .iter()
            .find(|h| h.starts_with("missing-") || h.ends_with(".invalid"))
        {
            return self.fail(
                435,
                &format!("Request failed validation: Name server '{missing}' is not found at the registry. Please double check the nameserver and re-submit."),
            );
        }
        let Some(d) = self.state.domains.get_mut(&name) else {
            return self.fail(480, "Domain not found in your account");
        };
        if d.nameservers == hosts {
            return self.ok(200, "No nameserver changes necessary", Value::assoc());
        }
        d.nameservers = hosts.clone();
        let user = self.user.to_string();
        self.state.raise(
            &user,
            "DOMAIN",
            "NAMESERVER_UPDATE",
            &[
                ("domain_name", name.clone()),
                ("nameserver_list", hosts.join(",")),
            ],
        );
        self.ok(200, "Nameserver Update Successful", Value::assoc())
    }

    pub(super) fn modify(&mut self, body: &Value, attrs: &Value) -> Value {
        let name = match self.own_domain(body, attrs) {
            Ok(n) => n,
            Err(r) => return r,
        };
        match attrs.text("data") {
            Some("status") => {
                let locked = match attrs.text("lock_state") {
                    Some("1") => true,
                    Some("0") => false,
                    _ => return self.fail(465, "Invalid data: lock_state is 0 or 1"),
                };
                if let Some(d) = self.state.domains.get_mut(&name) {
                    d.transferable = !locked;
                }
                self.ok(200, "Modification Successful", Value::assoc())
            }
            Some("whois_privacy_state") => {
                let on = match attrs.text("state") {
                    Some("enable") => true,
                    Some("disable") => false,
                    _ => return self.fail(465, "Invalid data: state is enable or disable"),
                };
                let tld = name.split_once('.').map_or("", |(_, t)| t);
                if !domreg_events::capabilities::of(tld).whois_privacy {
                    return self.fail(
                        465,
                        &format!("Invalid data: WHOIS privacy is not available for .{tld}"),
                    );
                }
                if on {
                    self.state.privacy.insert(name);
                } else {
                    self.state.privacy.remove(&name);
                }
                self.ok(200, "Modification Successful", Value::assoc())
            }
            Some(other) => self.fail(465, &format!("Unknown Modify type: {other}")),
            None => self.fail(460, "Modify type not specified"),
        }
    }

    /// SEND_AUTHCODE: "mails" the code to the admin contact (kept in the state for tests).
    pub(super) fn send_authcode(&mut self, attrs: &Value) -> Value {
        let Some(name) = attrs.text("domain_name").map(str::to_ascii_lowercase) else {
            return self.fail(460, "Missing required field: domain_name");
        };
        match self.state.domains.get(&name) {
            Some(d) if d.owner == self.user => {
                self.state.auth_codes_mailed.push(name);
                self.ok(200, "Message sent", Value::assoc())
            }
            _ => self.fail(480, "Domain not found in your account"),
        }
    }
}
