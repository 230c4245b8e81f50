//! GET DOMAIN in its views (`all_info`, `status`, `nameservers`, one contact role), in
//! reseller mode (the domain named) or cookie mode (SET COOKIE first, as several
//! third-party clients do).

use super::super::state::*;
use super::{date, Checked, Handler};
use crate::opensrs::value::Value;

impl Handler<'_> {
    /// SET COOKIE: logs in to a domain's registrant profile.
    pub(super) fn set_cookie(&mut self, attrs: &Value) -> Value {
        let name = match self.domain(attrs) {
            Checked::Name(n) => n,
            Checked::Reply(r) => return r,
        };
        for field in ["reg_username", "reg_password"] {
            if attrs.text(field).is_none() {
                return self.fail(460, &format!("Missing required field: {field}"));
            }
        }
        let matches = self.state.profiles.get(&name).is_some_and(|p| {
            Some(p.reg_username.as_str()) == attrs.text("reg_username")
                && Some(p.reg_password.as_str()) == attrs.text("reg_password")
        });
        let Some(d) = self.state.domains.get(&name).filter(|_| matches).cloned() else {
            return self.fail(
                415,
                "Authentication Error: invalid registrant profile credentials",
            );
        };
        let cookie = format!("{}:{}", self.state.new_id(), self.state.new_id());
        self.state
            .cookies
            .insert(cookie.clone(), (self.user.to_string(), name));
        self.ok(
            200,
            "Command Successful",
            Value::assoc()
                .with("waiting_requests_no", "0")
                .with("permission", "")
                .with("cookie", cookie)
                .with("domain_count", "1")
                .with("f_owner", "1")
                .with("last_access_time", self.state.now().timestamp().to_string())
                .with("encoding_type", "")
                .with("last_ip", "127.0.0.1")
                .with("expiredate", date(d.expires)),
        )
    }

    pub(super) fn get_domain(&mut self, body: &Value, attrs: &Value) -> Value {
        let name = if let Some(cookie) = body.text("cookie") {
            if attrs.text("domain").is_some() {
                return self.fail(
                    465,
                    "Invalid data: a cookie and a domain name were both given",
                );
            }
            match self.state.cookies.get(cookie) {
                Some((user, domain)) if user == self.user => domain.clone(),
                _ => return self.fail(415, "Invalid Cookie Supplied"),
            }
        } else {
            let holder = if body.text("domain").is_some() {
                body
            } else {
                attrs
            };
            match self.domain(holder) {
                Checked::Name(n) => n,
                Checked::Reply(r) => return r,
            }
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
        let profile = self.state.profiles.get(&name).cloned().unwrap_or_default();
        let view = attrs
            .text("type")
            .unwrap_or("all_info")
            .to_ascii_lowercase();
        let attributes = match view.as_str() {
            "all_info" => all_info(&d, &profile),
            "status" => status(&d),
            "domain_auth_info" => Value::assoc().with("domain_auth_info", auth_code(&name)),
            "whois_privacy_state" => Value::assoc()
                .with(
                    "state",
                    if self.state.privacy.contains(&name) {
                        "enabled"
                    } else {
                        "disabled"
                    },
                )
                .with("changeable", "1"),
            "nameservers" => Value::assoc().with("nameserver_list", nameservers(&d)),
            "owner" | "admin" | "billing" | "tech" => Value::assoc().with(
                "contact_set",
                Value::assoc().with(&view, contact(&profile, &view)),
            ),
            other => {
                return self.fail(
                    465,
                    &format!(
                        "Invalid data: type {other}; the sandbox knows all_info, status, \
                         whois_privacy_state, nameservers, owner, admin, billing, tech"
                    ),
                )
            }
        };
        self.ok(200, "Query Successful", attributes)
    }
}

fn nameservers(d: &DomainRecord) -> Vec<Value> {
    d.nameservers
        .iter()
        .enumerate()
        .map(|(i, n)| {
            Value::assoc()
                .with("name", n.as_str())
                .with("sortorder", (i + 1).to_string())
                .with("ipaddress", "")
        })
        .collect()
}

fn contact(profile: &Profile, role: &str) -> Value {
    profile
        .contacts
        .get(role)
        .into_iter()
        .flatten()
        .fold(Value::assoc(), |v, (k, x)| v.with(k, x.as_str()))
        .with("status", "active")
}

fn all_info(d: &DomainRecord, profile: &Profile) -> Value {
    let contacts = ["owner", "admin", "billing", "tech"]
        .into_iter()
        .fold(Value::assoc(), |v, role| {
            v.with(role, contact(profile, role))
        });
    Value::assoc()
        .with("expiredate", date(d.expires))
        .with("registry_expiredate", date(d.expires))
        .with("registry_createdate", date(d.created))
        .with("registry_updatedate", date(d.created))
        .with("auto_renew", if d.auto_renew { "1" } else { "0" })
        .with("let_expire", "0")
        .with("sponsoring_rsp", "1")
        .with("affiliate_id", "")
        .with("gdpr_consent_status", "")
        .with("tld_data", "")
        .with("contact_set", contacts)
        .with("nameserver_list", nameservers(d))
}

/// `type=status`: the transfer lock (`lock_state` 1 = clientTransferProhibited).
fn status(d: &DomainRecord) -> Value {
    Value::assoc()
        .with("lock_state", if d.transferable { "0" } else { "1" })
        .with("can_modify", "1")
        .with("domain_supports", "")
        .with("parkp_status", "0")
        .with("auctionescrow", "0")
}

/// The sandbox's transfer code of a domain: stable, and different per domain.
pub(super) fn auth_code(domain: &str) -> String {
    use md5::{Digest, Md5};
    let digest = Md5::digest(format!("sandbox-epp:{domain}").as_bytes());
    format!("EPP-{}", crate::hex::hex(&digest[..6]))
}
