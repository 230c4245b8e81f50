//! What a valid setting is: titles, hosts, ports, days, TLDs, prices and async policies,
//! and the errors that name what is wrong and what is allowed.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::{PriceKind, RegistrarConfig};
use crate::{Money, Period};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("connection title {0:?} is invalid: use 1 to 64 printable characters, without leading or trailing spaces")]
    Title(String),
    #[error("port 55000 is OpenSRS's legacy socket protocol, which domreg does not speak: use --port 55443 (XML over HTTPS, the default)")]
    LegacyPort,
    #[error("{server} is OpenSRS's {actual} system, but test mode is {flag}: leave out --server (test mode picks the host), or set --test-mode {wanted}")]
    TestModeContradiction {
        server: String,
        actual: &'static str,
        flag: &'static str,
        wanted: bool,
    },
    #[error(
        "server {0:?} is neither a host name (such as rr-n1-tor.opensrs.net) nor an IP address"
    )]
    Server(String),
    #[error("port 0 is not allowed: use 1 to 65535 (OpenSRS uses 55443)")]
    Port,
    #[error("source IP {0:?} is not an IP address such as 203.0.113.5 or 2001:db8::5")]
    SourceIp(String),
    #[error("the login must not be empty or contain spaces")]
    Login,
    #[error("the key must not be empty")]
    EmptyKey,
    #[error("{field} of {days} days is out of range: use 0 to 365")]
    Days { field: &'static str, days: i64 },
    #[error("plain HTTP is allowed only for a sandbox on loopback, not {0}")]
    PlainHttp(String),
    #[error("nameserver {0:?} is not a host name")]
    Nameserver(String),
    #[error("at most 13 nameservers, not {0}")]
    TooManyNameservers(usize),
    #[error("the license agreement is {0} bytes; at most 65536 are allowed")]
    LicenseTooLong(usize),
    #[error("TLD {0:?} is invalid: give it without a leading name, such as com, de or co.uk")]
    Tld(String),
    #[error("a {kind} price takes {expected}")]
    PriceYears {
        kind: &'static str,
        expected: &'static str,
    },
    #[error("the amount must be more than zero, not {0}")]
    Amount(Money),
    #[error("{what} must be between {min} and {max}, not {secs} seconds")]
    Duration {
        what: &'static str,
        min: &'static str,
        max: &'static str,
        secs: u64,
    },
    #[error("OpenSRS connection {0:?} already exists; use `registrar update`")]
    RegistrarExists(String),
    #[error("no OpenSRS connection is titled {0:?}")]
    UnknownRegistrar(String),
}

/// A non-fatal remark on a valid setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning(pub String);

fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// Whether `server` names this machine (where plain HTTP is acceptable).
pub fn is_loopback(server: &str) -> bool {
    server.eq_ignore_ascii_case("localhost")
        || server
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// OpenSRS's live and test hosts: the flag `test_mode` must agree with them.
pub const OPENSRS_LIVE_HOST: &str = "rr-n1-tor.opensrs.net";
pub const OPENSRS_TEST_HOST: &str = "horizon.opensrs.net";

/// OpenSRS's legacy socket protocol port (H-Sphere's example); domreg speaks XML over
/// HTTPS on 55443.
pub const LEGACY_PORT: u16 = 55000;

/// A title is what admins type and see ("OpenSRS Registrar", H-Sphere's default): any
/// printable text of 1 to 64 characters, without leading or trailing spaces.
pub fn validate_title(title: &str) -> Result<(), SettingsError> {
    let ok = !title.is_empty()
        && title.chars().count() <= 64
        && title.trim() == title
        && !title.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(SettingsError::Title(title.to_string()))
    }
}

pub fn validate_days(field: &'static str, days: i64) -> Result<u16, SettingsError> {
    if (0..=365).contains(&days) {
        Ok(days as u16)
    } else {
        Err(SettingsError::Days { field, days })
    }
}

