//! What each TLD's registry lets a reseller do after registration, as data: the model
//! refuses what a TLD cannot do with a clear message instead of sending it to OpenSRS.
//! Sources: `shared/reference/opensrs-protocol.md` §9.5 (privacy per TLD from OpenSRS's
//! bulk page), DENIC (.de has no registrar lock), Nominet (.uk moves by IPS tag).

use serde::Serialize;

/// How the transfer-out code of a TLD's domains is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthCode {
    /// Read with GET DOMAIN `domain_auth_info`.
    Readable,
    /// Only e-mailed to the admin contact (SEND_AUTHCODE).
    Emailed,
    /// No code: the domain moves when its IPS tag is set to the gaining registrar's.
    IpsTag,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    pub whois_privacy: bool,
    pub registrar_lock: bool,
    pub auth_code: AuthCode,
    /// OpenSRS can change its contacts (UPDATE_CONTACTS; not for .dk).
    pub contact_updates: bool,
    /// A change of registrant starts ICANN's 60-day transfer lock (generic TLDs).
    pub registrant_change_lock: bool,
    /// A child nameserver needs an IPv4 address even when it has IPv6 (.de).
    pub glue_needs_ipv4: bool,
    /// A child nameserver may have an IPv6 address (not .cn).
    pub glue_ipv6: bool,
    /// Days after expiry a domain can still be renewed; past them only a restore helps.
    pub renewal_grace_days: u16,
}

/// The TLDs whose WHOIS privacy OpenSRS can switch.
const PRIVACY: &[&str] = &[
    "com", "net", "org", "info", "biz", "me", "mobi", "name", "cc", "co", "tv",
];

/// A country-code TLD's defaults: no ICANN transfer lock.
const COUNTRY: Capabilities = Capabilities {
    whois_privacy: false,
    registrar_lock: true,
    auth_code: AuthCode::Readable,
    contact_updates: true,
    registrant_change_lock: false,
    glue_needs_ipv4: false,
    glue_ipv6: true,
    renewal_grace_days: 30,
};

const UK: Capabilities = Capabilities {
    registrar_lock: false,
    auth_code: AuthCode::IpsTag,
    ..COUNTRY
};

/// Known exceptions; every other TLD gets `COUNTRY` or, when generic, a 60-day
/// registrant-change lock as well. .de renews only before expiry (DENIC deletes).
const TABLE: &[(&str, Capabilities)] = &[
    (
        "de",
        Capabilities {
            registrar_lock: false,
            auth_code: AuthCode::Emailed,
            glue_needs_ipv4: true,
            renewal_grace_days: 0,
            ..COUNTRY
        },
    ),
    ("co.uk", UK),
    ("uk", UK),
    ("ca", COUNTRY),
    (
        "dk",
        Capabilities {
            contact_updates: false,
            ..COUNTRY
        },
    ),
    (
        "cn",
        Capabilities {
            glue_ipv6: false,
            ..COUNTRY
        },
    ),
];

/// What `tld` allows.
pub fn of(tld: &str) -> Capabilities {
    let tld = tld.trim_start_matches('.').to_ascii_lowercase();
    if let Some((_, c)) = TABLE.iter().find(|(t, _)| *t == tld) {
        return *c;
    }
    let generic = tld.rsplit('.').next().is_some_and(|last| last.len() > 2);
    Capabilities {
        whois_privacy: PRIVACY.contains(&tld.as_str()),
        registrant_change_lock: generic,
        ..COUNTRY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_answers_for_known_and_other_tlds() {
        assert!(of("com").whois_privacy && of("com").registrar_lock);
        assert!(!of(".DE").registrar_lock && !of("de").whois_privacy);
        assert_eq!(of("co.uk").auth_code, AuthCode::IpsTag);
        assert!(!of("ca").whois_privacy && of("ca").registrar_lock);
        assert!(!of("xyz").whois_privacy && of("xyz").registrar_lock);
        assert!(of("com").registrant_change_lock && !of("ca").registrant_change_lock);
        assert!(!of("co").registrant_change_lock && of("de").glue_needs_ipv4);
        assert!(!of("dk").contact_updates && !of("cn").glue_ipv6);
        assert_eq!(
            (of("de").renewal_grace_days, of("com").renewal_grace_days),
            (0, 30)
        );
    }
}
