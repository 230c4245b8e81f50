//! The registrant every integration test orders with.

use domreg_events::{Contact, ContactSet};

/// Owen Ottway, in all four roles; `org_name` as given (tests of escaping pass one with
/// XML metacharacters).
pub fn owen(org_name: &str) -> ContactSet {
    ContactSet::all(Contact {
        first_name: "Owen".into(),
        last_name: "Ottway".into(),
        org_name: org_name.into(),
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
    })
}

/// [`owen`] written as a contacts file in `dir`, for `--contacts` / `account contacts`.
#[allow(dead_code)]
pub fn owen_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("owen-contacts.json");
    std::fs::write(&path, serde_json::to_string(&owen("")).unwrap()).unwrap();
    path
}
