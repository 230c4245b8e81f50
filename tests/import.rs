//! `domreg import` against the sandbox: domains registered before domreg are adopted from
//! the account at OpenSRS with a CSV mapping, once; unusable rows are listed with why.

#[path = "support/cli.rs"]
mod support_cli;
#[path = "support/contacts.rs"]
mod support_contacts;
#[path = "support/engine_world.rs"]
mod world;

use domreg::opensrs::sandbox::state::DomainRecord;
use domreg_events::*;
use serde_json::Value;
use support_cli::names;
use world::*;

fn import(w: &World, mapping: &std::path::Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "import",
        mapping.to_str().unwrap(),
        "--registrar",
        "main",
        "--json",
    ];
    args.extend(extra);
    let out = tokio::task::block_in_place(|| support_cli::domreg_ok(&w.dir, &args));
    serde_json::from_str(&out).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domains_of_the_account_are_imported_once_and_bad_rows_are_listed() {
    let w = world().await;
    let expires = w.sandbox.with_state(|s| {
        let expires = s.now() + chrono::Duration::days(200);
        for name in ["old-one.com", "old-two.de", "held.com"] {
            s.domains.insert(
                name.into(),
                DomainRecord {
                    owner: "reseller".into(),
                    created: s.now() - chrono::Duration::days(500),
                    expires,
                    auto_renew: name == "old-two.de",
                    transferable: true,
                    nameservers: vec![],
                    renewed_from_year: None,
                },
            );
        }
        expires
    });
    let mapping = w.dir.join("mapping.csv");
    std::fs::write(
        &mapping,
        "\u{feff}domain,account\r\n\
         old-one.com,alice\r\n\
         \"OLD-TWO.DE\" , bob\r\n\
         # a comment line\r\n\
         not a domain,alice\r\n\
         elsewhere.com,alice\r\n\
         old-one.com,bob\r\n\
         held.com\r\n\
         held.com,has space\r\n",
    )
    .unwrap();

    let dry = import(&w, &mapping, &["--dry-run"]);
    assert_eq!(
        names(&dry, "imported"),
        ["old-one.com", "old-two.de"],
        "{dry}"
    );
    assert!(
        w.state("old-one.com").await.holder.is_none(),
        "a dry run records nothing"
    );

    let report = import(&w, &mapping, &[]);
    assert_eq!(report["rows"], 7, "{report}");
    assert_eq!(
        names(&report, "imported"),
        ["old-one.com", "old-two.de"],
        "{report}"
    );
    let reasons: Vec<(u64, String)> = report["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert!(reasons[0].1.starts_with("domain:"), "{reasons:?}");
    assert!(
        reasons[1].1.contains("not in the account of main"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].1.contains("already mapped on line 2"),
        "{reasons:?}"
    );
    assert!(reasons[3].1.contains("1 columns"), "{reasons:?}");
    assert!(reasons[4].1.starts_with("account:"), "{reasons:?}");
    assert_eq!(reasons[0].0, 5, "lines are the file's");

    let one = w.state("old-one.com").await;
    assert_eq!(one.holder, Some(AccountId::parse("alice").unwrap()));
    assert_eq!(one.connection.as_deref(), Some("main"));
    assert_eq!(
        one.expires_at.map(|t| t.timestamp()),
        Some(expires.timestamp())
    );
    assert!(w.state("old-two.de").await.auto_renew);
    let list =
        tokio::task::block_in_place(|| support_cli::domreg_ok(&w.dir, &["domains", "--json"]));
    assert!(
        list.contains("old-two.de") && list.contains(r#""status":"registered""#),
        "{list}"
    );
    let audit =
        tokio::task::block_in_place(|| support_cli::domreg_ok(&w.dir, &["audit", "old-one.com"]));
    assert!(
        audit.contains("imported from the account of connection main"),
        "{audit}"
    );

    // Idempotent: the second run records nothing and says so.
    let again = import(&w, &mapping, &[]);
    assert!(names(&again, "imported").is_empty(), "{again}");
    assert_eq!(names(&again, "already"), ["old-one.com", "old-two.de"]);
    assert_eq!(w.state("old-one.com").await.version, 1);
    // Imported domains are reconciled like any other: none is unknown any more.
    let sync = tokio::task::block_in_place(|| support_cli::domreg_ok(&w.dir, &["sync", "--json"]));
    let sync: Value = serde_json::from_str(&sync).unwrap();
    assert_eq!(names(&sync[0], "unknown"), ["held.com"], "{sync}");
}
