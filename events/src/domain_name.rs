//! Domain names as the registrar sees them: one registrable label under a public suffix.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not an orderable domain name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainNameError {
    #[error("domain name is empty")]
    Empty,
    #[error("domain name {name:?} is {len} characters long; at most 253 are allowed")]
    TooLong { name: String, len: usize },
    #[error("label {label:?} in {name:?} is {len} characters long; labels hold 1 to 63")]
    LabelLength {
        name: String,
        label: String,
        len: usize,
    },
    #[error("label {label:?} in {name:?} may only hold letters a-z, digits and '-'")]
    LabelCharacters { name: String, label: String },
    #[error("label {label:?} in {name:?} may not start or end with '-'")]
    LabelHyphen { name: String, label: String },
    #[error("{name:?} is not a valid internationalised name: {reason}")]
    Idna { name: String, reason: String },
    #[error("{name:?} is a bare public suffix; give a name under it, such as example.{name}")]
    BareSuffix { name: String },
    #[error(
        "{name:?} is not a registrable name: drop the leading {extra:?} and order {registrable:?}"
    )]
    Subdomain {
        name: String,
        extra: String,
        registrable: String,
    },
    #[error("{name:?} has no top-level domain; write it as label.tld, such as example.com")]
    NoTld { name: String },
    #[error("top-level domain {tld:?} is all digits; no registry sells such names")]
    NumericTld { tld: String },
    #[error("label {label:?} in {name:?} mixes {scripts} letters, which makes it look like another name; use one script per label")]
    MixedScripts {
        name: String,
        label: String,
        scripts: String,
    },
}

/// A registrable domain name: lowercase ASCII (Unicode names are stored as punycode),
/// exactly one label under its public suffix (`example` + `co.uk`).
///
/// Invariants: total length 1..=253, each label 1..=63 of `[a-z0-9-]` without a
/// leading or trailing hyphen, and `tld` is a suffix of the ICANN section of the
/// public suffix list (or a single unlisted label, as new gTLDs appear before the
/// list knows them).
/// Deserialised leniently (see [`DomainName::from_stored`]): events are facts, so a name
/// that was valid when it was recorded stays readable when the rules tighten later.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(from = "StoredName", into = "String")]
pub struct DomainName {
    ascii: String,
    /// Byte index where the TLD starts (after the dot).
    tld_start: usize,
}

/// A name as the log holds it; the fallback of [`DomainName::from_stored`] never fails. It is
/// read from the decoder's borrowed text, so a name costs one allocation, not a copy before it.
struct StoredName(DomainName);

impl<'de> Deserialize<'de> for StoredName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl serde::de::Visitor<'_> for NameVisitor {
            type Value = StoredName;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a domain name such as \"example.com\"")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<StoredName, E> {
                Ok(StoredName(DomainName::from_stored(name)))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

impl From<StoredName> for DomainName {
    fn from(s: StoredName) -> Self {
        s.0
    }
}

impl DomainName {
    /// Reads a name from the log. Commands are validated, history is not: a name that
    /// today's public-suffix list or a tightened rule refuses is kept as it was written,
    /// split at its last dot, rather than making the event (and every fold) unreadable.
    pub fn from_stored(stored: &str) -> Self {
        DomainName::parse(stored).unwrap_or_else(|_| {
            let ascii = stored.trim().to_ascii_lowercase();
            let tld_start = ascii.rfind('.').map_or(0, |dot| dot + 1);
            DomainName { ascii, tld_start }
        })
    }

    /// Parses user input: trims, drops one trailing dot, lowercases, converts Unicode to
    /// punycode, checks RFC 1035 lengths and LDH labels, and splits at the public suffix.
    pub fn parse(input: &str) -> Result<Self, DomainNameError> {
        let trimmed = input.trim();
        let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
        if trimmed.is_empty() {
            return Err(DomainNameError::Empty);
        }
        let ascii = if trimmed.is_ascii() {
            trimmed.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii_strict(trimmed).map_err(|e| DomainNameError::Idna {
                name: trimmed.to_string(),
                reason: e.to_string(),
            })?
        };
        check_syntax(&ascii)?;
        check_scripts(&ascii)?;
        let tld = registry_suffix(&ascii);
        if tld.len() == ascii.len() {
            if !ascii.contains('.') {
                return Err(DomainNameError::NoTld { name: ascii });
            }
            return Err(DomainNameError::BareSuffix { name: ascii });
        }
        if tld.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(DomainNameError::NumericTld {
                tld: tld.to_string(),
            });
        }
        let tld_start = ascii.len() - tld.len();
        let head = &ascii[..tld_start - 1];
        if let Some(dot) = head.rfind('.') {
            return Err(DomainNameError::Subdomain {
                extra: ascii[..=dot].to_string(),
                registrable: ascii[dot + 1..].to_string(),
                name: ascii,
            });
        }
        Ok(Self { ascii, tld_start })
    }

    /// The whole name in ASCII (punycode for internationalised names).
    pub fn as_str(&self) -> &str {
        &self.ascii
    }

    /// The registrable label, `example` in `example.co.uk`.
    pub fn label(&self) -> &str {
        &self.ascii[..self.tld_start.saturating_sub(1)]
    }

    /// The public suffix the name is registered under, `co.uk` in `example.co.uk`.
    pub fn tld(&self) -> &str {
        &self.ascii[self.tld_start..]
    }
}

