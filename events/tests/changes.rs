//! Given / when / then tests of the rules for changes after registration: contacts and
//! the 60-day transfer lock, child nameservers, the IPS tag, priced privacy, and
//! renewals past the registry's grace period.

mod harness;

use chrono::Duration;
use domreg_events::change::{DomainChange, HostAction, TransferLock};
use domreg_events::event::*;
use domreg_events::*;
use harness::*;

/// A registration of `domain` confirmed, with its owner recorded.
fn registered_as(domain: &str) -> Vec<DomainEvent> {
    let mut events = registered(1).to_vec();
    if let DomainEvent::Requested(r) = &mut events[0] {
        r.domain = DomainName::parse(domain).unwrap();
    }
    events.insert(
        1,
        OrderDetailsRecorded {
            order_id: oid(1),
            contacts: Box::new(ContactSet::all(owner("Owen", "owen@example.com"))),
            nameservers: vec![],
        }
        .into(),
    );
    events
}

fn owner(first: &str, email: &str) -> Contact {
    Contact {
        first_name: first.into(),
        last_name: "Ottway".into(),
        org_name: String::new(),
        address1: "1 Main St".into(),
        city: "Springfield".into(),
        state: "IL".into(),
        country: "US".into(),
        postal_code: "62701".into(),
        phone: "+1.5555550100".into(),
        email: email.into(),
        ..Default::default()
    }
}

fn ask(change: DomainChange, price: Option<Money>) -> Command {
    Command::RequestChange {
        change_id: oid(100),
        change,
        price,
    }
}

fn contacts(roles: &[ContactRole], c: Contact, lock: Option<TransferLock>) -> DomainChange {
    DomainChange::Contacts {
        roles: roles.to_vec(),
        contact: Box::new(c),
        transfer_lock: lock,
    }
}

fn outcome(applied: bool) -> Command {
    Command::RecordChangeOutcome {
        change_id: oid(100),
        applied,
        answer: RegistrarAnswer::new(Some(if applied { 200 } else { 465 }), "answer"),
    }
}

#[test]
fn a_new_registrant_on_a_generic_tld_needs_the_transfer_lock_choice_which_is_recorded() {
    let com = registered_as("example.com");
    let new_owner = owner("Nora", "nora@example.com");
    given(com.clone())
        .when(ask(
            contacts(&[ContactRole::Owner], new_owner.clone(), None),
            None,
        ))
        .then_refused_as(|e| matches!(e, DomainError::TransferLockChoice(d) if d == "example.com"));
    let s = given(com.clone())
        .when(ask(
            contacts(
                &[ContactRole::Owner],
                new_owner.clone(),
                Some(TransferLock::OptOut),
            ),
            None,
        ))
        .then_types(&["ChangeRequested"]);
    assert!(
        matches!(
            &s.changes[&oid(100)].change,
            DomainChange::Contacts {
                transfer_lock: Some(TransferLock::OptOut),
                ..
            }
        ),
        "the opt-out is recorded"
    );
    // The same owner with a new address is no change of registrant: no choice asked.
    let mut moved = owner("Owen", "OWEN@example.com");
    moved.address1 = "2 Elm St".into();
    let s = given(com.clone())
        .when(ask(
            contacts(&[ContactRole::Owner], moved, Some(TransferLock::Accept)),
            None,
        ))
        .then_types(&["ChangeRequested"]);
    assert!(
        matches!(
            &s.changes[&oid(100)].change,
            DomainChange::Contacts {
                transfer_lock: None,
                ..
            }
        ),
        "a choice that does not apply is not recorded"
    );
    // Admin and tech contacts never start the lock; a country-code TLD has none.
    given(com)
        .when(ask(
            contacts(
                &[ContactRole::Admin, ContactRole::Tech],
                new_owner.clone(),
                None,
            ),
            None,
        ))
        .then_types(&["ChangeRequested"]);
    given(registered_as("example.ca"))
        .when(ask(contacts(&[ContactRole::Owner], new_owner, None), None))
        .then_types(&["ChangeRequested"]);
}

#[test]
fn an_applied_owner_change_becomes_the_registrant_a_bad_contact_is_refused() {
    let mut log = registered_as("example.com");
    let nora = owner("Nora", "nora@example.com");
    let s = given(log.clone()).state();
    log.extend(
        decide(
            &s,
            ask(
                contacts(
                    &[ContactRole::Owner],
                    nora.clone(),
                    Some(TransferLock::Accept),
                ),
                None,
            ),
            now(),
        )
        .unwrap(),
    );
    let s = given(log.clone())
        .when(outcome(true))
        .then_types(&["ChangeApplied"]);
    assert_eq!(
        s.owner.as_ref().map(|o| o.first_name.as_str()),
        Some("Nora")
    );
    let mut bad = nora;
    bad.email = "not-an-address".into();
    given(registered_as("example.com"))
        .when(ask(contacts(&[ContactRole::Admin], bad, None), None))
        .then_refused_as(|e| matches!(e, DomainError::BadChange(m) if m.contains("email")));
    given(registered_as("example.dk"))
        .when(ask(
            contacts(&[ContactRole::Admin], owner("A", "a@example.com"), None),
            None,
        ))
        .then_refused_as(|e| matches!(e, DomainError::Unsupported(m) if m.contains(".dk")));
}

fn host(action: HostAction, host: &str, v4: Option<&str>, v6: Option<&str>) -> DomainChange {
    DomainChange::ChildNameserver {
        action,
        host: host.into(),
        ipv4: v4.map(str::to_string),
        ipv6: v6.map(str::to_string),
    }
}

