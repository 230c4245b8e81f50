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
}

/// The TLDs whose WHOIS privacy OpenSRS can switch.
const PRIVACY: &[&str] = &[
    "com", "net", "org", "info", "biz", "me", "mobi", "name", "cc", "co", "tv",
];

/// Known exceptions; every other TLD: no privacy, a lock, a readable code.
const TABLE: &[(&str, Capabilities)] = &[
    (
        "de",
        Capabilities {
            whois_privacy: false,
            registrar_lock: false,
            auth_code: AuthCode::Emailed,
        },
    ),
    (
        "co.uk",
        Capabilities {
            whois_privacy: false,
            registrar_lock: false,
            auth_code: AuthCode::IpsTag,
        },
    ),
    (
        "uk",
        Capabilities {
            whois_privacy: false,
            registrar_lock: false,
            auth_code: AuthCode::IpsTag,
        },
    ),
    (
        "ca",
        Capabilities {
            whois_privacy: false,
            registrar_lock: true,
            auth_code: AuthCode::Readable,
        },
    ),
];

/// What `tld` allows.
pub fn of(tld: &str) -> Capabilities {
    let tld = tld.trim_start_matches('.').to_ascii_lowercase();
    if let Some((_, c)) = TABLE.iter().find(|(t, _)| *t == tld) {
        return *c;
    }
    Capabilities {
        whois_privacy: PRIVACY.contains(&tld.as_str()),
        registrar_lock: true,
        auth_code: AuthCode::Readable,
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
    }
}