/// The script of a letter, for the scripts whose letters look alike.
fn script(c: char) -> Option<&'static str> {
    match c as u32 {
        0x41..=0x5A | 0x61..=0x7A | 0xC0..=0x24F | 0x1E00..=0x1EFF => Some("Latin"),
        0x370..=0x3FF | 0x1F00..=0x1FFF => Some("Greek"),
        0x400..=0x52F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => Some("Cyrillic"),
        _ => None,
    }
}

/// Refuses labels that mix Latin, Greek and Cyrillic letters (`pаypal` with a Cyrillic
/// `а`): the classic look-alike of another name. The check reads the normalised name
/// (decoded from punycode), so typed and punycode input are judged alike.
fn check_scripts(ascii: &str) -> Result<(), DomainNameError> {
    if !ascii.contains("xn--") {
        return Ok(());
    }
    let unicode = idna::domain_to_unicode(ascii).0;
    for label in unicode.split('.') {
        let mut seen: Vec<&str> = Vec::new();
        for s in label.chars().filter_map(script) {
            if !seen.contains(&s) {
                seen.push(s);
            }
        }
        if seen.len() > 1 {
            return Err(DomainNameError::MixedScripts {
                name: ascii.to_string(),
                label: label.to_string(),
                scripts: seen.join(" and "),
            });
        }
    }
    Ok(())
}

fn check_syntax(ascii: &str) -> Result<(), DomainNameError> {
    if ascii.len() > 253 {
        return Err(DomainNameError::TooLong {
            name: ascii.to_string(),
            len: ascii.len(),
        });
    }
    for label in ascii.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(DomainNameError::LabelLength {
                name: ascii.to_string(),
                label: label.to_string(),
                len: label.len(),
            });
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(DomainNameError::LabelCharacters {
                name: ascii.to_string(),
                label: label.to_string(),
            });
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(DomainNameError::LabelHyphen {
                name: ascii.to_string(),
                label: label.to_string(),
            });
        }
    }
    Ok(())
}

/// The longest ICANN public suffix of `name`. Private-section entries (`blogspot.com`)
/// are skipped: registries sell under ICANN suffixes only.
fn registry_suffix(name: &str) -> &str {
    let mut candidate = name;
    loop {
        let Some(suffix) = psl::suffix(candidate.as_bytes()) else {
            return last_label(name);
        };
        let len = suffix.as_bytes().len();
        let found = &name[name.len() - len..];
        if suffix.typ() != Some(psl::Type::Private) {
            return found;
        }
        match found.find('.') {
            Some(dot) => candidate = &found[dot + 1..],
            None => return found,
        }
    }
}

fn last_label(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ascii)
    }
}

impl fmt::Debug for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DomainName({})", self.ascii)
    }
}