#[test]
fn child_nameservers_follow_the_registry_rules_and_are_kept_once_applied() {
    let de = registered_as("example.de");
    given(de.clone())
        .when(ask(
            host(
                HostAction::Create,
                "ns1.example.de",
                None,
                Some("2001:db8::53"),
            ),
            None,
        ))
        .then_refused_as(|e| matches!(e, DomainError::Unsupported(m) if m.contains("IPv4")));
    given(de.clone())
        .when(ask(
            host(HostAction::Create, "ns1.other.de", Some("192.0.2.1"), None),
            None,
        ))
        .then_refused_as(
            |e| matches!(e, DomainError::BadChange(m) if m.contains("not under example.de")),
        );
    given(de.clone())
        .when(ask(
            host(HostAction::Create, "ns1.example.de", Some("10.1.2.3"), None),
            None,
        ))
        .then_refused_as(|e| matches!(e, DomainError::BadChange(m) if m.contains("private")));
    given(de.clone())
        .when(ask(
            host(
                HostAction::Delete,
                "ns1.example.de",
                Some("192.0.2.1"),
                None,
            ),
            None,
        ))
        .then_refused_as(
            |e| matches!(e, DomainError::BadChange(m) if m.contains("takes no address")),
        );
    let mut log = de;
    let s = given(log.clone()).state();
    log.extend(
        decide(
            &s,
            ask(
                host(
                    HostAction::Create,
                    "NS1.example.de.",
                    Some("192.0.2.1"),
                    None,
                ),
                None,
            ),
            now(),
        )
        .unwrap(),
    );
    let s = given(log.clone())
        .when(outcome(true))
        .then_types(&["ChangeApplied"]);
    assert_eq!(
        s.child_nameservers
            .get("ns1.example.de")
            .and_then(|a| a.ipv4.as_deref()),
        Some("192.0.2.1")
    );
}

#[test]
fn an_ips_tag_is_only_for_uk_and_once_applied_the_domain_has_left() {
    given(registered_as("example.com"))
        .when(ask(
            DomainChange::IpsTag {
                tag: "TUCOWS-CA".into(),
            },
            None,
        ))
        .then_refused_as(
            |e| matches!(e, DomainError::Unsupported(m) if m.contains("transfer code")),
        );
    given(registered_as("example.co.uk"))
        .when(ask(
            DomainChange::IpsTag {
                tag: "no spaces".into(),
            },
            None,
        ))
        .then_refused_as(|e| matches!(e, DomainError::BadChange(m) if m.contains("Nominet")));
    let mut log = registered_as("example.co.uk");
    let s = given(log.clone()).state();
    log.extend(
        decide(
            &s,
            ask(
                DomainChange::IpsTag {
                    tag: "tucows-ca".into(),
                },
                None,
            ),
            now(),
        )
        .unwrap(),
    );
    let s = given(log.clone())
        .when(outcome(true))
        .then_types(&["ChangeApplied", "LeftAccount"]);
    assert!(
        s.gone.as_deref().is_some_and(|g| g.contains("TUCOWS-CA")),
        "{:?}",
        s.gone
    );
    // Gone: nothing more is asked of it.
    let mut after = log;
    after.extend(decide(&given(after.clone()).state(), outcome(true), now()).unwrap());
    given(after)
        .when(Command::RequestChange {
            change_id: oid(101),
            change: DomainChange::Lock { locked: true },
            price: None,
        })
        .then_refused_as(|e| matches!(e, DomainError::NotRegistered(_)));
}

#[test]
fn priced_privacy_is_charged_with_the_request_and_refunded_only_when_refused() {
    let com = registered_as("example.com");
    let on = || ask(DomainChange::Privacy { enabled: true }, Some(usd(500)));
    let mut log = com.clone();
    let events = decide(&given(com.clone()).state(), on(), now()).unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type()).collect();
    assert_eq!(types, ["ChangeRequested", "Charged"]);
    log.extend(events);
    given(log.clone())
        .when(outcome(false))
        .then_types(&["ChangeRefused", "Refunded"]);
    given(log.clone())
        .when(outcome(true))
        .then_types(&["ChangeApplied"]);
    let mut refused = log;
    refused.extend(decide(&given(refused.clone()).state(), outcome(false), now()).unwrap());
    given(refused).when(outcome(false)).then_nothing();
    given(com)
        .when(ask(DomainChange::Privacy { enabled: true }, Some(usd(0))))
        .then_refused_as(|e| matches!(e, DomainError::NonPositivePrice(_)));
}

#[test]
fn a_renewal_inside_the_grace_period_is_taken_past_it_a_restore_is_needed() {
    let com = registered_as("example.com");
    let expires = now() + Duration::days(365);
    let renew = request(2, Renew);
    let with_name = |c: Command| match c {
        Command::Request {
            order_id,
            account,
            kind,
            period,
            connection,
            price,
            ..
        } => Command::Request {
            order_id,
            domain: DomainName::parse("example.com").unwrap(),
            account,
            kind,
            period,
            connection,
            price,
        },
        other => other,
    };
    given(com.clone())
        .at(expires + Duration::days(29))
        .when(with_name(renew.clone()))
        .then_types(&["Requested"]);
    given(com)
        .at(expires + Duration::days(30))
        .when(with_name(renew.clone()))
        .then_refused_as(|e| matches!(e, DomainError::RestoreNeeded { .. }));
    // .de has no grace period: renewable only before it expires.
    given(registered_as("example.de"))
        .at(expires + Duration::hours(1))
        .when(renew)
        .then_refused_as(
            |e| matches!(e, DomainError::RestoreNeeded { domain, .. } if domain == "example.de"),
        );
}
