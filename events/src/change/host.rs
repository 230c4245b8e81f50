//! Host names and addresses as a nameserver change gives them.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A nameserver's host name, lower case without the trailing dot: two or more labels of
/// letters, digits and inner hyphens (1 to 63 each, 253 in all), the last not numeric.
pub fn host_name(raw: &str) -> Result<String, String> {
    let host = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || host.len() > 253 {
        return Err("a host name has 1 to 253 characters".into());
    }
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 {
        return Err("a host name has at least two labels, such as ns1.example.net".into());
    }
    for label in &labels {
        let ok = (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!(
                "label {label:?} may only hold letters a-z, digits and inner '-' (1 to 63); write IDNs in their xn-- form"
            ));
        }
    }
    if labels
        .last()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("the last label of a host name is not a number (an IP address is not a nameserver name)".into());
    }
    Ok(host)
}

/// A child nameserver named by its label alone (`ns1`) is the host of that label under
/// `domain`; a full name is taken as given (and checked against the domain later).
pub fn under_domain(host: &str, domain: &str) -> String {
    let host = host.trim().trim_end_matches('.');
    if host.contains('.') {
        host.to_string()
    } else {
        format!("{host}.{domain}")
    }
}

/// A public IPv4 address in dotted form (a registry refuses private and reserved ones).
pub fn ipv4(raw: &str) -> Result<String, String> {
    let a: Ipv4Addr = raw.trim().parse().map_err(|_| {
        format!("IPv4 address {raw:?} is not four numbers 0-255, such as 192.0.2.10")
    })?;
    if a.is_private()
        || a.is_loopback()
        || a.is_unspecified()
        || a.is_broadcast()
        || a.is_multicast()
        || a.is_link_local()
    {
        return Err(format!(
            "IPv4 address {a} is private, loopback or reserved: a registry publishes only public addresses"
        ));
    }
    Ok(a.to_string())
}

/// A global IPv6 address, written in its canonical short form.
pub fn ipv6(raw: &str) -> Result<String, String> {
    let a: Ipv6Addr = raw.trim().parse().map_err(|_| {
        format!("IPv6 address {raw:?} is not an IPv6 address, such as 2001:db8::53")
    })?;
    if a.is_loopback() || a.is_unspecified() || a.is_multicast() || a.to_ipv4_mapped().is_some() {
        return Err(format!(
            "IPv6 address {a} is loopback, unspecified, multicast or IPv4-mapped: a registry publishes only global addresses"
        ));
    }
    Ok(a.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_and_written_canonically() {
        assert_eq!(ipv4(" 192.0.2.10 ").as_deref(), Ok("192.0.2.10"));
        assert!(ipv4("10.0.0.1").unwrap_err().contains("private"));
        assert!(ipv4("256.1.1.1").unwrap_err().contains("four numbers"));
        assert_eq!(ipv6("2001:0db8:0000::0053").as_deref(), Ok("2001:db8::53"));
        assert!(ipv6("::1").is_err());
        assert!(ipv6("192.0.2.1").is_err());
    }
}
