//! Changes to a registered domain: ADVANCED_UPDATE_NAMESERVERS (`assign`), MODIFY (the
//! registrar lock, WHOIS privacy, the .uk IPS tag), UPDATE_CONTACTS and SEND_AUTHCODE,
//! with OpenSRS's refusals.

use super::super::state::TransferredAway;
use super::{Checked, Handler};
use crate::opensrs::value::Value;

impl Handler<'_> {
    /// The reseller's own domain named in the request (top level or attributes), or the
    /// refusal OpenSRS gives.
    pub(super) fn own_domain(&mut self, body: &Value, attrs: &Value) -> Result<String, Value> {
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
            Some("change_ips_tag") => self.change_ips_tag(&name, attrs),
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

    /// MODIFY `change_ips_tag`: the .uk domain leaves for the tag's registrar at once.
    fn change_ips_tag(&mut self, name: &str, attrs: &Value) -> Value {
        if !name.ends_with(".uk") {
            return self.fail(465, "Invalid data: change_ips_tag is only for .UK domains");
        }
        let Some(tag) = attrs
            .text("gaining_registrar_tag")
            .map(|t| t.trim().to_ascii_uppercase())
        else {
            return self.fail(460, "Missing required field: gaining_registrar_tag");
        };
        if tag.starts_with("BAD") || tag.is_empty() {
            return self.fail(
                465,
                &format!("Invalid data: {tag} is not a Nominet IPS tag"),
            );
        }
        let now = self.state.now();
        if let Some(d) = self.state.domains.get_mut(name) {
            d.owner = format!("ips:{tag}");
        }
        self.state.transfers_away.push(TransferredAway {
            domain: name.to_string(),
            reseller: self.user.to_string(),
            gaining_registrar: tag,
            completed: now,
        });
        self.ok(200, "Modification Successful", Value::assoc())
    }

    /// UPDATE_CONTACTS: replaces the listed roles' contacts in the domain's profile.
    pub(super) fn update_contacts(&mut self, body: &Value, attrs: &Value) -> Value {
        let name = match self.own_domain(body, attrs) {
            Ok(n) => n,
            Err(r) => return r,
        };
        if name.ends_with(".dk") {
            return self.fail(470, "Contact update is not supported for .DK");
        }
        let types: Vec<String> = attrs
            .get("types")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|t| t.as_str().map(str::to_ascii_lowercase))
                    .collect()
            })
            .unwrap_or_default();
        if types.is_empty() {
            return self.fail(460, "Missing required field: types");
        }
        let mut given = Vec::new();
        for role in &types {
            if !["owner", "admin", "billing", "tech"].contains(&role.as_str()) {
                return self.fail(470, &format!("Contact type {role} is not supported"));
            }
            let Some(c) = attrs.get("contact_set").and_then(|s| s.get(role)) else {
                return self.fail(460, &format!("Missing required field: contact_set.{role}"));
            };
            let mut fields = std::collections::BTreeMap::new();
            for field in [
                "first_name",
                "last_name",
                "address1",
                "city",
                "country",
                "postal_code",
                "phone",
                "email",
            ] {
                match c.text(field).filter(|v| !v.trim().is_empty()) {
                    Some(v) => fields.insert(field.to_string(), v.to_string()),
                    None => {
                        return self.fail(460, &format!("Missing required field: {role} {field}"))
                    }
                };
            }
            for field in ["org_name", "address2", "address3", "state", "fax"] {
                if let Some(v) = c.text(field).filter(|v| !v.is_empty()) {
                    fields.insert(field.to_string(), v.to_string());
                }
            }
            if !fields.get("email").is_some_and(|e| e.contains('@')) {
                return self.fail(470, &format!("Invalid {role} email format"));
            }
            given.push((role.clone(), fields));
        }
        let profile = self.state.profiles.entry(name.clone()).or_default();
        for (role, fields) in given {
            profile.contacts.insert(role, fields);
        }
        self.ok(
            200,
            "Command completed successfully",
            Value::assoc().with(
                "details",
                Value::assoc().with(
                    name.as_str(),
                    Value::assoc()
                        .with("is_success", "1")
                        .with("response_text", "Contacts updated"),
                ),
            ),
        )
    }
}
