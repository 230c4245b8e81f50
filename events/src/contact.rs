//! Registrant contacts (owner, admin, billing, tech), validated before anything is
//! charged or sent. Field names are OpenSRS's.

use serde::{Deserialize, Serialize};

/// One contact, with OpenSRS's field names (also the JSON form of `--contacts` files).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Contact {
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub org_name: String,
    pub address1: String,
    #[serde(default)]
    pub address2: String,
    #[serde(default)]
    pub address3: String,
    pub city: String,
    #[serde(default)]
    pub state: String,
    /// ISO 3166 two-letter code.
    pub country: String,
    pub postal_code: String,
    /// `+CC.NNNNNNNN`.
    pub phone: String,
    #[serde(default)]
    pub fax: String,
    pub email: String,
}

/// A contact's role in a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactRole {
    Owner,
    Admin,
    Billing,
    Tech,
}

impl ContactRole {
    pub const ALL: [ContactRole; 4] = [
        ContactRole::Owner,
        ContactRole::Admin,
        ContactRole::Billing,
        ContactRole::Tech,
    ];

    /// OpenSRS's name for it (`owner`, `admin`, `billing`, `tech`).
    pub fn as_str(self) -> &'static str {
        match self {
            ContactRole::Owner => "owner",
            ContactRole::Admin => "admin",
            ContactRole::Billing => "billing",
            ContactRole::Tech => "tech",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        ContactRole::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("contact role {s:?}: one of owner, admin, billing, tech"))
    }
}

/// The four contacts of a registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactSet {
    pub owner: Contact,
    pub admin: Contact,
    pub billing: Contact,
    pub tech: Contact,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{role} contact: {field} {problem}")]
pub struct ContactError {
    pub role: &'static str,
    pub field: &'static str,
    pub problem: String,
}

impl Contact {
    fn fields(&self) -> [(&'static str, &str, bool); 13] {
        [
            ("first_name", &self.first_name, true),
            ("last_name", &self.last_name, true),
            ("org_name", &self.org_name, false),
            ("address1", &self.address1, true),
            ("address2", &self.address2, false),
            ("address3", &self.address3, false),
            ("city", &self.city, true),
            ("state", &self.state, false),
            ("country", &self.country, true),
            ("postal_code", &self.postal_code, true),
            ("phone", &self.phone, true),
            ("fax", &self.fax, false),
            ("email", &self.email, true),
        ]
    }

    /// Checks presence, lengths, characters and the formats OpenSRS refuses with 420/599.
    pub fn validate(&self, role: &'static str) -> Result<(), ContactError> {
        let err = |field, problem: &str| ContactError {
            role,
            field,
            problem: problem.to_string(),
        };
        for (field, value, required) in self.fields() {
            if required && value.trim().is_empty() {
                return Err(err(field, "is required"));
            }
            if value.chars().count() > 255 {
                return Err(err(field, "is longer than 255 characters"));
            }
            if value.chars().any(char::is_control) {
                return Err(err(field, "contains control characters"));
            }
        }
        let country = self.country.trim();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(err(
                "country",
                "must be a two-letter ISO code such as US or DE",
            ));
        }
        for (field, value) in [("phone", self.phone.trim()), ("fax", self.fax.trim())] {
            if (field == "phone" || !value.is_empty()) && !is_phone(value) {
                return Err(err(
                    field,
                    "must look like +1.4165550123 (+country code, dot, number)",
                ));
            }
        }
        let email = self.email.trim();
        let valid_email = email.split_once('@').is_some_and(|(local, host)| {
            !local.is_empty()
                && host.contains('.')
                && !host.starts_with('.')
                && !email.contains(' ')
        });
        if !valid_email {
            return Err(err("email", "must be an address such as owner@example.com"));
        }
        Ok(())
    }

    /// `(field, value)` pairs with OpenSRS's field names.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        self.fields()
            .iter()
            .map(|(f, v, _)| (*f, v.trim()))
            .collect()
    }
}

fn is_phone(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('+') else {
        return false;
    };
    let Some((cc, number)) = rest.split_once('.') else {
        return false;
    };
    let number = number.split('/').next().unwrap_or(number); // optional extension
    (1..=3).contains(&cc.len())
        && cc.bytes().all(|b| b.is_ascii_digit())
        && (4..=14).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
}

impl ContactSet {
    pub fn validate(&self) -> Result<(), ContactError> {
        self.owner.validate("owner")?;
        self.admin.validate("admin")?;
        self.billing.validate("billing")?;
        self.tech.validate("tech")
    }

    /// `(role, contact)` pairs.
    pub fn roles(&self) -> [(&'static str, &Contact); 4] {
        [
            ("owner", &self.owner),
            ("admin", &self.admin),
            ("billing", &self.billing),
            ("tech", &self.tech),
        ]
    }

    pub fn get(&self, role: ContactRole) -> &Contact {
        match role {
            ContactRole::Owner => &self.owner,
            ContactRole::Admin => &self.admin,
            ContactRole::Billing => &self.billing,
            ContactRole::Tech => &self.tech,
        }
    }

    /// The same contact in all four roles.
    pub fn all(contact: Contact) -> Self {
        ContactSet {
            owner: contact.clone(),
            admin: contact.clone(),
            billing: contact.clone(),
            tech: contact,
        }
    }
}

#[cfg(test)]
fn sample_contact() -> Contact {
    Contact {
        first_name: "Owen".into(),
        last_name: "Ottway".into(),
        org_name: "Example Inc.".into(),
        address1: "32 Oak Street".into(),
        address2: String::new(),
        address3: String::new(),
        city: "SomeCity".into(),
        state: "CA".into(),
        country: "US".into(),
        postal_code: "90210".into(),
        phone: "+1.4165550123".into(),
        fax: String::new(),
        email: "owen@example.com".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_contacts_pass_and_bad_ones_say_why() {
        let good = sample_contact();
        assert!(ContactSet::all(good.clone()).validate().is_ok());
        type Mutation = Box<dyn Fn(&mut Contact)>;
        let cases: Vec<(Mutation, &str)> = vec![
            (
                Box::new(|c| c.first_name = " ".into()),
                "first_name is required",
            ),
            (Box::new(|c| c.country = "USA".into()), "country must be"),
            (
                Box::new(|c| c.phone = "416-555-0123".into()),
                "phone must look like",
            ),
            (Box::new(|c| c.fax = "123".into()), "fax must look like"),
            (Box::new(|c| c.email = "nobody".into()), "email must be"),
            (
                Box::new(|c| c.city = "a\u{1}b".into()),
                "city contains control",
            ),
        ];
        for (mutate, expected) in cases {
            let mut c = good.clone();
            mutate(&mut c);
            let e = c.validate("owner").unwrap_err().to_string();
            assert!(e.contains(expected), "{e}");
            assert!(e.starts_with("owner contact"), "{e}");
        }
    }
}