impl RegistrarConfig {
    /// Checks every field; returns remarks that do not make the setting invalid.
    pub fn validate(&self) -> Result<Vec<Warning>, SettingsError> {
        validate_title(&self.title)?;
        let server = self.server.trim_matches(|c| c == '[' || c == ']');
        if server.parse::<IpAddr>().is_err() && !is_hostname(server) {
            return Err(SettingsError::Server(self.server.clone()));
        }
        if self.port == 0 {
            return Err(SettingsError::Port);
        }
        if self.port == LEGACY_PORT {
            return Err(SettingsError::LegacyPort);
        }
        match (self.server.as_str(), self.test_mode) {
            (OPENSRS_LIVE_HOST, true) => {
                return Err(SettingsError::TestModeContradiction {
                    server: self.server.clone(),
                    actual: "live",
                    flag: "on",
                    wanted: false,
                })
            }
            (OPENSRS_TEST_HOST, false) => {
                return Err(SettingsError::TestModeContradiction {
                    server: self.server.clone(),
                    actual: "test",
                    flag: "off",
                    wanted: true,
                })
            }
            _ => {}
        }
        if let Some(ip) = &self.source_ip {
            ip.parse::<IpAddr>()
                .map_err(|_| SettingsError::SourceIp(ip.clone()))?;
        }
        if self.login.is_empty()
            || self
                .login
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(SettingsError::Login);
        }
        validate_days("warn-days", i64::from(self.warn_days))?;
        validate_days("renew-days", i64::from(self.renew_days))?;
        if self.plain_http && !is_loopback(&self.server) {
            return Err(SettingsError::PlainHttp(self.server.clone()));
        }
        if self.nameservers.len() > 13 {
            return Err(SettingsError::TooManyNameservers(self.nameservers.len()));
        }
        if let Some(bad) = self.nameservers.iter().find(|n| !is_hostname(n)) {
            return Err(SettingsError::Nameserver(bad.clone()));
        }
        if self.license_agreement.len() > 65_536 {
            return Err(SettingsError::LicenseTooLong(self.license_agreement.len()));
        }
        let mut warnings = Vec::new();
        if self.renew_days > self.warn_days {
            warnings.push(Warning(format!(
                "renew-days ({}) is greater than warn-days ({}): domains renew before their holders are warned",
                self.renew_days, self.warn_days
            )));
        }
        if !self.test_mode && self.server != "rr-n1-tor.opensrs.net" && !is_loopback(&self.server) {
            warnings.push(Warning(format!(
                "{} is not OpenSRS's live host (rr-n1-tor.opensrs.net); it is treated as non-production",
                self.server
            )));
        }
        Ok(warnings)
    }

    /// `server` is OpenSRS's live system.
    pub fn is_production(&self) -> bool {
        !self.test_mode && self.server == "rr-n1-tor.opensrs.net"
    }
}

/// A TLD as routing and prices name it: lowercase labels without a leading dot, or `*`
/// (policies only: the default for TLDs without their own).
pub fn parse_tld(input: &str) -> Result<String, SettingsError> {
    let t = input.trim();
    let t = t.strip_prefix('.').unwrap_or(t).to_ascii_lowercase();
    // Every label of a public suffix starts with a letter (`co.uk`, `xn--p1ai`).
    let letters_first = t
        .split('.')
        .all(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()));
    if t == "*" || (is_hostname(&t) && letters_first) {
        Ok(t)
    } else {
        Err(SettingsError::Tld(input.to_string()))
    }
}

/// Checks a price: positive, with a period for registrations and renewals and none for
/// what is priced once: transfers (H-Sphere's `duration = -1`), privacy, restores.
pub fn validate_price(
    kind: PriceKind,
    years: Option<Period>,
    price: Money,
) -> Result<(), SettingsError> {
    if !price.is_positive() {
        return Err(SettingsError::Amount(price));
    }
    match (kind, years) {
        (k, Some(_)) if k.priced_once() => Err(SettingsError::PriceYears {
            kind: k.as_str(),
            expected: "no --years: it is priced once",
        }),
        (PriceKind::Register, None) => Err(SettingsError::PriceYears {
            kind: "register",
            expected: "--years 1 to 10 (prices are per period, not per year)",
        }),
        (PriceKind::Renew, None) => Err(SettingsError::PriceYears {
            kind: "renew",
            expected: "--years 1 to 10 (prices are per period, not per year)",
        }),
        _ => Ok(()),
    }
}

/// How often a pending order is polled and how long it may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsyncPolicy {
    pub poll_every_secs: u64,
    pub timeout_secs: u64,
}

impl AsyncPolicy {
    const HOUR: u64 = 3_600;

    pub fn hours(poll: u64, timeout: u64) -> Self {
        AsyncPolicy {
            poll_every_secs: poll * Self::HOUR,
            timeout_secs: timeout * Self::HOUR,
        }
    }

    /// H-Sphere's values: .ca 12 h / 180 h, .co.uk 1 h / 25 h, .de 1 h / 50 h, transfers
    /// 1 h / 168 h, any other pending registration 1 h / 48 h.
    pub fn default_for(tld: &str, transfer: bool) -> Self {
        match (transfer, tld) {
            (true, _) => Self::hours(1, 168),
            (false, "ca") => Self::hours(12, 180),
            (false, "co.uk") => Self::hours(1, 25),
            (false, "de") => Self::hours(1, 50),
            _ => Self::hours(1, 48),
        }
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        if !(1..=7 * 86_400).contains(&self.poll_every_secs) {
            return Err(SettingsError::Duration {
                what: "--poll-every",
                min: "1s",
                max: "7d",
                secs: self.poll_every_secs,
            });
        }
        if !(60..=90 * 86_400).contains(&self.timeout_secs)
            || self.timeout_secs < self.poll_every_secs
        {
            return Err(SettingsError::Duration {
                what: "--timeout",
                min: "1m and --poll-every",
                max: "90d",
                secs: self.timeout_secs,
            });
        }
        Ok(())
    }
}