impl std::str::FromStr for DomainName {
    type Err = DomainNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for DomainName {
    type Error = DomainNameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<DomainName> for String {
    fn from(d: DomainName) -> String {
        d.ascii
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_single_and_multi_label_tlds() {
        let d = DomainName::parse("Example.COM.").unwrap();
        assert_eq!(
            (d.as_str(), d.label(), d.tld()),
            ("example.com", "example", "com")
        );
        let d = DomainName::parse("shop.co.uk").unwrap();
        assert_eq!((d.label(), d.tld()), ("shop", "co.uk"));
        let d = DomainName::parse("firma.org.uk").unwrap();
        assert_eq!(d.tld(), "org.uk");
        let d = DomainName::parse("beispiel.de").unwrap();
        assert_eq!(d.tld(), "de");
    }

    #[test]
    fn labels_mixing_look_alike_scripts_are_refused() {
        // A Cyrillic "а" in an otherwise Latin name, typed or as punycode.
        let e = DomainName::parse("p\u{0430}ypal.com").unwrap_err();
        assert!(
            matches!(&e, DomainNameError::MixedScripts { scripts, .. } if scripts == "Latin and Cyrillic"),
            "{e}"
        );
        let puny = idna::domain_to_ascii("p\u{0430}ypal.com").unwrap();
        assert!(matches!(
            DomainName::parse(&puny),
            Err(DomainNameError::MixedScripts { .. })
        ));
        // One script per label is fine: German umlauts, an all-Cyrillic name, Greek.
        assert!(DomainName::parse("bücher.de").is_ok());
        assert!(DomainName::parse("\u{043f}\u{0440}\u{0438}\u{043c}\u{0435}\u{0440}.com").is_ok());
        assert!(DomainName::parse("\u{03b1}\u{03b2}\u{03b3}.com").is_ok());
    }

    #[test]
    fn unicode_becomes_punycode() {
        let d = DomainName::parse("bücher.de").unwrap();
        assert_eq!(d.as_str(), "xn--bcher-kva.de");
        assert_eq!(d.tld(), "de");
    }

    #[test]
    fn private_suffixes_are_not_registries() {
        let d = DomainName::parse("blogspot.com").unwrap();
        assert_eq!((d.label(), d.tld()), ("blogspot", "com"));
        assert!(matches!(
            DomainName::parse("me.blogspot.com"),
            Err(DomainNameError::Subdomain { .. })
        ));
    }

    #[test]
    fn bad_names_say_what_is_wrong() {
        use DomainNameError::*;
        assert_eq!(DomainName::parse("  "), Err(Empty));
        assert!(matches!(DomainName::parse("com"), Err(NoTld { .. })));
        assert!(matches!(DomainName::parse("co.uk"), Err(BareSuffix { .. })));
        assert!(matches!(
            DomainName::parse("www.example.com"),
            Err(Subdomain { .. })
        ));
        assert!(matches!(
            DomainName::parse("-bad.com"),
            Err(LabelHyphen { .. })
        ));
        assert!(matches!(
            DomainName::parse("bad-.com"),
            Err(LabelHyphen { .. })
        ));
        assert!(matches!(
            DomainName::parse("a..com"),
            Err(LabelLength { .. })
        ));
        assert!(matches!(
            DomainName::parse("a_b.com"),
            Err(LabelCharacters { .. })
        ));
        assert!(DomainName::parse("1.2.3.4").is_err());
        let long = format!("{}.com", "a".repeat(64));
        assert!(matches!(
            DomainName::parse(&long),
            Err(LabelLength { len: 64, .. })
        ));
        let e = DomainName::parse("www.example.com")
            .unwrap_err()
            .to_string();
        assert!(e.contains("example.com"), "{e}");
    }

    #[test]
    fn stored_names_are_read_back_even_when_todays_rules_refuse_them() {
        let d: DomainName = serde_json::from_str("\"example.net\"").unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"example.net\"");
        assert_eq!(d.tld(), "net");
        // Refused as input, yet a stored event holding it must still decode.
        assert!(DomainName::parse("p\u{0430}ypal.com").is_err());
        let stored: DomainName = serde_json::from_str("\"xn--pypal-4ve.com\"").unwrap();
        assert_eq!(stored.as_str(), "xn--pypal-4ve.com");
        assert_eq!((stored.label(), stored.tld()), ("xn--pypal-4ve", "com"));
        let odd: DomainName = serde_json::from_str("\"nodot\"").unwrap();
        assert_eq!(odd.label(), "");
    }
}
