//! The NAMESERVER object: child ("glue") hosts under a reseller's domain, CREATE /
//! MODIFY / DELETE / GET, with OpenSRS's refusals (shared/reference §9.7).

use super::super::state::HostRecord;
use super::Handler;
use crate::opensrs::value::Value;

impl Handler<'_> {
    pub(super) fn nameserver(&mut self, action: &str, body: &Value, attrs: &Value) -> Value {
        let domain = match self.own_domain(body, attrs) {
            Ok(n) => n,
            Err(r) => return r,
        };
        if action == "GET" {
            return self.get_hosts(&domain, attrs.text("name").unwrap_or("all"));
        }
        let Some(host) = attrs
            .text("name")
            .map(|n| n.trim().trim_end_matches('.').to_ascii_lowercase())
        else {
            return self.fail(460, "Missing required field: name");
        };
        match action {
            "CREATE" | "MODIFY" => self.set_host(action, &domain, &host, attrs),
            _ => self.delete_host(&host),
        }
    }

    fn set_host(&mut self, action: &str, domain: &str, host: &str, attrs: &Value) -> Value {
        if !host.ends_with(&format!(".{domain}")) {
            return self.fail(
                465,
                &format!("Invalid data: nameserver {host} is not in the name space of {domain}"),
            );
        }
        let text = |k: &str| attrs.text(k).filter(|s| !s.is_empty()).map(str::to_string);
        let (ipv4, ipv6) = (text("ipaddress"), text("ipv6"));
        if ipv4.is_none() && ipv6.is_none() {
            return self.fail(460, "Missing required field: ipaddress");
        }
        if ipv4.is_none() && domain.ends_with(".de") {
            return self.fail(460, "Missing required field: ipaddress (required for .DE)");
        }
        let bad4 = ipv4
            .as_ref()
            .is_some_and(|a| a.parse::<std::net::Ipv4Addr>().is_err());
        let bad6 = ipv6
            .as_ref()
            .is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_err());
        if bad4 || bad6 {
            return self.fail(465, "Invalid IP address");
        }
        let exists = self.state.hosts.contains_key(host);
        match action {
            "CREATE" if exists => return self.fail(485, "Nameserver already exists"),
            "MODIFY" if !exists => return self.fail(480, "Nameserver not found"),
            _ => {}
        }
        self.state.hosts.insert(
            host.to_string(),
            HostRecord {
                domain: domain.to_string(),
                ipv4,
                ipv6,
            },
        );
        let text = if action == "CREATE" {
            "Nameserver creation successful"
        } else {
            "Nameserver modification successful"
        };
        self.ok(200, text, Value::assoc())
    }

    fn delete_host(&mut self, host: &str) -> Value {
        if !self.state.hosts.contains_key(host) {
            return self.fail(480, "Nameserver not found");
        }
        let serving = self
            .state
            .domains
            .values()
            .any(|d| d.nameservers.iter().any(|n| n == host));
        if serving {
            return self.fail(
                485,
                &format!("Nameserver {host} is in use by a domain and cannot be deleted"),
            );
        }
        self.state.hosts.remove(host);
        self.ok(200, "Nameserver deletion successful", Value::assoc())
    }

    fn get_hosts(&mut self, domain: &str, which: &str) -> Value {
        let list: Vec<Value> = self
            .state
            .hosts
            .iter()
            .filter(|(name, h)| h.domain == domain && (which == "all" || *name == which))
            .map(|(name, h)| {
                Value::assoc()
                    .with("name", name.as_str())
                    .with("ipaddress", h.ipv4.clone().unwrap_or_default())
                    .with("ipv6", h.ipv6.clone().unwrap_or_default())
                    .with("can_delete", "1")
            })
            .collect();
        self.ok(
            200,
            "Command completed successfully",
            Value::assoc().with("nameserver_list", list),
        )
    }
}
